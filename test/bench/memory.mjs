// Child process (node --expose-gc): memory of the Node client over 10,000 sequential publishes
// to the emulator, with its default file storage in a temporary folder. env BENCH_EMULATOR:
// {url, ca, device, topic, payload, count, every}. Prints one JSON line: snapshots after gc.
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUNDLES, root } from './libraries.mjs';

const { createClient } = createRequire(import.meta.url)(join(root, BUNDLES.node));
const { url, ca, device, topic, payload, count, every } = JSON.parse(process.env.BENCH_EMULATOR);
const dir = mkdtempSync(join(tmpdir(), 'aliyun-bench-token-'));
const client = createClient({ ...device, endpoint: url, ca, dir });

function snapshot(publishes) {
  global.gc();
  global.gc();
  const m = process.memoryUsage();
  return { publishes, rss: m.rss, heapUsed: m.heapUsed, external: m.external };
}

try {
  for (let i = 0; i < 1000; i++) await client.publish(topic, payload); // warm-up: auth, sockets, JIT
  const snapshots = [snapshot(0)];
  for (let i = 1; i <= count; i++) {
    await client.publish(topic, payload);
    if (i % every === 0) snapshots.push(snapshot(i));
  }
  process.stdout.write(JSON.stringify(snapshots) + '\n');
} finally {
  client.close();
  rmSync(dir, { recursive: true, force: true });
}
