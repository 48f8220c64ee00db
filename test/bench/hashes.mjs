// Hash throughput in Node (MB/s) at 64 B, 1 KB and 128 KB. Each implementation gets its own
// input form, prepared once: bytes (ours, js-*, node:crypto), a WordArray (crypto-js), a string
// (blueimp-md5, whose raw mode returns a binary string). js-sha1 and js-md5 are called through
// .array(): their plain call hands strings and Buffers to node:crypto in Node.
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { BUNDLES, root } from './libraries.mjs';

const require = createRequire(join(root, 'package.json'));
const ours = require(join(root, BUNDLES.node));
const jsSha1 = require('js-sha1'), jsMd5 = require('js-md5'), blueimp = require('blueimp-md5');
const CryptoJS = { ...require('crypto-js/core'), MD5: require('crypto-js/md5'), SHA1: require('crypto-js/sha1') };

export const SIZES = [64, 1024, 131072];
const bytes = (u8) => u8;
const words = (u8) => CryptoJS.enc.Latin1.parse(Buffer.from(u8).toString('latin1'));
const latin1 = (u8) => Buffer.from(u8).toString('latin1');
const hexOf = (d) => (typeof d === 'string' ? Buffer.from(d, 'latin1') : d.words ? Buffer.from(d.toString(), 'hex') : Buffer.from(d)).toString('hex');

export const IMPLEMENTATIONS = [
  ['ours', 'md5', bytes, (m) => ours.md5(m)],
  ['js-md5', 'md5', bytes, (m) => jsMd5.array(m)],
  ['crypto-js', 'md5', words, (m) => CryptoJS.MD5(m)],
  ['blueimp-md5', 'md5', latin1, (m) => blueimp(m, undefined, true)],
  ['node:crypto', 'md5', bytes, (m) => createHash('md5').update(m).digest()],
  ['ours', 'sha1', bytes, (m) => ours.sha1(m)],
  ['js-sha1', 'sha1', bytes, (m) => jsSha1.array(m)],
  ['crypto-js', 'sha1', words, (m) => CryptoJS.SHA1(m)],
  ['node:crypto', 'sha1', bytes, (m) => createHash('sha1').update(m).digest()],
];

function timeLoop(f, m, n) {
  const t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) f(m);
  return Number(process.hrtime.bigint() - t) / 1e6;
}

// MB/s: the median of 5 loops of about 100 ms, after calibration and 300 ms of warm-up.
function measure(f, m, size) {
  let n = 1, t = timeLoop(f, m, 1);
  while (t < 20) t = timeLoop(f, m, (n *= 2));
  for (const end = Date.now() + 300; Date.now() < end; ) timeLoop(f, m, n);
  n = Math.max(1, Math.round((n * 100) / t));
  const rates = Array.from({ length: 5 }, () => (size * n) / 1e3 / timeLoop(f, m, n)).sort((a, b) => a - b);
  return rates[2];
}

/** results[`${name} ${alg}`][size] = MB/s, or {fail} when a digest differs from node:crypto's. */
export function throughput(log) {
  const results = {};
  for (const size of SIZES) {
    // ASCII, so that blueimp-md5's UTF-8 encoding of its string leaves the bytes as they are
    const data = Uint8Array.from({ length: size }, (_, i) => 32 + ((i * 7919) % 95));
    for (const [name, alg, input, f] of IMPLEMENTATIONS) {
      log(`hash throughput: ${name} ${alg}, ${size} bytes`);
      const m = input(data), r = (results[`${name} ${alg}`] ||= {});
      const want = createHash(alg).update(data).digest('hex'), got = hexOf(f(m));
      r[size] = got === want ? measure(f, m, size) : { fail: `wrong digest ${got}` };
    }
  }
  return results;
}
