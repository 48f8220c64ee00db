import { md } from "./md";

// FIPS 180-4 §4.2.2: the first 32 bits of the fractional parts of the cube roots of the first
// 64 primes. An Int32Array: a plain Array costs Espruino a variable per element.
var K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

// §5.3.3: the first 32 bits of the fractional parts of the square roots of the first 8 primes
var IV = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

// 64 words: the schedule is expanded in place
function load(m: Uint8Array, b: number, W?: Int32Array) {
  W = W || new Int32Array(64);
  for (var i = 0; i < 16; i++, b += 4) W[i] = (m[b] << 24) | (m[b + 1] << 16) | (m[b + 2] << 8) | m[b + 3];
  return W;
}

// §6.2.2. ROTR is written out: a call per use costs more than the rest of the round on the small
// interpreters. σ0, σ1 (§4.1.2, 4.6-4.7) expand the schedule; Σ0, Σ1, Ch and Maj (4.2-4.5) mix.
function block(W: Int32Array, H: Int32Array) {
  var a = H[0], b = H[1], c = H[2], d = H[3], e = H[4], f = H[5], g = H[6], h = H[7];
  var t, x, y, T1, T2;
  for (t = 16; t < 64; t++) {
    x = W[t - 15];
    y = W[t - 2];
    W[t] = ((((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10)) + W[t - 7] + (((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3)) + W[t - 16]) | 0;
  }
  for (t = 0; t < 64; t++) {
    T1 = (h + (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))) + (g ^ (e & (f ^ g))) + K[t] + W[t]) | 0;
    T2 = ((((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) + ((a & b) | (c & (a | b)))) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + T1) | 0;
    d = c;
    c = b;
    b = a;
    a = (T1 + T2) | 0;
  }
  H[0] += a;
  H[1] += b;
  H[2] += c;
  H[3] += d;
  H[4] += e;
  H[5] += f;
  H[6] += g;
  H[7] += h;
}

/** SHA-256 (FIPS 180-4) of bytes: 32 bytes. */
export function sha256(message: Uint8Array): Uint8Array {
  var H = md(message, IV, block, load, true), out = new Uint8Array(32), i;
  for (i = 0; i < 32; i++) out[i] = H[i >> 2] >>> (24 - ((i & 3) << 3));
  return out;
}
