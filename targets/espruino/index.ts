import { createClient as createCoreClient } from "../../src/client";
import { ClientOptions, Storage, TransportRequest, TransportResponse } from "../../src/types";
import { Hash } from "../../src/hash/md";
import { sha1 } from "../../src/hash/sha1";

declare function require(name: string): any;
declare var E: any;
declare var setTimeout: (fn: () => void, ms: number) => unknown;

/**
 * Transport on require("http"). Espruino quirks: it sends no Content-Length of its own (the
 * core sets one), statusCode is a string, the body goes as an 8-bit string, a TLS close_notify
 * may arrive as error -30848 before the reply's close, and a new request must not start inside
 * the previous reply's handlers (so the callback runs from a timer). A reply cut short fails
 * later as EPROTO: its JSON does not parse.
 */
function transport(req: TransportRequest, cb: (err: any, res?: TransportResponse) => void) {
  var done = 0, res: any, body = "";
  function finish(err: any) {
    if (!done++)
      setTimeout(function () {
        cb(err, err ? undefined : { status: +res.statusCode, body: body });
      }, 0);
  }
  (req as any).protocol = "https:"; // the other fields are the options request() reads as they are
  var r = require("http").request(req, function (response: any) {
    res = response;
    res.on("data", function (d: string) {
      body += d;
    });
    res.on("close", function () {
      finish(null); // also after an error: a reply cut short then fails as EPROTO
    });
  });
  r.on("error", function (e: any) {
    if (!res || e.code != -30848) finish(e);
  });
  r.end(E.toString(req.body));
}

/** Storage on require("Storage"): one file per key (the core writes only a changed token). */
var flash: Storage = {
  getItem: function (key) {
    return require("Storage").read("aliyun." + key);
  },
  setItem: function (key, value) {
    require("Storage").write("aliyun." + key, value);
  },
  removeItem: function (key) {
    require("Storage").erase("aliyun." + key);
  },
};

/** The board's native SHA-1 (require("crypto"), on boards that have it), else the core's. */
function nativeSha1(): Hash {
  var c: any;
  try {
    c = require("crypto").SHA1;
  } catch (e) {}
  return c
    ? function (m) {
        return new Uint8Array(c(E.toString(m)));
      }
    : sha1;
}

/**
 * A client on the board's http, Storage and (where present) crypto modules. Strings are sent as
 * their own bytes: Espruino strings are 8-bit, and text typed in the IDE is already UTF-8.
 * It signs with hmacsha1 only: boards have SHA-1 natively, and MD5 would cost 600 bytes.
 */
export function createClient(options: ClientOptions) {
  return createCoreClient(options, {
    encode: E.toUint8Array, // a static native: works unbound
    transport: transport,
    storage: flash,
    hashes: { hmacsha1: nativeSha1() },
  });
}

export { sha1 };
export { hmac } from "../../src/hash/hmac";
export { hex } from "../../src/bytes";
