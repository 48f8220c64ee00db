import * as https from 'node:https';
import type { Transport, TransportRequest, TransportResponse } from '../../src/types';
import { error } from '../../src/errors';
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
