// The queue module on Espruino's Linux build (ESPRUINO_BIN: 8,190 variables; ESPRUINO_5100_BIN:
// a Pico's 5,100), its records in Storage (the build keeps its flash in ./espruino.flash), over
// real TLS to the emulator. The interpreter is killed while it sends; a new one sends the rest.
import { createRequire } from 'node:module';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { saveModule } from './engine/espruino-board.mjs';

const require = createRequire(import.meta.url);
const { startEmulator } = require('../build/node/emulator.cjs');

const device = { productKey: 'a1BoardQueue', deviceName: 'pico-q', deviceSecret: 'board-queue-secret' };
const topic = `/${device.productKey}/${device.deviceName}/user/readings`;

/**
 * The application: a client and a queue over it; every write of the queue to Storage is
 * counted (through the module's storageFiles), each report is kept; it accepts `payloads`, then
 * flushes and prints one @@BOARD line.
 */
function queueApp({ endpoint, payloads, keep = true }) {
  return `
var stats = { writes: 0, bytes: 0, creates: 0, erases: 0, accepted: [], reports: [] };
var Q = require("aliyun-iot-http-queue"), f = Q.storageFiles, write = f.write, erase = f.erase;
f.write = function (n, d, o, s) {
  stats.writes++;
  stats.bytes += d.length;
  if (s !== undefined) stats.creates++;
  return write(n, d, o, s);
};
f.erase = function (n) {
  stats.erases++;
  return erase(n);
};
var client = require("aliyun-iot-http").createClient({ productKey: ${JSON.stringify(device.productKey)}, deviceName: ${JSON.stringify(device.deviceName)}, deviceSecret: ${JSON.stringify(device.deviceSecret)}, endpoint: ${JSON.stringify(endpoint)}, timeout: 20000 });
var q = Q.queue(client, { retry: 300, report: function (err, m) {
  stats.reports.push(${keep} ? (err ? { code: err.code } : { messageId: m.messageId, topic: m.topic, accepted: m.accepted }) : err ? err.code : 0);
} });
stats.found = q.status().messages;
${JSON.stringify(payloads)}.forEach(function (p) {
  stats.accepted.push(q.publish(${JSON.stringify(topic)}, p));
});
stats.afterAccept = { writes: stats.writes, bytes: stats.bytes, creates: stats.creates };
stats.queued = q.status();
q.flush(function (err) {
  stats.err = err && err.code;
  stats.status = q.status();
  stats.files = require("Storage").list(/^aiq/);
  stats.memory = process.memory().usage;
  print("@@BOARD " + JSON.stringify(stats));
});
`;
}

/** Runs the app in `dir`; `killWhen` (checked every 20 ms) kills the interpreter with SIGKILL. */
function run(bin, dir, script, killWhen, timeout = 120000) {
  writeFileSync(join(dir, 'app.js'), script);
  return new Promise((resolve) => {
    const child = spawn(bin, ['app.js'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let killed = false;
    const kill = () => {
      killed = true;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(kill, timeout);
    const poll = killWhen && setInterval(() => killWhen() && kill(), 20);
    child.stdout.setEncoding('latin1').on('data', (d) => (out += d));
    child.stderr.setEncoding('latin1').on('data', (d) => (out += d));
    child.on('close', () => {
      clearTimeout(timer);
      clearInterval(poll);
      const line = out.split(/\r?\n/).find((l) => l.includes('@@BOARD {'));
      const crash = /ASSERT\([^)]*\) FAILED AT [^\s]+|OUT OF MEMORY|LOW_MEMORY|Uncaught/.exec(out);
      resolve({ killed, board: line ? JSON.parse(line.slice(line.indexOf('@@BOARD ') + 8)) : null, crash: crash && crash[0], output: out.slice(-3000) });
    });
  });
}

const BUILDS = [
  { env: 'ESPRUINO_BIN', variables: 8190 },
  { env: 'ESPRUINO_5100_BIN', variables: 5100 },
];

for (const build of BUILDS) {
  describe(`Espruino with ${build.variables} variables: the queue in Storage over real TLS (${build.env})`, function () {
    this.timeout(300000);
    let emu, dir;
    const bin = process.env[build.env];
    before(async function () {
      if (!bin) return this.skip();
      emu = await startEmulator({ devices: [device] });
    });
    after(() => emu && emu.close());
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'aliyun-board-queue-'));
      if (emu) emu.reset();
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('killed while sending, restarted: the rest is delivered in order; one write per accepted message, a 1-byte mark per delivery', async () => {
      saveModule(bin, dir, ['queue']);
      const payloads = Array.from({ length: 6 }, (_, i) => `reading ${i}: ${20 + i}.5 C`);
      // every publish answered slowly, so that the kill falls while one is in flight
      for (let i = 0; i < 6; i++) emu.fault({ type: 'delay', ms: 400 }, 'topic');
      const r1 = await run(bin, dir, queueApp({ endpoint: emu.url, payloads }), () => emu.messages.length >= 2);
      expect(r1.killed, r1.output).to.equal(true);
      expect(r1.crash, r1.output).to.equal(null);
      const before = emu.messages.length;
      const r2 = await run(bin, dir, queueApp({ endpoint: emu.url, payloads: [] }));
      expect(r2.crash, r2.output).to.equal(null);
      expect(r2.board, r2.output).to.not.equal(null);
      expect(r2.board.found, 'queued in Storage after the kill').to.be.within(6 - before, 7 - before);
      expect(r2.board.status).to.deep.equal({ messages: 0, bytes: 0, dropped: 0 });
      const got = emu.messages.map((m) => m.body.toString());
      // in order; the message in flight at the kill may come twice, one after the other
      const firsts = got.filter((b, k) => k === 0 || b !== got[k - 1]);
      expect(firsts).to.deep.equal(payloads);
      expect(got.length - firsts.length).to.be.at.most(1);
      const reported = r2.board.reports.map((x) => x.messageId);
      expect(reported).to.deep.equal(emu.messages.slice(before).map((m) => m.messageId));
      expect(r2.board.reports.every((x) => x.topic === topic && x.accepted > 1.7e12)).to.equal(true);
      // the second run wrote only marks (1 byte each) and erased what it emptied
      expect(r2.board.writes, 'one mark per delivery').to.equal(r2.board.reports.length);
      expect(r2.board.bytes).to.equal(r2.board.reports.length);
      console.log(`      (killed after ${before} delivered; the restart found ${r2.board.found}, delivered them with ${r2.board.writes} one-byte writes and ${r2.board.erases} erase; files left: ${r2.board.files.join(', ') || 'none'}; variables in use ${r2.board.memory})`);
    });

    it('accepting costs one Storage write per message, no rewrite; the queue empties and its files go', async () => {
      saveModule(bin, dir, ['queue']);
      const payloads = Array.from({ length: 30 }, (_, i) => `{"t":${20 + i / 10},"h":${40 + i}}`);
      const r = await run(bin, dir, queueApp({ endpoint: emu.url, payloads, keep: false }));
      expect(r.crash, r.output).to.equal(null);
      expect(r.board, r.output).to.not.equal(null);
      expect(r.board.accepted.every(Boolean)).to.equal(true);
      const a = r.board.afterAccept;
      expect(a.writes - a.creates, 'one write per accepted message').to.equal(30);
      expect(r.board.writes - a.writes, 'one mark per delivery').to.equal(30);
      expect(emu.messages.map((m) => m.body.toString())).to.deep.equal(payloads);
      expect(r.board.status.messages).to.equal(0);
      expect(r.board.reports, 'each reported delivered').to.deep.equal(Array(30).fill(0));
      expect(r.board.files.length, 'at most the last segment remains').to.be.at.most(1);
      console.log(`      (30 messages of ${Math.round((a.bytes - 5 * a.creates) / 30)} bytes: ${a.writes - a.creates} writes, ${a.creates} segment files created, ${r.board.erases} erased, 30 one-byte marks; variables in use ${r.board.memory})`);
    });
  });
}
