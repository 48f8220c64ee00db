/**
 * A loopback emulator of the Alibaba Cloud IoT Platform HTTPS device channel (`/auth` and
 * `/topic/...`), and of dynamic registration (`/auth/register/device`: a device that knows only
 * its product's secret gets its own), for integration tests, demos, and trying a device offline.
 * Publishes to thing-model topics (properties, events, OTA version reports) are also parsed as
 * Alink JSON and recorded with the error the service would put on the reply topic, if any. It
 * checks signs with Node's own crypto, never with this project's hashes, and prints nothing
 * (`onRequest` and `onTlsError` let a caller log what it receives).
 */
import { createHmac, randomBytes, randomInt, timingSafeEqual } from 'crypto';
import { readFileSync } from 'fs';
import { STATUS_CODES } from 'http';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'http';
import { createServer } from 'https';
import type { Server, ServerOptions } from 'https';
import type { AddressInfo, Socket } from 'net';
import { DEFAULT_CIPHERS } from 'tls';
import { X509Certificate } from 'crypto';
import { isIP } from 'net';
import { CA_CERT, SERVER_CERT, SERVER_KEY, LOOPBACK_NAMES, generateCertificates, nameProblem } from './emulator-certs';

export { CA_CERT, SERVER_CERT, SERVER_KEY, generateCertificates } from './emulator-certs';
export type { GeneratedCertificates } from './emulator-certs';

/** A device the emulator knows (as registered in the console). */
export interface EmulatorDevice {
  productKey: string;
  deviceName: string;
  deviceSecret: string;
}

/**
 * A product with dynamic registration enabled, and the devices pre-created in the console that
 * may register (a device known through `devices` or addDevice under this product may too).
 */
export interface EmulatorProduct {
  productKey: string;
  productSecret: string;
  deviceNames: string[];
}

/** Options of {@link startEmulator}. */
export interface EmulatorOptions {
  /** Devices known to the emulator. */
  devices?: EmulatorDevice[];
  /** Products that allow dynamic registration. */
  products?: EmulatorProduct[];
  /**
   * A JSON file: an array of {@link EmulatorDevice}, or an object `{"devices": [...],
   * "products": [...]}` with either key (added to `devices` and `products`).
   */
  devicesFile?: string;
  /**
   * Address to listen on. Default: loopback, both 127.0.0.1 and (where the system has it) ::1,
   * so that `https://localhost:PORT` reaches it whichever address a client resolves first.
   */
  host?: string;
  /** Port; default 0 (any free port). */
  port?: number;
  /** Token lifetime in ms, written as `expire` into each token; default 7 days. */
  tokenLifetime?: number;
  /** Per-device limit of requests per window (ms); requests over it answer 40000. Default: none. */
  throttle?: { limit: number; window: number };
  /** The emulator's clock (timestamp rule, token expiry, throttle windows); default Date.now. */
  now?: () => number;
  /**
   * The TLS certificates. 'generate': a CA and a server certificate made for this start (RSA
   * 2048, see {@link generateCertificates}), covering localhost, 127.0.0.1, ::1, `host` (unless
   * it is 0.0.0.0 or ::) and `names`; the CA's key is never kept, `ca` gives its certificate.
   * 'bundled': the test certificates shipped with this package, whose key is public, for
   * loopback only. Default: 'generate' when `names` is given or `host` is not a loopback
   * address, else 'bundled' (it starts at once). Not used when `key` and `cert` are given.
   */
  tls?: 'generate' | 'bundled';
  /** Host names and IP addresses a generated certificate covers besides the loopback ones and `host`. */
  names?: string[];
  /** TLS key and certificate, instead of `tls`. */
  key?: string;
  cert?: string;
  /** PEM a client must trust when `cert` is given; default `cert` itself (self-signed). */
  ca?: string;
  /**
   * Called once for each request, when it is answered or given up, with what a log line needs;
   * it never holds a secret, token, sign or payload. A throw from it is ignored.
   */
  onRequest?: (entry: RequestLogEntry) => void;
  /** Called for each connection whose TLS handshake failed (a board that does not trust `ca`, say). */
  onTlsError?: (entry: TlsErrorEntry) => void;
  /**
   * How many of the newest entries `messages`, `requests`, `registrations` and `alink` each keep
   * (older ones are dropped); default all. A long-running emulator sets it to bound its memory.
   */
  keep?: number;
}

/** A publish the emulator accepted. */
export interface RecordedMessage {
  productKey: string;
  deviceName: string;
  topic: string;
  /** The exact bytes received. */
  body: Buffer;
  /** The 64-bit message id answered, in decimal. */
  messageId: string;
  /** The emulator's clock when it was accepted. */
  time: number;
}

/** A request as received. */
export interface RecordedRequest {
  method: string;
  /** The raw request target, query string included. */
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** The body (at most the size limit plus a little). */
  body: Buffer;
  /** The business code answered, if any. */
  code?: number;
}

/** One request, as {@link EmulatorOptions.onRequest} reports it. */
export interface RequestLogEntry {
  /** The emulator's clock when it was answered or given up. */
  time: number;
  /** The client's address. */
  remoteAddress: string;
  method: string;
  /** The raw request target, query string included. */
  path: string;
  /** 'auth', 'register' (`/auth/register/device`), 'topic' (a publish), or undefined for any other path (404). */
  kind?: 'auth' | 'register' | 'topic';
  /** A publish's topic, decoded. */
  topic?: string;
  /** Bytes of body received. */
  bytes: number;
  /** The HTTP status sent; undefined when nothing was sent. */
  status?: number;
  /** The business code and message answered, if any. */
  code?: number;
  message?: string;
  /** The messageId answered, in decimal. */
  messageId?: string;
  /** The device, where the request named one (an /auth's or a registration's fields) or its token did. */
  productKey?: string;
  deviceName?: string;
  /** The fault that shaped the answer, if one was queued. */
  fault?: Fault['type'];
  /** For a thing-model publish: what the emulator made of its Alink JSON. */
  alink?: { kind: AlinkRecord['kind']; identifier?: string; error?: { code: number; message: string } };
  /** Why no normal answer was sent: the body never ended, it was far too large, an internal error. */
  note?: string;
}

/** A connection whose TLS handshake failed, as {@link EmulatorOptions.onTlsError} reports it. */
export interface TlsErrorEntry {
  time: number;
  remoteAddress: string;
  /** Node's error code, e.g. ERR_SSL_TLSV1_ALERT_UNKNOWN_CA or ECONNRESET. */
  code?: string;
  message: string;
}

/** A dynamic registration request the emulator processed. */
export interface RecordedRegistration {
  /** As sent ('' when absent). */
  productKey: string;
  deviceName: string;
  signMethod: string;
  /** The code answered (200 on success). */
  code: number;
  /** The secret answered, on success. */
  deviceSecret?: string;
  /** The emulator's clock when it was answered. */
  time: number;
}

/**
 * A thing-model (Alink JSON) publish, parsed after the publish itself was accepted: the HTTPS
 * answer does not depend on it (the service answers Alink errors on a reply topic, which HTTPS
 * cannot deliver), so `error` is where a device's mistakes show.
 */
export interface AlinkRecord {
  productKey: string;
  deviceName: string;
  /** `/sys/.../thing/event/property/post`, `/sys/.../thing/event/{identifier}/post`, `/ota/device/inform/...`. */
  kind: 'property' | 'event' | 'version';
  /** The event's identifier (kind 'event'). */
  identifier?: string;
  /** The message's id as sent ('' when absent or neither a string nor a number). */
  id: string;
  method?: string;
  /** `params` as parsed (undefined when the body is not a JSON object). */
  params: unknown;
  /** The messageId answered to the publish. */
  messageId: string;
  /** The emulator's clock when it was received. */
  time: number;
  /** The code and message the reply topic would carry; absent when the message was accepted. */
  error?: { code: number; message: string };
}

/**
 * A one-shot fault for the next matching request. `delay`, `resetMidway`, `truncate`,
 * `chunked` and `noMessageId` process the request normally (a publish is recorded, a token
 * issued) and only change the answer; `drop`, `reset`, `status`, `garbage` and `code` do not
 * process it.
 */
export type Fault =
  /** Answer normally but after `ms`. */
  | { type: 'delay'; ms: number }
  /** Never answer (the socket is held open until close()). */
  | { type: 'drop' }
  /** Destroy the socket before any reply byte. */
  | { type: 'reset' }
  /** Send the headers and half of the body, then destroy the socket. */
  | { type: 'resetMidway' }
  /** This HTTP status with an HTML body. */
  | { type: 'status'; status: number }
  /** Valid status and headers, JSON body cut in half (Content-Length of the cut body). */
  | { type: 'truncate' }
  /** HTTP 200 with random non-JSON bytes. */
  | { type: 'garbage' }
  /** The normal reply, sent with Transfer-Encoding: chunked in several chunks. */
  | { type: 'chunked' }
  /** The normal reply without info.messageId. */
  | { type: 'noMessageId' }
  /** Answer this business code instead. */
  | { type: 'code'; code: number; message?: string };

/** Which requests a fault applies to ('register': `/auth/register/device`). */
export type FaultMatch = 'auth' | 'topic' | 'register' | 'any';

/** A running emulator. */
export interface Emulator {
  /**
   * Base URL. On loopback it names `localhost`: embedded TLS stacks (mbedtls in the official C
   * SDK, Moddable's) check the certificate's DNS names and ignore its IP addresses.
   */
  url: string;
  /** The address it listens on (the first one when it listens on two). */
  host: string;
  port: number;
  /** PEM of the CA a client must trust. */
  ca: string;
  /** The DNS names and IP addresses its certificate covers. */
  names: string[];
  /** Every accepted publish, in order, exact bytes. */
  messages: RecordedMessage[];
  /** Every request received, in order. */
  requests: RecordedRequest[];
  /** /auth requests that returned a token. */
  authCount: number;
  /** Every dynamic registration request processed, in order. */
  registrations: RecordedRegistration[];
  /** Every thing-model publish parsed, in order, rejected ones too (with `error`). */
  alink: AlinkRecord[];
  /** Add a device, or replace the one with the same productKey and deviceName. */
  addDevice(d: EmulatorDevice): void;
  /** Allow dynamic registration for a product, or replace the one with the same productKey. */
  addProduct(p: EmulatorProduct): void;
  /**
   * The latest accepted value of each property of a device, with the time the device gave
   * (else the emulator's clock at receipt). A value whose time is older than the one held does
   * not replace it.
   */
  properties(productKey: string, deviceName: string): Record<string, { value: unknown; time: number }>;
  /** The accepted events of a device still in `alink`, of one identifier or all. */
  events(productKey: string, deviceName: string, identifier?: string): AlinkRecord[];
  /**
   * The latest accepted firmware version report of a device for a module (default: the default
   * module, reported without `module` or as "default").
   */
  firmware(productKey: string, deviceName: string, module?: string): { version: string; module?: string } | undefined;
  /** The current tokens of the matching devices (all when no argument) now answer 20001. */
  expireTokens(productKey?: string, deviceName?: string): void;
  /** The current tokens of the matching devices (all when no argument) now answer 20003. */
  revokeTokens(productKey?: string, deviceName?: string): void;
  /** Queue a one-shot fault for the next matching request (default 'any'); faults queue in order. */
  fault(f: Fault, match?: FaultMatch): void;
  /** The next n matching requests answer 40000 (queued like faults). */
  throttleNext(n: number, match?: FaultMatch): void;
  /**
   * Clear messages, requests, registrations, thing-model records (property values, firmware
   * versions and the ids seen too), faults and counters; devices, products, tokens, issued
   * secrets and activation stay.
   */
  reset(): void;
  /** Close the server and every open socket (dropped ones too). */
  close(): Promise<void>;
  /** Client connections open now. */
  readonly openSockets: number;
}

const PAYLOAD_LIMIT = 131072;
const AUTH_LIMIT = 16384;
/** How far over a limit the emulator keeps reading before it gives up on the connection. */
const SLACK = 65536;
const TIMESTAMP_WINDOW = 15 * 60 * 1000;
/** Tokens kept per device; an older one then answers 20003, as a revoked token does. */
const TOKENS_KEPT = 16;
const DEFAULT_LIFETIME = 7 * 24 * 3600 * 1000;
const JSON_TYPE = 'application/json';
const FORM_TYPE = 'application/x-www-form-urlencoded';
const RSA_KX_CIPHERS = 'AES128-GCM-SHA256:AES128-SHA256:AES128-SHA:AES256-SHA';
const HMAC = new Map([
  ['hmacmd5', 'md5'],
  ['hmacsha1', 'sha1'],
  ['hmacsha256', 'sha256'],
]);
const UNSIGNED = ['version', 'sign', 'signmethod'];
const MESSAGES: { [code: number]: string } = {
  0: 'success',
  10000: 'common error',
  10001: 'param error',
  20000: 'auth check error',
  20001: 'token is expired',
  20002: 'token is null',
  20003: 'check token error',
  20004: 'update session error',
  30001: 'publish message error',
  40000: 'request too many',
};

/**
 * Answers of `/auth/register/device`. 200 and 6289 are what the service answers (the official
 * C SDK's documentation, aliyun/iotkit-embedded, appendix C "cloud interfaces", quotes
 * `{"code":6289,"message":"device is already active"}`). The others are not documented for
 * this call: 460, 6100 and 6250 are the platform's documented device-side codes for a
 * parameter error, a device not found and a product not found ("Error codes for devices");
 * a bad sign answers 20000 as on /auth.
 */
const REGISTER_MESSAGES: { [code: number]: string } = {
  200: 'success',
  460: 'request parameter error',
  6100: 'device not found',
  6250: 'product not found',
  6289: 'device is already active',
  20000: 'auth check error',
  40000: 'request too many',
};
const REGISTER_PARAMS = ['productKey', 'deviceName', 'random', 'sign', 'signMethod'];
const DAY = 24 * 3600 * 1000;
const ALINK_MAX_ID = 4294967295;
/**
 * Alink reply codes ("Error codes for devices" and "Common codes on devices" in the platform's
 * documentation): 6207 the data is not JSON, 6300 no (here: not the topic's) method, 460 a
 * request parameter error, used here for every other rule (id, version, params, time, an id
 * used twice within a day).
 */
const ALINK_NOT_JSON = 6207;
const ALINK_METHOD = 6300;
const ALINK_PARAM = 460;

type Kind = 'auth' | 'topic' | 'register';
type AlinkKind = AlinkRecord['kind'];
type Params = Record<string, unknown>;
interface Reply {
  code: number;
  message: string;
  token?: string;
  messageId?: bigint;
  /** The registration answer's data. */
  data?: { productKey: string; deviceName: string; deviceSecret: string };
}
interface Body {
  data: Buffer;
  size: number;
  complete: boolean;
  /** Far over the limit: reading stopped, the connection must be closed. */
  flood: boolean;
}
interface TokenRecord {
  productKey: string;
  deviceName: string;
  expire: number;
  expired: boolean;
}

const reply = (code: number, message?: string): Reply => ({ code, message: message || MESSAGES[code] || 'common error' });
const registerReply = (code: number, message?: string): Reply => ({ code, message: message || REGISTER_MESSAGES[code] || MESSAGES[code] || 'common error' });
const isObject = (v: unknown): v is Params => !!v && typeof v === 'object' && !Array.isArray(v);
const deviceKey = (productKey: string, deviceName: string) => productKey + '\u0000' + deviceName;
const mediaType = (h: string | undefined) => (h || '').split(';')[0].trim().toLowerCase();
const b64u = (s: string | Buffer) => Buffer.from(s).toString('base64url');

/** Runs a caller's callback: what it throws must not stop the emulator. */
function quietly(fn: () => void): void {
  try {
    fn();
  } catch {
    // ignored, as documented
  }
}

/** Start an emulator; resolves once it listens. */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const emulator = new EmulatorServer(options, await certificates(options));
  try {
    await emulator.listen(options.port ?? 0, options.host);
  } catch (e) {
    await emulator.close();
    throw e;
  }
  return emulator;
}

interface TlsMaterial {
  key: string;
  /** The chain served: the server certificate, then its issuer. */
  cert: string;
  ca: string;
  names: string[];
}

const WILDCARDS = ['0.0.0.0', '::'];

function isLoopback(host: string | undefined): boolean {
  return !host || host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.split('.')[0] === '127');
}

/** The names a supplied certificate covers, read from its subjectAltName. */
function certificateNames(pem: string): string[] {
  try {
    const san = new X509Certificate(pem).subjectAltName || '';
    return san.split(', ').map((e) => e.replace(/^(DNS|IP Address):/, '')).filter((n) => n && !/^[A-Za-z ]+:/.test(n));
  } catch {
    return [];
  }
}

/** The TLS material of a start: supplied, bundled, or generated now (see EmulatorOptions.tls). */
async function certificates(o: EmulatorOptions): Promise<TlsMaterial> {
  if (o.key && !o.cert) throw new TypeError('key needs cert');
  if (o.cert) return { key: o.key || SERVER_KEY, cert: o.cert, ca: o.ca || o.cert, names: certificateNames(o.cert) };
  if (o.tls !== undefined && o.tls !== 'generate' && o.tls !== 'bundled') throw new TypeError(`tls must be 'generate' or 'bundled', not ${JSON.stringify(o.tls)}`);
  if (o.names !== undefined && !Array.isArray(o.names)) throw new TypeError('names must be an array of host names and IP addresses');
  const generate = o.tls === 'generate' || (o.tls === undefined && (o.names !== undefined || !isLoopback(o.host)));
  if (!generate) {
    if (o.names && o.names.length) throw new TypeError("names need tls 'generate': the bundled certificate covers only localhost, 127.0.0.1 and ::1");
    return { key: SERVER_KEY, cert: SERVER_CERT + '\n' + CA_CERT, ca: CA_CERT, names: LOOPBACK_NAMES.slice() };
  }
  const names = (o.names || []).slice();
  if (o.host && WILDCARDS.indexOf(o.host) < 0 && !nameProblem(o.host)) names.unshift(o.host);
  const g = await generateCertificates(names);
  return { key: g.key, cert: g.cert + g.ca, ca: g.ca, names: g.names };
}

/**
 * Read a devices file: a JSON array of {productKey, deviceName, deviceSecret}, or an object with
 * `devices` (such an array) and/or `products` (of {productKey, productSecret, deviceNames}).
 * Throws a clear error otherwise.
 */
export function loadDeviceFile(file: string): { devices: EmulatorDevice[]; products: EmulatorProduct[] } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`cannot read devices file ${file}: ${(e as Error).message}`);
  }
  let content: unknown;
  try {
    content = JSON.parse(text);
  } catch (e) {
    // V8 quotes the text around the error: it may hold a secret
    throw new Error(`devices file ${file} is not valid JSON: ${(e as Error).message.replace(/, (?:\.\.\.)?".*" is not valid JSON$/s, '')}`);
  }
  const shape = `devices file ${file} must hold a JSON array of devices, or an object with "devices" and/or "products"`;
  let devices: unknown = content;
  let products: unknown = [];
  if (isObject(content)) {
    const keys = Object.keys(content);
    if (!keys.some((k) => k === 'devices' || k === 'products')) throw new Error(shape);
    const unknown = keys.filter((k) => k !== 'devices' && k !== 'products');
    if (unknown.length) throw new Error(`devices file ${file}: unknown key ${JSON.stringify(unknown[0])} (expected "devices" and/or "products")`);
    devices = content.devices ?? [];
    products = content.products ?? [];
    if (!Array.isArray(devices)) throw new Error(`devices file ${file}: "devices" must be an array`);
    if (!Array.isArray(products)) throw new Error(`devices file ${file}: "products" must be an array`);
  } else if (!Array.isArray(content)) throw new Error(shape);
  (devices as unknown[]).forEach((d, i) => {
    if (!isDevice(d)) throw new Error(`devices file ${file}: entry ${i} needs string productKey, deviceName and deviceSecret`);
  });
  (products as unknown[]).forEach((p, i) => {
    if (!isProduct(p)) throw new Error(`devices file ${file}: product ${i} needs string productKey and productSecret, and deviceNames, an array of strings`);
  });
  return { devices: devices as EmulatorDevice[], products: products as EmulatorProduct[] };
}

/** The devices of a devices file (either form, see {@link loadDeviceFile}). */
export function loadDevices(file: string): EmulatorDevice[] {
  return loadDeviceFile(file).devices;
}

function isDevice(d: unknown): d is EmulatorDevice {
  const o = d as Params;
  return !!o && typeof o === 'object' && ['productKey', 'deviceName', 'deviceSecret'].every((k) => typeof o[k] === 'string' && o[k] !== '');
}

function isProduct(p: unknown): p is EmulatorProduct {
  const o = p as Params;
  return (
    isObject(o) &&
    ['productKey', 'productSecret'].every((k) => typeof o[k] === 'string' && o[k] !== '') &&
    Array.isArray(o.deviceNames) &&
    o.deviceNames.every((n) => typeof n === 'string' && n !== '')
  );
}

/** The registration answer: `{"code":200,"data":{...},"message":"success"}` or `{"code":..,"message":..}`. */
function registerText(r: Reply): string {
  const data = r.data ? ',"data":' + JSON.stringify(r.data) : '';
  return '{"code":' + r.code + data + ',"message":' + JSON.stringify(r.message) + '}';
}

/** The reply text, built by hand so that the 64-bit messageId is a bare JSON integer. */
function replyText(r: Reply, withMessageId = true): string {
  const info: string[] = [];
  if (r.token !== undefined) info.push('"token":' + JSON.stringify(r.token));
  if (r.messageId !== undefined && withMessageId) info.push('"messageId":' + String(r.messageId));
  const infoText = r.token !== undefined || r.messageId !== undefined ? ',"info":{' + info.join(',') + '}' : '';
  return '{"code":' + r.code + ',"message":' + JSON.stringify(r.message) + infoText + '}';
}

function send(res: ServerResponse, status: number, type: string, body: Buffer | string, close = false): void {
  const data = Buffer.from(body);
  const headers: OutgoingHttpHeaders = { 'Content-Type': type, 'Content-Length': data.length };
  if (close) headers.Connection = 'close';
  res.writeHead(status, headers);
  res.end(data);
}

function sendResetMidway(res: ServerResponse, text: string): void {
  const data = Buffer.from(text);
  res.writeHead(200, { 'Content-Type': JSON_TYPE, 'Content-Length': data.length });
  res.write(data.subarray(0, data.length >> 1), () => res.socket && res.socket.destroy());
}

function sendChunked(res: ServerResponse, text: string): void {
  const data = Buffer.from(text);
  const step = Math.ceil(data.length / 3);
  res.writeHead(200, { 'Content-Type': JSON_TYPE, 'Transfer-Encoding': 'chunked' });
  const next = (at: number): void => {
    if (at >= data.length) res.end();
    else res.write(data.subarray(at, at + step), (err) => err || setImmediate(next, at + step));
  };
  next(0);
}

function sendStatus(res: ServerResponse, status: number): void {
  const title = `${status} ${STATUS_CODES[status] || 'Error'}`;
  send(res, status, 'text/html', `<html><head><title>${title}</title></head><body><h1>${title}</h1><hr>Tengine</body></html>`);
}

function sendGarbage(res: ServerResponse): void {
  const junk = randomBytes(48);
  junk[0] = 0xff; // never valid JSON (nor UTF-8)
  send(res, 200, JSON_TYPE, junk);
}

/** Read a body, keeping at most `limit` bytes; gives up once far over it. */
function readBody(req: IncomingMessage, limit: number): Promise<Body> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (complete: boolean, flood = false) => {
      req.removeListener('data', onData);
      resolve({ data: Buffer.concat(chunks), size, complete, flood });
    };
    const onData = (chunk: Buffer) => {
      const room = limit + 1 - size;
      if (room > 0) chunks.push(chunk.subarray(0, room));
      size += chunk.length;
      if (size > limit + SLACK) {
        req.pause();
        finish(false, true);
      }
    };
    req.on('data', onData);
    req.on('end', () => finish(true));
    req.on('close', () => finish(req.complete));
    req.on('error', () => finish(false));
  });
}

/** The signed text: every parameter but version, sign and signmethod, sorted by key, key+value. */
function signedText(p: Params): string {
  return Object.keys(p)
    .filter((k) => UNSIGNED.indexOf(k) < 0)
    .sort()
    .map((k) => k + String(p[k]))
    .join('');
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Parse and check the /auth body; undefined means 10001. */
function authParams(body: Buffer): Params | undefined {
  let p: unknown;
  try {
    p = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  if (!p || typeof p !== 'object' || Array.isArray(p)) return undefined;
  const params = p as Params;
  const required = ['productKey', 'deviceName', 'clientId', 'sign'];
  if (!required.every((k) => typeof params[k] === 'string' && params[k] !== '')) return undefined;
  if ((params.clientId as string).length > 64) return undefined;
  if (params.signmethod !== undefined && !HMAC.has(params.signmethod as string)) return undefined;
  if (!Object.keys(params).every((k) => ['string', 'number', 'boolean'].indexOf(typeof params[k]) >= 0)) return undefined;
  if ('timestamp' in params && !validTimestamp(params.timestamp)) return undefined;
  return params;
}

/**
 * Parse and check a registration body (form-encoded, URLSearchParams decoding): productKey,
 * deviceName, random, sign and signMethod each once and non-empty, signMethod one of hmacmd5,
 * hmacsha1 and hmacsha256. signMethod is required: the service's default when it is absent is
 * not documented, and the official SDKs always send it. Undefined means 460.
 */
function registerParams(body: Buffer): Record<string, string> | undefined {
  const form = new URLSearchParams(body.toString('utf8'));
  const p: Record<string, string> = {};
  for (const k of REGISTER_PARAMS) {
    const values = form.getAll(k);
    if (values.length !== 1 || values[0] === '') return undefined;
    p[k] = values[0];
  }
  return HMAC.has(p.signMethod) ? p : undefined;
}

/** What the form fields of a refused registration said, for its record. */
function registerFields(body: Buffer): { productKey: string; deviceName: string; signMethod: string } {
  const form = new URLSearchParams(body.toString('utf8'));
  return { productKey: form.get('productKey') || '', deviceName: form.get('deviceName') || '', signMethod: form.get('signMethod') || '' };
}

function validTimestamp(t: unknown): boolean {
  return typeof t === 'string' ? /^\d{1,16}$/.test(t) : typeof t === 'number' && Number.isFinite(t);
}

/**
 * Whether a device may publish to a topic: its custom topics `/{pk}/{dn}/...`, its system
 * topics `/sys/{pk}/{dn}/...`, and the fixed forms of OTA (`/ota/device/inform|progress|request/{pk}/{dn}`),
 * the device shadow (`/shadow/update/{pk}/{dn}`) and NTP (`/ext/ntp/{pk}/{dn}/request`).
 */
function ownsTopic(topic: string, productKey: string, deviceName: string): boolean {
  const levels = topic.split('/').slice(1);
  if (topic[0] !== '/' || levels.some((l) => l === '' || l === '.' || l === '..' || /[+#]/.test(l))) return false;
  const own = productKey + '/' + deviceName;
  const fixed = ['ota/device/inform/', 'ota/device/progress/', 'ota/device/request/', 'shadow/update/'].map((f) => f + own).concat('ext/ntp/' + own + '/request');
  if (fixed.indexOf(levels.join('/')) >= 0) return true;
  const at = levels[0] === 'sys' ? 1 : 0;
  return levels[at] === productKey && levels[at + 1] === deviceName && levels.length > at + 2;
}

/** The thing-model kind of a topic the device owns, or undefined for other topics. */
function alinkTopic(topic: string): { kind: AlinkKind; identifier?: string } | undefined {
  const levels = topic.split('/').slice(1);
  if (levels.length === 5 && levels[0] === 'ota' && levels[1] === 'device' && levels[2] === 'inform') return { kind: 'version' };
  if (levels.length !== 7 || levels[0] !== 'sys' || levels[3] !== 'thing' || levels[4] !== 'event' || levels[6] !== 'post') return undefined;
  return levels[5] === 'property' ? { kind: 'property' } : { kind: 'event', identifier: levels[5] };
}

/** A `time` the service accepts: a finite number of ms, not more than a day ahead of its clock. */
function validTime(t: unknown, now: number): boolean {
  return typeof t === 'number' && Number.isFinite(t) && t <= now + DAY;
}

/** A property value sent as `{"value": ..., "time": ...}` rather than plainly. */
function timedValue(v: unknown): v is { value: unknown; time?: unknown } {
  return isObject(v) && 'value' in v && Object.keys(v).every((k) => k === 'value' || k === 'time');
}

const alinkParam = (message: string) => ({ code: ALINK_PARAM, message: 'request parameter error: ' + message });

/**
 * The rule an Alink message breaks, if any (the id's reuse aside, which needs the device's
 * history): `id` a string of 1 to 10 digits worth at most 4294967295; `version`, when present,
 * "1.0"; `method` exactly the topic's (thing topics); `params` an object, with for properties
 * at least one value and for events an object `value`; every `time` a finite number not more
 * than 24 hours ahead; a version report's `version` a non-empty string and `module`, when
 * present, too.
 */
function alinkProblem(m: Params, kind: AlinkKind, identifier: string | undefined, now: number): AlinkRecord['error'] {
  if (typeof m.id !== 'string' || !/^\d{1,10}$/.test(m.id) || Number(m.id) > ALINK_MAX_ID) return alinkParam('id must be a string of 1 to 10 digits, at most 4294967295');
  if (m.version !== undefined && m.version !== '1.0') return alinkParam('version must be "1.0"');
  if (kind !== 'version') {
    const method = kind === 'property' ? 'thing.event.property.post' : `thing.event.${identifier}.post`;
    if (m.method !== method) return { code: ALINK_METHOD, message: `method must be ${method}` };
  }
  const params = m.params;
  if (!isObject(params)) return alinkParam('params must be an object');
  if (kind === 'property') {
    const names = Object.keys(params);
    if (!names.length) return alinkParam('params holds no property');
    const late = names.find((k) => timedValue(params[k]) && 'time' in (params[k] as Params) && !validTime((params[k] as Params).time, now));
    if (late !== undefined) return alinkParam(`the time of ${late} must be a number of ms not more than 24 hours ahead`);
  } else if (kind === 'event') {
    if (!isObject(params.value)) return alinkParam('params.value must be an object');
    if ('time' in params && !validTime(params.time, now)) return alinkParam('time must be a number of ms not more than 24 hours ahead');
  } else {
    if (typeof params.version !== 'string' || params.version === '') return alinkParam('params.version must be a non-empty string');
    if (params.module !== undefined && (typeof params.module !== 'string' || params.module === '')) return alinkParam('params.module must be a non-empty string');
  }
  return undefined;
}

/** Parse an Alink body: the fields to record and the rule it breaks, if any. */
function parseAlink(body: Buffer, kind: AlinkKind, identifier: string | undefined, now: number): Pick<AlinkRecord, 'id' | 'method' | 'params' | 'error'> {
  let m: unknown;
  try {
    m = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch {
    return { id: '', params: undefined, error: { code: ALINK_NOT_JSON, message: 'data is not UTF-8 JSON' } };
  }
  if (!isObject(m)) return { id: '', params: undefined, error: { code: ALINK_NOT_JSON, message: 'data is not a JSON object' } };
  const id = typeof m.id === 'string' || typeof m.id === 'number' ? String(m.id) : '';
  const fields: Pick<AlinkRecord, 'id' | 'method' | 'params' | 'error'> = { id, params: m.params };
  if (typeof m.method === 'string') fields.method = m.method;
  const error = alinkProblem(m, kind, identifier, now);
  if (error) fields.error = error;
  return fields;
}

function decodeTopic(url: string): string | undefined {
  try {
    return decodeURIComponent(url.slice('/topic'.length));
  } catch {
    return undefined;
  }
}

function kindOf(req: IncomingMessage): Kind | undefined {
  if (req.method !== 'POST') return undefined;
  const path = (req.url || '').split('?')[0];
  if (path === '/auth') return 'auth';
  if (path === '/auth/register/device') return 'register';
  return path.indexOf('/topic/') === 0 ? 'topic' : undefined;
}

class EmulatorServer implements Emulator {
  url = '';
  host = '';
  port = 0;
  readonly ca: string;
  readonly names: string[];
  readonly messages: RecordedMessage[] = [];
  readonly requests: RecordedRequest[] = [];
  authCount = 0;
  readonly registrations: RecordedRegistration[] = [];
  readonly alink: AlinkRecord[] = [];
  private readonly devices = new Map<string, EmulatorDevice>();
  private readonly products = new Map<string, EmulatorProduct>();
  /** Devices that have had a token: registering them again answers 6289. */
  private readonly activated = new Set<string>();
  /** Per device, the Alink ids accepted and when (kept a day). */
  private readonly seenIds = new Map<string, Map<string, number>>();
  private readonly latest = new Map<string, Map<string, { value: unknown; time: number }>>();
  private readonly versions = new Map<string, { version: string; module?: string }>();
  private readonly tokens = new Map<string, TokenRecord>();
  private readonly tokenKey = randomBytes(32);
  private readonly faults: { fault: Fault; match: FaultMatch }[] = [];
  private readonly windows = new Map<string, { start: number; count: number }>();
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly servers: Server[] = [];
  private readonly tls: ServerOptions;
  private readonly onRequest?: (entry: RequestLogEntry) => void;
  private readonly onTlsError?: (entry: TlsErrorEntry) => void;
  private readonly logged = new WeakSet<RequestLogEntry>();
  /** Connections that have had a request: the request itself reports a close in its body. */
  private readonly started = new WeakSet<Socket>();
  private readonly keep: number;
  private readonly now: () => number;
  private readonly lifetime: number;
  private readonly throttle?: { limit: number; window: number };
  /** Odd ids far above 2^53: never exactly representable as a double. */
  private nextId = BigInt('892687627916247040') + BigInt(randomInt(0, 2 ** 30)) * BigInt(2) + BigInt(1);

  constructor(options: EmulatorOptions, tls: TlsMaterial) {
    const file = options.devicesFile ? loadDeviceFile(options.devicesFile) : { devices: [], products: [] };
    (options.devices || []).concat(file.devices).forEach((d) => this.addDevice(d));
    (options.products || []).concat(file.products).forEach((p) => this.addProduct(p));
    this.now = options.now || Date.now;
    this.lifetime = options.tokenLifetime ?? DEFAULT_LIFETIME;
    this.throttle = options.throttle;
    this.ca = tls.ca;
    this.names = tls.names;
    this.onRequest = options.onRequest;
    this.onTlsError = options.onTlsError;
    this.keep = options.keep ?? Infinity;
    // the chain, as real servers send it (leaf and issuer): Moddable's TLS checks the host name
    // only while walking a chain of two or more
    this.tls = { key: tls.key, cert: tls.cert, ciphers: DEFAULT_CIPHERS + ':' + RSA_KX_CIPHERS, minVersion: 'TLSv1.2' };
  }

  /** Listens on `host`, or on 127.0.0.1 and (where the system has it) ::1 at the same port. */
  async listen(port: number, host?: string): Promise<void> {
    const first = await this.serve(port, host || '127.0.0.1');
    this.host = host || '127.0.0.1';
    this.port = (first.address() as AddressInfo).port;
    if (!host)
      await this.serve(this.port, '::1').catch((e) => {
        if (e.code !== 'EADDRNOTAVAIL' && e.code !== 'EAFNOSUPPORT') throw e; // taken: fail, not serve half of localhost
      });
    // a wildcard address is no address to connect to: name the loopback one, which the certificate covers
    const named = !host || host === 'localhost' ? 'localhost' : host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
    this.url = `https://${named.indexOf(':') >= 0 ? `[${named}]` : named}:${this.port}`;
  }

  private serve(port: number, host: string): Promise<Server> {
    const server = createServer(this.tls, (req, res) => this.request(req, res));
    const onTlsError = this.onTlsError;
    // a failed handshake's socket is closed by the time it is reported: keep its peer's address
    const peers = new WeakMap<Socket, string>();
    server.on('connection', (s: Socket) => {
      this.track(s);
      if (onTlsError) peers.set(s, s.remoteAddress || '');
    });
    server.on('secureConnection', (s: Socket) => this.track(s));
    if (onTlsError)
      server.on('tlsClientError', (err: Error & { code?: string }, s: Socket & { _parent?: Socket }) => {
        const entry: TlsErrorEntry = { time: this.now(), remoteAddress: (s._parent && peers.get(s._parent)) || s.remoteAddress || '', message: err.message };
        if (err.code) entry.code = err.code;
        quietly(() => onTlsError(entry));
      });
    if (this.onRequest) server.on('clientError', (err: Error & { code?: string }, s: Socket) => this.badRequest(err, s));
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.removeListener('error', reject);
        server.on('error', () => undefined);
        this.servers.push(server);
        resolve(server);
      });
    });
  }

  addDevice(d: EmulatorDevice): void {
    if (!isDevice(d)) throw new TypeError('a device needs string productKey, deviceName and deviceSecret');
    const { productKey, deviceName, deviceSecret } = d;
    this.devices.set(deviceKey(productKey, deviceName), { productKey, deviceName, deviceSecret });
  }

  addProduct(p: EmulatorProduct): void {
    if (!isProduct(p)) throw new TypeError('a product needs string productKey and productSecret, and deviceNames, an array of strings');
    this.products.set(p.productKey, { productKey: p.productKey, productSecret: p.productSecret, deviceNames: p.deviceNames.slice() });
  }

  properties(productKey: string, deviceName: string): Record<string, { value: unknown; time: number }> {
    const out: Record<string, { value: unknown; time: number }> = {};
    (this.latest.get(deviceKey(productKey, deviceName)) || new Map()).forEach((v, k) => (out[k] = { ...v }));
    return out;
  }

  events(productKey: string, deviceName: string, identifier?: string): AlinkRecord[] {
    return this.alink.filter(
      (r) => r.kind === 'event' && !r.error && r.productKey === productKey && r.deviceName === deviceName && (identifier === undefined || r.identifier === identifier),
    );
  }

  firmware(productKey: string, deviceName: string, module = 'default'): { version: string; module?: string } | undefined {
    const v = this.versions.get(deviceKey(productKey, deviceName) + '\u0000' + module);
    return v && { ...v };
  }

  expireTokens(productKey?: string, deviceName?: string): void {
    this.tokens.forEach((t) => {
      if (this.matches(t, productKey, deviceName)) t.expired = true;
    });
  }

  revokeTokens(productKey?: string, deviceName?: string): void {
    this.tokens.forEach((t, id) => {
      if (this.matches(t, productKey, deviceName)) this.tokens.delete(id);
    });
  }

  fault(f: Fault, match: FaultMatch = 'any'): void {
    this.faults.push({ fault: f, match });
  }

  throttleNext(n: number, match: FaultMatch = 'any'): void {
    for (let i = 0; i < n; i++) this.fault({ type: 'code', code: 40000 }, match);
  }

  reset(): void {
    this.messages.length = 0;
    this.requests.length = 0;
    this.registrations.length = 0;
    this.alink.length = 0;
    this.seenIds.clear();
    this.latest.clear();
    this.versions.clear();
    this.faults.length = 0;
    this.windows.clear();
    this.authCount = 0;
  }

  get openSockets(): number {
    return this.sockets.size;
  }

  close(): Promise<void> {
    this.timers.forEach((t) => clearTimeout(t));
    this.timers.clear();
    const closed = Promise.all(this.servers.map((server) => new Promise((resolve) => server.close(resolve))));
    this.sockets.forEach((s) => s.destroy());
    return closed.then(() => undefined);
  }

  /** Appends to a record list, dropping the oldest beyond `keep`. */
  private record<T>(list: T[], item: T): void {
    list.push(item);
    if (list.length > this.keep) list.splice(0, list.length - this.keep);
  }

  private track(s: Socket): void {
    this.sockets.add(s);
    s.on('close', () => this.sockets.delete(s));
  }

  private matches(t: TokenRecord, productKey?: string, deviceName?: string): boolean {
    return (productKey === undefined || t.productKey === productKey) && (deviceName === undefined || t.deviceName === deviceName);
  }

  private request(req: IncomingMessage, res: ServerResponse): void {
    this.started.add(req.socket);
    const entry: RequestLogEntry = { time: 0, remoteAddress: req.socket.remoteAddress || '', method: req.method || '', path: req.url || '', bytes: 0 };
    this.handle(req, res, entry).catch(() => {
      this.fail(res);
      this.log(entry, 'internal error: answered 10000 or closed');
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse, entry: RequestLogEntry): Promise<void> {
    const kind = kindOf(req);
    if (kind) entry.kind = kind;
    const url = req.url || '';
    const topic = kind === 'topic' && url.indexOf('?') < 0 ? decodeTopic(url) : undefined;
    if (topic !== undefined) entry.topic = topic;
    const record: RecordedRequest = { method: req.method || '', path: url, headers: { ...req.headers }, body: Buffer.alloc(0) };
    this.record(this.requests, record);
    const body = await readBody(req, kind === 'topic' ? PAYLOAD_LIMIT : AUTH_LIMIT);
    record.body = body.data;
    entry.bytes = body.size;
    if (!body.complete && !body.flood) return this.log(entry, 'the client went away before the body ended');
    if (body.flood) entry.note = 'body far over the limit: connection closed';
    if (!kind) {
      send(res, 404, JSON_TYPE, '{"code":404,"message":"not found"}', body.flood);
      entry.status = 404;
      return this.log(entry);
    }
    const fault = this.takeFault(kind);
    if (fault) entry.fault = fault.type;
    if (fault && this.preempt(fault, kind, res, record, entry)) return this.log(entry);
    const answer = kind === 'auth' ? this.auth(req, body, entry) : kind === 'register' ? this.register(req, body, entry) : this.withId(this.topic(req, body, entry));
    record.code = answer.code;
    const withMessageId = !fault || fault.type !== 'noMessageId';
    Object.assign(entry, { status: 200, code: answer.code, message: answer.message });
    if (answer.messageId !== undefined && withMessageId) entry.messageId = String(answer.messageId);
    const text = kind === 'register' ? registerText(answer) : replyText(answer, withMessageId);
    this.deliver(res, text, fault, body.flood);
    this.log(entry);
  }

  /** Reports a request once, when it is answered or given up. */
  private log(entry: RequestLogEntry, note?: string): void {
    const onRequest = this.onRequest;
    if (!onRequest || this.logged.has(entry)) return;
    this.logged.add(entry);
    if (note) entry.note = note;
    entry.time = this.now();
    quietly(() => onRequest(entry));
  }

  /** An HTTP request Node could not parse: answered as Node does, and logged. */
  private badRequest(err: Error & { code?: string }, s: Socket): void {
    // a reset, or a close in the middle of a request already reported
    const reset = err.code === 'ECONNRESET' || (err.code === 'HPE_INVALID_EOF_STATE' && this.started.has(s));
    const entry: RequestLogEntry = { time: 0, remoteAddress: s.remoteAddress || '', method: '', path: '', bytes: 0 };
    if (!reset && s.writable && s.bytesWritten === 0) {
      const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
      entry.status = status;
      s.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\n\r\n`);
    } else s.destroy();
    if (!reset) this.log(entry, `not a valid HTTP request (${err.code || err.message})`);
  }

  private fail(res: ServerResponse): void {
    try {
      if (res.headersSent) res.destroy();
      else send(res, 200, JSON_TYPE, replyText(reply(10000)), true);
    } catch {
      res.destroy();
    }
  }

  private takeFault(kind: Kind): Fault | undefined {
    const i = this.faults.findIndex((f) => f.match === 'any' || f.match === kind);
    return i < 0 ? undefined : this.faults.splice(i, 1)[0].fault;
  }

  /** Faults that answer instead of processing the request; true when handled. */
  private preempt(fault: Fault, kind: Kind, res: ServerResponse, record: RecordedRequest, entry: RequestLogEntry): boolean {
    switch (fault.type) {
      case 'drop':
        return true;
      case 'reset':
        res.destroy();
        return true;
      case 'status':
        sendStatus(res, fault.status);
        entry.status = fault.status;
        return true;
      case 'garbage':
        sendGarbage(res);
        entry.status = 200;
        return true;
      case 'code': {
        const r = kind === 'register' ? registerReply(fault.code, fault.message) : reply(fault.code, fault.message);
        record.code = r.code;
        send(res, 200, JSON_TYPE, kind === 'register' ? registerText(r) : replyText(kind === 'topic' ? this.withId(r) : r));
        Object.assign(entry, { status: 200, code: r.code, message: r.message });
        if (r.messageId !== undefined) entry.messageId = String(r.messageId);
        return true;
      }
      default:
        return false;
    }
  }

  /** Send a processed reply, shaped by a fault that only changes the answer. */
  private deliver(res: ServerResponse, text: string, fault: Fault | undefined, close: boolean): void {
    if (!fault) return send(res, 200, JSON_TYPE, text, close);
    switch (fault.type) {
      case 'delay':
        return this.later(fault.ms, () => send(res, 200, JSON_TYPE, text, close));
      case 'resetMidway':
        return sendResetMidway(res, text);
      case 'truncate': {
        const data = Buffer.from(text);
        return send(res, 200, JSON_TYPE, data.subarray(0, data.length >> 1), close);
      }
      case 'chunked':
        return sendChunked(res, text);
      default:
        return send(res, 200, JSON_TYPE, text, close);
    }
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  /** Topic replies, errors included, carry a fresh messageId (as the real service's do). */
  private withId(r: Reply): Reply {
    if (r.messageId !== undefined) return r;
    r.messageId = this.nextId;
    this.nextId += BigInt(2);
    return r;
  }

  private throttled(productKey: string, deviceName: string): boolean {
    if (!this.throttle) return false;
    const now = this.now();
    const key = deviceKey(productKey, deviceName);
    let w = this.windows.get(key);
    if (!w || now - w.start >= this.throttle.window) this.windows.set(key, (w = { start: now, count: 0 }));
    return ++w.count > this.throttle.limit;
  }

  private auth(req: IncomingMessage, body: Body, entry: RequestLogEntry): Reply {
    const sized = req.headers['content-length'] !== undefined && body.size <= AUTH_LIMIT;
    const p = sized && mediaType(req.headers['content-type']) === JSON_TYPE ? authParams(body.data) : undefined;
    if (!p) return reply(10001);
    const productKey = p.productKey as string;
    const deviceName = p.deviceName as string;
    Object.assign(entry, { productKey, deviceName });
    if (this.throttled(productKey, deviceName)) return reply(40000);
    const device = this.devices.get(deviceKey(productKey, deviceName));
    if (!device || !this.signOk(p, device.deviceSecret) || !this.fresh(p.timestamp)) return reply(20000);
    this.activated.add(deviceKey(productKey, deviceName));
    return this.issueToken(device);
  }

  /** `/auth/register/device`, recorded in `registrations`. */
  private register(req: IncomingMessage, body: Body, log: RequestLogEntry): Reply {
    const r = this.registration(req, body);
    const entry: RecordedRegistration = { ...registerFields(body.data), code: r.code, time: this.now() };
    if (r.data) entry.deviceSecret = r.data.deviceSecret;
    this.record(this.registrations, entry);
    if (entry.productKey) log.productKey = entry.productKey;
    if (entry.deviceName) log.deviceName = entry.deviceName;
    return r;
  }

  /**
   * The registration rules, in order: parameters (460), throttle (40000), a product that allows
   * registration (6250), the sign, HMAC(productSecret, "deviceName" + dn + "productKey" + pk +
   * "random" + random) in hex of either case (20000), a device pre-created in the console
   * (6100), not yet activated by a successful /auth (6289). The device's secret is the one it
   * already has, else a new one: until activation, registering again answers the same.
   */
  private registration(req: IncomingMessage, body: Body): Reply {
    const sized = req.headers['content-length'] !== undefined && body.size <= AUTH_LIMIT;
    const p = sized && mediaType(req.headers['content-type']) === FORM_TYPE ? registerParams(body.data) : undefined;
    if (!p) return registerReply(460);
    const { productKey, deviceName, random, sign, signMethod } = p;
    if (this.throttled(productKey, deviceName)) return registerReply(40000);
    const product = this.products.get(productKey);
    if (!product) return registerReply(6250);
    const text = 'deviceName' + deviceName + 'productKey' + productKey + 'random' + random;
    const expected = createHmac(HMAC.get(signMethod) as string, product.productSecret).update(text, 'utf8').digest('hex');
    if (!safeEqual(sign.toLowerCase(), expected)) return registerReply(20000);
    const key = deviceKey(productKey, deviceName);
    const known = this.devices.get(key);
    if (!known && product.deviceNames.indexOf(deviceName) < 0) return registerReply(6100);
    if (this.activated.has(key)) return registerReply(6289);
    const deviceSecret = known ? known.deviceSecret : randomBytes(16).toString('hex');
    if (!known) this.addDevice({ productKey, deviceName, deviceSecret });
    return { ...registerReply(200), data: { productKey, deviceName, deviceSecret } };
  }

  private signOk(p: Params, secret: string): boolean {
    const algorithm = HMAC.get((p.signmethod as string | undefined) || 'hmacmd5') as string;
    const expected = createHmac(algorithm, secret).update(signedText(p), 'utf8').digest('hex');
    return safeEqual((p.sign as string).toLowerCase(), expected);
  }

  /** The timestamp, when sent, must be within 15 minutes of the emulator's clock. */
  private fresh(timestamp: unknown): boolean {
    return timestamp === undefined || Math.abs(this.now() - Number(timestamp)) <= TIMESTAMP_WINDOW;
  }

  private issueToken(device: EmulatorDevice): Reply {
    const expire = this.now() + this.lifetime;
    const id = randomBytes(16).toString('hex');
    const signed = b64u('{"type":"JWT","alg":"hmacsha1"}') + '.' + b64u(`{"expire":${expire},"token":"${id}"}`);
    this.prune(device);
    this.tokens.set(id, { productKey: device.productKey, deviceName: device.deviceName, expire, expired: false });
    this.authCount++;
    return { code: 0, message: 'success', token: signed + '.' + this.tokenSignature(signed) };
  }

  /**
   * Before a device gets a new token, only its newest TOKENS_KEPT - 1 stay valid: the tokens
   * kept grow with the number of devices, not with the number of /auth calls.
   */
  private prune(device: EmulatorDevice): void {
    const mine: string[] = [];
    this.tokens.forEach((t, id) => {
      if (t.productKey === device.productKey && t.deviceName === device.deviceName) mine.push(id);
    });
    mine.slice(0, Math.max(0, mine.length - (TOKENS_KEPT - 1))).forEach((id) => this.tokens.delete(id));
  }

  private tokenSignature(signed: string): string {
    return createHmac('sha1', this.tokenKey).update(signed).digest('base64url');
  }

  /** The token record of a password header, or the business code to answer. */
  private session(password: string | string[] | undefined): TokenRecord | number {
    if (password === undefined || password === '') return 20002;
    const parts = typeof password === 'string' ? password.split('.') : [];
    if (parts.length !== 3 || !safeEqual(parts[2], this.tokenSignature(parts[0] + '.' + parts[1]))) return 20003;
    let id: unknown;
    try {
      id = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')).token;
    } catch {
      return 20003;
    }
    const t = typeof id === 'string' ? this.tokens.get(id) : undefined;
    if (!t) return 20003;
    return t.expired || t.expire <= this.now() ? 20001 : t;
  }

  private topic(req: IncomingMessage, body: Body, entry: RequestLogEntry): Reply {
    const t = this.session(req.headers.password);
    if (typeof t === 'number') return reply(t);
    Object.assign(entry, { productKey: t.productKey, deviceName: t.deviceName });
    if (this.throttled(t.productKey, t.deviceName)) return reply(40000);
    const url = req.url || '';
    const topic = url.indexOf('?') < 0 ? decodeTopic(url) : undefined;
    const valid =
      topic !== undefined &&
      ownsTopic(topic, t.productKey, t.deviceName) &&
      mediaType(req.headers['content-type']) === 'application/octet-stream' &&
      req.headers['content-length'] !== undefined &&
      body.size <= PAYLOAD_LIMIT;
    if (!valid) return reply(10001);
    const r = this.withId(reply(0));
    const { productKey, deviceName } = t;
    this.record(this.messages, { productKey, deviceName, topic: topic as string, body: body.data, messageId: String(r.messageId), time: this.now() });
    const thing = alinkTopic(topic as string);
    if (thing) {
      const a = this.thingModel(productKey, deviceName, thing.kind, thing.identifier, body.data, String(r.messageId));
      entry.alink = { kind: a.kind, ...(a.identifier !== undefined ? { identifier: a.identifier } : {}), ...(a.error ? { error: a.error } : {}) };
    }
    return r;
  }

  /** Parse and record a thing-model publish; an accepted one updates the device's state. */
  private thingModel(productKey: string, deviceName: string, kind: AlinkKind, identifier: string | undefined, body: Buffer, messageId: string): AlinkRecord {
    const now = this.now();
    const key = deviceKey(productKey, deviceName);
    const parsed = parseAlink(body, kind, identifier, now);
    const seen = this.seenIds.get(key) || new Map<string, number>();
    seen.forEach((at, id) => {
      if (at <= now - DAY) seen.delete(id);
    });
    if (!parsed.error && seen.has(parsed.id)) parsed.error = alinkParam('id already used by this device within 24 hours');
    const entry: AlinkRecord = { productKey, deviceName, kind, ...(identifier !== undefined ? { identifier } : {}), ...parsed, messageId, time: now };
    this.record(this.alink, entry);
    if (entry.error) return entry;
    this.seenIds.set(key, seen.set(parsed.id, now));
    const params = parsed.params as Params;
    if (kind === 'property') {
      const values = this.latest.get(key) || new Map<string, { value: unknown; time: number }>();
      Object.keys(params).forEach((name) => {
        const v = params[name];
        const timed = timedValue(v);
        const next = { value: timed ? v.value : v, time: timed && typeof v.time === 'number' ? v.time : now };
        const held = values.get(name);
        if (!held || next.time >= held.time) values.set(name, next);
      });
      this.latest.set(key, values);
    } else if (kind === 'version') {
      const module = params.module as string | undefined;
      const report = module === undefined ? { version: params.version as string } : { version: params.version as string, module };
      this.versions.set(key + '\u0000' + (module || 'default'), report);
    }
    return entry;
  }
}
