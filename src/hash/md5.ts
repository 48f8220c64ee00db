import { md, rotl } from './md';

// RFC 1321 §3.4: K[i] = floor(abs(sin(i + 1)) * 2^32), computed rather than listed (64 fewer
// literals in the bundle); 4294967296 is a literal because Math.pow(2, 32) is inexact on Espruino.
var K = new Int32Array(64);
for (var k = 0; k < 64; k++) K[k] = Math.floor(Math.abs(Math.sin(k + 1)) * 4294967296) | 0;

// Per-round shift amounts S11..S44.
var S = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];

function block(W: Int32Array, H: Int32Array) {
  var a = H[0], b = H[1], c = H[2], d = H[3];
  var i, f, g, t;
  for (i = 0; i < 64; i++) {
    if (i < 16) {
      f = d ^ (b & (c ^ d)); // F = (b & c) | (~b & d)
      g = i;
    } else if (i < 32) {
      f = c ^ (d & (b ^ c)); // G = (b & d) | (c & ~d)
      g = (5 * i + 1) & 15;
    } else if (i < 48) {
      f = b ^ c ^ d; // H
      g = (3 * i + 5) & 15;
    } else {
      f = c ^ (b | ~d); // I
      g = (7 * i) & 15;
    }
    t = d;
    d = c;
    c = b;
    b = (b + rotl((a + f + K[i] + W[g]) | 0, S[((i >> 4) << 2) | (i & 3)])) | 0;
    a = t;
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
