// The pure-JS MD5 and SHA-1 as their own module: the client signs with crypt's Digest, so an
// application includes this one only to hash without it (and hmac from the client module works
// over either).
export { md5 } from "../../src/hash/md5";
export { sha1 } from "../../src/hash/sha1";
export { sha256 } from "../../src/hash/sha256";
