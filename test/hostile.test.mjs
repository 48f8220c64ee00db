import { createRequire } from 'node:module';
import { expect } from 'chai';
import fc from 'fast-check';

const require = createRequire(import.meta.url);
const { createClient, parseReply, memoryStorage } = require('../build/node/index.cjs');

const device = { productKey: 'pk', deviceName: 'dn', deviceSecret: 'hostile-secret-42' };

describe('hostile input', () => {
  describe('reply parsing', () => {
    it('never throws on random bytes, and accepts only an object with a numeric code', () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (bytes, latin1) => {
          const r = parseReply(Buffer.from(bytes).toString(latin1 ? 'latin1' : 'utf8'));
          expect(r === undefined || (typeof r === 'object' && typeof r.code === 'number')).to.equal(true);
        }),
        { numRuns: 3000 },
      );
    });
    it('never throws on random JSON', () => {
      fc.assert(
        fc.property(fc.jsonValue(), (v) => {
          const r = parseReply(JSON.stringify(v));
          if (r !== undefined) expect(r.code).to.be.a('number');
        }),
        { numRuns: 3000 },
      );
    });
    it('reads every 64-bit messageId exactly, negative ones included, in any spacing', () => {
      const id = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n });
      const space = fc.constantFrom('', ' ', '\n  ', '\t');
      fc.assert(
        fc.property(id, space, space, fc.integer({ min: 0, max: 40000 }), fc.option(fc.string({ maxLength: 20 })), (n, s1, s2, code, data) => {
          const info = `{"data":${JSON.stringify(data)},"messageId"${s1}:${s2}${n}}`;
          const text = `{"code":${code},"message":"m","info":${info}}`;
          expect(parseReply(text).messageId).to.equal(String(n));
        }),
        { numRuns: 5000 },
      );
    });
    it('leaves messageId absent when the reply has none, and does not take one from inside a string', () => {
      fc.assert(
        fc.property(fc.string(), (s) => {
          const text = JSON.stringify({ code: 0, message: s, info: { data: '"messageId": 123' } });
          expect(parseReply(text).messageId).to.equal(undefined);
        }),
      );
    });
  });

  describe('topic and option checks', () => {
    const ALLOWED = /^[!$&'()*,\-.0-9:;=@A-Z_a-z~]+$/; // printable ASCII but / and what a URL path escapes
    const validTopic = (t) => typeof t === 'string' && t[0] === '/' && t.slice(1).split('/').every((level) => ALLOWED.test(level));

    function spyClient() {
      const sent = [];
      const c = createClient({
        ...device,
        storage: memoryStorage(),
        transport: (req, cb) => {
          sent.push(req);
          const body = req.path === '/auth' ? '{"code":0,"info":{"token":"t"}}' : '{"code":0,"info":{"messageId":1}}';
          setImmediate(() => cb(null, { status: 200, body }));
        },
      });
      return { c, sent };
    }

    it('refuses every invalid topic with EINVAL before any I/O, and sends every valid one', async () => {
      const topicChars = fc.constantFrom(...'/ab+#?%" \u0000\u007f中é~-_.@:'.split(''));
      const arb = fc.oneof(fc.string(), fc.string({ unit: topicChars, maxLength: 12 }), fc.anything());
      await fc.assert(
        fc.asyncProperty(arb, async (t) => {
          const { c, sent } = spyClient();
          const err = await c.publish(t, 'x').then(() => null, (e) => e);
          if (validTopic(t)) {
            expect(err, JSON.stringify(t)).to.equal(null);
            expect(sent.map((r) => r.path)).to.deep.equal(['/auth', '/topic' + t]);
          } else {
            expect(err && err.code, JSON.stringify(t)).to.equal('EINVAL');
            expect(sent).to.deep.equal([]);
          }
        }),
        { numRuns: 1500 },
      );
    });

    it('refuses every payload that is not a string, Uint8Array or ArrayBuffer before any I/O', async () => {
      await fc.assert(
        fc.asyncProperty(fc.anything(), async (p) => {
          fc.pre(typeof p !== 'string' && !(p instanceof Uint8Array) && !(p instanceof ArrayBuffer));
          const { c, sent } = spyClient();
          const err = await c.publish('/pk/dn/x', p).then(() => null, (e) => e);
          expect(err.code).to.equal('EINVAL');
          expect(sent).to.deep.equal([]);
        }),
      );
    });

    const OPTIONS = ['productKey', 'deviceName', 'deviceSecret', 'region', 'endpoint', 'clientId', 'signMethod', 'timeout', 'retries', 'backoff', 'now', 'transport', 'storage'];
    it('either accepts an option value or throws EINVAL naming the option; never the secret', () => {
      // anything, and short strings of the characters URLs and topics treat specially
      const urlish = fc.string({ unit: fc.constantFrom(...'a1.-_:/?#@ %'.split('')), maxLength: 8 });
      fc.assert(
        fc.property(fc.constantFrom(...OPTIONS), fc.oneof(fc.anything(), urlish, urlish.map((s) => 'https://' + s)), (name, value) => {
          let err = null;
          try {
            createClient({ ...device, storage: memoryStorage(), [name]: value }).close();
          } catch (e) {
            err = e;
          }
          if (err) {
            expect(err).to.be.instanceOf(Error);
            expect(err.code).to.equal('EINVAL');
            expect(err.message).to.include(name);
            expect(err.message).to.not.include(device.deviceSecret);
          }
        }),
        { numRuns: 3000 },
      );
    });

    it('accepts every valid option value', () => {
      const valid = {
        clientId: fc.string({ minLength: 1, maxLength: 64 }),
        timeout: fc.integer({ min: 1, max: 2147483647 }),
        retries: fc.integer({ min: 0, max: 100 }),
        backoff: fc.integer({ min: 0, max: 2147483647 }),
        signMethod: fc.constantFrom('hmacsha1', 'hmacmd5'),
        endpoint: fc.tuple(fc.domain(), fc.option(fc.integer({ min: 1, max: 65535 }))).map(([h, p]) => `https://${h}${p ? ':' + p : ''}`),
      };
      fc.assert(
        fc.property(fc.record(valid, { requiredKeys: [] }), (o) => {
          createClient({ ...device, storage: memoryStorage(), ...o }).close();
        }),
        { numRuns: 1000 },
      );
    });
  });
});
