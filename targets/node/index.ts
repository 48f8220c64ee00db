import { createClient as createCoreClient } from '../../src/client';
import { memoryStorage } from '../../src/memory';
import { unbase64 } from '../../src/token';
import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { provisioned } from '../../src/provision';
import { register as registerCore } from '../../src/register';
import { thing as thingCore, ThingOptions } from '../../src/thing';
import type { Callback, ClientOptions, Platform, PublishResult, RegisterOptions } from '../../src/types';
import { error, ClientError } from '../../src/errors';
import { hostName, parseEndpoint, validTopic } from '../../src/check';
import { httpsTransport, HttpsTransportOptions, LogEvent, watchTransport } from './transport';
import { fileStorage, watchStorage } from './storage';
import { createQueue as createQueueCore, NodeQueue, NodeQueueOptions } from './queue';

export * from '../../src/index';
export { float } from '../../src/thing';
export { httpsTransport, fileStorage };
export { folderFiles } from './queue';
export type { NodeQueue, NodeQueueOptions, QueueFiles, QueueOptions, QueuedMessage, QueueStatus } from './queue';
export type { HttpsTransportOptions, LogEvent, ThingOptions };
export type { FloatValue } from '../../src/thing';
export type { FileStorageOptions } from './storage';

export interface NodeRegisterOptions extends RegisterOptions {
  /** PEM certificate(s) of a private CA (for example the local emulator's). */
  ca?: HttpsTransportOptions['ca'];
  /** Called with what the registration does (`register`, `retry`, `registered`, ...); never a secret. */
  log?: (event: LogEvent) => void;
}

export interface NodeClientOptions extends ClientOptions {
  /** PEM certificate(s) of a private CA (for example the local emulator's). */
  ca?: HttpsTransportOptions['ca'];
  /** Folder of the token file when no `storage` is given; default ~/.aliyun-iot-http. */
  dir?: string;
  /**
   * Called with what the client does beyond answering: retries, (re-)authentication, token
   * writes, registration (see `LogEvent`); never a secret, token or sign. A throw is ignored.
   */
  log?: (event: LogEvent) => void;
}

export type Payload = string | Uint8Array | ArrayBuffer;

export interface NodeClient {
  /** Publishes; returns a Promise when no callback is given. */
  publish(topic: string, payload: Payload): Promise<PublishResult>;
  publish(topic: string, payload: Payload, callback: Callback<PublishResult>): void;
  /** Authenticates now, replacing any token. */
  auth(): Promise<string>;
  auth(callback: Callback<string>): void;
  /** Closes kept-alive connections so that the process can exit. */
  close(): void;
}

/** node:crypto's hash for the sign; the core's pure-JS ones stay exported and agree with it. */
function native(algorithm: string) {
  return (message: Uint8Array) => new Uint8Array(createHash(algorithm).update(message).digest());
}

/** UTF-8 by Buffer: the same bytes as the core's utf8 (lone surrogates too), natively. */
function toUtf8(s: string): Uint8Array {
  return Buffer.from(s, 'utf8');
}

const HASHES = { hmacsha1: native('sha1'), hmacmd5: native('md5'), hmacsha256: native('sha256') };

function platform(transport: Platform['transport'], storage?: Platform['storage']): Platform {
  return { encode: toUtf8, unbase64, hashes: HASHES, transport, storage, setTimeout, clearTimeout, random: () => randomBytes(8).toString('hex') };
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/**
 * `ca`: PEM text (a string or a Buffer), or a list of them, each holding one certificate or
 * more that `node:crypto` can parse. Anything else would only fail at the first connection, as
 * an untrusted server; it is refused here, without quoting it (a key may have been given).
 */
function checkCa(ca: unknown) {
  if (ca == null) return;
  const bad = (why: string) => error('EINVAL', 'bad option ca: ' + why);
  const list = Array.isArray(ca) ? ca : [ca];
  if (!list.length) throw bad('an empty list would trust no server');
  list.forEach((item, i) => {
    const which = list.length > 1 ? ' (item ' + i + ')' : '';
    if (typeof item !== 'string' && !Buffer.isBuffer(item)) throw bad('PEM text is needed' + which + ', a string or a Buffer, not ' + (item === null ? 'null' : typeof item));
    const text = typeof item === 'string' ? item : item.toString('latin1');
    const certs = text.match(PEM_CERT);
    if (!certs) {
      if (/PRIVATE KEY-----/.test(text)) throw bad('this is a private key' + which + '; give the CA certificate (-----BEGIN CERTIFICATE-----)');
      if (text.indexOf('-----BEGIN CERTIFICATE-----') >= 0) throw bad('a -----BEGIN CERTIFICATE----- without its -----END CERTIFICATE-----' + which);
      if (typeof item === 'string' && item.length < 4096 && !/[\r\n]/.test(item)) throw bad('not PEM' + which + ': no -----BEGIN CERTIFICATE----- line; a file name? Give its text: fs.readFileSync(file, "utf8")');
      throw bad('not PEM' + which + ': no -----BEGIN CERTIFICATE----- line (a DER certificate converts with openssl x509 -inform der)');
    }
    certs.forEach((pem, k) => {
      try {
        new X509Certificate(pem);
      } catch (e) {
        throw bad('certificate ' + (k + 1) + which + ' cannot be read (' + ((e as Error).message || e) + ')');
      }
    });
  });
}

/**
 * Why an endpoint is refused, and what it was when that is safe to show: a user part, a query
 * or a fragment may hold a credential, and a value that is not a URL or a host name may be a
 * secret put in the wrong option.
 */
function endpointProblem(name: string, v: unknown, secrets: unknown[]): string | undefined {
  const head = 'bad option ' + name + ': expected https://host[:port]';
  if (typeof v !== 'string') return head + ', a string, not ' + (v === null ? 'null' : typeof v);
  if (v && parseEndpoint(v)) return undefined;
  const m = /^([A-Za-z][\w+.-]*):\/\/([^/?#]*)(.*)$/.exec(v), looksLikeHost = /^[\w-]+(\.[\w-]+)+(:\d*)?\/?$/.test(v);
  let why: string;
  if (!v) why = 'it is empty';
  else if (!m) why = looksLikeHost ? 'the scheme is missing: https://' + v.replace(/\/$/, '') : 'it is not a URL';
  else if (m[1].toLowerCase() !== 'https') why = 'the scheme must be https: TLS is always used';
  else if (m[3] && m[3] !== '/') why = 'no path, query or fragment may follow the host and port';
  else {
    const a = m[2], hp = /^(\[[^\]]*\]|[^:[\]]*)(?::(.*))?$/.exec(a);
    if (a.indexOf('@') >= 0) why = 'a user name or password before the host is not allowed';
    else if (a.split(':').length > 2 && a.charAt(0) !== '[') why = 'an IPv6 address goes in brackets, as https://[::1]:8443';
    else if (!hp || !hp[1]) why = 'the host is missing or not valid';
    else if (hp[2] !== undefined && !(/^[1-9][0-9]*$/.test(hp[2]) && +hp[2] < 65536)) why = 'the port must be 1 to 65535 in decimal digits';
    else if (hp[1].charAt(0) === '[') why = 'the brackets must hold an IPv6 address';
    else why = 'the host may hold letters, digits, "-", "_" and "." only';
  }
  const hidden = !!v && (!(m || looksLikeHost) || /[@?#\s]/.test(v) || v.length > 200 || secrets.some((s) => typeof s === 'string' && s.length > 3 && v.indexOf(s) >= 0));
  return head + (hidden ? '' : ', given ' + JSON.stringify(v)) + ' (' + why + ')' + (hidden ? '; the value is not shown, as it could hold a credential' : '');
}

function checkEndpoints(o: any) {
  const secrets = [o.deviceSecret, o.productSecret];
  if (o.region != null && (typeof o.region !== 'string' || !hostName(o.region))) throw error('EINVAL', 'bad option region: a region id such as cn-shanghai (letters, digits, "-", "_" and ".")');
  for (const name of ['endpoint', 'registerEndpoint']) {
    const why = o[name] != null ? endpointProblem(name, o[name], secrets) : undefined;
    if (why) throw error('EINVAL', why);
  }
}

/** Optimal string alignment distance (Levenshtein with a swap of two neighbours as one edit). */
function distance(a: string, b: string): number {
  const d: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    d[i] = [i];
    for (let j = 1; j <= b.length; j++) {
      if (!i) d[i][j] = j;
      else {
        const cost = a[i - 1] === b[j - 1] ? 0 : 1;
        d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
        if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.length][b.length];
}

const NO_INSECURE = 'certificates are always verified; for a private CA give its PEM as ca';
const CLIENT_OPTIONS = ['productKey', 'deviceName', 'deviceSecret', 'productSecret', 'registerEndpoint', 'region', 'endpoint', 'clientId', 'signMethod', 'timeout', 'retries', 'backoff', 'storage', 'transport', 'now', 'ca', 'dir', 'log'];
const REGISTER_OPTIONS = ['productKey', 'deviceName', 'productSecret', 'region', 'endpoint', 'signMethod', 'random', 'timeout', 'retries', 'backoff', 'transport', 'ca', 'log'];
const QUEUE_OPTIONS = ['files', 'name', 'maxBytes', 'maxMessages', 'full', 'retry', 'maxRetry', 'segment', 'report', 'now', 'dir'];

/**
 * An option the function does not know is refused, naming it: a misspelt `endpiont` would
 * otherwise be ignored and the device would talk to the default region. Only the key is shown.
 */
function checkKnown(o: unknown, known: string[], hints: { [name: string]: string } = {}) {
  if (!o || typeof o !== 'object') return;
  for (const key of Object.keys(o)) {
    if (known.indexOf(key) >= 0) continue;
    let hint = hints[key];
    if (!hint) {
      const near = known.filter((k) => k.toLowerCase() === key.toLowerCase() || distance(k, key) <= (Math.min(k.length, key.length) > 4 ? 2 : 1));
      if (near.length === 1) hint = 'did you mean ' + near[0] + '?';
    }
    throw error('EINVAL', 'unknown option ' + JSON.stringify(key).slice(0, 80) + (hint ? ': ' + hint : ''));
  }
}

function checkLog(log: unknown) {
  if (log != null && typeof log !== 'function') throw error('EINVAL', 'bad option log: a function (event) => void');
}

/** `log` made safe to call: a throw there never reaches the client. */
function emitter(log: (event: LogEvent) => void) {
  return (event: LogEvent) => {
    try {
      log(event);
    } catch {
      // a logger's failure is not the client's
    }
  };
}

/** Why a topic is refused: the offending character and its index, or the level. */
function topicProblem(topic: unknown): string {
  if (typeof topic !== 'string') return 'bad topic of type ' + (topic === null ? 'null' : typeof topic) + ': a string is needed';
  const shown = 'bad topic ' + JSON.stringify(topic.length > 100 ? topic.slice(0, 100) + '...' : topic) + ': ';
  if (topic.charAt(0) !== '/') return shown + 'it must start with "/"';
  for (let i = 0; i < topic.length; i++) {
    const c = topic.charAt(i), n = topic.charCodeAt(i);
    if (n > 32 && n < 127 && '"#%+<>?[\\]^`{|}'.indexOf(c) < 0) continue;
    const code = 'U+' + ('000' + (topic.codePointAt(i) as number).toString(16).toUpperCase()).slice(-4);
    const what = n > 32 && n < 127 ? JSON.stringify(c) + ' (' + code + ')' : n === 32 ? 'a space (U+0020)' : n < 32 || n === 127 ? 'a control character (' + code + ')' : code + ' (not ASCII)';
    const rule = c === '+' || c === '#' ? 'a wildcard, for subscriptions only' : c === '?' ? 'no query string is allowed' : n > 126 ? 'topics are printable ASCII' : 'a URL path would have to escape it';
    return shown + what + ' at index ' + i + ' is not allowed: ' + rule;
  }
  for (let i = 1, start = 1; i <= topic.length; i++) {
    if (i < topic.length && topic.charAt(i) !== '/') continue;
    const level = topic.slice(start, i);
    if (!level) return shown + 'an empty level at index ' + start + (i === topic.length ? ' (a trailing "/")' : ' ("//")');
    if (level === '.' || level === '..') return shown + 'a "' + level + '" level at index ' + start + ' (a URL path would resolve it to another topic)';
    start = i + 1;
  }
  return shown + 'not a valid topic';
}

/** A callback whose "bad topic" error says why; anything else passes unchanged. */
function explained<T>(topic: unknown, cb: Callback<T>): Callback<T> {
  if (typeof cb !== 'function') return cb; // the core refuses it as it is
  return (err, value) => {
    if (err && err.code === 'EINVAL' && /^bad topic/.test(err.message) && !validTopic(topic)) err.message = topicProblem(topic);
    cb(err, value);
  };
}

function promised<T>(run: (cb: Callback<T>) => void, cb?: Callback<T>): Promise<T> | void {
  if (cb) return run(cb);
  return new Promise<T>((resolve, reject) => run((err: ClientError | null, value?: T) => (err ? reject(err) : resolve(value as T))));
}

/**
 * A client with Node defaults: HTTPS with keep-alive and certificate verification, and the
 * token kept in `<dir>/<productKey>.<deviceName>.json` (a 0600 file), where a client given a
 * `productSecret` also keeps the deviceSecret it registers for.
 */
export function createClient(options: NodeClientOptions): NodeClient {
  let o = options || ({} as NodeClientOptions);
  checkKnown(o, CLIENT_OPTIONS, { rejectUnauthorized: NO_INSECURE, insecure: NO_INSECURE, agent: 'the client makes its own agent; give a CA as ca', retry: 'did you mean retries?' });
  checkCa(o.ca);
  checkEndpoints(o);
  checkLog(o.log);
  if (o.dir != null && (typeof o.dir !== 'string' || !o.dir)) throw error('EINVAL', 'bad option dir');
  const transport = httpsTransport({ ca: o.ca }); // the default; an agent holds no socket until used
  const named = typeof o.productKey === 'string' && typeof o.deviceName === 'string';
  let storage = o.storage || (named ? fileStorage({ dir: o.dir, name: o.productKey + '.' + o.deviceName }) : memoryStorage());
  let sent: Platform['transport'] = transport, requested = () => {};
  if (o.log) {
    // only with a log: the watchers read what passes, they change nothing
    // (a transport or storage the core will refuse is left as it is, for the core to refuse)
    const emit = emitter(o.log), given = o.transport, w = watchTransport(typeof given === 'function' ? given : transport, emit);
    if (given == null) sent = w.transport;
    if (storage && typeof storage.getItem === 'function' && typeof storage.setItem === 'function') storage = watchStorage(storage, emit, w.held);
    o = { ...o, transport: typeof given === 'function' ? w.transport : given, storage: o.storage ? storage : undefined };
    requested = w.requested;
  }
  const p = platform(sent, storage);
  const make = (opts: ClientOptions) => createCoreClient(opts, p);
  const core = o.productSecret != null && o.deviceSecret == null ? provisioned(o, p, make) : make(o);
  return {
    publish(topic: string, payload: Payload, cb?: Callback<PublishResult>) {
      return promised<PublishResult>((done) => core.publish(topic, payload, explained(topic, done)), cb);
    },
    auth(cb?: Callback<string>) {
      return promised<string>((done) => {
        if (typeof done === 'function') requested();
        core.auth(done);
      }, cb);
    },
    close() {
      transport.close();
    },
  } as NodeClient;
}

/**
 * Registers the device (dynamic registration) and gives its deviceSecret, to be kept: the
 * service does not give it again once the device is active (6289). Promise without a callback.
 */
export function register(options: NodeRegisterOptions): Promise<string>;
export function register(options: NodeRegisterOptions, callback: Callback<string>): void;
export function register(options: NodeRegisterOptions, cb?: Callback<string>): Promise<string> | void {
  checkCa(options && options.ca);
  return promised<string>((done) => {
    // refused as the core refuses its options: a rejection, or a throw with a callback
    let o = options;
    checkKnown(o, REGISTER_OPTIONS, { registerEndpoint: 'register() takes it as endpoint', deviceSecret: 'register() gives the deviceSecret; it takes productSecret', dir: 'register() keeps nothing: store the secret it gives' });
    if (o && typeof o === 'object') checkEndpoints({ region: o.region, endpoint: o.endpoint, productSecret: o.productSecret });
    checkLog(o && o.log);
    const transport = httpsTransport({ ca: o && o.ca });
    let sent: Platform['transport'] = transport;
    if (o && o.log) {
      const given = o.transport, w = watchTransport(typeof given === 'function' ? given : transport, emitter(o.log));
      if (given == null) sent = w.transport;
      o = { ...o, transport: typeof given === 'function' ? w.transport : given };
    }
    try {
      registerCore(o, platform(sent), (err, secret) => {
        transport.close(); // one request: no socket kept open
        done(err, secret);
      });
    } catch (e) {
      transport.close();
      throw e;
    }
  }, cb);
}

/**
 * Store and forward over a client (see `./queue`): options are checked as the client's are, and
 * a refused topic says why.
 */
export function createQueue(client: { publish: (topic: string, payload: any, cb: Callback<any>) => void }, options?: NodeQueueOptions): NodeQueue {
  checkKnown(options, QUEUE_OPTIONS);
  const q = createQueueCore(client, options);
  const publish = q.publish;
  q.publish = (topic, payload, cb) => publish(topic, payload, cb == null ? cb : explained(topic, cb));
  return q;
}

export interface NodeThing {
  post(params: { [identifier: string]: unknown }): Promise<PublishResult>;
  post(params: { [identifier: string]: unknown }, callback: Callback<PublishResult>): void;
  event(identifier: string, value: { [name: string]: unknown }): Promise<PublishResult>;
  event(identifier: string, value: { [name: string]: unknown }, callback: Callback<PublishResult>): void;
  version(version: string, module?: string): Promise<PublishResult>;
  version(version: string, module: string | undefined, callback: Callback<PublishResult>): void;
  /** The id the next message will carry. */
  id(): string;
}

/** Thing-model messages (Alink JSON) of one device, published through `client`. */
export function thing(client: NodeClient, options: ThingOptions): NodeThing {
  const t = thingCore(client as any, options, setTimeout);
  return {
    post: (params: any, cb?: Callback<PublishResult>) => promised<PublishResult>((done) => t.post(params, done), cb),
    event: (identifier: string, value: any, cb?: Callback<PublishResult>) => promised<PublishResult>((done) => t.event(identifier, value, done), cb),
    version: (version: string, module?: string, cb?: Callback<PublishResult>) => promised<PublishResult>((done) => t.version(version, module, done), cb),
    id: t.id,
  } as NodeThing;
}
