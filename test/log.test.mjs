// The option `log` of the Node client and of register(): what it reports (retries,
// authentication and its reason, resends, token and secret writes, registration) against the
// emulator with faults, that it never carries a secret or a token, and that a client without it
// and a logger that throws behave as before.
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';

const require = createRequire(import.meta.url);
const { createClient, register, memoryStorage } = require('../build/node/index.cjs');
const { startEmulator } = require('../build/node/emulator.cjs');

const device = { productKey: 'a1LogProd', deviceName: 'log-01', deviceSecret: 'log-secret-0123456789' };
const product = { productKey: 'a1LogReg', productSecret: 'log-product-secret-42', deviceNames: ['reg-01', 'reg-02', 'reg-03'] };
const topic = `/${device.productKey}/${device.deviceName}/user/data`;

describe('log: what the Node client reports to the option log', function () {
  let emu, dir;
  let ahead = 0; // the emulator's clock runs this far ahead of the machine's
  const clients = [];
  const make = (events, extra = {}) => {
    const c = createClient({ ...device, endpoint: emu.url, ca: emu.ca, dir, backoff: 5, log: (e) => events.push(e), ...extra });
    clients.push(c);
    return c;
  };
  /** Every string a log event holds, to look for secrets in. */
  const strings = (events) => JSON.stringify(events);

  before(async () => {
    emu = await startEmulator({ devices: [device], products: [product], now: () => Date.now() + ahead });
  });
  after(async () => {
    await emu.close();
  });
  beforeEach(() => {
    emu.reset();
    ahead = 0;
    dir = mkdtempSync(join(tmpdir(), 'aliyun-log-'));
  });
  afterEach(() => {
    clients.splice(0).forEach((c) => c.close());
    rmSync(dir, { recursive: true, force: true });
  });

  it('first authentication and its token write, then nothing while the token is used', async () => {
    const events = [];
    const c = make(events);
    await c.publish(topic, 'one');
    await c.publish(topic, 'two');
    expect(events.map((e) => e.type)).to.deep.equal(['auth', 'token-write']);
    expect(events[0]).to.deep.equal({ type: 'auth', reason: 'first' });
    expect(events[1].stored).to.equal(true);
    expect(events[1].expire).to.be.a('number').above(Date.now());
    expect(Object.keys(events[1]).sort()).to.deep.equal(['expire', 'stored', 'type']);
  });

  it('a restart with the stored token: nothing to report; a token the service expired: rejected, new token, resend', async () => {
    const first = [];
    await make(first).publish(topic, 'before');
    const events = [];
    const c = make(events);
    await c.publish(topic, 'with the stored token');
    expect(events, 'the stored token is used silently').to.deep.equal([]);
    emu.expireTokens();
    await c.publish(topic, 'after expiry');
    expect(events.map((e) => e.type)).to.deep.equal(['auth', 'token-write', 'resend']);
    expect(events[0]).to.deep.equal({ type: 'auth', reason: 'rejected', code: 20001 });
    expect(events[2]).to.deep.equal({ type: 'resend', path: '/topic' + topic, code: 20001 });
    expect(emu.authCount).to.equal(2);
  });

  it('a revoked token: rejected with 20003', async () => {
    const events = [];
    const c = make(events);
    await c.publish(topic, 'x');
    emu.revokeTokens();
    await c.publish(topic, 'y');
    expect(events.filter((e) => e.type === 'auth').map((e) => e.reason)).to.deep.equal(['first', 'rejected']);
    expect(events.find((e) => e.reason === 'rejected').code).to.equal(20003);
  });

  it('throttling: each retry with its attempt and the code that caused it', async () => {
    const events = [];
    const c = make(events, { retries: 3 });
    await c.publish(topic, 'warm-up');
    events.length = 0;
    emu.throttleNext(2, 'topic');
    await c.publish(topic, 'throttled twice');
    expect(events).to.deep.equal([
      { type: 'retry', path: '/topic' + topic, attempt: 1, code: 40000 },
      { type: 'retry', path: '/topic' + topic, attempt: 2, code: 40000 },
    ]);
  });

  it('network faults, a timeout and HTTP 503: retries say which', async () => {
    const events = [];
    const c = make(events, { retries: 4, timeout: 2000 }); // the dropped request waits this long
    await c.publish(topic, 'warm-up');
    events.length = 0;
    emu.fault({ type: 'reset' }, 'topic');
    emu.fault({ type: 'drop' }, 'topic');
    emu.fault({ type: 'status', status: 503 }, 'topic');
    const r = await c.publish(topic, 'through three faults');
    expect(r.messageId).to.match(/^\d+$/);
    expect(events.map((e) => [e.type, e.attempt, e.code, e.status])).to.deep.equal([
      ['retry', 1, 'ENETWORK', undefined],
      ['retry', 2, 'ETIMEDOUT', undefined],
      ['retry', 3, 'EHTTP', 503],
    ]);
  });

  it('retries of /auth itself, then the token write', async () => {
    const events = [];
    const c = make(events);
    emu.throttleNext(1, 'auth');
    await c.publish(topic, 'x');
    expect(events).to.deep.equal([
      { type: 'auth', reason: 'first' },
      { type: 'retry', path: '/auth', attempt: 1, code: 40000 },
      events[2],
    ]);
    expect(events[2].type).to.equal('token-write');
  });

  it('a stale timestamp (20000): authenticates once more without it, reported as unstamped', async () => {
    const events = [];
    const c = make(events, { now: () => Date.now() - 3600000 }); // an hour behind the emulator's clock: stale
    await c.publish(topic, 'x');
    expect(events.filter((e) => e.type === 'auth')).to.deep.equal([
      { type: 'auth', reason: 'first' },
      { type: 'auth', reason: 'unstamped', code: 20000 },
    ]);
  });

  it('auth() is reported as requested; a token due for renewal as renew', async () => {
    const events = [];
    const c = make(events, { now: () => Date.now() + ahead });
    await c.auth();
    expect(events[0]).to.deep.equal({ type: 'auth', reason: 'requested' });
    ahead = 8 * 86400000; // both clocks past the token's 7-day expire
    await c.publish(topic, 'x');
    expect(events.filter((e) => e.type === 'auth').map((e) => e.reason)).to.deep.equal(['requested', 'renew']);
  });

  it('a token write the storage refuses is reported with its error, and the publish still succeeds', async () => {
    const events = [];
    const storage = {
      getItem: () => null,
      setItem(key, value) {
        throw new Error(`disk full while writing ${value}`); // a storage that quotes what it was given
      },
    };
    const r = await make(events, { storage }).publish(topic, 'x');
    expect(r.messageId).to.match(/^\d+$/);
    const write = events.find((e) => e.type === 'token-write');
    expect(write).to.deep.equal({ type: 'token-write', stored: false, error: 'write failed' });
  });

  it('a storage error with a code (a full disk): the code only', async () => {
    const events = [];
    const storage = memoryStorage();
    storage.setItem = () => {
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    };
    await make(events, { storage }).publish(topic, 'x');
    expect(events.find((e) => e.type === 'token-write')).to.deep.equal({ type: 'token-write', stored: false, error: 'ENOSPC' });
  });

  it('a client with a productSecret: registration, the secret write, then authentication', async () => {
    const events = [];
    const c = make(events, { productKey: product.productKey, deviceName: 'reg-01', deviceSecret: undefined, productSecret: product.productSecret, registerEndpoint: emu.url });
    await c.publish(`/${product.productKey}/reg-01/user/data`, 'x');
    expect(events.map((e) => e.type)).to.deep.equal(['register', 'registered', 'secret-write', 'auth', 'token-write']);
    expect(events[2]).to.deep.equal({ type: 'secret-write', stored: true });
    const text = strings(events);
    expect(text).to.not.include(emu.registrations[0].deviceSecret);
    expect(text).to.not.include(product.productSecret);
  });

  it('register(): its requests, a retry, and a refusal with its code', async () => {
    const events = [];
    const o = { productKey: product.productKey, deviceName: 'reg-02', productSecret: product.productSecret, endpoint: emu.url, ca: emu.ca, backoff: 5, log: (e) => events.push(e) };
    emu.throttleNext(1, 'register');
    const secret = await register(o);
    expect(events).to.deep.equal([{ type: 'register' }, { type: 'retry', path: '/auth/register/device', attempt: 1, code: 40000 }, { type: 'registered' }]);
    // activate it, then register again: 6289
    await createClient({ productKey: product.productKey, deviceName: 'reg-02', deviceSecret: secret, endpoint: emu.url, ca: emu.ca, storage: memoryStorage() }).auth();
    events.length = 0;
    const err = await register(o).catch((e) => e);
    expect(err.code).to.equal(6289);
    expect(events[1].type).to.equal('register-refused');
    expect(events[1].code).to.equal(6289);
    expect(strings(events)).to.not.include(secret);
  });

  it('no event ever holds the device secret, a token or a sign', async () => {
    const events = [];
    const c = make(events, { retries: 3 });
    const token = await c.auth();
    emu.expireTokens();
    emu.throttleNext(1, 'topic');
    await c.publish(topic, 'x');
    emu.fault({ type: 'garbage' }, 'topic');
    expect((await c.publish(topic, 'y').catch((e) => e)).code).to.equal('EPROTO');
    const text = strings(events);
    expect(events.length).to.be.above(4);
    expect(text).to.not.include(device.deviceSecret);
    expect(text).to.not.include(token);
    expect(text).to.not.include(token.split('.')[1]);
    for (const r of emu.requests.filter((q) => q.path === '/auth')) expect(text).to.not.include(JSON.parse(r.body.toString()).sign);
  });

  it('a logger that throws changes nothing; a client without log sends the same requests', async () => {
    const thrown = [];
    const onThrow = (e) => thrown.push(e);
    process.on('uncaughtException', onThrow);
    try {
      const c = make([], {
        log: () => {
          throw new Error('logger down');
        },
      });
      emu.throttleNext(1, 'topic');
      await c.publish(topic, 'x');
      emu.expireTokens();
      await c.publish(topic, 'y');
      const withLog = emu.requests.map((r) => r.path);
      emu.reset();
      rmSync(dir, { recursive: true, force: true });
      const plain = createClient({ ...device, endpoint: emu.url, ca: emu.ca, dir, backoff: 5 });
      clients.push(plain);
      emu.throttleNext(1, 'topic');
      await plain.publish(topic, 'x');
      emu.expireTokens();
      await plain.publish(topic, 'y');
      expect(emu.requests.map((r) => r.path)).to.deep.equal(withLog);
      await new Promise((r) => setTimeout(r, 20));
      expect(thrown).to.deep.equal([]);
    } finally {
      process.off('uncaughtException', onThrow);
    }
  });

  it('log works with a transport and storage of the application, and refuses what is not a function', async () => {
    const events = [];
    const sent = [];
    const storage = memoryStorage();
    const transport = (req, cb) => {
      sent.push(req.path);
      cb(null, { status: 200, body: req.path === '/auth' ? '{"code":0,"info":{"token":"t0k"}}' : '{"code":0,"info":{"messageId":1}}' });
    };
    const c = createClient({ ...device, transport, storage, log: (e) => events.push(e) });
    await c.publish(topic, 'x');
    expect(sent).to.deep.equal(['/auth', '/topic' + topic]);
    expect(events.map((e) => e.type)).to.deep.equal(['auth', 'token-write']);
    expect(storage.getItem('token')).to.include('t0k');
    expect(() => createClient({ ...device, log: 'console' })).to.throw(/bad option log/);
    expect(() => createClient({ ...device, log: true, transport })).to.throw(/bad option log/);
    // a bad transport or storage is still refused by the client itself
    expect(() => createClient({ ...device, transport: 'x', log: () => {} })).to.throw(/bad option transport/);
    expect(() => createClient({ ...device, storage: {}, log: () => {} })).to.throw(/bad option storage/);
  });
});
