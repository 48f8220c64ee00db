import { createRequire } from 'node:module';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
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

  it('a clock that throws once fails that publish and not the client', async () => {
    let bad = true;
    const { c } = scripted((path) => (path === '/auth' ? TOKEN : '{"code":0,"info":{"messageId":7}}'), {
      now: () => {
        if (bad) {
          bad = false;
          throw new Error('rtc read failed');
        }
        return Date.now();
      },
    });
    const first = await c.publish(topic, 'x').catch((e) => e);
    expect(first.message).to.equal('rtc read failed');
    expect((await c.publish(topic, 'y')).messageId).to.equal('7');
    expect(typeof (await c.auth())).to.equal('string');
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

  it('a stored token Node cannot send as a header: ENETWORK, no crash', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aliyun-edge-'));
    const emu = await startEmulator({ devices: [device] });
    const thrown = [];
    const onThrow = (e) => thrown.push(e);
    process.on('uncaughtException', onThrow);
    try {
      const owner = `pk/dn@127.0.0.1,${emu.port}`;
      writeFileSync(join(dir, 'pk.dn.json'), JSON.stringify({ token: JSON.stringify([owner, 'bad\ntoken', 0]) }));
      const c = createClient({ ...device, endpoint: emu.url, ca: emu.ca, dir, retries: 0, timeout: 200 });
      const err = await c.publish(topic, 'x').catch((e) => e);
      expect(err.code).to.equal('ENETWORK');
      await new Promise((r) => setTimeout(r, 300)); // past the client's timer
      c.close();
      expect(thrown).to.deep.equal([]);
    } finally {
      process.off('uncaughtException', onThrow);
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
