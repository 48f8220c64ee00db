import { ClientError, error } from "./errors";
import { parseReply, Reply } from "./reply";
import { Transport } from "./types";

var TRANSPORT_CODES = ["ENETWORK", "ETIMEDOUT", "EPROTO", "EINVAL"]; // a transport's other failures become ENETWORK

export type Done = (err: ClientError | null, reply?: Reply) => void;
export type Request = (path: string, type: string, password: string, body: Uint8Array, cb: Done) => void;

/**
 * POSTs to one host: each with a timeout of its own and one callback, retried with doubling
 * back-off on 40000 (throttled), timeouts, network failures and HTTP 5xx. A reply's business
 * code other than 0 is an error, reported with the reply.
 */
export function requester(transport: Transport, hostPort: [string, number], timeout: number, retries: number, backoff: number, later: (fn: () => void, ms: number) => unknown, cancel: (id: any) => void): Request {
  return function request(path, type, password, body, cb, attempt?: number) {
    var n = attempt || 0, done = 0, timer: unknown, abort: unknown, headers: { [name: string]: string } = { "Content-Type": type, "Content-Length": "" + body.length };
    function finish(err: any, res?: any) {
      var reply, c;
      if (done++) return;
      cancel(timer);
      if (err) {
        // any other transport error (Espruino's are plain objects, a custom transport's may say
        // ECONNRESET) becomes ENETWORK, keeping the original as its cause
        if (TRANSPORT_CODES.indexOf(err.code) < 0) {
          c = error("ENETWORK", err.message || "" + err);
          c.cause = err;
          err = c;
        }
      } else if (!res || !(res.status >= 200 && res.status < 300)) {
        err = error("EHTTP", "HTTP " + (res && res.status));
        err.status = res && +res.status;
      } else if (!(reply = parseReply(res.body))) err = error("EPROTO", "not a service reply");
      else if (reply.code) {
        err = error(reply.code, reply.message as string);
        err.messageId = reply.messageId;
      }
      c = err && err.code;
      if (n < retries && (c == 40000 || c == "ETIMEDOUT" || c == "ENETWORK" || (c == "EHTTP" && err.status > 499)))
        later(function () {
          (request as any)(path, type, password, body, cb, n + 1);
        }, Math.min(backoff * Math.pow(2, n), 2147483647)); // doubling, within what a timer takes
      else cb(err, reply);
    }
    if (password) headers.password = password;
    timer = later(function () {
      // abort after finish, so whatever it reports comes too late, and even if the callback
      // throws; a transport without an abort (or whose abort throws) lands in the catch
      try {
        finish(error("ETIMEDOUT", "timed out"));
      } finally {
        try {
          (abort as () => void)();
        } catch (x) {}
      }
    }, timeout);
    try {
      abort = transport({ method: "POST", host: hostPort[0], port: hostPort[1], path: path, headers: headers, body: body, timeout: timeout }, finish);
    } catch (x) {
      finish(x || {}); // a throw of null still fails the request
    }
  } as Request;
}
