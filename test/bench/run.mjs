// `npm run bench`: sizes, sign speed on every engine, hash throughput, publish throughput and
// memory of the Node client, measured in one run on one machine. Prints Markdown to stdout
// (progress to stderr); `--write` also writes it to test/bench/RESULTS.md, `--out FILE` to FILE.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import { relative } from 'node:path';
import { SIZES, throughput } from './hashes.mjs';
import { root } from './libraries.mjs';
import { COUNTS, PAYLOAD, median, memory, publishThroughput, startEmulatorProcess } from './publish.mjs';
import { ENGINES, KEY, MSG, ROUNDS, SAMPLES, engineVersions, signSpeed } from './sign.mjs';
import { sizes } from './sizes.mjs';
import { boardMemory } from './board.mjs';
import { resultsFile, USAGE } from './output.mjs';

const started = Date.now();
const log = (m) => process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0).padStart(3)} s] ${m}\n`);
const int = (n) => Math.round(n).toLocaleString('en-US');
const table = (head, rows) => [head, head.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
const mb = (b) => (b / 1048576).toFixed(1);

function machine() {
  const cpuinfo = (() => {
    try {
      return readFileSync('/proc/cpuinfo', 'utf8');
    } catch {
      return '';
    }
  })();
  const model = (/^model name\s*:\s*(.+)$/m.exec(cpuinfo) || [])[1] || os.cpus()[0]?.model || 'unknown CPU';
  return `${model.trim()}, ${os.availableParallelism()} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GB RAM, ${os.type()} ${os.release()} ${os.arch()}`;
}

// The commit measured, and the source files that differ from it (the build is of the work tree).
function source() {
  const git = (...args) => spawnSync('git', args, { cwd: root, encoding: 'utf8' }).stdout?.trim() || '';
  const commit = git('log', '-1', '--format=%h %s');
  if (!commit) return 'not a git checkout';
  const dirty = git('status', '--porcelain', '--', 'src', 'targets', 'rollup.config.mjs').split('\n').filter(Boolean).map((l) => l.slice(3));
  return `${commit}${dirty.length ? ` + uncommitted changes to ${dirty.join(', ')}` : ''}`;
}

function sizeSection(rows) {
  const head = ['code', 'what', 'min bytes', 'gzip -9', 'shipped min', 'engines.md'];
  return table(head, rows.map((r) => [r.name, r.what, int(r.min), int(r.gzip), r.shipped ? int(r.shipped) : '', r.enginesMd ? int(r.enginesMd) : '']));
}

const SIGN_ROWS = [
  ['ours', 'sha1', 'HMAC-SHA1'],
  ['ours, native SHA-1', 'sha1', 'HMAC-SHA1'],
  ['ours, from Storage', 'sha1', 'HMAC-SHA1'],
  ['js-sha1', 'sha1', 'HMAC-SHA1'],
  ['crypto-js', 'sha1', 'HMAC-SHA1'],
  ['ours', 'md5', 'HMAC-MD5'],
  ['js-md5', 'md5', 'HMAC-MD5'],
  ['crypto-js', 'md5', 'HMAC-MD5'],
  ['blueimp-md5', 'md5', 'HMAC-MD5'],
];

function signSection(results) {
  const notes = new Set();
  const cell = (r, engine, impl) => {
    if (!r) return '';
    if (r.skipped) return 'skipped';
    if (r.fail) return `fails: ${r.fail.slice(0, 60)}`;
    let s = int(r.ops);
    if (engine === 'MuJS' && r.standins) s += ' ¹';
    if (r.failedWithout) {
      notes.add(`${impl} on ${engine} failed without them (${r.failedWithout.slice(0, 60)})`);
      s += ` ²`;
    }
    return s;
  };
  const engines = ENGINES.map((e) => e.name);
  const rows = SIGN_ROWS.filter(([impl, alg]) => engines.some((e) => results[e][`${impl} ${alg}`])).map(([impl, alg, label]) => [label, impl, ...engines.map((e) => cell(results[e][`${impl} ${alg}`], e, impl))]);
  const ratio = (a, b) => (a?.ops && b?.ops ? (a.ops / b.ops).toFixed(2) : '–');
  const ratios = [
    ['HMAC-SHA1', 'ours / js-sha1', ...engines.map((e) => ratio(results[e]['ours sha1'], results[e]['js-sha1 sha1']))],
    ['HMAC-MD5', 'ours / js-md5', ...engines.map((e) => ratio(results[e]['ours md5'], results[e]['js-md5 md5']))],
  ];
  return [
    table(['HMAC', 'implementation', ...engines], [...rows, ...ratios]),
    '',
    `Operations per second, strings in and hex out: the ${MSG.length}-byte sign text \`${MSG}\` keyed by a ${KEY.length}-character device secret. ` +
      'Each digest is checked against node:crypto on the engine before timing. ' +
      `Median of ${ROUNDS * SAMPLES} loops of about 200 ms: ${SAMPLES} in each of ${ROUNDS} engine processes per implementation, the implementations taking turns ` +
      '(this machine\'s speed drifts); loops inside functions, calibrated first (Node: then 1 s of warm-up).',
    '- ours: the Moddable client bundle and its hashes module (import lines cut, bound to the stand-ins of test/engine/moddable-env.js) calling `hex(hmac(sha1|md5, utf8(key), utf8(text)))`; ' +
      'on Espruino, HMAC-SHA1 is the Espruino bundle on `E.toUint8Array` bytes: its pure SHA-1, the board\'s `require("crypto").SHA1` as its client uses where present ("native SHA-1"), ' +
      'and required from Storage as users load it ("from Storage"; the Linux build reads its emulated flash through file I/O). Everything else is loaded from a string in RAM.',
    '- Libraries: sources minified together with terser (ecma 5, `compress.sequences: false`, the setting our device bundles need on Espruino); blueimp-md5 its own min file. ' +
      'Called as `sha1.hmac(key, text)`, `md5.hmac(key, text)`, `CryptoJS.HmacSHA1(text, key).toString()`, `md5(text, key)`.',
    '- ¹ MuJS has no typed arrays: our code runs on the typed-array stand-in of test/engine/typedarrays.js (an accessor property per element), so the figure measures the stand-in as much as our code.',
    ...(notes.size ? ['- ² with stand-ins for what the engine lacks (typed arrays, `unescape`); ' + [...notes].join('; ') + '.'] : []),
  ].join('\n');
}

function hashSection(results) {
  const fmt = (v) => (typeof v === 'number' ? v.toFixed(1) : `fails: ${v.fail}`);
  const rows = Object.entries(results).map(([k, v]) => [k.replace(/ (md5|sha1)$/, ''), k.endsWith('md5') ? 'MD5' : 'SHA-1', ...SIZES.map((s) => fmt(v[s]))]);
  return [
    table(['implementation', 'hash', '64 B', '1 KB', '128 KB'], rows),
    '',
    'MB/s in Node, one digest per call, median of 5 loops of about 100 ms after 300 ms of warm-up; digests checked against node:crypto first. ' +
      'Input prepared once in each library\'s own form: bytes (ours = build/node/index.cjs, js-md5/js-sha1 via `.array(bytes)`, which stays in JavaScript), ' +
      'a WordArray (crypto-js), a string (blueimp-md5, raw output). node:crypto is the native limit.',
  ].join('\n');
}

function publishSection(r) {
  const rows = [
    ['ours: `createClient(...).publish()` (keep-alive)', r.ours],
    ['bare `https.request`, keep-alive agent', r.bareKeepAlive],
    ['bare `https.request`, `agent: false`', r.bareNoKeepAlive],
  ].map(([name, v]) => [name, int(v.sequential.rate), int(v.inflight16.rate), int(v.sequential.cpu), int(v.inflight16.cpu), int(v.n)]);
  // the median of the rounds' ratios: neighbours in time share this machine's drift
  const ratio = (a, b, key) => median(a.runs.map((r, i) => r[key] / b.runs[i][key])).toFixed(2);
  for (const [name, other] of [['bare keep-alive', r.bareKeepAlive], ['bare without keep-alive', r.bareNoKeepAlive]]) {
    rows.push([`ours / ${name}`, ratio(r.ours.sequential, other.sequential, 'rate'), ratio(r.ours.inflight16, other.inflight16, 'rate'), ratio(r.ours.sequential, other.sequential, 'cpu'), ratio(r.ours.inflight16, other.inflight16, 'cpu'), '']);
  }
  return [
    table(['client', 'sequential /s', '16 in flight /s', 'client CPU µs per publish, sequential', 'client CPU µs, 16 in flight', 'publishes per run'], rows),
    '',
    `Publishes per second of a ${Buffer.byteLength(PAYLOAD)}-byte JSON payload to the emulator (build/node/emulator.cjs, in its own process) over loopback TLS, ` +
      'and the CPU time the publishing process spent per publish. ' +
      `Medians of ${COUNTS.rounds} runs each, the clients taking turns, after two runs' worth of warm-up each (sockets, JIT); a ratio is the median of the ratios within each round. ` +
      'The bare loops POST /topic with the token one auth gave and read each whole reply: the most any client can reach.',
  ].join('\n');
}

function memorySection(snaps) {
  const rows = snaps.map((s) => [int(s.publishes), mb(s.rss), mb(s.heapUsed), mb(s.external)]);
  const growth = (a, b) => {
    const n = b.publishes - a.publishes, sign = (x) => (x >= 0 ? '+' : '');
    return `RSS ${sign(b.rss - a.rss)}${mb(b.rss - a.rss)} MB, heapUsed ${sign(b.heapUsed - a.heapUsed)}${((b.heapUsed - a.heapUsed) / 1024).toFixed(0)} KB (${((b.heapUsed - a.heapUsed) / n).toFixed(1)} bytes per publish)`;
  };
  const first = snaps[0], mid = snaps[snaps.length >> 1], last = snaps[snaps.length - 1];
  return [
    table(['after publishes', 'RSS MB', 'heapUsed MB', 'external MB'], rows),
    '',
    'The Node client (default file storage) publishing sequentially to the emulator in a `node --expose-gc` child; snapshots after gc, the first after 1,000 warm-up publishes. ' +
      `Over ${int(last.publishes)} publishes: ${growth(first, last)}; over the last ${int(last.publishes - mid.publishes)}: ${growth(mid, last)}.`,
  ].join('\n');
}

function boardSection(rows) {
  const body = rows.map((r) => {
    if (r.skipped) return [int(r.variables), `skipped (${r.skipped})`, '', '', ''];
    if (r.fail) return [int(r.variables), `fails: ${r.fail.slice(0, 80)}`, '', '', ''];
    return [int(r.variables), r.fresh.connects.map(int).join(', '), r.restart.connects.map(int).join(', '), int(Math.max(r.fresh.peak, r.restart.peak)), `${int(r.headroom)} (fails at ${int(r.failsAt)})`];
  });
  return [
    table(['variables', 'in use at each connect, fresh start (/auth, 3 publishes)', 'after a restart (3 publishes)', 'highest use seen', 'headroom'], body),
    '',
    'The Espruino module on the interpreter\'s Linux build (32-bit, 13-byte variables, as on STM32 boards), saved in Storage and required by a small application that ' +
      'publishes three short texts over real TLS to the emulator, then restarts and publishes three more with the token from flash. "In use at each connect": ' +
      '`process.memory().usage` as `require("http").request` is called; "highest use seen": a 1 ms sampler during the run (the handshake itself may peak between samples). ' +
      'Headroom: the most variables the application can hold (an Array of numbers made before the first publish, its cost measured by `process.memory()`) with both runs ' +
      'still publishing every message, found by bisection to 25 variables, each step tried twice.',
  ].join('\n');
}

async function main() {
  let out;
  try {
    out = resultsFile(process.argv.slice(2), root);
  } catch (e) {
    console.error(e.message);
    process.exit(2);
  }
  const versions = engineVersions();
  log('sizes');
  const sizeRows = await sizes();
  const hashes = throughput(log);
  const sign = await signSpeed(log);
  const emu = await startEmulatorProcess();
  let publish, mem;
  try {
    publish = await publishThroughput(emu, log);
    mem = await memory(emu, log);
  } finally {
    emu.close();
  }
  const board = await boardMemory(log);
  const engines = ENGINES.map((e) => `${e.name}: ${versions[e.name] || `skipped (${e.missing})`}`).join('; ');
  const md = [
    '# Benchmark results',
    '',
    `Written by \`npm run bench\` (test/bench/run.mjs) on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC in ${((Date.now() - started) / 1000).toFixed(0)} s. ` +
      'All figures come from this one run on this one machine; compare rows, not machines.',
    '',
    `- Source: ${source()}`,
    `- Machine: ${machine()}`,
    `- Engines: ${engines}`,
    '',
    '## Size',
    '',
    sizeSection(sizeRows),
    '',
    'Bytes of UTF-8 text; gzip -9 by zlib level 9. Our device bundles as built; the Node build and the libraries through terser (ecma 5, `compress.sequences: false`). ' +
      '"shipped min": the min file the package ships, for comparison; "engines.md": an earlier measurement of the same library, from the engine notes.',
    '',
    '## Sign speed',
    '',
    signSection(sign),
    '',
    '## Hash throughput in Node',
    '',
    hashSection(hashes),
    '',
    '## Publish throughput',
    '',
    publishSection(publish),
    '',
    '## Memory',
    '',
    memorySection(mem),
    '',
    '## Espruino variables over real TLS',
    '',
    boardSection(board),
    '',
  ].join('\n');
  process.stdout.write(md);
  if (out) {
    writeFileSync(out, md);
    log(`written to ${relative(root, out) || out}`);
  } else log(`printed only; to keep it: npm run bench -- --write (test/bench/RESULTS.md) or -- --out FILE (${USAGE})`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
