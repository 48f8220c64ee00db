/** A hash over bytes: the interface every digest here and every native one offered by a platform has. */
export type Hash = (message: Uint8Array) => Uint8Array;

/**
 * The 16 words of the block at byte `b` of `m`: a view of `m`, or written into `W` (the array
 * the previous block's load returned; undefined for the first), which it then returns. The
 * schedule is allocated per message, not shared: Moddable freezes a preloaded module's typed
 * arrays.
 */
export type Load = (m: Uint8Array, b: number, W?: Int32Array) => Int32Array;

/**
 * Merkle–Damgård over 64-byte blocks, shared by MD5 (little-endian words) and SHA-1 (big-endian):
 * pad with 0x80, zeros and the message length in bits (RFC 1321 §3.1-3.2, FIPS 180-4 §5.1.1),
 * then run `block` on each block's 16 words. Messages are under 2^29 bytes (512 MiB). Returns
 * the state words; each hash writes them out in its own byte order.
 */
export function md(message: Uint8Array, iv: number[], block: (W: Int32Array, H: Int32Array) => void, load: Load, bigEndian: boolean): Int32Array {
  var n = message.length, size = (((n + 8) >> 6) + 1) << 6, m = new Uint8Array(size), H = new Int32Array(iv);
  var b, i, W: Int32Array | undefined;
  m.set(message);
  m[n] = 0x80;
  // the length in bits, in the hash's byte order
  for (i = 0; i < 4; i++) m[bigEndian ? size - 1 - i : size - 8 + i] = (n << 3) >>> (i << 3);
  for (b = 0; b < size; b += 64) block((W = load(m, b, W)), H);
  return H;
}
