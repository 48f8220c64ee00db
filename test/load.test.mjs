import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';

const require = createRequire(import.meta.url);
const { createClient } = require('../build/node/index.cjs');
const { startEmulator } = require('../build/node/emulator.cjs');

const device = { productKey: 'a1LoadProd', deviceName: 'load-01', deviceSecret: 'load-secret' };
const topic = `/${device.productKey}/${device.deviceName}/user/bulk`;

const sockets = () => process._getActiveHandles().filter((h) => h && h.constructor && /Socket/.test(h.constructor.name) && h.remotePort).length;

describe('load', function () {
  this.timeout(120000);
  let emu, dir, c;
  const warnings = [];
  const onWarning = (w) => warnings.push(w);

  before(async () => {
    emu = await startEmulator({ devices: [device] });
    process.on('warning', onWarning);
  });
  after(async () => {
    process.off('warning', onWarning);
    await emu.close();
  });
  beforeEach(() => {
    emu.reset();
    dir = mkdtempSync(join(tmpdir(), 'aliyun-load-'));
    c = createClient({ ...device, endpoint: emu.url, ca: emu.ca, dir });
  });
  afterEach(() => {
    c.close();
    rmSync(dir, { recursive: true, force: true });
    expect(warnings.map(String), 'process warnings (e.g. MaxListenersExceeded)').to.deep.equal([]);
  });

  it('200 publishes in flight: one /auth, every message once, memory flat over 5 rounds', async () => {
    const heap = [];
    for (let round = 0; round < 5; round++) {
      const results = await Promise.all(Array.from({ length: 200 }, (_, i) => c.publish(topic, `r${round}m${i}`)));
      expect(new Set(results.map((r) => r.messageId)).size).to.equal(200);
      if (global.gc) global.gc();
      heap.push(process.memoryUsage().heapUsed);
    }
    expect(emu.requests.filter((r) => r.path === '/auth')).to.have.length(1);
    const bodies = emu.messages.map((m) => m.body.toString());
    expect(bodies).to.have.length(1000);
    expect(new Set(bodies).size).to.equal(1000);
    // rounds 2..5 hold no more than round 1 did, give or take 4 MB of garbage-collector slack
    expect(Math.max(...heap.slice(1)) - heap[0], `heapUsed per round ${heap}`).to.be.below(4 << 20);
  });

  it('10,000 sequential publishes over keep-alive: no leaked sockets or listeners', async () => {
    await c.publish(topic, 'warm-up');
    const before = sockets();
    for (let i = 0; i < 10000; i++) {
      await c.publish(topic, 'm' + i);
      if (i % 2500 === 0) expect(sockets(), `open sockets at ${i}`).to.be.at.most(before + 1);
    }
    expect(emu.messages).to.have.length(10001);
    expect(sockets(), 'open sockets after').to.be.at.most(before + 1);
    c.close();
    await new Promise((r) => setTimeout(r, 50));
    expect(sockets(), 'open sockets after close()').to.equal(0);
  });
});
