// The emulator's certificates made at start (generateCertificates and the `tls` option) and its
// request log (onRequest, onTlsError): checked with Node's X509Certificate, OpenSSL's verify
// where it is installed, real TLS connections that trust only the generated CA, and, where
// ESPRUINO_BIN is set, the Espruino interpreter's TLS stack publishing through one.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { X509Certificate, createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import tls from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { saveModule, appScript, runApp } from './engine/espruino-board.mjs';

const require = createRequire(import.meta.url);
const { startEmulator, generateCertificates, CA_CERT } = require('../build/node/emulator.cjs');
const { createClient } = require('../build/node/index.cjs');

const DEVICE = { productKey: 'a1TlsProd', deviceName: 'tls-01', deviceSecret: 'tls-secret-0123' };
const TOPIC = `/${DEVICE.productKey}/${DEVICE.deviceName}/user/update`;

/** Connects to the emulator and resolves with the served certificate, or the error's code. */
function handshake(port, options) {
  return new Promise((resolve) => {
    const s = tls.connect({ host: '127.0.0.1', port, ...options }, () => {
      const cert = s.getPeerX509Certificate();
      s.end();
      resolve({ cert, protocol: s.getProtocol(), cipher: s.getCipher().name });
    });
    s.on('error', (e) => resolve({ error: e.code || e.message }));
  });
}

function post(url, path, { ca, headers = {}, body = '' }) {
  return new Promise((resolve, reject) => {
    const req = https.request(url + path, { method: 'POST', ca, agent: false, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('emulator: certificates made at start', function () {
  this.timeout(30000);
  let g, ca, cert;

  before(async () => {
    g = await generateCertificates(['mybox.local', '192.168.1.10', 'fe80::1', 'MyBox.Local.', '::ffff:10.0.0.1']);
    ca = new X509Certificate(g.ca);
    cert = new X509Certificate(g.cert);
  });

  it('a CA and a server certificate it signed, RSA 2048, for the names asked and the loopback ones', () => {
    expect(ca.ca).to.equal(true);
    expect(cert.ca).to.equal(false);
    expect(ca.subject).to.match(/^CN=aliyun-iot-http emulator CA [0-9a-f]{8}$/);
    expect(ca.checkIssued(ca) && ca.verify(ca.publicKey), 'self-signed').to.equal(true);
    expect(cert.checkIssued(ca)).to.equal(true);
    expect(cert.verify(ca.publicKey)).to.equal(true);
    expect(cert.verify(cert.publicKey)).to.equal(false);
    expect(cert.publicKey.asymmetricKeyType).to.equal('rsa');
    expect(cert.publicKey.asymmetricKeyDetails.modulusLength).to.equal(2048);
    expect(ca.publicKey.asymmetricKeyDetails.modulusLength).to.equal(2048);
    expect(g.names).to.deep.equal(['localhost', '127.0.0.1', '::1', 'mybox.local', '192.168.1.10', 'fe80::1', '::ffff:10.0.0.1']);
    for (const host of ['localhost', 'mybox.local', 'MYBOX.local']) expect(cert.checkHost(host), host).to.be.a('string');
    for (const ip of ['127.0.0.1', '::1', '192.168.1.10', 'fe80::1', '::ffff:10.0.0.1', '0:0:0:0:0:0:0:1']) expect(cert.checkIP(ip), ip).to.be.a('string');
    expect(cert.checkHost('other.local')).to.equal(undefined);
    expect(cert.checkIP('192.168.1.11')).to.equal(undefined);
    expect(cert.keyUsage).to.deep.equal(['1.3.6.1.5.5.7.3.1']); // extended key usage: serverAuth
    const now = Date.now();
    expect(Date.parse(cert.validFrom)).to.be.below(now);
    expect(Date.parse(cert.validTo)).to.be.above(now + 300 * 86400000);
    expect(g.key).to.match(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(g).to.not.have.property('caKey');
  });

  it('OpenSSL verifies it as a TLS server certificate for those names (where openssl is installed)', function () {
    if (spawnSync('openssl', ['version']).status !== 0) return this.skip();
    const dir = mkdtempSync(join(tmpdir(), 'aliyun-tls-'));
    try {
      writeFileSync(join(dir, 'ca.pem'), g.ca);
      writeFileSync(join(dir, 'cert.pem'), g.cert);
      const verify = (...args) => spawnSync('openssl', ['verify', '-x509_strict', '-purpose', 'sslserver', '-CAfile', join(dir, 'ca.pem'), ...args, join(dir, 'cert.pem')], { encoding: 'utf8' });
      for (const args of [[], ['-verify_hostname', 'mybox.local'], ['-verify_ip', '192.168.1.10'], ['-verify_ip', 'fe80::1']]) {
        const r = verify(...args);
        expect(r.status, `${args.join(' ')}: ${r.stdout}${r.stderr}`).to.equal(0);
      }
      expect(verify('-verify_hostname', 'other.local').status).to.not.equal(0);
      const text = spawnSync('openssl', ['x509', '-noout', '-text', '-in', join(dir, 'cert.pem')], { encoding: 'utf8' }).stdout;
      expect(text).to.include('Signature Algorithm: sha256WithRSAEncryption');
      expect(text).to.match(/Key Usage: critical\s+Digital Signature, Key Encipherment/);
      const caText = spawnSync('openssl', ['x509', '-noout', '-text', '-in', join(dir, 'ca.pem')], { encoding: 'utf8' }).stdout;
      expect(caText).to.match(/Basic Constraints: critical\s+CA:TRUE/);
      expect(caText).to.match(/Key Usage: critical\s+Certificate Sign, CRL Sign/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('new keys every time; names it cannot hold are refused', async () => {
    const again = await generateCertificates([]);
    expect(again.ca).to.not.equal(g.ca);
    expect(new X509Certificate(again.cert).publicKey.export({ type: 'spki', format: 'der' }).equals(cert.publicKey.export({ type: 'spki', format: 'der' }))).to.equal(false);
    expect(new X509Certificate(again.cert).serialNumber).to.not.equal(cert.serialNumber);
    for (const bad of ['', 'has space', 'under_score', 'a..b', '-lead.example', 'fe80::1%eth0', 'x'.repeat(64) + '.com', 'ü.example']) {
      await generateCertificates([bad]).then(
        () => expect.fail(`accepted ${JSON.stringify(bad)}`),
        (e) => expect(e).to.be.instanceOf(TypeError),
      );
    }
  });

  it('startEmulator: tls "generate" serves them, trusted through emu.ca only, with RSA key exchange too', async () => {
    const emu = await startEmulator({ devices: [DEVICE], tls: 'generate', names: ['mybox.test', '10.20.30.40'] });
    try {
      expect(emu.ca).to.not.equal(CA_CERT);
      expect(emu.url).to.equal(`https://localhost:${emu.port}`);
      expect(emu.names).to.deep.equal(['localhost', '127.0.0.1', '::1', 'mybox.test', '10.20.30.40']);
      const named = await handshake(emu.port, { servername: 'mybox.test', ca: emu.ca });
      expect(named.error).to.equal(undefined);
      expect(named.cert.checkIP('10.20.30.40')).to.equal('10.20.30.40');
      expect((await handshake(emu.port, { servername: 'mybox.test', ca: CA_CERT })).error).to.equal('SELF_SIGNED_CERT_IN_CHAIN');
      expect((await handshake(emu.port, { servername: 'elsewhere.test', ca: emu.ca })).error).to.equal('ERR_TLS_CERT_ALTNAME_INVALID');
      const rsa = await handshake(emu.port, { servername: 'localhost', ca: emu.ca, ciphers: 'AES128-SHA', maxVersion: 'TLSv1.2' });
      expect([rsa.protocol, rsa.cipher]).to.deep.equal(['TLSv1.2', 'AES128-SHA']);
      const dir = mkdtempSync(join(tmpdir(), 'aliyun-tls-'));
      const client = createClient({ ...DEVICE, endpoint: emu.url, ca: emu.ca, dir });
      try {
        const r = await client.publish(TOPIC, 'through a generated certificate');
        expect(emu.messages.map((m) => m.messageId)).to.deep.equal([r.messageId]);
      } finally {
        client.close();
        rmSync(dir, { recursive: true, force: true });
      }
    } finally {
      await emu.close();
    }
  });

  it('startEmulator: bundled on loopback by default; generated for a network host; bad tls options refused', async () => {
    const local = await startEmulator({ devices: [DEVICE] });
    expect(local.ca).to.equal(CA_CERT);
    expect(local.names).to.deep.equal(['localhost', '127.0.0.1', '::1']);
    await local.close();
    const lan = await startEmulator({ devices: [DEVICE], host: '0.0.0.0' });
    try {
      expect(lan.ca).to.not.equal(CA_CERT);
      expect(lan.url).to.equal(`https://127.0.0.1:${lan.port}`);
      const r = await post(lan.url, '/nothing', { ca: lan.ca });
      expect(r.status).to.equal(404);
    } finally {
      await lan.close();
    }
    for (const options of [{ tls: 'bundled', names: ['mybox.test'] }, { tls: 'self-signed' }, { names: 'mybox.test' }, { names: ['bad name'] }, { key: 'x' }]) {
      await startEmulator({ devices: [DEVICE], ...options }).then(
        (e) => (e.close(), expect.fail(JSON.stringify(options))),
        (e) => expect(e, JSON.stringify(options)).to.be.instanceOf(TypeError),
      );
    }
  });
});

describe('emulator: one log entry per request (onRequest, onTlsError)', function () {
  this.timeout(30000);

  it('reports each request once, with the device, code and messageId, and never a secret, token or sign', async () => {
    const entries = [];
    const tlsErrors = [];
    const emu = await startEmulator({ devices: [DEVICE], onRequest: (e) => entries.push(e), onTlsError: (e) => tlsErrors.push(e) });
    const dir = mkdtempSync(join(tmpdir(), 'aliyun-log-'));
    const client = createClient({ ...DEVICE, endpoint: emu.url, ca: emu.ca, dir, retries: 0, timeout: 1000 });
    try {
      const r = await client.publish(TOPIC, 'logged');
      await client.publish(`/sys/${DEVICE.productKey}/${DEVICE.deviceName}/thing/event/property/post`, '{"id":"x"}');
      emu.fault({ type: 'status', status: 503 }, 'topic');
      await client.publish(TOPIC, 'refused').catch((e) => e);
      emu.fault({ type: 'drop' }, 'topic');
      await client.publish(TOPIC, 'dropped').catch((e) => e);
      await post(emu.url, '/nothing', { ca: emu.ca, body: 'abc' });
      // a client that sends half a body, then goes away
      await new Promise((resolve) => {
        const s = tls.connect({ host: '127.0.0.1', port: emu.port, servername: 'localhost', ca: emu.ca }, () => {
          s.write(`POST /auth HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"productKey"`);
          setTimeout(() => s.destroy(), 100);
        });
        s.on('close', resolve);
      });
      // not HTTP at all
      const raw = await new Promise((resolve) => {
        let text = '';
        const s = tls.connect({ host: '127.0.0.1', port: emu.port, servername: 'localhost', ca: emu.ca }, () => s.write('HELLO\r\n\r\n'));
        s.on('data', (d) => (text += d));
        s.on('close', () => resolve(text));
      });
      expect(raw).to.match(/^HTTP\/1\.1 400 Bad Request\r\n/);
      // a client that does not trust the CA
      expect((await handshake(emu.port, { servername: 'localhost' })).error).to.equal('SELF_SIGNED_CERT_IN_CHAIN');
      await new Promise((resolve) => setTimeout(resolve, 200));

      const http = entries.filter((e) => e.method === 'POST');
      expect(http.length, 'one entry per request received').to.equal(emu.requests.length);
      expect(http.map((e) => e.path)).to.deep.equal(emu.requests.map((q) => q.path));
      const [auth, first, thing, refused, dropped, notFound, gone] = http;
      expect(auth).to.deep.include({ kind: 'auth', status: 200, code: 0, productKey: DEVICE.productKey, deviceName: DEVICE.deviceName, remoteAddress: '127.0.0.1' });
      expect(first).to.deep.include({ kind: 'topic', topic: TOPIC, bytes: 6, status: 200, code: 0, message: 'success', messageId: r.messageId });
      expect(thing.alink).to.deep.equal({ kind: 'property', error: { code: 460, message: 'request parameter error: id must be a string of 1 to 10 digits, at most 4294967295' } });
      expect(refused).to.deep.include({ status: 503, fault: 'status' });
      expect(refused).to.not.have.property('code');
      expect(dropped).to.deep.include({ fault: 'drop' });
      expect(dropped).to.not.have.property('status');
      expect(notFound).to.deep.include({ status: 404, bytes: 3 });
      expect(notFound).to.not.have.property('kind');
      expect(gone).to.deep.include({ kind: 'auth', note: 'the client went away before the body ended' });
      expect(gone).to.not.have.property('status');
      const bad = entries.filter((e) => e.method === '');
      expect(bad, JSON.stringify(bad)).to.have.length(1);
      expect(bad[0]).to.deep.include({ status: 400, note: 'not a valid HTTP request (HPE_INVALID_METHOD)' });
      expect(tlsErrors).to.have.length(1);
      expect(tlsErrors[0].remoteAddress).to.equal('127.0.0.1');
      expect(entries.length).to.equal(http.length + 1);
      const all = JSON.stringify(entries) + JSON.stringify(tlsErrors);
      const authBody = JSON.parse(emu.requests[0].body);
      expect(all).to.not.include(DEVICE.deviceSecret);
      expect(all).to.not.include(authBody.sign);
      expect(all).to.not.include(emu.requests[1].headers.password);
      expect(all).to.not.include('logged');
    } finally {
      client.close();
      await emu.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a callback that throws does not stop the emulator', async () => {
    const emu = await startEmulator({ devices: [DEVICE], onRequest: () => { throw new Error('logger broke'); }, onTlsError: () => { throw new Error('logger broke'); } });
    try {
      expect((await post(emu.url, '/nothing', { ca: emu.ca })).status).to.equal(404);
      await handshake(emu.port, { servername: 'localhost' });
      const body = JSON.stringify({ productKey: DEVICE.productKey, deviceName: DEVICE.deviceName, clientId: 'c', sign: createHmac('md5', DEVICE.deviceSecret).update(`clientIdcdeviceName${DEVICE.deviceName}productKey${DEVICE.productKey}`).digest('hex') });
      const r = await post(emu.url, '/auth', { ca: emu.ca, headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) }, body });
      expect(JSON.parse(r.text).code).to.equal(0);
    } finally {
      await emu.close();
    }
  });
});

describe('Espruino over TLS with a certificate made at start (ESPRUINO_BIN)', function () {
  this.timeout(120000);
  const bin = process.env.ESPRUINO_BIN;
  let emu, dir;
  before(async function () {
    if (!bin) return this.skip();
    emu = await startEmulator({ devices: [DEVICE], tls: 'generate', names: ['mybox.test'] });
    dir = mkdtempSync(join(tmpdir(), 'aliyun-board-tls-'));
  });
  after(async () => {
    if (emu) await emu.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('its TLS stack takes the generated chain: authenticates and publishes', async () => {
    saveModule(bin, dir);
    const r = await runApp(bin, dir, appScript({ device: DEVICE, endpoint: emu.url, topic: TOPIC, payloads: [{ text: 'board 1' }, { text: 'board 2' }] }));
    expect(r.crash, r.output).to.equal(null);
    expect(r.board, r.output).to.not.equal(null);
    expect(r.board.results.map((x) => x.code || null), JSON.stringify(r.board.results)).to.deep.equal([null, null]);
    expect(emu.messages.map((m) => m.body.toString())).to.deep.equal(['board 1', 'board 2']);
  });
});
