// The Espruino module on the interpreter's Linux build (32-bit, 13-byte variables, as on STM32
// boards) over real TLS to the emulator: ESPRUINO_BIN points at an 8,190-variable build and
// ESPRUINO_5100_BIN at a 5,100-variable one (a Pico's). Skipped where they are not set.
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHmac } from 'node:crypto';
import { expect } from 'chai';
import { saveModule, appScript, runApp, generated, provisionScript } from './engine/espruino-board.mjs';

const require = createRequire(import.meta.url);
const { startEmulator } = require('../build/node/emulator.cjs');

const device = { productKey: 'a1BoardProd', deviceName: 'pico-01', deviceSecret: 'board-secret-0123' };
const product = { productKey: 'a1BoardReg', productSecret: 'board-product-secret', deviceNames: ['pico-reg-8190', 'pico-reg-5100'] };
const topic = `/${device.productKey}/${device.deviceName}/user/telemetry`;

const BUILDS = [
  { env: 'ESPRUINO_BIN', variables: 8190, hold: 3000 },
  { env: 'ESPRUINO_5100_BIN', variables: 5100, hold: 600 },
];

for (const build of BUILDS) {
  describe(`Espruino with ${build.variables} variables over real TLS (${build.env})`, function () {
    this.timeout(120000);
    let emu, dir;
    const bin = process.env[build.env];
    before(async function () {
      if (!bin) return this.skip();
      emu = await startEmulator({ devices: [device], products: [product] });
    });
    after(() => emu && emu.close());
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'aliyun-board-'));
      if (emu) emu.reset();
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    const run = (payloads, hold, sample) => runApp(bin, dir, appScript({ device, endpoint: emu.url, topic, payloads, hold, sample }));
    const bytes = (p) => (p.text !== undefined ? Buffer.from(p.text) : generated(p));
    function expectAllPublished(r, count, where) {
      expect(r.crash, `${where}: ${r.output}`).to.equal(null);
      expect(r.board, `${where}: no result line\n${r.output}`).to.not.equal(null);
      expect(r.board.results.map((x) => x.code || null), where).to.deep.equal(Array(count).fill(null));
    }

    it('a fresh start authenticates and publishes three messages; a restart publishes three more with the token from flash', async () => {
      saveModule(bin, dir);
      // text, every byte value (seed 0, step 7 covers 0-255), and longer binary and text
      const first = [{ text: 'reading 1: 21.5' }, { len: 256, seed: 0 }, { len: 200, seed: 3 }];
      const second = [{ text: 'reading 4 after restart' }, { len: 256, seed: 101 }, { text: 'reading 6 ' + 'x'.repeat(300) }];
      const r1 = await run(first, 0, true);
      expectAllPublished(r1, 3, 'fresh start');
      expect(r1.board.connects, 'connections: /auth and three publishes').to.have.length(4);
      const r2 = await run(second, 0, true);
      expectAllPublished(r2, 3, 'restart');
      expect(r2.board.connects, 'connections after the restart: three publishes, no /auth').to.have.length(3);
      // every message arrived once, in order, byte-exact, with the messageId the board reported
      const sent = [...first, ...second].map(bytes);
      expect(new Set(sent[1]).size, 'every byte value sent').to.equal(256);
      expect(emu.messages.map((m) => m.body.toString('hex'))).to.deep.equal(sent.map((b) => b.toString('hex')));
      expect(emu.messages.map((m) => m.messageId)).to.deep.equal([...r1.board.results, ...r2.board.results].map((x) => x.messageId));
      expect(emu.requests.filter((q) => q.path === '/auth').length, '/auth calls').to.equal(1);
      console.log(`      (variables in use at each connect: ${r1.board.connects.join(', ')} | after restart ${r2.board.connects.join(', ')}; highest seen ${Math.max(r1.board.peak, r2.board.peak)} of ${r1.board.total})`);
    });

    it(`publishing still works while the application holds ${build.hold} variables`, async () => {
      saveModule(bin, dir);
      const r1 = await run([{ text: 'held 1' }, { len: 256, seed: 9 }, { text: 'held 3' }], build.hold);
      expectAllPublished(r1, 3, 'fresh start');
      const r2 = await run([{ text: 'held 4' }, { text: 'held 5' }, { text: 'held 6' }], build.hold);
      expectAllPublished(r2, 3, 'restart');
      expect(emu.messages).to.have.length(6);
      expect(r1.board.held, 'variables the application holds').to.be.at.least(build.hold);
    });
  });
}

for (const build of BUILDS) {
  describe(`Espruino with ${build.variables} variables: registration and the thing model over real TLS (${build.env})`, function () {
    this.timeout(180000);
    let emu, dir;
    const bin = process.env[build.env];
    const dev = { productKey: product.productKey, productSecret: product.productSecret, deviceName: `pico-reg-${build.variables}` };
    before(async function () {
      if (!bin) return this.skip();
      emu = await startEmulator({ products: [product] });
      dir = mkdtempSync(join(tmpdir(), 'aliyun-board-reg-'));
    });
    after(async () => {
      if (emu) await emu.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('registers, keeps its secret in Storage, signs /auth with the firmware SHA-256, reports properties, an event and its version; a restart neither registers nor authenticates', async () => {
      saveModule(bin, dir, ['register', 'thing']);
      const first = [{ post: { temperature: 21, humidity: 40, label: 'K\u00fcche' } }, { event: 'overheat', value: { level: 3 } }, { version: '1.0.0' }];
      const script = (steps) => provisionScript({ device: dev, endpoint: emu.url, steps, floats: ['temperature'] });
      const r1 = await runApp(bin, dir, script(first), 120000);
      expect(r1.crash, r1.output).to.equal(null);
      expect(r1.board, r1.output).to.not.equal(null);
      expect(r1.board.results.map((x) => x.code || null), JSON.stringify(r1.board.results)).to.deep.equal([null, null, null]);
      expect(r1.board.stored, 'the secret is in Storage').to.equal(true);
      const r2 = await runApp(bin, dir, script([{ post: { temperature: 22.5 } }, { version: '1.0.1', module: 'mcu' }]), 120000);
      expect(r2.crash, r2.output).to.equal(null);
      expect(r2.board && r2.board.results.map((x) => x.code || null), r2.output).to.deep.equal([null, null]);
      expect(emu.requests.map((q) => q.path.split('/').slice(0, 3).join('/'))).to.deep.equal(['/auth/register', '/auth', '/topic/sys', '/topic/sys', '/topic/ota', '/topic/sys', '/topic/ota']);
      expect(emu.registrations.map((x) => [x.code, x.signMethod])).to.deep.equal([[200, 'hmacsha256']]);
      const auth = JSON.parse(emu.requests[1].body.toString());
      expect(auth.signmethod).to.equal('hmacsha256');
      expect(auth.sign).to.equal(createHmac('sha256', emu.registrations[0].deviceSecret).update(`clientId${auth.clientId}deviceName${dev.deviceName}productKey${dev.productKey}timestamp${auth.timestamp}`).digest('hex'));
      // the Alink the service would take, byte-exact where Espruino's own JSON would differ
      expect(emu.alink.map((a) => a.error)).to.deep.equal([undefined, undefined, undefined, undefined, undefined]);
      expect(emu.messages[0].body.toString('utf8')).to.include('"params":{"temperature":21.0,"humidity":40,"label":"K\u00fcche"}');
      expect(emu.properties(dev.productKey, dev.deviceName)).to.deep.include({ humidity: { value: 40, time: emu.alink[0].time } });
      expect(emu.properties(dev.productKey, dev.deviceName).temperature.value).to.equal(22.5);
      expect(emu.events(dev.productKey, dev.deviceName, 'overheat')[0].params.value).to.deep.equal({ level: 3 });
      expect(emu.firmware(dev.productKey, dev.deviceName)).to.deep.include({ version: '1.0.0' });
      expect(emu.firmware(dev.productKey, dev.deviceName, 'mcu')).to.deep.include({ version: '1.0.1' });
      expect([...r1.board.results, ...r2.board.results].map((x) => x.messageId)).to.deep.equal(emu.messages.map((m) => m.messageId));
      const ids = emu.alink.map((a) => a.id);
      expect(new Set(ids).size, 'ids across the restart').to.equal(ids.length);
    });
  });
}
