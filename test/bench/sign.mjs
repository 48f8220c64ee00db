// Sign speed: HMAC-SHA1 and HMAC-MD5 of an 84-byte auth sign text, strings in and hex out, on
// every engine. One engine process per (engine, implementation): a generated ES5 script of
// stand-ins, the loaded code, the cases and harness.js, printing one @@BENCH line per case.
import { spawn, spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUNDLES, LIBRARIES, libraryLoader, moddableLoader, read } from './libraries.mjs';

// The sign text of an auth request (productKey a1b2C3d4E5f, deviceName thermostat, clientId
// thermostat-07, a 13-digit timestamp) keyed by a 32-character device secret.
export const KEY = 'Sb0zJ4kqV9yXc2mRf7LpT1wHn6dQ8aEu';
export const MSG = 'clientIdthermostat-07deviceNamethermostatproductKeya1b2C3d4E5ftimestamp1764460800000';
if (MSG.length !== 84) throw new Error('the sign text must be 84 bytes');

const onPath = (cmd) => (spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0 ? cmd : null);

export const ENGINES = [
  { name: 'Node', bin: () => process.execPath, args: (f) => [f] },
  { name: 'Duktape', bin: () => onPath('duk'), args: (f) => [f], missing: 'duk not on PATH (apt-get install duktape)' },
  { name: 'MuJS', bin: () => onPath('mujs'), args: (f) => [f], missing: 'mujs not on PATH (apt-get install mujs)', lacks: 'typed arrays, unescape' },
  { name: 'Espruino', bin: () => process.env.ESPRUINO_BIN, args: (f) => [f], missing: 'ESPRUINO_BIN not set', lacks: 'unescape' },
  { name: 'XS', bin: () => process.env.XST_BIN, args: (f) => ['-s', f], missing: 'XST_BIN not set' },
];

const hmacOurs = (h, enc) => `L.hex(L.hmac(${h}, ${enc}(K), ${enc}(M)))`;
const NATIVE = 'try { NATIVE_SHA1 = (function (c) { return function (m) { return new Uint8Array(c(E.toString(m))); }; })(require("crypto").SHA1); } catch (e) {}';

// What runs on an engine: for our code the Moddable client bundle's hmac over its hashes
// module's pure MD5 and SHA-1; on Espruino the Espruino bundle's HMAC for SHA-1 (on the board's
// require("crypto").SHA1 as its client does, and on the pure SHA-1 module, also required from
// Storage as users load it) and the Moddable modules for MD5. Then each library. Code is loaded
// from a string in RAM unless said otherwise.
function subjects(engine) {
  const moddable = { name: 'ours', loader: () => `${moddableLoader()}\n${moddableLoader(BUNDLES.moddableHashes, 'S')}`, moddable: true, cases: [['sha1', hmacOurs('S.sha1', 'L.utf8')], ['md5', hmacOurs('S.md5', 'L.utf8')]] };
  const list = [moddable];
  if (engine === 'Espruino') {
    moddable.cases = moddable.cases.filter(([alg]) => alg === 'md5');
    const pure = ['sha1', hmacOurs('S.sha1', 'E.toUint8Array')];
    const inRam = (path) => `(function () {\nvar exports = {};\n${read(path)}\n;return exports;\n})()`;
    const stored = (name, path) => `require("Storage").write("${name}", ${JSON.stringify(read(path))});`;
    list.unshift(
      { name: 'ours', loader: () => `L = ${inRam(BUNDLES.espruino)};\nS = ${inRam(BUNDLES.espruinoSha1)};\n${NATIVE}`, cases: [pure, ['sha1', hmacOurs('NATIVE_SHA1', 'E.toUint8Array'), 'ours, native SHA-1']] },
      { name: 'ours', loader: () => `${stored('aliyun-iot-http', BUNDLES.espruino)}\n${stored('aliyun-iot-http-sha1', BUNDLES.espruinoSha1)}\nL = require("aliyun-iot-http");\nS = require("aliyun-iot-http-sha1");`, cases: [[...pure, 'ours, from Storage']] },
    );
  }
  for (const lib of LIBRARIES) list.push({ name: lib.name, loader: () => libraryLoader(lib), cases: Object.entries(lib.hmac) });
  return list;
}

// Stand-ins for what an engine lacks, given to a library only when it fails without them (our
// code always gets the typed arrays on MuJS, which has none): test/engine/typedarrays.js, and
// unescape (crypto-js and blueimp-md5 encode UTF-8 with unescape(encodeURIComponent(s))).
const UNESCAPE = `if (typeof unescape == "undefined") unescape = function (s) {
  var out = "", i = 0;
  while (i < s.length) {
    if (s.charAt(i) == "%") { out += String.fromCharCode(parseInt(s.slice(i + 1, i + 3), 16)); i += 3; }
    else out += s.charAt(i++);
  }
  return out;
};`;

async function script(engine, subject, cases, standins, samples) {
  const expected = { sha1: createHmac('sha1', KEY).update(MSG).digest('hex'), md5: createHmac('md5', KEY).update(MSG).digest('hex') };
  const parts = [];
  if (engine === 'Espruino') parts.push('echo(0);'); // else REPL prompts precede the output
  if (engine === 'Node') parts.push('var print = function (s) { console.log(s); };');
  if (standins) parts.push(read('test/engine/typedarrays.js'), UNESCAPE); // both install only where missing
  parts.push(`var INPUT = ${JSON.stringify({ key: KEY, msg: MSG, expected, ms: 200, samples, warm: engine === 'Node' ? 1000 : 0 })};`);
  parts.push('var L = null, S = null, LOADERR = null, NATIVE_SHA1 = null;');
  if (subject.moddable) parts.push(read('test/engine/moddable-env.js'));
  parts.push(`try {\n${await subject.loader()}\n} catch (e) {\nLOADERR = e;\n}`);
  const list = cases.map((c) => `{ id: ${JSON.stringify(c.id)}, alg: ${JSON.stringify(c.alg)}, f: function (L, K, M) { return ${c.expr}; } }`);
  parts.push(`var CASES = [\n${list.join(',\n')}\n];`);
  parts.push(read('test/bench/harness.js'));
  return parts.join('\n');
}

function runScript(bin, args, text, timeout, name) {
  const dir = mkdtempSync(join(tmpdir(), 'aliyun-bench-'));
  const file = join(dir, 'bench.js');
  writeFileSync(file, text);
  // to debug: BENCH_SCRIPT_DIR=/some/dir keeps a copy of every generated script
  if (process.env.BENCH_SCRIPT_DIR) writeFileSync(join(process.env.BENCH_SCRIPT_DIR, `${name}.js`), text);
  // a fresh cwd (Espruino keeps its Storage in ./espruino.flash), stdin closed
  const child = spawn(bin, args(file), { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '', err = '';
  child.stdout.setEncoding('latin1').on('data', (d) => (out += d));
  child.stderr.setEncoding('latin1').on('data', (d) => (err += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeout);
  return new Promise((resolve) => {
    const done = (status, error) => {
      clearTimeout(timer);
      rmSync(dir, { recursive: true, force: true });
      const lines = out.split(/\r?\n/).filter((l) => l.includes('@@BENCH ')).map((l) => JSON.parse(l.slice(l.indexOf('@@BENCH ') + 8)));
      resolve({ lines, status, error, tail: (err || out).trim().split('\n').slice(-2).join(' | ') });
    };
    child.on('error', (e) => done(null, e.message));
    child.on('close', (status, signal) => done(status, signal ? `killed (${signal})` : null));
  });
}

export const ROUNDS = 3, SAMPLES = 3;

async function runCases(engine, bin, subject, cases, standins) {
  const name = `${engine.name}-${cases[0].id.replace(/\W+/g, '-')}${standins ? '-standins' : ''}`;
  const run = await runScript(bin, engine.args, await script(engine.name, subject, cases, standins, SAMPLES), 180000, name);
  const lines = Object.fromEntries(run.lines.map((l) => [l.id, l]));
  return cases.map((c) => lines[c.id] || { fail: run.error || `exit ${run.status}: ${run.tail}` });
}

/**
 * results[engine][row] = {ops, samples, standins, failedWithout} | {fail} | {skipped}, where row
 * is "<implementation> <alg>" (e.g. "ours sha1", "js-md5 md5", "ours, native SHA-1 sha1"); ops is
 * the median of the samples of ROUNDS processes, run in turn with the other implementations
 * (this machine's speed drifts between processes).
 */
export async function signSpeed(log) {
  const results = {};
  for (const engine of ENGINES) {
    const bin = engine.bin(), r = (results[engine.name] = {});
    const plan = subjects(engine.name).map((subject) => ({ subject, cases: subject.cases.map(([alg, expr, label]) => ({ id: `${label || subject.name} ${alg}`, alg, expr })) }));
    if (!bin) {
      for (const c of plan.flatMap((p) => p.cases)) r[c.id] = { skipped: engine.missing };
      continue;
    }
    for (let round = 1; round <= ROUNDS; round++) {
      for (const p of plan) {
        // first round: plain, then (libraries that failed, on an engine that lacks something)
        // with stand-ins; our code always has the typed arrays on MuJS
        const attempts = round > 1 ? (p.standins === undefined ? [] : [p.standins]) : p.subject.name === 'ours' ? [engine.name === 'MuJS'] : engine.lacks ? [false, true] : [false];
        for (const standins of attempts) {
          log(`sign speed: ${p.subject.name} on ${engine.name}${standins ? ' with stand-ins' : ''}, round ${round}`);
          const lines = await runCases(engine, bin, p.subject, p.cases, standins);
          p.cases.forEach((c, i) => {
            const line = lines[i], prev = r[c.id];
            if (!line.samples) r[c.id] = prev || { fail: line.fail };
            else if (prev && prev.samples) prev.samples.push(...line.samples);
            else r[c.id] = { samples: line.samples, standins, failedWithout: prev && prev.fail };
          });
          if (lines.some((l) => l.samples)) p.standins = standins;
          if (p.cases.every((c) => r[c.id].samples)) break;
        }
      }
    }
    for (const v of Object.values(r)) if (v.samples) v.ops = v.samples.sort((a, b) => a - b)[v.samples.length >> 1];
  }
  return results;
}

export function engineVersions() {
  const sh = (cmd) => {
    const r = spawnSync('sh', ['-c', cmd], { encoding: 'utf8' });
    return r.status === 0 ? r.stdout.trim() : null;
  };
  const v = { Node: process.version };
  v.Duktape = onPath('duk') ? `duk ${(sh(`duk -e 'print(Duktape.version)'`) || '').replace(/^(\d)(\d\d)(\d\d)$/, (_, a, b, c) => `${a}.${+b}.${+c}`)}` : null;
  v.MuJS = onPath('mujs') ? `mujs ${sh("dpkg-query -W -f '${Version}' mujs 2>/dev/null") || '(version unknown)'}` : null;
  if (process.env.ESPRUINO_BIN) {
    const dir = mkdtempSync(join(tmpdir(), 'aliyun-bench-'));
    writeFileSync(join(dir, 'v.js'), 'echo(0);print("@@V " + process.version);');
    const out = spawnSync(process.env.ESPRUINO_BIN, [join(dir, 'v.js')], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'latin1', timeout: 20000 }).stdout || '';
    rmSync(dir, { recursive: true, force: true });
    const m = /@@V (\S+)/.exec(out);
    v.Espruino = `Espruino ${m ? m[1] : '(version unknown)'}`;
  }
  if (process.env.XST_BIN) v.XS = sh(`"${process.env.XST_BIN}" -v`);
  return v;
}
