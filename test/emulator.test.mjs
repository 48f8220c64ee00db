// The emulator, tested from the outside with raw https/tls clients and Node's crypto only.
import { expect } from 'chai';
import { createRequire } from 'node:module';
import { createHmac, randomBytes } from 'node:crypto';
import https from 'node:https';
import tls from 'node:tls';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const { startEmulator, loadDevices, CA_CERT } = createRequire(import.meta.url)('../build/node/emulator.cjs');

const T0 = 1_700_000_000_000;
const LIFETIME = 3_600_000;
const DEV = { productKey: 'a1PK', deviceName: 'dev1', deviceSecret: 'S3cr3t-dev1' };
const DEV2 = { productKey: 'a1PK', deviceName: 'dev2', deviceSecret: 'S3cr3t-dev2' };
const TOPIC = '/a1PK/dev1/user/update';
const ALGORITHMS = { hmacmd5: 'md5', hmacsha1: 'sha1', hmacsha256: 'sha256' };
const TWO_53 = 2n ** 53n;

let clock = T0;
let emu;

/** POST/GET with a fresh connection; resolves with the whole response, rejects with the error. */
function request(e, path, { method = 'POST', headers = {}, body, trust = true, timeout = 2000 } = {}) {
  return new Promise((resolve, reject) => {
    const req = https.request(e.url + path, { method, headers, ca: trust ? CA_CERT : undefined, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('error', (err) => reject(Object.assign(err, { status: res.statusCode, partial: Buffer.concat(chunks) })));
      res.on('end', () => {
        const raw = Buffer.concat(chunks);
        resolve({ status: res.statusCode, headers: res.headers, raw, text: raw.toString('utf8') });
      });
    });
    req.setTimeout(timeout, () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.on('error', reject);
    req.end(body);
  });
}

/** The auth body with its sign, computed independently of the emulator. */
function authBody({ device = DEV, secret = device.deviceSecret, method = 'hmacsha1', timestamp = String(clock), clientId = 'c-001', upper = false } = {}) {
  const params = { productKey: device.productKey, deviceName: device.deviceName, clientId };
  if (timestamp !== undefined) params.timestamp = timestamp;
  const text = Object.keys(params).sort().map((k) => k + params[k]).join('');
  const sign = createHmac(ALGORITHMS[method || 'hmacmd5'], secret).update(text).digest('hex');
  return { ...params, version: 'default', ...(method ? { signmethod: method } : {}), sign: upper ? sign.toUpperCase() : sign };
}

function postJson(path, value, type = 'application/json', e = emu) {
  const body = typeof value === 'string' ? value : JSON.stringify(value);
  return request(e, path, { headers: { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) }, body });
}

async function auth(options, e = emu) {
  const res = await postJson('/auth', authBody(options), 'application/json', e);
  return JSON.parse(res.text);
}

async function token(options, e = emu) {
  const reply = await auth(options, e);
  expect(reply.code).to.equal(0);
  return reply.info.token;
}

function publish(password, body = Buffer.from('{"t":21.5}'), topic = TOPIC, extra = {}, e = emu) {
  const headers = { 'Content-Type': 'application/octet-stream', 'Content-Length': body.length, ...extra };
  if (password !== undefined) headers.password = password;
  return request(e, '/topic' + topic, { headers, body });
}

/** The business code of a reply text. */
const code = (res) => JSON.parse(res.text).code;
/** The messageId as printed in the raw reply text. */
const rawId = (text) => (/"messageId":(\d+)[,}]/.exec(text) || [])[1];

/** A raw HTTP/1.1 exchange over TLS (Connection: close, no half-close): the response bytes as received. */
function rawExchange(e, head, body = '') {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: e.host, port: e.port, ca: CA_CERT }, () => s.write(head + '\r\n\r\n' + body));
    const chunks = [];
    s.on('data', (c) => chunks.push(c));
    s.on('end', () => resolve(Buffer.concat(chunks).toString('latin1')));
    s.on('error', reject);
  });
}

/** Decode a chunked body (latin1 text): the chunk sizes and the joined data. */
function dechunk(payload) {
  const sizes = [];
  let data = '';
  for (let at = 0; ; ) {
    const eol = payload.indexOf('\r\n', at);
    const size = parseInt(payload.slice(at, eol), 16);
    sizes.push(size);
    if (!(size > 0)) return { sizes, data };
    data += payload.slice(eol + 2, eol + 2 + size);
    at = eol + 2 + size + 2;
  }
}

before(async () => {
  emu = await startEmulator({ devices: [DEV, DEV2], now: () => clock, tokenLifetime: LIFETIME });
});
after(() => emu.close());
beforeEach(() => {
  clock = T0;
  emu.reset();
});

describe('emulator /auth', () => {
  for (const method of ['hmacmd5', 'hmacsha1', 'hmacsha256']) {
    for (const upper of [false, true]) {
      it(`accepts a ${method} sign in ${upper ? 'upper' : 'lower'} case`, async () => {
        const reply = await auth({ method, upper });
        expect(reply).to.include({ code: 0, message: 'success' });
        expect(reply.info.token).to.be.a('string');
        expect(emu.authCount).to.equal(1);
      });
    }
  }

  it('defaults to hmacmd5 when signmethod is absent', async () => {
    expect((await auth({ method: undefined })).code).to.equal(0);
    const sha1SignWithoutMethod = { ...authBody({ method: 'hmacsha1' }) };
    delete sha1SignWithoutMethod.signmethod;
    expect(code(await postJson('/auth', sha1SignWithoutMethod))).to.equal(20000);
  });

  it('signs the document example (timestamp 789, hmacsha1)', async () => {
    const e = await startEmulator({ devices: [{ productKey: 'pk', deviceName: 'device', deviceSecret: 'secret' }], now: () => 789 + 60_000 });
    try {
      const sign = createHmac('sha1', 'secret').update('clientId12345deviceNamedeviceproductKeypktimestamp789').digest('hex');
      const body = { clientId: '12345', deviceName: 'device', productKey: 'pk', timestamp: '789', signmethod: 'hmacsha1', sign };
      expect(code(await postJson('/auth', body, 'application/json', e))).to.equal(0);
    } finally {
      await e.close();
    }
  });

  it('accepts a numeric timestamp, no timestamp, and a charset parameter', async () => {
    expect((await auth({ timestamp: clock })).code).to.equal(0);
    expect((await auth({ timestamp: undefined })).code).to.equal(0);
    expect(code(await postJson('/auth', authBody(), 'application/json; charset=utf-8'))).to.equal(0);
  });

  it('accepts a timestamp within 15 minutes and refuses a stale or future one with 20000', async () => {
    expect((await auth({ timestamp: String(clock - 14 * 60_000) })).code).to.equal(0);
    for (const t of [clock - 16 * 60_000, clock + 16 * 60_000]) {
      const reply = await auth({ timestamp: String(t) });
      expect(reply).to.deep.equal({ code: 20000, message: 'auth check error' });
    }
  });

  it('answers 20000 without a token for a wrong secret or an unknown device', async () => {
    expect(await auth({ secret: 'wrong' })).to.deep.equal({ code: 20000, message: 'auth check error' });
    const stranger = { productKey: 'a1PK', deviceName: 'nobody', deviceSecret: 'x' };
    expect(await auth({ device: stranger })).to.deep.equal({ code: 20000, message: 'auth check error' });
    expect(emu.authCount).to.equal(0);
  });

  it('answers 10001 for a wrong content type, bad JSON, missing or bad fields', async () => {
    const good = authBody();
    const bad = [
      ['/auth', good, 'text/plain'],
      ['/auth', good, 'application/x-www-form-urlencoded'],
      ['/auth', '{"productKey":', 'application/json'],
      ['/auth', '[1,2]', 'application/json'],
      ['/auth', { ...good, signmethod: 'hmacsha512' }, 'application/json'],
      ['/auth', { ...good, clientId: 'x'.repeat(65) }, 'application/json'],
      ['/auth', { ...good, timestamp: 'yesterday' }, 'application/json'],
      ['/auth', { ...good, extra: { nested: 1 } }, 'application/json'],
    ];
    for (const field of ['productKey', 'deviceName', 'clientId', 'sign']) {
      const body = { ...good };
      delete body[field];
      bad.push(['/auth', body, 'application/json']);
    }
    for (const [path, body, type] of bad) {
      const res = await postJson(path, body, type);
      expect(res.status).to.equal(200);
      expect(JSON.parse(res.text), JSON.stringify(body)).to.deep.equal({ code: 10001, message: 'param error' });
    }
  });

  it('answers 10001 without Content-Length (chunked) and for a body over 16 KB', async () => {
    const chunked = await new Promise((resolve, reject) => {
      const req = https.request(emu.url + '/auth', { method: 'POST', headers: { 'Content-Type': 'application/json' }, ca: CA_CERT, agent: false }, (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ headers: req.getHeaders(), text }));
      });
      req.on('error', reject);
      req.write(JSON.stringify(authBody()));
      req.end();
    });
    expect(chunked.headers['content-length']).to.equal(undefined);
    expect(JSON.parse(chunked.text).code).to.equal(10001);
    expect(code(await postJson('/auth', { ...authBody(), pad: 'x'.repeat(20_000) }))).to.equal(10001);
  });

  it('issues a JWT-shaped token with expire = now + lifetime, a new one per auth', async () => {
    const first = await token();
    const [header, payload, signature] = first.split('.');
    expect(first).to.match(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(first.length).to.be.at.most(192);
    expect(JSON.parse(Buffer.from(header, 'base64url'))).to.deep.equal({ type: 'JWT', alg: 'hmacsha1' });
    const body = JSON.parse(Buffer.from(payload, 'base64url'));
    expect(body.expire).to.equal(T0 + LIFETIME);
    expect(body.token).to.match(/^[0-9a-f]{32}$/);
    expect(Buffer.from(signature, 'base64url')).to.have.length(20);
    const second = await token();
    expect(second).to.not.equal(first);
    expect(code(await publish(first))).to.equal(0);
    expect(code(await publish(second))).to.equal(0);
  });

  it('throttles per device with options.throttle', async () => {
    const e = await startEmulator({ devices: [DEV, DEV2], now: () => clock, throttle: { limit: 2, window: 1000 } });
    try {
      expect((await auth({}, e)).code).to.equal(0);
      expect((await auth({}, e)).code).to.equal(0);
      expect(await auth({}, e)).to.deep.equal({ code: 40000, message: 'request too many' });
      expect((await auth({ device: DEV2 }, e)).code).to.equal(0);
      clock += 1000;
      expect((await auth({}, e)).code).to.equal(0);
    } finally {
      await e.close();
    }
  });
});

describe('emulator /topic', () => {
  it('records the exact bytes and answers a messageId above 2^53 as a bare integer', async () => {
    const t = await token();
    const body = Buffer.concat([Buffer.from([0, 0xff, 0xfe, 0x0d, 0x0a]), randomBytes(64)]);
    const res = await publish(t, body);
    expect(res.status).to.equal(200);
    expect(res.headers['content-type']).to.equal('application/json');
    expect(Number(res.headers['content-length'])).to.equal(res.raw.length);
    expect(res.text).to.match(/^\{"code":0,"message":"success","info":\{"messageId":\d+\}\}$/);
    const id = rawId(res.text);
    expect(BigInt(id) > TWO_53).to.equal(true);
    expect(String(JSON.parse(res.text).info.messageId)).to.not.equal(id); // JSON.parse rounds it
    expect(emu.messages).to.have.length(1);
    const m = emu.messages[0];
    expect(m).to.include({ productKey: 'a1PK', deviceName: 'dev1', topic: TOPIC, messageId: id, time: T0 });
    expect(Buffer.compare(m.body, body)).to.equal(0);
    const next = rawId((await publish(t)).text);
    expect(BigInt(next) > BigInt(id)).to.equal(true);
  });

  it('accepts /sys topics and percent-decodes the path', async () => {
    const t = await token();
    expect(code(await publish(t, Buffer.from('{}'), '/sys/a1PK/dev1/thing/event/property/post'))).to.equal(0);
    expect(code(await publish(t, Buffer.from('x'), '/a1PK/dev1/user/caf%C3%A9%20x'))).to.equal(0);
    expect(emu.messages.map((m) => m.topic)).to.deep.equal(['/sys/a1PK/dev1/thing/event/property/post', '/a1PK/dev1/user/café x']);
  });

  it('answers 20001 after expireTokens and once the clock passes expire, with a messageId', async () => {
    const t = await token();
    const t2 = await token({ device: DEV2 });
    emu.expireTokens('a1PK', 'dev1');
    const res = await publish(t);
    expect(res.text).to.match(/^\{"code":20001,"message":"token is expired","info":\{"messageId":\d+\}\}$/);
    expect(BigInt(rawId(res.text)) > TWO_53).to.equal(true);
    expect(code(await publish(t2, Buffer.from('x'), '/a1PK/dev2/user/update'))).to.equal(0);
    const fresh = await token();
    expect(code(await publish(fresh))).to.equal(0);
    clock += LIFETIME;
    expect(code(await publish(fresh))).to.equal(20001);
    expect(emu.messages).to.have.length(2);
  });

  it('answers 20002 without a password header', async () => {
    const res = await publish(undefined);
    expect(JSON.parse(res.text)).to.include({ code: 20002, message: 'token is null' });
  });

  it('answers 20003 for a garbage, tampered or revoked token', async () => {
    const t = await token();
    const [h, p, s] = t.split('.');
    const forged = Buffer.from(JSON.stringify({ expire: T0 + 10 * LIFETIME, token: 'f'.repeat(32) })).toString('base64url');
    for (const bad of ['garbage', 'a.b.c', `${h}.${forged}.${s}`, `${h}.${p}.${s.slice(1)}`]) {
      expect(JSON.parse((await publish(bad)).text)).to.include({ code: 20003, message: 'check token error' });
    }
    expect(code(await publish(t))).to.equal(0);
    emu.revokeTokens('a1PK');
    expect(code(await publish(t))).to.equal(20003);
  });

  it('reads the password header in any case', async () => {
    const t = await token();
    const res = await publish(undefined, Buffer.from('x'), TOPIC, { PassWord: t });
    expect(code(res)).to.equal(0);
  });

  it('answers 10001 for a topic of another device, a wildcard, a query string or a wrong content type', async () => {
    const t = await token();
    for (const topic of ['/a1PK/dev2/user/update', '/other/dev1/user/update', '/a1PK/dev1', '/a1PK/dev1/user/+', '/a1PK/dev1/user/update?x=1', '/a1PK/dev1/%ZZ']) {
      expect(JSON.parse((await publish(t, Buffer.from('x'), topic)).text), topic).to.include({ code: 10001, message: 'param error' });
    }
    expect(code(await publish(t, Buffer.from('x'), TOPIC, { 'Content-Type': 'application/json' }))).to.equal(10001);
    expect(emu.messages).to.have.length(0);
  });

  it('accepts the topic families a device publishes to, and refuses the rest as the service does', async () => {
    const t = await token();
    const own = ['/a1PK/dev1/user/update', '/a1PK/dev1/update', '/a1PK/dev1/user/a/b/c', '/sys/a1PK/dev1/thing/event/property/post', '/sys/a1PK/dev1/thing/model/up_raw',
      '/ota/device/inform/a1PK/dev1', '/ota/device/progress/a1PK/dev1', '/ota/device/request/a1PK/dev1', '/shadow/update/a1PK/dev1', '/ext/ntp/a1PK/dev1/request'];
    const foreign = ['/anything/a1PK/dev1/x', '/x/sys/a1PK/dev1/thing', '/sys/a1PK/dev2/thing/event/property/post', '/sys/a1PK/dev1', '/ota/device/inform/a1PK/dev2', '/ota/device/inform/a1PK/dev1/x',
      '/ota/device/upgrade/a1PK/dev1', '/shadow/get/a1PK/dev1', '/shadow/update/a1PK', '/ext/ntp/a1PK/dev1/response', '/broadcast/a1PK/x'];
    for (const topic of own) expect(code(await publish(t, Buffer.from('x'), topic)), topic).to.equal(0);
    for (const topic of foreign) expect(code(await publish(t, Buffer.from('x'), topic)), topic).to.equal(10001);
    // dot levels, sent as they are (a URL string would have them resolved on the way)
    for (const topic of ['/a1PK/dev1/user/../../dev2/user/x', '/a1PK/dev1/./x', '/a1PK/dev1/user/..']) {
      const res = await new Promise((resolve, reject) => {
        const req = https.request({ host: emu.host, port: emu.port, servername: 'localhost', path: '/topic' + topic, method: 'POST', ca: CA_CERT, agent: false, headers: { password: t, 'Content-Type': 'application/octet-stream', 'Content-Length': 1 } }, (r) => {
          let text = '';
          r.on('data', (d) => (text += d));
          r.on('end', () => resolve({ text }));
        });
        req.on('error', reject);
        req.end('x');
      });
      expect(code(res), topic).to.equal(10001);
    }
    expect(emu.messages.map((m) => m.topic)).to.deep.equal(own);
  });

  it('accepts 131072 bytes and refuses 131073', async () => {
    const t = await token();
    expect(code(await publish(t, randomBytes(131072)))).to.equal(0);
    expect(code(await publish(t, randomBytes(131073)))).to.equal(10001);
    expect(emu.messages).to.have.length(1);
    expect(emu.messages[0].body).to.have.length(131072);
  });

  it('survives a flood far over the limit', async () => {
    const t = await token();
    await publish(t, Buffer.alloc(4 << 20)).catch(() => undefined);
    expect(code(await publish(t))).to.equal(0);
  });

  it('throttleNext answers 40000 to the next n matching requests', async () => {
    const t = await token();
    emu.throttleNext(2, 'topic');
    expect((await auth()).code).to.equal(0);
    for (let i = 0; i < 2; i++) {
      const res = await publish(t);
      expect(JSON.parse(res.text)).to.include({ code: 40000, message: 'request too many' });
      expect(rawId(res.text)).to.be.a('string');
    }
    expect(code(await publish(t))).to.equal(0);
    emu.throttleNext(1);
    expect(await auth()).to.deep.equal({ code: 40000, message: 'request too many' });
  });

  it('serves several requests over one keep-alive connection', async () => {
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca: CA_CERT });
    const post = (path, headers, body) =>
      new Promise((resolve, reject) => {
        const req = https.request(emu.url + path, { method: 'POST', headers: { ...headers, 'Content-Length': Buffer.byteLength(body) }, agent }, (res) => {
          let text = '';
          res.on('data', (c) => (text += c));
          res.on('end', () => resolve({ reused: req.reusedSocket, reply: JSON.parse(text) }));
        });
        req.on('error', reject);
        req.end(body);
      });
    try {
      const first = await post('/auth', { 'Content-Type': 'application/json' }, JSON.stringify(authBody()));
      const headers = { password: first.reply.info.token, 'Content-Type': 'application/octet-stream' };
      const results = [first, await post('/topic' + TOPIC, headers, 'a'), await post('/topic' + TOPIC, headers, 'b')];
      expect(results.map((r) => [r.reused, r.reply.code])).to.deep.equal([[false, 0], [true, 0], [true, 0]]);
    } finally {
      agent.destroy();
    }
  });

  it('answers 404 with JSON for unknown paths and methods', async () => {
    for (const [method, path] of [['GET', '/auth'], ['POST', '/nothing'], ['PUT', '/topic/a1PK/dev1/x']]) {
      const res = await request(emu, path, { method, headers: { 'Content-Length': 0 } });
      expect(res.status).to.equal(404);
      expect(res.headers['content-type']).to.equal('application/json');
      expect(JSON.parse(res.text)).to.be.an('object');
    }
  });

  it('records requests in order with the code answered; reset() keeps tokens', async () => {
    const t = await token();
    await publish(t);
    await publish(undefined);
    expect(emu.requests.map((r) => [r.method, r.path, r.code])).to.deep.equal([
      ['POST', '/auth', 0],
      ['POST', '/topic' + TOPIC, 0],
      ['POST', '/topic' + TOPIC, 20002],
    ]);
    expect(emu.requests[1].headers.password).to.equal(t);
    expect(emu.requests[1].body.toString()).to.equal('{"t":21.5}');
    emu.reset();
    expect([emu.requests.length, emu.messages.length, emu.authCount]).to.deep.equal([0, 0, 0]);
    expect(code(await publish(t))).to.equal(0);
  });
});

describe('emulator faults', () => {
  let t;
  beforeEach(async () => {
    t = await token();
  });

  it('delay answers normally after the delay', async () => {
    emu.fault({ type: 'delay', ms: 150 });
    const started = Date.now();
    expect(code(await publish(t))).to.equal(0);
    expect(Date.now() - started).to.be.at.least(140);
  });

  it('drop never answers', async () => {
    emu.fault({ type: 'drop' }, 'topic');
    const headers = { password: t, 'Content-Type': 'application/octet-stream', 'Content-Length': 1 };
    const err = await request(emu, '/topic' + TOPIC, { headers, body: 'x', timeout: 200 }).then(() => null, (e) => e);
    expect(err && err.code).to.equal('TIMEOUT');
  });

  it('reset destroys the socket before any reply byte', async () => {
    emu.fault({ type: 'reset' });
    const err = await publish(t).then(() => null, (e) => e);
    expect(err).to.be.an('error');
    expect(err.code).to.equal('ECONNRESET');
    expect(err.status).to.equal(undefined);
  });

  it('resetMidway sends headers and part of the body, then destroys the socket', async () => {
    emu.fault({ type: 'resetMidway' });
    const err = await publish(t).then(() => null, (e) => e);
    expect(err).to.be.an('error');
    expect(err.status).to.equal(200);
    expect(err.partial.toString()).to.match(/^\{"code":0/);
    expect(emu.messages).to.have.length(1);
  });

  it('status answers that HTTP status with an HTML body', async () => {
    emu.fault({ type: 'status', status: 502 });
    const res = await publish(t);
    expect(res.status).to.equal(502);
    expect(res.headers['content-type']).to.equal('text/html');
    expect(res.text).to.match(/^<html>/);
    expect(emu.messages).to.have.length(0);
  });

  it('truncate cuts the JSON body in half with a matching Content-Length', async () => {
    emu.fault({ type: 'truncate' });
    const res = await publish(t);
    expect(res.status).to.equal(200);
    expect(Number(res.headers['content-length'])).to.equal(res.raw.length);
    expect(res.text).to.match(/^\{"code":0,/);
    expect(() => JSON.parse(res.text)).to.throw();
  });

  it('garbage answers 200 with non-JSON bytes', async () => {
    emu.fault({ type: 'garbage' });
    const res = await publish(t);
    expect(res.status).to.equal(200);
    expect(res.raw.length).to.be.above(0);
    expect(() => JSON.parse(res.text)).to.throw();
  });

  it('chunked sends the normal reply with Transfer-Encoding: chunked in several chunks', async () => {
    emu.fault({ type: 'chunked' }, 'topic');
    const body = 'hello';
    const head = [`POST /topic${TOPIC} HTTP/1.1`, 'Host: localhost', `password: ${t}`, 'Content-Type: application/octet-stream', `Content-Length: ${body.length}`, 'Connection: close'];
    const raw = await rawExchange(emu, head.join('\r\n'), body);
    const headers = raw.slice(0, raw.indexOf('\r\n\r\n'));
    expect(headers).to.match(/^HTTP\/1\.1 200/);
    expect(headers).to.match(/\r\ntransfer-encoding: chunked/i);
    expect(headers).to.not.match(/content-length/i);
    const { sizes, data } = dechunk(raw.slice(headers.length + 4));
    expect(sizes.length).to.be.at.least(3);
    expect(sizes[sizes.length - 1]).to.equal(0);
    expect(JSON.parse(data).code).to.equal(0);
    expect(emu.messages).to.have.length(1);
  });

  it('noMessageId answers a publish without info.messageId', async () => {
    emu.fault({ type: 'noMessageId' });
    const res = await publish(t);
    expect(JSON.parse(res.text)).to.deep.equal({ code: 0, message: 'success', info: {} });
    expect(emu.messages).to.have.length(1);
  });

  it('code answers that business code instead, with the messageId on /topic', async () => {
    emu.fault({ type: 'code', code: 30001 });
    const res = await publish(t);
    expect(JSON.parse(res.text)).to.include({ code: 30001, message: 'publish message error' });
    expect(rawId(res.text)).to.be.a('string');
    expect(emu.messages).to.have.length(0);
    emu.fault({ type: 'code', code: 10000, message: 'boom' }, 'auth');
    expect(await auth()).to.deep.equal({ code: 10000, message: 'boom' });
  });

  it('queues faults in order and only for matching requests', async () => {
    emu.fault({ type: 'code', code: 20001 }, 'topic');
    emu.fault({ type: 'code', code: 30001 }, 'any');
    expect((await auth()).code).to.equal(30001);
    expect(code(await publish(t))).to.equal(20001);
    expect(code(await publish(t))).to.equal(0);
  });
});

describe('emulator TLS and lifecycle', () => {
  it('offers TLS 1.2 with plain RSA key exchange', async () => {
    const cipher = await new Promise((resolve, reject) => {
      const s = tls.connect({ host: emu.host, port: emu.port, ciphers: 'AES128-SHA', maxVersion: 'TLSv1.2', ca: CA_CERT }, () => {
        resolve({ name: s.getCipher().name, protocol: s.getProtocol() });
        s.destroy();
      });
      s.on('error', reject);
    });
    expect(cipher).to.deep.equal({ name: 'AES128-SHA', protocol: 'TLSv1.2' });
  });

  it('is trusted for localhost with the CA and refused without it', async () => {
    const viaName = await new Promise((resolve, reject) => {
      const s = tls.connect({ host: '127.0.0.1', port: emu.port, ca: CA_CERT, servername: 'localhost' }, () => {
        resolve(s.authorized);
        s.destroy();
      });
      s.on('error', reject);
    });
    expect(viaName).to.equal(true);
    const err = await request(emu, '/auth', { trust: false, headers: { 'Content-Length': 0 } }).then(() => null, (e) => e);
    expect(err && err.code).to.match(/UNABLE_TO_VERIFY|SELF_SIGNED|CERT/);
  });

  it('close() ends dropped sockets', async () => {
    const e = await startEmulator({ devices: [DEV], now: () => clock });
    const t = await token({}, e);
    e.fault({ type: 'drop' });
    let settled = false;
    const pending = publish(t, undefined, TOPIC, {}, e).then(
      () => 'answered',
      (err) => err.code,
    ).finally(() => (settled = true));
    await new Promise((r) => setTimeout(r, 150));
    expect(settled).to.equal(false);
    const started = Date.now();
    await e.close();
    expect(await pending).to.equal('ECONNRESET');
    expect(Date.now() - started).to.be.below(500);
  });

  it('loads devices from a file and explains a bad one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'emu-'));
    const file = (name, text) => (writeFileSync(join(dir, name), text), join(dir, name));
    const good = file('good.json', JSON.stringify([DEV2]));
    expect(loadDevices(good)).to.deep.equal([DEV2]);
    const e = await startEmulator({ devicesFile: good, now: () => clock });
    try {
      expect((await auth({ device: DEV2 }, e)).code).to.equal(0);
    } finally {
      await e.close();
    }
    expect(() => loadDevices(join(dir, 'missing.json'))).to.throw(/cannot read devices file/);
    expect(() => loadDevices(file('bad.json', '{nope'))).to.throw(/not valid JSON/);
    expect(() => loadDevices(file('obj.json', '{}'))).to.throw(/JSON array/);
    expect(() => loadDevices(file('entry.json', '[{"productKey":"p","deviceName":"d"}]'))).to.throw(/entry 0/);
    await startEmulator({ devicesFile: join(dir, 'missing.json') }).then(
      () => expect.fail('should reject'),
      (err) => expect(err.message).to.match(/cannot read devices file/),
    );
  });
});

describe('emulator: what embedded TLS stacks and long runs need', () => {
  it('names localhost in its URL, and serves it on 127.0.0.1 (and ::1 where the system has it)', async () => {
    const e = await startEmulator({ devices: [DEV] });
    try {
      expect(e.url).to.equal(`https://localhost:${e.port}`);
      expect(e.host).to.equal('127.0.0.1');
      for (const host of ['127.0.0.1', '::1']) {
        const ok = await new Promise((resolve) => {
          const s = tls.connect({ host, port: e.port, ca: CA_CERT, servername: 'localhost' }, () => (s.end(), resolve(true)));
          s.on('error', (err) => resolve(err.code));
        });
        if (host === '::1' && ok === 'EADDRNOTAVAIL') continue; // no IPv6 loopback on this machine
        expect(ok, host).to.equal(true);
      }
    } finally {
      await e.close();
    }
    const other = await startEmulator({ devices: [DEV], host: '127.0.0.2' });
    expect(other.url).to.equal(`https://127.0.0.2:${other.port}`);
    await other.close();
  });

  it('keeps what the official C SDK needs: a token under its 192-byte buffer, an /auth reply under 256 bytes, exact-case Content-Length', async () => {
    const e = await startEmulator({ devices: [DEV], now: () => clock });
    try {
      const raw = await rawExchange(e, ['POST /auth HTTP/1.1', 'Host: localhost', 'Content-Type: application/json', `Content-Length: ${Buffer.byteLength(JSON.stringify(authBody({ timestamp: undefined })))}`, 'Connection: close'].join('\r\n'), JSON.stringify(authBody({ timestamp: undefined })));
      const [head, body] = raw.split('\r\n\r\n');
      expect(head).to.match(/\r\nContent-Length: \d+/);
      expect(Buffer.byteLength(body)).to.be.below(256);
      const reply = JSON.parse(body);
      expect(reply.code).to.equal(0);
      expect(reply.info.token.length).to.be.below(192);
    } finally {
      await e.close();
    }
  });

  it('keep bounds the messages and requests it holds; tokens are bounded per device', async () => {
    const e = await startEmulator({ devices: [DEV], keep: 3, now: () => clock, tokenLifetime: LIFETIME });
    try {
      const tokens = [];
      for (let i = 0; i < 20; i++) tokens.push(await token({ timestamp: undefined }, e));
      expect(e.requests).to.have.length(3);
      for (let i = 0; i < 5; i++) expect(code(await publish(tokens[19], Buffer.from('m' + i), TOPIC, {}, e))).to.equal(0);
      expect(e.messages.map((m) => m.body.toString())).to.deep.equal(['m2', 'm3', 'm4']);
      expect(e.requests).to.have.length(3);
      // the newest 16 tokens of a device stay valid; older ones answer as revoked
      expect(code(await publish(tokens[4], Buffer.from('x'), TOPIC, {}, e))).to.equal(0);
      expect(code(await publish(tokens[3], Buffer.from('x'), TOPIC, {}, e))).to.equal(20003);
    } finally {
      await e.close();
    }
  });
});
