// The emulator's dynamic registration, tested from the outside with raw https clients and Node's
// crypto only.
import { expect } from 'chai';
import { createRequire } from 'node:module';
import { createHmac } from 'node:crypto';
import https from 'node:https';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const { startEmulator, loadDevices, loadDeviceFile, CA_CERT } = createRequire(import.meta.url)('../build/node/emulator.cjs');

const T0 = 1_700_000_000_000;
const ALGORITHMS = { hmacmd5: 'md5', hmacsha1: 'sha1', hmacsha256: 'sha256' };
const PRODUCT = { productKey: 'a1Dyn', productSecret: 'pS3cr3t', deviceNames: ['d1', 'd2', 'd3', 'd4', 'd5', 'd6'] };
const DEV = { productKey: 'a1PK', deviceName: 'dev1', deviceSecret: 'S3cr3t-dev1' };
const FORM = 'application/x-www-form-urlencoded';

let clock = T0;
let emu;

function request(e, path, { headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = https.request(e.url + path, { method: 'POST', headers, ca: CA_CERT, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function post(path, body, type, e = emu) {
  return request(e, path, { headers: { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) }, body });
}

/** The registration fields with their sign, computed independently of the emulator. */
function regFields({ productKey = PRODUCT.productKey, deviceName = 'd1', random = '8Yp3xQ', secret = PRODUCT.productSecret, method = 'hmacsha256', upper = false } = {}) {
  const sign = createHmac(ALGORITHMS[method] || 'sha256', secret).update(`deviceName${deviceName}productKey${productKey}random${random}`).digest('hex');
  return { productKey, deviceName, random, sign: upper ? sign.toUpperCase() : sign, signMethod: method };
}

async function register(options, e = emu) {
  const res = await post('/auth/register/device', new URLSearchParams(regFields(options)).toString(), FORM, e);
  expect(res.status).to.equal(200);
  expect(res.headers['content-type']).to.equal('application/json');
  return JSON.parse(res.text);
}

/** /auth as a device does it (hmacsha256, no timestamp). */
async function auth(device, e = emu) {
  const params = { productKey: device.productKey, deviceName: device.deviceName, clientId: 'c-1' };
  const text = Object.keys(params).sort().map((k) => k + params[k]).join('');
  const sign = createHmac('sha256', device.deviceSecret).update(text).digest('hex');
  const res = await post('/auth', JSON.stringify({ ...params, signmethod: 'hmacsha256', sign }), 'application/json', e);
  return JSON.parse(res.text);
}

function publish(token, topic, body, e = emu) {
  const data = Buffer.from(body);
  return request(e, '/topic' + topic, { headers: { password: token, 'Content-Type': 'application/octet-stream', 'Content-Length': data.length }, body: data });
}

const code = (res) => JSON.parse(res.text).code;

before(async () => {
  emu = await startEmulator({ devices: [DEV], products: [PRODUCT], now: () => clock });
});
after(() => emu.close());
beforeEach(() => {
  clock = T0;
  emu.reset();
});

describe('emulator /auth/register/device', () => {
  for (const [i, method] of ['hmacmd5', 'hmacsha1', 'hmacsha256'].entries()) {
    it(`registers with a ${method} sign and answers the service's success shape`, async () => {
      const deviceName = PRODUCT.deviceNames[i];
      const res = await post('/auth/register/device', new URLSearchParams(regFields({ deviceName, method, upper: i === 1 })).toString(), FORM);
      expect(res.text).to.match(/^\{"code":200,"data":\{"productKey":"a1Dyn","deviceName":"d\d","deviceSecret":"[0-9a-f]{32}"\},"message":"success"\}$/);
      const reply = JSON.parse(res.text);
      expect(reply.data).to.include({ productKey: 'a1Dyn', deviceName });
      expect(emu.registrations).to.have.length(1);
      expect(emu.registrations[0]).to.deep.equal({ productKey: 'a1Dyn', deviceName, signMethod: method, code: 200, deviceSecret: reply.data.deviceSecret, time: T0 });
      expect(emu.requests.map((r) => [r.path, r.code])).to.deep.equal([['/auth/register/device', 200]]);
    });
  }

  it('answers the same secret until the device authenticates, then 6289', async () => {
    const first = await register({ deviceName: 'd4' });
    const again = await register({ deviceName: 'd4', random: 'other', method: 'hmacmd5' });
    expect(again).to.deep.equal(first);
    const device = { productKey: 'a1Dyn', deviceName: 'd4', deviceSecret: first.data.deviceSecret };
    const authed = await auth(device);
    expect(authed.code).to.equal(0);
    const token = authed.info.token;
    expect(await register({ deviceName: 'd4' })).to.deep.equal({ code: 6289, message: 'device is already active' });
    expect(code(await publish(token, '/a1Dyn/d4/user/up', 'x'))).to.equal(0);
    expect(emu.registrations.map((r) => [r.code, r.deviceSecret])).to.deep.equal([
      [200, first.data.deviceSecret],
      [200, first.data.deviceSecret],
      [6289, undefined],
    ]);
    emu.reset(); // activation and the secret stay
    expect((await register({ deviceName: 'd4' })).code).to.equal(6289);
    expect((await auth(device)).code).to.equal(0);
  });

  it('activates a device added with a secret at its first /auth; before that it registers to its own secret', async () => {
    const e = await startEmulator({ now: () => clock, products: [{ productKey: 'a1PK', productSecret: 'ps', deviceNames: [] }], devices: [DEV] });
    try {
      const reply = await register({ productKey: 'a1PK', deviceName: 'dev1', secret: 'ps' }, e);
      expect(reply.data).to.deep.equal({ productKey: 'a1PK', deviceName: 'dev1', deviceSecret: DEV.deviceSecret });
      expect((await auth(DEV, e)).code).to.equal(0);
      expect((await register({ productKey: 'a1PK', deviceName: 'dev1', secret: 'ps' }, e)).code).to.equal(6289);
    } finally {
      await e.close();
    }
  });

  it('answers 6250 for an unknown product, 20000 for a bad sign, 6100 for a device not pre-created', async () => {
    expect(await register({ productKey: 'a1PK', deviceName: 'dev1' })).to.deep.equal({ code: 6250, message: 'product not found' });
    expect(await register({ secret: 'wrong' })).to.deep.equal({ code: 20000, message: 'auth check error' });
    expect((await register({ random: 'r1', method: 'hmacsha1' })).code).to.equal(200);
    const replayed = new URLSearchParams({ ...regFields({ random: 'r1', method: 'hmacsha1' }), random: 'r2' }).toString();
    expect(code(await post('/auth/register/device', replayed, FORM))).to.equal(20000);
    expect(await register({ deviceName: 'stranger' })).to.deep.equal({ code: 6100, message: 'device not found' });
    expect(emu.registrations.map((r) => [r.productKey, r.deviceName, r.code])).to.deep.equal([
      ['a1PK', 'dev1', 6250],
      ['a1Dyn', 'd1', 20000],
      ['a1Dyn', 'd1', 200],
      ['a1Dyn', 'd1', 20000],
      ['a1Dyn', 'stranger', 6100],
    ]);
    // a device that failed to register did not become known
    expect((await auth({ productKey: 'a1Dyn', deviceName: 'stranger', deviceSecret: 'x' })).code).to.equal(20000);
  });

  it('answers 460 for a wrong content type, no Content-Length, a missing, empty, or repeated parameter, or a body over 16 KB', async () => {
    const good = regFields();
    const form = (o) => new URLSearchParams(o).toString();
    const bad = [
      [form(good), 'application/json'],
      [JSON.stringify(good), 'application/json'],
      [form(good), 'text/plain'],
      [form({ ...good, signMethod: 'hmacsha512' }), FORM],
      [form({ ...good, signMethod: 'HmacSHA256' }), FORM],
      [form(good) + '&deviceName=d2', FORM],
      [form({ ...good, pad: 'x'.repeat(20_000) }), FORM],
    ];
    for (const k of Object.keys(good)) {
      const missing = { ...good };
      delete missing[k];
      bad.push([form(missing), FORM], [form({ ...good, [k]: '' }), FORM]);
    }
    for (const [body, type] of bad) {
      const res = await post('/auth/register/device', body, type);
      expect(JSON.parse(res.text), body.slice(0, 80)).to.deep.equal({ code: 460, message: 'request parameter error' });
    }
    const chunked = await new Promise((resolve, reject) => {
      const req = https.request(emu.url + '/auth/register/device', { method: 'POST', headers: { 'Content-Type': FORM }, ca: CA_CERT, agent: false }, (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve(JSON.parse(text)));
      });
      req.on('error', reject);
      req.write(form(good));
      req.end();
    });
    expect(chunked.code).to.equal(460);
    expect(emu.registrations.every((r) => r.code === 460 && r.deviceSecret === undefined)).to.equal(true);
    expect(emu.registrations).to.have.length(bad.length + 1);
  });

  it('accepts a charset parameter and percent-encoded fields', async () => {
    const e = await startEmulator({ now: () => clock, products: [{ productKey: 'a1 P&K', productSecret: 'ps', deviceNames: ['dév=1'] }] });
    try {
      const body = new URLSearchParams(regFields({ productKey: 'a1 P&K', deviceName: 'dév=1', secret: 'ps', random: 'a+b c' })).toString();
      const reply = JSON.parse((await post('/auth/register/device', body, FORM + '; charset=utf-8', e)).text);
      expect(reply.code).to.equal(200);
      expect(reply.data).to.include({ productKey: 'a1 P&K', deviceName: 'dév=1' });
    } finally {
      await e.close();
    }
  });

  it('addProduct enables registration at run time', async () => {
    expect((await register({ productKey: 'a1New', secret: 'n' })).code).to.equal(6250);
    emu.addProduct({ productKey: 'a1New', productSecret: 'n', deviceNames: ['d1'] });
    expect((await register({ productKey: 'a1New', secret: 'n' })).code).to.equal(200);
    expect(() => emu.addProduct({ productKey: 'p', productSecret: 's' })).to.throw(TypeError);
  });

  it('a register fault answers its code without a messageId and registers nothing', async () => {
    emu.fault({ type: 'code', code: 10000, message: 'boom' }, 'register');
    emu.fault({ type: 'code', code: 6289 }, 'register');
    expect((await auth(DEV)).code).to.equal(0); // /auth is not matched
    let res = await post('/auth/register/device', new URLSearchParams(regFields({ deviceName: 'd5' })).toString(), FORM);
    expect(res.text).to.equal('{"code":10000,"message":"boom"}');
    res = await post('/auth/register/device', new URLSearchParams(regFields({ deviceName: 'd5' })).toString(), FORM);
    expect(res.text).to.equal('{"code":6289,"message":"device is already active"}');
    expect(emu.registrations).to.have.length(0);
    expect(emu.requests.map((r) => r.code)).to.deep.equal([0, 10000, 6289]);
    emu.throttleNext(1, 'register');
    expect(await register({ deviceName: 'd5' })).to.deep.equal({ code: 40000, message: 'request too many' });
    emu.fault({ type: 'truncate' }, 'register');
    res = await post('/auth/register/device', new URLSearchParams(regFields({ deviceName: 'd5' })).toString(), FORM);
    expect(res.text).to.match(/^\{"code":200,/);
    expect(() => JSON.parse(res.text)).to.throw();
    expect(emu.registrations.map((r) => r.code)).to.deep.equal([200]);
  });

  it('throttles registration per device with options.throttle', async () => {
    const e = await startEmulator({ now: () => clock, products: [PRODUCT], throttle: { limit: 2, window: 1000 } });
    try {
      expect((await register({}, e)).code).to.equal(200);
      expect((await register({}, e)).code).to.equal(200);
      expect(await register({}, e)).to.deep.equal({ code: 40000, message: 'request too many' });
      expect((await register({ deviceName: 'd2' }, e)).code).to.equal(200);
      clock += 1000;
      expect((await register({}, e)).code).to.equal(200);
      expect(e.registrations.map((r) => r.code)).to.deep.equal([200, 200, 40000, 200, 200]);
    } finally {
      await e.close();
    }
  });

  it('keep bounds the registrations', async () => {
    const e = await startEmulator({ now: () => clock, products: [PRODUCT], keep: 2 });
    try {
      for (const deviceName of ['d1', 'd2', 'd3']) expect((await register({ deviceName }, e)).code).to.equal(200);
      expect(e.registrations.map((r) => r.deviceName)).to.deep.equal(['d2', 'd3']);
    } finally {
      await e.close();
    }
  });
});

describe('emulator devices file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'emu-prov-'));
  const file = (name, value) => (writeFileSync(join(dir, name), typeof value === 'string' ? value : JSON.stringify(value)), join(dir, name));

  it('reads the object form with devices and products, either one alone, and the array form', async () => {
    const both = file('both.json', { devices: [DEV], products: [PRODUCT] });
    expect(loadDeviceFile(both)).to.deep.equal({ devices: [DEV], products: [PRODUCT] });
    expect(loadDevices(both)).to.deep.equal([DEV]);
    expect(loadDeviceFile(file('p.json', { products: [PRODUCT] }))).to.deep.equal({ devices: [], products: [PRODUCT] });
    expect(loadDeviceFile(file('d.json', { devices: [DEV] }))).to.deep.equal({ devices: [DEV], products: [] });
    expect(loadDeviceFile(file('a.json', [DEV]))).to.deep.equal({ devices: [DEV], products: [] });
    expect(loadDevices(file('a2.json', [DEV]))).to.deep.equal([DEV]);
    const e = await startEmulator({ devicesFile: both, now: () => clock });
    try {
      expect((await auth(DEV, e)).code).to.equal(0);
      expect((await register({}, e)).code).to.equal(200);
    } finally {
      await e.close();
    }
  });

  it('explains a bad file', async () => {
    const bad = [
      [{}, /JSON array of devices, or an object with "devices" and\/or "products"/],
      ['"devices"', /JSON array/],
      [DEV, /JSON array/],
      [{ devices: [DEV], product: [] }, /unknown key "product"/],
      [{ devices: {} }, /"devices" must be an array/],
      [{ products: PRODUCT }, /"products" must be an array/],
      [{ devices: [{ productKey: 'p', deviceName: 'd' }] }, /entry 0 needs string productKey, deviceName and deviceSecret/],
      [{ products: [PRODUCT, { productKey: 'p', productSecret: 's' }] }, /product 1 needs .*deviceNames/],
      [{ products: [{ productKey: 'p', productSecret: '', deviceNames: [] }] }, /product 0 needs/],
      [{ products: [{ productKey: 'p', productSecret: 's', deviceNames: ['a', 3] }] }, /product 0 needs/],
      ['{nope', /not valid JSON/],
    ];
    for (const [i, [content, message]] of bad.entries()) {
      const f = file(`bad${i}.json`, content);
      expect(() => loadDeviceFile(f), JSON.stringify(content)).to.throw(message);
      expect(() => loadDevices(f)).to.throw(message);
    }
    await startEmulator({ devicesFile: file('late.json', { products: [{ productKey: 'p' }] }) }).then(
      () => expect.fail('should reject'),
      (err) => expect(err.message).to.match(/product 0 needs/),
    );
  });
});
