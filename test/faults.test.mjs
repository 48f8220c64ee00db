import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';

const require = createRequire(import.meta.url);
const { createClient } = require('../build/node/index.cjs');
const { startEmulator } = require('../build/node/emulator.cjs');

const device = { productKey: 'a1FaultProd', deviceName: 'flaky-01', deviceSecret: 'fault-secret-0123' };
const topic = `/${device.productKey}/${device.deviceName}/user/data`;
const DAY = 86400000;

/** Publishes with a callback and waits a little longer, to count every call of the callback. */
function publishCounted(client, payload, settle = 60) {
  return new Promise((resolve) => {
    const calls = [];
    client.publish(topic, payload, (err, result) => {
      calls.push({ err, result });
      if (calls.length === 1) setTimeout(() => resolve(calls), settle);
    });
  });
}

function freePort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

describe('faults: every publish ends in one callback, the client recovers', function () {
  let emu, dir;
  const clients = [];
  const asyncThrows = [];
  const onThrow = (e) => asyncThrows.push(e);
  const client = (extra = {}) => {
    const c = createClient({ ...device, endpoint: emu.url, ca: emu.ca, dir, backoff: 5, timeout: 400, ...extra });
    clients.push(c);
    return c;
  };
  const bodies = () => emu.messages.map((m) => m.body.toString());

  before(async () => {
    emu = await startEmulator({ devices: [device] });
    process.on('uncaughtException', onThrow);
    process.on('unhandledRejection', onThrow);
  });
  after(async () => {
    process.off('uncaughtException', onThrow);
    process.off('unhandledRejection', onThrow);
    await emu.close();
  });
  beforeEach(() => {
    emu.reset();
    dir = mkdtempSync(join(tmpdir(), 'aliyun-faults-'));
  });
  afterEach(async function () {
    // the fault is over: the same client works normally
    if (clients.length && this.currentTest.state === 'passed') {
      emu.reset();
      const [last] = await publishCounted(clients[clients.length - 1], 'after the fault');
      expect(last.err, 'publish after the fault').to.equal(null);
      expect(bodies()).to.deep.equal(['after the fault']);
    }
    clients.splice(0).forEach((c) => c.close());
    rmSync(dir, { recursive: true, force: true });
    expect(asyncThrows, 'nothing thrown asynchronously').to.deep.equal([]);
  });

  const cases = [
    // [name, fault, retries, expected code or null, messages recorded]
    ['a connection reset before the reply', { type: 'reset' }, 0, 'ENETWORK', 0],
    ['a connection reset before the reply, retried', { type: 'reset' }, 1, null, 1],
    ['a connection reset in the middle of the reply', { type: 'resetMidway' }, 0, 'ENETWORK', 1],
    ['a reply that never comes', { type: 'drop' }, 0, 'ETIMEDOUT', 0],
    ['a reply that never comes, retried', { type: 'drop' }, 1, null, 1],
    ['HTTP 500 with an HTML body', { type: 'status', status: 500 }, 0, 'EHTTP', 0],
    ['HTTP 502 with an HTML body, retried', { type: 'status', status: 502 }, 2, null, 1],
    ['HTTP 503 with an HTML body', { type: 'status', status: 503 }, 0, 'EHTTP', 0],
    ['truncated JSON', { type: 'truncate' }, 2, 'EPROTO', 1],
    ['garbage bytes', { type: 'garbage' }, 2, 'EPROTO', 0],
    ['a chunked reply', { type: 'chunked' }, 0, null, 1],
    ['a reply without messageId', { type: 'noMessageId' }, 2, 'EPROTO', 1],
    ['a slow reply within the timeout', { type: 'delay', ms: 150 }, 0, null, 1],
  ];
  for (const [name, fault, retries, code, recorded] of cases) {
    it(`${name}: ${code || 'success'}, ${recorded} recorded`, async () => {
      const c = client({ retries });
      await c.auth();
      emu.fault(fault, 'topic');
      const calls = await publishCounted(c, 'payload');
      expect(calls, 'callbacks').to.have.length(1);
      if (code) {
        expect(calls[0].err).to.be.instanceOf(Error);
        expect(calls[0].err.code).to.equal(code);
        if (code === 'EHTTP') expect(calls[0].err.status).to.equal(fault.status);
      } else {
        expect(calls[0].err).to.equal(null);
        expect(calls[0].result.messageId).to.equal(emu.messages[0].messageId);
      }
      expect(bodies()).to.deep.equal(Array(recorded).fill('payload'));
    });
  }

  it('a reply that never comes: the timed-out connection is closed, not left open', async () => {
    const c = client({ retries: 0 });
    await c.auth();
    emu.fault({ type: 'drop' }, 'topic');
    const calls = await publishCounted(c, 'dropped');
    expect(calls[0].err.code).to.equal('ETIMEDOUT');
    for (let i = 0; i < 50 && emu.openSockets > 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(emu.openSockets, 'connections still open after the timeout').to.equal(0);
  });

  it('a reset in the middle of a reply, retried, may deliver twice (at least once)', async () => {
    const c = client({ retries: 1 });
    await c.auth();
    emu.fault({ type: 'resetMidway' }, 'topic');
    const calls = await publishCounted(c, 'twice');
    expect(calls).to.have.length(1);
    expect(calls[0].err).to.equal(null);
    expect(bodies()).to.deep.equal(['twice', 'twice']);
  });

  it('faults during /auth: each publish waiting on it gets one callback', async () => {
    const c = client({ retries: 0 });
    emu.fault({ type: 'garbage' }, 'auth');
    const all = await Promise.all([publishCounted(c, 'a'), publishCounted(c, 'b'), publishCounted(c, 'c')]);
    for (const calls of all) {
      expect(calls).to.have.length(1);
      expect(calls[0].err.code).to.equal('EPROTO');
    }
    expect(emu.requests.filter((r) => r.path === '/auth')).to.have.length(1);
    expect(bodies()).to.deep.equal([]);
  });

  it('a throttling storm: 40000 after every retry, then normal service', async () => {
    const c = client({ retries: 2 });
    await c.auth();
    emu.throttleNext(1000, 'topic');
    for (let i = 0; i < 5; i++) {
      const calls = await publishCounted(c, 'stormy', 10);
      expect(calls).to.have.length(1);
      expect(calls[0].err.code).to.equal(40000);
    }
    expect(emu.requests.filter((r) => r.path !== '/auth')).to.have.length(15);
    expect(bodies()).to.deep.equal([]);
  });

  it('a token revoked between two publishes: re-auth, one copy', async () => {
    const c = client();
    await publishCounted(c, 'one');
    emu.revokeTokens();
    const calls = await publishCounted(c, 'two');
    expect(calls).to.have.length(1);
    expect(calls[0].err).to.equal(null);
    expect(bodies()).to.deep.equal(['one', 'two']);
  });

  it('the clock jumping forwards by days: renews, without the stale timestamp', async () => {
    let skew = 0;
    const c = client({ now: () => Date.now() + skew });
    await publishCounted(c, 'now');
    skew = 8 * DAY; // past the 7-day token's expire
    const calls = await publishCounted(c, 'later');
    expect(calls[0].err).to.equal(null);
    const auths = emu.requests.filter((r) => r.path === '/auth');
    expect(auths.map((r) => r.code)).to.deep.equal([0, 20000, 0]);
    expect(JSON.parse(auths[1].body)).to.have.property('timestamp');
    expect(JSON.parse(auths[2].body)).to.not.have.property('timestamp');
    expect(bodies()).to.deep.equal(['now', 'later']);
    skew = 0;
  });

  it('the clock jumping backwards by days: the token stays in use, a forced auth still works', async () => {
    let skew = 0;
    const c = client({ now: () => Date.now() + skew });
    await publishCounted(c, 'now');
    skew = -3 * DAY;
    expect((await publishCounted(c, 'earlier'))[0].err).to.equal(null);
    expect(typeof (await c.auth())).to.equal('string');
    expect(emu.requests.filter((r) => r.path === '/auth').map((r) => r.code)).to.deep.equal([0, 20000, 0]);
    skew = 0;
  });

  it('connection refused: ENETWORK after the retries, and service resumes on the same client', async () => {
    const port = await freePort();
    const down = createClient({ ...device, endpoint: `https://127.0.0.1:${port}`, ca: emu.ca, dir, retries: 2, backoff: 5 });
    clients.push(down);
    const calls = await publishCounted(down, 'refused');
    expect(calls).to.have.length(1);
    expect(calls[0].err.code).to.equal('ENETWORK');
    expect(calls[0].err.message).to.include('ECONNREFUSED');
    const back = await startEmulator({ devices: [device], port });
    try {
      const again = await publishCounted(down, 'back');
      expect(again[0].err).to.equal(null);
      expect(back.messages.map((m) => m.body.toString())).to.deep.equal(['back']);
    } finally {
      clients.splice(0).forEach((x) => x.close());
      await back.close();
    }
  });
});
