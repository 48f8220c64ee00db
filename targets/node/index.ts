import { createClient as createCoreClient } from '../../src/client';
import { memoryStorage } from '../../src/memory';
import { unbase64 } from '../../src/token';
import { createHash } from 'node:crypto';
import type { Callback, ClientOptions, PublishResult } from '../../src/types';
import { error, ClientError } from '../../src/errors';
import { httpsTransport, HttpsTransportOptions } from './transport';
import { fileStorage } from './storage';

export * from '../../src/index';
export { httpsTransport, fileStorage };
export type { HttpsTransportOptions };
export type { FileStorageOptions } from './storage';

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

function promised<T>(run: (cb: Callback<T>) => void, cb?: Callback<T>): Promise<T> | void {
  if (cb) return run(cb);
  return new Promise<T>((resolve, reject) => run((err: ClientError | null, value?: T) => (err ? reject(err) : resolve(value as T))));
}

/**
 * A client with Node defaults: HTTPS with keep-alive and certificate verification, and the
 * token kept in `<dir>/<productKey>.<deviceName>.json`.
 */
export function createClient(options: NodeClientOptions): NodeClient {
  const o = options || ({} as NodeClientOptions);
  const text = (v: unknown) => typeof v === 'string' || Buffer.isBuffer(v);
  if (o.ca != null && !(text(o.ca) || (Array.isArray(o.ca) && o.ca.every(text)))) throw error('EINVAL', 'bad option ca');
  if (o.dir != null && (typeof o.dir !== 'string' || !o.dir)) throw error('EINVAL', 'bad option dir');
  const transport = httpsTransport({ ca: o.ca }); // the default; an agent holds no socket until used
  const named = typeof o.productKey === 'string' && typeof o.deviceName === 'string';
  const storage = o.storage || (named ? fileStorage({ dir: o.dir, name: o.productKey + '.' + o.deviceName }) : memoryStorage());
  const core = createCoreClient(options, { encode: toUtf8, unbase64, hashes: { hmacsha1: native('sha1'), hmacmd5: native('md5'), hmacsha256: native('sha256') }, transport, storage, setTimeout, clearTimeout });
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
