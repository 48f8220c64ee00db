import { md } from './md';

// RFC 1321 §3.4: K[i] = floor(abs(sin(i + 1)) * 2^32), computed rather than listed (64 fewer
// literals in the bundle); 4294967296 is a literal because Math.pow(2, 32) is inexact on Espruino.
var K = new Int32Array(64);
for (var k = 0; k < 64; k++) K[k] = Math.floor(Math.abs(Math.sin(k + 1)) * 4294967296) | 0;

// For each of the 64 steps: the message word it reads and its left rotation (S11..S44),
// tabled once so that a step does no index arithmetic.
var X = new Int32Array(64), R = new Int32Array(64), S = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];
for (k = 0; k < 64; k++) {
  X[k] = k < 16 ? k : k < 32 ? (5 * k + 1) & 15 : k < 48 ? (3 * k + 5) & 15 : (7 * k) & 15;
  R[k] = S[((k >> 4) << 2) | (k & 3)];
}

function block(W: Int32Array, H: Int32Array) {
  var a = H[0], b = H[1], c = H[2], d = H[3];
  var i, x, s;
  for (i = 0; i < 64; i++) {
    x = a + K[i] + W[X[i]] + (i < 16 ? d ^ (b & (c ^ d)) : i < 32 ? c ^ (d & (b ^ c)) : i < 48 ? b ^ c ^ d : c ^ (b | ~d)); // F, G, H, I
    s = R[i];
    a = d;
    d = c;
    c = b;
    b = (b + ((x << s) | (x >>> (32 - s)))) | 0;
  }
  H[0] += a;
  H[1] += b;
  H[2] += c;
  H[3] += d;
}

/** MD5 (RFC 1321) of bytes: 16 bytes. */
export function md5(message: Uint8Array): Uint8Array {
  return md(message, [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476], block, false);
}
