/**
 * The `aliyun-iot-http` command: a device's publishes, authentication, registration and
 * thing-model reports from a shell or a gateway's scripts, the emulator of the service, and a
 * demo. Output for people by default, one JSON object with --json; the exit status tells the
 * class of failure (see EXIT). The device secret is never printed or logged.
 */
import type { SignMethod } from '../../src/types';
import { closeSync, fstatSync, lstatSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { hostname, networkInterfaces, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { isIP } from 'node:net';
import { createClient, register, thing, float, NodeClient, NodeClientOptions } from './index';
import { startEmulator, loadDeviceFile, Emulator, EmulatorDevice, RequestLogEntry, TlsErrorEntry } from './emulator';
import { nameProblem } from './emulator-certs';

const NAME = 'aliyun-iot-http';
/** The service's payload limit; input is read up to one byte past it. */
const PAYLOAD_LIMIT = 131072;
/** Messages and requests the command-line emulator keeps in memory. */
const KEEP = 100;

/** Exit statuses, by class of failure. */
const EXIT = {
  ok: 0,
  /** The service answered with an error code (refused). */
  refused: 1,
  /** Bad command line or input; nothing was sent. */
  usage: 2,
  /** No connection, a TLS failure or a timeout: a message may or may not have arrived. */
  network: 3,
  /** An HTTP error status or a reply that is not the service's: a message may have arrived. */
  answer: 4,
  /** A local file could not be written. */
  file: 5,
  /** A bug. */
  internal: 70,
};

type Failure = Error & { code?: unknown; messageId?: string; exit?: number };

function fail(exit: number, message: string, code?: string): Failure {
  const e = new Error(message) as Failure;
  e.exit = exit;
  if (code) e.code = code;
  return e;
}
const usage = (message: string) => fail(EXIT.usage, message, 'EUSAGE');

function exitOf(e: Failure): number {
  if (typeof e.exit === 'number') return e.exit;
  if (typeof e.code === 'number') return EXIT.refused;
  switch (e.code) {
    case 'EINVAL':
    case 'ETOOBIG':
      return EXIT.usage;
    case 'ENETWORK':
    case 'ETIMEDOUT':
      return EXIT.network;
    case 'EHTTP':
    case 'EPROTO':
      return EXIT.answer;
    case 'ESTORAGE':
      return EXIT.file;
    default:
      return EXIT.internal;
  }
}

// ---- command-line parsing ----

interface Flag {
  name: string;
  short?: string;
  /** The value's placeholder; absent for a switch. */
  arg?: string;
  repeat?: boolean;
  /** The value must be a whole number. */
  integer?: boolean;
  help: string;
}

interface Parsed {
  args: string[];
  flags: { [name: string]: string[] };
  json: boolean;
}

interface Command {
  name: string;
  /** Positional arguments, as the help shows them. */
  synopsis: string;
  summary: string;
  /** More help text, after the synopsis. */
  details?: string;
  flags: Flag[];
  min: number;
  max: number;
  run(p: Parsed): Promise<number | void>;
}

const HELP_FLAG: Flag = { name: 'help', short: 'h', help: 'show this help' };
const JSON_FLAG: Flag = { name: 'json', help: 'print one JSON object (errors too, with "ok": false)' };
const DEVICE_FLAGS: Flag[] = [
  { name: 'device', arg: 'FILE', help: 'the device file (JSON); else the ALIYUN_* environment variables' },
  { name: 'endpoint', arg: 'URL', help: 'https://host[:port] of the service (an enterprise instance, the emulator)' },
  { name: 'region', arg: 'REGION', help: 'region of the public instance (default cn-shanghai)' },
  { name: 'register-endpoint', arg: 'URL', help: 'where dynamic registration goes (default https://iot-auth.<region>.aliyuncs.com)' },
  { name: 'ca', arg: 'FILE', help: 'PEM of a private CA to trust (the emulator\'s)' },
  { name: 'dir', arg: 'DIR', help: 'folder of the token file (default ~/.aliyun-iot-http)' },
  { name: 'timeout', arg: 'MS', integer: true, help: 'ms per request (default 10000)' },
  { name: 'retries', arg: 'N', integer: true, help: 'retries after throttling and network failures (default 2)' },
];
const INPUT_FLAG: Flag = { name: 'file', arg: 'FILE', help: 'read it from FILE (- for stdin)' };

function parse(command: Command, argv: string[]): Parsed {
  const flags: { [name: string]: string[] } = {};
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      args.push(...argv.slice(i + 1));
      break;
    }
    if (a[0] !== '-' || a === '-') {
      args.push(a);
      continue;
    }
    const long = a.slice(0, 2) === '--';
    const eq = long ? a.indexOf('=') : -1;
    const key = long ? (eq > 0 ? a.slice(2, eq) : a.slice(2)) : a.slice(1);
    const spec = command.flags.find((f) => (long ? f.name === key : f.short === key));
    if (!spec) throw usage(`unknown option ${eq > 0 ? a.slice(0, eq) : a} for ${command.name}${/^-\d/.test(a) ? ' (put -- before an argument that starts with -)' : ''}`);
    let value = '';
    if (spec.arg) {
      if (eq > 0) value = a.slice(eq + 1);
      else if (i + 1 < argv.length) value = argv[++i];
      else throw usage(`option --${spec.name} needs a value (${spec.arg})`);
    } else if (eq > 0) throw usage(`option --${spec.name} takes no value`);
    if (spec.integer && !/^\d{1,10}$/.test(value)) throw usage(`--${spec.name} must be a whole number, not ${JSON.stringify(value)}`);
    if (flags[spec.name] && !spec.repeat) throw usage(`option --${spec.name} given twice`);
    (flags[spec.name] = flags[spec.name] || []).push(value);
  }
  if (args.length < command.min) throw usage(`${command.name} needs ${command.synopsis.split(' ').filter((w) => w[0] === '<').slice(args.length).join(' ')}`);
  if (args.length > command.max) throw usage(`unexpected argument ${JSON.stringify(args[command.max])} for ${command.name}`);
  return { args, flags, json: !!flags.json };
}

const flag = (p: Parsed, name: string): string | undefined => (p.flags[name] ? p.flags[name][0] : undefined);
const has = (p: Parsed, name: string) => !!p.flags[name];

/** A whole-number flag's value (checked by parse). */
function integer(p: Parsed, name: string): number | undefined {
  const v = flag(p, name);
  return v === undefined ? undefined : Number(v);
}

// ---- output ----

function print(text: string) {
  process.stdout.write(text + '\n');
}

/** What a command reports: `text` for people, `data` as JSON with "ok": true. */
function report(p: Parsed, data: object, text: string) {
  print(p.json ? JSON.stringify({ ok: true, ...data }) : text);
}

function warn(text: string) {
  process.stderr.write(`${NAME}: warning: ${text}\n`);
}

/** A string from the network, made safe for a terminal: printable ASCII, the rest escaped. */
function clean(s: string, max = 300): string {
  const t = s.replace(/[^\x20-\x7e]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
  return t.length > max ? t.slice(0, max) + '...' : t;
}

// ---- JSON, read without losing what the user wrote ----

/**
 * JSON.parse, but numbers written with a decimal point or an exponent become float() values when
 * `floats` (so 21.0 is sent as 21.0, as the platform needs for float properties), keys such as
 * __proto__ are plain keys, and errors give a line and column, never the text itself (a device
 * file holds secrets).
 */
function parseJson(text: string, floats: boolean, what: string): unknown {
  let i = 0;
  const problem = (message: string): never => {
    const before = text.slice(0, i);
    throw usage(`${what} is not valid JSON: ${message} at line ${before.split('\n').length}, column ${i - before.lastIndexOf('\n')}`);
  };
  const space = () => {
    while (i < text.length && ' \t\n\r'.indexOf(text[i]) >= 0) i++;
  };
  const STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;
  const NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
  const string = (): string => {
    STRING.lastIndex = i;
    const m = STRING.exec(text);
    if (!m) problem('a bad string');
    i += (m as RegExpExecArray)[0].length;
    return JSON.parse((m as RegExpExecArray)[0]);
  };
  const expect = (c: string) => {
    space();
    if (text[i] !== c) problem(`expected '${c}'`);
    i++;
  };
  const value = (depth: number): unknown => {
    if (depth > 64) problem('nested too deep');
    space();
    const c = text[i];
    if (c === '{') {
      i++;
      const o: { [k: string]: unknown } = {};
      space();
      if (text[i] === '}') return i++, o;
      for (;;) {
        space();
        if (text[i] !== '"') problem('expected a key in double quotes');
        const k = string();
        expect(':');
        Object.defineProperty(o, k, { value: value(depth + 1), enumerable: true, writable: true, configurable: true });
        space();
        if (text[i] === '}') return i++, o;
        expect(',');
      }
    }
    if (c === '[') {
      i++;
      const a: unknown[] = [];
      space();
      if (text[i] === ']') return i++, a;
      for (;;) {
        a.push(value(depth + 1));
        space();
        if (text[i] === ']') return i++, a;
        expect(',');
      }
    }
    if (c === '"') return string();
    for (const [word, v] of [['true', true], ['false', false], ['null', null]] as [string, unknown][]) {
      if (text.slice(i, i + word.length) === word) return (i += word.length), v;
    }
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (!m) problem(c === undefined ? 'unexpected end' : 'unexpected character');
    const n = m as RegExpExecArray;
    i += n[0].length;
    const v = Number(n[0]);
    return floats && depth > 0 && (n[1] || n[2]) ? float(v) : v;
  };
  const v = value(0);
  space();
  if (i < text.length) problem('unexpected text after the value');
  return v;
}

// ---- input ----

/** Reads stdin or a file, at most `limit` + 1 bytes (more means too large). */
function readLimited(file: string | undefined, limit: number, what: string): Promise<Buffer> {
  if (file === undefined || file === '-')
    return new Promise((done, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      process.stdin.on('data', (c: Buffer) => {
        chunks.push(c);
        size += c.length;
        if (size > limit) {
          process.stdin.destroy();
          reject(fail(EXIT.usage, `${what} from stdin is over ${limit} bytes`, 'ETOOBIG'));
        }
      });
      process.stdin.on('end', () => done(Buffer.concat(chunks)));
      process.stdin.on('error', (e) => reject(usage(`cannot read ${what} from stdin: ${e.message}`)));
    });
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    if (fstatSync(fd).isDirectory()) throw usage(`cannot read ${what} file ${file}: it is a folder`);
    const buf = Buffer.alloc(limit + 1);
    let size = 0;
    let n: number;
    while (size < buf.length && (n = readSync(fd, buf, size, buf.length - size, null)) > 0) size += n;
    if (size > limit) throw fail(EXIT.usage, `${what} file ${file} is over ${limit} bytes`, 'ETOOBIG');
    return Promise.resolve(buf.subarray(0, size));
  } catch (e) {
    const x = e as Failure;
    return Promise.reject(x.exit !== undefined ? x : usage(`cannot read ${what} file ${file}: ${x.message}`));
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** The input of a command: its argument (text), `-` (stdin), or --file. */
function input(p: Parsed, arg: string | undefined, what: string, limit: number, optional = false): Promise<Buffer | undefined> {
  const file = flag(p, 'file');
  if (arg !== undefined && file !== undefined) return Promise.reject(usage(`give the ${what} as an argument or with --file, not both`));
  if (arg === undefined && file === undefined) return optional ? Promise.resolve(undefined) : Promise.reject(usage(`${what} missing: give it as an argument, with --file FILE, or - to read stdin`));
  if (arg !== undefined && arg !== '-') return Promise.resolve(Buffer.from(arg, 'utf8'));
  return readLimited(arg === '-' ? '-' : file, limit, what);
}

/** UTF-8 text of an input, refused when it is not. */
function utf8(b: Buffer, what: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(b);
  } catch {
    throw usage(`${what} is not UTF-8 text`);
  }
}

// ---- the device: environment, device file and flags ----

interface Device {
  productKey?: string;
  deviceName?: string;
  deviceSecret?: string;
  productSecret?: string;
  region?: string;
  endpoint?: string;
  registerEndpoint?: string;
  /** Path of a CA file. */
  ca?: string;
  signMethod?: string;
}

const DEVICE_KEYS: (keyof Device)[] = ['productKey', 'deviceName', 'deviceSecret', 'productSecret', 'region', 'endpoint', 'registerEndpoint', 'ca', 'signMethod'];
const ENV: { [k in keyof Device]: string } = {
  productKey: 'ALIYUN_PRODUCT_KEY',
  deviceName: 'ALIYUN_DEVICE_NAME',
  deviceSecret: 'ALIYUN_DEVICE_SECRET',
  productSecret: 'ALIYUN_PRODUCT_SECRET',
  region: 'ALIYUN_REGION',
  endpoint: 'ALIYUN_ENDPOINT',
  registerEndpoint: 'ALIYUN_REGISTER_ENDPOINT',
  ca: 'ALIYUN_CA_FILE',
};

function readDeviceFile(file: string): Device {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw usage(`cannot read device file ${file}: ${(e as Error).message}`);
  }
  const d = parseJson(text, false, `device file ${file}`) as { [k: string]: unknown };
  if (!d || typeof d !== 'object' || Array.isArray(d)) throw usage(`device file ${file} must hold a JSON object`);
  const out: Device = {};
  Object.keys(d).forEach((k) => {
    if (DEVICE_KEYS.indexOf(k as keyof Device) < 0) throw usage(`device file ${file}: unknown key ${JSON.stringify(clean(k, 40))} (known: ${DEVICE_KEYS.join(', ')})`);
    if (typeof d[k] !== 'string' || d[k] === '') throw usage(`device file ${file}: ${k} must be a non-empty string`);
    out[k as keyof Device] = d[k] as string;
  });
  if (out.ca) out.ca = resolve(dirname(file), out.ca);
  if ((out.deviceSecret || out.productSecret) && process.platform !== 'win32') {
    const mode = statSync(file).mode & 0o777;
    if (mode & 0o077) warn(`device file ${file} holds a secret and others can read it (mode ${mode.toString(8)}): chmod 600 ${file}`);
  }
  return out;
}

/**
 * The device and its connection: credentials from the device file when one is given, else from
 * the environment (never mixed); the connection from the flags, then the file, then the
 * environment.
 */
function device(p: Parsed): Device {
  const file = flag(p, 'device');
  const env: Device = {};
  (Object.keys(ENV) as (keyof Device)[]).forEach((k) => {
    const v = process.env[ENV[k] as string];
    if (v) env[k] = v;
  });
  const d: Device = file ? readDeviceFile(file) : { productKey: env.productKey, deviceName: env.deviceName, deviceSecret: env.deviceSecret, productSecret: env.productSecret };
  for (const k of ['region', 'endpoint', 'registerEndpoint', 'ca'] as (keyof Device)[]) {
    const name = k === 'registerEndpoint' ? 'register-endpoint' : k;
    const v = flag(p, name) ?? d[k] ?? env[k];
    if (v !== undefined) d[k] = v;
    else delete d[k];
  }
  const from = file ? `in the device file ${file}` : `in ${ENV.productKey}, ${ENV.deviceName} and ${ENV.deviceSecret} (or ${ENV.productSecret}), or give --device FILE`;
  if (!d.productKey || !d.deviceName) throw usage(`no device: set productKey and deviceName ${from}`);
  return d;
}

function caText(d: Device): string | undefined {
  if (!d.ca) return undefined;
  let text: string;
  try {
    text = readFileSync(d.ca, 'utf8');
  } catch (e) {
    throw usage(`cannot read CA file ${d.ca}: ${(e as Error).message}`);
  }
  if (text.indexOf('-----BEGIN CERTIFICATE-----') < 0) throw usage(`CA file ${d.ca} holds no PEM certificate`);
  return text;
}

function clientOptions(p: Parsed, d: Device): NodeClientOptions {
  if (!d.deviceSecret && !d.productSecret) throw usage(`no secret for ${d.productKey}/${d.deviceName}: set deviceSecret (or productSecret, to register) ${flag(p, 'device') ? 'in the device file' : `in ${ENV.deviceSecret} (or ${ENV.productSecret})`}`);
  const o: NodeClientOptions = { productKey: d.productKey as string, deviceName: d.deviceName as string };
  if (d.deviceSecret) o.deviceSecret = d.deviceSecret;
  else o.productSecret = d.productSecret;
  const optional: [keyof NodeClientOptions, unknown][] = [
    ['region', d.region],
    ['endpoint', d.endpoint],
    ['registerEndpoint', d.registerEndpoint],
    ['signMethod', d.signMethod],
    ['ca', caText(d)],
    ['dir', flag(p, 'dir')],
    ['timeout', integer(p, 'timeout')],
    ['retries', integer(p, 'retries')],
  ];
  optional.forEach(([k, v]) => {
    if (v !== undefined) (o as any)[k] = v;
  });
  return o;
}

/** Runs `use` with a client of the device, closed afterwards. */
async function withClient<T>(p: Parsed, use: (c: NodeClient, d: Device) => Promise<T>): Promise<T> {
  const d = device(p);
  const client = createClient(clientOptions(p, d));
  try {
    return await use(client, d);
  } finally {
    client.close();
  }
}

// ---- the commands ----

async function publish(p: Parsed): Promise<void> {
  const [topic, arg] = p.args;
  const payload = (await input(p, arg, 'payload', PAYLOAD_LIMIT)) as Buffer;
  const r = await withClient(p, (c) => c.publish(topic, payload));
  report(p, { topic, bytes: payload.length, messageId: r.messageId }, r.messageId);
}

/** The `expire` of a JWT-shaped token, if it has one. */
function tokenExpiry(token: string): number | undefined {
  const parts = token.split('.');
  try {
    const e = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')).expire;
    return parts.length === 3 && typeof e === 'number' && isFinite(e) ? e : undefined;
  } catch {
    return undefined;
  }
}

async function auth(p: Parsed): Promise<void> {
  const { token, d } = await withClient(p, async (c, d) => ({ token: await c.auth(), d }));
  const expire = tokenExpiry(token);
  const when = expire === undefined ? 'no expiry in the token (kept 48 hours)' : `expires ${new Date(expire).toISOString()}`;
  const data: { [k: string]: unknown } = { productKey: d.productKey, deviceName: d.deviceName, tokenLength: token.length, expire: expire ?? null };
  if (has(p, 'print-token')) data.token = token;
  if (!p.json && has(p, 'print-token')) return print(token);
  report(p, data, `authenticated ${d.productKey}/${d.deviceName}: token of ${token.length} characters, ${when}; kept in ${flag(p, 'dir') || 'the token folder'}`);
}

async function registerCommand(p: Parsed): Promise<void> {
  const d = device(p);
  const out = flag(p, 'out');
  const show = has(p, 'print-secret');
  if (!out && !show) throw usage('register needs --out FILE (a new device file, mode 0600) or --print-secret: the service gives the secret only until the device first authenticates');
  if (!d.productSecret) throw usage(`register needs the productSecret: ${flag(p, 'device') ? 'productSecret in the device file' : ENV.productSecret}`);
  if (out) {
    let exists = true;
    try {
      lstatSync(out);
    } catch {
      exists = false;
    }
    if (exists) throw usage(`${out} exists: register writes a new file and never replaces one`);
    try {
      if (!statSync(dirname(resolve(out))).isDirectory()) throw new Error('not a folder');
    } catch (e) {
      throw usage(`cannot write ${out}: ${(e as Error).message}`);
    }
  }
  const secret = await register({
    productKey: d.productKey as string,
    deviceName: d.deviceName as string,
    productSecret: d.productSecret,
    ...(d.registerEndpoint ? { endpoint: d.registerEndpoint } : {}),
    ...(d.region ? { region: d.region } : {}),
    ...(d.signMethod ? { signMethod: d.signMethod as SignMethod } : {}), // checked by the library
    ...(d.ca ? { ca: caText(d) } : {}),
    ...(has(p, 'timeout') ? { timeout: integer(p, 'timeout') } : {}),
    ...(has(p, 'retries') ? { retries: integer(p, 'retries') } : {}),
  });
  if (out) {
    const file: Device = { productKey: d.productKey, deviceName: d.deviceName, deviceSecret: secret };
    if (d.region) file.region = d.region;
    if (d.endpoint) file.endpoint = d.endpoint;
    if (d.ca) file.ca = resolve(d.ca);
    try {
      const fd = openSync(out, 'wx', 0o600); // a new file only, never through a link
      try {
        writeSync(fd, JSON.stringify(file, null, 2) + '\n');
      } finally {
        closeSync(fd);
      }
    } catch (e) {
      if (show) print(secret);
      throw fail(EXIT.file, `registered ${d.productKey}/${d.deviceName}, but ${out} could not be written (${(e as Error).message}); the device is not active until it first authenticates, so registering again gives its secret again`);
    }
  }
  const data: { [k: string]: unknown } = { productKey: d.productKey, deviceName: d.deviceName };
  if (out) data.file = out;
  if (show) data.deviceSecret = secret;
  if (p.json) return report(p, data, '');
  if (show) print(secret);
  if (out) (show ? process.stderr : process.stdout).write(`registered ${d.productKey}/${d.deviceName}: its device file ${out} (mode 0600) holds the deviceSecret; use it with --device ${out}\n`);
}

async function jsonInput(p: Parsed, arg: string | undefined, what: string, optional = false): Promise<{ [k: string]: unknown } | undefined> {
  const b = await input(p, arg, what, 1 << 20, optional);
  if (b === undefined) return undefined;
  const v = parseJson(utf8(b, what), true, what);
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw usage(`${what} must be a JSON object`);
  // the thing-model writer calls each object's own hasOwnProperty: a key of that name would replace it
  const shadowed = (x: unknown): boolean => !!x && typeof x === 'object' && Object.keys(x).some((k) => k === 'hasOwnProperty' || shadowed((x as any)[k]));
  if (shadowed(v)) throw usage(`${what}: a key named hasOwnProperty cannot be sent by this version`);
  return v as { [k: string]: unknown };
}

async function thingPost(p: Parsed): Promise<void> {
  const params = (await jsonInput(p, p.args[0], 'properties')) as { [k: string]: unknown };
  if (!Object.keys(params).length) throw usage('properties: give at least one (the service refuses an empty report)');
  const r = await withClient(p, (c, d) => thing(c, { productKey: d.productKey as string, deviceName: d.deviceName as string }).post(params));
  report(p, { properties: Object.keys(params), messageId: r.messageId }, r.messageId);
}

async function thingEvent(p: Parsed): Promise<void> {
  const [identifier, arg] = p.args;
  const value = (await jsonInput(p, arg, 'event value', true)) || {};
  const r = await withClient(p, (c, d) => thing(c, { productKey: d.productKey as string, deviceName: d.deviceName as string }).event(identifier, value));
  report(p, { event: identifier, messageId: r.messageId }, r.messageId);
}

async function thingVersion(p: Parsed): Promise<void> {
  const [version] = p.args;
  const module = flag(p, 'module');
  const r = await withClient(p, (c, d) => thing(c, { productKey: d.productKey as string, deviceName: d.deviceName as string }).version(version, module));
  report(p, { version, ...(module ? { module } : {}), messageId: r.messageId }, r.messageId);
}

// ---- emulator ----

const WILDCARDS = ['0.0.0.0', '::'];

/** Names a board on the network may use for this machine: its addresses and host name. */
function interfaceNames(): string[] {
  const names: string[] = [];
  const nets = networkInterfaces();
  Object.keys(nets).forEach((k) =>
    (nets[k] || []).forEach((a) => {
      if (!a.internal && !/^fe80:/i.test(a.address)) names.push(a.address); // link-local needs a zone
    }),
  );
  const h = hostname();
  if (!nameProblem(h)) names.push(h);
  if (!nameProblem(h) && h.indexOf('.') < 0) names.push(h + '.local'); // mDNS
  return names;
}

function urlOf(name: string, port: number): string {
  return `https://${isIP(name) === 6 ? `[${name}]` : name}:${port}`;
}

function logLine(e: RequestLogEntry): string {
  const parts = [new Date().toISOString(), e.remoteAddress || '-', e.method || '-', e.path || '-', `${e.bytes} B`];
  if (e.productKey !== undefined || e.deviceName !== undefined) parts.push(`${e.productKey ?? '?'}/${e.deviceName ?? '?'}`);
  parts.push('->', e.status === undefined ? 'no answer' : String(e.status));
  if (e.code !== undefined) parts.push(`code ${e.code} ${e.message || ''}`.trim());
  if (e.messageId !== undefined) parts.push(`messageId ${e.messageId}`);
  if (e.fault) parts.push(`fault ${e.fault}`);
  if (e.alink) parts.push(`alink ${e.alink.kind}${e.alink.identifier ? ' ' + e.alink.identifier : ''}: ${e.alink.error ? `${e.alink.error.code} ${e.alink.error.message}` : 'accepted'}`);
  if (e.note) parts.push(`(${e.note})`);
  return clean(parts.join(' '), 1000);
}

function tlsLine(e: TlsErrorEntry, caOut: string): string {
  const why = e.code === 'ECONNRESET' ? `the client closed the connection (does it trust ${caOut}, and name one of the certificate's names?)` : `${e.code ? e.code + ' ' : ''}${e.message}`;
  return clean(`${new Date().toISOString()} ${e.remoteAddress || '-'} TLS handshake failed: ${why}`, 1000);
}

async function emulator(p: Parsed): Promise<void> {
  const file = p.args[0];
  const envPort = process.env.PORT;
  const portText = flag(p, 'port') ?? envPort ?? '8443';
  if (!/^\d{1,5}$/.test(portText) || +portText > 65535) throw usage(`${flag(p, 'port') !== undefined ? '--port' : 'PORT'} must be a port number from 0 to 65535, not ${JSON.stringify(portText)}`);
  const host = flag(p, 'host');
  if (host !== undefined && WILDCARDS.indexOf(host) < 0 && nameProblem(host)) throw usage(`--host: ${nameProblem(host)}`);
  const given = p.flags.name || [];
  given.forEach((n) => {
    const problem = nameProblem(n);
    if (problem) throw usage(`--name: ${problem}`);
  });
  const network = host !== undefined && host !== 'localhost' && host !== '::1' && !/^127\./.test(host);
  if (given.length && !network) warn(`the emulator listens on loopback only: boards on the network reach it with --host 0.0.0.0 (or this machine's address)`);
  const caOut = flag(p, 'ca-out') || 'emulator-ca.pem';
  let devices: EmulatorDevice[] = [];
  let products: { productKey: string; productSecret: string; deviceNames: string[] }[] = [];
  if (file) {
    try {
      ({ devices, products } = loadDeviceFile(file));
    } catch (e) {
      throw usage((e as Error).message);
    }
  }
  if (!devices.length && !products.length)
    warn(`the emulator serves no devices: every /auth answers 20000. Give it a devices file: ${NAME} emulator devices.json (see ${NAME} emulator --help)`);
  const names = (host && WILDCARDS.indexOf(host) >= 0 ? interfaceNames() : []).concat(given);
  const json = p.json;
  let emu: Emulator;
  try {
    emu = await startEmulator({
      devices,
      products,
      host,
      port: +portText,
      keep: KEEP,
      tls: 'generate',
      names,
      onRequest: (e) => print(json ? JSON.stringify({ event: 'request', ...e, time: new Date(e.time).toISOString() }) : logLine(e)),
      onTlsError: (e: TlsErrorEntry) => print(json ? JSON.stringify({ event: 'tls-error', ...e, time: new Date(e.time).toISOString() }) : tlsLine(e, caOut)),
    });
  } catch (e) {
    const x = e as Failure;
    throw fail(EXIT.network, `cannot serve on ${host || 'localhost'} port ${portText}: ${x.message}`, typeof x.code === 'string' ? x.code : undefined);
  }
  try {
    writeFileSync(caOut, emu.ca);
  } catch (e) {
    await emu.close();
    throw fail(EXIT.file, `cannot write the CA to ${caOut}: ${(e as Error).message}`);
  }
  const urls = [emu.url].concat(network ? emu.names.filter((n) => n !== 'localhost' && !/^(127\.|::1$)/.test(n)).map((n) => urlOf(n, emu.port)) : []);
  if (json) print(JSON.stringify({ event: 'listening', url: emu.url, urls, host: emu.host, port: emu.port, names: emu.names, ca: caOut, devices: devices.length, products: products.length }));
  else {
    print(`Emulator of the IoT HTTPS service at ${emu.url} (${devices.length} device${devices.length === 1 ? '' : 's'}, ${products.length} product${products.length === 1 ? '' : 's'} with registration)`);
    if (urls.length > 1) print(`  from the network: ${urls.slice(1).join(', ')}`);
    print(`  its certificate, made for this start, covers ${emu.names.join(', ')}`);
    print(`  trust ${caOut} (a new CA at every start): option ca, --ca, or a board's CA resource`);
    print('  one line per request follows; Ctrl-C stops it');
  }
  const stop = () => {
    emu.close().then(() => {
      if (!json) process.stderr.write('stopped\n');
      process.exit(EXIT.ok);
    });
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

// ---- demo ----

function step(text: string) {
  console.log('- ' + text);
}

async function demo(): Promise<void> {
  const env = process.env;
  const real = !!(env.ALIYUN_PRODUCT_KEY && env.ALIYUN_DEVICE_NAME && env.ALIYUN_DEVICE_SECRET);
  const dir = mkdtempSync(join(tmpdir(), 'aliyun-iot-http-demo-'));
  let emu: Emulator | undefined;
  let options: NodeClientOptions;
  if (real) {
    options = {
      productKey: env.ALIYUN_PRODUCT_KEY as string,
      deviceName: env.ALIYUN_DEVICE_NAME as string,
      deviceSecret: env.ALIYUN_DEVICE_SECRET as string,
      region: env.ALIYUN_REGION,
      endpoint: env.ALIYUN_ENDPOINT,
      dir,
    };
    console.log(`Real service: ${options.endpoint || 'region ' + (options.region || 'cn-shanghai')}, device ${options.productKey}/${options.deviceName}`);
  } else {
    const device: EmulatorDevice = { productKey: 'a1DemoProduct', deviceName: 'demo-device', deviceSecret: 'demo-secret-not-real' };
    emu = await startEmulator({ devices: [device] });
    options = { ...device, endpoint: emu.url, ca: emu.ca, dir, backoff: 200 };
    console.log(`Emulator at ${emu.url} (set ALIYUN_PRODUCT_KEY, ALIYUN_DEVICE_NAME, ALIYUN_DEVICE_SECRET for the real service)`);
  }
  const topic = env.ALIYUN_TOPIC || `/${options.productKey}/${options.deviceName}/user/update`;
  const auths = () => (emu ? ` (/auth calls so far: ${emu.authCount})` : '');
  const first = createClient(options);
  let second = first;
  try {
    const token = await first.auth();
    second = createClient(options);
    step(`authenticated; token of ${token.length} characters kept in ${dir}${auths()}`);
    let r = await second.publish(topic, 'hello from a second client instance');
    step(`a new client instance reused the stored token and published text: messageId ${r.messageId}${auths()}`);
    r = await second.publish(topic, JSON.stringify({ temperature: 23.5, unit: '℃', at: Date.now() }));
    step(`JSON published: messageId ${r.messageId}`);
    r = await second.publish(topic, new Uint8Array([0, 1, 2, 0xfe, 0xff]));
    step(`5 binary bytes published: messageId ${r.messageId}`);
    if (emu) {
      emu.expireTokens();
      r = await second.publish(topic, 'after the token expired');
      step(`the service expired the token (20001); the client authenticated again and resent: messageId ${r.messageId}${auths()}`);
      emu.throttleNext(1, 'topic');
      const t0 = Date.now();
      r = await second.publish(topic, 'throttled once');
      step(`throttled (40000); retried after ${Date.now() - t0} ms: messageId ${r.messageId}`);
      const ids = emu.messages.map((m) => m.messageId);
      step(`the emulator recorded ${emu.messages.length} messages, each once: ${new Set(ids).size === ids.length}`);
    }
    console.log('Done.');
  } finally {
    first.close();
    second.close();
    if (emu) await emu.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- help ----

const CREDENTIALS = `The device, from a device file (--device FILE, a JSON object; its secrets are used only
from there) or else from the environment:
  productKey, deviceName          ALIYUN_PRODUCT_KEY, ALIYUN_DEVICE_NAME
  deviceSecret                    ALIYUN_DEVICE_SECRET
  productSecret                   ALIYUN_PRODUCT_SECRET (instead of deviceSecret: register once,
                                  keep the secret in the token folder)
  region, endpoint                ALIYUN_REGION, ALIYUN_ENDPOINT
  registerEndpoint                ALIYUN_REGISTER_ENDPOINT
  ca (a PEM file)                 ALIYUN_CA_FILE
The flags --region, --endpoint, --register-endpoint and --ca override both.`;

const EXIT_TEXT = `Exit status: 0 success; 1 the service refused (its code is in the message); 2 bad command
line or input, nothing sent; 3 network failure or timeout (a message may have arrived);
4 an unexpected answer (HTTP error, not the service's JSON); 5 a file could not be written;
70 an internal error.`;

const COMMANDS: Command[] = [
  {
    name: 'publish',
    synopsis: '<topic> [payload | -]',
    summary: 'publish a message; prints its messageId',
    details: 'The payload: the argument (sent as UTF-8), --file FILE, or - for stdin (sent as its bytes), at most\n131072 bytes. Put -- before a payload that starts with -.',
    flags: [INPUT_FLAG, ...DEVICE_FLAGS, JSON_FLAG, HELP_FLAG],
    min: 1,
    max: 2,
    run: publish,
  },
  {
    name: 'auth',
    synopsis: '',
    summary: 'authenticate now, keep the token; prints its length and expiry',
    flags: [{ name: 'print-token', help: 'print the token itself (a credential for days: keep it private)' }, ...DEVICE_FLAGS, JSON_FLAG, HELP_FLAG],
    min: 0,
    max: 0,
    run: auth,
  },
  {
    name: 'register',
    synopsis: '',
    summary: 'dynamic registration: the deviceSecret, from the productSecret',
    details: `The service gives the secret until the device first authenticates, then never again (6289):
keep it. --out writes a new device file (mode 0600, never over an existing file) usable with
--device; --print-secret prints the secret itself. A device that should keep its own secret
does not need this command: publish with ${ENV.productSecret} registers and keeps it.`,
    flags: [
      { name: 'out', arg: 'FILE', help: 'write a new device file with the deviceSecret (mode 0600)' },
      { name: 'print-secret', help: 'print the deviceSecret on stdout' },
      ...DEVICE_FLAGS.filter((f) => f.name !== 'dir'),
      JSON_FLAG,
      HELP_FLAG,
    ],
    min: 0,
    max: 0,
    run: registerCommand,
  },
  {
    name: 'thing post',
    synopsis: '<json | ->',
    summary: 'report thing-model properties: \'{"temperature": 21.0}\'',
    details: 'A number written with a decimal point or an exponent is sent as a float (21.0 stays 21.0: the\nplatform refuses a float property without one). A value may be {"value": v, "time": ms}.',
    flags: [INPUT_FLAG, ...DEVICE_FLAGS, JSON_FLAG, HELP_FLAG],
    min: 0,
    max: 1,
    run: thingPost,
  },
  {
    name: 'thing event',
    synopsis: '<identifier> [json | -]',
    summary: 'report a thing-model event (values default {})',
    flags: [INPUT_FLAG, ...DEVICE_FLAGS, JSON_FLAG, HELP_FLAG],
    min: 1,
    max: 2,
    run: thingEvent,
  },
  {
    name: 'thing version',
    synopsis: '<version>',
    summary: 'report the firmware version (OTA inform)',
    flags: [{ name: 'module', arg: 'NAME', help: 'the module whose version it is (default: the default module)' }, ...DEVICE_FLAGS, JSON_FLAG, HELP_FLAG],
    min: 1,
    max: 1,
    run: thingVersion,
  },
  {
    name: 'emulator',
    synopsis: '[devices.json]',
    summary: 'serve the emulator of the service, printing one line per request',
    details: `devices.json: [{"productKey", "deviceName", "deviceSecret"}, ...], or {"devices": [...],
"products": [{"productKey", "productSecret", "deviceNames": [...]}]} for registration.
Its TLS certificate and CA are made at every start (RSA 2048) and cover localhost, 127.0.0.1,
::1, the --host address and every --name; with --host 0.0.0.0 or :: also this machine's
addresses and host name. The CA is written to --ca-out for clients and boards to trust.
It runs until Ctrl-C or SIGTERM (exit status 0); 2 for bad arguments or devices file, 3 when
it cannot listen, 5 when it cannot write the CA.`,
    flags: [
      { name: 'port', arg: 'PORT', help: 'port (default PORT from the environment, else 8443; 0: any free port)' },
      { name: 'host', arg: 'ADDRESS', help: 'address to listen on (default loopback; 0.0.0.0 for the network)' },
      { name: 'name', arg: 'NAME', repeat: true, help: 'a host name or address boards use, for the certificate (repeatable)' },
      { name: 'ca-out', arg: 'FILE', help: 'where to write the CA certificate (default ./emulator-ca.pem)' },
      { name: 'json', help: 'print one JSON object per line: listening, request, tls-error' },
      HELP_FLAG,
    ],
    min: 0,
    max: 1,
    run: emulator,
  },
  {
    name: 'demo',
    synopsis: '',
    summary: 'run a device through a built-in emulator (or the real service)',
    details: `With ${ENV.productKey}, ${ENV.deviceName} and ${ENV.deviceSecret} set, the real service (${ENV.region} or
${ENV.endpoint}; ALIYUN_TOPIC, default /<productKey>/<deviceName>/user/update).`,
    flags: [HELP_FLAG],
    min: 0,
    max: 0,
    run: demo,
  },
];

function flagHelp(f: Flag): string {
  const left = `${f.short ? `-${f.short}, ` : '    '}--${f.name}${f.arg ? ' ' + f.arg : ''}`;
  return `  ${left.padEnd(32)} ${f.help}`;
}

function commandHelp(c: Command): string {
  const lines = [`Usage: ${NAME} ${c.name}${c.synopsis ? ' ' + c.synopsis : ''} [options]`, '', c.summary[0].toUpperCase() + c.summary.slice(1) + '.'];
  if (c.details) lines.push('', c.details);
  lines.push('', 'Options:', ...c.flags.map(flagHelp));
  if (c.flags.some((f) => f.name === 'device')) lines.push('', CREDENTIALS);
  if (c.name !== 'emulator' && c.name !== 'demo') lines.push('', EXIT_TEXT);
  return lines.join('\n');
}

function help(): string {
  const rows = COMMANDS.map((c) => `  ${(c.name + (c.synopsis ? ' ' + c.synopsis : '')).padEnd(36)} ${c.summary}`);
  return [
    `Usage: ${NAME} <command> [arguments] [options]`,
    '',
    'A device of the Alibaba Cloud IoT Platform over HTTPS, and an emulator of the service.',
    '',
    'Commands:',
    ...rows,
    `  ${'help [command]'.padEnd(36)} this help, or a command's`,
    '',
    'Options:',
    `  ${'-h, --help'.padEnd(36)} this help (after a command: the command's)`,
    `  ${'    --version'.padEnd(36)} the version`,
    '',
    CREDENTIALS,
    '',
    EXIT_TEXT,
  ].join('\n');
}

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8'));
    if (pkg.name === NAME && typeof pkg.version === 'string') return pkg.version;
  } catch {
    // below
  }
  throw fail(EXIT.internal, 'cannot read the version from the package.json of this package');
}

const THINGS = COMMANDS.filter((c) => c.name.indexOf('thing ') === 0);

function thingHelp(): string {
  const rows = THINGS.map((c) => `  ${(c.name + ' ' + c.synopsis).padEnd(36)} ${c.summary}`);
  return [`Usage: ${NAME} thing <post | event | version> ... [options]`, '', 'Thing-model (Alink JSON) reports of the device:', ...rows, '', `${NAME} thing post --help (and so on) tells more.`].join('\n');
}

/** The command an argument list names (undefined: `thing` alone), and its own arguments. */
function find(argv: string[]): { command?: Command; rest: string[] } {
  const [first, second] = argv;
  if (first === 'thing') {
    if (second === undefined || second === '--help' || second === '-h') return { rest: argv.slice(1) };
    const command = THINGS.find((c) => c.name === 'thing ' + second);
    if (!command) throw usage(`unknown thing command ${JSON.stringify(second)}: post, event or version (see ${NAME} thing --help)`);
    return { command, rest: argv.slice(2) };
  }
  const command = COMMANDS.find((c) => c.name === first);
  if (!command) throw usage(`unknown command ${JSON.stringify(first)} (see ${NAME} --help)`);
  return { command, rest: argv.slice(1) };
}

async function main(argv: string[]): Promise<number> {
  if (!argv.length) {
    process.stderr.write(help() + '\n');
    return EXIT.usage;
  }
  const first = argv[0];
  if (first === '--help' || first === '-h') return print(help()), EXIT.ok;
  if (first === '--version') {
    if (argv.length > 1) throw usage('--version takes no argument');
    return print(version()), EXIT.ok;
  }
  if (first === 'help') {
    if (argv.length === 1) return print(help()), EXIT.ok;
    if (argv.length > 3) throw usage(`unexpected argument ${JSON.stringify(argv[3])} for help`);
    const { command } = find(argv.slice(1));
    return print(command ? commandHelp(command) : thingHelp()), EXIT.ok;
  }
  if (first[0] === '-') throw usage(`unknown option ${first.split('=')[0]} (options follow the command; see ${NAME} --help)`);
  const { command, rest } = find(argv);
  if (!command) {
    if (!rest.length) throw usage(`thing needs post, event or version (see ${NAME} thing --help)`);
    return print(thingHelp()), EXIT.ok;
  }
  current = command.name;
  if (options.some((a) => a === '--help' || a === '-h')) return print(commandHelp(command)), EXIT.ok;
  const p = parse(command, rest);
  return (await command.run(p)) || EXIT.ok;
}

/** The command being run, for the hint of a usage error. */
let current: string | undefined;
const args = process.argv.slice(2);
/** The arguments before --: where options are. */
const options = args.indexOf('--') < 0 ? args : args.slice(0, args.indexOf('--'));
/** --json after the command asks for JSON, errors included. */
const jsonMode = options.indexOf('--json') > 0;

function errorLine(e: Failure): string {
  if (e.code === 'EUSAGE') return e.message + (current && !/\(see /.test(e.message) ? ` (see ${NAME} ${current} --help)` : '');
  return e.code === undefined ? e.message : `${e.code}: ${e.message}`;
}

// a reader that went away (`| head -1`): stop quietly, as a tool killed by SIGPIPE does
process.stdout.on('error', (e: Error & { code?: string }) => {
  if (e.code !== 'EPIPE') throw e;
  process.exit(typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok);
});

main(args).then(
  (status) => {
    process.exitCode = status;
  },
  (err: unknown) => {
    const e = (err instanceof Error ? err : new Error(String(err))) as Failure;
    const status = exitOf(e);
    process.stderr.write(`${NAME}: ${status === EXIT.internal ? 'internal error: ' : ''}${errorLine(e)}\n`);
    if (jsonMode) {
      const error: { [k: string]: unknown } = { code: e.code ?? null, message: e.message };
      if (e.messageId !== undefined) error.messageId = e.messageId;
      print(JSON.stringify({ ok: false, exitCode: status, error }));
    }
    process.exitCode = status;
  },
);
