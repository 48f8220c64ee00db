import { createRequire } from 'node:module';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { expect } from 'chai';

const { md5, sha1, hmac, hex, utf8 } = createRequire(import.meta.url)('../build/node/index.cjs');
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
});

describe('hashes agree with node:crypto', () => {
  const lengths = [...Array(301).keys(), 1000, 4095, 4096, 65537, 131072, 1 << 20];
  it('md5 and sha1 for every length 0-300 and a few large ones', () => {
    for (const n of lengths) {
      const m = randomBytes(n);
      expect(hex(md5(new Uint8Array(m))), `md5 of ${n} bytes`).to.equal(createHash('md5').update(m).digest('hex'));
      expect(hex(sha1(new Uint8Array(m))), `sha1 of ${n} bytes`).to.equal(createHash('sha1').update(m).digest('hex'));
    }
  });
  it('HMAC-MD5 and HMAC-SHA1 with keys and messages of every length 0-300', () => {
    for (let n = 0; n <= 300; n++) {
      const k = randomBytes((n * 7) % 150), m = randomBytes(n);
      expect(hex(hmac(md5, new Uint8Array(k), new Uint8Array(m)))).to.equal(createHmac('md5', k).update(m).digest('hex'));
      expect(hex(hmac(sha1, new Uint8Array(k), new Uint8Array(m)))).to.equal(createHmac('sha1', k).update(m).digest('hex'));
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
