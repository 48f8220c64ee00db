import { md } from './md';

// 80 words: the schedule is expanded in place
function load(m: Uint8Array, b: number, W?: Int32Array) {
  W = W || new Int32Array(80);
  for (var i = 0; i < 16; i++, b += 4) W[i] = (m[b] << 24) | (m[b + 1] << 16) | (m[b + 2] << 8) | m[b + 3];
  return W;
}

// FIPS 180-4 §6.1.2, with the schedule W expanded in place to 80 words. ROTL is written out:
// a call per use costs more than the rest of the round on the small interpreters.
function block(W: Int32Array, H: Int32Array) {
  var a = H[0], b = H[1], c = H[2], d = H[3], e = H[4];
  var t, T;
  for (t = 16; t < 80; t++) {
    T = W[t - 3] ^ W[t - 8] ^ W[t - 14] ^ W[t - 16];
    W[t] = (T << 1) | (T >>> 31);
  }
  // one loop per 20 rounds: f and K fixed in each (Ch, Parity, Maj, Parity)
  for (t = 0; t < 20; t++) {
    T = (((a << 5) | (a >>> 27)) + e + W[t] + (d ^ (b & (c ^ d))) + 0x5a827999) | 0;
    e = d;
    d = c;
    c = (b << 30) | (b >>> 2);
    b = a;
    a = T;
  }
  for (; t < 40; t++) {
    T = (((a << 5) | (a >>> 27)) + e + W[t] + (b ^ c ^ d) + 0x6ed9eba1) | 0;
    e = d;
    d = c;
    c = (b << 30) | (b >>> 2);
    b = a;
    a = T;
  }
  for (; t < 60; t++) {
    T = (((a << 5) | (a >>> 27)) + e + W[t] + ((b & c) | (d & (b | c))) + 0x8f1bbcdc) | 0;
    e = d;
    d = c;
    c = (b << 30) | (b >>> 2);
    b = a;
    a = T;
  }
  for (; t < 80; t++) {
    T = (((a << 5) | (a >>> 27)) + e + W[t] + (b ^ c ^ d) + 0xca62c1d6) | 0;
    e = d;
    d = c;
    c = (b << 30) | (b >>> 2);
    b = a;
    a = T;
  }
  H[0] += a;
  H[1] += b;
  H[2] += c;
  H[3] += d;
  H[4] += e;
}

/** SHA-1 (FIPS 180-4) of bytes: 20 bytes. */
export function sha1(message: Uint8Array): Uint8Array {
  var H = md(message, [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0], block, load, true), out = new Uint8Array(20), i;
  for (i = 0; i < 20; i++) out[i] = H[i >> 2] >>> (24 - ((i & 3) << 3));
  return out;
}
