import { Hash } from "../../src/hash/md";
import { Storage, TransportRequest, TransportResponse } from "../../src/types";

declare function require(name: string): any;
declare var E: any;
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
export function transport(req: TransportRequest, cb: (err: any, res?: TransportResponse) => void) {
  setTimeout(function () {
    defrag();
    setTimeout(connect, 0, req, cb);
  }, 0);
}

/** Storage on require("Storage"): one file per key (the core writes only a changed token). */
export var flash: Storage = {
  getItem: function (key) {
    return require("Storage").read("aliyun." + key);
  },
  setItem: function (key, value) {
    require("Storage").write("aliyun." + key, value);
  },
};

/**
 * A hash of the board's, require("crypto")[name], over bytes. Every Espruino firmware built with
 * TLS has SHA1 (TLS is built only with the crypto library); SHA256 is left out of some.
 */
export function boardHash(name: string): Hash | undefined {
  var c: any;
  try {
    c = require("crypto")[name];
  } catch (e) {}
  return (
    c &&
    function (m: Uint8Array) {
      return new Uint8Array(c(E.toString(m)));
    }
  );
}
