import * as https from 'node:https';
import type { Transport, TransportRequest, TransportResponse } from '../../src/types';
import { error } from '../../src/errors';
import { parseReply } from '../../src/reply';
import type { ErrorCode } from '../../src/errors';

/** Largest reply read, in characters; the service's replies are a few hundred bytes. */
const MAX_REPLY = 1 << 20;

export interface HttpsTransportOptions {
  /** PEM certificate(s) of a private CA to trust instead of Node's bundled roots. */
  ca?: string | Buffer | Array<string | Buffer>;
}

export interface HttpsTransport extends Transport {
  /** Closes the kept-alive sockets. */
  close(): void;
}

function wrap(e: NodeJS.ErrnoException, code?: ErrorCode) {
  const err = error(code || 'ENETWORK', e.code ? e.message + ' (' + e.code + ')' : e.message);
  (err as Error & { cause?: unknown }).cause = e;
  return err;
}

/**
 * Transport on node:https over one keep-alive agent. Certificates are always verified, against
 * Node's roots or the `ca` given. It has no timer of its own: it returns the abort the client
 * calls when its timeout fires.
 */
export function httpsTransport(options: HttpsTransportOptions = {}): HttpsTransport {
  const agent = new https.Agent({ keepAlive: true, ca: options.ca });
  const transport = function (req: TransportRequest, callback: (err: Error | null, res?: TransportResponse) => void) {
    let done = false;
    const finish = (err: Error | null, res?: TransportResponse) => {
      if (!done) {
        done = true;
        callback(err, res);
      }
    };
    let r: ReturnType<typeof https.request>;
    try {
      r = https.request(
        { host: req.host, port: req.port, path: req.path, method: req.method, headers: req.headers, agent },
        (res) => {
          let body = '';
          res.setEncoding('utf8'); // decodes UTF-8 split across chunks correctly
          res.on('data', (chunk: string) => {
            body += chunk;
            if (body.length > MAX_REPLY) {
              finish(error('EPROTO', 'reply larger than ' + MAX_REPLY + ' characters'));
              r.destroy();
            }
          });
          res.on('end', () => finish(null, { status: res.statusCode as number, body }));
          // a connection lost mid-reply: Node emits 'error' (ECONNRESET, "aborted") to a listener
          res.on('error', (e) => finish(wrap(e)));
        },
      );
    } catch (e) {
      // a request Node refuses to build (a header value it cannot send): EINVAL, which makes the
      // client drop the token and authenticate again
      return finish(wrap(e as NodeJS.ErrnoException, 'EINVAL'));
    }
    r.on('error', (e) => finish(wrap(e)));
    r.end(Buffer.from(req.body.buffer, req.body.byteOffset, req.body.length));
    return () => {
      finish(error('ETIMEDOUT', 'aborted'));
      r.destroy();
    };
  } as HttpsTransport;
  transport.close = () => agent.destroy();
  return transport;
}

/**
 * What the option `log` receives: small objects, never the device secret, the product secret,
 * a token or a sign. `path` is the request's path (`/auth`, `/topic/...`,
 * `/auth/register/device`).
 * - `auth`: an /auth is sent. `reason`: `first` (no token held yet), `renew` (the token held,
 *   stored or obtained, is due or cannot be used), `rejected` (the service refused the token:
 *   `code` 20001, 20002 or 20003, or `EINVAL` when it could not be sent), `unstamped` (the
 *   service refused the signed timestamp, 20000: once more without it), `requested` (`auth()`).
 * - `retry`: a request sent again after `code` (40000, `ETIMEDOUT`, `ENETWORK`, `EHTTP` with
 *   `status`); `attempt` counts from 1.
 * - `resend`: a publish sent again with the new token after the service refused the old one.
 * - `token-write`: the token record written to storage (`expire` in ms since the epoch, 0 when
 *   not known), or not (`stored: false`, `error` the storage's error code or message).
 * - `register`: a registration is sent; `registered`: the service gave the deviceSecret;
 *   `register-refused`: it refused with `code` (6289: already active); `secret-write`: the
 *   registered secret written to storage, or not.
 */
export type LogEvent =
  | { type: 'auth'; reason: 'first' | 'renew' | 'rejected' | 'unstamped' | 'requested'; code?: ErrorCode }
  | { type: 'retry'; path: string; attempt: number; code: ErrorCode; status?: number }
  | { type: 'resend'; path: string; code: ErrorCode }
  | { type: 'token-write'; stored: boolean; expire?: number; error?: string }
  | { type: 'register' }
  | { type: 'registered' }
  | { type: 'register-refused'; code: ErrorCode; message?: string }
  | { type: 'secret-write'; stored: boolean; error?: string };

/** What an answer was, as the client will read it: 0 (or 200 for registration) is success. */
interface Outcome {
  code: ErrorCode;
  status?: number;
}

const REPORTED: unknown[] = ['ENETWORK', 'ETIMEDOUT', 'EPROTO', 'EINVAL'];
/** The answers to a publish after which the client authenticates again and resends. */
const TOKEN_REFUSED: unknown[] = [20001, 20002, 20003, 'EINVAL'];
const REGISTER = '/auth/register/device';

/** Whether an /auth body carries a timestamp (the client sends one when its clock is set). */
function stamped(body: Uint8Array): boolean {
  return Buffer.from(body.buffer, body.byteOffset, body.length).includes('"timestamp"');
}

function outcome(err: any, res?: TransportResponse): Outcome {
  if (err) return { code: REPORTED.indexOf(err.code) >= 0 ? err.code : 'ENETWORK' };
  if (!res || !(res.status >= 200 && res.status < 300)) return { code: 'EHTTP', status: res && res.status };
  const reply = parseReply(res.body);
  return { code: reply ? reply.code : 'EPROTO' };
}

export interface WatchedTransport {
  transport: Transport;
  /** The next /auth is the application's own (`auth()`). */
  requested(): void;
  /** A token is held (read from storage): a later /auth renews it. */
  held(): void;
}

/**
 * A transport that tells `emit` what the client does, seen from its requests: the client sends a
 * retry, and a publish resent after a new token, with the same body object, so a body seen
 * before is a request sent again, and its previous answer says why. Nothing is added to the
 * requests or answers; `emit` must not throw.
 */
export function watchTransport(inner: Transport, emit: (event: LogEvent) => void): WatchedTransport {
  const seen = new WeakMap<Uint8Array, { attempt: number; last?: Outcome }>();
  let held = false, requested = false, refused: ErrorCode | undefined, unstamped = false;

  function sending(req: TransportRequest) {
    const path = req.path, kind = path === '/auth' ? 'auth' : path === REGISTER ? 'register' : 'topic';
    const entry = seen.get(req.body);
    if (entry) {
      const last = entry.last || { code: 'ETIMEDOUT' }; // no answer: the client gave it up
      entry.last = undefined;
      if (kind === 'topic' && TOKEN_REFUSED.indexOf(last.code) >= 0) {
        entry.attempt = 0;
        return emit({ type: 'resend', path, code: last.code });
      }
      const e: LogEvent = { type: 'retry', path, attempt: ++entry.attempt, code: last.code };
      if (last.status !== undefined) e.status = last.status;
      return emit(e);
    }
    seen.set(req.body, { attempt: 0 });
    if (kind === 'register') return emit({ type: 'register' });
    if (kind !== 'auth') return;
    let e: LogEvent;
    if (requested) e = { type: 'auth', reason: 'requested' };
    else if (unstamped && !stamped(req.body)) e = { type: 'auth', reason: 'unstamped', code: 20000 };
    else if (refused !== undefined) e = { type: 'auth', reason: 'rejected', code: refused };
    else e = { type: 'auth', reason: held ? 'renew' : 'first' };
    requested = unstamped = false;
    refused = undefined;
    emit(e);
  }

  function answered(req: TransportRequest, err: unknown, res?: TransportResponse) {
    const o = outcome(err, res), entry = seen.get(req.body), path = req.path;
    if (entry) entry.last = o;
    if (path === '/auth') {
      if (o.code === 0) held = true;
      unstamped = o.code === 20000 && stamped(req.body);
    } else if (path === REGISTER) {
      if (o.code === 200) emit({ type: 'registered' });
      else if (typeof o.code === 'number' && o.code !== 40000) {
        const reply = parseReply((res as TransportResponse).body);
        emit(reply && typeof reply.message === 'string' ? { type: 'register-refused', code: o.code, message: reply.message.slice(0, 200) } : { type: 'register-refused', code: o.code });
      }
    } else if (TOKEN_REFUSED.indexOf(o.code) >= 0) refused = o.code;
  }

  const transport: Transport = (req, callback) => {
    try {
      sending(req);
    } catch {
      // a request the watcher cannot read is still sent
    }
    const watched = (err: Error | null, res?: TransportResponse) => {
      try {
        answered(req, err, res);
      } catch {
        // the client gets its answer whatever happens here
      }
      callback(err, res);
    };
    try {
      return inner(req, watched);
    } catch (e) {
      try {
        answered(req, e || {});
      } catch {
        // as above
      }
      throw e;
    }
  };
  return {
    transport,
    requested: () => void (requested = true),
    held: () => void (held = true),
  };
}
