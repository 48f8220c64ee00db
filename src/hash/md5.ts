import { md } from './md';

// Whether the host stores an Int32Array's low byte first, as every CPU these engines run on
// does: then a block's words are a view of the message, not a copy.
var LITTLE = new Uint8Array(new Int32Array([1]).buffer)[0] === 1;

function load(m: Uint8Array, b: number, W?: Int32Array) {
  if (LITTLE) return new Int32Array(m.buffer, b, 16);
  W = W || new Int32Array(16);
  for (var i = 0; i < 16; i++, b += 4) W[i] = m[b] | (m[b + 1] << 8) | (m[b + 2] << 16) | (m[b + 3] << 24);
  return W;
}

// RFC 1321 §3.4, the 64 operations written out as the RFC lists them: T[i] and the rotations as
// literals, no table and no loop. On the small interpreters a table read or a loop test costs
// more than the step's own arithmetic, and this is what reaches js-md5's speed.
// F(x, y, z) = z ^ (x & (y ^ z)), G(x, y, z) = y ^ (z & (x ^ y)), H = x ^ y ^ z, I = y ^ (x | ~z).
function block(W: Int32Array, H: Int32Array) {
  var a = H[0], b = H[1], c = H[2], d = H[3], x;
  // round 1: a = b + ((a + F(b, c, d) + X[k] + T[i]) <<< s)
  x = a + (d ^ (b & (c ^ d))) + W[0] + 0xd76aa478;
  a = (b + ((x << 7) | (x >>> 25))) | 0;
  x = d + (c ^ (a & (b ^ c))) + W[1] + 0xe8c7b756;
  d = (a + ((x << 12) | (x >>> 20))) | 0;
  x = c + (b ^ (d & (a ^ b))) + W[2] + 0x242070db;
  c = (d + ((x << 17) | (x >>> 15))) | 0;
  x = b + (a ^ (c & (d ^ a))) + W[3] + 0xc1bdceee;
  b = (c + ((x << 22) | (x >>> 10))) | 0;
  x = a + (d ^ (b & (c ^ d))) + W[4] + 0xf57c0faf;
  a = (b + ((x << 7) | (x >>> 25))) | 0;
  x = d + (c ^ (a & (b ^ c))) + W[5] + 0x4787c62a;
  d = (a + ((x << 12) | (x >>> 20))) | 0;
  x = c + (b ^ (d & (a ^ b))) + W[6] + 0xa8304613;
  c = (d + ((x << 17) | (x >>> 15))) | 0;
  x = b + (a ^ (c & (d ^ a))) + W[7] + 0xfd469501;
  b = (c + ((x << 22) | (x >>> 10))) | 0;
  x = a + (d ^ (b & (c ^ d))) + W[8] + 0x698098d8;
  a = (b + ((x << 7) | (x >>> 25))) | 0;
  x = d + (c ^ (a & (b ^ c))) + W[9] + 0x8b44f7af;
  d = (a + ((x << 12) | (x >>> 20))) | 0;
  x = c + (b ^ (d & (a ^ b))) + W[10] + 0xffff5bb1;
  c = (d + ((x << 17) | (x >>> 15))) | 0;
  x = b + (a ^ (c & (d ^ a))) + W[11] + 0x895cd7be;
  b = (c + ((x << 22) | (x >>> 10))) | 0;
  x = a + (d ^ (b & (c ^ d))) + W[12] + 0x6b901122;
  a = (b + ((x << 7) | (x >>> 25))) | 0;
  x = d + (c ^ (a & (b ^ c))) + W[13] + 0xfd987193;
  d = (a + ((x << 12) | (x >>> 20))) | 0;
  x = c + (b ^ (d & (a ^ b))) + W[14] + 0xa679438e;
  c = (d + ((x << 17) | (x >>> 15))) | 0;
  x = b + (a ^ (c & (d ^ a))) + W[15] + 0x49b40821;
  b = (c + ((x << 22) | (x >>> 10))) | 0;
  // round 2: a = b + ((a + G(b, c, d) + X[k] + T[i]) <<< s)
  x = a + (c ^ (d & (b ^ c))) + W[1] + 0xf61e2562;
  a = (b + ((x << 5) | (x >>> 27))) | 0;
  x = d + (b ^ (c & (a ^ b))) + W[6] + 0xc040b340;
  d = (a + ((x << 9) | (x >>> 23))) | 0;
  x = c + (a ^ (b & (d ^ a))) + W[11] + 0x265e5a51;
  c = (d + ((x << 14) | (x >>> 18))) | 0;
  x = b + (d ^ (a & (c ^ d))) + W[0] + 0xe9b6c7aa;
  b = (c + ((x << 20) | (x >>> 12))) | 0;
  x = a + (c ^ (d & (b ^ c))) + W[5] + 0xd62f105d;
  a = (b + ((x << 5) | (x >>> 27))) | 0;
  x = d + (b ^ (c & (a ^ b))) + W[10] + 0x02441453;
  d = (a + ((x << 9) | (x >>> 23))) | 0;
  x = c + (a ^ (b & (d ^ a))) + W[15] + 0xd8a1e681;
  c = (d + ((x << 14) | (x >>> 18))) | 0;
  x = b + (d ^ (a & (c ^ d))) + W[4] + 0xe7d3fbc8;
  b = (c + ((x << 20) | (x >>> 12))) | 0;
  x = a + (c ^ (d & (b ^ c))) + W[9] + 0x21e1cde6;
  a = (b + ((x << 5) | (x >>> 27))) | 0;
  x = d + (b ^ (c & (a ^ b))) + W[14] + 0xc33707d6;
  d = (a + ((x << 9) | (x >>> 23))) | 0;
  x = c + (a ^ (b & (d ^ a))) + W[3] + 0xf4d50d87;
  c = (d + ((x << 14) | (x >>> 18))) | 0;
  x = b + (d ^ (a & (c ^ d))) + W[8] + 0x455a14ed;
  b = (c + ((x << 20) | (x >>> 12))) | 0;
  x = a + (c ^ (d & (b ^ c))) + W[13] + 0xa9e3e905;
  a = (b + ((x << 5) | (x >>> 27))) | 0;
  x = d + (b ^ (c & (a ^ b))) + W[2] + 0xfcefa3f8;
  d = (a + ((x << 9) | (x >>> 23))) | 0;
  x = c + (a ^ (b & (d ^ a))) + W[7] + 0x676f02d9;
  c = (d + ((x << 14) | (x >>> 18))) | 0;
  x = b + (d ^ (a & (c ^ d))) + W[12] + 0x8d2a4c8a;
  b = (c + ((x << 20) | (x >>> 12))) | 0;
  // round 3: a = b + ((a + H(b, c, d) + X[k] + T[i]) <<< s)
  x = a + (b ^ c ^ d) + W[5] + 0xfffa3942;
  a = (b + ((x << 4) | (x >>> 28))) | 0;
  x = d + (a ^ b ^ c) + W[8] + 0x8771f681;
  d = (a + ((x << 11) | (x >>> 21))) | 0;
  x = c + (d ^ a ^ b) + W[11] + 0x6d9d6122;
  c = (d + ((x << 16) | (x >>> 16))) | 0;
  x = b + (c ^ d ^ a) + W[14] + 0xfde5380c;
  b = (c + ((x << 23) | (x >>> 9))) | 0;
  x = a + (b ^ c ^ d) + W[1] + 0xa4beea44;
  a = (b + ((x << 4) | (x >>> 28))) | 0;
  x = d + (a ^ b ^ c) + W[4] + 0x4bdecfa9;
  d = (a + ((x << 11) | (x >>> 21))) | 0;
  x = c + (d ^ a ^ b) + W[7] + 0xf6bb4b60;
  c = (d + ((x << 16) | (x >>> 16))) | 0;
  x = b + (c ^ d ^ a) + W[10] + 0xbebfbc70;
  b = (c + ((x << 23) | (x >>> 9))) | 0;
  x = a + (b ^ c ^ d) + W[13] + 0x289b7ec6;
  a = (b + ((x << 4) | (x >>> 28))) | 0;
  x = d + (a ^ b ^ c) + W[0] + 0xeaa127fa;
  d = (a + ((x << 11) | (x >>> 21))) | 0;
  x = c + (d ^ a ^ b) + W[3] + 0xd4ef3085;
  c = (d + ((x << 16) | (x >>> 16))) | 0;
  x = b + (c ^ d ^ a) + W[6] + 0x04881d05;
  b = (c + ((x << 23) | (x >>> 9))) | 0;
  x = a + (b ^ c ^ d) + W[9] + 0xd9d4d039;
  a = (b + ((x << 4) | (x >>> 28))) | 0;
  x = d + (a ^ b ^ c) + W[12] + 0xe6db99e5;
  d = (a + ((x << 11) | (x >>> 21))) | 0;
  x = c + (d ^ a ^ b) + W[15] + 0x1fa27cf8;
  c = (d + ((x << 16) | (x >>> 16))) | 0;
  x = b + (c ^ d ^ a) + W[2] + 0xc4ac5665;
  b = (c + ((x << 23) | (x >>> 9))) | 0;
  // round 4: a = b + ((a + I(b, c, d) + X[k] + T[i]) <<< s)
  x = a + (c ^ (b | ~d)) + W[0] + 0xf4292244;
  a = (b + ((x << 6) | (x >>> 26))) | 0;
  x = d + (b ^ (a | ~c)) + W[7] + 0x432aff97;
  d = (a + ((x << 10) | (x >>> 22))) | 0;
  x = c + (a ^ (d | ~b)) + W[14] + 0xab9423a7;
  c = (d + ((x << 15) | (x >>> 17))) | 0;
  x = b + (d ^ (c | ~a)) + W[5] + 0xfc93a039;
  b = (c + ((x << 21) | (x >>> 11))) | 0;
  x = a + (c ^ (b | ~d)) + W[12] + 0x655b59c3;
  a = (b + ((x << 6) | (x >>> 26))) | 0;
  x = d + (b ^ (a | ~c)) + W[3] + 0x8f0ccc92;
  d = (a + ((x << 10) | (x >>> 22))) | 0;
  x = c + (a ^ (d | ~b)) + W[10] + 0xffeff47d;
  c = (d + ((x << 15) | (x >>> 17))) | 0;
  x = b + (d ^ (c | ~a)) + W[1] + 0x85845dd1;
  b = (c + ((x << 21) | (x >>> 11))) | 0;
  x = a + (c ^ (b | ~d)) + W[8] + 0x6fa87e4f;
  a = (b + ((x << 6) | (x >>> 26))) | 0;
  x = d + (b ^ (a | ~c)) + W[15] + 0xfe2ce6e0;
  d = (a + ((x << 10) | (x >>> 22))) | 0;
  x = c + (a ^ (d | ~b)) + W[6] + 0xa3014314;
  c = (d + ((x << 15) | (x >>> 17))) | 0;
  x = b + (d ^ (c | ~a)) + W[13] + 0x4e0811a1;
  b = (c + ((x << 21) | (x >>> 11))) | 0;
  x = a + (c ^ (b | ~d)) + W[4] + 0xf7537e82;
  a = (b + ((x << 6) | (x >>> 26))) | 0;
  x = d + (b ^ (a | ~c)) + W[11] + 0xbd3af235;
  d = (a + ((x << 10) | (x >>> 22))) | 0;
  x = c + (a ^ (d | ~b)) + W[2] + 0x2ad7d2bb;
  c = (d + ((x << 15) | (x >>> 17))) | 0;
  x = b + (d ^ (c | ~a)) + W[9] + 0xeb86d391;
  b = (c + ((x << 21) | (x >>> 11))) | 0;
  H[0] += a;
  H[1] += b;
  H[2] += c;
  H[3] += d;
}

/** MD5 (RFC 1321) of bytes: 16 bytes. */
export function md5(message: Uint8Array): Uint8Array {
  var H = md(message, [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476], block, load, false), out, i;
  if (LITTLE) return new Uint8Array(H.buffer);
  out = new Uint8Array(16);
  for (i = 0; i < 16; i++) out[i] = H[i >> 2] >>> ((i & 3) << 3);
  return out;
}
