// The Moddable client in the Moddable SDK's Linux simulator (mcsim), headless under Xvfb, against
// the emulator: an app that includes the package's build/moddable/manifest.json, built with
// mcconfig and launched twice. TLS is verified against the emulator's CA, given as a resource.
// Runs where MODDABLE points at an SDK with its tools built (mcconfig, mcsim) and Xvfb is
// installed; skipped otherwise. The example app (examples/moddable) is built and run the same
// way, and built for ESP32 where IDF_PATH points at an ESP-IDF (skipped otherwise).
import { createRequire } from 'node:module';
import { spawn, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { startProxy } from './engine/proxy.mjs';

const require = createRequire(import.meta.url);
const { startEmulator } = require('../build/node/emulator.cjs');
const root = fileURLToPath(new URL('..', import.meta.url));

const MODDABLE = process.env.MODDABLE;
const TOOLS = MODDABLE && join(MODDABLE, 'build', 'bin', 'lin', 'release');
const device = { productKey: 'a1SimProd', deviceName: 'sim-01', deviceSecret: 'sim-secret-0123' };
const topic = `/${device.productKey}/${device.deviceName}/user/telemetry`;
const product = { productKey: 'a1SimReg', productSecret: 'sim-product-secret', deviceNames: ['sim-reg-01'] };
const BINARY = Array.from({ length: 256 }, (_, i) => (i * 5 + 1) & 255);

function hasXvfb() {
  return spawnSync('sh', ['-c', 'command -v Xvfb'], { encoding: 'utf8' }).status === 0;
}

/** The app: publishes `payloads` (strings, or arrays of bytes) and traces one result line. */
function mainJs(endpoint, payloads) {
  return `import { createClient } from "aliyun-iot-http";
import Resource from "Resource";
import Timer from "timer";

const payloads = ${JSON.stringify(payloads)};
const results = [];
const client = createClient({ productKey: ${JSON.stringify(device.productKey)}, deviceName: ${JSON.stringify(device.deviceName)}, deviceSecret: ${JSON.stringify(device.deviceSecret)},
  endpoint: ${JSON.stringify(endpoint)}, certificate: new Resource("emulator-ca.der"), signMethod: "hmacsha256", timeout: 20000 });
function next() {
  const p = payloads.shift();
  if (p === undefined) return void trace("@@SIM " + JSON.stringify(results) + "\\n");
  client.publish(${JSON.stringify(topic)}, typeof p == "string" ? p : new Uint8Array(p), (err, r) => {
    results.push(err ? { code: err.code, message: err.message } : { messageId: r.messageId });
    Timer.set(next, 0);
  });
}
Timer.set(next, 0);
`;
}

/** The app of a device flashed with its product's secret: registration, then thing-model steps. */
function provisionJs(endpoint, dev, steps) {
  return `import { createClient } from "aliyun-iot-http-register";
import { thing, float } from "aliyun-iot-http-thing";
import Resource from "Resource";
import Timer from "timer";

const steps = ${JSON.stringify(steps)};
const results = [];
const client = createClient({ productKey: ${JSON.stringify(dev.productKey)}, deviceName: ${JSON.stringify(dev.deviceName)}, productSecret: ${JSON.stringify(dev.productSecret)},
  endpoint: ${JSON.stringify(endpoint)}, registerEndpoint: ${JSON.stringify(endpoint)}, certificate: new Resource("emulator-ca.der"), signMethod: "hmacsha256", timeout: 20000 });
const t = thing(client, { productKey: ${JSON.stringify(dev.productKey)}, deviceName: ${JSON.stringify(dev.deviceName)} });
function done(err, r) {
  results.push(err ? { code: err.code, message: err.message } : { messageId: r.messageId });
  Timer.set(next, 0);
}
function next() {
  const s = steps.shift();
  if (!s) return void trace("@@SIM " + JSON.stringify(results) + "\\n");
  if (s.post) t.post(Object.fromEntries(Object.entries(s.post).map(([k, v]) => [k, k == "temperature" ? float(v) : v])), done);
  else if (s.event) t.event(s.event, s.value, done);
  else t.version(s.version, s.module, done);
}
Timer.set(next, 0);
`;
}

/**
 * The app of a device with two queues over its client, one in Preference and one in files: it
 * accepts `payloads` into each (none on a relaunch), flushes both and traces the accepted
 * flags, what each found at start, and each queue's reports; `wait` ms for the result when
 * the link is down.
 */
function queueJs(endpoint, payloads, wait) {
  return `import { createClient } from "aliyun-iot-http";
import { queue } from "aliyun-iot-http-queue";
import { fileFiles } from "aliyun-iot-http-queue-file";
import config from "mc/config";
import Resource from "Resource";
import Timer from "timer";

const client = createClient({ productKey: ${JSON.stringify(device.productKey)}, deviceName: ${JSON.stringify(device.deviceName)}, deviceSecret: ${JSON.stringify(device.deviceSecret)},
  endpoint: ${JSON.stringify(endpoint)}, certificate: new Resource("emulator-ca.der"), timeout: 5000, retries: 0 });
const out = { accepted: [], found: [], reports: [[], []], status: [] };
const queues = [queue(client, { retry: 300, report: (err, m) => out.reports[0].push(err ? err.code : m.messageId + " " + m.topic) }),
  queue(client, { files: fileFiles(config.file.root), name: "aiqf", retry: 300, report: (err, m) => out.reports[1].push(err ? err.code : m.messageId + " " + m.topic) })];
let left = 2;
queues.forEach((q, i) => {
  out.found.push(q.status().messages);
  for (const p of ${JSON.stringify(payloads)}) out.accepted.push(q.publish(${JSON.stringify(topic)} + "/q" + i, typeof p == "string" ? p : new Uint8Array(p)));
  q.flush((err) => {
    if (err || --left) return; // a failure ends a flush; the queue itself retries
    out.status = queues.map((x) => x.status());
    trace("@@SIM " + JSON.stringify(out) + "\\n");
  });
});
Timer.set(() => {
  out.status = queues.map((x) => x.status());
  trace("@@SIM " + JSON.stringify(out) + "\\n");
}, ${wait});
`;
}

/** Writes the app folder: the package's manifest included, the emulator's CA as a resource, a private Preference file. */
function writeApp(app, store, ca, manifest = 'manifest.json') {
  writeFileSync(join(app, 'manifest.json'), JSON.stringify({
    include: ['$(MODDABLE)/examples/manifest_base.json', join(root, 'build', 'moddable', manifest)],
    modules: { '*': ['./main'] },
    resources: { '*': ['./emulator-ca'] },
    config: { file: { root: store + '/' } }, // a private Preference file, not the shared /tmp one
  }, null, 2));
  writeFileSync(join(app, 'emulator-ca.der'), new X509Certificate(ca).raw);
}

/** Runs mcconfig in `app` with `args` (options, then config overrides `key=value`). */
function mcconfig(app, args, env = {}, timeout = 180000) {
  return spawnSync(join(TOOLS, 'mcconfig'), args, {
    cwd: app, env: { ...process.env, ...env, PATH: `${TOOLS}:${process.env.PATH}` }, encoding: 'utf8', timeout, maxBuffer: 1 << 26, // the compiler warns a lot
  });
}

/**
 * Builds examples/moddable for the simulator as a user's app that includes it: its manifest,
 * main.js and resources as they are, the package's manifest from this repository's build (the
 * ALIYUN_IOT_HTTP variable the example reads), the emulator's CA added as a resource, a private
 * Preference file, and `config` given on the command line. Returns the path of mc.so.
 */
function buildExample(app, out, store, ca, config) {
  writeFileSync(join(app, 'manifest.json'), JSON.stringify({
    include: [join(root, 'examples', 'moddable', 'manifest.json')],
    resources: { '*': ['./emulator-ca'] },
    config: { file: { root: store + '/' } },
  }, null, 2));
  writeFileSync(join(app, 'emulator-ca.der'), new X509Certificate(ca).raw);
  return build(app, out, null, config, { ALIYUN_IOT_HTTP: join(root, 'build', 'moddable') });
}

/** Builds main.js `source` with mcconfig into `out`; returns the path of mc.so. */
function build(app, out, source, config = [], env = {}) {
  if (source != null) writeFileSync(join(app, 'main.js'), source);
  mkdirSync(out, { recursive: true });
  const b = mcconfig(app, ['-d', '-m', '-p', 'lin', '-t', 'build', '-o', out, ...config], env);
  const so = join(out, 'bin', 'lin', 'mc', 'debug', basename(app), 'mc.so'); // named after the app's folder
  const errors = `${b.stdout || ''}${b.stderr || ''}`.split('\n').filter((l) => /error|undefined|not found/i.test(l) && !/ssl\/error|error\.c|-Werror/.test(l));
  expect(existsSync(so), `mcconfig built ${so} (${b.error ? b.error.message : 'exit ' + b.status})\n${errors.join('\n')}\n${(b.stderr || '').slice(-1500)}`).to.equal(true);
  return so;
}

/** Starts Xvfb on a free display; resolves with its number and a stop function. */
function startXvfb() {
  return new Promise((resolve, reject) => {
    const x = spawn('Xvfb', ['-displayfd', '3', '-nolisten', 'tcp'], { stdio: ['ignore', 'ignore', 'ignore', 'pipe'] });
    let out = '';
    x.stdio[3].on('data', (d) => {
      out += d;
      if (out.includes('\n')) resolve({ display: ':' + out.trim(), stop: () => x.kill('SIGTERM') });
    });
    x.on('error', reject);
    x.on('exit', (code) => reject(new Error(`Xvfb exited (${code})`)));
  });
}

/**
 * Runs mc.so in mcsim until it traces its result line, or `until(output)` holds (or 60 s pass);
 * resolves with the output.
 */
function launch(so, display, xdg, until = (out) => /@@SIM .*\n/.test(out)) {
  return new Promise((resolve) => {
    const env = { ...process.env, DISPLAY: display, XDG_CONFIG_HOME: xdg, XSBUG_HOST: '127.0.0.1', XSBUG_PORT: '1', NO_AT_BRIDGE: '1' };
    const sim = spawn('stdbuf', ['-oL', join(TOOLS, 'mcsim'), so], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const stop = () => sim.kill('SIGTERM');
    const timer = setTimeout(stop, 60000);
    sim.stdout.setEncoding('utf8').on('data', (d) => {
      out += d;
      if (until(out)) stop();
    });
    sim.stderr.setEncoding('utf8').on('data', (d) => (out += d));
    sim.on('close', () => {
      clearTimeout(timer);
      const line = (/@@SIM (.*)\n/.exec(out) || [])[1];
      resolve({ results: line ? JSON.parse(line) : null, output: out.slice(-3000), lines: out.split('\n') });
    });
  });
}

describe('Moddable simulator (mcsim) against the emulator (MODDABLE)', function () {
  this.timeout(240000);
  let emu, dir, xvfb;

  before(async function () {
    if (!MODDABLE || !existsSync(join(TOOLS, 'mcsim')) || !existsSync(join(TOOLS, 'mcconfig')) || !hasXvfb()) return this.skip();
    emu = await startEmulator({ devices: [device], products: [product] });
    dir = mkdtempSync(join(tmpdir(), 'aliyun-sim-'));
    xvfb = await startXvfb();
  });
  after(async () => {
    if (xvfb) xvfb.stop();
    if (emu) await emu.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the token across a relaunch: the second launch publishes without /auth, every message byte-exact', async () => {
    const app = join(dir, 'app'), out = join(dir, 'out'), store = join(dir, 'store'), xdg = join(dir, 'xdg');
    for (const d of [app, out, store, xdg]) mkdirSync(d, { recursive: true });
    writeApp(app, store, emu.ca);
    const first = ['launch 1: text', BINARY], second = ['launch 2: text after a relaunch', BINARY.slice().reverse()];
    const built = [build(app, join(out, 'one'), mainJs(emu.url, first)), build(app, join(out, 'two'), mainJs(emu.url, second))];
    const r1 = await launch(built[0], xvfb.display, xdg);
    expect(r1.results, r1.output).to.not.equal(null);
    expect(r1.results.map((r) => r.code || null), r1.output).to.deep.equal([null, null]);
    expect(emu.authCount, 'the first launch authenticates').to.equal(1);
    expect(JSON.parse(emu.requests[0].body).signmethod, 'signed with crypt\'s SHA-256').to.equal('hmacsha256');
    expect(readFileSync(join(store, 'modpreferences.json'), 'utf8'), 'the token was saved').to.include('aliyun');

    const r2 = await launch(built[1], xvfb.display, xdg);
    expect(r2.results, r2.output).to.not.equal(null);
    expect(r2.results.map((r) => r.code || null), r2.output).to.deep.equal([null, null]);
    expect(emu.authCount, 'the second launch makes no /auth').to.equal(1);
    expect(emu.requests.filter((q) => q.path === '/auth')).to.have.length(1);

    const sent = [...first, ...second].map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p)));
    expect(emu.messages.map((m) => m.body.toString('hex'))).to.deep.equal(sent.map((b) => b.toString('hex')));
    expect(emu.messages.map((m) => m.messageId)).to.deep.equal([...r1.results, ...r2.results].map((r) => r.messageId));
  });

  it('registers, keeps its secret in Preference, reports properties, an event and its version; a relaunch neither registers nor authenticates', async () => {
    emu.reset();
    const app = join(dir, 'reg-app'), out = join(dir, 'reg-out'), store = join(dir, 'reg-store'), xdg = join(dir, 'reg-xdg');
    for (const d of [app, out, store, xdg]) mkdirSync(d, { recursive: true });
    writeApp(app, store, emu.ca);
    const dev = { productKey: product.productKey, productSecret: product.productSecret, deviceName: 'sim-reg-01' };
    const first = [{ post: { temperature: 21, humidity: 40, label: 'Küche' } }, { event: 'overheat', value: { level: 3 } }, { version: '2.0.0' }];
    const second = [{ post: { temperature: 22.5 } }];
    const built = [build(app, join(out, 'one'), provisionJs(emu.url, dev, first)), build(app, join(out, 'two'), provisionJs(emu.url, dev, second))];
    const r1 = await launch(built[0], xvfb.display, xdg);
    expect(r1.results && r1.results.map((r) => r.code || null), r1.output).to.deep.equal([null, null, null]);
    const r2 = await launch(built[1], xvfb.display, xdg);
    expect(r2.results && r2.results.map((r) => r.code || null), r2.output).to.deep.equal([null]);
    expect(emu.requests.map((q) => q.path.split('/').slice(0, 3).join('/'))).to.deep.equal(['/auth/register', '/auth', '/topic/sys', '/topic/sys', '/topic/ota', '/topic/sys']);
    expect(emu.registrations.map((x) => [x.code, x.signMethod])).to.deep.equal([[200, 'hmacsha256']]);
    expect(JSON.parse(emu.requests[1].body).signmethod).to.equal('hmacsha256');
    expect(readFileSync(join(store, 'modpreferences.json'), 'utf8'), 'the secret was saved').to.include(emu.registrations[0].deviceSecret.slice(0, 16));
    expect(emu.alink.map((a) => a.error)).to.deep.equal([undefined, undefined, undefined, undefined]);
    expect(emu.messages[0].body.toString('utf8')).to.include('"params":{"temperature":21.0,"humidity":40,"label":"Küche"}');
    expect(emu.properties(dev.productKey, dev.deviceName).temperature.value).to.equal(22.5);
    expect(emu.events(dev.productKey, dev.deviceName, 'overheat')).to.have.length(1);
    expect(emu.firmware(dev.productKey, dev.deviceName)).to.deep.include({ version: '2.0.0' });
    expect([...r1.results, ...r2.results].map((r) => r.messageId)).to.deep.equal(emu.messages.map((m) => m.messageId));
  });

  it('queues in Preference and in files: accepted while the link is down, delivered in order after a relaunch, each reported', async () => {
    emu.reset();
    const proxy = await startProxy(emu.port);
    try {
      const app = join(dir, 'q-app'), out = join(dir, 'q-out'), store = join(dir, 'q-store'), xdg = join(dir, 'q-xdg');
      for (const d of [app, out, store, xdg]) mkdirSync(d, { recursive: true });
      writeApp(app, store, emu.ca, 'manifest-file.json');
      const endpoint = `https://localhost:${proxy.port}`;
      const payloads = ['reading 1: 21.5 \u2103', BINARY, 'reading 3'];
      const built = [build(app, join(out, 'one'), queueJs(endpoint, payloads, 2000)), build(app, join(out, 'two'), queueJs(endpoint, [], 60000))];
      proxy.down();
      const r1 = await launch(built[0], xvfb.display, xdg);
      expect(r1.results, r1.output).to.not.equal(null);
      expect(r1.results.accepted).to.deep.equal([true, true, true, true, true, true]);
      expect(r1.results.status.map((x) => x.messages), 'kept while the link is down').to.deep.equal([3, 3]);
      expect(proxy.attempts.length, 'retried').to.be.at.least(2);
      expect(emu.messages).to.have.length(0);
      proxy.up();
      const r2 = await launch(built[1], xvfb.display, xdg);
      expect(r2.results, r2.output).to.not.equal(null);
      expect(r2.results.found, 'found after the relaunch').to.deep.equal([3, 3]);
      expect(r2.results.status.map((x) => x.messages)).to.deep.equal([0, 0]);
      const bytes = payloads.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p)).toString('hex'));
      for (const i of [0, 1]) {
        const got = emu.messages.filter((m) => m.topic.endsWith('/q' + i));
        expect(got.map((m) => m.body.toString('hex')), `queue ${i}: in order, byte-exact`).to.deep.equal(bytes);
        expect(r2.results.reports[i]).to.deep.equal(got.map((m) => `${m.messageId} ${m.topic}`));
      }
      expect(readFileSync(join(store, 'modpreferences.json'), 'utf8'), 'the Preference queue was used').to.include('aiq');
    } finally {
      await proxy.close();
    }
  });

  it('the example app: readings taken while the link is down are kept across a restart, then delivered in order, byte-exact', async () => {
    emu.reset();
    const proxy = await startProxy(emu.port);
    try {
      const app = join(dir, 'ex-app'), out = join(dir, 'ex-out'), store = join(dir, 'ex-store'), xdg = join(dir, 'ex-xdg');
      for (const d of [app, out, store, xdg]) mkdirSync(d, { recursive: true });
      const built = buildExample(app, out, store, emu.ca, [
        `productKey=${device.productKey}`, `deviceName=${device.deviceName}`, `deviceSecret=${device.deviceSecret}`,
        `endpoint=https://localhost:${proxy.port}`, 'certificate=emulator-ca.der', 'interval=1',
      ]);
      const topic = `/${device.productKey}/${device.deviceName}/user/update`; // the example's default
      const count = (prefix) => (o) => o.split('\n').slice(0, -1).filter((l) => l.startsWith(prefix)).length; // whole lines
      const queued = (r) => r.lines.filter((l) => l.startsWith('queued ')).map((l) => l.slice(7));

      proxy.down();
      const before = Date.now();
      const r1 = await launch(built, xvfb.display, xdg, (o) => count('queued ')(o) >= 3);
      const kept = queued(r1);
      expect(kept.length, r1.output).to.be.at.least(3);
      expect(r1.lines.filter((l) => /^(sent|dropped|refused) /.test(l)), 'nothing left the queue').to.deep.equal([]);
      expect(proxy.attempts.length, 'it tried to send').to.be.at.least(1);
      expect(emu.messages).to.have.length(0);

      proxy.up();
      const r2 = await launch(built, xvfb.display, xdg, (o) => count('sent ')(o) >= kept.length + 2);
      expect(r2.lines, r2.output).to.include(`${kept.length} readings kept from before`);
      const sent = r2.lines.filter((l) => l.startsWith('sent ')).map((l) => l.split(' '));
      expect(sent.length, r2.output).to.be.at.least(kept.length + 2);
      expect(sent.map((x) => x[2])).to.deep.equal(sent.map(() => topic));

      // every reading as the app made it, in order: those kept over the restart first
      const readings = [...kept, ...queued(r2)];
      expect(emu.messages.length).to.be.at.least(sent.length);
      expect(emu.messages.map((m) => m.body.toString('hex'))).to.deep.equal(readings.slice(0, emu.messages.length).map((p) => Buffer.from(p, 'utf8').toString('hex')));
      expect(emu.messages.map((m) => m.topic)).to.deep.equal(emu.messages.map(() => topic));
      expect(sent.map((x) => x[1])).to.deep.equal(emu.messages.slice(0, sent.length).map((m) => m.messageId));
      for (const p of readings) expect(JSON.parse(p).time, 'the clock was set').to.be.within(before - 60000, Date.now());
      expect(emu.authCount, 'one /auth for both launches').to.equal(1);
      expect(JSON.parse(emu.requests.find((q) => q.path === '/auth').body).signmethod).to.equal('hmacsha256');
      const logged = [...r1.lines, ...r2.lines].join('\n');
      expect(logged, 'the secret is never traced').to.not.include(device.deviceSecret);
    } finally {
      await proxy.close();
    }
  });
});

describe('Moddable example app for ESP32 (MODDABLE; the build itself needs IDF_PATH)', function () {
  this.timeout(1800000); // a first ESP32 build compiles ESP-IDF
  let dir;

  before(function () {
    if (!MODDABLE || !existsSync(join(TOOLS, 'mcconfig'))) return this.skip();
    dir = mkdtempSync(join(tmpdir(), 'aliyun-esp32-'));
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const env = () => ({ ALIYUN_IOT_HTTP: join(root, 'build', 'moddable') });
  const example = () => join(root, 'examples', 'moddable', 'manifest.json');

  it('resolves its manifest for esp32: the package preloaded, the root certificate, TLS stack, Wi-Fi from the command line', () => {
    const out = join(dir, 'manifest');
    mkdirSync(out, { recursive: true });
    const r = mcconfig(dir, ['-d', '-p', 'esp32', '-t', 'build', '-o', out, example(), 'ssid=my-ssid', 'password=my-password'], env());
    expect(r.status, `${r.stdout}\n${r.stderr}`).to.equal(0);
    const tmp = join(out, 'tmp', 'esp32', 'debug', 'moddable'); // named after the example's folder
    const flat = JSON.parse(readFileSync(join(tmp, 'manifest_flat.json'), 'utf8'));
    expect(flat.preload).to.include.members(['aliyun-iot-http', 'aliyun-iot-http-queue', 'setup/network', 'sntp']);
    expect(flat.creation.stack, 'XS stack, in slots').to.equal(512);
    expect(JSON.stringify(flat.resources)).to.include('globalsign-root-ca');
    const config = readFileSync(join(tmp, 'mc.config.js'), 'utf8');
    for (const s of ['"ssid": "my-ssid"', '"password": "my-password"', '"sntp": "pool.ntp.org"', '"certificate": "globalsign-root-ca.der"']) expect(config).to.include(s);
  });

  it('builds for esp32 (needs the ESP-IDF toolchain: IDF_PATH)', function () {
    const idf = process.env.IDF_PATH;
    if (!idf || !existsSync(join(idf, 'tools', 'idf.py'))) return this.skip();
    const out = join(dir, 'build');
    mkdirSync(out, { recursive: true });
    const r = mcconfig(dir, ['-d', '-m', '-p', 'esp32', '-t', 'build', '-o', out, example(), 'ssid=my-ssid', 'password=my-password'], env(), 1700000);
    const bin = join(out, 'bin', 'esp32', 'debug', 'moddable', 'xs_esp32.bin');
    expect(existsSync(bin), `${bin}\n${(r.stdout || '').slice(-2000)}\n${(r.stderr || '').slice(-2000)}`).to.equal(true);
  });
});
