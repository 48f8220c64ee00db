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
    it('leaves messageId absent when the reply has none', () => {
      fc.assert(
        fc.property(fc.string(), (s) => {
          const text = JSON.stringify({ code: 0, message: s, info: { data: '"messageId": 123' } });
          expect(parseReply(text).messageId).to.equal(undefined);
        }),
      );
    });

    it('does not take the messageId from inside a string that comes before it', () => {
      fc.assert(
        fc.property(fc.string(), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.integer({ min: 0, max: 99 }), (s, n, decoy) => {
          const text = `{"code":0,"message":${JSON.stringify(s)},"info":{"data":${JSON.stringify(s + '"messageId":' + decoy)},"messageId":${n}}}`;
          expect(parseReply(text).messageId).to.equal(String(n));
        }),
      );
    });

    // Decoys: keys named messageId inside data (objects, arrays, strings), outside info, escaped
    // keys, duplicate keys (JSON.parse keeps the last one) and numbers that are not integers.
    for (const [name, text, want] of [
      ['a data object before it holding its own messageId', '{"code":0,"info":{"data":{"messageId":5},"messageId":892687627916247041}}', '892687627916247041'],
      ['a string id followed by a data object with a number id', '{"code":0,"info":{"messageId":"5","data":{"messageId":6}}}', '5'],
      ['a data array of objects', '{"code":0,"info":{"data":[{"messageId":3},[4]],"messageId":-892687627916247049}}', '-892687627916247049'],
      ['a messageId outside info', '{"code":0,"messageId":5,"info":{"messageId":892687627916247047}}', '892687627916247047'],
      ['a duplicate key', '{"code":0,"info":{"messageId":1,"messageId":892687627916247043}}', '892687627916247043'],
      ['a duplicate info', '{"code":0,"info":{"messageId":1},"info":{"messageId":892687627916247049}}', '892687627916247049'],
      ['a JSON-escaped key', '{"code":0,"info":{"data":{"messageId":1},"message\\u0049d":892687627916247045}}', '892687627916247045'],
      ['escaped quotes in a string before it', '{"code":0,"info":{"data":"\\"messageId\\":7 \\\\","messageId":892687627916247051}}', '892687627916247051'],
      ['an exponent', '{"code":0,"info":{"data":{"messageId":5},"messageId":8.9e17}}', undefined],
      ['a fraction', '{"code":0,"info":{"messageId":12.5}}', undefined],
      ['true', '{"code":0,"info":{"messageId":true}}', undefined],
      ['an object', '{"code":0,"info":{"messageId":{"messageId":5}}}', undefined],
      ['a string that is not an integer', '{"code":0,"info":{"messageId":"5x"}}', undefined],
      ['an array of one number', '{"code":0,"info":{"messageId":[5]}}', undefined],
      ['an array of an array', '{"code":0,"info":{"messageId":[[123456789012345678901]]}}', undefined],
    ]) {
      it(`reads info.messageId itself: ${name}`, () => {
        expect(JSON.parse(text), 'the text is valid JSON').to.be.an('object');
        const r = parseReply(text);
        if (want === undefined) expect(r, 'a reply whose messageId is not an integer is refused').to.equal(undefined);
        else expect(r.messageId).to.equal(want);
      });
    }

    it('reads info.messageId exactly whatever data holds, before or after it', () => {
      const decoy = fc.letrec((tie) => ({
        value: fc.oneof({ depthSize: 'small' }, fc.jsonValue({ maxDepth: 1 }), fc.integer().map((n) => ({ messageId: n })), tie('object'), fc.array(tie('value'), { maxLength: 3 })),
        object: fc.dictionary(fc.constantFrom('messageId', 'info', 'data', 'x'), tie('value'), { maxKeys: 3 }),
      })).value;
      fc.assert(
        fc.property(decoy, fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }), fc.boolean(), fc.boolean(), (data, n, before, escaped) => {
          const key = escaped ? '"message\\u0049d"' : '"messageId"';
          const parts = [`"data":${JSON.stringify(data)}`, `${key}:${n}`];
          const text = `{"code":0,"message":"success","info":{${(before ? parts : parts.reverse()).join(',')}}}`;
          expect(parseReply(text).messageId).to.equal(String(n));
        }),
        { numRuns: 3000 },
      );
    });
  });

  describe('topic and option checks', () => {
    const ALLOWED = /^[!$&'()*,\-.0-9:;=@A-Z_a-z~]+$/; // printable ASCII but / and what a URL path escapes
    const validTopic = (t) => typeof t === 'string' && t[0] === '/' && t.slice(1).split('/').every((level) => ALLOWED.test(level) && level !== '.' && level !== '..');

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
          fc.pre(typeof p !== 'string' && !ArrayBuffer.isView(p) && !(p instanceof ArrayBuffer));
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
        signMethod: fc.constantFrom('hmacsha1', 'hmacmd5', 'hmacsha256'),
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

describe('what a review found', () => {
  const ok = (body) => ({ status: 200, body });
  function scripted(extra = {}) {
    const sent = [];
    const c = createClient({
      ...device,
      storage: memoryStorage(),
      backoff: 1,
      transport: (req, cb) => {
        sent.push(req);
        setImmediate(() => cb(null, ok(req.path === '/auth' ? '{"code":0,"info":{"token":"t"}}' : '{"code":0,"info":{"messageId":1}}')));
      },
      ...extra,
    });
    return { c, sent };
  }

  it('refuses topics with a "." or ".." level, which a URL path would resolve to another topic', async () => {
    for (const t of ['/pk/dn/user/../../../other/dev/user/x', '/../../auth', '/pk/dn/./x', '/pk/dn/..', '/.', '/..', '/pk/dn/user/.']) {
      const { c, sent } = scripted();
      const err = await c.publish(t, 'x').catch((e) => e);
      expect(err.code, t).to.equal('EINVAL');
      expect(sent, t).to.deep.equal([]);
    }
    for (const t of ['/pk/dn/user/.x', '/pk/dn/user/..x', '/pk/dn/a.b/...']) {
      const { c, sent } = scripted();
      await c.publish(t, 'x');
      expect(sent.map((r) => r.path)).to.deep.equal(['/auth', '/topic' + t]);
    }
  });

  it('takes endpoint ports in decimal digits from 1 to 65535 only', () => {
    for (const endpoint of ['https://h:0x1bb', 'https://h:1e3', 'https://h: 8443', 'https://h:+99', 'https://h:-1', 'https://h:0', 'https://h:08443', 'https://h:65536', 'https://h:', 'https://h:1.5', 'https://h:８', 'https://[::1', 'https://[::1]x', 'https://[::g]', 'https://::1', 'https://h:1:2']) {
      expect(() => createClient({ ...device, storage: memoryStorage(), endpoint }), endpoint).to.throw(/bad option endpoint/);
    }
    for (const [endpoint, host, port] of [
      ['https://h:1', 'h', 1],
      ['https://h:65535/', 'h', 65535],
      ['https://[::1]:8443', '::1', 8443],
      ['https://[::1]', '::1', 443],
      ['https://[fe80::1:2]:9', 'fe80::1:2', 9],
    ]) {
      const { c, sent } = scripted({ endpoint });
      c.auth(() => {});
      expect([sent[0].host, sent[0].port], endpoint).to.deep.equal([host, port]);
      c.close();
    }
  });

  it('a transport error with a code of its own is ENETWORK, retried, with the original as cause', async () => {
    let attempts = 0;
    const c = createClient({
      ...device,
      storage: memoryStorage(),
      backoff: 1,
      retries: 2,
      transport: (req, cb) => {
        attempts++;
        setImmediate(() => cb(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })));
      },
    });
    const err = await c.publish('/pk/dn/x', 'x').catch((e) => e);
    expect(err.code).to.equal('ENETWORK');
    expect(err.message).to.equal('socket hang up');
    expect(err.cause.code).to.equal('ECONNRESET');
    expect(attempts).to.equal(3);
  });

  it('accepts any typed-array view, DataView or Buffer, from this realm or another, byte-exact', async () => {
    const vm = await import('node:vm');
    const other = vm.runInNewContext('({ u8: new Uint8Array([1, 2, 250]), ab: new Uint8Array([7, 8]).buffer, i16: new Int16Array([258, -1]) })');
    expect(other.u8 instanceof Uint8Array, 'the vm array is of another realm').to.equal(false);
    const base = new Uint8Array([9, 1, 2, 3, 4, 5, 6, 7]);
    for (const [name, payload, bytes] of [
      ['a Uint8Array of another realm', other.u8, [1, 2, 250]],
      ['an ArrayBuffer of another realm', other.ab, [7, 8]],
      ['an Int16Array of another realm', other.i16, [...Buffer.from(other.i16.buffer)]],
      ['a DataView in the middle of a buffer', new DataView(base.buffer, 2, 3), [2, 3, 4]],
      ['a Uint16Array', new Uint16Array([0x0102]), [...Buffer.from(new Uint16Array([0x0102]).buffer)]],
      ['a Buffer slice', Buffer.from(base).subarray(5), [5, 6, 7]],
      ['a Float64Array', new Float64Array([1.5]), [...Buffer.from(new Float64Array([1.5]).buffer)]],
    ]) {
      const { c, sent } = scripted();
      await c.publish('/pk/dn/x', payload);
      expect([...sent[1].body], name).to.deep.equal(bytes);
    }
  });

  it('refuses objects that only look like buffers or views, with EINVAL before any I/O', async () => {
    for (const p of [{ byteLength: 0 }, { length: 3, byteLength: 3 }, { buffer: {}, byteOffset: 1, byteLength: 2 }, { buffer: { byteLength: 4 }, byteOffset: 0, byteLength: 2 }, Object.assign([1, 2], { byteLength: 2 })]) {
      const { c, sent } = scripted();
      const err = await c.publish('/pk/dn/x', p).catch((e) => e);
      expect(err.code, JSON.stringify(p)).to.equal('EINVAL');
      expect(sent).to.deep.equal([]);
    }
  });

  it('refuses a detached ArrayBuffer, or a view of one, with EINVAL through the callback', async () => {
    for (const make of [() => new ArrayBuffer(8), () => new Uint8Array(8)]) {
      const p = make();
      structuredClone(p.buffer || p, { transfer: [p.buffer || p] }); // detaches it
      const { c, sent } = scripted();
      let err = null, threw = null;
      try {
        await new Promise((resolve) => c.publish('/pk/dn/x', p, (e) => resolve((err = e))));
      } catch (e) {
        threw = e;
      }
      expect(threw).to.equal(null);
      expect(err.code).to.equal('EINVAL');
      expect(err.message).to.equal('bad payload');
      expect(sent).to.deep.equal([]);
    }
  });

  it('sign() refuses a sign method it does not know, rather than signing with SHA-1', () => {
    const { sign } = require('../build/node/index.cjs');
    for (const m of ['hmacsha512', 'HMACSHA1', 'sha256', '', undefined]) expect(() => sign({ a: '1' }, 's', m), String(m)).to.throw(/bad signMethod/);
  });
});
