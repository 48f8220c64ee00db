import { Hash } from './md';

/** HMAC (RFC 2104) over any 64-byte-block hash. */
export function hmac(hash: Hash, key: Uint8Array, message: Uint8Array): Uint8Array {
  if (key.length > 64) key = hash(key);
  var inner = new Uint8Array(64 + message.length), outer = new Uint8Array(128), digest, i;
  for (i = 0; i < 64; i++) {
    // a short key reads as zero-padded: undefined ^ x == x
    inner[i] = key[i] ^ 0x36;
    outer[i] = key[i] ^ 0x5c;
  }
  inner.set(message, 64);
  outer.set((digest = hash(inner)), 64);
  return hash(outer.subarray(0, 64 + digest.length));
}
