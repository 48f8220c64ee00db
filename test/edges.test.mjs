import { createRequire } from 'node:module';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';

const require = createRequire(import.meta.url);
const { createClient, memoryStorage } = require('../build/node/index.cjs');
const { startEmulator } = require('../build/node/emulator.cjs');

const device = { productKey: 'pk', deviceName: 'dn', deviceSecret: 'edge-secret' };
const topic = '/pk/dn/user/x';

/** A client over a scripted transport: `answer(path, n)` gives the reply body of request n. */
function scripted(answer, extra = {}) {
  const sent = [];
  const c = createClient({
    ...device,
    storage: memoryStorage(),
    backoff: 1,
    transport: (req, cb) => {
      sent.push(req.path);
      const body = answer(req.path, sent.length);
      setImmediate(() => cb(null, { status: 200, body }));
    },
    ...extra,
  });
  return { c, sent };
}

const TOKEN = '{"code":0,"info":{"token":"tok"}}';

describe('edge cases of replies, clocks and options', () => {
  for (const [name, body, code] of [
    ['a service error with no info', '{"code":10001,"message":"param error"}', 10001],
    ['a 30001 with info null', '{"code":30001,"message":"publish message error","info":null}', 30001],
    ['a success with no info', '{"code":0,"message":"success"}', 'EPROTO'],
    ['40000 without info after the retries', '{"code":40000,"message":"request too many"}', 40000],
  ]) {
    it(`${name}: one callback with ${code}`, async () => {
      const { c } = scripted((path) => (path === '/auth' ? TOKEN : body), { retries: 1 });
      const calls = [];
      await new Promise((resolve) => {
        c.publish(topic, 'x', (err) => {
          calls.push(err);
          setTimeout(resolve, 30);
        });
      });
      expect(calls).to.have.length(1);
      expect(calls[0].code).to.equal(code);
    });
  }

  // The clock is read at several moments: before /auth (timestamp), when the token arrives
  // (expiry), and before each publish (renewal). A throw at any one read fails that call only.
  for (const stored of [false, true]) {
    for (let bad = 1; bad <= 4; bad++) {
      it(`a clock that throws at its read ${bad}${stored ? ', with a stored token' : ''}: one callback, nothing thrown, the next call works`, async () => {
        let reads = 0;
        const thrown = [];
        const onThrow = (e) => thrown.push(e);
        process.on('uncaughtException', onThrow);
        const storage = memoryStorage();
        if (stored) storage.setItem('token', JSON.stringify(['pk/dn@iot-as-http.cn-shanghai.aliyuncs.com,443', 'stored.tok.en', Date.now() + 86400000]));
        const { c, sent } = scripted((path) => (path === '/auth' ? TOKEN : '{"code":0,"info":{"messageId":7}}'), {
          storage,
          now: () => {
            if (++reads === bad) throw new Error('rtc read failed');
            return Date.now();
          },
        });
        try {
          const results = [];
          for (let i = 0; i < 5; i++) {
            const calls = [];
            let syncThrow = null;
            try {
              c.publish(topic, 'm' + i, (err, r) => calls.push(err ? err.message : r.messageId));
            } catch (e) {
              syncThrow = e;
            }
            await new Promise((r) => setTimeout(r, 20));
            expect(syncThrow, 'publish threw synchronously').to.equal(null);
            expect(calls, `publish ${i}: callbacks`).to.have.length(1);
            results.push(calls[0]);
          }
          // the read that throws fails exactly one publish; the others (and all later ones) work
          expect(results.filter((r) => r === 'rtc read failed').length, results.join()).to.be.at.most(1);
          expect(results.slice(-1)).to.deep.equal(['7']);
          expect(reads, 'the clock was read that many times').to.be.at.least(bad);
          if (bad <= reads && results.every((r) => r === '7')) throw new Error(`read ${bad} threw but no publish failed`);
          expect(typeof (await c.auth())).to.equal('string');
          expect(sent.filter((p) => p !== '/auth').length).to.be.at.least(2);
          expect(thrown).to.deep.equal([]);
        } finally {
          process.off('uncaughtException', onThrow);
        }
      });
    }
  }

  it('a clock that throws null or a string still fails with an Error', async () => {
    let n = 0;
    for (const value of [null, 'rtc']) {
      const { c } = scripted(() => TOKEN, { now: () => { if (n++ % 2 === 0) throw value; return Date.now(); } });
      const err = await c.publish(topic, 'x').catch((e) => e);
      expect(err).to.be.instanceOf(Error);
      expect(err.message).to.include(String(value));
    }
  });

  it('a clock a month ahead: one renewal, not one per publish', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aliyun-edge-'));
    const emu = await startEmulator({ devices: [device] });
    const writes = [];
    const mem = memoryStorage();
    const storage = { getItem: (k) => mem.getItem(k), setItem: (k, v) => (writes.push(v), mem.setItem(k, v)), removeItem: (k) => mem.removeItem(k) };
    const c = createClient({ ...device, endpoint: emu.url, ca: emu.ca, storage, now: () => Date.now() + 30 * 86400000 });
    try {
      for (let i = 0; i < 5; i++) await c.publish(topic, 'm' + i);
      expect(emu.requests.filter((r) => r.path === '/auth').map((r) => r.code)).to.deep.equal([20000, 0]);
      expect(writes).to.have.length(1);
      expect(emu.messages).to.have.length(5);
    } finally {
      c.close();
      await emu.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // A stored token is checked when it is read: printable ASCII without spaces, at most 1024
  // characters, with a numeric expiry. Anything else is dropped, and a new one replaces it.
  for (const [name, damaged] of [
    ['a line feed (Node refuses it as a header)', 'bad\ntoken'],
    ['a byte above 0x7e', 'tok\u00e9n'],
    ['a space', 'tok en'],
    ['2,000 characters', 'x'.repeat(2000)],
    ['a number', 12345],
    ['an empty string', ''],
  ]) {
    it(`a stored token with ${name}: dropped, the client authenticates and the file is repaired`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'aliyun-edge-'));
      const emu = await startEmulator({ devices: [device] });
      const thrown = [];
      const onThrow = (e) => thrown.push(e);
      process.on('uncaughtException', onThrow);
      try {
        const owner = `pk/dn@localhost,${emu.port}`;
        writeFileSync(join(dir, 'pk.dn.json'), JSON.stringify({ token: JSON.stringify([owner, damaged, 0]) }));
        const c = createClient({ ...device, endpoint: emu.url, ca: emu.ca, dir, retries: 0, timeout: 2000 });
        const r = await c.publish(topic, 'x');
        expect(r.messageId).to.equal(emu.messages[0].messageId);
        expect(emu.requests.map((q) => q.path)).to.deep.equal(['/auth', '/topic' + topic]);
        const kept = JSON.parse(JSON.parse(readFileSync(join(dir, 'pk.dn.json'), 'utf8')).token);
        expect(kept[1]).to.equal(emu.requests[1].headers.password);
        // and the next start uses the repaired token without /auth
        const again = createClient({ ...device, endpoint: emu.url, ca: emu.ca, dir });
        await again.publish(topic, 'y');
        expect(emu.authCount).to.equal(1);
        c.close();
        again.close();
        expect(thrown).to.deep.equal([]);
      } finally {
        process.off('uncaughtException', onThrow);
        await emu.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  it('a token the transport refuses to send (EINVAL): dropped, authenticate once, resend once', async () => {
    const passwords = [];
    let auths = 0;
    const storage = memoryStorage();
    storage.setItem('token', JSON.stringify(['pk/dn@iot-as-http.cn-shanghai.aliyuncs.com,443', 'refused-token', 0]));
    const c = createClient({
      ...device,
      storage,
      transport: (req, cb) => {
        if (req.path === '/auth') {
          auths++;
          return void setImmediate(() => cb(null, { status: 200, body: '{"code":0,"info":{"token":"good-token"}}' }));
        }
        passwords.push(req.headers.password);
        if (req.headers.password === 'refused-token') return void setImmediate(() => cb(Object.assign(new Error('invalid header value'), { code: 'EINVAL' })));
        setImmediate(() => cb(null, { status: 200, body: '{"code":0,"info":{"messageId":9}}' }));
      },
    });
    expect((await c.publish(topic, 'x')).messageId).to.equal('9');
    expect(passwords).to.deep.equal(['refused-token', 'good-token']);
    expect(auths).to.equal(1);
    expect(JSON.parse(storage.getItem('token'))[1]).to.equal('good-token');
  });

  it('the Node transport reports a header value Node refuses as EINVAL', async () => {
    const { httpsTransport } = require('../build/node/index.cjs');
    const t = httpsTransport();
    const err = await new Promise((resolve) => t({ method: 'POST', host: 'localhost', port: 1, path: '/x', headers: { password: 'a\nb' }, body: new Uint8Array(0), timeout: 100 }, resolve));
    t.close();
    expect(err.code).to.equal('EINVAL');
    expect(err.cause.code).to.equal('ERR_INVALID_CHAR');
  });

  it('a token the service sends that could not be sent back: EPROTO', async () => {
    const { c } = scripted((path) => (path === '/auth' ? '{"code":0,"info":{"token":"a b"}}' : '{"code":0,"info":{"messageId":7}}'), { retries: 0 });
    const err = await c.publish(topic, 'x').catch((e) => e);
    expect(err.code).to.equal('EPROTO');
    expect(err.message).to.equal('bad token');
  });

  it('publishes to an IPv6 endpoint, https://[::1]:PORT, where the system has IPv6 loopback', async function () {
    let emu;
    try {
      emu = await startEmulator({ devices: [device], host: '::1' });
    } catch (e) {
      if (e.code === 'EADDRNOTAVAIL' || e.code === 'EAFNOSUPPORT') return this.skip();
      throw e;
    }
    const dir = mkdtempSync(join(tmpdir(), 'aliyun-edge-'));
    expect(emu.url).to.equal(`https://[::1]:${emu.port}`);
    const c = createClient({ ...device, endpoint: emu.url, ca: emu.ca, dir });
    try {
      const r = await c.publish(topic, 'over IPv6');
      expect(r.messageId).to.equal(emu.messages[0].messageId);
      expect(emu.messages[0].body.toString()).to.equal('over IPv6');
    } finally {
      c.close();
      await emu.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses bad Node options ca and dir with EINVAL', () => {
    expect(() => createClient({ ...device, ca: 5 })).to.throw(/bad option ca/);
    expect(() => createClient({ ...device, ca: ['x', 5] })).to.throw(/bad option ca/);
    expect(() => createClient({ ...device, dir: 5 })).to.throw(/bad option dir/);
  });
});
