// The Moddable queue modules (Preference and file system) on small engines: xst (XST_BIN), and
// Duktape and MuJS where installed, over stand-ins for Preference and File held to the
// smallest board's limits. What the stand-in link received is checked against Node's bytes.
import { spawn } from 'node:child_process';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { moddableAsScript } from './engine/moddable-module.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const engineFile = (name) => readFileSync(join(root, 'test', 'engine', name), 'utf8');
const bundle = (name) => readFileSync(join(root, 'build', 'moddable', name), 'utf8');
const onPath = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

const ENGINES = [
  { name: 'xst', bin: () => process.env.XST_BIN, args: (f) => ['-s', f] },
  { name: 'duktape', bin: () => (onPath('duk') ? 'duk' : null), args: (f) => [f] },
  { name: 'mujs', bin: () => (onPath('mujs') ? 'mujs' : null), args: (f) => [f] },
];

function script(engine) {
  return [
    `var ENGINE = ${JSON.stringify(engine)}, INPUT = {}, HASHLIB = null;`,
    engine === 'mujs' ? engineFile('typedarrays.js') : '',
    engineFile('harness.js'),
    engineFile('moddable-env.js'),
    `var Q = ${moddableAsScript(bundle('aliyun-iot-http-queue.js'), 'MOD.modules')};`,
    `MOD.modules["aliyun-iot-http-queue"] = Q;`,
    `var QF = ${moddableAsScript(bundle('aliyun-iot-http-queue-file.js'), 'MOD.modules')};`,
    engineFile('queue-scenario.js'),
    'H.run();',
  ].join('\n');
}

function run(engine, bin) {
  const dir = mkdtempSync(join(tmpdir(), 'aliyun-queue-engine-'));
  const file = join(dir, 'queue.js');
  writeFileSync(file, script(engine.name));
  return new Promise((resolve) => {
    const child = spawn(bin, engine.args(file), { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 60000);
    child.stdout.setEncoding('latin1').on('data', (d) => (out += d));
    child.stderr.setEncoding('latin1').on('data', (d) => (out += d));
    child.on('close', () => {
      clearTimeout(timer);
      rmSync(dir, { recursive: true, force: true });
      const lines = out.split(/\r?\n/);
      const line = lines.find((l) => l.startsWith('@@RESULT '));
      const result = line ? JSON.parse(line.slice(9)) : null;
      for (const part of lines.filter((l) => l.startsWith('@@PART '))) {
        const at = part.indexOf(' ', 7);
        result[part.slice(7, at)] = JSON.parse(part.slice(at + 1));
      }
      resolve({ result, output: out.slice(-3000) });
    });
  });
}

const generated = (len, seed) => Buffer.from(Array.from({ length: len }, (_, i) => (i * 7 + seed) & 255));
const payloads = Array.from({ length: 8 }, (_, i) => [`/p/d/user/m${i}`, i % 2 ? generated(40 + i * 30, i) : Buffer.from(`t\u00fcr ${i}`, 'utf8')]);
payloads.push(['/p/d/user/late', generated(300, 9)]);
const expectedSent = payloads.map(([t, b]) => `${t} ${b.toString('hex')}`);

describe('Moddable queue modules on small engines (Preference and File stand-ins)', function () {
  this.timeout(90000);
  for (const engine of ENGINES) {
    it(`${engine.name}: accepted while the link is down, found after a restart, delivered in order, full queue drops the oldest`, async function () {
      const bin = engine.bin();
      if (!bin) return this.skip();
      const { result, output } = await run(engine, bin);
      expect(result, output).to.not.equal(null);
      expect(result.errors, output).to.deep.equal([]);
      expect(result.completed).to.equal(true);
      for (const kind of ['preference', 'file']) {
        const r = result[kind];
        expect(r.accepted, kind).to.deep.equal(Array(9).fill(true));
        expect(r.sentWhileDown, kind).to.equal(0);
        expect(r.found, `${kind}: found after the restart`).to.equal(8);
        expect(r.flushed, kind).to.equal(null);
        expect(r.sent, `${kind}: delivered in order, byte-exact`).to.deep.equal(expectedSent);
        expect(r.reports, kind).to.deep.equal(payloads.map(([t], i) => `${1001 + i} ${t}`));
        expect(r.status, kind).to.deep.equal({ messages: 0, bytes: 0, dropped: 0 });
        expect(r.full.messages, kind).to.equal(2);
        expect(r.drops, kind).to.deep.equal(['EFULL', 'EFULL', 'ok', 'ok']);
        expect(r.sentFull, kind).to.deep.equal(['f2', 'f3'].map((p) => `/p/d/user/full ${Buffer.from(p).toString('hex')}`));
        expect(r.end, kind).to.deep.equal({ messages: 0, bytes: 0, dropped: 2 });
      }
      expect(result.violations, 'Preference and File used within the smallest board limits').to.deep.equal([]);
      expect(result.prefKeys.every((k) => k.length <= 15)).to.equal(true);
    });
  }
});
