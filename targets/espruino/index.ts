import { createClient as createCoreClient, memoryStorage } from "../../src/client";
import { ClientOptions, Storage, TransportRequest, TransportResponse } from "../../src/types";
import { Hash } from "../../src/hash/md";

declare function require(name: string): any;
declare var E: any;
declare var setTimeout: (fn: () => void, ms: number) => unknown;

/** Bytes to an 8-bit string, the only body Espruino's http module sends. */
function byteString(b: Uint8Array): string {
  var s = "", i;
  if (typeof E != "undefined") return E.toString(b) || "";
  for (i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
  return s;
}

function header(headers: any, name: string): string | undefined {
  for (var k in headers) if (k.toLowerCase() == name) return headers[k];
  return undefined;
}

/**
 * Transport on require("http"). Espruino quirks handled here: it sends no Content-Length of
 * its own (the core sets one), statusCode is a string, header names keep the server's case,
 * a TLS close_notify may arrive as an error after the whole reply, and a new request must not
 * start inside the previous reply's handlers (so the callback runs from a timer).
 */
function transport(req: TransportRequest, cb: (err: any, res?: TransportResponse) => void) {
  var done = 0, res: any, data = "";
  function finish(err: any) {
    if (done) return;
    done = 1;
    setTimeout(function () {
      cb(err, err ? undefined : { status: +res.statusCode, body: data });
    }, 0);
  }
  function complete() {
    var n = header(res.headers, "content-length");
    return res && (n == null || data.length >= +n);
  }
  var r = require("http").request(
    { host: req.host, port: req.port, path: req.path, method: req.method, protocol: "https:", headers: req.headers },
    function (response: any) {
      res = response;
      res.on("data", function (d: string) {
        data += d;
      });
      res.on("close", function () {
        finish(complete() ? null : { message: "connection closed before the whole reply arrived" });
      });
      res.on("error", function (e: any) {
        finish(complete() ? null : e);
      });
    },
  );
  r.on("error", function (e: any) {
    finish(res && complete() ? null : e);
  });
  r.end(byteString(req.body));
}

/** Storage on require("Storage"): one file per key, written only when its value changes. */
function flash(): Storage {
  var S = require("Storage");
  function file(key: string) {
    return "aliyun." + key;
  }
  return {
    getItem: function (key) {
      return S.read(file(key));
    },
    setItem: function (key, value) {
      if (S.read(file(key)) !== value) S.write(file(key), value);
    },
    removeItem: function (key) {
      S.erase(file(key));
    },
  };
}

/** The board's native SHA-1 (require("crypto"), on boards that have it), else the core's. */
function nativeSha1(): Hash | undefined {
  var c: any;
  try {
    c = require("crypto");
  } catch (e) {}
  if (c && c.SHA1)
    return function (m) {
      return new Uint8Array(c.SHA1(byteString(m)));
    };
  return undefined;
}

export function createClient(options: ClientOptions) {
  return createCoreClient(options, { transport: transport, storage: options && options.storage ? undefined : flash(), sha1: nativeSha1() });
}

export { memoryStorage };
export { md5 } from "../../src/hash/md5";
export { sha1 } from "../../src/hash/sha1";
export { hmac } from "../../src/hash/hmac";
export { hex, utf8 } from "../../src/bytes";
export { sign } from "../../src/sign";
