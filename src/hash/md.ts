/** A hash over bytes: the interface every digest here and every native one offered by a platform has. */
export type Hash = (message: Uint8Array) => Uint8Array;

/** 32-bit left rotation. */
export function rotl(x: number, n: number): number {
  return (x << n) | (x >>> (32 - n));
}

/**
 * Merkle–Damgård over 64-byte blocks, shared by MD5 (little-endian words) and SHA-1 (big-endian):
 * pad with 0x80, zeros and the message length in bits (RFC 1321 §3.1-3.2, FIPS 180-4 §5.1.1),
 * then run `block` on each block's 16 words. W has 80 slots so SHA-1 can expand in place.
 */
export function md(message: Uint8Array, iv: number[], block: (W: Int32Array, H: Int32Array) => void, bigEndian: boolean): Uint8Array {
  var n = message.length;
  var size = (((n + 8) >> 6) + 1) << 6;
  var m = new Uint8Array(size);
  var H = new Int32Array(iv);
  var W = new Int32Array(80);
  var out = new Uint8Array(H.length << 2);
  var b, i, j;
  m.set(message);
  m[n] = 0x80;
  // the length in bits, in the hash's byte order; messages are under 2^29 bytes (512 MiB)
  for (i = 0; i < 4; i++) m[bigEndian ? size - 1 - i : size - 8 + i] = (n << 3) >>> (i << 3);
  for (b = 0; b < size; b += 64) {
    for (i = 0; i < 64; i++) {
      j = i >> 2;
      W[j] = bigEndian ? (W[j] << 8) | m[b + i] : (W[j] >>> 8) | (m[b + i] << 24);
    }
    block(W, H);
  }
  for (i = 0; i < out.length; i++) {
    out[i] = H[i >> 2] >>> (bigEndian ? 24 - ((i & 3) << 3) : (i & 3) << 3);
  }
  return out;
}
