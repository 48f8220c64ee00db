// Espruino's variables while publishing over real TLS to the emulator, on the Linux builds that
// ESPRUINO_BIN (8,190 variables) and ESPRUINO_5100_BIN (5,100, a Pico's) point at: the variables
// in use as each connection starts, the highest use seen, and the headroom (the most variables
// an application can hold, as an Array made before the first publish, with a fresh start and a
// restart each publishing three messages), found by bisection.
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appScript, runApp, saveModule } from '../engine/espruino-board.mjs';

const require = createRequire(import.meta.url);
const device = { productKey: 'a1BenchProd', deviceName: 'bench-01', deviceSecret: 'bench-secret-0123' };
const topic = `/${device.productKey}/${device.deviceName}/user/telemetry`;
const texts = (tag) => [1, 2, 3].map((i) => ({ text: `${tag} reading ${i}` }));

export const BUILDS = [
  { env: 'ESPRUINO_BIN', variables: 8190 },
  { env: 'ESPRUINO_5100_BIN', variables: 5100 },
];

/** Fresh start and restart, each publishing three messages while holding `hold` variables. */
async function trial(bin, emu, hold, sample) {
  const dir = mkdtempSync(join(tmpdir(), 'aliyun-bench-board-'));
  try {
    saveModule(bin, dir);
    const runs = [];
    for (const tag of ['fresh', 'restart']) {
      const r = await runApp(bin, dir, appScript({ device, endpoint: emu.url, topic, payloads: texts(tag), hold, sample }));
      runs.push(r);
      if (!r.board || r.board.results.some((x) => x.code)) return { ok: false, runs };
    }
    return { ok: true, runs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function boardMemory(log) {
  const { startEmulator } = require('../../build/node/emulator.cjs');
  const out = [];
  const emu = await startEmulator({ devices: [device] });
  try {
    for (const b of BUILDS) {
      const bin = process.env[b.env];
      if (!bin) {
        out.push({ ...b, skipped: `${b.env} not set` });
        continue;
      }
      log(`Espruino ${b.variables}: connections and peak`);
      const base = await trial(bin, emu, 0, true);
      if (!base.ok) {
        out.push({ ...b, fail: base.runs.map((r) => r.crash || 'no result').join('; ') });
        continue;
      }
      // bisection: lo works, hi does not (each trial twice: the handshake's memory varies)
      let lo = 0, hi = b.variables;
      while (hi - lo > 25) {
        const mid = Math.round((lo + hi) / 2);
        log(`Espruino ${b.variables}: holding ${mid}`);
        const ok = (await trial(bin, emu, mid)).ok && (await trial(bin, emu, mid)).ok;
        if (ok) lo = mid;
        else hi = mid;
      }
      const held = await trial(bin, emu, lo);
      const [fresh, restart] = base.runs.map((r) => r.board);
      out.push({ ...b, fresh, restart, headroom: held.ok ? held.runs[0].board.held : lo, failsAt: hi });
    }
  } finally {
    await emu.close();
  }
  return out;
}
