import { createRequire } from 'node:module';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync, statSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';

const require = createRequire(import.meta.url);
const { createClient, memoryStorage } = require('../build/node/index.cjs');
const { startEmulator } = require('../build/node/emulator.cjs');

const device = { productKey: 'a1TestProd', deviceName: 'dev-01', deviceSecret: 'sEcReT-0123456789' };
const other = { productKey: 'a1TestProd', deviceName: 'dev-02', deviceSecret: 'another-secret' };
const topic = `/${device.productKey}/${device.deviceName}/user/update`;

describe('Node client against the emulator', function () {
  let emu, dir;
  const clients = [];
  const client = (extra = {}) => {
    const c = createClient({ ...device, endpoint: emu.url, ca: emu.ca, dir, backoff: 5, ...extra });
    clients.push(c);
    return c;
  };
  const auths = () => emu.requests.filter((r) => r.path === '/auth').length;

  before(async () => {
    emu = await startEmulator({ devices: [device, other] });
  });
  after(async () => {
    await emu.close();
  });
  beforeEach(() => {
    emu.reset();
    dir = mkdtempSync(join(tmpdir(), 'aliyun-iot-http-'));
  });
  afterEach(() => {
    clients.splice(0).forEach((c) => c.close());
    rmSync(dir, { recursive: true, force: true });
  });

  it('authenticates with a sign the server checks with node:crypto, then publishes', async () => {
    const r = await client().publish(topic, 'hello');
    expect(r.messageId).to.match(/^\d+$/);
    expect(emu.messages).to.have.length(1);
    expect(emu.messages[0].body.toString()).to.equal('hello');
    expect(r.messageId).to.equal(emu.messages[0].messageId);
    const auth = JSON.parse(emu.requests[0].body.toString());
    expect(auth).to.include({ productKey: device.productKey, deviceName: device.deviceName, clientId: `${device.productKey}.${device.deviceName}`, signmethod: 'hmacsha1' });
    const text = `clientId${auth.clientId}deviceName${auth.deviceName}productKey${auth.productKey}timestamp${auth.timestamp}`;
    expect(auth.sign).to.equal(createHmac('sha1', device.deviceSecret).update(text).digest('hex'));
    expect(Math.abs(+auth.timestamp - Date.now())).to.be.below(60000);
  });

  it('signs with hmacmd5 when asked', async () => {
    await client({ signMethod: 'hmacmd5' }).publish(topic, 'x');
    const auth = JSON.parse(emu.requests[0].body.toString());
    expect(auth.signmethod).to.equal('hmacmd5');
    const text = `clientId${auth.clientId}deviceName${auth.deviceName}productKey${auth.productKey}timestamp${auth.timestamp}`;
    expect(auth.sign).to.equal(createHmac('md5', device.deviceSecret).update(text).digest('hex'));
  });

  it('signs with hmacsha256 when asked, and the emulator accepts it', async () => {
    const r = await client({ signMethod: 'hmacsha256' }).publish(topic, 'x');
    const auth = JSON.parse(emu.requests[0].body.toString());
    expect(auth.signmethod).to.equal('hmacsha256');
    const text = `clientId${auth.clientId}deviceName${auth.deviceName}productKey${auth.productKey}timestamp${auth.timestamp}`;
    expect(auth.sign).to.equal(createHmac('sha256', device.deviceSecret).update(text).digest('hex'));
    expect(r.messageId).to.equal(emu.messages[0].messageId);
  });

  it('leaves the timestamp out of body and sign when the clock is not set', async () => {
    await client({ now: () => 1000 }).publish(topic, 'x');
    const auth = JSON.parse(emu.requests[0].body.toString());
    expect(auth).to.not.have.property('timestamp');
    const text = `clientId${auth.clientId}deviceName${auth.deviceName}productKey${auth.productKey}`;
    expect(auth.sign).to.equal(createHmac('sha1', device.deviceSecret).update(text).digest('hex'));
  });

  it('keeps the token across restarts: a second client instance makes no /auth', async () => {
    await client().publish(topic, 'one');
    const file = join(dir, `${device.productKey}.${device.deviceName}.json`);
    expect(statSync(file).mode & 0o777).to.equal(0o600);
    expect(readFileSync(file, 'utf8')).to.not.include(device.deviceSecret);
    await client().publish(topic, 'two');
    expect(auths()).to.equal(1);
    expect(emu.messages.map((m) => m.body.toString())).to.deep.equal(['one', 'two']);
  });

  it('writes storage only when the token changes', async () => {
    const writes = [];
    const mem = memoryStorage();
    const storage = { getItem: (k) => mem.getItem(k), setItem: (k, v) => (writes.push(v), mem.setItem(k, v)), removeItem: (k) => mem.removeItem(k) };
    const c = client({ storage });
    for (let i = 0; i < 5; i++) await c.publish(topic, 'm' + i);
    expect(writes).to.have.length(1);
    emu.expireTokens();
    await c.publish(topic, 'after');
    expect(writes).to.have.length(2);
  });

  it('renews a token a few minutes before its expire', async () => {
    let clock = Date.now();
    const own = await startEmulator({ devices: [device], now: () => clock });
    const c = createClient({ ...device, endpoint: own.url, ca: own.ca, dir, now: () => clock });
    clients.push(c);
    await c.publish(topic, 'a');
    const token = JSON.parse(readFileSync(join(dir, `${device.productKey}.${device.deviceName}.json`), 'utf8')).token;
    const expire = JSON.parse(token)[2];
    expect(expire).to.be.above(clock + 6 * 86400000); // the emulator's 7-day token, read from the JWT
    clock = expire - 10 * 60000;
    await c.publish(topic, 'b');
    expect(own.authCount).to.equal(1);
    clock = expire - 60000;
    await c.publish(topic, 'c');
    expect(own.authCount).to.equal(2);
    expect(own.messages).to.have.length(3);
    c.close();
    await own.close();
  });

  for (const [code, act] of [[20001, (e) => e.expireTokens()], [20003, (e) => e.revokeTokens()]]) {
    it(`re-authenticates and resends once on ${code}, one copy recorded`, async () => {
      const c = client();
      await c.publish(topic, 'first');
      act(emu);
      const r = await c.publish(topic, 'second');
      expect(emu.requests.map((q) => q.code)).to.deep.equal([0, 0, code, 0, 0]);
      expect(emu.messages.map((m) => m.body.toString())).to.deep.equal(['first', 'second']);
      expect(r.messageId).to.equal(emu.messages[1].messageId);
    });
  }

  it('re-authenticates on 20002 and fails after a second rejection', async () => {
    const c = client();
    await c.publish(topic, 'first');
    emu.fault({ type: 'code', code: 20002, message: 'token is null' }, 'topic');
    await c.publish(topic, 'second');
    expect(auths()).to.equal(2);
    emu.fault({ type: 'code', code: 20001, message: 'token is expired' }, 'topic');
    emu.fault({ type: 'code', code: 20001, message: 'token is expired' }, 'topic');
    const err = await c.publish(topic, 'third').catch((e) => e);
    expect(err.code).to.equal(20001);
    expect(err.message).to.equal('token is expired');
    expect(err.messageId).to.match(/^\d{17,}$/);
    expect(emu.messages).to.have.length(2);
  });

  it('backs off and retries on 40000, then succeeds', async () => {
    const c = client({ retries: 2, backoff: 20 });
    await c.auth();
    emu.throttleNext(2, 'topic');
    const t0 = Date.now();
    await c.publish(topic, 'slow');
    expect(Date.now() - t0).to.be.at.least(20 + 40);
    expect(emu.messages).to.have.length(1);
  });

  it('gives up with 40000 after `retries` retries', async () => {
    const c = client({ retries: 1 });
    await c.auth();
    emu.throttleNext(5, 'topic');
    const err = await c.publish(topic, 'x').catch((e) => e);
    expect(err.code).to.equal(40000);
    expect(emu.requests.filter((r) => r.path !== '/auth')).to.have.length(2);
  });

  for (const [code, message] of [[10000, 'common error'], [10001, 'param error'], [30001, 'publish message error']]) {
    it(`fails a publish answered ${code} with the service's message`, async () => {
      const c = client();
      await c.auth();
      emu.fault({ type: 'code', code, message }, 'topic');
      const err = await c.publish(topic, 'x').catch((e) => e);
      expect(err).to.be.instanceOf(Error);
      expect(err).to.include({ code, message });
      expect(emu.requests.filter((r) => r.path !== '/auth')).to.have.length(1);
    });
  }

  for (const [code, message] of [[10000, 'common error'], [20004, 'update session error']]) {
    it(`fails auth answered ${code}`, async () => {
      emu.fault({ type: 'code', code, message }, 'auth');
      const err = await client().publish(topic, 'x').catch((e) => e);
      expect(err).to.include({ code, message });
      expect(emu.messages).to.have.length(0);
    });
  }

  it('fails with 20000 on a wrong secret, and the secret is in no error', async () => {
    const err = await client({ deviceSecret: 'wrong-secret-value' }).publish(topic, 'x').catch((e) => e);
    expect(err.code).to.equal(20000);
    expect(JSON.stringify({ m: err.message, s: err.stack })).to.not.include('wrong-secret-value');
  });

  it('fails with 10001 for a topic of another device', async () => {
    const err = await client().publish(`/${other.productKey}/${other.deviceName}/user/update`, 'x').catch((e) => e);
    expect(err.code).to.equal(10001);
  });

  it('accepts 131072 bytes and refuses 131073 before anything is sent', async () => {
    const c = client();
    await c.publish(topic, new Uint8Array(131072).fill(7));
    expect(emu.messages[0].body.length).to.equal(131072);
    const before = emu.requests.length;
    const err = await c.publish(topic, new Uint8Array(131073)).catch((e) => e);
    expect(err.code).to.equal('ETOOBIG');
    const multibyte = await c.publish(topic, '中'.repeat(43691)).catch((e) => e); // 131073 bytes of UTF-8
    expect(multibyte.code).to.equal('ETOOBIG');
    expect(emu.requests.length).to.equal(before);
  });

  it('delivers binary (all 256 byte values), UTF-8 text and ArrayBuffers byte-exact', async () => {
    const c = client();
    const all = new Uint8Array(256).map((_, i) => i);
    const text = '温度 23.5 ℃ — 😀 \u0000 end';
    await c.publish(topic, all);
    await c.publish(topic, text);
    await c.publish(topic, all.buffer);
    await c.publish(topic, JSON.stringify({ temperature: 23.5, unit: '℃' }));
    expect(emu.messages[0].body.equals(Buffer.from(all))).to.equal(true);
    expect(emu.messages[1].body.equals(Buffer.from(text, 'utf8'))).to.equal(true);
    expect(emu.messages[2].body.equals(Buffer.from(all))).to.equal(true);
    expect(JSON.parse(emu.messages[3].body.toString())).to.deep.equal({ temperature: 23.5, unit: '℃' });
  });

  it('reports messageId exactly, above 2^53, as the server printed it', async () => {
    const c = client();
    for (let i = 0; i < 5; i++) {
      const r = await c.publish(topic, 'id');
      const sent = emu.messages[i].messageId;
      expect(BigInt(sent) > 2n ** 53n).to.equal(true);
      expect(r.messageId).to.equal(sent);
      expect(String(Number(sent))).to.not.equal(sent); // JSON.parse would have rounded it
    }
  });

  it('refuses bad topics and payloads with EINVAL before any request', async () => {
    const c = client();
    for (const t of ['', 'no/slash', '/a//b', '/a/b/', '/a/+/b', '/a/#', '/a?x=1', '/a/\u0001', '/', 7, null, { toString: '' }, Object.create(null), Symbol('t')]) {
      const err = await c.publish(t, 'x').catch((e) => e);
      expect(err.code, typeof t).to.equal('EINVAL');
      expect(err.message).to.match(/^bad topic /);
    }
    for (const p of [7, null, undefined, {}, [1, 2]]) {
      const err = await c.publish(topic, p).catch((e) => e);
      expect(err.code).to.equal('EINVAL');
    }
    expect(emu.requests).to.have.length(0);
  });

  it('refuses bad options at once, naming the option', () => {
    const bad = [
      [{ productKey: '' }, 'productKey'],
      [{ deviceName: 5 }, 'deviceName'],
      [{ deviceSecret: undefined }, 'deviceSecret'],
      [{ endpoint: 'http://127.0.0.1:1' }, 'endpoint'],
      [{ endpoint: 'https://host/path' }, 'endpoint'],
      [{ endpoint: 'https://host:99999' }, 'endpoint'],
      [{ clientId: 'x'.repeat(65) }, 'clientId'],
      [{ signMethod: 'hmacsha512' }, 'signMethod'],
      [{ timeout: 0 }, 'timeout'],
      [{ retries: -1 }, 'retries'],
      [{ retries: 1.5 }, 'retries'],
      [{ transport: 'x' }, 'transport'],
      [{ storage: {} }, 'storage'],
    ];
    for (const [o, name] of bad) {
      let err;
      try {
        createClient({ ...device, ...o });
      } catch (e) {
        err = e;
      }
      expect(err, name).to.be.instanceOf(Error);
      expect(err.code).to.equal('EINVAL');
      expect(err.message).to.include(name);
      expect(err.message).to.not.include(device.deviceSecret);
    }
  });

  it('refuses a server whose CA is not trusted', async () => {
    const err = await client({ ca: undefined, retries: 0 }).publish(topic, 'x').catch((e) => e);
    expect(err.code).to.equal('ENETWORK');
    expect(err.message).to.match(/certificate/i);
    expect(emu.requests).to.have.length(0);
  });

  it('recovers from a corrupt token file by authenticating again', async () => {
    writeFileSync(join(dir, `${device.productKey}.${device.deviceName}.json`), '{"token": "{not json');
    await client().publish(topic, 'x');
    expect(auths()).to.equal(1);
    expect(emu.messages).to.have.length(1);
  });

  it('ignores a stored token of another device', async () => {
    await client().publish(topic, 'x');
    const file = join(dir, `${device.productKey}.${device.deviceName}.json`);
    writeFileSync(join(dir, `${other.productKey}.${other.deviceName}.json`), readFileSync(file));
    await client({ ...other }).publish(`/${other.productKey}/${other.deviceName}/user/update`, 'y');
    expect(auths()).to.equal(2);
    expect(emu.messages.map((m) => m.deviceName)).to.deep.equal(['dev-01', 'dev-02']);
  });

  it('shares one /auth among 50 concurrent publishes, each recorded once', async () => {
    const c = client();
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => c.publish(topic, 'm' + i)));
    expect(auths()).to.equal(1);
    expect(emu.messages.map((m) => m.body.toString()).sort()).to.deep.equal(Array.from({ length: 50 }, (_, i) => 'm' + i).sort());
    expect(new Set(results.map((r) => r.messageId)).size).to.equal(50);
  });

  it('calls a callback exactly once, and returns no Promise with one', (done) => {
    const c = client();
    let calls = 0;
    const ret = c.publish(topic, 'cb', (err, r) => {
      calls++;
      expect(err).to.equal(null);
      expect(r.messageId).to.be.a('string');
      setTimeout(() => {
        expect(calls).to.equal(1);
        done();
      }, 50);
    });
    expect(ret).to.equal(undefined);
  });

  it('auth() forces a fresh token', async () => {
    const c = client();
    const t1 = await c.auth();
    const t2 = await c.auth();
    expect(t1).to.be.a('string').and.not.equal(t2);
    expect(auths()).to.equal(2);
  });

  it('doubles the backoff on each retry, never past what a timer takes (2^31 - 1 ms)', async () => {
    const delays = [], warnings = [];
    const realSetTimeout = globalThis.setTimeout;
    const onWarning = (w) => warnings.push(w.name);
    process.on('warning', onWarning);
    // the client takes the timers when it is created: a stand-in that records the delay and runs
    // the retry at once, so that 40 retries take no time
    // (the request timeout keeps its real delay: run at once, it could beat the reply)
    globalThis.setTimeout = (fn, ms) => {
      if (ms !== 0 && ms !== 10000) delays.push(ms);
      return realSetTimeout(fn, ms === 10000 ? ms : 0);
    };
    let c;
    try {
      const throttled = { status: 200, body: '{"code":40000,"message":"request too many"}' };
      c = createClient({ productKey: 'pk', deviceName: 'dn', deviceSecret: 's', storage: memoryStorage(), retries: 40, backoff: 1000,
        transport: (req, cb) => setImmediate(() => cb(null, req.path === '/auth' ? { status: 200, body: '{"code":0,"info":{"token":"t"}}' } : throttled)) });
    } finally {
      globalThis.setTimeout = realSetTimeout;
    }
    const err = await c.publish('/pk/dn/x', 'x').catch((e) => e);
    process.off('warning', onWarning);
    expect(err.code).to.equal(40000);
    expect(delays).to.have.length(40);
    expect(delays.slice(0, 4)).to.deep.equal([1000, 2000, 4000, 8000]);
    delays.forEach((d, i) => expect(d, `delay ${i}`).to.equal(Math.min(1000 * 2 ** i, 2147483647)));
    expect(warnings, 'process warnings (TimeoutOverflowWarning)').to.deep.equal([]);
  });

  describe('a transport\'s abort', () => {
    const dev = { productKey: 'pk', deviceName: 'dn', deviceSecret: 's' };
    const ok = (path) => ({ status: 200, body: path === '/auth' ? '{"code":0,"info":{"token":"t"}}' : '{"code":0,"info":{"messageId":7}}' });
    // answers /auth, then never answers; records what happens in order
    function silent(returned) {
      const log = [];
      const transport = (req, cb) => {
        if (req.path === '/auth') setImmediate(() => cb(null, ok(req.path)));
        else log.push('sent');
        return returned(log);
      };
      return { log, transport };
    }
    // until the log has n entries (however slow the machine), then a little longer for extra ones
    async function settle(log, n) {
      for (let i = 0; i < 300 && log.length < n; i++) await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, 50));
    }

    it('is called once when a request times out, after the ETIMEDOUT callback', async () => {
      const { log, transport } = silent((log) => () => log.push('abort'));
      const c = createClient({ ...dev, storage: memoryStorage(), transport, timeout: 30, retries: 0 });
      c.publish('/pk/dn/x', 'x', (e) => log.push('callback ' + e.code));
      await settle(log, 3);
      expect(log).to.deep.equal(['sent', 'callback ETIMEDOUT', 'abort']);
    });

    it('is called even when the ETIMEDOUT callback throws', async () => {
      const { log, transport } = silent((log) => () => log.push('abort'));
      const thrown = [];
      const onThrow = (e) => thrown.push(e.message);
      const mocha = process.listeners('uncaughtException'); // the throw is expected: out of mocha's way
      process.removeAllListeners('uncaughtException');
      process.on('uncaughtException', onThrow);
      try {
        const c = createClient({ ...dev, storage: memoryStorage(), transport, timeout: 30, retries: 0 });
        c.publish('/pk/dn/x', 'x', (e) => {
          log.push('callback ' + e.code);
          throw new Error('the application failed');
        });
        await settle(log, 3);
      } finally {
        process.off('uncaughtException', onThrow);
        mocha.forEach((f) => process.on('uncaughtException', f));
      }
      expect(log).to.deep.equal(['sent', 'callback ETIMEDOUT', 'abort']);
      expect(thrown).to.deep.equal(['the application failed']); // the application's own throw, not swallowed
    });

    it('is not called when the reply comes in time', async () => {
      const aborted = [];
      const transport = (req, cb) => {
        setImmediate(() => cb(null, ok(req.path)));
        return () => aborted.push(req.path);
      };
      const c = createClient({ ...dev, storage: memoryStorage(), transport, timeout: 30 });
      await c.publish('/pk/dn/x', 'x');
      await new Promise((r) => setTimeout(r, 60));
      expect(aborted).to.deep.equal([]);
    });

    for (const [what, returned] of [
      ['nothing', () => undefined],
      ['a value that is not a function', () => 42],
      ['an abort that throws', () => () => { throw new Error('abort failed'); }],
    ]) {
      it(`a transport that returns ${what}: still one ETIMEDOUT, nothing thrown`, async () => {
        const thrown = [];
        const onThrow = (e) => thrown.push(e);
        process.on('uncaughtException', onThrow);
        try {
          const { transport } = silent(returned);
          const c = createClient({ ...dev, storage: memoryStorage(), transport, timeout: 30, retries: 0 });
          const err = await c.publish('/pk/dn/x', 'x').catch((e) => e);
          await new Promise((r) => setTimeout(r, 50));
          expect(err.code).to.equal('ETIMEDOUT');
          expect(thrown).to.deep.equal([]);
        } finally {
          process.off('uncaughtException', onThrow);
        }
      });
    }
  });
});
