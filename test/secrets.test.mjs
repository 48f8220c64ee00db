import { createRequire } from 'node:module';
import { connect } from 'node:tls';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';

const require = createRequire(import.meta.url);
const { createClient } = require('../build/node/index.cjs');
const { startEmulator } = require('../build/node/emulator.cjs');

const SECRET = 'Sup3r-Secret-Never-Shown';
const device = { productKey: 'a1SecretProd', deviceName: 'sec-01', deviceSecret: SECRET };
const topic = `/${device.productKey}/${device.deviceName}/user/x`;

describe('secrets and trust', function () {
  let emu, dir;
  before(async () => {
    emu = await startEmulator({ devices: [device] });
  });
  after(() => emu.close());
  beforeEach(() => {
    emu.reset();
    dir = mkdtempSync(join(tmpdir(), 'aliyun-secret-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('the device secret appears in no error, log line, stored file or request', async () => {
    const logged = [];
    const names = ['log', 'info', 'warn', 'error', 'debug'];
    const saved = names.map((n) => console[n]);
    const write = process.stdout.write, ewrite = process.stderr.write;
    names.forEach((n) => (console[n] = (...a) => logged.push(a.join(' '))));
    process.stdout.write = process.stderr.write = (s) => (logged.push(String(s)), true);
    const errors = [];
    try {
      const c = createClient({ ...device, endpoint: emu.url, ca: emu.ca, dir, backoff: 1, retries: 1 });
      await c.publish(topic, 'ok');
      for (const f of [{ type: 'garbage' }, { type: 'reset' }, { type: 'status', status: 500 }, { type: 'code', code: 10000 }]) {
        emu.fault(f, 'any');
        emu.fault(f, 'any');
        emu.expireTokens();
        await c.publish(topic, 'x').catch((e) => errors.push(e));
      }
      await createClient({ ...device, deviceSecret: SECRET + 'wrong', endpoint: emu.url, ca: emu.ca, dir: join(dir, 'w') })
        .publish(topic, 'x')
        .catch((e) => errors.push(e));
      for (const bad of [{ productKey: 5 }, { endpoint: `http://x/${SECRET}` }, { storage: SECRET }]) {
        try {
          createClient({ ...device, ...bad });
        } catch (e) {
          errors.push(e);
        }
      }
      c.close();
    } finally {
      names.forEach((n, i) => (console[n] = saved[i]));
      process.stdout.write = write;
      process.stderr.write = ewrite;
    }
    expect(errors.length).to.be.at.least(8);
    for (const e of errors) expect(`${e.message} ${e.stack} ${JSON.stringify(e)}`).to.not.include(SECRET);
    expect(logged.join('\n')).to.not.include(SECRET);
    for (const f of readdirSync(dir, { recursive: true })) {
      const p = join(dir, String(f));
      if (statSync(p).isFile()) {
        expect(readFileSync(p, 'latin1'), f).to.not.include(SECRET);
        expect(statSync(p).mode & 0o777, f).to.equal(0o600);
      }
    }
    for (const r of emu.requests) {
      expect(r.body.toString('latin1'), r.path).to.not.include(SECRET);
      expect(JSON.stringify(r.headers), r.path).to.not.include(SECRET);
      expect(r.path).to.not.include(SECRET);
    }
  });

  it('refuses a certificate for another host name', async () => {
    // the emulator's certificate names localhost, 127.0.0.1 and ::1, not 127.0.0.2
    const wrong = await startEmulator({ devices: [device], host: '127.0.0.2' });
    try {
      const err = await createClient({ ...device, endpoint: wrong.url, ca: wrong.ca, dir, retries: 0 })
        .publish(topic, 'x')
        .catch((e) => e);
      expect(err.code).to.equal('ENETWORK');
      expect(err.message).to.match(/altname|does not match|certificate/i);
      expect(wrong.requests).to.have.length(0);
    } finally {
      await wrong.close();
    }
  });

  it('refuses an untrusted certificate, and has no option to stop verifying', async () => {
    for (const insecure of [{ rejectUnauthorized: false }, { insecure: true }]) {
      expect(() => createClient({ ...device, endpoint: emu.url, dir, ...insecure }), Object.keys(insecure)[0]).to.throw(/^unknown option .*: certificates are always verified/);
    }
    const c = createClient({ ...device, endpoint: emu.url, dir, retries: 0 });
    const err = await c.publish(topic, 'x').catch((e) => e);
    c.close();
    expect(err.code).to.equal('ENETWORK');
    expect(err.message).to.match(/certificate/i);
    expect(emu.requests).to.have.length(0);
  });

  it('refuses http:// and other schemes', () => {
    for (const endpoint of ['http://127.0.0.1:80', 'ftp://host', 'HTTP://host', '//host', 'host']) {
      expect(() => createClient({ ...device, endpoint }), endpoint).to.throw(/bad option endpoint/);
    }
  });

  describe('the emulator under malformed and oversized requests', () => {
    const raw = (text, wait = 300) =>
      new Promise((resolve) => {
        const s = connect({ host: '127.0.0.1', port: emu.port, ca: emu.ca, servername: 'localhost' }, () => s.end(text));
        let out = '';
        s.on('data', (d) => (out += d));
        s.on('error', () => resolve(out));
        s.on('close', () => resolve(out));
        setTimeout(() => (s.destroy(), resolve(out)), wait);
      });

    it('answers or closes, and keeps serving', async () => {
      const big = 'x'.repeat(1 << 20);
      const answers = await Promise.all([
        raw('GARBAGE\r\n\r\n'),
        raw('POST /auth HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n{"a"'),
        raw(`POST /auth HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: ${big.length}\r\n\r\n${big}`, 2000),
        raw(`POST /topic/a/b HTTP/1.1\r\nHost: a\r\nX-Big: ${'h'.repeat(100000)}\r\n\r\n`),
        raw('POST /topic/%ZZ HTTP/1.1\r\nHost: a\r\npassword: x\r\nContent-Length: 0\r\n\r\n'),
        raw('\u0000\u0001\u0002'.repeat(1000)),
      ]);
      expect(answers[2]).to.match(/"code":10001/);
      const c = createClient({ ...device, endpoint: emu.url, ca: emu.ca, dir });
      expect((await c.publish(topic, 'still here')).messageId).to.match(/^\d+$/);
      c.close();
    });
  });
});
