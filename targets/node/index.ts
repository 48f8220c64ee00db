import { createClient as createCoreClient } from '../../src/client';
import { memoryStorage } from '../../src/memory';
import { unbase64 } from '../../src/token';
import { createHash, randomBytes } from 'node:crypto';
import { provisioned } from '../../src/provision';
import { register as registerCore } from '../../src/register';
import { thing as thingCore, ThingOptions } from '../../src/thing';
import type { Callback, ClientOptions, Platform, PublishResult, RegisterOptions } from '../../src/types';
import { error, ClientError } from '../../src/errors';
import { httpsTransport, HttpsTransportOptions } from './transport';
import { fileStorage } from './storage';

export * from '../../src/index';
export { float } from '../../src/thing';
export { httpsTransport, fileStorage };
export { createQueue, folderFiles } from './queue';
export type { NodeQueue, NodeQueueOptions, QueueFiles, QueueOptions, QueuedMessage, QueueStatus } from './queue';
export type { HttpsTransportOptions, ThingOptions };
export type { FloatValue } from '../../src/thing';
export type { FileStorageOptions } from './storage';

export interface NodeRegisterOptions extends RegisterOptions {
  /** PEM certificate(s) of a private CA (for example the local emulator's). */
  ca?: HttpsTransportOptions['ca'];
}

export interface NodeClientOptions extends ClientOptions {
  /** PEM certificate(s) of a private CA (for example the local emulator's). */
  ca?: HttpsTransportOptions['ca'];
  /** Folder of the token file when no `storage` is given; default ~/.aliyun-iot-http. */
  dir?: string;
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

function checkCa(ca: unknown) {
  const text = (v: unknown) => typeof v === 'string' || Buffer.isBuffer(v);
  if (ca != null && !(text(ca) || (Array.isArray(ca) && ca.every(text)))) throw error('EINVAL', 'bad option ca');
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
  const o = options || ({} as NodeClientOptions);
  checkCa(o.ca);
  if (o.dir != null && (typeof o.dir !== 'string' || !o.dir)) throw error('EINVAL', 'bad option dir');
  const transport = httpsTransport({ ca: o.ca }); // the default; an agent holds no socket until used
  const named = typeof o.productKey === 'string' && typeof o.deviceName === 'string';
  const storage = o.storage || (named ? fileStorage({ dir: o.dir, name: o.productKey + '.' + o.deviceName }) : memoryStorage());
  const p = platform(transport, storage);
  const make = (opts: ClientOptions) => createCoreClient(opts, p);
  const core = o.productSecret != null && o.deviceSecret == null ? provisioned(o, p, make) : make(o);
  return {
    publish(topic: string, payload: Payload, cb?: Callback<PublishResult>) {
      return promised<PublishResult>((done) => core.publish(topic, payload, done), cb);
    },
    auth(cb?: Callback<string>) {
      return promised<string>((done) => core.auth(done), cb);
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
  const transport = httpsTransport({ ca: options && options.ca });
  return promised<string>((done) => {
    try {
      registerCore(options, platform(transport), (err, secret) => {
        transport.close(); // one request: no socket kept open
        done(err, secret);
      });
    } catch (e) {
      transport.close();
      throw e;
    }
  }, cb);
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
