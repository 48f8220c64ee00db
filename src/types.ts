import { ClientError } from "./errors";
import { Hash } from "./hash/md";

/** One HTTPS request, as the core hands it to a transport. `body` is the exact bytes to send. */
export interface TransportRequest {
  method: string;
  host: string;
  port: number;
  path: string;
  /** Header names as the protocol spells them; Content-Length is always set, in bytes. */
  headers: { [name: string]: string };
  body: Uint8Array;
  /** ms; the core enforces it too and ignores a late callback. */
  timeout: number;
}

/** What a transport reports: the HTTP status and the reply body as text. */
export interface TransportResponse {
  status: number;
  body: string;
}

/**
 * Sends one request and calls back once, with an error or the response. It may return a
 * function that aborts the request: the client calls it when the request times out.
 */
export type Transport = (request: TransportRequest, callback: (err: Error | null, response?: TransportResponse) => void) => void | (() => void);

/** Synchronous key-value storage; keys are at most 15 characters, values short strings. */
export interface Storage {
  getItem(key: string): string | null | undefined;
  setItem(key: string, value: string): void;
  /** Not called by the client; the storages shipped here have it, as Web Storage does. */
  removeItem?(key: string): void;
}

/** The sign methods of `/auth` and registration. */
export type SignMethod = "hmacsha1" | "hmacsha256" | "hmacmd5";

export interface ClientOptions {
  productKey: string;
  deviceName: string;
  /** The device's own secret; or, instead, `productSecret` for a device that registers itself. */
  deviceSecret?: string;
  /**
   * Dynamic registration: the product's secret. The first time the client needs a token it
   * registers the device and stores its deviceSecret (key "secret" of the storage), then uses
   * it from there on. Ignored when `deviceSecret` is given.
   */
  productSecret?: string;
  /** Where registration goes, a full https:// URL; default https://iot-auth.<region>.aliyuncs.com. */
  registerEndpoint?: string;
  /** Region of the public instance, default "cn-shanghai". */
  region?: string;
  /** A full https:// URL (enterprise instances, or a local emulator); overrides region. */
  endpoint?: string;
  /** Default `<productKey>.<deviceName>`; at most 64 characters. */
  clientId?: string;
  /** "hmacsha1" (default), "hmacsha256" (Node, Moddable) or "hmacmd5" (Node, Moddable). */
  signMethod?: SignMethod;
  /** ms per request, default 10000. */
  timeout?: number;
  /** Retries after 40000 (throttled) and transient network failures, default 2. */
  retries?: number;
  /** ms before the first retry; each next one waits twice as long. Default 1000. */
  backoff?: number;
  storage?: Storage;
  transport?: Transport;
  /** The clock, ms since the epoch; a time before 2020 means "not set". Default Date.now. */
  now?: () => number;
}

/** Options of a registration (dynamic registration, "one secret per product"). */
export interface RegisterOptions {
  productKey: string;
  deviceName: string;
  productSecret: string;
  /** Region of the public instance, default "cn-shanghai". */
  region?: string;
  /** A full https:// URL; default https://iot-auth.<region>.aliyuncs.com. */
  endpoint?: string;
  /** "hmacsha256" where the target has SHA-256 (default there), "hmacsha1" (default elsewhere), "hmacmd5" (Node, Moddable). */
  signMethod?: SignMethod;
  /** 1 to 64 letters and digits; default a fresh one from the target's best random source. */
  random?: string;
  timeout?: number;
  retries?: number;
  backoff?: number;
  transport?: Transport;
}

export interface PublishResult {
  /** The 64-bit message id as exact decimal digits. */
  messageId: string;
  /** `info.data` when the service sends it. */
  data?: unknown;
}

export type Callback<T> = (err: ClientError | null, result?: T) => void;

export interface Client {
  publish(topic: string, payload: string | Uint8Array | ArrayBuffer, callback: Callback<PublishResult>): void;
  /** Authenticates now, replacing any token; calls back with the new token. */
  auth(callback: Callback<string>): void;
}

/** What a target supplies: its defaults and, where it has them, native hashes. */
export interface Platform {
  /** Strings to the bytes sent: UTF-8, or a string's own bytes where strings are 8-bit. */
  encode: (s: string) => Uint8Array;
  /** base64url (no padding) to a byte string, to read a token's expiry. */
  unbase64: (s: string) => string;
  transport?: Transport;
  storage?: Storage;
  setTimeout?: (fn: () => void, ms: number) => unknown;
  clearTimeout?: (id: any) => void;
  /** The hash of each sign method offered: hmacsha1, and hmacmd5 and hmacsha256 where the build has them. */
  hashes: { [signMethod: string]: Hash | undefined };
  /** A fresh random string of letters and digits, for registration. */
  random?: () => string;
}
