import { createRequire } from 'node:module';
import { mkdtempSync, readFileSync, writeFileSync, rmSync, existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';

const require = createRequire(import.meta.url);
const { createClient, fileStorage } = require('../build/node/index.cjs');
const { startEmulator } = require('../build/node/emulator.cjs');

const device = { productKey: 'a1StoreProd', deviceName: 'store-01', deviceSecret: 'store-secret-xyz' };
const other = { productKey: 'a1StoreProd', deviceName: 'store-02', deviceSecret: 'other-secret-xyz' };
const topic = (d) => `/${d.productKey}/${d.deviceName}/user/x`;

describe('token storage survives what a device meets', () => {
  let emu, dir, file;
  const clients = [];
  const client = (d = device, extra = {}) => {
    const c = createClient({ ...d, endpoint: emu.url, ca: emu.ca, dir, ...extra });
    clients.push(c);
    return c;
  };
  const auths = () => emu.requests.filter((r) => r.path === '/auth').length;

  before(async () => {
    emu = await startEmulator({ devices: [device, other] });
  });
  after(() => emu.close());
  beforeEach(() => {
    emu.reset();
    dir = mkdtempSync(join(tmpdir(), 'aliyun-store-'));
    file = join(dir, `${device.productKey}.${device.deviceName}.json`);
  });
  afterEach(() => {
    clients.splice(0).forEach((c) => c.close());
    rmSync(dir, { recursive: true, force: true });
  });

  it('an unwritable folder: publishes still work, each start authenticates again', async () => {
    writeFileSync(join(dir, 'blocker'), 'a file where a folder should be');
    const blocked = join(dir, 'blocker', 'tokens');
    await client(device, { dir: blocked }).publish(topic(device), 'one');
    await client(device, { dir: blocked }).publish(topic(device), 'two');
    expect(auths()).to.equal(2);
    expect(emu.messages.map((m) => m.body.toString())).to.deep.equal(['one', 'two']);
  });

  for (const [name, content] of [
    ['a corrupt file', '{"token": "[\\"a1Sto'],
    ['an empty file', ''],
    ['a file of another shape', '[1,2,3]'],
    ['binary garbage', '\u0000\u00ff\u0001garbage'],
  ]) {
    it(`${name}: the next start authenticates again and repairs the file`, async () => {
      writeFileSync(file, content);
      await client().publish(topic(device), 'x');
      expect(auths()).to.equal(1);
      await client().publish(topic(device), 'y');
      expect(auths()).to.equal(1);
    });
  }

  it('power lost between write and rename: the old token is still used', async () => {
    await client().publish(topic(device), 'before');
    const good = readFileSync(file, 'utf8');
    // the cut: a half-written temporary file next to the intact one
    writeFileSync(file + '.4242.tmp', good.slice(0, good.length >> 1));
    await client().publish(topic(device), 'after');
    expect(auths()).to.equal(1);
    expect(JSON.parse(readFileSync(file, 'utf8'))).to.deep.equal(JSON.parse(good));
  });

  it('power lost during a non-atomic copy (the file itself cut short): re-auth', async () => {
    await client().publish(topic(device), 'before');
    const good = readFileSync(file, 'utf8');
    writeFileSync(file, good.slice(0, good.length - 20));
    await client().publish(topic(device), 'after');
    expect(auths()).to.equal(2);
    expect(statSync(file).mode & 0o777).to.equal(0o600);
  });

  it('a token belonging to another device: ignored, re-auth', async () => {
    await client(other).publish(topic(other), 'other');
    writeFileSync(file, readFileSync(join(dir, `${other.productKey}.${other.deviceName}.json`)));
    await client().publish(topic(device), 'mine');
    expect(auths()).to.equal(2);
    expect(emu.messages.map((m) => m.deviceName)).to.deep.equal(['store-02', 'store-01']);
  });

  it('a token from another endpoint: ignored, re-auth', async () => {
    await client().publish(topic(device), 'here');
    const stored = readFileSync(file, 'utf8');
    writeFileSync(file, stored.replace(/@127\.0\.0\.1,\d+/, '@iot-as-http.cn-shanghai.aliyuncs.com,443'));
    await client().publish(topic(device), 'again');
    expect(auths()).to.equal(2);
  });

  it('fileStorage leaves no temporary file behind and keeps other keys', () => {
    const s = fileStorage({ dir, name: 'kv' });
    s.setItem('a', '1');
    s.setItem('b', '2');
    s.removeItem('a');
    expect(fileStorage({ dir, name: 'kv' }).getItem('b')).to.equal('2');
    expect(fileStorage({ dir, name: 'kv' }).getItem('a')).to.equal(null);
    expect(existsSync(join(dir, 'kv.json'))).to.equal(true);
    expect(readFileSync(join(dir, 'kv.json'), 'utf8')).to.not.include('tmp');
    expect(require('node:fs').readdirSync(dir)).to.deep.equal(['kv.json']);
  });
});
