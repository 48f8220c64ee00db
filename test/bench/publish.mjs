// Publish throughput of the Node build against the emulator (in its own process), beside bare
// https.request loops to the same emulator; and the client's memory over 10,000 publishes.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import * as https from 'node:https';
import { join } from 'node:path';
import { BUNDLES, root } from './libraries.mjs';

const { createClient, memoryStorage } = createRequire(import.meta.url)(join(root, BUNDLES.node));
const here = join(root, 'test', 'bench');
const DEVICE = { productKey: 'a1b2C3d4E5f', deviceName: 'thermostat', deviceSecret: 'Sb0zJ4kqV9yXc2mRf7LpT1wHn6dQ8aEu' };
const TOPIC = `/${DEVICE.productKey}/${DEVICE.deviceName}/user/update`;
export const PAYLOAD = '{"temperature":21.5,"humidity":43,"battery":3.71}';
export const COUNTS = { keepAlive: 1000, noKeepAlive: 150, memory: 10000, rounds: 15 };

/** Starts the emulator child; resolves with {url, ca, close()}. */
export function startEmulatorProcess() {
  const child = spawn(process.execPath, [join(here, 'emulator.mjs'), JSON.stringify([DEVICE])], { stdio: ['pipe', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`emulator exited (${code})`)));
    child.stdout.setEncoding('utf8').on('data', (d) => {
      out += d;
      if (out.includes('\n')) resolve({ ...JSON.parse(out), close: () => child.stdin.end() });
    });
  });
}

export const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];

// `n` sends, `inflight` at a time; resolves with sends per second and this process's CPU
// time per send in µs (steadier than wall time on a shared machine).
async function rate(send, n, inflight) {
  let started = 0;
  const t = process.hrtime.bigint(), cpu = process.cpuUsage();
  const worker = async () => {
    while (started++ < n) await send();
  };
  await Promise.all(Array.from({ length: inflight }, worker));
  const used = process.cpuUsage(cpu);
  return { rate: n / (Number(process.hrtime.bigint() - t) / 1e9), cpu: (used.user + used.system) / n };
}

// POST /topic with a fixed token, reading the whole reply: the floor under any client.
function bareSender(url, ca, token, agent) {
  const { hostname, port } = new URL(url);
  const body = Buffer.from(PAYLOAD);
  const options = { host: hostname, port, path: '/topic' + TOPIC, method: 'POST', agent, ca: agent ? undefined : ca, headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': body.length, password: token } };
  return () =>
    new Promise((resolve, reject) => {
      const req = https.request(options, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (text += d));
        res.on('end', () => (text.includes('"code":0') ? resolve() : reject(new Error(`bare publish: ${text}`))));
      });
      req.on('error', reject);
      req.end(body);
    });
}

/**
 * For ours (keep-alive), bare keep-alive and bare without keep-alive: {n, sequential, inflight16},
 * each {rate, cpu, runs}: medians of COUNTS.rounds runs, the clients taking turns (runs[i] of
 * every client are from the same round).
 */
export async function publishThroughput(emu, log) {
  const client = createClient({ ...DEVICE, endpoint: emu.url, ca: emu.ca, storage: memoryStorage() });
  const agent = new https.Agent({ keepAlive: true, ca: emu.ca });
  try {
    const token = await client.auth();
    const configs = {
      ours: { send: () => client.publish(TOPIC, PAYLOAD), n: COUNTS.keepAlive },
      bareKeepAlive: { send: bareSender(emu.url, emu.ca, token, agent), n: COUNTS.keepAlive },
      bareNoKeepAlive: { send: bareSender(emu.url, emu.ca, token, false), n: COUNTS.noKeepAlive },
    };
    // warm-up: sockets and JIT (our client has more code to compile than a bare loop)
    for (const c of Object.values(configs)) await rate(c.send, 2 * c.n, 1);
    const runs = {}, order = Object.entries(configs);
    for (let round = 1; round <= COUNTS.rounds; round++) {
      for (const [name, c] of round % 2 ? order : [...order].reverse()) {
        for (const inflight of [1, 16]) {
          log(`publish: ${name}, ${inflight} in flight, round ${round}`);
          (runs[`${name} ${inflight}`] ||= []).push(await rate(c.send, c.n, inflight));
        }
      }
    }
    const summary = (name) => ({ rate: median(runs[name].map((r) => r.rate)), cpu: median(runs[name].map((r) => r.cpu)), runs: runs[name] });
    return Object.fromEntries(Object.keys(configs).map((name) => [name, { n: configs[name].n, sequential: summary(`${name} 1`), inflight16: summary(`${name} 16`) }]));
  } finally {
    client.close();
    agent.destroy();
  }
}

/** Memory snapshots (after gc) of a `node --expose-gc` child over COUNTS.memory publishes. */
export function memory(emu, log) {
  log(`memory: ${COUNTS.memory} publishes in a node --expose-gc child`);
  const env = { ...process.env, BENCH_EMULATOR: JSON.stringify({ url: emu.url, ca: emu.ca, device: DEVICE, topic: TOPIC, payload: PAYLOAD, count: COUNTS.memory, every: COUNTS.memory / 4 }) };
  const child = spawn(process.execPath, ['--expose-gc', join(here, 'memory.mjs')], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`memory child exited with ${code}`))));
  });
}
