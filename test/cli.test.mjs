// The `aliyun-iot-http` command, run as a child process from its built bundle against the
// emulator (in this process, or started through the command itself); every test checks what
// the emulator received, not only what the command printed.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const require = createRequire(import.meta.url);
const { startEmulator, CA_CERT } = require('../build/node/emulator.cjs');
const cli = fileURLToPath(new URL('../build/node/cli.cjs', import.meta.url));
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

const DEVICE = { productKey: 'a1CliProd', deviceName: 'cli-01', deviceSecret: 'cli-secret-DO-NOT-PRINT-0123' };
const TOPIC = `/${DEVICE.productKey}/${DEVICE.deviceName}/user/update`;
const PRODUCT = { productKey: 'a1CliReg', productSecret: 'cli-product-secret-DO-NOT-PRINT', deviceNames: ['reg-01', 'reg-02', 'reg-03', 'reg-04'] };
const SECRETS = [DEVICE.deviceSecret, PRODUCT.productSecret];

let dir;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'aliyun-cli-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** An environment without the caller's ALIYUN_* and PORT, and a home of its own. */
function cleanEnv(extra = {}) {
  const env = { ...process.env, HOME: join(dir, 'home') };
  for (const k of Object.keys(env)) if (k.startsWith('ALIYUN_') || k === 'PORT') delete env[k];
  return { ...env, ...extra };
}

/** Runs the command; resolves with its status and output (never blocks this process's emulator). */
function run(args, { env = cleanEnv(), input, timeout = 20000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out = [];
    const err = [];
    const timer = setTimeout(() => child.kill('SIGKILL'), timeout);
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
    child.on('error', reject);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
    child.stdin.on('error', () => undefined); // a command that does not read its input
    if (input !== undefined) child.stdin.end(input);
    else child.stdin.end();
  });
}

function expectNoSecret(r) {
  for (const s of SECRETS) {
    expect(r.stdout, 'stdout').to.not.include(s);
    expect(r.stderr, 'stderr').to.not.include(s);
  }
}

/** One line on stderr: the way unknown commands, options and bad input are reported. */
function expectUsageError(r, pattern) {
  expect(r.status, r.stderr).to.equal(2);
  expect(r.stdout).to.equal('');
  expect(r.stderr.trimEnd().split('\n'), r.stderr).to.have.length(1);
  expect(r.stderr).to.match(/^aliyun-iot-http: /);
  if (pattern) expect(r.stderr).to.match(pattern);
}

describe('command line: conventions', () => {
  it('--help and -h print the help on stdout and exit 0', async () => {
    for (const flag of ['--help', '-h']) {
      const r = await run([flag]);
      expect(r.status).to.equal(0);
      expect(r.stderr).to.equal('');
      expect(r.stdout).to.match(/^Usage: aliyun-iot-http <command>/);
      for (const c of ['publish', 'auth', 'register', 'thing post', 'thing event', 'thing version', 'emulator', 'demo']) expect(r.stdout).to.include(`\n  ${c}`);
      expect(r.stdout).to.include('ALIYUN_DEVICE_SECRET').and.include('Exit status');
    }
  });

  it('a reader that goes away (| head -1) ends it quietly', async () => {
    const r = await new Promise((resolve) => {
      const child = spawn(process.execPath, [cli, '--help'], { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stdout.destroy(); // before it writes: its write fails with EPIPE
      child.stderr.on('data', (d) => (stderr += d));
      child.on('close', (status) => resolve({ status, stderr }));
    });
    expect(r.stderr).to.equal('');
    expect(r.status).to.equal(0);
  });

  it('--version prints the package version', async () => {
    const r = await run(['--version']);
    expect(r.status).to.equal(0);
    expect(r.stdout).to.equal(pkg.version + '\n');
  });

  it('no arguments: the help on stderr, exit 2 (a script that lost its arguments fails)', async () => {
    const r = await run([]);
    expect(r.status).to.equal(2);
    expect(r.stdout).to.equal('');
    expect(r.stderr).to.match(/^Usage: aliyun-iot-http <command>/);
  });

  it('an unknown command, option or argument: one line on stderr, exit 2', async () => {
    const cases = [
      [['nonsense'], /unknown command "nonsense"/],
      [['publish', TOPIC, 'x', '--bogus'], /unknown option --bogus for publish/],
      [['publish', TOPIC, 'x', '--bogus=1'], /unknown option --bogus for/],
      [['--json', 'publish', TOPIC, 'x'], /unknown option --json \(options follow the command/],
      [['publish', TOPIC, 'x', 'y'], /unexpected argument "y"/],
      [['publish'], /publish needs <topic>/],
      [['publish', TOPIC, 'x', '--timeout'], /--timeout needs a value/],
      [['publish', TOPIC, 'x', '--timeout', 'soon'], /--timeout must be a whole number/],
      [['publish', TOPIC, 'x', '--dir', 'a', '--dir', 'b'], /--dir given twice/],
      [['auth', '--json=yes'], /--json takes no value/],
      [['thing'], /thing needs post, event or version/],
      [['thing', 'delete'], /unknown thing command "delete"/],
      [['--version', 'x'], /--version takes no argument/],
      [['emulator', '--port', '70000'], /--port must be a port number/],
      [['emulator', '--name', 'not a name'], /--name: "not a name" is neither an IP address nor a host name/],
      [['emulator', '--host', 'bad_host!'], /--host:/],
      [['publish', TOPIC, '-5'], /put -- before an argument that starts with -/],
    ];
    const results = await Promise.all(cases.map(([args]) => run(args)));
    results.forEach((r, i) => expectUsageError(r, cases[i][1]));
  });

  it('per-command help: `<command> --help`, `help <command>`, `thing --help`; exit 0, nothing sent', async () => {
    const emu = await startEmulator({ devices: [DEVICE] });
    try {
      const env = cleanEnv({ ALIYUN_PRODUCT_KEY: DEVICE.productKey, ALIYUN_DEVICE_NAME: DEVICE.deviceName, ALIYUN_DEVICE_SECRET: DEVICE.deviceSecret, ALIYUN_ENDPOINT: emu.url });
      const commands = ['publish', 'auth', 'register', 'thing post', 'thing event', 'thing version', 'emulator', 'demo'];
      const helps = await Promise.all(commands.map((c) => Promise.all([run([...c.split(' '), '--help'], { env }), run(['help', ...c.split(' ')], { env })])));
      helps.forEach(([r, h], i) => {
        const c = commands[i];
        expect(r.status, c).to.equal(0);
        expect(r.stdout, c).to.match(new RegExp(`^Usage: aliyun-iot-http ${c}\\b`));
        expect(r.stdout, c).to.include('--help');
        expect(h.stdout, c).to.equal(r.stdout);
      });
      expect((await run(['publish', TOPIC, 'payload', '-h'], { env })).stdout).to.match(/^Usage: aliyun-iot-http publish <topic>/);
      expect((await run(['publish', TOPIC, 'x', '--bogus', '--help'], { env })).status, 'help wins over a bad option').to.equal(0);
      const t = await run(['thing', '--help'], { env });
      expect(t.status).to.equal(0);
      expect(t.stdout).to.include('thing post').and.include('thing event').and.include('thing version');
      expect(emu.requests, 'help sends nothing').to.have.length(0);
      // after --, --help is a payload
      const p = await run(['publish', TOPIC, '--dir', join(dir, 'help-dir'), '--', '--help'], { env: { ...env, ALIYUN_CA_FILE: caFile(emu) } });
      expect(p.status, p.stderr).to.equal(0);
      expect(emu.messages.map((m) => m.body.toString())).to.deep.equal(['--help']);
    } finally {
      await emu.close();
    }
  });
});

/** Writes the emulator's CA to a file of its own; returns the path. */
function caFile(emu) {
  const file = join(dir, `ca-${emu.port}.pem`);
  writeFileSync(file, emu.ca);
  return file;
}

describe('command line: device commands against the emulator', function () {
  this.timeout(60000);
  let emu, env, tokens;

  before(async () => {
    emu = await startEmulator({ devices: [DEVICE], products: [PRODUCT] });
  });
  after(() => emu.close());
  beforeEach(() => {
    emu.reset();
    tokens = mkdtempSync(join(dir, 'tokens-'));
    env = cleanEnv({ ALIYUN_PRODUCT_KEY: DEVICE.productKey, ALIYUN_DEVICE_NAME: DEVICE.deviceName, ALIYUN_DEVICE_SECRET: DEVICE.deviceSecret, ALIYUN_ENDPOINT: emu.url, ALIYUN_CA_FILE: caFile(emu) });
  });

  it('publish <topic> <payload>: sends the argument as UTF-8, prints the messageId the service gave', async () => {
    const r = await run(['publish', TOPIC, 'héllo ℃', '--dir', tokens], { env });
    expect(r.status, r.stderr).to.equal(0);
    expect(emu.messages).to.have.length(1);
    expect(emu.messages[0].topic).to.equal(TOPIC);
    expect(emu.messages[0].body.equals(Buffer.from('héllo ℃', 'utf8'))).to.equal(true);
    expect(r.stdout).to.equal(emu.messages[0].messageId + '\n');
    expectNoSecret(r);
  });

  it('publish --file: every byte value as it is in the file', async () => {
    const bytes = Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 7 + 3) & 255));
    const file = join(dir, 'payload.bin');
    writeFileSync(file, bytes);
    const r = await run(['publish', TOPIC, '--file', file, '--dir', tokens], { env });
    expect(r.status, r.stderr).to.equal(0);
    expect(emu.messages[0].body.equals(bytes)).to.equal(true);
    expect(r.stdout.trim()).to.equal(emu.messages[0].messageId);
  });

  it('publish - (and --file -): the payload from stdin, binary included', async () => {
    const bytes = Buffer.concat([Buffer.from([0, 0xff, 0xfe, 10, 13]), Buffer.from('tail')]);
    const r = await run(['publish', TOPIC, '-', '--dir', tokens], { env, input: bytes });
    expect(r.status, r.stderr).to.equal(0);
    const r2 = await run(['publish', TOPIC, '--file', '-', '--dir', tokens], { env, input: 'second' });
    expect(r2.status, r2.stderr).to.equal(0);
    expect(emu.messages.map((m) => m.body.toString('hex'))).to.deep.equal([bytes.toString('hex'), Buffer.from('second').toString('hex')]);
    expect(emu.authCount, 'the second run used the stored token').to.equal(1);
  });

  it('publish: an empty payload is sent; a missing one, or two, are refused before anything is sent', async () => {
    const r = await run(['publish', TOPIC, '', '--dir', tokens], { env });
    expect(r.status, r.stderr).to.equal(0);
    expect(emu.messages[0].body.length).to.equal(0);
    emu.reset();
    expectUsageError(await run(['publish', TOPIC, '--dir', tokens], { env }), /payload missing: give it as an argument, with --file FILE, or - to read stdin/);
    expectUsageError(await run(['publish', TOPIC, 'x', '--file', 'f', '--dir', tokens], { env }), /not both/);
    expectUsageError(await run(['publish', TOPIC, '--file', join(dir, 'missing.bin'), '--dir', tokens], { env }), /cannot read payload file .*missing\.bin/);
    expectUsageError(await run(['publish', TOPIC, '--file', dir, '--dir', tokens], { env }), /it is a folder/);
    expect(emu.requests).to.have.length(0);
  });

  it('publish: over 131072 bytes (file or stdin) is ETOOBIG, exit 2, nothing sent; 131072 is sent', async () => {
    const big = Buffer.alloc(131073, 0x61);
    const file = join(dir, 'big.bin');
    writeFileSync(file, big);
    for (const args of [['-'], ['--file', file]]) {
      const r = await run(['publish', TOPIC, ...args, '--dir', tokens], { env, input: big });
      expect(r.status, args[0]).to.equal(2);
      expect(r.stderr, args[0]).to.match(/ETOOBIG/);
    }
    expect(emu.requests).to.have.length(0);
    const r = await run(['publish', TOPIC, '-', '--dir', tokens], { env, input: big.subarray(1) });
    expect(r.status, r.stderr).to.equal(0);
    expect(emu.messages[0].body.length).to.equal(131072);
  });

  it('--json: one object with the messageId; errors as {"ok": false} with the code and exit status', async () => {
    const r = await run(['publish', TOPIC, 'json please', '--json', '--dir', tokens], { env });
    expect(r.status, r.stderr).to.equal(0);
    const o = JSON.parse(r.stdout);
    expect(o).to.deep.equal({ ok: true, topic: TOPIC, bytes: 11, messageId: emu.messages[0].messageId });
    // a topic of another device: the service's 10001, with the messageId of its reply
    const bad = await run(['publish', `/${DEVICE.productKey}/other/user/update`, 'x', '--json', '--dir', tokens], { env });
    expect(bad.status).to.equal(1);
    const e = JSON.parse(bad.stdout);
    expect(e.ok).to.equal(false);
    expect(e.exitCode).to.equal(1);
    expect(e.error.code).to.equal(10001);
    expect(e.error.messageId).to.match(/^\d+$/);
    expect(emu.requests.map((q) => q.code)).to.include(10001);
    expect(bad.stderr).to.match(/^aliyun-iot-http: 10001: param error\n$/);
    // a usage error is JSON too
    const u = await run(['publish', '--json'], { env });
    expect(u.status).to.equal(2);
    expect(JSON.parse(u.stdout)).to.deep.include({ ok: false, exitCode: 2 });
  });

  it('exit status per class: 1 refused (bad secret), 2 bad topic, 3 no connection and timeout, 4 HTTP error and garbage', async () => {
    const refused = await run(['publish', TOPIC, 'x', '--dir', tokens], { env: { ...env, ALIYUN_DEVICE_SECRET: 'wrong-secret' } });
    expect(refused.status).to.equal(1);
    expect(refused.stderr).to.include('20000');
    expect(emu.requests.map((q) => [q.path, q.code])).to.deep.include(['/auth', 20000]);

    const badTopic = await run(['publish', 'no-slash', 'x', '--dir', tokens], { env });
    expect(badTopic.status).to.equal(2);
    expect(badTopic.stderr).to.match(/EINVAL: bad topic/);

    const server = net.createServer();
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    const closedPort = server.address().port;
    await new Promise((r) => server.close(r));
    const down = await run(['publish', TOPIC, 'x', '--dir', tokens, '--retries', '0', '--endpoint', `https://127.0.0.1:${closedPort}`], { env });
    expect(down.status).to.equal(3);
    expect(down.stderr).to.match(/ENETWORK/);

    await run(['auth', '--dir', tokens], { env });
    emu.reset();
    emu.fault({ type: 'delay', ms: 1500 }, 'topic');
    const slow = await run(['publish', TOPIC, 'late', '--dir', tokens, '--retries', '0', '--timeout', '300'], { env });
    expect(slow.status).to.equal(3);
    expect(slow.stderr).to.match(/ETIMEDOUT/);
    emu.fault({ type: 'status', status: 502 }, 'topic');
    const http = await run(['publish', TOPIC, 'x', '--dir', tokens, '--retries', '0'], { env });
    expect(http.status).to.equal(4);
    expect(http.stderr).to.match(/EHTTP/);
    emu.fault({ type: 'garbage' }, 'topic');
    const garbage = await run(['publish', TOPIC, 'x', '--dir', tokens, '--retries', '0'], { env });
    expect(garbage.status).to.equal(4);
    expect(garbage.stderr).to.match(/EPROTO/);
    for (const r of [refused, badTopic, down, slow, http, garbage]) expectNoSecret(r);
  });

  it('the token folder: --dir, else the library\'s default ~/.aliyun-iot-http', async () => {
    let r = await run(['publish', TOPIC, 'x', '--dir', tokens], { env });
    expect(r.status, r.stderr).to.equal(0);
    expect(existsSync(join(tokens, `${DEVICE.productKey}.${DEVICE.deviceName}.json`))).to.equal(true);
    r = await run(['publish', TOPIC, 'y'], { env });
    expect(r.status, r.stderr).to.equal(0);
    const file = join(env.HOME, '.aliyun-iot-http', `${DEVICE.productKey}.${DEVICE.deviceName}.json`);
    expect(statSync(file).mode & 0o777).to.equal(0o600);
    expect(readFileSync(file, 'utf8')).to.not.include(DEVICE.deviceSecret);
    r = await run(['publish', TOPIC, 'z'], { env });
    expect(emu.authCount, 'each folder authenticates once').to.equal(2);
  });

  it('auth: reports the token\'s length and expiry, never the secret nor (unless asked) the token', async () => {
    const r = await run(['auth', '--dir', tokens, '--json'], { env });
    expect(r.status, r.stderr).to.equal(0);
    const o = JSON.parse(r.stdout);
    expect(o.ok).to.equal(true);
    expect(o.tokenLength).to.be.a('number').above(20);
    expect(o.expire).to.be.a('number').above(Date.now());
    expect(o).to.not.have.property('token');
    expect(emu.authCount).to.equal(1);
    const text = await run(['auth', '--dir', tokens], { env });
    expect(text.stdout).to.match(/^authenticated a1CliProd\/cli-01: token of \d+ characters, expires \d{4}-\d\d-\d\dT/);
    expectNoSecret(text);
    // --print-token: the token itself, the one kept for the next publish
    const t = await run(['auth', '--dir', tokens, '--print-token'], { env });
    const token = t.stdout.trim();
    expect(token.split('.')).to.have.length(3);
    expect(token.length).to.equal(o.tokenLength);
    expect(text.stdout).to.not.include(token);
    expect(emu.authCount).to.equal(3);
    const p = await run(['publish', TOPIC, 'with the printed token', '--dir', tokens], { env });
    expect(p.status).to.equal(0);
    expect(emu.authCount, 'no new /auth').to.equal(3);
    expect(emu.requests[emu.requests.length - 1].headers.password).to.equal(token);
  });

  it('thing post: Alink JSON the emulator accepts; 21.0 stays a float, 40 an integer', async () => {
    const r = await run(['thing', 'post', '{"temperature": 21.0, "humidity": 40, "label": "Küche", "power": {"value": "on", "time": 1700000000000}}', '--dir', tokens], { env });
    expect(r.status, r.stderr).to.equal(0);
    expect(emu.alink).to.have.length(1);
    expect(emu.alink[0]).to.deep.include({ kind: 'property', method: 'thing.event.property.post' });
    expect(emu.alink[0].error).to.equal(undefined);
    expect(emu.messages[0].topic).to.equal(`/sys/${DEVICE.productKey}/${DEVICE.deviceName}/thing/event/property/post`);
    expect(emu.messages[0].body.toString()).to.include('"params":{"temperature":21.0,"humidity":40,"label":"Küche","power":{"value":"on","time":1700000000000}}');
    expect(emu.properties(DEVICE.productKey, DEVICE.deviceName).humidity.value).to.equal(40);
    expect(r.stdout.trim()).to.equal(emu.messages[0].messageId);
    // from stdin and from a file
    const s = await run(['thing', 'post', '-', '--dir', tokens, '--json'], { env, input: '{"temperature": 22.5}' });
    expect(JSON.parse(s.stdout)).to.deep.include({ ok: true, properties: ['temperature'] });
    const file = join(dir, 'props.json');
    writeFileSync(file, '{"humidity": 41}');
    expect((await run(['thing', 'post', '--file', file, '--dir', tokens], { env })).status).to.equal(0);
    expect(emu.properties(DEVICE.productKey, DEVICE.deviceName)).to.deep.include({ temperature: { value: 22.5, time: emu.alink[1].time } });
    expect(emu.properties(DEVICE.productKey, DEVICE.deviceName).humidity.value).to.equal(41);
  });

  it('thing post: bad JSON, a non-object or a value JSON cannot carry is refused before anything is sent', async () => {
    expectUsageError(await run(['thing', 'post', '{"a": 1,}', '--dir', tokens], { env }), /properties is not valid JSON: expected a key in double quotes at line 1, column 9/);
    expectUsageError(await run(['thing', 'post', '[1, 2]', '--dir', tokens], { env }), /must be a JSON object/);
    expectUsageError(await run(['thing', 'post', '{"a": 1e999}', '--dir', tokens], { env }), /EINVAL: bad float Infinity/);
    expectUsageError(await run(['thing', 'post', '{}', '--dir', tokens], { env }), /give at least one/);
    expectUsageError(await run(['thing', 'post', '{"hasOwnProperty": 1}', '--dir', tokens], { env }), /hasOwnProperty/);
    expectUsageError(await run(['thing', 'post', '-', '--dir', tokens], { env, input: Buffer.from([0x7b, 0xff, 0x7d]) }), /not UTF-8/);
    expect(emu.requests).to.have.length(0);
  });

  it('thing event and thing version: the topics and bodies the service takes', async () => {
    let r = await run(['thing', 'event', 'overheat', '{"level": 3, "temp": 80.0}', '--dir', tokens], { env });
    expect(r.status, r.stderr).to.equal(0);
    r = await run(['thing', 'event', 'button', '--dir', tokens, '--json'], { env });
    expect(JSON.parse(r.stdout)).to.deep.include({ ok: true, event: 'button' });
    r = await run(['thing', 'version', '1.2.3', '--dir', tokens], { env });
    r = await run(['thing', 'version', '0.9', '--module', 'mcu', '--dir', tokens, '--json'], { env });
    expect(JSON.parse(r.stdout)).to.deep.include({ ok: true, version: '0.9', module: 'mcu' });
    expect(emu.alink.map((a) => a.error)).to.deep.equal([undefined, undefined, undefined, undefined]);
    const [overheat] = emu.events(DEVICE.productKey, DEVICE.deviceName, 'overheat');
    expect(overheat.params.value).to.deep.equal({ level: 3, temp: 80 });
    expect(emu.messages[0].body.toString()).to.include('"value":{"level":3,"temp":80.0}');
    expect(emu.events(DEVICE.productKey, DEVICE.deviceName, 'button')[0].params.value).to.deep.equal({});
    expect(emu.firmware(DEVICE.productKey, DEVICE.deviceName)).to.deep.equal({ version: '1.2.3' });
    expect(emu.firmware(DEVICE.productKey, DEVICE.deviceName, 'mcu')).to.deep.equal({ version: '0.9', module: 'mcu' });
    expectUsageError(await run(['thing', 'event', 'bad id', '{}', '--dir', tokens], { env }), /EINVAL: bad identifier/);
    expectUsageError(await run(['thing', 'version', 'has space', '--dir', tokens], { env }), /EINVAL: bad version/);
    expect(emu.messages).to.have.length(4);
  });

  it('credentials: a missing device or secret is a usage error naming the variables, nothing sent', async () => {
    const none = cleanEnv({ ALIYUN_ENDPOINT: emu.url });
    expectUsageError(await run(['publish', TOPIC, 'x'], { env: none }), /no device: set productKey and deviceName in ALIYUN_PRODUCT_KEY, ALIYUN_DEVICE_NAME and ALIYUN_DEVICE_SECRET/);
    const noSecret = { ...env };
    delete noSecret.ALIYUN_DEVICE_SECRET;
    expectUsageError(await run(['auth'], { env: noSecret }), /no secret for a1CliProd\/cli-01/);
    expectUsageError(await run(['publish', TOPIC, 'x', '--ca', join(dir, 'nope.pem')], { env }), /cannot read CA file/);
    writeFileSync(join(dir, 'not-a-ca.pem'), 'hello');
    expectUsageError(await run(['publish', TOPIC, 'x', '--ca', join(dir, 'not-a-ca.pem')], { env }), /holds no PEM certificate/);
    expectUsageError(await run(['publish', TOPIC, 'x', '--endpoint', 'http://insecure'], { env }), /EINVAL: bad option endpoint/);
    expect(emu.requests).to.have.length(0);
  });

  it('--device FILE: its credentials only (the environment\'s are not mixed in), a relative CA path, checks', async () => {
    const file = join(dir, 'device.json');
    writeFileSync(join(dir, 'device-ca.pem'), emu.ca);
    writeFileSync(file, JSON.stringify({ ...DEVICE, endpoint: emu.url, ca: 'device-ca.pem' }), { mode: 0o600 });
    chmodSync(file, 0o600);
    const other = cleanEnv({ ALIYUN_PRODUCT_KEY: 'a1Other', ALIYUN_DEVICE_NAME: 'other', ALIYUN_DEVICE_SECRET: 'other-secret' });
    const r = await run(['publish', TOPIC, 'from the device file', '--device', file, '--dir', tokens], { env: other });
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stderr).to.equal('');
    expect(emu.messages.map((m) => [m.productKey, m.deviceName])).to.deep.equal([[DEVICE.productKey, DEVICE.deviceName]]);
    // a file others can read is used, with a warning
    chmodSync(file, 0o644);
    const w = await run(['publish', TOPIC, 'x', '--device', file, '--dir', tokens], { env: other });
    expect(w.status).to.equal(0);
    expect(w.stderr).to.match(/warning: device file .* holds a secret and others can read it \(mode 644\): chmod 600/);
    emu.reset();
    // bad files: a clear error that never quotes the file's text
    const bad = join(dir, 'bad-device.json');
    writeFileSync(bad, `{"productKey": "p", "deviceName": "d", "deviceSecret": ${DEVICE.deviceSecret}}`, { mode: 0o600 });
    const b = await run(['publish', TOPIC, 'x', '--device', bad], { env });
    expectUsageError(b, /device file .* is not valid JSON: unexpected character at line 1, column 56/);
    expectNoSecret(b);
    writeFileSync(bad, JSON.stringify({ ...DEVICE, devicesecret: 'typo' }), { mode: 0o600 });
    expectUsageError(await run(['publish', TOPIC, 'x', '--device', bad], { env }), /unknown key "devicesecret"/);
    writeFileSync(bad, JSON.stringify({ ...DEVICE, deviceName: 7 }), { mode: 0o600 });
    expectUsageError(await run(['publish', TOPIC, 'x', '--device', bad], { env }), /deviceName must be a non-empty string/);
    expectUsageError(await run(['publish', TOPIC, 'x', '--device', join(dir, 'none.json')], { env }), /cannot read device file/);
    expect(emu.requests).to.have.length(0);
  });

  it('register --out: a new 0600 device file holding the secret the service issued; the secret is not printed', async () => {
    const out = join(dir, 'reg-01.json');
    const renv = cleanEnv({ ALIYUN_PRODUCT_KEY: PRODUCT.productKey, ALIYUN_DEVICE_NAME: 'reg-01', ALIYUN_PRODUCT_SECRET: PRODUCT.productSecret, ALIYUN_REGISTER_ENDPOINT: emu.url, ALIYUN_ENDPOINT: emu.url, ALIYUN_CA_FILE: caFile(emu) });
    const r = await run(['register', '--out', out], { env: renv });
    expect(r.status, r.stderr).to.equal(0);
    expect(emu.registrations.map((x) => [x.deviceName, x.code])).to.deep.equal([['reg-01', 200]]);
    const secret = emu.registrations[0].deviceSecret;
    expect(statSync(out).mode & 0o777).to.equal(0o600);
    const written = JSON.parse(readFileSync(out, 'utf8'));
    expect(written).to.deep.include({ productKey: PRODUCT.productKey, deviceName: 'reg-01', deviceSecret: secret, endpoint: emu.url });
    expect(r.stdout + r.stderr).to.not.include(secret);
    expect(r.stdout).to.include(out);
    expectNoSecret(r);
    // the file is a device file: it publishes
    const p = await run(['publish', `/${PRODUCT.productKey}/reg-01/user/x`, 'registered', '--device', out, '--dir', tokens], { env: cleanEnv() });
    expect(p.status, p.stderr).to.equal(0);
    expect(emu.messages.map((m) => m.deviceName)).to.deep.equal(['reg-01']);
    // never over an existing file, and never without a place for the secret: checked before registering
    expectUsageError(await run(['register', '--out', out], { env: renv }), /exists: register writes a new file and never replaces one/);
    expectUsageError(await run(['register'], { env: renv }), /register needs --out FILE .* or --print-secret/);
    expectUsageError(await run(['register', '--out', join(dir, 'no-such-dir', 'x.json')], { env: renv }), /cannot write/);
    expect(emu.registrations).to.have.length(1);
    // once active (it authenticated), the service refuses: 6289, exit 1
    const again = await run(['register', '--out', join(dir, 'reg-01-again.json')], { env: renv });
    expect(again.status).to.equal(1);
    expect(again.stderr).to.match(/6289: device already active/);
    expect(existsSync(join(dir, 'reg-01-again.json'))).to.equal(false);
  });

  it('register --print-secret (and --json): the secret on stdout, only when asked', async () => {
    const renv = cleanEnv({ ALIYUN_PRODUCT_KEY: PRODUCT.productKey, ALIYUN_DEVICE_NAME: 'reg-02', ALIYUN_PRODUCT_SECRET: PRODUCT.productSecret, ALIYUN_REGISTER_ENDPOINT: emu.url, ALIYUN_CA_FILE: caFile(emu) });
    const r = await run(['register', '--print-secret'], { env: renv });
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.equal(emu.registrations[0].deviceSecret + '\n');
    const j = await run(['register', '--print-secret', '--json'], { env: { ...renv, ALIYUN_DEVICE_NAME: 'reg-03' } });
    expect(JSON.parse(j.stdout)).to.deep.equal({ ok: true, productKey: PRODUCT.productKey, deviceName: 'reg-03', deviceSecret: emu.registrations[1].deviceSecret });
    const wrong = await run(['register', '--print-secret'], { env: { ...renv, ALIYUN_DEVICE_NAME: 'reg-04', ALIYUN_PRODUCT_SECRET: 'wrong' } });
    expect(wrong.status).to.equal(1);
    expect(wrong.stdout).to.equal('');
    expectUsageError(await run(['register', '--print-secret'], { env: { ...renv, ALIYUN_PRODUCT_SECRET: '' } }), /register needs the productSecret/);
  });

  it('a productSecret instead of a deviceSecret: publish registers once and keeps the secret in the token folder', async () => {
    const penv = cleanEnv({ ALIYUN_PRODUCT_KEY: PRODUCT.productKey, ALIYUN_DEVICE_NAME: 'reg-04', ALIYUN_PRODUCT_SECRET: PRODUCT.productSecret, ALIYUN_REGISTER_ENDPOINT: emu.url, ALIYUN_ENDPOINT: emu.url, ALIYUN_CA_FILE: caFile(emu) });
    for (const text of ['one', 'two']) {
      const r = await run(['publish', `/${PRODUCT.productKey}/reg-04/user/x`, text, '--dir', tokens], { env: penv });
      expect(r.status, r.stderr).to.equal(0);
      expectNoSecret(r);
    }
    expect(emu.registrations).to.have.length(1);
    expect(emu.authCount).to.equal(1);
    expect(emu.messages.map((m) => m.body.toString())).to.deep.equal(['one', 'two']);
  });
});

/** Starts `aliyun-iot-http emulator ...`; resolves once it listens, with its lines so far and more to come. */
function startCli(args, { env = cleanEnv(), json = true } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, 'emulator', ...args, ...(json ? ['--json'] : [])], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const lines = [];
    let stderr = '';
    let buffered = '';
    const waiters = [];
    const check = () => waiters.splice(0).forEach((w) => (w.test() ? w.done() : waiters.push(w)));
    child.stdout.setEncoding('utf8').on('data', (d) => {
      buffered += d;
      const parts = buffered.split('\n');
      buffered = parts.pop();
      lines.push(...parts);
      check();
    });
    child.stderr.setEncoding('utf8').on('data', (d) => {
      stderr += d;
      check();
    });
    const exited = new Promise((r) => child.on('close', (status, signal) => r({ status, signal })));
    const it = {
      child,
      lines,
      get stderr() {
        return stderr;
      },
      exited,
      /** Resolves once `test()` holds (lines and stderr so far), rejects after `ms`. */
      until(test, ms = 15000) {
        return new Promise((done, fail) => {
          const timer = setTimeout(() => fail(new Error(`timed out; stdout:\n${lines.join('\n')}\nstderr:\n${stderr}`)), ms);
          waiters.push({ test, done: () => (clearTimeout(timer), done()) });
          check();
        });
      },
      async stop() {
        child.kill('SIGTERM');
        return exited;
      },
    };
    exited.then((r) => waiters.length && reject(new Error(`the emulator exited (${r.status}): ${stderr}`)));
    const ready = json ? () => lines.some((l) => l.startsWith('{"event":"listening"')) : () => lines.some((l) => /one line per request/.test(l));
    it.until(ready, 20000).then(() => resolve(it), reject);
  });
}

describe('command line: the emulator command', function () {
  this.timeout(60000);
  const devicesFile = () => {
    const file = join(dir, 'devices.json');
    writeFileSync(file, JSON.stringify({ devices: [DEVICE], products: [PRODUCT] }));
    return file;
  };

  it('--port 0 --json: a listening line, then one line per request with method, path, bytes, code and messageId', async () => {
    const ca = join(dir, 'cli-emu-ca.pem');
    const emu = await startCli([devicesFile(), '--port', '0', '--ca-out', ca]);
    try {
      const listening = JSON.parse(emu.lines[0]);
      expect(listening).to.deep.include({ event: 'listening', ca, devices: 1, products: 1 });
      expect(listening.url).to.equal(`https://localhost:${listening.port}`);
      expect(emu.stderr, 'no warning: it serves devices').to.equal('');
      const env = cleanEnv({ ALIYUN_PRODUCT_KEY: DEVICE.productKey, ALIYUN_DEVICE_NAME: DEVICE.deviceName, ALIYUN_DEVICE_SECRET: DEVICE.deviceSecret, ALIYUN_ENDPOINT: listening.url, ALIYUN_CA_FILE: ca });
      const tokens = mkdtempSync(join(dir, 'emu-tokens-'));
      const p = await run(['publish', TOPIC, 'seen by the emulator', '--dir', tokens], { env });
      expect(p.status, p.stderr).to.equal(0);
      const t = await run(['thing', 'post', '{"temperature": "x"}', '--dir', tokens], { env });
      expect(t.status, t.stderr).to.equal(0);
      const bad = await run(['publish', '/a1CliProd/cli-01/user/x?q=1', 'x', '--dir', tokens], { env });
      expect(bad.status).to.equal(2); // refused by the client: never sent
      await emu.until(() => emu.lines.length >= 4);
      const requests = emu.lines.slice(1).map((l) => JSON.parse(l));
      expect(requests.map((r) => [r.event, r.method, r.path, r.status, r.code])).to.deep.equal([
        ['request', 'POST', '/auth', 200, 0],
        ['request', 'POST', '/topic' + TOPIC, 200, 0],
        ['request', 'POST', `/topic/sys/${DEVICE.productKey}/${DEVICE.deviceName}/thing/event/property/post`, 200, 0],
      ]);
      expect(requests[0]).to.deep.include({ productKey: DEVICE.productKey, deviceName: DEVICE.deviceName, remoteAddress: '127.0.0.1' });
      expect(requests[1]).to.deep.include({ kind: 'topic', topic: TOPIC, bytes: 20, messageId: p.stdout.trim() });
      expect(requests[2].alink).to.deep.equal({ kind: 'property' });
      expect(requests[0].time).to.match(/^\d{4}-\d\d-\d\dT.*Z$/);
      for (const line of emu.lines) expect(line).to.not.include(DEVICE.deviceSecret);
      expect(emu.lines.join('\n')).to.not.match(/"token"|password/);
    } finally {
      const { status } = await emu.stop();
      expect(status, 'SIGTERM stops it cleanly').to.equal(0);
    }
  });

  it('text log lines; a thing-model message the service would reject is shown with its Alink error', async () => {
    const ca = join(dir, 'cli-emu-text-ca.pem');
    const emu = await startCli([devicesFile(), '--port', '0', '--ca-out', ca], { json: false });
    try {
      const url = /Emulator of the IoT HTTPS service at (https:\/\/localhost:\d+)/.exec(emu.lines[0])[1];
      expect(emu.lines.join('\n')).to.include(`trust ${ca} (a new CA at every start)`);
      const env = cleanEnv({ ALIYUN_PRODUCT_KEY: DEVICE.productKey, ALIYUN_DEVICE_NAME: DEVICE.deviceName, ALIYUN_DEVICE_SECRET: DEVICE.deviceSecret, ALIYUN_ENDPOINT: url, ALIYUN_CA_FILE: ca });
      const tokens = mkdtempSync(join(dir, 'emu-tokens-'));
      const p = await run(['publish', `/sys/${DEVICE.productKey}/${DEVICE.deviceName}/thing/event/property/post`, '{"id":"1","params":{}}', '--dir', tokens], { env });
      expect(p.status, p.stderr).to.equal(0);
      const n = emu.lines.length;
      await emu.until(() => emu.lines.some((l) => l.includes('/thing/event/property/post')));
      const line = emu.lines.slice(n - 2).find((l) => l.includes('/thing/event/property/post'));
      const id = p.stdout.trim();
      expect(line).to.match(new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\S+Z 127\\.0\\.0\\.1 POST /topic/sys/a1CliProd/cli-01/thing/event/property/post 22 B a1CliProd/cli-01 -> 200 code 0 success messageId ${id} alink property: 6300 method must be thing\\.event\\.property\\.post$`));
      expect(emu.lines.find((l) => / POST \/auth /.test(l))).to.match(/ POST \/auth \d+ B a1CliProd\/cli-01 -> 200 code 0 success$/);
    } finally {
      await emu.stop();
    }
  });

  it('warns when it serves no devices; a devices file that is wrong is a usage error', async () => {
    const emu = await startCli(['--port', '0', '--ca-out', join(dir, 'empty-ca.pem')]);
    try {
      await emu.until(() => /warning/.test(emu.stderr));
      expect(emu.stderr).to.match(/^aliyun-iot-http: warning: the emulator serves no devices: every \/auth answers 20000/);
      expect(JSON.parse(emu.lines[0])).to.deep.include({ devices: 0, products: 0 });
    } finally {
      await emu.stop();
    }
    const bad = join(dir, 'bad-devices.json');
    writeFileSync(bad, '[{"productKey": "p"}]');
    expectUsageError(await run(['emulator', bad, '--port', '0']), /entry 0 needs string productKey, deviceName and deviceSecret/);
    writeFileSync(bad, '[{"productKey": "p", "deviceName": "d", "deviceSecret": s3cret}]');
    const r = await run(['emulator', bad, '--port', '0']);
    expectUsageError(r, /is not valid JSON/);
    expect(r.stderr).to.not.include('s3cret');
  });

  it('--port, and PORT for compatibility (the flag wins); a port in use is exit 3, a CA it cannot write 5', async () => {
    const free = async () => {
      const s = net.createServer();
      await new Promise((r) => s.listen(0, '127.0.0.1', r));
      const { port } = s.address();
      await new Promise((r) => s.close(r));
      return port;
    };
    const [a, b] = [await free(), await free()];
    let emu = await startCli([devicesFile(), '--port', String(a), '--ca-out', join(dir, 'p-ca.pem')], { env: cleanEnv({ PORT: String(b) }) });
    expect(JSON.parse(emu.lines[0]).port).to.equal(a);
    // the same port again: cannot listen
    const busy = await run(['emulator', devicesFile(), '--port', String(a), '--ca-out', join(dir, 'busy-ca.pem')]);
    expect(busy.status).to.equal(3);
    expect(busy.stderr).to.match(/cannot serve on localhost port \d+: .*EADDRINUSE|address already in use/i);
    await emu.stop();
    emu = await startCli([devicesFile(), '--ca-out', join(dir, 'p-ca.pem')], { env: cleanEnv({ PORT: String(b) }) });
    expect(JSON.parse(emu.lines[0]).port).to.equal(b);
    await emu.stop();
    expectUsageError(await run(['emulator'], { env: cleanEnv({ PORT: 'http' }) }), /PORT must be a port number/);
    const unwritable = await run(['emulator', devicesFile(), '--port', '0', '--ca-out', join(dir, 'no-such-dir', 'ca.pem')]);
    expect(unwritable.status).to.equal(5);
    expect(unwritable.stderr).to.match(/cannot write the CA to .*no-such-dir/);
  });

  it('--host 0.0.0.0 --name: a certificate made at this start for those names and this machine\'s addresses, trusted through the CA it wrote only', async () => {
    const ca = join(dir, 'lan-ca.pem');
    const emu = await startCli([devicesFile(), '--host', '0.0.0.0', '--port', '0', '--name', 'mybox.test', '--name', '10.11.12.13', '--ca-out', ca]);
    try {
      const listening = JSON.parse(emu.lines[0]);
      expect(listening.host).to.equal('0.0.0.0');
      expect(listening.url).to.equal(`https://127.0.0.1:${listening.port}`);
      expect(listening.names).to.include.members(['localhost', '127.0.0.1', '::1', 'mybox.test', '10.11.12.13']);
      expect(listening.urls).to.include(`https://mybox.test:${listening.port}`).and.include(`https://10.11.12.13:${listening.port}`);
      const pem = readFileSync(ca, 'utf8');
      // what a board sees: the chain, verified with that CA only, naming mybox.test
      const served = await new Promise((resolve, reject) => {
        const s = tls.connect({ host: '127.0.0.1', port: listening.port, servername: 'mybox.test', ca: pem }, () => {
          const cert = s.getPeerX509Certificate();
          s.end();
          resolve(cert);
        });
        s.on('error', reject);
      });
      expect(served.checkHost('mybox.test')).to.equal('mybox.test');
      expect(served.checkIP('10.11.12.13')).to.equal('10.11.12.13');
      expect(served.checkIssued(new X509Certificate(pem))).to.equal(true);
      expect(served.verify(new X509Certificate(pem).publicKey)).to.equal(true);
      // not the CA shipped with the package
      const shipped = await new Promise((resolve) => {
        const s = tls.connect({ host: '127.0.0.1', port: listening.port, servername: 'mybox.test', ca: CA_CERT }, () => resolve('trusted'));
        s.on('error', (e) => resolve(e.code));
      });
      expect(shipped).to.equal('SELF_SIGNED_CERT_IN_CHAIN');
      // the handshake that failed is a line of its own
      await emu.until(() => emu.lines.some((l) => l.includes('"event":"tls-error"')));
      expect(JSON.parse(emu.lines.find((l) => l.includes('"event":"tls-error"')))).to.deep.include({ remoteAddress: '127.0.0.1' });
      // a publish to the named host, resolved to this machine, with the written CA
      const env = cleanEnv({ ALIYUN_PRODUCT_KEY: DEVICE.productKey, ALIYUN_DEVICE_NAME: DEVICE.deviceName, ALIYUN_DEVICE_SECRET: DEVICE.deviceSecret, ALIYUN_ENDPOINT: listening.url, ALIYUN_CA_FILE: ca });
      const p = await run(['publish', TOPIC, 'over the LAN', '--dir', mkdtempSync(join(dir, 'lan-'))], { env });
      expect(p.status, p.stderr).to.equal(0);
      await emu.until(() => emu.lines.some((l) => l.includes(p.stdout.trim())));
    } finally {
      await emu.stop();
    }
  });

  it('--name without a network --host: a warning that boards cannot reach it', async () => {
    const emu = await startCli([devicesFile(), '--port', '0', '--name', 'mybox.test', '--ca-out', join(dir, 'w-ca.pem')]);
    try {
      expect(emu.stderr).to.match(/warning: the emulator listens on loopback only/);
      expect(JSON.parse(emu.lines[0]).names).to.include('mybox.test');
    } finally {
      await emu.stop();
    }
  });

  it('makes a new CA and key at every start', async () => {
    const keys = [];
    for (const n of [1, 2]) {
      const ca = join(dir, `start-${n}.pem`);
      const emu = await startCli([devicesFile(), '--port', '0', '--ca-out', ca]);
      await emu.stop();
      const cert = new X509Certificate(readFileSync(ca));
      expect(cert.ca).to.equal(true);
      expect(cert.subject).to.match(/^CN=aliyun-iot-http emulator CA [0-9a-f]{8}$/);
      keys.push(cert.publicKey.export({ type: 'spki', format: 'der' }).toString('hex'));
    }
    expect(keys[0]).to.not.equal(keys[1]);
    expect(keys).to.not.include(new X509Certificate(CA_CERT).publicKey.export({ type: 'spki', format: 'der' }).toString('hex'));
  });
});

describe('demo command (npm start)', () => {
  it('runs a device through the emulator and exits 0', async function () {
    this.timeout(30000);
    const r = await run(['demo'], { timeout: 30000 });
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/reused the stored token.*\/auth calls so far: 1\)/);
    expect(r.stdout).to.match(/authenticated again and resent.*\/auth calls so far: 2\)/);
    expect(r.stdout).to.include('each once: true');
    expect(r.stdout).to.not.include('demo-secret-not-real');
  });
});
