// Off Espruino, a stand-in for the two members of Espruino's global E the bundle uses, with a
// board's 8-bit strings: E.toString(bytes) -> one character per byte, E.toUint8Array(string) ->
// the low byte of each character; and for Espruino's atob, which reads a character outside the
// base64 alphabet (such as base64url's - and _) as 0 and needs no padding.
if (ENGINE != "espruino")
  (function (global) {
    global.atob = function (s) {
      var A = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", out = "", acc = 0, bits = 0, i, c;
      if (typeof s != "string") throw new Error("atob stand-in: expects a string here");
      for (i = 0; i < s.length && s.charAt(i) != "="; i++) {
        c = A.indexOf(s.charAt(i));
        acc = ((acc << 6) | (c < 0 ? 0 : c)) & 0xffffff;
        bits += 6;
        if (bits >= 8) out += String.fromCharCode((acc >> (bits -= 8)) & 255);
      }
      return out;
    };
    global.E = {
      defragCalls: 0,
      defrag: function () {
        this.defragCalls++;
      },
      toString: function (b) {
        var s = "", i;
        if (!b || typeof b.length != "number") throw new Error("E.toString stand-in: expects bytes here");
        for (i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
        return s;
      },
      toUint8Array: function (s) {
        var out = new Uint8Array(s.length), i;
        if (typeof s != "string") throw new Error("E.toUint8Array stand-in: expects a string here");
        for (i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 255;
        return out;
      },
    };
  })(this);

// What the Espruino bundle finds through require(): a fake "http" that behaves like Espruino's
// (always), an in-memory "Storage" (off Espruino; on Espruino the real Storage, with writes
// counted), and "crypto": off Espruino it is absent unless ESP.crypto is set, then a stand-in
// whose SHA1 calls the SHA-1 module's sha1 (that checks the plumbing of the native-hash path
// only); on Espruino the real require("crypto").SHA1.
var ESP = (function () {
  var E8 = {
    requests: [], // what request() was given, and the body end() sent
    plan: [], // how to answer each request, in order
    emitting: 0, // > 0 while the fake delivers a response event
    writes: [], // Storage writes (names), after install()
    crypto: false,
    cryptoCalls: 0,
  };

  // One reply, delivered like Espruino does: the request callback with a response whose
  // statusCode is a string and whose header names keep the server's (odd) case, then the body
  // in two `data` chunks, `end` and `close`, each from its own turn of the event loop.
  // mode "tlsErrorAfterBody": the request emits error {code: -30848} after the whole body
  // (a TLS close_notify) and before close. mode "endThrows": end() throws synchronously;
  // "requestThrows": request() itself does (as when TLS finds no memory).
  function request(options, callback) {
    var rec = {
      protocol: options.protocol,
      host: options.host,
      port: options.port,
      path: options.path,
      method: options.method,
      headers: H.copy(options.headers || {}),
      nested: E8.emitting > 0,
    };
    var plan = E8.plan.shift() || { mode: "none" };
    var handlers = {}, res, resHandlers = {};
    E8.requests.push(rec);
    if (options.protocol !== "https:") throw new Error("fake http: only https: is supported here");
    if (plan.mode == "requestThrows") throw new Error("Not enough memory to allocate SSL socket");
    function fire(target, ev, arg) {
      if (!target[ev]) return;
      E8.emitting++;
      try {
        target[ev](arg);
      } finally {
        E8.emitting--;
      }
    }
    function later(fn) {
      setTimeout(fn, 0);
    }
    var req = {
      on: function (ev, fn) {
        handlers[ev] = fn;
        return req;
      },
      end: function (body) {
        var b = H.string8(body === undefined ? "" : "" + body), text, half;
        rec.body = b.hex;
        rec.wide = b.wide;
        rec.bodyType = typeof body;
        if (plan.mode == "endThrows") throw new Error("Connection refused");
        if (plan.mode == "none") return; // never answers: the core's timeout must act
        text = plan.body;
        half = text.length >> 1;
        res = {
          statusCode: "" + plan.status,
          headers: { "CONTENT-type": "application/json", "content-LENGTH": "" + text.length, Connection: "close" },
          on: function (ev, fn) {
            resHandlers[ev] = fn;
            return res;
          },
        };
        later(function () {
          E8.emitting++;
          try {
            callback(res);
          } finally {
            E8.emitting--;
          }
          later(function () {
            fire(resHandlers, "data", text.slice(0, half));
            later(function () {
              fire(resHandlers, "data", text.slice(half));
              later(function () {
                if (plan.mode == "tlsErrorAfterBody") fire(handlers, "error", { code: -30848, message: "SSL_ERROR_PEER_CLOSE_NOTIFY" });
                fire(resHandlers, "end");
                later(function () {
                  fire(resHandlers, "close");
                });
              });
            });
          });
        });
      },
    };
    return req;
  }

  var files = {};
  var storage = {
    read: function (name) {
      return files.hasOwnProperty(name) ? files[name] : undefined;
    },
    write: function (name, data) {
      E8.writes.push(name);
      files[name] = "" + data;
      return true;
    },
    erase: function (name) {
      delete files[name];
    },
    list: function () {
      return Object.keys(files);
    },
  };

  var crypto = {
    SHA1: function (s) {
      var b = H.string8("" + s), d;
      E8.cryptoCalls++;
      d = HASHLIB.sha1(H.fromHex(b.hex));
      return new Uint8Array(d).buffer;
    },
  };

  E8.http = { request: request };
  E8.require = function (name) {
    if (name == "http") return E8.http;
    if (name == "Storage") return storage;
    if (name == "crypto") {
      if (E8.crypto) return crypto;
      throw new Error('Module "crypto" not found');
    }
    throw new Error('Module "' + name + '" not found');
  };
  E8.storage = function () {
    return ENGINE == "espruino" ? require("Storage") : storage;
  };

  // On Espruino: put the fake http in the module cache (looked up before built-ins) and count
  // the real Storage's writes from now on.
  E8.install = function () {
    var S, write;
    if (ENGINE != "espruino") return;
    Modules.addCached("http", function () {
      exports.request = function (options, callback) {
        return ESP.http.request(options, callback);
      };
    });
    S = require("Storage");
    write = S.write;
    S.write = function (name, data) {
      E8.writes.push(name);
      return write.call(S, name, data);
    };
  };
  return E8;
})();
