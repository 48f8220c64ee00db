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
    writeFileSync(file, stored.replace(/@localhost,\d+/, '@iot-as-http.cn-shanghai.aliyuncs.com,443'));
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

  describe('the token file in a folder others can write to', () => {
    const fs = require('node:fs');

    it('is written through a new file of a random name, created exclusively with mode 0600, synced before the rename, the folder after', () => {
      fs.chmodSync(dir, 0o777);
      const calls = [];
      const kinds = new Map(); // fd -> what it was opened for
      const orig = { openSync: fs.openSync, fsyncSync: fs.fsyncSync, renameSync: fs.renameSync };
      fs.openSync = (f, flags, mode) => {
        const fd = orig.openSync(f, flags, mode);
        kinds.set(fd, f === dir ? 'dir' : 'file');
        calls.push(['open', f, flags, mode, fd]);
        return fd;
      };
      fs.fsyncSync = (fd) => (calls.push(['fsync ' + kinds.get(fd)]), orig.fsyncSync(fd));
      fs.renameSync = (a, b) => (calls.push(['rename', a, b]), orig.renameSync(a, b));
      const old = process.umask(0);
      try {
        fileStorage({ dir, name: 'kv' }).setItem('a', '1');
        fileStorage({ dir, name: 'kv' }).setItem('b', '2');
      } finally {
        process.umask(old);
        Object.assign(fs, orig);
      }
      const target = join(dir, 'kv.json');
      const temps = calls.filter((c) => c[0] === 'open' && c[1] !== target && c[1] !== dir);
      expect(temps).to.have.length(2);
      expect(temps[0][1]).to.not.equal(temps[1][1]);
      for (const [, file, flags, mode] of temps) {
        expect(file.startsWith(dir + '/')).to.equal(true);
        expect(file).to.not.include(String(process.pid));
        const { O_CREAT, O_EXCL, O_NOFOLLOW } = fs.constants;
        expect(flags & (O_CREAT | O_EXCL | O_NOFOLLOW), 'O_CREAT | O_EXCL | O_NOFOLLOW').to.equal(O_CREAT | O_EXCL | O_NOFOLLOW);
        expect(mode).to.equal(0o600);
      }
      // per write: fsync of the new file, then the rename, then fsync of the folder
      const order = calls.filter((c) => c[0] !== 'open').map((c) => c[0]);
      expect(order).to.deep.equal(['fsync file', 'rename', 'fsync dir', 'fsync file', 'rename', 'fsync dir']);
      expect(statSync(target).mode & 0o777).to.equal(0o600);
      expect(fs.readdirSync(dir)).to.deep.equal(['kv.json']);
    });

    it('never follows a link, nor keeps the mode of a file someone left there', () => {
      fs.chmodSync(dir, 0o777);
      const victim = join(dir, 'victim');
      writeFileSync(victim, 'precious');
      const target = join(dir, 'kv.json');
      // the temporary names of earlier versions, and the token file itself, as links to the victim
      fs.symlinkSync(victim, target);
      fs.symlinkSync(victim, `${target}.${process.pid}.tmp`);
      expect(fileStorage({ dir, name: 'kv' }).getItem('a'), 'a link reads as empty').to.equal(null);
      fileStorage({ dir, name: 'kv' }).setItem('a', '1');
      expect(readFileSync(victim, 'utf8')).to.equal('precious');
      expect(fs.lstatSync(target).isSymbolicLink()).to.equal(false);
      expect(statSync(target).mode & 0o777).to.equal(0o600);
      expect(fileStorage({ dir, name: 'kv' }).getItem('a')).to.equal('1');
      // a world-writable token file left in place is replaced, not rewritten in place
      fs.chmodSync(target, 0o666);
      fileStorage({ dir, name: 'kv' }).setItem('a', '2');
      expect(statSync(target).mode & 0o777).to.equal(0o600);
    });

    it('a FIFO left at the file\'s name reads as empty at once, and is replaced', async function () {
      const { spawnSync } = await import('node:child_process');
      const target = join(dir, 'kv.json');
      if (spawnSync('mkfifo', [target]).status !== 0) return this.skip(); // no mkfifo here
      const started = Date.now();
      expect(fileStorage({ dir, name: 'kv' }).getItem('a')).to.equal(null);
      expect(Date.now() - started, 'ms to read').to.be.below(1000);
      fileStorage({ dir, name: 'kv' }).setItem('a', '1');
      expect(fs.lstatSync(target).isFile()).to.equal(true);
      expect(fileStorage({ dir, name: 'kv' }).getItem('a')).to.equal('1');
    });

    it('a write cut short (the disk full) throws and leaves the old file whole', async () => {
      const { spawnSync } = await import('node:child_process');
      const lib = require.resolve('../build/node/index.cjs');
      fileStorage({ dir, name: 'kv' }).setItem('token', 'good');
      fileStorage({ dir, name: 'kv' }).setItem('other', 'keep');
      // a 2 KB file size limit makes write() stop short, then fail with EFBIG
      const script = `const { fileStorage } = require(${JSON.stringify(lib)});
        try { fileStorage({ dir: ${JSON.stringify(dir)}, name: 'kv' }).setItem('token', 'x'.repeat(4000)); console.log('no error'); }
        catch (e) { console.log('threw ' + e.code); }`;
      const r = spawnSync('bash', ['-c', `trap '' XFSZ; ulimit -f 2; exec "${process.execPath}" -e "$0"`, script], { encoding: 'utf8' });
      expect(r.stdout.trim()).to.equal('threw EFBIG');
      expect(JSON.parse(readFileSync(join(dir, 'kv.json'), 'utf8'))).to.deep.equal({ token: 'good', other: 'keep' });
      expect(fs.readdirSync(dir)).to.deep.equal(['kv.json']);
    });

    it('two processes with the same pid (two containers sharing a volume) never tear the file', async () => {
      const { spawn } = await import('node:child_process');
      const lib = require.resolve('../build/node/index.cjs');
      const script = `Object.defineProperty(process, 'pid', { value: 4242 });
        const { fileStorage } = require(${JSON.stringify(lib)});
        const s = () => fileStorage({ dir: ${JSON.stringify(dir)}, name: 'shared' });
        for (let i = 0; i < 300; i++) s().setItem('token', process.argv[1] + '-' + i + '-' + 'x'.repeat(2000));`;
      const run = (tag) => new Promise((resolve) => {
        const child = spawn(process.execPath, ['-e', script, tag], { stdio: ['ignore', 'ignore', 'pipe'] });
        let err = '';
        child.stderr.on('data', (d) => (err += d));
        child.on('close', (code) => resolve({ code, err }));
      });
      const file = join(dir, 'shared.json');
      let reads = 0, torn = 0;
      const done = Promise.all([run('a'), run('b')]);
      let finished = false;
      done.then(() => (finished = true));
      while (!finished) {
        try {
          const v = JSON.parse(readFileSync(file, 'utf8')).token;
          if (!/^[ab]-\d+-x{2000}$/.test(v)) torn++;
          reads++;
        } catch (e) {
          if (e.code !== 'ENOENT') torn++;
        }
        await new Promise((r) => setImmediate(r));
      }
      const results = await done;
      expect(results, 'both writers exit 0 without an error').to.deep.equal([{ code: 0, err: '' }, { code: 0, err: '' }]);
      expect(torn, `torn reads out of ${reads}`).to.equal(0);
      expect(JSON.parse(readFileSync(file, 'utf8')).token).to.match(/^[ab]-299-/);
      expect(require('node:fs').readdirSync(dir)).to.deep.equal(['shared.json']);
    });
  });
});
