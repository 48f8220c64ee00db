// The store-and-forward queue on Node, against the emulator behind a relay that can take the
// link down: order, at-least-once delivery, budgets and their policies, damaged files, and a
// device process killed a hundred times while it accepts and sends.
import { createRequire } from 'node:module';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, readdirSync, readFileSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { startProxy } from './engine/proxy.mjs';

const require = createRequire(import.meta.url);
const { createClient, createQueue, folderFiles } = require('../build/node/index.cjs');
const { startEmulator } = require('../build/node/emulator.cjs');
const { payloadOf, idOf } = require('./engine/queue-payload.cjs');
const here = dirname(fileURLToPath(import.meta.url));

const device = { productKey: 'a1QueueProd', deviceName: 'queue-01', deviceSecret: 'queue-secret-0123' };
const topic = `/${device.productKey}/${device.deviceName}/user/data`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function until(test, ms = 10000) {
  const end = Date.now() + ms;
  while (!test()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await sleep(10);
  }
}

/** Files that count every write and its bytes, over a folder. */
function counted(dir) {
  const f = folderFiles(dir);
  const c = { writes: 0, bytes: 0, creates: 0, erases: 0 };
  return {
    c,
    files: {
      list: f.list,
      read: f.read,
      write(name, data, offset, size) {
        c.writes++;
        c.bytes += data.length;
        if (size !== undefined) c.creates++;
        return f.write(name, data, offset, size);
      },
      erase(name) {
        c.erases++;
        return f.erase(name);
      },
    },
  };
}

describe('queue on Node: store and forward', function () {
  this.timeout(30000);
  let emu, proxy, dir, clients, queues;
  const client = (extra = {}) => {
    const c = createClient({ ...device, endpoint: `https://localhost:${proxy.port}`, ca: emu.ca, dir: join(dir, 'token'), timeout: 1000, retries: 0, ...extra });
    clients.push(c);
    return c;
  };
  const queue = (c, extra = {}) => {
    const q = createQueue(c, { dir: join(dir, 'queue'), retry: 20, maxRetry: 160, ...extra });
    queues.push(q);
    return q;
  };
  const bodies = () => emu.messages.map((m) => m.body.toString());

  before(async () => {
    emu = await startEmulator({ devices: [device] });
    proxy = await startProxy(emu.port);
  });
  after(async () => {
    await proxy.close();
    await emu.close();
  });
  beforeEach(() => {
    emu.reset();
    proxy.up();
    proxy.attempts.length = 0;
    dir = mkdtempSync(join(tmpdir(), 'aliyun-queue-'));
    clients = [];
    queues = [];
  });
  afterEach(() => {
    queues.forEach((q) => q.close());
    clients.forEach((c) => c.close());
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes each message to its file before publish returns, then delivers in order with one /auth', async () => {
    const q = queue(client());
    const results = [];
    for (let i = 0; i < 5; i++) {
      expect(q.publish(topic, `reading ${i}`, (err, m) => results.push(err || m))).to.equal(true);
      const files = readdirSync(join(dir, 'queue'));
      const text = files.map((f) => readFileSync(join(dir, 'queue', f), 'latin1')).join('');
      expect(text, 'on disk when publish returned').to.include(`${topic} reading ${i}`);
    }
    expect(q.status()).to.include({ messages: 5, dropped: 0 });
    await q.flush();
    expect(bodies()).to.deep.equal([0, 1, 2, 3, 4].map((i) => `reading ${i}`));
    expect(results.map((r) => r.messageId)).to.deep.equal(emu.messages.map((m) => m.messageId));
    expect(results.every((r) => r.topic === topic && r.accepted > 1.7e12)).to.equal(true);
    expect(emu.requests.filter((r) => r.path === '/auth')).to.have.length(1);
    expect(q.status()).to.deep.equal({ messages: 0, bytes: 0, dropped: 0 });
  });

  it('keeps what a dead link could not take, retries with growing back-off, and delivers all in order once it is back', async () => {
    const q = queue(client());
    proxy.down();
    const results = [];
    for (let i = 0; i < 20; i++) {
      expect(q.publish(topic, payloadOf(i), (err, m) => results.push(err ? err.code : m.messageId))).to.equal(true);
      await sleep(15);
    }
    await sleep(400);
    expect(emu.messages, 'nothing through a dead link').to.have.length(0);
    expect(q.status().messages).to.equal(20);
    const tries = proxy.attempts.map((a) => a.at);
    const gaps = tries.slice(1).map((t, i) => t - tries[i]);
    expect(gaps.length, 'retried while down').to.be.at.least(3);
    expect(Math.max(...gaps.slice(-2)), 'the back-off grew').to.be.at.least(100);
    expect(Math.max(...gaps), 'up to maxRetry').to.be.below(400);
    proxy.up();
    await until(() => results.length === 20);
    expect(emu.messages.map((m) => idOf(m.body))).to.deep.equal([...Array(20).keys()]);
    expect(results).to.deep.equal(emu.messages.map((m) => m.messageId));
    expect(q.status().messages).to.equal(0);
  });

  it('a new process delivers what an earlier one accepted, and reports each with its topic, time and messageId', async () => {
    proxy.down();
    const c1 = client();
    const q1 = queue(c1);
    const t0 = Date.now();
    for (let i = 0; i < 4; i++) q1.publish(topic, `before restart ${i}`);
    q1.close();
    c1.close();
    proxy.up();
    const reports = [];
    const q2 = queue(client(), { report: (err, m) => reports.push({ err, m }) });
    expect(q2.status().messages, 'found on disk').to.equal(4);
    q2.publish(topic, 'after restart', () => {});
    await q2.flush();
    expect(bodies()).to.deep.equal(['before restart 0', 'before restart 1', 'before restart 2', 'before restart 3', 'after restart']);
    expect(reports.map((r) => r.err)).to.deep.equal([null, null, null, null, null]);
    expect(reports.map((r) => r.m.messageId)).to.deep.equal(emu.messages.map((m) => m.messageId));
    expect(reports.every((r) => r.m.topic === topic && r.m.accepted >= t0 - 1 && r.m.accepted <= Date.now())).to.equal(true);
  });

  it('sets aside a message the service refuses for good (10001, or 30001 three times) with its code and payload, and goes on', async () => {
    const reports = [];
    const q = queue(client(), { report: (err, m) => reports.push([err && err.code, m.payload && Buffer.from(m.payload).toString()]) });
    emu.fault({ type: 'code', code: 10001, message: 'param error' }, 'topic');
    q.publish(topic, 'refused');
    q.publish(topic, 'kept 1');
    await q.flush();
    expect(reports).to.deep.equal([[10001, 'refused'], [null, undefined]]);
    // 30001 once is retried; three times in a row sets the message aside
    emu.fault({ type: 'code', code: 30001 }, 'topic');
    q.publish(topic, 'once 30001');
    await q.flush().catch(() => {});
    await q.flush();
    for (let i = 0; i < 3; i++) emu.fault({ type: 'code', code: 30001 }, 'topic');
    const codes = [];
    q.publish(topic, 'thrice 30001', (err) => codes.push(err && err.code));
    q.publish(topic, 'kept 2', (err) => codes.push(err && err.code));
    while (q.status().messages) await q.flush().catch(() => {});
    expect(codes).to.deep.equal([30001, null]);
    expect(bodies()).to.deep.equal(['kept 1', 'once 30001', 'kept 2']);
    expect(q.status().dropped).to.equal(2);
  });

  it('keeps messages through transient failures: 40000, HTTP 5xx, a reset, a timeout, a token the service forgot', async () => {
    const q = queue(client({ timeout: 300 }));
    const seen = [];
    const faults = [{ type: 'code', code: 40000 }, { type: 'status', status: 503 }, { type: 'reset' }, { type: 'drop' }, { type: 'garbage' }];
    faults.forEach((f) => emu.fault(f, 'topic'));
    q.publish(topic, 'through faults', (err, m) => seen.push(err ? err.code : 'ok'));
    for (let i = 0; i < 10 && !seen.length; i++) await q.flush().catch(() => {});
    emu.revokeTokens();
    q.publish(topic, 'after revoke', (err, m) => seen.push(err ? err.code : 'ok'));
    await q.flush();
    expect(seen).to.deep.equal(['ok', 'ok']);
    expect(bodies()).to.deep.equal(['through faults', 'after revoke']);
  });

  it('full under "drop-oldest": the oldest are dropped, each reported with EFULL and counted', async () => {
    proxy.down();
    const outcome = [];
    const q = queue(client(), { maxMessages: 3 });
    for (let i = 0; i < 5; i++) expect(q.publish(topic, `m${i}`, (err) => outcome.push([i, err ? err.code : 'ok']))).to.equal(true);
    expect(q.status()).to.include({ messages: 3, dropped: 2 });
    proxy.up();
    await q.flush();
    expect(outcome).to.deep.equal([[0, 'EFULL'], [1, 'EFULL'], [2, 'ok'], [3, 'ok'], [4, 'ok']]);
    expect(bodies()).to.deep.equal(['m2', 'm3', 'm4']);
  });

  it('full under "refuse": publish returns false, the callback gets EFULL, nothing queued is dropped; the byte budget counts too', async () => {
    proxy.down();
    const outcome = [];
    const q = queue(client(), { full: 'refuse', maxBytes: 3 * 60 });
    const accepted = [];
    for (let i = 0; i < 6; i++) accepted.push(q.publish(topic, `m${i}`.padEnd(20, '.'), (err) => outcome.push([i, err ? err.code : 'ok'])));
    const kept = accepted.filter(Boolean).length;
    expect(kept).to.be.within(2, 3);
    expect(accepted.slice(kept).every((a) => a === false)).to.equal(true);
    expect(q.status().bytes).to.be.at.most(180);
    proxy.up();
    await q.flush();
    await sleep(20);
    expect(outcome.filter((o) => o[1] === 'EFULL').map((o) => o[0])).to.deep.equal([...Array(6 - kept).keys()].map((i) => i + kept));
    expect(bodies()).to.have.length(kept);
    expect(() => createQueue(client(), { dir: join(dir, 'q2'), full: 'drop-newest' })).to.throw(/bad option full/);
  });

  it('"drop-oldest" while the oldest is being sent: it is reported by its answer (delivered here), and the rest stays in order', async () => {
    emu.fault({ type: 'delay', ms: 300 }, 'topic');
    const outcome = [];
    const reports = [];
    const q = queue(client(), { maxMessages: 2, report: (err, m) => reports.push([err ? err.code : 'ok', m.topic.split('/').pop()]) });
    q.publish(`${topic}/a`, 'in flight', (err) => outcome.push(['a', err ? err.code : 'ok']));
    await until(() => emu.requests.some((r) => r.path.startsWith('/topic')));
    q.publish(`${topic}/b`, 'b', (err) => outcome.push(['b', err ? err.code : 'ok']));
    q.publish(`${topic}/c`, 'c', (err) => outcome.push(['c', err ? err.code : 'ok']));
    expect(q.status().messages, 'the one in flight made room').to.equal(2);
    await q.flush();
    expect(outcome).to.deep.equal([['a', 'ok'], ['b', 'ok'], ['c', 'ok']]);
    expect(reports).to.deep.equal([['ok', 'a'], ['ok', 'b'], ['ok', 'c']]);
    expect(bodies()).to.deep.equal(['in flight', 'b', 'c']);
    expect(q.status()).to.deep.equal({ messages: 0, bytes: 0, dropped: 0 });
  });

  it('a callback that publishes (and makes room) while its message is reported: each message marked once, none lost', async () => {
    const q = queue(client(), { maxMessages: 1 });
    const seen = [];
    const chain = (n) => (err, m) => {
      seen.push(err ? err.code : m.messageId && n);
      if (n < 5) expect(q.publish(topic, `chain ${n + 1}`, chain(n + 1))).to.equal(true);
    };
    q.publish(topic, 'chain 1', chain(1));
    await until(() => seen.length === 5);
    await q.flush();
    expect(seen).to.deep.equal([1, 2, 3, 4, 5]);
    expect(bodies()).to.deep.equal([1, 2, 3, 4, 5].map((n) => `chain ${n}`));
    expect(q.status()).to.deep.equal({ messages: 0, bytes: 0, dropped: 0 });
    // a restart finds nothing left to send
    const again = queue(client());
    expect(again.status().messages).to.equal(0);
  });

  it('a dropped message is reported with its payload, so that the application may keep it', async () => {
    proxy.down();
    const reports = [];
    const q = queue(client(), { maxMessages: 1, report: (err, m) => reports.push([err && err.code, Buffer.from(m.payload || []).toString('hex'), m.topic]) });
    q.publish(topic, new Uint8Array([0, 1, 0xfe, 0xff]));
    q.publish(topic, 'newer');
    expect(reports).to.deep.equal([['EFULL', '0001feff', topic]]);
    proxy.up();
    await q.flush();
    expect(bodies()).to.deep.equal(['newer']);
  });

  it('refuses bad input at once with a clear error: topic, payload, a message over the budget, a callback that is not one', async () => {
    const q = queue(client(), { maxBytes: 100 });
    const errs = [];
    expect(q.publish('no-slash', 'x', (e) => errs.push(e.message))).to.equal(false);
    expect(q.publish(topic, 42, (e) => errs.push(e.message))).to.equal(false);
    expect(q.publish(topic, 'x'.repeat(100), (e) => errs.push(e.code))).to.equal(false);
    expect(() => q.publish(topic, 'x', 'not a function')).to.throw(/bad callback/);
    await sleep(10);
    expect(errs).to.deep.equal(['bad topic "no-slash": it must start with "/"', 'bad payload', 'ETOOBIG']);
    expect(q.status().messages).to.equal(0);
  });

  it('a record cut short by a power cut is never delivered; later records go to a new file; a damaged record is reported', async () => {
    proxy.down();
    const c = client();
    const q1 = queue(c);
    q1.publish(topic, 'whole 1');
    q1.publish(topic, 'whole 2');
    q1.close();
    const qdir = join(dir, 'queue');
    const file = join(qdir, readdirSync(qdir)[0]);
    // a third record whose write stopped halfway: header and part of the body
    const body = `${Date.now().toString(36)} ${topic} cut short`;
    appendFileSync(file, Buffer.from('\xff' + body.length.toString(16).padStart(4, '0') + '0badf00d' + body.slice(0, 10), 'latin1'));
    // and the second record's body damaged in place
    const bytes = readFileSync(file);
    const at = bytes.indexOf('whole 2');
    bytes[at] = 'W'.charCodeAt(0);
    writeFileSync(file, bytes);
    proxy.up();
    const reports = [];
    const q2 = queue(client(), { report: (err) => reports.push(err ? err.code : 'ok') });
    q2.publish(topic, 'after the cut');
    await q2.flush();
    expect(bodies()).to.deep.equal(['whole 1', 'after the cut']);
    expect(reports).to.deep.equal(['ok', 'ECORRUPT', 'ECORRUPT', 'ok']);
    expect(readdirSync(qdir).length, 'used files are erased').to.equal(1);
  });

  it('flash cost: one write per accepted message, one 1-byte write per delivered one, a file created and erased per segment', async () => {
    const { c, files } = counted(join(dir, 'counted'));
    proxy.down();
    const q = queue(client(), { files, segment: 1024 });
    const n = 40;
    for (let i = 0; i < n; i++) q.publish(topic, `reading ${i} 21.5C`);
    const acceptWrites = c.writes - c.creates;
    const acceptBytes = c.bytes;
    expect(acceptWrites).to.equal(n);
    proxy.up();
    await q.flush();
    expect(c.writes - c.creates - acceptWrites, 'one mark per delivery').to.equal(n);
    expect(c.bytes - acceptBytes, 'marks are 1 byte').to.equal(n);
    expect(c.erases, 'each used segment erased once').to.equal(c.creates - 1);
    console.log(`      (${n} messages of ${Math.round(acceptBytes / n)} bytes: ${acceptWrites} writes to accept, ${n} 1-byte marks, ${c.creates} segment files of 1 KiB created, ${c.erases} erased)`);
  });

  it('survives SIGKILL at random moments while accepting and sending, a hundred times: nothing accepted is lost or damaged, order is kept', async function () {
    this.timeout(240000);
    const ca = join(dir, 'ca.pem');
    writeFileSync(ca, emu.ca);
    const qdir = join(dir, 'queue');
    const args = (first, mode) => [join(here, 'engine', 'queue-child.cjs'), join(here, '..', 'build'), qdir, join(dir, 'token'), `https://localhost:${proxy.port}`, ca, String(first), mode];
    const run = (first, mode, killAfter) =>
      new Promise((resolve) => {
        const child = spawn(process.execPath, args(first, mode), { env: { ...process.env, QUEUE_DEVICE: JSON.stringify(device) }, stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let timer;
        // the kill falls a random time after the first message was accepted, however long
        // the process took to start on a busy machine
        const arm = (ms) => {
          if (killAfter !== undefined && !timer) timer = setTimeout(() => child.kill('SIGKILL'), ms);
        };
        child.stdout.on('data', (d) => {
          out += d;
          if (out.includes('A ')) arm(killAfter);
        });
        child.stderr.on('data', (d) => (out += d));
        const fallback = killAfter !== undefined && setTimeout(() => arm(0), 30000);
        child.on('close', (code, signal) => {
          clearTimeout(timer);
          clearTimeout(fallback);
          resolve({ out, code, signal });
        });
      });
    const accepted = [];
    let kills = 0;
    for (let i = 0; i < 100; i++) {
      // the link fails now and then as well, so that kills also fall on a queue that has grown
      if (i % 10 === 5) proxy.down();
      if (i % 10 === 8) proxy.up();
      const r = await run((i + 1) * 100000, 'accept', Math.floor(Math.random() * 300));
      expect(r.signal, r.out).to.equal('SIGKILL');
      kills++;
      for (const line of r.out.split('\n')) if (line.startsWith('A ')) accepted.push(+line.slice(2));
    }
    proxy.up();
    const last = await run(0, 'drain');
    expect(last.out, last.out).to.match(/^D 0 \n/);
    const got = emu.messages.map((m) => idOf(m.body));
    expect(got.filter((id) => Number.isNaN(id)), 'damaged or foreign payloads').to.deep.equal([]);
    const seen = new Set(got);
    expect(accepted.filter((id) => !seen.has(id)), 'accepted but never delivered').to.deep.equal([]);
    // order: ids never go back; a repeat follows its first copy at once (the message in flight
    // when a process died is the first the next one sends), one repeat per kill at most
    expect(got.every((id, k) => k === 0 || id >= got[k - 1]), 'order kept, repeats adjacent').to.equal(true);
    const firsts = got.filter((id, k) => k === 0 || id !== got[k - 1]);
    const repeats = got.length - firsts.length;
    expect(repeats, 'a repeat needs a kill between send and mark').to.be.at.most(kills);
    expect(accepted.length, 'messages accepted across the runs (fewer on a busy machine)').to.be.above(100);
    console.log(`      (${kills} kills; ${accepted.length} messages accepted, ${got.length} received, ${firsts.length} distinct, ${repeats} repeats of a message in flight at a kill)`);
  });
});
