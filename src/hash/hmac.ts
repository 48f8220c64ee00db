import { Hash } from './md';

/** HMAC (RFC 2104) over any 64-byte-block hash. */
export function hmac(hash: Hash, key: Uint8Array, message: Uint8Array): Uint8Array {
  if (key.length > 64) key = hash(key);
  var inner = new Uint8Array(64 + message.length), outer = new Uint8Array(128), digest, i;
  inner.set(key); // zero-padded to the block
  // K ^ ipad, and K ^ opad as (K ^ ipad) ^ (ipad ^ opad): one read a byte
  for (i = 0; i < 64; i++) outer[i] = (inner[i] ^= 0x36) ^ 0x6a;
  inner.set(message, 64);
  outer.set((digest = hash(inner)), 64);
  return hash(outer.subarray(0, 64 + digest.length));
}
