// Runs the Espruino module on the interpreter's Linux build as a board runs it: the module saved
// in Storage (the build keeps it in ./espruino.flash), an application that requires it and
// publishes over real TLS to the emulator, and a restart of that application in the same
// folder (the token then comes from flash). Used by the engine tests and the benchmark.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const MODULE = join(root, 'build/espruino/aliyun-iot-http.min.js');

/**
 * Saves the built module, and the named companion modules ("register", "thing", ...), in the
 * Storage of an interpreter started in `dir`.
 */
export function saveModule(bin, dir, companions = []) {
  const names = ['aliyun-iot-http', ...companions.map((c) => 'aliyun-iot-http-' + c)];
  const writes = names.map((n) => `require("Storage").write(${JSON.stringify(n)}, ${JSON.stringify(readFileSync(join(root, 'build/espruino', n + '.min.js'), 'latin1'))});`);
  writeFileSync(join(dir, 'save.js'), writes.join('\n'));
  const r = spawnSync(bin, ['save.js'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'latin1', timeout: 30000 });
  if (r.status !== 0) throw new Error(`saving the module in Storage failed (exit ${r.status}): ${(r.stdout || '').slice(-2000)}`);
}

/** The bytes of a generated payload {len, seed}, as the board makes them. */
export function generated({ len, seed }) {
  return Buffer.from(Array.from({ length: len }, (_, i) => (i * 7 + seed) & 255));
}

/**
 * The application: holds `hold` variables (an Array of that many numbers), then publishes
 * `payloads` one after another: {text} as a string, {len, seed} as a Uint8Array it makes
 * (see generated()), so that the script itself stays small. With `sample` it records the
 * variables in use as each connection starts (by wrapping require("http").request) and the
 * highest use seen by a 1 ms sampler. It prints one JSON line.
 */
export function appScript({ device, endpoint, topic, payloads, hold = 0, sample = false }) {
  const binary = payloads.some((p) => p.text === undefined);
  return `
var before = process.memory().usage, hold = [], i;
for (i = 0; i < ${hold}; i++) hold.push(i);
var stats = { held: process.memory().usage - before, connects: [], peak: 0, results: [] }, sampler = 0;
${sample ? `var http = require("http"), request = http.request;
http.request = function (o, cb) {
  stats.connects.push(process.memory().usage);
  return request(o, cb);
};
sampler = setInterval(function () {
  var u = process.memory().usage;
  if (u > stats.peak) stats.peak = u;
}, 1);` : ''}
var client = require("aliyun-iot-http").createClient({ productKey: ${JSON.stringify(device.productKey)}, deviceName: ${JSON.stringify(device.deviceName)}, deviceSecret: ${JSON.stringify(device.deviceSecret)}, endpoint: ${JSON.stringify(endpoint)}, timeout: 20000 });
var payloads = ${JSON.stringify(payloads.map((p) => (binary ? p : p.text)))};
${binary ? `function payload(p) {
  var b;
  if (p.text !== undefined) return p.text;
  b = new Uint8Array(p.len);
  for (var j = 0; j < p.len; j++) b[j] = (j * 7 + p.seed) & 255;
  return b;
}` : 'function payload(p) { return p; }'}
function next() {
  var p = payloads.shift();
  if (p === undefined) {
    if (sampler) clearInterval(sampler);
    stats.idle = process.memory().usage;
    stats.total = process.memory().total;
    print("@@BOARD " + JSON.stringify(stats));
    return;
  }
  client.publish(${JSON.stringify(topic)}, payload(p), function (err, r) {
    stats.results.push(err ? { code: err.code, message: err.message } : { messageId: r.messageId });
    setTimeout(next, 10);
  });
}
next();
`;
}

/** Runs `script` in `dir`; resolves with the parsed @@BOARD line (or null) and the output. */
export function runApp(bin, dir, script, timeout = 60000) {
  writeFileSync(join(dir, 'app.js'), script);
  return new Promise((resolve) => {
    const child = spawn(bin, ['app.js'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeout);
    child.stdout.setEncoding('latin1').on('data', (d) => (out += d));
    child.stderr.setEncoding('latin1').on('data', (d) => (out += d));
    child.on('close', (status) => {
      clearTimeout(timer);
      const line = out.split(/\r?\n/).find((l) => l.includes('@@BOARD {')); // (a crash dump quotes the print call)
      const crash = /ASSERT\([^)]*\) FAILED AT [^\s]+|OUT OF MEMORY|LOW_MEMORY/.exec(out);
      resolve({ status, board: line ? JSON.parse(line.slice(line.indexOf('@@BOARD ') + 8)) : null, crash: crash && crash[0], output: out.slice(-3000) });
    });
  });
}

/**
 * A device flashed with its product's secret: the client of the registration module, and the
 * thing-model helpers over it, post `steps` ({post}, {event, value}, {version, module}) one
 * after another, then print one @@BOARD line with the results and whether Storage holds a
 * secret. Properties named in `floats` are sent through float().
 */
export function provisionScript({ device, endpoint, steps, floats = [] }) {
  return `
var T = require("aliyun-iot-http-thing");
var client = require("aliyun-iot-http-register").createClient({ productKey: ${JSON.stringify(device.productKey)}, deviceName: ${JSON.stringify(device.deviceName)}, productSecret: ${JSON.stringify(device.productSecret)}, endpoint: ${JSON.stringify(endpoint)}, registerEndpoint: ${JSON.stringify(endpoint)}, signMethod: "hmacsha256", timeout: 20000 });
var thing = T.thing(client, { productKey: ${JSON.stringify(device.productKey)}, deviceName: ${JSON.stringify(device.deviceName)} });
var steps = ${JSON.stringify(steps)}, floats = ${JSON.stringify(floats)}, results = [];
function done(err, r) {
  results.push(err ? { code: err.code, message: err.message } : { messageId: r.messageId });
  setTimeout(next, 10);
}
function next() {
  var s = steps.shift(), k;
  if (!s) return print("@@BOARD " + JSON.stringify({ results: results, stored: !!require("Storage").read("aliyun.secret") }));
  if (s.post) {
    for (k in s.post) if (floats.indexOf(k) >= 0) s.post[k] = T.float(s.post[k]);
    thing.post(s.post, done);
  } else if (s.event) thing.event(s.event, s.value, done);
  else thing.version(s.version, s.module, done);
}
next();
`;
}
