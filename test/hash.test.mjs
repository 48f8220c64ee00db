import { createRequire } from 'node:module';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { expect } from 'chai';

const { md5, sha1, sha256, hmac, hex, utf8, sign } = createRequire(import.meta.url)('../build/node/index.cjs');
const ascii = (s) => new Uint8Array(Buffer.from(s, 'latin1'));

describe('hashes against RFC and FIPS vectors', () => {
  // RFC 1321 §A.5
  const md5Vectors = {
    '': 'd41d8cd98f00b204e9800998ecf8427e',
    a: '0cc175b9c0f1b6a831c399e269772661',
    abc: '900150983cd24fb0d6963f7d28e17f72',
    'message digest': 'f96b697d7cb7938d525a2f31aaf161d0',
    abcdefghijklmnopqrstuvwxyz: 'c3fcd3d76192e4007dfb496cca67e13b',
    ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789: 'd174ab98d277d9f5a5611c2c9f419d9f',
    '12345678901234567890123456789012345678901234567890123456789012345678901234567890': '57edf4a22be3c955ac49da2e2107b67a',
  };
  for (const [m, d] of Object.entries(md5Vectors)) {
    it(`md5("${m.slice(0, 20)}")`, () => expect(hex(md5(ascii(m)))).to.equal(d));
  }
  // FIPS 180 examples
  it('sha1("abc")', () => expect(hex(sha1(ascii('abc')))).to.equal('a9993e364706816aba3e25717850c26c9cd0d89d'));
  it('sha1 of the two-block message', () =>
    expect(hex(sha1(ascii('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')))).to.equal('84983e441c3bd26ebaae4aa1f95129e5e54670f1'));
  it('sha1 of a million "a"', () =>
    expect(hex(sha1(new Uint8Array(1000000).fill(97)))).to.equal('34aa973cd4c4daa4f61eeb2bdbad27316534016f'));

  // RFC 2202
  const rep = (b, n) => new Uint8Array(n).fill(b);
  const cases = [
    [rep(0x0b, 16), ascii('Hi There'), '9294727a3638bb1c13f48ef8158bfc9d', rep(0x0b, 20), 'b617318655057264e28bc0b6fb378c8ef146be00'],
    [ascii('Jefe'), ascii('what do ya want for nothing?'), '750c783e6ab0b503eaa86e310a5db738', ascii('Jefe'), 'effcdf6ae5eb2fa2d27416d5f184df9c259a7c79'],
    [rep(0xaa, 16), rep(0xdd, 50), '56be34521d144c88dbb8c733f0e8b3f6', rep(0xaa, 20), '125d7342b9ac11cd91a39af48aa17b4f63f175d3'],
    [rep(0xaa, 80), ascii('Test Using Larger Than Block-Size Key - Hash Key First'), '6b1ab7fe4bd7bf8f0b62e6ce61b9d0cd', rep(0xaa, 80), 'aa4ae5e15272d00e95705637ce8a3b55ed402112'],
    [rep(0xaa, 80), ascii('Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data'), '6f630fad67cda0ee1fb1f562db3aa53e', rep(0xaa, 80), 'e8e99d0f45237d786d6bbaa7965c7808bbff1a91'],
  ];
  cases.forEach(([k5, m, d5, k1, d1], i) => {
    it(`HMAC-MD5 RFC 2202 case ${i + 1}`, () => expect(hex(hmac(md5, k5, m))).to.equal(d5));
    it(`HMAC-SHA1 RFC 2202 case ${i + 1}`, () => expect(hex(hmac(sha1, k1, m))).to.equal(d1));
  });

  // FIPS 180-2 appendix B
  it('sha256("abc")', () => expect(hex(sha256(ascii('abc')))).to.equal('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'));
  it('sha256 of the two-block message', () =>
    expect(hex(sha256(ascii('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')))).to.equal('248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1'));
  it('sha256 of a million "a"', () =>
    expect(hex(sha256(new Uint8Array(1000000).fill(97)))).to.equal('cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0'));
  // RFC 4231 §4 (case 5 truncates its output to 128 bits)
  const range = (a, b) => Uint8Array.from({ length: b - a + 1 }, (_, i) => a + i);
  const long = 'This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.';
  [
    [rep(0x0b, 20), ascii('Hi There'), 'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7'],
    [ascii('Jefe'), ascii('what do ya want for nothing?'), '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843'],
    [rep(0xaa, 20), rep(0xdd, 50), '773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe'],
    [range(1, 25), rep(0xcd, 50), '82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b'],
    [rep(0x0c, 20), ascii('Test With Truncation'), 'a3b6167473100ee06e0c796c2955552b'],
    [rep(0xaa, 131), ascii('Test Using Larger Than Block-Size Key - Hash Key First'), '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54'],
    [rep(0xaa, 131), ascii(long), '9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2'],
  ].forEach(([k, m, d], i) => it(`HMAC-SHA256 RFC 4231 case ${i + 1}`, () => expect(hex(hmac(sha256, k, m)).slice(0, d.length)).to.equal(d)));

  it('sign() with hmacsha256 agrees with node:crypto', () => {
    const params = { productKey: 'pk', deviceName: 'dn', clientId: 'pk.dn', timestamp: '1700000000000' };
    expect(sign(params, 'secret', 'hmacsha256')).to.equal(createHmac('sha256', 'secret').update('clientIdpk.dndeviceNamednproductKeypktimestamp1700000000000').digest('hex'));
  });
});

describe('hashes agree with node:crypto', () => {
  const lengths = [...Array(301).keys(), 1000, 4095, 4096, 65537, 131072, 1 << 20];
  it('md5 and sha1 for every length 0-300 and a few large ones', () => {
    for (const n of lengths) {
      const m = randomBytes(n);
      expect(hex(md5(new Uint8Array(m))), `md5 of ${n} bytes`).to.equal(createHash('md5').update(m).digest('hex'));
      expect(hex(sha1(new Uint8Array(m))), `sha1 of ${n} bytes`).to.equal(createHash('sha1').update(m).digest('hex'));
      expect(hex(sha256(new Uint8Array(m))), `sha256 of ${n} bytes`).to.equal(createHash('sha256').update(m).digest('hex'));
    }
  });
  it('HMAC-MD5 and HMAC-SHA1 with keys and messages of every length 0-300', () => {
    for (let n = 0; n <= 300; n++) {
      const k = randomBytes((n * 7) % 150), m = randomBytes(n);
      expect(hex(hmac(md5, new Uint8Array(k), new Uint8Array(m)))).to.equal(createHmac('md5', k).update(m).digest('hex'));
      expect(hex(hmac(sha1, new Uint8Array(k), new Uint8Array(m)))).to.equal(createHmac('sha1', k).update(m).digest('hex'));
      expect(hex(hmac(sha256, new Uint8Array(k), new Uint8Array(m)))).to.equal(createHmac('sha256', k).update(m).digest('hex'));
    }
  });
});

describe('utf8 and hex', () => {
  it('encodes like Buffer, including astral characters and lone surrogates', () => {
    for (const s of ['', 'abc', 'é', '中文', '😀 emoji', '\u0000\u007f\u0080\u07ff\u0800\uffff', 'x\ud800y', '\udc00', 'end\ud83d']) {
      expect(Buffer.from(utf8(s)).equals(Buffer.from(s, 'utf8')), JSON.stringify(s)).to.equal(true);
    }
  });
  it('encodes random strings like Buffer', () => {
    for (let i = 0; i < 500; i++) {
      const s = String.fromCharCode(...Array.from({ length: 20 }, () => Math.floor(Math.random() * 0x10000)));
      expect(Buffer.from(utf8(s)).equals(Buffer.from(s, 'utf8'))).to.equal(true);
    }
  });
  it('hex is lowercase and zero-padded', () => {
    const b = randomBytes(64);
    expect(hex(new Uint8Array(b))).to.equal(b.toString('hex'));
  });
});
