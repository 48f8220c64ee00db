// The emulator's dynamic registration and thing-model records, tested from the outside with raw
// https clients and Node's crypto only.
import { expect } from 'chai';
import { createRequire } from 'node:module';
import { createHmac } from 'node:crypto';
import https from 'node:https';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const { startEmulator, loadDevices, loadDeviceFile, CA_CERT } = createRequire(import.meta.url)('../build/node/emulator.cjs');

const T0 = 1_700_000_000_000;
const DAY = 24 * 3600 * 1000;
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
const rawId = (text) => (/"messageId":(\d+)[,}]/.exec(text) || [])[1];

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

describe('emulator thing model (Alink JSON)', () => {
  const PROP = '/sys/a1PK/dev1/thing/event/property/post';
  const EVENT = '/sys/a1PK/dev1/thing/event/Alarm/post';
  const OTA = '/ota/device/inform/a1PK/dev1';
  const property = (id, params, extra = {}) => JSON.stringify({ id, version: '1.0', sys: { ack: 0 }, params, method: 'thing.event.property.post', ...extra });
  let token;
  beforeEach(async () => {
    token = (await auth(DEV)).info.token;
  });

  /** Publish; the HTTP answer is a plain success whatever the Alink content. */
  async function accepted(topic, body) {
    const res = await publish(token, topic, body);
    expect(res.text).to.match(/^\{"code":0,"message":"success","info":\{"messageId":\d+\}\}$/);
    return rawId(res.text);
  }

  it('records a property post, plain and {value, time}, and keeps the latest values', async () => {
    const id1 = await accepted(PROP, property('1', { Power: { value: 'on', time: T0 - 5000 }, WF: 23.6 }));
    clock += 1000;
    await accepted(PROP, property('2', { WF: 24.1, Mode: { value: 2 } }));
    await accepted(PROP, property('3', { Power: { value: 'off', time: T0 - 9000 } })); // older than the one held
    expect(emu.alink).to.have.length(3);
    expect(emu.alink[0]).to.deep.equal({
      productKey: 'a1PK', deviceName: 'dev1', kind: 'property', id: '1', method: 'thing.event.property.post',
      params: { Power: { value: 'on', time: T0 - 5000 }, WF: 23.6 }, messageId: id1, time: T0,
    });
    expect(emu.alink[0].messageId).to.equal(emu.messages[0].messageId);
    expect(emu.properties('a1PK', 'dev1')).to.deep.equal({
      Power: { value: 'on', time: T0 - 5000 },
      WF: { value: 24.1, time: T0 + 1000 },
      Mode: { value: 2, time: T0 + 1000 },
    });
    expect(emu.properties('a1PK', 'dev2')).to.deep.equal({});
    // the raw bytes stay in messages (10.0 and 10 parse alike)
    await accepted(PROP, '{"id":"4","version":"1.0","params":{"Temp":10.0},"method":"thing.event.property.post"}');
    expect(emu.properties('a1PK', 'dev1').Temp.value).to.equal(10);
    expect(emu.messages[3].body.toString()).to.contain('"Temp":10.0');
  });

  it('records an event post; events() lists the accepted ones', async () => {
    const mid = await accepted(EVENT, JSON.stringify({ id: '10', version: '1.0', params: { value: { level: 3 }, time: T0 - 1 }, method: 'thing.event.Alarm.post' }));
    await accepted('/sys/a1PK/dev1/thing/event/Door/post', JSON.stringify({ id: '11', params: { value: { open: true } }, method: 'thing.event.Door.post' }));
    await accepted(EVENT, JSON.stringify({ id: '12', params: { value: { level: 1 } }, method: 'thing.event.Door.post' })); // wrong method
    expect(emu.events('a1PK', 'dev1').map((r) => r.id)).to.deep.equal(['10', '11']);
    expect(emu.events('a1PK', 'dev1', 'Alarm')).to.deep.equal([
      { productKey: 'a1PK', deviceName: 'dev1', kind: 'event', identifier: 'Alarm', id: '10', method: 'thing.event.Alarm.post', params: { value: { level: 3 }, time: T0 - 1 }, messageId: mid, time: T0 },
    ]);
    expect(emu.events('a1PK', 'dev2')).to.deep.equal([]);
  });

  it('records an OTA version report; firmware() gives the latest per module', async () => {
    expect(emu.firmware('a1PK', 'dev1')).to.equal(undefined);
    await accepted(OTA, JSON.stringify({ id: '20', params: { version: '1.0.0' } }));
    await accepted(OTA, JSON.stringify({ id: '21', params: { version: '2.1', module: 'mcu' } }));
    await accepted(OTA, JSON.stringify({ id: '22', params: { version: '1.0.1' } }));
    await accepted(OTA, JSON.stringify({ id: '23', params: { version: '' } }));
    expect(emu.alink.map((r) => [r.kind, r.id, r.error && r.error.code])).to.deep.equal([
      ['version', '20', undefined], ['version', '21', undefined], ['version', '22', undefined], ['version', '23', 460],
    ]);
    expect(emu.firmware('a1PK', 'dev1')).to.deep.equal({ version: '1.0.1' });
    expect(emu.firmware('a1PK', 'dev1', 'mcu')).to.deep.equal({ version: '2.1', module: 'mcu' });
    await accepted(OTA, JSON.stringify({ id: '24', params: { version: '1.1', module: 'default' } }));
    expect(emu.firmware('a1PK', 'dev1')).to.deep.equal({ version: '1.1', module: 'default' });
  });

  it('records each rejected message with its error while the publish itself succeeds', async () => {
    clock = T0;
    const cases = [
      [PROP, property('30', { A: 1 }, { method: 'thing.event.property.set' }), 6300],
      [PROP, property('31', { A: 1 }, { method: undefined }), 6300],
      [EVENT, JSON.stringify({ id: '32', params: { value: {} }, method: 'thing.event.property.post' }), 6300],
      [PROP, property(33, { A: 1 }), 460],
      [PROP, property('', { A: 1 }), 460],
      [PROP, property('12345678901', { A: 1 }), 460],
      [PROP, property('4294967296', { A: 1 }), 460],
      [PROP, property('1e3', { A: 1 }), 460],
      [PROP, property('34', { A: 1 }, { version: '2.0' }), 460],
      [PROP, property('35', [1]), 460],
      [PROP, property('36', {}), 460],
      [PROP, property('37', { A: { value: 1, time: T0 + DAY + 1 } }), 460],
      [PROP, property('38', { A: { value: 1, time: 'now' } }), 460],
      [EVENT, JSON.stringify({ id: '39', params: { value: {}, time: T0 + DAY + 1 }, method: 'thing.event.Alarm.post' }), 460],
      [EVENT, JSON.stringify({ id: '40', params: { value: 5 }, method: 'thing.event.Alarm.post' }), 460],
      [OTA, JSON.stringify({ id: '41', params: { version: '1', module: '' } }), 460],
      [PROP, '{"id":"42",', 6207],
      [PROP, Buffer.from([0x7b, 0xff, 0x7d]), 6207],
      [PROP, '[1,2]', 6207],
    ];
    for (const [topic, body] of cases) await accepted(topic, body);
    expect(emu.messages).to.have.length(cases.length);
    expect(emu.alink.map((r) => r.error && r.error.code)).to.deep.equal(cases.map((c) => c[2]));
    for (const r of emu.alink) expect(r.error.message).to.be.a('string').and.not.equal('');
    expect(emu.alink[3].id).to.equal('33'); // a number, recorded as text
    expect(emu.alink[16]).to.include({ id: '', params: undefined });
    // a time up to a day ahead is fine
    await accepted(PROP, property('43', { A: { value: 1, time: T0 + DAY } }));
    expect(emu.alink[emu.alink.length - 1].error).to.equal(undefined);
    expect(emu.properties('a1PK', 'dev1')).to.deep.equal({ A: { value: 1, time: T0 + DAY } });
  });

  it('refuses an id the device used within 24 hours, across thing topics, not another device\'s', async () => {
    const dev2 = { productKey: 'a1PK', deviceName: 'dev2', deviceSecret: 'two' };
    emu.addDevice(dev2);
    const token2 = (await auth(dev2)).info.token;
    await accepted(PROP, property('7', { A: 1 }));
    await accepted(PROP, property('7', { A: 2 }));
    await accepted(OTA, JSON.stringify({ id: '7', params: { version: '1' } }));
    expect(code(await publish(token2, '/sys/a1PK/dev2/thing/event/property/post', property('7', { A: 3 })))).to.equal(0);
    await accepted(PROP, property('8', { A: 1 }, { method: 'wrong' })); // rejected: its id is not taken
    await accepted(PROP, property('8', { A: 4 }));
    clock += DAY - 1;
    await accepted(PROP, property('7', { A: 5 }));
    clock += 1;
    await accepted(PROP, property('7', { A: 6 }));
    expect(emu.alink.map((r) => [r.deviceName, r.id, r.error ? r.error.code : 0])).to.deep.equal([
      ['dev1', '7', 0], ['dev1', '7', 460], ['dev1', '7', 460], ['dev2', '7', 0], ['dev1', '8', 6300], ['dev1', '8', 0], ['dev1', '7', 460], ['dev1', '7', 0],
    ]);
    expect(emu.alink[1].error.message).to.match(/24 hours/);
    expect(emu.properties('a1PK', 'dev1').A.value).to.equal(6);
    expect(emu.properties('a1PK', 'dev2').A.value).to.equal(3);
    emu.reset(); // forgets the ids seen and the values
    expect(emu.alink).to.have.length(0);
    expect(emu.properties('a1PK', 'dev1')).to.deep.equal({});
    await accepted(PROP, property('7', { A: 7 }));
    expect(emu.alink[0].error).to.equal(undefined);
  });

  it('leaves other topics alone, and records nothing for a refused publish', async () => {
    await accepted('/a1PK/dev1/user/update', '{"id":"1"}');
    await accepted('/sys/a1PK/dev1/thing/model/up_raw', 'raw');
    await accepted('/sys/a1PK/dev1/thing/event/property/post/extra', 'x');
    await accepted('/ota/device/progress/a1PK/dev1', '{"id":"1","params":{"step":"50"}}');
    expect(code(await publish(token, '/sys/a1PK/dev2/thing/event/property/post', property('1', { A: 1 })))).to.equal(10001);
    emu.fault({ type: 'code', code: 30001 }, 'topic');
    expect(code(await publish(token, PROP, property('1', { A: 1 })))).to.equal(30001);
    expect(emu.alink).to.have.length(0);
  });

  it('keep bounds the Alink records but not the property values', async () => {
    const e = await startEmulator({ devices: [DEV], keep: 2, now: () => clock });
    try {
      const t = (await auth(DEV, e)).info.token;
      for (let i = 1; i <= 4; i++) expect(code(await publish(t, PROP, property(String(i), { ['P' + i]: i }), e))).to.equal(0);
      expect(e.alink.map((r) => r.id)).to.deep.equal(['3', '4']);
      expect(Object.keys(e.properties('a1PK', 'dev1'))).to.deep.equal(['P1', 'P2', 'P3', 'P4']);
    } finally {
      await e.close();
    }
  });
});
