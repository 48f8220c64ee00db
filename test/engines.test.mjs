// The device bundles on small JavaScript engines: Duktape and MuJS (Debian packages, always
// run; CI installs them), Espruino and Moddable xst (only when ESPRUINO_BIN / XST_BIN point at
// a binary). Each engine runs one generated script per bundle (harness, fakes, scenario from
// test/engine/) that prints one JSON line; the assertions are made here, with node:crypto as
// the reference. Also: ES5 syntax of every device bundle, the Espruino size budget, and the
// minifier-output patterns Espruino computes wrong.
import { spawn, spawnSync } from 'node:child_process';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import * as acorn from 'acorn';
import { minify } from 'terser';
import { expect } from 'chai';
import { splitModule, moddableAsScript } from './engine/moddable-module.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const engineDir = join(root, 'test', 'engine');
const BUNDLES = {
  espruino: join(root, 'build/espruino/aliyun-iot-http.min.js'),
  'espruino-sha1': join(root, 'build/espruino/aliyun-iot-http-sha1.min.js'), // for boards without require("crypto")
  'espruino-sha256': join(root, 'build/espruino/aliyun-iot-http-sha256.min.js'), // pure SHA-256
  'espruino-register': join(root, 'build/espruino/aliyun-iot-http-register.min.js'),
  'espruino-thing': join(root, 'build/espruino/aliyun-iot-http-thing.min.js'),
  'espruino-queue': join(root, 'build/espruino/aliyun-iot-http-queue.min.js'),
  moddable: join(root, 'build/moddable/aliyun-iot-http.js'),
  'moddable-hashes': join(root, 'build/moddable/aliyun-iot-http-hashes.js'), // pure MD5 and SHA-1
};
// Each target's hash modules, loaded beside it as HASHLIB (and Espruino's SHA-256 as SHA256LIB).
const HASH_MODULE = { espruino: ['espruino-sha1', 'espruino-sha256'], moddable: ['moddable-hashes'] };
// It was half of crypto-js's MD5 + SHA-1 alone (10,636 bytes minified, so 5,318) until the
// client read messageId structurally, checked stored tokens, ports, dot levels and payload
// views, guarded every clock read (about 780 bytes), and the transport learnt to connect from
// compacted memory, which a 5,100-variable board needs, calling back whatever throws there
// (about 150 bytes). Then the request code moved to a module of its own, shared with
// registration (76 bytes of function boundary), and hmacsha256 took the firmware's SHA-256 (29).
const ESPRUINO_BUDGET = 6350;
// The pure-JS SHA-1 module that only a board without require("crypto") adds.
const ESPRUINO_SHA1_BUDGET = 1100;
// The pure-JS SHA-256 module, for hmacsha256 where the firmware has no require("crypto").SHA256.
const ESPRUINO_SHA256_BUDGET = 1800;
// Registration and the client that registers: a copy of the request and transport code, so that
// the client bundle does not carry exports for it.
const ESPRUINO_REGISTER_BUDGET = 6000;
// The thing-model helpers: Alink JSON, ids, the 24-hour check.
const ESPRUINO_THING_BUDGET = 2600;
// The store-and-forward queue: its log in Storage, the drain, the budgets; it checks topics and
// payloads itself, so that a message is refused when it is accepted, not when it is sent.
const ESPRUINO_QUEUE_BUDGET = 5600;

function bundleText(target) {
  const file = BUNDLES[target];
  if (!existsSync(file)) throw new Error(`${file} is missing: run npx rollup -c first`);
  return readFileSync(file, 'utf8');
}

// The names a bundle exports, read from its text (`exports.x =` or `export {a as x}`); for a
// target, those of the client and of its second module.
function bundleExports(target) {
  const text = bundleText(target);
  const names = target.startsWith('moddable') ? splitModule(text).exported.map(([name]) => name) : [...text.matchAll(/\bexports\.([A-Za-z_$][\w$]*)\s*=/g)].map((m) => m[1]);
  return (HASH_MODULE[target] || []).reduce((all, m) => all.concat(bundleExports(m)), names);
}

// ---------------------------------------------------------------------------------------------
// Reference data.

const ascii = (s) => Buffer.from(s, 'latin1');
const rep = (b, n) => Buffer.alloc(n, b);
const range = (from, to) => Buffer.from(Array.from({ length: to - from + 1 }, (_, i) => from + i));

// Published vectors (RFC 1321 A.5, FIPS 180 examples, RFC 2202): independent of node:crypto.
const PUBLISHED = [
  ['md5', null, '', 'd41d8cd98f00b204e9800998ecf8427e'],
  ['md5', null, 'a', '0cc175b9c0f1b6a831c399e269772661'],
  ['md5', null, 'abc', '900150983cd24fb0d6963f7d28e17f72'],
  ['md5', null, 'message digest', 'f96b697d7cb7938d525a2f31aaf161d0'],
  ['md5', null, 'abcdefghijklmnopqrstuvwxyz', 'c3fcd3d76192e4007dfb496cca67e13b'],
  ['md5', null, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', 'd174ab98d277d9f5a5611c2c9f419d9f'],
  ['md5', null, '1234567890'.repeat(8), '57edf4a22be3c955ac49da2e2107b67a'],
  ['sha1', null, 'abc', 'a9993e364706816aba3e25717850c26c9cd0d89d'],
  ['sha1', null, 'abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq', '84983e441c3bd26ebaae4aa1f95129e5e54670f1'],
  ['hmac-md5', rep(0x0b, 16), 'Hi There', '9294727a3638bb1c13f48ef8158bfc9d'],
  ['hmac-md5', ascii('Jefe'), 'what do ya want for nothing?', '750c783e6ab0b503eaa86e310a5db738'],
  ['hmac-md5', rep(0xaa, 16), rep(0xdd, 50), '56be34521d144c88dbb8c733f0e8b3f6'],
  ['hmac-md5', range(1, 25), rep(0xcd, 50), '697eaf0aca3a3aea3a75164746ffaa79'],
  ['hmac-md5', rep(0x0c, 16), 'Test With Truncation', '56461ef2342edc00f9bab995690efd4c'],
  ['hmac-md5', rep(0xaa, 80), 'Test Using Larger Than Block-Size Key - Hash Key First', '6b1ab7fe4bd7bf8f0b62e6ce61b9d0cd'],
  ['hmac-md5', rep(0xaa, 80), 'Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data', '6f630fad67cda0ee1fb1f562db3aa53e'],
  ['hmac-sha1', rep(0x0b, 20), 'Hi There', 'b617318655057264e28bc0b6fb378c8ef146be00'],
  ['hmac-sha1', ascii('Jefe'), 'what do ya want for nothing?', 'effcdf6ae5eb2fa2d27416d5f184df9c259a7c79'],
  ['hmac-sha1', rep(0xaa, 20), rep(0xdd, 50), '125d7342b9ac11cd91a39af48aa17b4f63f175d3'],
  ['hmac-sha1', range(1, 25), rep(0xcd, 50), '4c9007f4026250c6bc8414f9bf50c86c2d7235da'],
  ['hmac-sha1', rep(0x0c, 20), 'Test With Truncation', '4c1a03424b55e07fe7f27be1d58bb9324a9a5a04'],
  ['hmac-sha1', rep(0xaa, 80), 'Test Using Larger Than Block-Size Key - Hash Key First', 'aa4ae5e15272d00e95705637ce8a3b55ed402112'],
  ['hmac-sha1', rep(0xaa, 80), 'Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data', 'e8e99d0f45237d786d6bbaa7965c7808bbff1a91'],
  // FIPS 180-2 appendix B; RFC 4231 §4 (case 5 truncates its output and is left out)
  ['sha256', null, '', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
  ['sha256', null, 'abc', 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
  ['sha256', null, 'abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq', '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1'],
  ['hmac-sha256', rep(0x0b, 20), 'Hi There', 'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7'],
  ['hmac-sha256', ascii('Jefe'), 'what do ya want for nothing?', '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843'],
  ['hmac-sha256', rep(0xaa, 20), rep(0xdd, 50), '773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe'],
  ['hmac-sha256', range(1, 25), rep(0xcd, 50), '82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b'],
  ['hmac-sha256', rep(0xaa, 131), 'Test Using Larger Than Block-Size Key - Hash Key First', '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54'],
  ['hmac-sha256', rep(0xaa, 131), 'This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.', '9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2'],
].map(([alg, key, msg, expected], i) => ({
  name: `${alg} published vector ${i + 1}`,
  alg,
  key: key && key.toString('hex'),
  msg: (typeof msg === 'string' ? ascii(msg) : msg).toString('hex'),
  expected,
}));

// 30 random inputs, 0 to 300 bytes (every padding boundary among them), against node:crypto:
// each through all four algorithms, or (on Espruino, where pure-JS SHA-1 of 150 bytes takes
// ~70 ms even on a PC) each through one of those the bundle exports, in turn.
function randomVectors(oneEach, exported) {
  const ALGS = ['sha1', 'hmac-sha1', 'md5', 'hmac-md5', 'sha256', 'hmac-sha256'].filter((a) => !oneEach || exported.includes(a.replace('hmac-', '')));
  const lengths = [0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 191, 192, 255, 256, 300];
  while (lengths.length < (oneEach ? 18 : 30)) lengths.push(randomBytes(2).readUInt16BE() % 301); // Espruino: the fixed ones (memory)
  const out = [];
  lengths.forEach((n, i) => {
    // keys over 64 bytes too; on Espruino lengths fixed (0, 20, 64, 65): a run there is at the
    // memory limit, and longer random keys made some runs run out of it
    const m = randomBytes(n), k = randomBytes(oneEach ? [0, 20, 64, 65][i % 4] : randomBytes(1)[0] % 100);
    for (const alg of oneEach ? [ALGS[i % ALGS.length]] : ALGS) {
      const a = alg.replace('hmac-', '');
      if (alg.startsWith('hmac-')) {
        out.push({ name: `${alg} of ${n} random bytes, ${k.length}-byte key`, alg, key: k.toString('hex'), msg: m.toString('hex'), expected: createHmac(a, k).update(m).digest('hex') });
      } else out.push({ name: `${alg} of ${n} random bytes`, alg, msg: m.toString('hex'), expected: createHash(a).update(m).digest('hex') });
    }
  });
  return out;
}

const NOW = 1764460800000; // 2025-11-30, a set clock
const DEVICE = { productKey: 'pk', deviceName: 'device', deviceSecret: 'tH1s-is-the-device-secret' };
const TOPIC = '/pk/device/user/update';
const HOST = 'iot-as-http.cn-shanghai.aliyuncs.com';
const PAYLOAD_TEXT = '温度 ☃ 😀 = 21.5°C';
const ASCII_TEXT = 'plain ASCII text, sent as the string it is';
const PAYLOAD2 = Buffer.concat([Buffer.from([0, 1, 0x7f, 0x80, 0xfe, 0xff]), randomBytes(40)]);
const UTF8 = ['温度 ☃ 😀', 'caf\u00e9', '', 'plain ascii', 'lone \ud800 surrogate', '\udc00'];
const UTF8_8BIT = ['caf\u00e9', '', 'plain ascii']; // Espruino: strings are 8-bit on boards

const b64url = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
// A JWT-shaped token like the service's, with its expiry in the payload (about 190 characters).
const jwt = (days) =>
  `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url({ expire: NOW + days * 86400000, token: randomBytes(32).toString('hex') })}.${randomBytes(32).toString('base64url')}`;
const ok = (info) => ({ status: 200, body: JSON.stringify({ code: 0, message: 'success', info: '@INFO@' }).replace('"@INFO@"', info) });
const tokenReply = (t) => ok(JSON.stringify({ token: t }));
// messageId as a bare JSON integer, as the service sends it (far above 2^53)
const idReply = (id, extra = '') => ok(`{"messageId":${id}${extra}}`);
const codeReply = (code, message, id) => ({ status: 200, body: `{"code":${code},"message":"${message}","info":{"messageId":${id}}}` });

// What a review found, checked inside each engine: [reply text, the messageId it must give, or 'EPROTO'].
const REVIEW_REPLIES = [
  ['{"code":0,"info":{"data":{"messageId":5},"messageId":892687627916247041}}', '892687627916247041'],
  ['{"code":0,"info":{"messageId":"5","data":{"messageId":6}}}', '5'],
  ['{"code":0,"info":{"data":"\\"messageId\\":7","messageId":18446744073709551615}}', '18446744073709551615'],
  ['{"code":0,"info":{"messageId":1,"messageId":9223372036854775809}}', '9223372036854775809', '1'], // the last, or the first where the engine's JSON.parse keeps the first (Espruino)
  ['{"code":0,"info":{"data":[{"messageId":3}],"message\\u0049d":-9223372036854775807}}', '-9223372036854775807'],
  ['{"code":0,"info":{"messageId":8.9e17}}', 'EPROTO'],
  ['{"code":0,"info":{"messageId":1.5}}', 'EPROTO'],
];
const REVIEW_TOPICS = ['/pk/device/user/../../../other/dev/user/x', '/../../auth', '/pk/device/./x', '/pk/device/..'];
const REVIEW_ENDPOINTS = [
  ['https://h:0x1bb', 'EINVAL'], ['https://h:1e3', 'EINVAL'], ['https://h: 8443', 'EINVAL'], ['https://h:+99', 'EINVAL'], ['https://h:65536', 'EINVAL'], ['https://[::1', 'EINVAL'],
  ['https://h:8443', ['h', 8443]], ['https://[::1]:8443', ['::1', 8443]], ['https://[fe80::1]', ['fe80::1', 443]],
];
const REVIEW_BUFFER = '00112233445566778899';
const reviewRecord = (token, expire) => JSON.stringify([`${DEVICE.productKey}/${DEVICE.deviceName}@${HOST},443`, token, expire]);

function makeInput(engine, target) {
  const tokens = { t1: randomBytes(16).toString('hex'), t2: jwt(7), http: jwt(3), m1: jwt(7), m2: jwt(7), m3: jwt(7) };
  const ids = {
    first: '892687627916247040',
    expired: '892687627916247041',
    throttled: '9007199254740993', // 2^53 + 1
    last: '18446744073709551615', // 2^64 - 1: wraps in Espruino's JSON.parse
    http1: '1152921504606846977',
    http2: '9223372036854775807',
    http3: '9223372036854775808',
    m1: '4611686018427387905',
    m2: '4611686018427387906',
    m3: '4611686018427387907',
    m4: '4611686018427387908',
  };
  const input = {
    // the vectors of the hashes the target has (Espruino's memory holds no more)
    hash: [...PUBLISHED.filter((c) => bundleExports(target).includes(c.alg.replace('hmac-', ''))), ...randomVectors(engine === 'espruino', bundleExports(target))],
    hexCheck: '00010f10ff7f80',
    utf8: engine === 'espruino' ? UTF8_8BIT : UTF8,
    sign: { params: { clientId: '12345', deviceName: 'device', productKey: 'pk', timestamp: '789' }, secret: 'secret' },
    now: NOW,
    device: DEVICE,
    topic: TOPIC,
    payloadText: PAYLOAD_TEXT,
    asciiText: ASCII_TEXT,
    payloadHex: Buffer.from(PAYLOAD_TEXT, 'utf8').toString('hex'),
    payload2Hex: PAYLOAD2.toString('hex'),
    scenario: {
      replies: [
        tokenReply(tokens.t1),
        idReply(ids.first),
        codeReply(20001, 'token is expired', ids.expired),
        tokenReply(tokens.t2),
        codeReply(40000, 'request too many', ids.throttled),
        codeReply(40000, 'request too many', ids.throttled),
        idReply(ids.last, ',"data":{"n":1}'),
      ],
    },
    http: {
      plan: [
        { mode: 'normal', ...tokenReply(tokens.http) },
        { mode: 'normal', ...idReply(ids.http1) },
        { mode: 'tlsErrorAfterBody', ...idReply(ids.http2) },
        { mode: 'endThrows' },
        { mode: 'endThrows' },
        { mode: 'normal', ...idReply(ids.http3) },
        { mode: 'normal', ...tokenReply(tokens.http) },
        { mode: 'requestThrows' },
        { mode: 'requestThrows' },
      ],
    },
    review: {
      tokenReply: tokenReply('review.tok.en').body,
      idReply: idReply('892687627916247043').body,
      replies: REVIEW_REPLIES.map((r) => r[0]),
      topics: REVIEW_TOPICS,
      endpoints: REVIEW_ENDPOINTS.map((e) => e[0]),
      payloads: [
        { kind: 'DataView', bufferHex: REVIEW_BUFFER, offset: 2, length: 3 },
        { kind: 'Int16Array', bufferHex: REVIEW_BUFFER, offset: 2, length: 4 },
        { kind: 'object' },
        { kind: 'array' },
      ],
      storedRecord: reviewRecord('stored.tok.en', NOW + 86400000),
      damagedRecord: reviewRecord('bad\ntoken', 0),
    },
    moddable: {
      certificateHex: randomBytes(24).toString('hex'),
      plan: [
        { mode: 'normal', ...tokenReply(tokens.m1) },
        { mode: 'normal', ...idReply(ids.m1) },
        { mode: 'error', error: -2 },
        { mode: 'error', error: -2 },
        { mode: 'normal', ...idReply(ids.m2) },
        { mode: 'normal', ...tokenReply(tokens.m2) },
        { mode: 'normal', ...idReply(ids.m3) },
        { mode: 'normal', ...tokenReply(tokens.m3) },
        { mode: 'normal', ...idReply(ids.m4) },
        { mode: 'none' }, // never answers: the client's timeout closes the Request
      ],
    },
  };
  return { input, tokens, ids };
}

// ---------------------------------------------------------------------------------------------
// The script for one engine and one bundle.

const asciiJson = (v) => JSON.stringify(v).replace(/[\u007f-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
const engineFile = (name) => readFileSync(join(engineDir, name), 'utf8');

/** The script that saves the Espruino modules in Storage (./espruino.flash), as a user uploads them. */
function espruinoSetup() {
  return [
    `require("Storage").write("aliyun-iot-http", ${asciiJson(bundleText('espruino'))});`,
    `require("Storage").write("aliyun-iot-http-sha1", ${asciiJson(bundleText('espruino-sha1'))});`,
    `require("Storage").write("aliyun-iot-http-sha256", ${asciiJson(bundleText('espruino-sha256'))});`,
  ].join('\n');
}

async function buildScript(engine, target, input) {
  const bundle = bundleText(target);
  const parts = [];
  // Espruino: echo(0) first, or a REPL prompt precedes output from timers
  if (engine === 'espruino') parts.push('echo(0);');
  parts.push(`var ENGINE = ${JSON.stringify(engine)}, TARGET = ${JSON.stringify(target)}, ESP = null, MOD = null, LIB, HASHLIB = null, SHA256LIB = null;`);
  parts.push(`var INPUT = ${asciiJson(input)};`);
  if (engine === 'mujs') parts.push(engineFile('typedarrays.js'));
  parts.push(engineFile('harness.js'));
  if (target === 'espruino') {
    parts.push(engineFile('espruino-env.js'));
    if (engine === 'espruino') {
      // as users load it: saved in Storage (by espruinoSetup, run first), then require()d; its
      // require("http") finds the fake
      parts.push('LIB = require("aliyun-iot-http");');
      parts.push('HASHLIB = require("aliyun-iot-http-sha1");');
      parts.push('SHA256LIB = require("aliyun-iot-http-sha256");');
      parts.push('ESP.install();');
    } else {
      const load = (text) => `(function () {\nvar exports = {};\n(function (exports, require) {\n${text}\n})(exports, ESP.require);\nreturn exports;\n})()`;
      parts.push(`LIB = ${load(bundle)};`);
      parts.push(`HASHLIB = ${load(bundleText('espruino-sha1'))};`);
      parts.push(`SHA256LIB = ${load(bundleText('espruino-sha256'))};`);
    }
  } else {
    parts.push(engineFile('moddable-env.js'));
    parts.push(`LIB = ${moddableAsScript(bundle, 'MOD.modules')};`);
    parts.push(`HASHLIB = ${moddableAsScript(bundleText('moddable-hashes'), 'MOD.modules')};`);
  }
  parts.push(engineFile('scenario.js'));
  parts.push('H.run();');
  let script = parts.join('\n');
  // Espruino keeps the script and every function's text in its variables: white space and
  // comments only (no other change) leave room for the run on an 8,190-variable build
  if (engine === 'espruino') script = (await minify(script, { compress: false, mangle: { reserved: ['of', 'let', 'static', 'undefined'] }, ecma: 5, format: { comments: false, ascii_only: true, quote_style: 2 } })).code;
  try {
    acorn.parse(script, { ecmaVersion: 5, sourceType: 'script' }); // the engines are ES5
  } catch (e) {
    throw new Error(`the generated ${engine} script is not ES5: ${e.message}: ${script.slice(Math.max(0, e.pos - 80), e.pos)}<<HERE>>${script.slice(e.pos, e.pos + 40)}`);
  }
  return script;
}

const RUN_TIMEOUT = 100000; // beyond the harness watchdog (90 s), which reports what finished

function onPath(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).status === 0;
}

const ENGINES = [
  { name: 'duktape', bin: () => (onPath('duk') ? 'duk' : null), args: (f) => [f], targets: ['espruino', 'moddable'], apt: 'duktape' },
  { name: 'mujs', bin: () => (onPath('mujs') ? 'mujs' : null), args: (f) => [f], targets: ['espruino', 'moddable'], apt: 'mujs' },
  { name: 'espruino', bin: () => process.env.ESPRUINO_BIN || null, args: (f) => [f], targets: ['espruino'], env: 'ESPRUINO_BIN' },
  { name: 'xst', bin: () => process.env.XST_BIN || null, args: (f) => ['-s', f], targets: ['moddable'], env: 'XST_BIN' },
];

// Runs one script; resolves with the parsed result line and what went wrong.
async function runEngine(engine, bin, target, input) {
  const dir = mkdtempSync(join(tmpdir(), `aliyun-${engine.name}-`));
  try {
    const file = join(dir, `${target}-bundle.js`);
    const script = await buildScript(engine.name, target, input);
    writeFileSync(file, script);
    // to debug: ENGINE_SCRIPT_DIR=/some/dir keeps a copy of every generated script
    if (process.env.ENGINE_SCRIPT_DIR) writeFileSync(join(process.env.ENGINE_SCRIPT_DIR, `${engine.name}-${target}-bundle.js`), script);
    if (engine.name === 'espruino') {
      writeFileSync(join(dir, 'setup.js'), espruinoSetup());
      const setup = spawnSync(bin, engine.args(join(dir, 'setup.js')), { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'latin1', timeout: RUN_TIMEOUT });
      if (setup.status !== 0) return { result: null, problems: [`saving the modules in Storage failed (exit ${setup.status})`], output: setup.stdout.slice(-3000), ms: 0 };
    }
    const started = Date.now();
    // a fresh cwd: Espruino keeps its Storage in ./espruino.flash; stdin is /dev/null
    const r = await new Promise((resolve) => {
      const child = spawn(bin, engine.args(file), { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
      const out = { stdout: '', stderr: '', status: null, signal: null, error: null };
      const timer = setTimeout(() => {
        out.error = new Error(`timed out after ${RUN_TIMEOUT} ms`);
        child.kill('SIGKILL');
      }, RUN_TIMEOUT);
      child.stdout.setEncoding('latin1').on('data', (d) => (out.stdout += d));
      child.stderr.setEncoding('latin1').on('data', (d) => (out.stderr += d));
      child.on('error', (e) => (out.error = e));
      child.on('close', (status, signal) => {
        clearTimeout(timer);
        Object.assign(out, { status, signal });
        resolve(out);
      });
    });
    const ms = Date.now() - started;
    const lines = (r.stdout || '').split(/\r?\n/);
    const line = lines.find((l) => l.includes('@@RESULT '));
    const uncaught = lines.filter((l) => /Uncaught/.test(l));
    const problems = [];
    if (r.error) problems.push(`could not run ${bin}: ${r.error.message}`);
    if (r.status !== 0) problems.push(`exit status ${r.status}${r.signal ? ' signal ' + r.signal : ''}`);
    if (uncaught.length) problems.push(`uncaught exceptions: ${uncaught.join(' | ')}`);
    let result = null;
    if (line) {
      try {
        result = JSON.parse(line.slice(line.indexOf('@@RESULT ') + 9));
        for (const part of lines.filter((l) => l.startsWith('@@PART '))) {
          const at = part.indexOf(' ', 7);
          result[part.slice(7, at)] = JSON.parse(part.slice(at + 1));
        }
      } catch (e) {
        problems.push(`result line is not JSON: ${e.message}`);
      }
    } else problems.push('no result line');
    if (result && result.errors.length) problems.push(`errors inside the engine: ${result.errors.join(' | ')}`);
    const output = `--- stdout (last 3000 characters)\n${(r.stdout || '').slice(-3000)}\n--- stderr\n${(r.stderr || '').slice(-3000)}`;
    return { result, problems, output, ms };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Assertions shared by the engines.

const fromHex = (h) => Buffer.from(h, 'hex');
const signOf = (method, secret, params) => {
  const text = Object.keys(params).sort().filter((k) => !['sign', 'signmethod', 'version'].includes(k)).map((k) => k + params[k]).join('');
  return createHmac(method === 'hmacmd5' ? 'md5' : 'sha1', secret).update(text).digest('hex');
};
const exactId = (id) => BigInt(id).toString(); // what the transport sent, as exact digits

// An /auth body: exactly the expected fields, and a sign node:crypto agrees with.
function checkAuthBody(bodyHex, method, where) {
  const body = JSON.parse(fromHex(bodyHex).toString('utf8'));
  expect(Object.keys(body).sort(), `${where}: auth body fields`).to.deep.equal(['clientId', 'deviceName', 'productKey', 'sign', 'signmethod', 'timestamp']);
  expect(body, where).to.include({ productKey: DEVICE.productKey, deviceName: DEVICE.deviceName, clientId: `${DEVICE.productKey}.${DEVICE.deviceName}`, timestamp: String(NOW), signmethod: method });
  expect(body.sign.toLowerCase(), `${where}: sign`).to.equal(signOf(method, DEVICE.deviceSecret, body));
}

function checkRun(run) {
  if (run.problems.length) throw new Error(`${run.problems.join('\n')}\n${run.output}`);
  expect(run.result.completed, 'all steps completed').to.equal(true);
}

// Exports every device bundle must have; md5, utf8, sign and memoryStorage are tested where exported.
const REQUIRED_EXPORTS = ['createClient', 'sha1', 'sha256', 'hmac', 'hex'];
const OPTIONAL_EXPORTS = ['md5', 'utf8', 'sign', 'memoryStorage'];

function checkHashes(run, input, target) {
  checkRun(run);
  const r = run.result;
  expect(r.exports, 'exports').to.include.members(REQUIRED_EXPORTS);
  expect([...r.exports].sort(), 'exports seen by the engine').to.deep.equal(bundleExports(target).sort());
  const missing = OPTIONAL_EXPORTS.filter((e) => !r.exports.includes(e));
  if (missing.length) console.log(`      (not exported, so not tested here: ${missing.join(', ')})`);
  const bad = [];
  let tested = 0;
  input.hash.forEach((c, i) => {
    if (r.hash[i] === null && /md5/.test(c.alg) && !r.exports.includes('md5')) return;
    tested++;
    if (r.hash[i] !== c.expected) bad.push(`${c.name}: got ${r.hash[i]}, want ${c.expected} (key ${c.key}, message ${c.msg})`);
  });
  expect(bad, 'digests that differ').to.deep.equal([]);
  expect(r.hash.length).to.equal(input.hash.length);
  expect(tested, 'vectors tested').to.be.at.least(input.hash.filter((c) => /sha1/.test(c.alg)).length);
  expect(r.hexCheck).to.equal(input.hexCheck);
  if (r.exports.includes('utf8')) expect(r.utf8, 'utf8()').to.deep.equal(input.utf8.map((s) => Buffer.from(s, 'utf8').toString('hex')));
}

function checkSign(run) {
  checkRun(run);
  const text = 'clientId12345deviceNamedeviceproductKeypktimestamp789';
  const s = run.result.sign;
  expect(s.via, 'sign() is used where exported').to.equal(run.result.exports.includes('sign') ? 'sign' : 'hmac');
  expect(s.hmacsha1, `hmacsha1 via ${s.via}`).to.equal(createHmac('sha1', 'secret').update(text).digest('hex'));
  if (s.via === 'sign' && run.result.exports.includes('md5')) expect(s.hmacmd5, 'hmacmd5').to.equal(createHmac('md5', 'secret').update(text).digest('hex'));
}

function checkScenario(run, { input, tokens, ids }, virtual, engineName, target) {
  checkRun(run);
  const s = run.result.scenario, T = '/topic' + TOPIC;
  expect(s.requests.map((q) => q.path), 'request paths').to.deep.equal(['/auth', T, T, '/auth', T, T, T]);
  expect(s.unusedReplies, 'scripted replies left unused').to.deep.equal([]);
  const passwords = [undefined, tokens.t1, tokens.t1, undefined, tokens.t2, tokens.t2, tokens.t2];
  s.requests.forEach((q, i) => {
    const where = `request ${i + 1} (${q.path})`;
    expect(q, where).to.include({ method: 'POST', host: HOST, port: 443, bodyIsUint8Array: true });
    expect(q.bodyLength, where).to.equal(q.body.length / 2);
    expect(Object.keys(q.headers).sort(), `${where} header names`).to.deep.equal(q.path === '/auth' ? ['Content-Length', 'Content-Type'] : ['Content-Length', 'Content-Type', 'password']);
    expect(q.headers['Content-Length'], `${where} Content-Length`).to.equal(String(q.body.length / 2));
    expect(q.headers['Content-Type'], where).to.equal(q.path === '/auth' ? 'application/json' : 'application/octet-stream');
    expect(q.headers.password, `${where} password`).to.equal(passwords[i]);
    if (q.path === '/auth') checkAuthBody(q.body, 'hmacsha1', where);
  });
  expect(fromHex(s.requests[1].body).toString('utf8'), 'text payload').to.equal(PAYLOAD_TEXT);
  expect(s.requests[1].body, 'text payload bytes').to.equal(Buffer.from(PAYLOAD_TEXT, 'utf8').toString('hex'));
  for (const i of [2, 4, 5, 6]) expect(s.requests[i].body, `ArrayBuffer payload, request ${i + 1}`).to.equal(PAYLOAD2.toString('hex'));
  if (virtual) {
    // backoff 1 ms, doubling: the retries after the two 40000 replies
    expect(s.requests[5].t - s.requests[4].t, 'first retry delay').to.equal(1);
    expect(s.requests[6].t - s.requests[5].t, 'second retry delay').to.equal(2);
  }
  expect(s.callbacks, 'publish callbacks, each once').to.deep.equal([
    { tag: 'text', err: null, result: { messageId: exactId(ids.first) } },
    { tag: 'buffer', err: null, result: { messageId: exactId(ids.last), data: { n: 1 } } },
  ]);
  // a board without require("crypto") and no sha1 option: a clear EINVAL, not a crash at sign time
  if (target === 'espruino' && engineName !== 'espruino') {
    expect(run.result.noSha1, 'createClient without any SHA-1').to.include({ code: 'EINVAL' });
    expect(run.result.noSha1.message).to.match(/sha1/);
  }
}

const headerPairs = (list) => {
  const o = {};
  for (let i = 0; i < list.length; i += 2) o[list[i]] = list[i + 1];
  return o;
};

function checkEspruinoTransport(run, { tokens, ids }, engineName) {
  checkRun(run);
  const h = run.result.http, T = '/topic' + TOPIC;
  expect(h.requests.map((q) => q.path), 'request paths').to.deep.equal(['/auth', T, T, T, T, T, '/auth', T, T]);
  expect(h.unused, 'planned replies left unused').to.deep.equal([]);
  expect(h.requests.slice(7).map((q) => q.body), 'request() threw: nothing sent').to.deep.equal([undefined, undefined]);
  h.requests.slice(0, 7).forEach((q, i) => {
    const where = `request ${i + 1} (${q.path})`;
    expect(q, where).to.include({ protocol: 'https:', host: HOST, port: 443, method: 'POST', nested: false, wide: false, bodyType: 'string' });
    expect(q.headers['Content-Length'], `${where} Content-Length in bytes`).to.equal(String(q.body.length / 2));
    expect(q.headers['Content-Type'], where).to.equal(q.path === '/auth' ? 'application/json' : 'application/octet-stream');
    expect(q.headers.password, `${where} password`).to.equal(q.path === '/auth' ? undefined : tokens.http);
    if (q.path === '/auth') checkAuthBody(q.body, 'hmacsha1', where);
    else expect(q.body, `${where} payload bytes`).to.equal(Buffer.from(i === 5 ? ASCII_TEXT : PAYLOAD_TEXT, 'utf8').toString('hex'));
  });
  expect(h.callbacks, 'callbacks, each once').to.deep.equal([
    { tag: 'first', err: null, result: { messageId: exactId(ids.http1) } },
    { tag: 'tlsErrorAfterBody', err: null, result: { messageId: exactId(ids.http2) } },
    { tag: 'endThrows', err: { code: 'ENETWORK', message: h.callbacks[2] && h.callbacks[2].err && h.callbacks[2].err.message }, result: null },
    { tag: 'secondClient', err: null, result: { messageId: exactId(ids.http3) } },
    { tag: 'sameToken', err: null, result: tokens.http },
    // a throw from request() inside the transport's timer: ENETWORK at once, retried, not a timeout
    { tag: 'requestThrows', err: { code: 'ENETWORK', message: 'Not enough memory to allocate SSL socket' }, result: null },
  ]);
  // the token is written once; the same token again is not rewritten
  expect(h.writes, 'Storage writes').to.have.length(1);
  expect(Object.keys(h.files), 'Storage files of the client').to.deep.equal([h.writes[0]]);
  expect(h.files[h.writes[0]]).to.include(tokens.http);
  // the token's own expire, read from the JWT through the board's atob
  expect(JSON.parse(h.files[h.writes[0]])[2], 'stored expire').to.equal(JSON.parse(Buffer.from(tokens.http.split('.')[1], 'base64url')).expire);
  expect(h.writes[0].length, 'Storage file name length').to.be.at.most(28);
  // the native SHA1 path (require("crypto")): the stand-in off Espruino, the real one on it
  if (engineName !== 'espruino') expect(h.cryptoCalls, 'require("crypto").SHA1 calls').to.be.above(0);
}

function checkModdableTransport(run, { input, tokens, ids }) {
  checkRun(run);
  const m = run.result.moddable, T = '/topic' + TOPIC;
  expect(m.requests.map((q) => q.path), 'request paths (a partial token reads as absent: /auth again)').to.deep.equal(['/auth', T, T, T, T, '/auth', T, '/auth', T, T]);
  expect(m.unused, 'planned replies left unused').to.deep.equal([]);
  const passwords = [undefined, tokens.m1, tokens.m1, tokens.m1, tokens.m1, undefined, tokens.m2, undefined, tokens.m3, tokens.m3];
  m.requests.forEach((q, i) => {
    const where = `request ${i + 1} (${q.path})`;
    expect(q, where).to.include({ host: HOST, port: 443, method: 'POST', bodyIsArrayBuffer: true, responseIsString: true, socketIsSecureSocket: true, certificateIsTheOneGiven: true, nested: false });
    expect(q.secure, where).to.deep.equal({ protocolVersion: 0x303, hasCertificate: true });
    expect(q.headers, where).to.be.an('array');
    expect(q.headers.length % 2, where).to.equal(0);
    const headers = headerPairs(q.headers);
    expect(Object.keys(headers).map((k) => k.toLowerCase()), `${where}: Request adds Content-Length itself`).not.to.include('content-length');
    expect(headers['Content-Type'], where).to.equal(q.path === '/auth' ? 'application/json' : 'application/octet-stream');
    expect(headers.password, `${where} password`).to.equal(passwords[i]);
    if (q.path === '/auth') checkAuthBody(q.body, i === 7 ? 'hmacmd5' : 'hmacsha1', where);
    else expect(q.body, `${where} payload bytes`).to.equal(Buffer.from(PAYLOAD_TEXT, 'utf8').toString('hex'));
  });
  expect(m.callbacks, 'callbacks, each once').to.deep.equal([
    { tag: 'first', err: null, result: { messageId: exactId(ids.m1) } },
    { tag: 'error', err: { code: 'ENETWORK', message: m.callbacks[1] && m.callbacks[1].err && m.callbacks[1].err.message }, result: null },
    { tag: 'secondClient', err: null, result: { messageId: exactId(ids.m2) } },
    { tag: 'countDeleted', err: null, result: { messageId: exactId(ids.m3) } },
    { tag: 'pieceDeleted', err: null, result: { messageId: exactId(ids.m4) } },
    { tag: 'timedOut', err: { code: 'ETIMEDOUT', message: m.callbacks[5] && m.callbacks[5].err && m.callbacks[5].err.message }, result: null },
  ]);
  // the timed-out Request, and only it, was closed (its socket freed)
  expect(m.requests.map((q) => q.closed), 'Requests closed').to.deep.equal([false, false, false, false, false, false, false, false, false, true]);
  // Preference within the smallest device's limits; the token split into pieces
  expect(m.violations, 'Preference limits').to.deep.equal([]);
  expect(tokens.m3.length, 'the test token is long enough to need pieces').to.be.above(150);
  const sets = m.prefLog.filter((e) => e[0] === 'set');
  for (const [, domain, key, value] of sets) {
    expect(domain.length, 'domain length').to.be.at.most(15);
    expect(key.length, 'key length').to.be.at.most(15);
    if (typeof value === 'string') expect(value.length, `value of ${key}`).to.be.at.most(62);
  }
  const last = new Map();
  for (const [, domain, key, value] of sets) {
    last.delete(domain + '\0' + key);
    last.set(domain + '\0' + key, value);
  }
  const kept = [...last.entries()].filter(([k]) => Object.prototype.hasOwnProperty.call(m.prefs[k.split('\0')[0]] || {}, k.split('\0')[1]));
  expect(kept.filter(([, v]) => typeof v === 'string').map(([, v]) => v).join(''), 'the token, from its pieces').to.include(tokens.m3);
  expect(m.digests, 'native Digest used for the sign').to.include.members(['SHA1', 'MD5']);
}

function checkReview(run) {
  checkRun(run);
  const v = run.result.review;
  REVIEW_REPLIES.forEach(([text, last, first], i) => {
    const r = v.ids[i], want = first && r.firstOfDuplicates ? first : last;
    expect(r.calls, `${text}: callbacks`).to.equal(1);
    if (want === 'EPROTO') expect(r.err && r.err.code, text).to.equal('EPROTO');
    else expect(r.result && r.result.messageId, text).to.equal(want);
  });
  REVIEW_TOPICS.forEach((t, i) => expect([v.topics[i].err && v.topics[i].err.code, v.topics[i].requests], t).to.deep.equal(['EINVAL', 0]));
  REVIEW_ENDPOINTS.forEach(([endpoint, want], i) => {
    const e = v.endpoints.find((x) => x.endpoint === endpoint);
    if (want === 'EINVAL') expect(e.err && e.err.code, endpoint).to.equal('EINVAL');
    else expect([e.host, e.port], endpoint).to.deep.equal(want);
  });
  expect(v.transportCode.err, 'a transport error with a string code').to.include({ code: 'ENETWORK', cause: 'ECONNRESET' });
  expect(v.transportCode.attempts, 'retried').to.equal(3);
  const buf = Buffer.from(REVIEW_BUFFER, 'hex');
  for (const p of v.payloads) {
    if (p.kind === 'DataView') expect(p.sent, 'a DataView payload').to.equal(buf.subarray(2, 5).toString('hex'));
    else if (p.kind === 'Int16Array') expect(p.sent, 'an Int16Array payload').to.equal(buf.subarray(2, 6).toString('hex'));
    else expect([p.err && p.err.code, p.sent, p.calls], p.kind).to.deep.equal(['EINVAL', null, 1]);
  }
  for (const c of v.clock) {
    const where = `clock throws at read ${c.bad}${c.stored ? ' (stored token)' : ''}`;
    expect(c.results.map((r) => r.threw || null), `${where}: nothing thrown`).to.deep.equal([null, null, null, null, null]);
    expect(c.results.map((r) => r.calls), `${where}: one callback each`).to.deep.equal([1, 1, 1, 1, 1]);
    const failed = c.results.filter((r) => r.err);
    expect(failed.map((r) => r.err.message), where).to.deep.equal(c.reads >= c.bad ? ['rtc read failed'] : []);
    expect(c.results[4].result && c.results[4].result.messageId, `${where}: the last publish works`).to.equal('892687627916247043');
  }
  const d = v.damaged;
  expect(d.result.result && d.result.result.messageId, 'a damaged stored token: the publish works').to.equal('892687627916247043');
  expect(d.requests.map((q) => [q.path, q.password]), 'a damaged stored token: dropped, /auth, the new token sent').to.deep.equal([['/auth', null], ['/topic' + TOPIC, 'review.tok.en']]);
  expect(JSON.parse(d.stored)[1], 'the new token stored').to.equal('review.tok.en');
}

// ---------------------------------------------------------------------------------------------

// The engine runs start when the first of them is needed, as many at a time as there are CPUs,
// the slowest (Espruino, MuJS) first.
let runs = null;
function startRuns() {
  if (runs) return runs;
  runs = new Map();
  const queue = [];
  for (const name of ['espruino', 'mujs', 'xst', 'duktape']) {
    const engine = ENGINES.find((e) => e.name === name), bin = engine.bin();
    if (!bin) continue;
    for (const target of engine.targets) {
      const data = makeInput(engine.name, target);
      let start;
      const promise = new Promise((resolve) => (start = resolve)).then(() => runEngine(engine, bin, target, data.input));
      queue.push(start);
      runs.set(`${engine.name}/${target}`, { data, promise });
    }
  }
  const next = () => queue.length && queue.shift()();
  for (const r of runs.values()) r.promise.then(next, next);
  for (let i = 0; i < Math.max(2, availableParallelism()); i++) next();
  return runs;
}

for (const engine of ENGINES) {
  for (const target of engine.targets) {
    const label = `${engine.name}`, bundle = `${target} bundle`;
    describe(`${label} running the ${bundle}`, function () {
      let run, data;
      before(async function () {
        this.timeout(RUN_TIMEOUT + 15000);
        if (!engine.bin()) {
          if (engine.apt && process.env.CI) throw new Error(`${engine.apt} is not installed (apt-get install ${engine.apt})`);
          return this.skip();
        }
        const started = startRuns().get(`${engine.name}/${target}`);
        data = started.data;
        run = await started.promise;
        console.log(`      (${engine.name} ran the ${bundle} script in ${run.ms} ms)`);
      });
      it(`${label}: hash vectors (${bundle})`, () => checkHashes(run, data.input, target));
      it(`${label}: sign example of protocol.md (${bundle})`, () => checkSign(run));
      it(`${label}: client scenario (${bundle})`, () => checkScenario(run, data, engine.name === 'duktape' || engine.name === 'mujs', engine.name, target));
      it(`${label}: what a review found, on the device bundle (${bundle})`, () => checkReview(run));
      if (target === 'espruino') it(`${label}: Espruino http transport and Storage (${bundle})`, () => checkEspruinoTransport(run, data, engine.name));
      if (target === 'moddable') it(`${label}: Moddable Request transport and Preference storage (${bundle})`, () => checkModdableTransport(run, data));
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Static checks of the device bundles.

const DEVICE_BUNDLES = [
  { file: 'build/espruino/aliyun-iot-http.min.js', module: false, espruino: true },
  { file: 'build/espruino/aliyun-iot-http.js', module: false, espruino: true },
  { file: 'build/espruino/aliyun-iot-http-sha1.min.js', module: false, espruino: true },
  { file: 'build/espruino/aliyun-iot-http-sha1.js', module: false, espruino: true },
  { file: 'build/espruino/aliyun-iot-http-sha256.min.js', module: false, espruino: true },
  { file: 'build/espruino/aliyun-iot-http-register.min.js', module: false, espruino: true },
  { file: 'build/espruino/aliyun-iot-http-register.js', module: false, espruino: true },
  { file: 'build/espruino/aliyun-iot-http-thing.min.js', module: false, espruino: true },
  { file: 'build/espruino/aliyun-iot-http-thing.js', module: false, espruino: true },
  { file: 'build/espruino/aliyun-iot-http-queue.min.js', module: false, espruino: true },
  { file: 'build/espruino/aliyun-iot-http-queue.js', module: false, espruino: true },
  { file: 'build/moddable/aliyun-iot-http.js', module: true, espruino: false },
  { file: 'build/moddable/aliyun-iot-http-hashes.js', module: true, espruino: false },
  { file: 'build/moddable/aliyun-iot-http-register.js', module: true, espruino: false },
  { file: 'build/moddable/aliyun-iot-http-thing.js', module: true, espruino: false },
  { file: 'build/moddable/aliyun-iot-http-queue.js', module: true, espruino: false },
  { file: 'build/moddable/aliyun-iot-http-queue-file.js', module: true, espruino: false },
];

function walk(node, visit, parent, key) {
  if (!node || typeof node.type !== 'string') return;
  visit(node, parent, key);
  for (const k of Object.keys(node)) {
    const v = node[k];
    if (Array.isArray(v)) v.forEach((c) => walk(c, visit, node, k));
    else if (v && typeof v.type === 'string') walk(v, visit, node, k);
  }
}

describe('device bundles: syntax, size and minifier output', function () {
  for (const b of DEVICE_BUNDLES) {
    it(`ES5: ${b.file} parses at ecmaVersion 5${b.module ? ' (imports and exports stripped, strict)' : ''}`, () => {
      const text = readFileSync(join(root, b.file), 'utf8');
      const script = b.module ? moddableAsScript(text, 'MODULES') : text;
      try {
        acorn.parse(script, { ecmaVersion: 5, sourceType: 'script' });
      } catch (e) {
        const at = e.pos === undefined ? '' : `: ...${script.slice(Math.max(0, e.pos - 60), e.pos)}<<HERE>>${script.slice(e.pos, e.pos + 60)}...`;
        throw new Error(`${b.file} is not ES5 (${e.message})${at}`);
      }
    });
  }

  it(`size: build/espruino/aliyun-iot-http.min.js is at most ${ESPRUINO_BUDGET} bytes, its SHA-1 module at most ${ESPRUINO_SHA1_BUDGET}, its SHA-256 module at most ${ESPRUINO_SHA256_BUDGET}, registration ${ESPRUINO_REGISTER_BUDGET}, thing model ${ESPRUINO_THING_BUDGET}, queue ${ESPRUINO_QUEUE_BUDGET}`, async function () {
    this.timeout(20000);
    const rows = [];
    for (const dir of ['build/espruino', 'build/moddable', 'build/node']) {
      for (const name of readdirSync(join(root, dir)).sort()) {
        if (!/\.(js|cjs|mjs)$/.test(name)) continue;
        const file = join(root, dir, name), text = readFileSync(file, 'utf8');
        const module = name.endsWith('.mjs') || dir === 'build/moddable';
        const min = (await minify(text, { ecma: 5, module, toplevel: true, compress: { sequences: false, passes: 2 } })).code;
        rows.push({
          file: `${dir}/${name}`,
          bytes: statSync(file).size,
          'gzip -9': gzipSync(text, { level: 9 }).length,
          'terser min': Buffer.byteLength(min),
          'min + gzip -9': gzipSync(min, { level: 9 }).length,
        });
      }
    }
    console.table(rows);
    const size = statSync(BUNDLES.espruino).size, sha1 = statSync(BUNDLES['espruino-sha1']).size;
    expect(size, `Espruino bundle bytes (budget ${ESPRUINO_BUDGET})`).to.be.at.most(ESPRUINO_BUDGET);
    expect(sha1, `Espruino SHA-1 module bytes (budget ${ESPRUINO_SHA1_BUDGET})`).to.be.at.most(ESPRUINO_SHA1_BUDGET);
    const sha256 = statSync(BUNDLES['espruino-sha256']).size;
    expect(sha256, `Espruino SHA-256 module bytes (budget ${ESPRUINO_SHA256_BUDGET})`).to.be.at.most(ESPRUINO_SHA256_BUDGET);
    expect(statSync(BUNDLES['espruino-register']).size, `Espruino registration module bytes (budget ${ESPRUINO_REGISTER_BUDGET})`).to.be.at.most(ESPRUINO_REGISTER_BUDGET);
    expect(statSync(BUNDLES['espruino-thing']).size, `Espruino thing-model module bytes (budget ${ESPRUINO_THING_BUDGET})`).to.be.at.most(ESPRUINO_THING_BUDGET);
    expect(statSync(BUNDLES['espruino-queue']).size, `Espruino queue module bytes (budget ${ESPRUINO_QUEUE_BUDGET})`).to.be.at.most(ESPRUINO_QUEUE_BUDGET);
  });

  for (const b of DEVICE_BUNDLES.filter((x) => x.espruino)) {
    it(`Espruino-safe output: ${b.file} has no comma group under && || ?: and no identifier of/let/static`, () => {
      const text = readFileSync(join(root, b.file), 'utf8');
      const ast = acorn.parse(text, { ecmaVersion: 5, sourceType: 'script', locations: true });
      const bad = [];
      const show = (n) => `line ${n.loc.start.line} col ${n.loc.start.column}: ${text.slice(n.start, Math.min(n.end, n.start + 100))}`;
      walk(ast, (node, parent, key) => {
        if (node.type === 'SequenceExpression' && parent && (parent.type === 'LogicalExpression' || parent.type === 'ConditionalExpression')) {
          bad.push(`comma group as ${parent.type}.${key} at ${show(node)}`);
        }
        // a variable, parameter or function name; property names (o.of, {of: 1}) are fine on Espruino
        const property = parent && ((parent.type === 'MemberExpression' && key === 'property' && !parent.computed) || (parent.type === 'Property' && key === 'key' && !parent.computed));
        if (node.type === 'Identifier' && !property && ['of', 'let', 'static'].includes(node.name)) bad.push(`identifier "${node.name}" at ${show(node)}`);
      });
      expect(bad, 'patterns Espruino mis-evaluates or rejects').to.deep.equal([]);
    });
  }
});
