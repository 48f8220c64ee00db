/** A hash over bytes: the interface every digest here and every native one offered by a platform has. */
export type Hash = (message: Uint8Array) => Uint8Array;

/**
 * Merkle–Damgård over 64-byte blocks, shared by MD5 (little-endian words) and SHA-1 (big-endian):
 * pad with 0x80, zeros and the message length in bits (RFC 1321 §3.1-3.2, FIPS 180-4 §5.1.1),
 * then run `block` on each block's 16 words. Messages are under 2^29 bytes (512 MiB).
 */
export function md(message: Uint8Array, iv: number[], block: (W: Int32Array, H: Int32Array) => void, bigEndian: boolean): Uint8Array {
  var n = message.length, size = (((n + 8) >> 6) + 1) << 6, m = new Uint8Array(size), H = new Int32Array(iv), out = new Uint8Array(H.length << 2);
  // the schedule, 80 words so SHA-1 can expand in place; per call, not shared: Moddable freezes
  // a preloaded module's typed arrays
  var W = new Int32Array(80);
  var b, i, j;
  m.set(message);
  m[n] = 0x80;
  // the length in bits, in the hash's byte order
  for (i = 0; i < 4; i++) m[bigEndian ? size - 1 - i : size - 8 + i] = (n << 3) >>> (i << 3);
  for (b = 0; b < size; b += 64) {
    j = b;
    if (bigEndian) for (i = 0; i < 16; i++, j += 4) W[i] = (m[j] << 24) | (m[j + 1] << 16) | (m[j + 2] << 8) | m[j + 3];
    else for (i = 0; i < 16; i++, j += 4) W[i] = m[j] | (m[j + 1] << 8) | (m[j + 2] << 16) | (m[j + 3] << 24);
    block(W, H);
  }
  for (i = 0; i < out.length; i++) out[i] = H[i >> 2] >>> (bigEndian ? 24 - ((i & 3) << 3) : (i & 3) << 3);
  return out;
}
