// The README's way onto an Espruino board, run as written: the `espruino` command-line tool
// uploads the built modules into Storage and sends the example apps (examples/espruino), with
// the emulator's endpoint in their config, to Espruino's Linux build (ESPRUINO_BIN) over its
// telnet console (the tool's -p tcp://..., as for an ESP32 on the network). The apps publish over
// real TLS to the emulator. The deep-sleep and queue apps are kept in flash (save(), or sent to
// .bootcde) and the interpreter is killed and started again on the same flash: a board waking
// from deep sleep, or powered again.
//
// The Linux build's telnet console listens on port 2323, always: the interpreters here run one
// at a time, and the suite is skipped when something else holds that port.
import { createRequire } from 'node:module';
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const require = createRequire(import.meta.url);
const { startEmulator } = require('../build/node/emulator.cjs');
const root = fileURLToPath(new URL('..', import.meta.url));
const CLI = require.resolve('espruino/bin/espruino-cli.js');
const TELNET = 2323;
const PORT = `tcp://127.0.0.1:${TELNET}`;
// Options of the tool beside the README's commands: no Bluetooth scan, and no look-up of the
// modules the code requires on espruino.com (the README mentions both).
const OPTIONS = ['--no-ble', '--config', 'MODULE_URL='];
const MODULES = 'node_modules/aliyun-iot-http/build/espruino';

const device = { productKey: 'a1UploadProd', deviceName: 'upload-01', deviceSecret: 'upload-secret-0123' };
const topic = `/${device.productKey}/${device.deviceName}/user/update`; // the examples' default

/** Whether a socket listens on `port` (read from /proc, without touching the port). */
function listening(port) {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  return ['/proc/net/tcp', '/proc/net/tcp6'].some((file) => {
    let table = '';
    try {
      table = readFileSync(file, 'utf8');
    } catch {
      return false;
    }
    return table.split('\n').slice(1).some((row) => {
      const c = row.trim().split(/\s+/);
      return c.length > 3 && c[1].endsWith(hex) && c[3] === '0A'; // local address, state LISTEN
    });
  });
}

/** Whether the port can be had: nothing listens on it, and binding it works. */
function portFree(port) {
  if (listening(port)) return Promise.resolve(false);
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen({ port, host: '0.0.0.0', exclusive: true }, () => s.close(() => resolve(true)));
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The end of a long output, for a message. */
const tail = (text) => text.slice(-3000);

const CRASH = /ASSERT\(.*?\) FAILED AT \S+|OUT OF MEMORY|LOW_MEMORY|Uncaught [^\r\n]*/;

/**
 * Resolves once `test()` holds, checked every 50 ms; rejects after `ms` with `what()`, or at
 * once when `board` (if given) has crashed: an assertion of the debug build, out of memory, an
 * exception no one caught.
 */
async function until(test, ms, what, board) {
  const end = Date.now() + ms;
  while (!test()) {
    const crash = board && CRASH.exec(board.output);
    if (crash) throw new Error(`the board stopped: ${crash[0]}\n${what()}`);
    if (Date.now() > end) throw new Error(`timed out waiting for ${what()}`);
    await sleep(50);
  }
}

const running = new Set(); // interpreters to kill should the run end early

/**
 * The Linux build with its telnet console, in `dir` (its flash: ./espruino.flash). What it prints
 * while no telnet client is connected comes on its stdout, what it prints while the tool is
 * connected in the tool's output: `output` holds both, in order.
 */
class Board {
  constructor(bin, dir) {
    this.bin = bin;
    this.dir = dir;
    this.output = '';
    this.child = null;
  }

  async start() {
    this.child = spawn(this.bin, ['--telnet'], { cwd: this.dir, stdio: ['ignore', 'pipe', 'pipe'] });
    const child = this.child;
    running.add(child);
    this.exited = new Promise((resolve) => child.once('exit', resolve)).then(() => running.delete(child));
    this.child.stdout.setEncoding('latin1').on('data', (d) => (this.output += d));
    this.child.stderr.setEncoding('latin1').on('data', (d) => (this.output += d));
    await until(() => listening(TELNET) || this.ended(), 10000, () => `the telnet console:\n${this.output}`);
    if (this.ended()) throw new Error(`the interpreter ended:\n${this.output}`);
  }

  ended() {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  /** Power off: SIGKILL (the build writes its flash file at once, so nothing is lost). */
  async kill() {
    if (!this.child || this.ended()) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  /**
   * Runs the tool (see espruino()) against this board. While the tool is connected, what the
   * board prints goes to the tool (its lines marked "--] "); the console comes back to stdout
   * with "<- Telnet". Those lines are put into `output` there, so that it reads in order.
   */
  async tool(args, cwd) {
    const mark = this.output.length;
    const r = await espruino(args, cwd);
    await until(() => this.output.includes('<- Telnet', mark) || this.ended(), 10000, () => `the console back on stdout:\n${this.output}`);
    const at = this.output.indexOf('<- Telnet', mark);
    const told = r.out.split(/\n/).filter((l) => l.startsWith('--] ')).map((l) => l.slice(4)).join('\n');
    // (the interpreter may have ended meanwhile: then what it told the tool is its last word)
    this.output = at >= 0 ? `${this.output.slice(0, at)}${told}\n${this.output.slice(at)}` : `${this.output}\n${told}`;
    return r;
  }

  /** The lines printed, in order (without a leading prompt, or the escape code that erases it: ESC [ J). */
  lines() {
    return this.output.split(/[\r\n]+/).map((l) => l.replace(/^>?(\x1b\[J)?/, ''));
  }
}

process.once('exit', () => running.forEach((child) => child.kill('SIGKILL')));

/** Runs the tool in `cwd` (resolves {status, out}); killed after `ms`. */
function espruino(args, cwd, ms = 90000) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...OPTIONS, '-p', PORT, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.stdout.setEncoding('latin1').on('data', (d) => (out += d));
    child.stderr.setEncoding('latin1').on('data', (d) => (out += d));
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, out });
    });
  });
}

/** An example with its `config` filled in from `values` (each must be a key of the example's own). */
function filledIn(name, values) {
  const src = readFileSync(join(root, 'examples', 'espruino', name), 'utf8');
  const block = /^var config = \{\n[\s\S]*?^\};$/m;
  const found = block.exec(src);
  expect(found, `${name} starts with var config = {...};`).to.not.equal(null);
  const config = new Function(`${found[0]}\nreturn config;`)();
  for (const k of Object.keys(values)) expect(config, `${name}'s config`).to.have.property(k);
  return src.replace(block, () => `var config = ${JSON.stringify({ ...config, ...values }, null, 2)};`);
}

/**
 * A user's project: the package installed (node_modules/aliyun-iot-http: this checkout, whose
 * build/ the tool reads) and the filled-in example apps.
 */
function project(dir, apps) {
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(root, join(dir, 'node_modules', 'aliyun-iot-http'), 'dir');
  for (const [name, text] of Object.entries(apps)) writeFileSync(join(dir, name), text);
}

/** The README's upload of modules: `--storage name:file` for each, then a listing of Storage. */
function uploadModules(board, cwd, names) {
  const args = names.flatMap((n) => ['--storage', `${n}:${MODULES}/${n}.min.js`]);
  return board.tool([...args, '-e', "print(require('Storage').list())"], cwd);
}

/** `sent <messageId> <rest>` lines the apps printed. */
function sent(lines) {
  return lines.map((l) => /^sent (\d+) (.*)$/.exec(l)).filter(Boolean).map((m) => ({ messageId: m[1], rest: m[2] }));
}

/**
 * The Storage files of the board in `dir`, read by a fresh (non-telnet) interpreter there: each
 * file's length and SHA-1, and the SHA-1 module's digest of "abc".
 */
function storageOf(bin, dir, names) {
  const script = `var S = require("Storage"), out = {};
${JSON.stringify(names)}.forEach(function (n) {
  var f = S.read(n);
  out[n] = f === undefined ? null : [f.length, require("aliyun-iot-http").hex(new Uint8Array(require("crypto").SHA1(f)))];
});
try { out.abc = require("aliyun-iot-http").hex(require("aliyun-iot-http-sha1").sha1(E.toUint8Array("abc"))); } catch (e) {}
print("@@STORAGE " + JSON.stringify(out));`;
  writeFileSync(join(dir, 'storage.js'), script);
  const r = spawnSync(bin, ['storage.js'], { cwd: dir, encoding: 'latin1', timeout: 30000 });
  const line = (r.stdout || '').split(/\r?\n/).find((l) => l.startsWith('@@STORAGE '));
  if (!line) throw new Error(`reading Storage failed: ${r.stdout}${r.stderr}`);
  return JSON.parse(line.slice(10));
}

function sha1(file) {
  const b = readFileSync(join(root, 'build', 'espruino', file));
  return [b.length, createHash('sha1').update(b).digest('hex')];
}

// How queue.js is kept: saved (its functions in RAM), or sent to flash (.bootcde, its functions
// read from flash), as the README advises for a 5,100-variable board.
const BUILDS = [
  { env: 'ESPRUINO_BIN', variables: 8190, queue: ['queue.js', '-e', 'save()'] },
  { env: 'ESPRUINO_5100_BIN', variables: 5100, queue: ['--config', 'SAVE_ON_SEND=1', 'queue.js'] },
];

for (const build of BUILDS) describe(`Espruino with ${build.variables} variables: the README upload with the espruino tool, over the Linux build's telnet console (${build.env})`, function () {
  this.timeout(300000);
  const bin = process.env[build.env];
  let emu, work, board;

  before(async function () {
    if (!bin) return this.skip();
    if (!(await portFree(TELNET))) {
      console.log(`      (skipped: port ${TELNET}, where the Linux build's telnet console listens, is in use)`);
      return this.skip();
    }
    emu = await startEmulator({ devices: [device] });
  });
  after(() => emu && emu.close());
  beforeEach(() => {
    work = mkdtempSync(join(tmpdir(), 'aliyun-upload-'));
    mkdirSync(join(work, 'board'));
    mkdirSync(join(work, 'project'));
    if (emu) emu.reset();
  });
  afterEach(async () => {
    if (board) await board.kill();
    board = null;
    rmSync(work, { recursive: true, force: true });
  });

  const config = (more) => ({ productKey: device.productKey, deviceName: device.deviceName, deviceSecret: device.deviceSecret, endpoint: emu.url, ...more });
  const noSecret = (...printed) => expect(printed.join('\n'), 'the secret is never printed').to.not.include(device.deviceSecret);
  const auths = () => emu.requests.filter((q) => q.path === '/auth').length;

  it('uploads the client and the SHA-1 module into Storage byte-exact; publish.js, sent to the board, publishes a reading and prints its messageId', async () => {
    const dir = join(work, 'project');
    project(dir, { 'publish.js': filledIn('publish.js', config()) });
    board = new Board(bin, join(work, 'board'));
    await board.start();
    const t0 = Date.now();
    const up = await uploadModules(board, dir, ['aliyun-iot-http', 'aliyun-iot-http-sha1']);
    const tUpload = Date.now() - t0;
    expect(up.status, up.out).to.equal(0);
    expect(up.out, 'the listing printed by -e').to.match(/aliyun-iot-http-sha1/);

    const t1 = Date.now();
    const app = await board.tool(['publish.js'], dir);
    expect(app.status, app.out).to.equal(0);
    await until(() => sent(board.lines()).length > 0 || emu.messages.length > 1, 60000, () => `"sent ..." from the board:\n${tail(board.output)}\n${tail(app.out)}`, board);
    const tPublish = Date.now() - t1;
    const [s] = sent(board.lines());
    expect(emu.messages).to.have.length(1);
    expect(emu.messages[0].topic).to.equal(topic);
    expect(emu.messages[0].body.toString('latin1'), 'the bytes the board printed').to.equal(s.rest);
    expect(emu.messages[0].messageId).to.equal(s.messageId);
    expect(auths()).to.equal(1);
    await board.kill();

    const stored = storageOf(bin, join(work, 'board'), ['aliyun-iot-http', 'aliyun-iot-http-sha1', 'aliyun.token']);
    expect(stored['aliyun-iot-http']).to.deep.equal(sha1('aliyun-iot-http.min.js'));
    expect(stored['aliyun-iot-http-sha1']).to.deep.equal(sha1('aliyun-iot-http-sha1.min.js'));
    expect(stored.abc, 'the SHA-1 module from Storage').to.equal('a9993e364706816aba3e25717850c26c9cd0d89d');
    expect(stored['aliyun.token'], 'the token in Storage').to.not.equal(null);
    noSecret(board.output, up.out, app.out);
    console.log(`      (modules uploaded in ${tUpload} ms; publish.js sent and published in ${tPublish} ms: ${s.rest})`);
  });

  it('deep-sleep.js, sent and saved: three wakes publish, the second after a sleep in RAM, the third after a restart from flash; only the first calls /auth', async () => {
    const dir = join(work, 'project');
    project(dir, { 'deep-sleep.js': filledIn('deep-sleep.js', config({ sleep: 3 })) });
    board = new Board(bin, join(work, 'board'));
    await board.start();
    const up = await uploadModules(board, dir, ['aliyun-iot-http']);
    expect(up.status, up.out).to.equal(0);

    // sent to RAM and saved: save() calls onInit(), the first wake; its sleep ends in a timeout
    const t0 = Date.now();
    const app = await board.tool(['deep-sleep.js', '-e', 'save()'], dir);
    expect(app.status, app.out).to.equal(0);
    const sleeps = () => board.lines().filter((l) => /^sleeping 3 s$/.test(l)).length;
    await until(() => sleeps() >= 2, 90000, () => `two wakes:\n${tail(board.output)}\n${tail(app.out)}`, board);
    await board.kill(); // asleep after the second wake (3 s before the next): the power goes
    const tTwo = Date.now() - t0;
    const first = sent(board.lines());
    expect(first, board.output + app.out).to.have.length(2);
    expect(auths(), '/auth calls by the first two wakes').to.equal(1);
    noSecret(board.output, up.out, app.out);

    // a deep sleep's wake on an ESP32 is a restart: the saved code runs onInit() again
    const t1 = Date.now();
    board = new Board(bin, join(work, 'board'));
    await board.start();
    await until(() => /^sleeping 3 s$/m.test(board.lines().join('\n')), 60000, () => `the wake after a restart:\n${tail(board.output)}`, board);
    const tThird = Date.now() - t1;
    await board.kill();
    noSecret(board.output);
    expect(board.output).to.match(/Running onInit\(\)/);
    const all = [...first, ...sent(board.lines())];
    expect(emu.messages.map((m) => m.messageId)).to.deep.equal(all.map((x) => x.messageId));
    expect(emu.messages.map((m) => m.body.toString('latin1'))).to.deep.equal(all.map((x) => x.rest));
    expect(emu.messages.map((m) => m.topic)).to.deep.equal([topic, topic, topic]);
    expect(emu.requests.map((q) => (q.path === '/auth' ? 'auth' : 'topic')), 'only the first wake authenticates').to.deep.equal(['auth', 'topic', 'topic', 'topic']);
    console.log(`      (two wakes with a 3 s sleep between in ${tTwo} ms; the wake after a restart published in ${tThird} ms)`);
  });

  it('deep-sleep.js sent to flash (--config SAVE_ON_SEND=1, .bootcde) runs at every start: a wake, and after a restart another without /auth', async () => {
    const dir = join(work, 'project');
    project(dir, { 'deep-sleep.js': filledIn('deep-sleep.js', config({ sleep: 3600 })) });
    board = new Board(bin, join(work, 'board'));
    await board.start();
    const up = await uploadModules(board, dir, ['aliyun-iot-http']);
    expect(up.status, up.out).to.equal(0);
    const app = await board.tool(['--config', 'SAVE_ON_SEND=1', 'deep-sleep.js'], dir);
    expect(app.status, app.out).to.equal(0);
    await until(() => board.lines().includes('sleeping 3600 s'), 60000, () => `the first wake:\n${tail(board.output)}`, board);
    await board.kill();
    const first = sent(board.lines());
    noSecret(board.output, up.out, app.out);

    board = new Board(bin, join(work, 'board'));
    await board.start();
    await until(() => board.lines().includes('sleeping 3600 s'), 60000, () => `the wake after a restart:\n${tail(board.output)}`, board);
    await board.kill();
    noSecret(board.output);
    const all = [...first, ...sent(board.lines())];
    expect(all.map((x) => x.messageId)).to.deep.equal(emu.messages.map((m) => m.messageId));
    expect(all.map((x) => x.rest)).to.deep.equal(emu.messages.map((m) => m.body.toString('latin1')));
    expect(emu.requests.map((q) => (q.path === '/auth' ? 'auth' : 'topic'))).to.deep.equal(['auth', 'topic', 'topic']);
  });

  it(`queue.js, ${build.queue.includes('save()') ? 'sent and saved' : 'sent to flash'}: readings are queued and delivered in order, byte-exact; after a restart the rest follow, without /auth`, async () => {
    const dir = join(work, 'project');
    project(dir, { 'queue.js': filledIn('queue.js', config({ interval: 1 })) });
    board = new Board(bin, join(work, 'board'));
    await board.start();
    const up = await uploadModules(board, dir, ['aliyun-iot-http', 'aliyun-iot-http-queue']);
    expect(up.status, up.out).to.equal(0);

    const app = await board.tool(build.queue, dir);
    expect(app.status, app.out).to.equal(0);
    await until(() => emu.messages.length >= 3, 90000, () => `three deliveries:\n${tail(board.output)}\n${tail(app.out)}`, board);
    await board.kill(); // the power goes, perhaps with a message in flight
    const run1 = board.lines();
    noSecret(board.output, up.out, app.out);
    const delivered1 = emu.messages.length;

    board = new Board(bin, join(work, 'board'));
    await board.start();
    await until(() => emu.messages.length >= delivered1 + 2, 90000, () => `two more deliveries after the restart:\n${tail(board.output)}`, board);
    await board.kill();
    const run2 = board.lines();
    noSecret(board.output);

    const queued = (lines) => lines.map((l) => /^queued (.*)$/.exec(l)).filter(Boolean).map((m) => m[1]);
    const got = emu.messages.map((m) => m.body.toString('latin1'));
    // in order across the restart; the message in flight at the power cut may come twice
    const firsts = got.filter((b, k) => k === 0 || b !== got[k - 1]);
    expect(got.length - firsts.length, 'copies').to.be.at.most(1);
    expect(firsts).to.deep.equal([...queued(run1), ...queued(run2)].slice(0, firsts.length));
    expect(queued(run1).slice(0, 3).map((p) => JSON.parse(p).n), 'readings counted from 1').to.deep.equal([1, 2, 3]);
    expect(JSON.parse(queued(run2)[0]).n, 'counted from 1 again after the restart').to.equal(1);
    // every messageId the app printed is the emulator's, in order
    const ids = emu.messages.map((m) => m.messageId);
    const printed = sent([...run1, ...run2]).map((s) => s.messageId);
    expect(sent([...run1, ...run2]).every((x) => x.rest === topic && ids.includes(x.messageId))).to.equal(true);
    expect(printed.every((id, k) => k === 0 || ids.indexOf(id) > ids.indexOf(printed[k - 1])), `${printed} in ${ids}`).to.equal(true);
    // unreported: at most the message in flight at each power cut (the emulator has it, the board had no answer)
    expect(ids.length - printed.length, `${printed} of ${ids}`).to.be.at.most(2);
    expect(emu.messages.every((m) => m.topic === topic)).to.equal(true);
    expect(auths(), '/auth calls').to.equal(1);
    console.log(`      (${delivered1} delivered before the power cut, ${emu.messages.length - delivered1} after the restart${got.length > firsts.length ? ', one sent twice' : ''})`);
  });
});
