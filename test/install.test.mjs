// The package as a user gets it: packed with `npm pack` and installed into a fresh project, and
// installed from git (which builds it through `prepare`). The examples run from that project,
// against an emulator they start themselves and against one named by the environment.
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const require = createRequire(import.meta.url);
const { startEmulator } = require('../build/node/emulator.cjs');

const root = resolve(fileURLToPath(import.meta.url), '../..');
const NAME = 'aliyun-iot-http';
const tsc = join(root, 'node_modules/typescript/bin/tsc');
const typeRoots = join(root, 'node_modules/@types');
const EXAMPLES = ['publish.cjs', 'publish.mjs', 'publish.ts'];
const SUBPATHS = {
  'espruino/aliyun-iot-http.min.js': 'build/espruino/aliyun-iot-http.min.js',
  'espruino/aliyun-iot-http-sha1.min.js': 'build/espruino/aliyun-iot-http-sha1.min.js',
  'espruino/aliyun-iot-http-register.min.js': 'build/espruino/aliyun-iot-http-register.min.js',
  'moddable/aliyun-iot-http.js': 'build/moddable/aliyun-iot-http.js',
  'moddable/aliyun-iot-http-hashes.js': 'build/moddable/aliyun-iot-http-hashes.js',
  'moddable/manifest.json': 'build/moddable/manifest.json',
};
const NPM_FLAGS = ['--no-audit', '--no-fund', '--no-update-notifier'];

// npm run from `npm test` would otherwise see this package's own script context (its
// local_prefix among it), and the examples would see real credentials a developer has set
const npmEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(npm_lifecycle_|npm_package_|npm_command$|npm_config_local_prefix$|INIT_CWD$)/.test(k)));
const exampleEnv = Object.fromEntries(Object.entries(npmEnv).filter(([k]) => !/^ALIYUN_|^NODE_EXTRA_CA_CERTS$/.test(k)));

/** Runs a program to its end without blocking this process (an emulator may be serving it); its stdout. */
async function run(file, args, options = {}) {
  try {
    return (await promisify(execFile)(file, args, { encoding: 'utf8', env: exampleEnv, maxBuffer: 1 << 24, ...options })).stdout;
  } catch (e) {
    expect.fail(`${file} ${args.join(' ')} failed (${e.code}):\n${e.stdout || ''}\n${e.stderr || ''}`);
  }
}

const npm = (args, cwd) => run('npm', [...args, ...NPM_FLAGS], { cwd, env: npmEnv });
const node = (args, cwd, env = exampleEnv) => run(process.execPath, args, { cwd, env });

/** A project of its own, outside this repository, with the examples copied in. */
function project(dir, allowScripts) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, allowScripts }, null, 2));
  for (const f of EXAMPLES) copyFileSync(join(root, 'examples/node', f), join(dir, f));
  return dir;
}

/** The two lines an example prints against the emulator it starts: the same messageId twice. */
function checkOwnEmulator(out, from) {
  const sent = /^published to (\S+): messageId (\d+)$/m.exec(out);
  const got = /^the emulator received (.*) on (\S+): messageId (\d+)$/m.exec(out);
  expect(sent, out).to.not.equal(null);
  expect(got, out).to.not.equal(null);
  expect(got[3]).to.equal(sent[2]);
  expect(got[2]).to.equal(sent[1]);
  expect(JSON.parse(got[1]).from).to.equal(from);
  return sent[2];
}

async function checkSubpaths(dir) {
  const script = `console.log(JSON.stringify(${JSON.stringify(Object.keys(SUBPATHS))}.map((p) => require.resolve(${JSON.stringify(NAME + '/')} + p))))`;
  const found = JSON.parse(await node(['-e', script], dir));
  const pkg = realpathSync(join(dir, 'node_modules', NAME));
  expect(found).to.deep.equal(Object.values(SUBPATHS).map((f) => join(pkg, f)));
  for (const f of found) expect(readFileSync(f).length, f).to.be.greaterThan(400);
  expect(JSON.parse(readFileSync(found[found.length - 1], 'utf8')).modules['*']).to.include('./aliyun-iot-http');
}

/** Compiles the TypeScript example as a CommonJS program of node16 resolution, after checking it under node10 too. */
async function compileTs(dir) {
  const common = ['--strict', '--target', 'es2022', '--types', 'node', '--typeRoots', typeRoots];
  await node([tsc, ...common, '--noEmit', '--module', 'commonjs', '--moduleResolution', 'node', 'publish.ts'], dir);
  await node([tsc, ...common, '--module', 'node16', '--outDir', 'out', 'publish.ts'], dir);
  return join(dir, 'out/publish.js');
}

describe('the package installed from npm pack', function () {
  this.timeout(60000);
  let tmp, dir, packed;

  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'aliyun-install-'));
    // the suite runs after `npm run build` (npm test), so packing need not build again;
    // the git install below runs `prepare` itself
    packed = JSON.parse(await npm(['pack', '--json', '--ignore-scripts', '--pack-destination', tmp], root))[0];
    dir = project(join(tmp, 'app'));
    await npm(['install', '--offline', join(tmp, packed.filename)], dir);
  });

  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('holds the build, the README and the license, and no tests or sources', () => {
    const files = packed.files.map((f) => f.path);
    for (const f of ['package.json', 'README.md', 'LICENSE', 'build/node/index.cjs', 'build/node/index.mjs', 'build/node/emulator.cjs', 'build/node/emulator.mjs', 'build/node/cli.cjs', 'build/node/types/targets/node/index.d.ts', 'build/node/types/targets/node/emulator.d.ts', ...Object.values(SUBPATHS)]) {
      expect(files).to.include(f);
    }
    expect(files.filter((f) => !/^build\//.test(f) && !['package.json', 'README.md', 'LICENSE'].includes(f))).to.deep.equal([]);
    expect(files.filter((f) => /\.ts$/.test(f) && !/\.d\.ts$/.test(f))).to.deep.equal([]);
    expect(existsSync(join(dir, 'node_modules/.bin', NAME))).to.equal(true);
  });

  it('resolves the Espruino and Moddable files, and the manifest, by their subpaths', async () => {
    await checkSubpaths(dir);
  });

  it('loads the client and the emulator through require and import alike', async () => {
    const names = () => `Object.keys(m).filter((k) => k !== 'default' && k !== '__esModule').sort().join()`;
    const cjs = await node(['-e', `for (const p of ['${NAME}', '${NAME}/emulator']) { const m = require(p); console.log(${names()}) }`], dir);
    const esm = await node(['--input-type=module', '-e', `for (const p of ['${NAME}', '${NAME}/emulator']) { const m = await import(p); console.log(${names()}) }`], dir);
    expect(esm).to.equal(cjs);
    expect(esm).to.match(/createClient/).and.to.match(/startEmulator/);
  });

  it('runs the CommonJS example against an emulator it starts', async () => {
    checkOwnEmulator(await node(['publish.cjs'], dir), 'publish.cjs');
  });

  it('runs the ES module example against an emulator it starts', async () => {
    checkOwnEmulator(await node(['publish.mjs'], dir), 'publish.mjs');
  });

  it('type-checks the TypeScript example under node16 and node (node10) resolution, and runs it', async () => {
    checkOwnEmulator(await node([await compileTs(dir)], dir), 'publish.ts');
  });

  it('publishes to the service the environment names, with the credentials it gives', async () => {
    const device = { productKey: 'a1EnvProduct', deviceName: 'env-device', deviceSecret: 'env-secret' };
    const emu = await startEmulator({ devices: [device] });
    try {
      const ca = join(tmp, 'ca.pem');
      writeFileSync(ca, emu.ca);
      const env = {
        ...exampleEnv,
        ALIYUN_PRODUCT_KEY: device.productKey,
        ALIYUN_DEVICE_NAME: device.deviceName,
        ALIYUN_DEVICE_SECRET: device.deviceSecret,
        ALIYUN_ENDPOINT: emu.url,
        ALIYUN_TOPIC: '/a1EnvProduct/env-device/user/example',
        NODE_EXTRA_CA_CERTS: ca, // the examples pass no `ca`: the service's certificate is public
      };
      const js = existsSync(join(dir, 'out/publish.js')) ? join(dir, 'out/publish.js') : await compileTs(dir);
      for (const [file, from] of [['publish.cjs', 'publish.cjs'], ['publish.mjs', 'publish.mjs'], [js, 'publish.ts']]) {
        const out = await node([file], dir, env);
        expect(out).to.not.match(/emulator received/);
        const id = /^published to \/a1EnvProduct\/env-device\/user\/example: messageId (\d+)$/m.exec(out);
        expect(id, out).to.not.equal(null);
        const m = emu.messages[emu.messages.length - 1];
        expect(m.messageId).to.equal(id[1]);
        expect(JSON.parse(m.body.toString()).from).to.equal(from);
      }
      expect(emu.messages.map((m) => m.topic)).to.deep.equal(Array(3).fill('/a1EnvProduct/env-device/user/example'));
      expect(emu.authCount).to.equal(3); // each run keeps its token in a folder of its own
    } finally {
      await emu.close();
    }
  });
});

describe('the package installed from git', function () {
  // npm clones the commit, installs its devDependencies (from the cache here) and runs the
  // build through `prepare` before packing it: one to a few minutes on a small machine
  this.timeout(480000);
  let tmp;

  after(() => tmp && rmSync(tmp, { recursive: true, force: true }));

  it('builds through prepare, and the examples and subpaths work from it', async function () {
    let head;
    try {
      head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch (e) {
      this.skip(); // not a git checkout
    }
    tmp = mkdtempSync(join(tmpdir(), 'aliyun-install-git-'));
    const repo = 'git+file://' + root;
    // allowScripts approves the build of this dependency, which npm releases that gate the
    // scripts of git dependencies require; allow-git likewise
    const dir = project(join(tmp, 'app'), { [repo]: true });
    await npm(['install', '--prefer-offline', '--allow-git=all', `${repo}#${head}`], dir);
    const pkg = JSON.parse(readFileSync(join(dir, 'node_modules', NAME, 'package.json'), 'utf8'));
    expect(pkg.name).to.equal(NAME);
    await checkSubpaths(dir);
    checkOwnEmulator(await node(['publish.cjs'], dir), 'publish.cjs');
    checkOwnEmulator(await node(['publish.mjs'], dir), 'publish.mjs');
  });
});
