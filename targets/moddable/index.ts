import { Request } from "http";
import SecureSocket from "securesocket";
import Preference from "preference";
import Timer from "timer";
import { Digest } from "crypt";
import { createClient as createCoreClient } from "../../src/client";
import { memoryStorage } from "../../src/memory";
import { error } from "../../src/errors";
import { utf8 } from "../../src/bytes";
import { unbase64 } from "../../src/token";
import { ClientOptions, Platform, Storage, TransportRequest, TransportResponse } from "../../src/types";

export interface ModdableClientOptions extends ClientOptions {
  /** Root certificate (DER) for the service, passed to SecureSocket as `secure.certificate`. */
  certificate?: ArrayBuffer;
}

var DOMAIN = "aliyun";
var PIECE = 62; // ESP8266 and Pico keep at most 62 characters in a string preference

function exact(b: Uint8Array): ArrayBuffer {
  return b.byteOffset == 0 && b.byteLength == b.buffer.byteLength ? b.buffer : b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
}

/**
 * Transport on Request over SecureSocket, TLS 1.2. Request sets Content-Length and Host itself.
 * Its abort (called by the client on timeout) closes the Request and so frees the socket.
 * The Request is made, and the callback runs, from a timer: a Request created deep in a call
 * chain (inside another's callback, or under a helper over the client) overflows the XS stack.
 */
function transport(certificate?: ArrayBuffer) {
  return function (req: TransportRequest, cb: (err: any, res?: TransportResponse) => void) {
    var headers: string[] = [], status = 0, done = 0, k, request: any;
    function finish(err: any, body?: string) {
      if (done) return;
      done = 1;
      Timer.set(function () {
        cb(err, err ? undefined : { status: status, body: body as string });
      }, 0);
    }
    for (k in req.headers) if (k != "Content-Length") headers.push(k, req.headers[k]);
    var secure: any = { protocolVersion: 0x303 };
    if (certificate) secure.certificate = certificate;
    // from a timer: the TLS handshake starts inside the constructor and needs the stack that a
    // caller several calls deep (a helper over the client) would have used up
    Timer.set(function () {
      if (done) return; // aborted first
      try {
        request = new Request({ host: req.host, port: req.port, path: req.path, method: req.method, headers: headers, body: exact(req.body), response: String, Socket: SecureSocket, secure: secure });
        request.callback = function (message: number, value: any) {
          if (message == 1) status = value;
          else if (message == 5) finish(null, value == null ? "" : "" + value);
          else if (message < 0) finish(error("ENETWORK", "connection failed (" + message + ")"));
        };
      } catch (e) {
        finish(e);
      }
    }, 0);
    return function () {
      done = 1;
      if (request) request.close();
    };
  };
}

/**
 * Storage on Preference. A value is split into pieces of 62 characters (key0, key1, ...) and the
 * count (keyn) is removed first and written last, so that a write cut short reads as absent.
 */
function preferences(): Storage {
  function read(key: string) {
    var n = Preference.get(DOMAIN, key + "n"), s = "", i, v;
    if (typeof n != "number") return null;
    for (i = 0; i < n; i++) {
      v = Preference.get(DOMAIN, key + i);
      if (typeof v != "string") return null;
      s += v;
    }
    return s;
  }
  function remove(key: string) {
    Preference.delete(DOMAIN, key + "n");
  }
  return {
    getItem: read,
    setItem: function (key, value) {
      var i = 0, n = 0;
      if (read(key) === value) return;
      remove(key);
      for (; i < value.length || !n; i += PIECE) Preference.set(DOMAIN, key + n++, value.slice(i, i + PIECE));
      Preference.set(DOMAIN, key + "n", n);
    },
    removeItem: remove,
  };
}

function digest(name: string) {
  return function (m: Uint8Array) {
    var d = new Digest(name);
    d.write(exact(m));
    return new Uint8Array(d.close());
  };
}

/** The platform of a client: SecureSocket, Preference, Timer and crypt's Digest. */
export function platform(certificate?: ArrayBuffer): Platform {
  return {
    encode: utf8,
    unbase64: unbase64,
    transport: transport(certificate),
    storage: preferences(),
    setTimeout: function (fn, ms) {
      return Timer.set(fn, ms);
    },
    clearTimeout: function (id) {
      Timer.clear(id);
    },
    hashes: { hmacsha1: digest("SHA1"), hmacmd5: digest("MD5"), hmacsha256: digest("SHA256") },
  };
}

export function createClient(options: ModdableClientOptions) {
  return createCoreClient(options, platform(options && options.certificate));
}

export { memoryStorage };
export { hmac } from "../../src/hash/hmac";
export { hex } from "../../src/bytes";
export { utf8 };
