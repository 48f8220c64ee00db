// Dynamic registration, a client given only its product's secret, and the thing-model helpers,
// on the Node build against the emulator. Signs are checked with node:crypto by the emulator
// and here; bodies are read as the bytes the emulator received.
import { createRequire } from 'node:module';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';

const require = createRequire(import.meta.url);
const { createClient, register, thing, float, memoryStorage } = require('../build/node/index.cjs');
const { startEmulator } = require('../build/node/emulator.cjs');

const product = { productKey: 'a1RegProd', productSecret: 'prod-secret-5678', deviceNames: Array.from({ length: 30 }, (_, i) => 'reg-' + String(i + 1).padStart(2, '0')) };
const DAY = 86400000;

describe('dynamic registration and the thing model (Node)', function () {
  let emu, dir, names;
  const clients = [];
  const fresh = () => names.shift();
  const base = (deviceName) => ({ productKey: product.productKey, deviceName, endpoint: emu.url, registerEndpoint: emu.url, ca: emu.ca, backoff: 5 });
  const client = (options) => {
    const c = createClient({ dir, ...options });
    clients.push(c);
    return c;
  };
  const count = (path) => emu.requests.filter((r) => r.path === path).length;

  before(async () => {
    emu = await startEmulator({ products: [product] });
    names = product.deviceNames.slice();
  });
  after(() => emu.close());
  beforeEach(() => {
    emu.reset();
    dir = mkdtempSync(join(tmpdir(), 'aliyun-reg-'));
  });
  afterEach(() => {
    clients.splice(0).forEach((c) => c.close());
    rmSync(dir, { recursive: true, force: true });
  });

  describe('register()', () => {
    for (const method of ['hmacsha256', 'hmacsha1', 'hmacmd5']) {
      it(`registers with ${method}: a form body whose sign node:crypto agrees with, and the issued secret`, async () => {
        const dn = fresh();
        const secret = await register({ productKey: product.productKey, deviceName: dn, productSecret: product.productSecret, endpoint: emu.url, ca: emu.ca, signMethod: method });
        expect(secret).to.equal(emu.registrations[0].deviceSecret);
        const req = emu.requests[0];
        expect(req.path).to.equal('/auth/register/device');
        expect(req.headers['content-type']).to.equal('application/x-www-form-urlencoded');
        const form = Object.fromEntries(new URLSearchParams(req.body.toString()));
        expect(form).to.include({ productKey: product.productKey, deviceName: dn, signMethod: method });
        expect(form.random).to.match(/^[0-9a-f]{16}$/);
        const algorithm = { hmacsha256: 'sha256', hmacsha1: 'sha1', hmacmd5: 'md5' }[method];
        expect(form.sign).to.equal(createHmac(algorithm, product.productSecret).update(`deviceName${dn}productKey${product.productKey}random${form.random}`).digest('hex'));
      });
    }

    it('defaults to hmacsha256 and a fresh random each time; takes a callback too', async () => {
      const dn = fresh();
      const o = { productKey: product.productKey, deviceName: dn, productSecret: product.productSecret, endpoint: emu.url, ca: emu.ca };
      const a = await register(o);
      const b = await new Promise((resolve, reject) => register(o, (err, s) => (err ? reject(err) : resolve(s))));
      expect(a).to.equal(b); // not active yet: the same secret again
      const forms = emu.requests.map((r) => Object.fromEntries(new URLSearchParams(r.body.toString())));
      expect(forms.map((f) => f.signMethod)).to.deep.equal(['hmacsha256', 'hmacsha256']);
      expect(forms[0].random).to.not.equal(forms[1].random);
    });

    it('a wrong productSecret, an unknown product or device: the service code and message, as they are', async () => {
      const o = { productKey: product.productKey, deviceName: 'reg-01', productSecret: 'wrong', endpoint: emu.url, ca: emu.ca };
      const codes = [];
      for (const x of [o, { ...o, productSecret: product.productSecret, productKey: 'a1Nope' }, { ...o, productSecret: product.productSecret, deviceName: 'never-created' }]) {
        const err = await register(x).then(() => null, (e) => e);
        expect(err, JSON.stringify(x)).to.be.an('error');
        expect(err.code).to.be.a('number').and.not.equal(200);
        expect(err.message).to.be.a('string').and.not.equal('');
        codes.push(err.code);
      }
      expect(codes).to.deep.equal(emu.registrations.map((r) => r.code));
    });

    it('bad options are refused before anything is sent', async () => {
      const o = { productKey: product.productKey, deviceName: 'x', productSecret: 's', endpoint: emu.url, ca: emu.ca };
      for (const bad of [{ productSecret: '' }, { productSecret: 5 }, { endpoint: 'http://x' }, { signMethod: 'sha1' }, { random: 'a b' }, { random: 'x'.repeat(65) }, { timeout: -1 }]) {
        const err = await register({ ...o, ...bad }).then(() => null, (e) => e);
        expect(err && err.code, JSON.stringify(bad)).to.equal('EINVAL');
      }
      expect(() => register({ ...o, productSecret: '' }, () => {})).to.throw(/bad option productSecret/);
      expect(emu.requests).to.have.length(0);
    });
  });

  describe('a client given only productSecret', () => {
    it('registers, stores the secret, authenticates with hmacsha256, publishes; after a restart neither registers nor authenticates', async () => {
      const dn = fresh();
      const options = { ...base(dn), productSecret: product.productSecret, signMethod: 'hmacsha256' };
      const c1 = client(options);
      const r1 = await c1.publish(`/${product.productKey}/${dn}/user/a`, 'one');
      expect(r1.messageId).to.equal(emu.messages[0].messageId);
      expect(emu.requests.map((r) => r.path)).to.deep.equal(['/auth/register/device', '/auth', `/topic/${product.productKey}/${dn}/user/a`]);
      const issued = emu.registrations[0].deviceSecret;
      const auth = JSON.parse(emu.requests[1].body.toString());
      expect(auth.signmethod).to.equal('hmacsha256');
      expect(auth.sign).to.equal(createHmac('sha256', issued).update(`clientId${auth.clientId}deviceName${dn}productKey${product.productKey}timestamp${auth.timestamp}`).digest('hex'));
      // the secret is in the device's 0600 file, beside the token
      const file = join(dir, `${product.productKey}.${dn}.json`);
      expect(statSync(file).mode & 0o777).to.equal(0o600);
      expect(JSON.parse(JSON.parse(readFileSync(file, 'utf8')).secret)[1]).to.equal(issued);
      expect(readFileSync(file, 'utf8')).to.not.include(product.productSecret);
      c1.close();
      const c2 = client(options);
      await c2.publish(`/${product.productKey}/${dn}/user/a`, 'two');
      expect(count('/auth/register/device'), 'registrations').to.equal(1);
      expect(count('/auth'), '/auth').to.equal(1);
      expect(emu.messages.map((m) => m.body.toString())).to.deep.equal(['one', 'two']);
    });

    it('calls made while it registers share one registration and one /auth', async () => {
      const dn = fresh();
      const c = client({ ...base(dn), productSecret: product.productSecret });
      const results = await Promise.all([1, 2, 3, 4].map((i) => c.publish(`/${product.productKey}/${dn}/user/a`, 'm' + i)));
      expect(results.map((r) => r.messageId).sort()).to.deep.equal(emu.messages.map((m) => m.messageId).sort());
      expect(count('/auth/register/device')).to.equal(1);
      expect(count('/auth')).to.equal(1);
    });

    it('a device registered and activated elsewhere, with no stored secret: the 6289 error says what to do', async () => {
      const dn = fresh();
      await client({ ...base(dn), productSecret: product.productSecret }).publish(`/${product.productKey}/${dn}/user/a`, 'x');
      const other = mkdtempSync(join(tmpdir(), 'aliyun-reg-'));
      try {
        const err = await client({ ...base(dn), productSecret: product.productSecret, dir: other })
          .publish(`/${product.productKey}/${dn}/user/a`, 'y')
          .then(() => null, (e) => e);
        expect(err.code).to.equal(6289);
        expect(err.message).to.match(/already active/).and.match(/reset the device in the IoT console/);
        // the next call tries again (it may have been restored meanwhile) and fails the same way
        const again = await clients[clients.length - 1].publish(`/${product.productKey}/${dn}/user/a`, 'z').then(() => null, (e) => e);
        expect(again.code).to.equal(6289);
      } finally {
        rmSync(other, { recursive: true, force: true });
      }
    });

    it('a secret the storage cannot keep is not used: ESTORAGE, no /auth, and the device can register again', async () => {
      const dn = fresh();
      const store = memoryStorage();
      const broken = { getItem: (k) => store.getItem(k), setItem: (k, v) => (k === 'secret' ? undefined : store.setItem(k, v)) }; // drops the write
      const err = await client({ ...base(dn), productSecret: product.productSecret, storage: broken })
        .publish(`/${product.productKey}/${dn}/user/a`, 'x')
        .then(() => null, (e) => e);
      expect(err.code).to.equal('ESTORAGE');
      expect(count('/auth')).to.equal(0);
      const r = await client({ ...base(dn), productSecret: product.productSecret, storage: store }).publish(`/${product.productKey}/${dn}/user/a`, 'y');
      expect(r.messageId).to.match(/^\d+$/);
      expect(emu.registrations.map((x) => x.code)).to.deep.equal([200, 200]);
    });

    it('a stored secret of another registration host, or a damaged one, is not used: it registers', async () => {
      const dn = fresh();
      const store = memoryStorage();
      store.setItem('secret', JSON.stringify([`${product.productKey}/${dn}@example.com,443`, 'elsewhere']));
      await client({ ...base(dn), productSecret: product.productSecret, storage: store }).publish(`/${product.productKey}/${dn}/user/a`, 'x');
      expect(count('/auth/register/device')).to.equal(1);
      const dn2 = fresh();
      const store2 = memoryStorage();
      store2.setItem('secret', '["' + product.productKey + '/' + dn2 + '@localhost,' + emu.port + '", "with space"]');
      await client({ ...base(dn2), productSecret: product.productSecret, storage: store2 }).publish(`/${product.productKey}/${dn2}/user/a`, 'x');
      expect(count('/auth/register/device')).to.equal(2);
    });

    it('a deviceSecret wins over productSecret; bad options throw at once', () => {
      const c = client({ ...base('reg-01'), deviceSecret: 'given', productSecret: product.productSecret });
      expect(c.publish).to.be.a('function');
      expect(() => client({ ...base('reg-01'), productSecret: '' })).to.throw(/bad option productSecret/);
      expect(() => client({ ...base('reg-01'), productSecret: 's', registerEndpoint: 'https://a/b' })).to.throw(/bad option registerEndpoint/);
      expect(() => client({ ...base('reg-01'), productSecret: 's', timeout: 0 })).to.throw(/bad option timeout/);
    });
  });

  describe('thing()', () => {
    let dn, c, t;
    beforeEach(async () => {
      dn = fresh();
      c = client({ ...base(dn), productSecret: product.productSecret });
      t = thing(c, { productKey: product.productKey, deviceName: dn });
    });
    const body = (i) => emu.messages[i].body.toString('utf8');

    it('reports properties, plain and {value, time}, floats with a decimal point, in the Alink shape', async () => {
      const time = Date.now() - 1000;
      const r = await t.post({ temperature: float(21), humidity: 40, power: { value: 'on', time }, ratio: float(0.5), label: 'Küche "1"\n' });
      expect(r.messageId).to.equal(emu.messages[0].messageId);
      expect(emu.messages[0].topic).to.equal(`/sys/${product.productKey}/${dn}/thing/event/property/post`);
      expect(body(0)).to.match(/^\{"id":"\d+","version":"1.0","sys":\{"ack":0\},"params":\{"temperature":21\.0,"humidity":40,/);
      expect(body(0)).to.include('"ratio":0.5');
      const parsed = JSON.parse(body(0));
      expect(parsed.method).to.equal('thing.event.property.post');
      expect(parsed.params).to.deep.equal({ temperature: 21, humidity: 40, power: { value: 'on', time }, ratio: 0.5, label: 'Küche "1"\n' });
      const rec = emu.alink[0];
      expect(rec.error, JSON.stringify(rec.error)).to.equal(undefined);
      expect(emu.properties(product.productKey, dn)).to.deep.include({ humidity: { value: 40, time: rec.time }, power: { value: 'on', time } });
    });

    it('reports an event with its time, and the firmware version with and without a module', async () => {
      const before = Date.now();
      await t.event('overheat', { level: 3, zone: 'A' });
      await t.version('1.2.3');
      await t.version('0.9', 'mcu');
      expect(emu.messages.map((m) => m.topic)).to.deep.equal([`/sys/${product.productKey}/${dn}/thing/event/overheat/post`, `/ota/device/inform/${product.productKey}/${dn}`, `/ota/device/inform/${product.productKey}/${dn}`]);
      const ev = JSON.parse(body(0));
      expect(ev.method).to.equal('thing.event.overheat.post');
      expect(ev.params.value).to.deep.equal({ level: 3, zone: 'A' });
      expect(ev.params.time).to.be.within(before, Date.now());
      expect(JSON.parse(body(2))).to.deep.equal({ id: JSON.parse(body(2)).id, params: { version: '0.9', module: 'mcu' } });
      expect(emu.alink.map((a) => a.error)).to.deep.equal([undefined, undefined, undefined]);
      expect(emu.events(product.productKey, dn, 'overheat')).to.have.length(1);
      expect(emu.firmware(product.productKey, dn)).to.deep.include({ version: '1.2.3' });
      expect(emu.firmware(product.productKey, dn, 'mcu')).to.deep.include({ version: '0.9' });
    });

    it('ids: decimal strings under 2^32, increasing, none repeated by the helper of a restarted program', async () => {
      const ids = [];
      for (let i = 0; i < 5; i++) ids.push(t.id());
      // a restart takes longer than the five ids: wait until the clock is past the last one (a
      // 5 ms timer may fire before Date.now() has moved 5 ms)
      while (Date.now() % 2 ** 32 <= +ids[4]) await new Promise((r) => setTimeout(r, 2));
      const t2 = thing(c, { productKey: product.productKey, deviceName: dn });
      ids.push(t2.id());
      for (const id of ids) expect(id).to.match(/^\d{1,10}$/).and.satisfy((x) => +x < 2 ** 32);
      expect(new Set(ids).size).to.equal(ids.length);
      for (let i = 1; i < 5; i++) expect(+ids[i]).to.equal(+ids[i - 1] + 1);
      expect(+ids[5]).to.be.above(+ids[0]); // the clock, not a counter that starts again
      await t.post({ a: 1 });
      await t2.post({ a: 2 });
      expect(emu.alink.map((a) => a.error)).to.deep.equal([undefined, undefined]);
    });

    it('refuses, before sending: a time over 24 h ahead, non-JSON values, a bad identifier or version, a bad callback', async () => {
      const ahead = Date.now() + DAY + 60000;
      const cases = [
        () => t.post({ p: { value: 1, time: ahead } }),
        () => t.post({ p: { value: 1, time: 'soon' } }),
        () => t.post({ p: NaN }),
        () => t.post({ p: undefined }),
        () => t.post({ p: () => 1 }),
        () => t.post(null),
        () => t.post([1]),
        () => t.event('bad id', {}),
        () => t.event('property', {}),
        () => t.event('e', 'x'),
        () => t.version(''),
        () => t.version('1.0', 'a b'),
      ];
      for (const f of cases) {
        const err = await f().then(() => null, (e) => e);
        expect(err && err.code, f.toString()).to.equal('EINVAL');
      }
      expect(() => float('1')).to.throw(/bad float/);
      expect(() => float(Infinity)).to.throw(/bad float/);
      expect(() => thing({}, { productKey: 'a', deviceName: 'b' })).to.throw(/bad client/);
      expect(() => thing(c, { productKey: 'a' })).to.throw(/bad option deviceName/);
      expect(emu.requests).to.have.length(0);
      // a time within 24 h is taken
      await t.post({ p: { value: 1, time: Date.now() + DAY - 60000 } });
      expect(emu.alink[0].error).to.equal(undefined);
    });

    it('properties named like Object.prototype methods are written as any other', async () => {
      await t.post({ hasOwnProperty: 1, toString: { value: 'x', time: Date.now() }, constructor: [1, 2] });
      expect(body(0)).to.include('"params":{"hasOwnProperty":1,"toString":{"value":"x","time":');
      expect(body(0)).to.include('"constructor":[1,2]');
    });

    it('a float keeps its point whatever its size, and its digits', async () => {
      const values = [0, -0, 1, -7, 1e21, 1.5e-7, 123456789, 2 ** 53, 0.1 + 0.2];
      await t.post(Object.fromEntries(values.map((v, i) => ['f' + i, float(v)])));
      const params = body(0).slice(body(0).indexOf('"params":') + 9, body(0).indexOf(',"method"'));
      const written = params.slice(1, -1).split(',').map((kv) => kv.split(':')[1]);
      written.forEach((w, i) => {
        expect(w, String(values[i])).to.match(/[.e]/);
        expect(+w).to.equal(values[i]);
      });
    });
  });
});
