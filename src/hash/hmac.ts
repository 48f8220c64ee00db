import { Hash } from './md';

/** HMAC (RFC 2104) over any 64-byte-block hash. */
export function hmac(hash: Hash, key: Uint8Array, message: Uint8Array): Uint8Array {
  if (key.length > 64) key = hash(key);
  var inner = new Uint8Array(64 + message.length);
  var outer, digest, i;
  for (i = 0; i < 64; i++) inner[i] = key[i] ^ 0x36; // a short key reads as zero-padded: undefined ^ x == x
  inner.set(message, 64);
  digest = hash(inner);
  outer = new Uint8Array(64 + digest.length);
  for (i = 0; i < 64; i++) outer[i] = key[i] ^ 0x5c;
  outer.set(digest, 64);
  return hash(outer);
}
