import { createClient as createCoreClient } from "../../src/client";
import { ClientOptions, Storage, TransportRequest, TransportResponse } from "../../src/types";
import { Hash } from "../../src/hash/md";
import { error } from "../../src/errors";

declare function require(name: string): any;
declare var E: any;
declare function atob(s: string): string;
declare var setTimeout: (fn: (...args: any[]) => void, ms: number, ...args: any[]) => unknown;

/**
 * One request on require("http"). Espruino quirks: it sends no Content-Length of its own (the
 * core sets one), statusCode is a string, the body goes as an 8-bit string, a TLS close_notify
 * may arrive as error -30848 before the reply's close, and a new request must not start inside
 * the previous reply's handlers (so the callback runs from a timer). A reply cut short fails
 * later as EPROTO: its JSON does not parse.
 */
function connect(req: any, cb: (err: any, res?: TransportResponse) => void) {
  var done = 0, res: any, body = "", r: any;
  function finish(err: any) {
    if (!done++) setTimeout(cb, 0, err, err ? undefined : { status: +res.statusCode, body: body });
  }
  // from a timer: whatever throws (out of memory, a refused connection in end()) must call back
  try {
    defrag();
    req.protocol = "https:"; // the other fields are the options request() reads as they are
    r = require("http").request(req, function (response: any) {
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
  } catch (e) {
    finish(e);
  }
}

/** E.defrag() where the firmware has it (builds that save flash lack it). */
function defrag() {
  if (E.defrag) E.defrag();
}

/**
 * TLS makes mbedtls allocate two 16.7 KB buffers, each a flat string that needs that much
 * contiguous variable memory, and E.defrag() cannot move a variable in use. So the request
 * starts two timer ticks later: the first compacts memory; the second, holding only what was
 * made after that, compacts again and connects. A board with 5,100 variables then has room.
 */
function transport(req: TransportRequest, cb: (err: any, res?: TransportResponse) => void) {
  setTimeout(function () {
    defrag();
    setTimeout(connect, 0, req, cb);
  }, 0);
}

/** Storage on require("Storage"): one file per key (the core writes only a changed token). */
var flash: Storage = {
  getItem: function (key) {
    return require("Storage").read("aliyun." + key);
  },
  setItem: function (key, value) {
    require("Storage").write("aliyun." + key, value);
  },
};

/**
 * The board's SHA-1, require("crypto").SHA1. Every Espruino firmware built with TLS has it (TLS
 * is built only with the crypto library), so the pure-JS SHA-1 is a separate module
 * (aliyun-iot-http-sha1) that only a board without TLS, on a transport of its own, loads.
 */
function boardSha1(): Hash | undefined {
  var c: any;
  try {
    c = require("crypto").SHA1;
  } catch (e) {}
  return (
    c &&
    function (m: Uint8Array) {
      return new Uint8Array(c(E.toString(m)));
    }
  );
}

export interface EspruinoOptions extends ClientOptions {
  /** SHA-1 for a board without require("crypto"): require("aliyun-iot-http-sha1").sha1 */
  sha1?: Hash;
}

/**
 * A client on the board's http, Storage and crypto modules. Strings are sent as their own
 * bytes: Espruino strings are 8-bit, and text typed in the IDE is already UTF-8.
 * It signs with hmacsha1 only: boards have SHA-1 natively, and MD5 would cost 600 bytes.
 */
export function createClient(options: EspruinoOptions) {
  var sha1 = (options && options.sha1) || boardSha1();
  if (typeof sha1 != "function") throw error("EINVAL", "bad option sha1"); // no require("crypto") here
  return createCoreClient(options, {
    encode: E.toUint8Array, // a static native: works unbound
    unbase64: function (s) {
      return atob(s.replace(/-/g, "+").replace(/_/g, "/")); // atob reads - and _ as 0
    },
    transport: transport,
    storage: flash,
    hashes: { hmacsha1: sha1 },
  });
}

export { hmac } from "../../src/hash/hmac";
export { hex } from "../../src/bytes";
