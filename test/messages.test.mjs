// The Node entry's refusals say why: an unknown option by name (with the known one it resembles),
// an endpoint with what is wrong in it (and the value only where it cannot hold a credential), a
// topic with the offending character or level and its index, a `ca` that is not PEM. All EINVAL,
// before any request; the device bundles keep the core's shorter messages.
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';

const require = createRequire(import.meta.url);
const { createClient, register, createQueue, memoryStorage } = require('../build/node/index.cjs');
const { startEmulator, CA_CERT, generateCertificates } = require('../build/node/emulator.cjs');

const device = { productKey: 'a1MsgProd', deviceName: 'msg-01', deviceSecret: 'msg-secret-0123456789' };
const topic = `/${device.productKey}/${device.deviceName}/user/data`;

/** The error a call throws (or undefined). */
function thrown(f) {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe('messages: refusals that say why', function () {
  let emu, dir;
  const clients = [];
  const offline = (extra = {}) => createClient({ ...device, storage: memoryStorage(), transport: () => expect.fail('nothing may be sent'), ...extra });

  before(async () => {
    emu = await startEmulator({ devices: [device] });
  });
  after(async () => {
    await emu.close();
  });
  beforeEach(() => {
    emu.reset();
    dir = mkdtempSync(join(tmpdir(), 'aliyun-msg-'));
  });
  afterEach(() => {
    clients.splice(0).forEach((c) => c.close());
    rmSync(dir, { recursive: true, force: true });
  });

  describe('unknown options', () => {
    it('createClient names the option and suggests the one it resembles', () => {
      for (const [key, hint] of [
        ['endpiont', 'did you mean endpoint?'],
        ['endPoint', 'did you mean endpoint?'],
        ['devicename', 'did you mean deviceName?'],
        ['deviceSecet', 'did you mean deviceSecret?'],
        ['timout', 'did you mean timeout?'],
        ['retires', 'did you mean retries?'],
        ['retry', 'did you mean retries?'],
        ['logger', undefined],
        ['rejectUnauthorized', 'certificates are always verified; for a private CA give its PEM as ca'],
      ]) {
        const err = thrown(() => createClient({ ...device, [key]: 'https://example.com' }));
        expect(err && err.code, key).to.equal('EINVAL');
        expect(err.message).to.equal(`unknown option "${key}"` + (hint ? ': ' + hint : ''));
      }
    });

    it('an unknown option is refused whatever its value, and its value is never shown', () => {
      const err = thrown(() => createClient({ ...device, secret: 'a-value-to-keep-quiet' }));
      expect(err.code).to.equal('EINVAL');
      expect(err.message).to.not.include('a-value-to-keep-quiet');
      expect(thrown(() => createClient({ ...device, endpiont: undefined })).message).to.match(/unknown option "endpiont"/);
    });

    it('the known options of the Node client are all accepted', () => {
      const c = createClient({
        ...device,
        productSecret: 'p',
        registerEndpoint: 'https://127.0.0.1:1',
        region: 'cn-shanghai',
        endpoint: 'https://127.0.0.1:1',
        clientId: 'c',
        signMethod: 'hmacsha256',
        timeout: 100,
        retries: 0,
        backoff: 1,
        storage: memoryStorage(),
        transport: () => {},
        now: Date.now,
        ca: CA_CERT,
        dir,
        log: () => {},
      });
      c.close();
    });

    it('register() refuses them as it refuses a bad option: a rejection, with the hint of the client option meant', async () => {
      const o = { productKey: 'a1', deviceName: 'd', productSecret: 's', transport: () => expect.fail('nothing may be sent') };
      const err = await register({ ...o, registerEndpoint: 'https://h' }).catch((e) => e);
      expect(err.code).to.equal('EINVAL');
      expect(err.message).to.equal('unknown option "registerEndpoint": register() takes it as endpoint');
      expect((await register({ ...o, productSecert: 's' }).catch((e) => e)).message).to.equal('unknown option "productSecert": did you mean productSecret?');
      expect(() => register({ ...o, dir }, () => {})).to.throw(/unknown option "dir"/);
    });

    it('createQueue names the option', () => {
      const client = offline();
      const err = thrown(() => createQueue(client, { dir, maxbytes: 100 }));
      expect(err.code).to.equal('EINVAL');
      expect(err.message).to.equal('unknown option "maxbytes": did you mean maxBytes?');
    });
  });

  describe('endpoints', () => {
    const message = (endpoint, extra) => {
      const err = thrown(() => offline({ endpoint, ...extra }));
      expect(err && err.code, endpoint).to.equal('EINVAL');
      return err.message;
    };

    it('say what is wrong and show what was given', () => {
      for (const [endpoint, why] of [
        ['http://127.0.0.1:8443', 'the scheme must be https: TLS is always used'],
        ['iot-as-http.cn-shanghai.aliyuncs.com', 'the scheme is missing: https://iot-as-http.cn-shanghai.aliyuncs.com'],
        ['https://host:0x1bb', 'the port must be 1 to 65535 in decimal digits'],
        ['https://host:65536', 'the port must be 1 to 65535 in decimal digits'],
        ['https://host/path', 'no path, query or fragment may follow the host and port'],
        ['https://::1', 'an IPv6 address goes in brackets, as https://[::1]:8443'],
        ['https://[::g]', 'the brackets must hold an IPv6 address'],
        ['https://ho$t', 'the host may hold letters, digits, "-", "_" and "." only'],
        ['', 'it is empty'],
      ]) {
        expect(message(endpoint)).to.equal(`bad option endpoint: expected https://host[:port], given ${JSON.stringify(endpoint)} (${why})`);
      }
      expect(message(8443)).to.equal('bad option endpoint: expected https://host[:port], a string, not number');
    });

    it('do not show a value that could hold a credential', () => {
      for (const endpoint of ['https://user:pass@host', 'https://host/?key=abc', 'https://host/#abc', device.deviceSecret, `https://${device.deviceSecret}.example.com:99999`, 'not a url at all']) {
        const m = message(endpoint);
        expect(m, endpoint).to.match(/^bad option endpoint: expected https:\/\/host\[:port\] \(.+\); the value is not shown, as it could hold a credential$/);
        for (const piece of ['user:pass', 'key=abc', '#abc', device.deviceSecret, 'url at all']) expect(m).to.not.include(piece);
      }
    });

    it('registerEndpoint and register()\'s endpoint say the same; a bad region says what a region is', async () => {
      expect(message(undefined, { productSecret: 's', deviceSecret: undefined, registerEndpoint: 'http://h' })).to.match(/^bad option registerEndpoint: expected https:\/\/host\[:port\], given "http:\/\/h" \(the scheme/);
      const err = await register({ productKey: 'a1', deviceName: 'd', productSecret: 's', endpoint: 'https://h:0' }).catch((e) => e);
      expect(err.message).to.equal('bad option endpoint: expected https://host[:port], given "https://h:0" (the port must be 1 to 65535 in decimal digits)');
      expect(thrown(() => offline({ region: 'cn shanghai' })).message).to.match(/^bad option region: a region id such as cn-shanghai/);
    });
  });

  describe('topics', () => {
    const refused = async (t) => {
      const err = await offline().publish(t, 'x').catch((e) => e);
      expect(err.code, String(t)).to.equal('EINVAL');
      return err.message;
    };

    it('name the offending character and its index', async () => {
      expect(await refused('/a/b c')).to.equal('bad topic "/a/b c": a space (U+0020) at index 4 is not allowed: a URL path would have to escape it');
      expect(await refused('/a/+/b')).to.equal('bad topic "/a/+/b": "+" (U+002B) at index 3 is not allowed: a wildcard, for subscriptions only');
      expect(await refused('/a/#')).to.equal('bad topic "/a/#": "#" (U+0023) at index 3 is not allowed: a wildcard, for subscriptions only');
      expect(await refused('/a?x=1')).to.equal('bad topic "/a?x=1": "?" (U+003F) at index 2 is not allowed: no query string is allowed');
      expect(await refused('/a/\u0001')).to.equal('bad topic "/a/\\u0001": a control character (U+0001) at index 3 is not allowed: a URL path would have to escape it');
      expect(await refused('/température')).to.equal('bad topic "/température": U+00E9 (not ASCII) at index 5 is not allowed: topics are printable ASCII');
      expect(await refused('/a/%41')).to.match(/"%" \(U\+0025\) at index 3/);
    });

    it('name the level: missing "/", empty, "." and ".."', async () => {
      expect(await refused('a/b')).to.equal('bad topic "a/b": it must start with "/"');
      expect(await refused('')).to.equal('bad topic "": it must start with "/"');
      expect(await refused('/a//b')).to.equal('bad topic "/a//b": an empty level at index 3 ("//")');
      expect(await refused('/a/b/')).to.equal('bad topic "/a/b/": an empty level at index 5 (a trailing "/")');
      expect(await refused('/')).to.equal('bad topic "/": an empty level at index 1 (a trailing "/")');
      expect(await refused('/a/../b')).to.equal('bad topic "/a/../b": a ".." level at index 3 (a URL path would resolve it to another topic)');
      expect(await refused('/a/.')).to.equal('bad topic "/a/.": a "." level at index 3 (a URL path would resolve it to another topic)');
      expect(await refused(7)).to.equal('bad topic of type number: a string is needed');
      expect(await refused(null)).to.equal('bad topic of type null: a string is needed');
    });

    it('a long topic is cut in the message; the callback form and the queue say the same', async () => {
      expect(await refused('/' + 'a'.repeat(300) + ' ')).to.match(/^bad topic "\/a{99}\.\.\.": a space \(U\+0020\) at index 301/);
      const viaCallback = await new Promise((resolve) => offline().publish('/a b', 'x', (err) => resolve(err)));
      expect(viaCallback.message).to.match(/^bad topic "\/a b": a space \(U\+0020\) at index 2/);
      const q = createQueue(offline(), { dir });
      const err = await new Promise((resolve) => expect(q.publish('/a b', 'x', resolve)).to.equal(false));
      expect(err.code).to.equal('EINVAL');
      expect(err.message).to.match(/^bad topic "\/a b": a space \(U\+0020\) at index 2/);
      q.close();
      expect(() => q.publish(topic, 'x', 'not a function')).to.throw(/bad callback/);
      expect(() => offline().publish('/a b', 'x', 'not a function')).to.throw(/bad callback/);
    });

    it('a valid topic the service refuses keeps the service\'s message', async () => {
      const c = createClient({ ...device, endpoint: emu.url, ca: emu.ca, dir });
      clients.push(c);
      const err = await c.publish('/elsewhere/user/data', 'x').catch((e) => e);
      expect(err.code).to.equal(10001);
    });
  });

  describe('ca', () => {
    const message = (ca) => {
      const err = thrown(() => offline({ ca }));
      expect(err && err.code).to.equal('EINVAL');
      return err.message;
    };

    it('is refused at once when it is not PEM, without quoting it', () => {
      expect(message('emulator-ca.pem')).to.equal('bad option ca: not PEM: no -----BEGIN CERTIFICATE----- line; a file name? Give its text: fs.readFileSync(file, "utf8")');
      expect(message(Buffer.from([0x30, 0x82, 0x01, 0x0a, 0x02]))).to.match(/^bad option ca: not PEM: no -----BEGIN CERTIFICATE----- line \(a DER certificate/);
      const key = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n';
      const m = message(key);
      expect(m).to.equal('bad option ca: this is a private key; give the CA certificate (-----BEGIN CERTIFICATE-----)');
      expect(m).to.not.include('MIIE');
      expect(message('-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n')).to.match(/^bad option ca: certificate 1 cannot be read \(/);
      expect(message(CA_CERT.split('-----END')[0])).to.equal('bad option ca: a -----BEGIN CERTIFICATE----- without its -----END CERTIFICATE-----');
      expect(message([])).to.equal('bad option ca: an empty list would trust no server');
      expect(message([CA_CERT, 'junk'])).to.match(/^bad option ca: not PEM \(item 1\)/);
      expect(message(5)).to.equal('bad option ca: PEM text is needed, a string or a Buffer, not number');
      expect(message(CA_CERT + CA_CERT.replace(/\n[A-Za-z0-9+/]{10}/, '\n!!!!!!!!!!'))).to.match(/^bad option ca: certificate 2 cannot be read/);
    });

    it('register() refuses it the same way, at once', () => {
      expect(() => register({ productKey: 'a1', deviceName: 'd', productSecret: 's', ca: 'ca.pem' })).to.throw(/^bad option ca: not PEM/);
    });

    it('takes one certificate, a bundle of several, a Buffer and a list', async () => {
      const other = (await generateCertificates(['localhost'])).ca;
      for (const ca of [emu.ca, other + '\n' + emu.ca, Buffer.from(emu.ca), [other, Buffer.from(emu.ca)]]) {
        const c = createClient({ ...device, endpoint: emu.url, ca, dir });
        clients.push(c);
        expect((await c.publish(topic, 'x')).messageId).to.match(/^\d+$/);
      }
    });
  });
});
