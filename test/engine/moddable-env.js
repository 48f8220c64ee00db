// Stand-ins for the Moddable SDK modules the Moddable bundles import: "http" (Request),
// "securesocket", "preference", "timer", "crypt" (Digest) and "file" (File, Iterator). The Node test strips the
// bundle's import lines and binds its imported names to these.
var MOD = (function () {
  var M = {
    requests: [], // what each Request was constructed with
    plan: [], // how to answer each Request, in order
    emitting: 0, // > 0 while a Request callback runs
    prefs: {}, // domain -> key -> value
    prefLog: [], // every set/delete
    violations: [], // Preference calls over the smallest device's limits
    digests: [], // algorithm names Digest was created with
  };

  function SecureSocket() {
    throw new Error("fake SecureSocket: the fake Request never opens a socket");
  }

  // Request: callback messages status = 1 (value: status code), header = 2 (value: name,
  // etc: value), headersComplete = 3, responseComplete = 5 (value: the body, a String as
  // asked by `response: String`), error < 0. Each message comes from its own timer turn.
  function Request(options) {
    var self = this, plan = M.plan.shift() || { mode: "none" }, body = options.body, msgs, i;
    var rec = {
      host: options.host,
      port: options.port,
      path: options.path,
      method: options.method,
      headers: options.headers,
      bodyIsArrayBuffer: body instanceof ArrayBuffer,
      bodyType: typeof body,
      body: body instanceof ArrayBuffer ? H.hex(new Uint8Array(body)) : typeof body == "string" ? H.string8(body).hex : null,
      responseIsString: options.response === String,
      socketIsSecureSocket: options.Socket === SecureSocket,
      secure: options.secure ? { protocolVersion: options.secure.protocolVersion, hasCertificate: "certificate" in options.secure } : null,
      certificateIsTheOneGiven: !!options.secure && options.secure.certificate === M.certificate,
      nested: M.emitting > 0,
      closed: false,
    };
    this.rec = rec;
    M.requests.push(rec);
    if (plan.mode == "error") msgs = [[plan.error]];
    else if (plan.mode == "none") msgs = [];
    else msgs = [[1, plan.status], [2, "content-type", "application/json"], [2, "content-length", "" + plan.body.length], [3], [5, plan.body]];
    i = 0;
    function next() {
      var m = msgs[i++];
      if (!m || rec.closed) return; // a closed Request calls back no more
      M.emitting++;
      try {
        if (typeof self.callback == "function") self.callback(m[0], m[1], m[2]);
      } finally {
        M.emitting--;
      }
      setTimeout(next, 0);
    }
    setTimeout(next, 0);
  }
  Request.prototype.close = function () {
    this.rec.closed = true;
  };

  // Preference, held to the strictest device: names (domain and key) of at most 15 characters
  // (ESP32), strings of at most 62 characters (ESP8266, Pico), boolean/integer/string/ArrayBuffer.
  function checkName(what, s) {
    if (typeof s != "string" || !s.length || s.length > 15) M.violations.push(what + " " + s + " is not 1 to 15 characters");
  }
  var Preference = {
    get: function (domain, key) {
      var d = M.prefs[domain];
      return d && d.hasOwnProperty(key) ? d[key] : undefined;
    },
    set: function (domain, key, value) {
      var t = typeof value;
      checkName("domain", domain);
      checkName("key", key);
      if (t == "string" && value.length > 62) M.violations.push("value of " + key + " has " + value.length + " characters");
      if (value instanceof ArrayBuffer && value.byteLength > 63) M.violations.push("value of " + key + " has " + value.byteLength + " bytes");
      if (!(t == "string" || t == "boolean" || (t == "number" && value % 1 === 0) || value instanceof ArrayBuffer))
        M.violations.push("value of " + key + " has an unsupported type");
      if (!M.prefs[domain]) M.prefs[domain] = {};
      M.prefs[domain][key] = value;
      M.prefLog.push(["set", domain, key, value]);
    },
    "delete": function (domain, key) {
      if (M.prefs[domain]) delete M.prefs[domain][key];
      M.prefLog.push(["delete", domain, key]);
    },
    keys: function (domain) {
      return M.prefs[domain] ? Object.keys(M.prefs[domain]) : [];
    },
  };

  var Timer = {
    set: function (fn, ms) {
      var id = setTimeout(function () {
        fn(id);
      }, ms || 0);
      return id;
    },
    clear: function (id) {
      clearTimeout(id);
    },
  };

  // Digest computed with the hashes module's pure md5/sha1: this checks that the native-hash path
  // is wired correctly (ArrayBuffer in and out, exact bytes of a view), not a native digest.
  function Digest(name) {
    if (name != "MD5" && name != "SHA1") throw new Error("fake Digest: unexpected algorithm " + name);
    M.digests.push(name);
    this.name = name;
    this.parts = [];
  }
  Digest.prototype.write = function (data) {
    var b = data instanceof ArrayBuffer ? new Uint8Array(data) : null, i;
    if (!b) throw new Error("fake Digest: write() expects an ArrayBuffer here");
    for (i = 0; i < b.length; i++) this.parts.push(b[i]);
  };
  Digest.prototype.close = function () {
    var m = new Uint8Array(this.parts);
    return new Uint8Array(this.name == "MD5" ? HASHLIB.md5(m) : this.name == "SHA256" ? HASHLIB.sha256(m) : HASHLIB.sha1(m)).buffer;
  };

  // File and Iterator over an in-memory file system (path -> byte string). A String written would
  // go out as UTF-8 on a board, so only ArrayBuffers are taken; every write is counted.
  M.files = {};
  M.fileWrites = 0;
  function File(path, write) {
    if (!M.files.hasOwnProperty(path)) {
      if (!write) throw new Error("file not found: " + path);
      M.files[path] = "";
    }
    this.path = path;
    this.position = 0;
  }
  Object.defineProperty(File.prototype, "length", {
    get: function () {
      return M.files[this.path].length;
    },
  });
  File.prototype.read = function (type, count) {
    var s = M.files[this.path], part = s.slice(this.position, this.position + (count === undefined ? s.length : count)), b, i;
    this.position += part.length;
    if (type === String) return part;
    b = new Uint8Array(part.length);
    for (i = 0; i < part.length; i++) b[i] = part.charCodeAt(i);
    return b.buffer;
  };
  File.prototype.write = function (v) {
    var old = M.files[this.path], s = "", b, i;
    if (!(v instanceof ArrayBuffer)) return M.violations.push("File.write of a " + typeof v);
    b = new Uint8Array(v);
    for (i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
    while (old.length < this.position) old += "\0";
    M.files[this.path] = old.slice(0, this.position) + s + old.slice(this.position + s.length);
    this.position += s.length;
    M.fileWrites++;
  };
  File.prototype.close = function () {};
  File["delete"] = function (path) {
    delete M.files[path];
    return true;
  };
  File.exists = function (path) {
    return M.files.hasOwnProperty(path);
  };
  function Iterator(root) {
    var names = [], i = 0, p;
    for (p in M.files) if (p.slice(0, root.length) == root && p.slice(root.length).indexOf("/") < 0) names.push(p.slice(root.length));
    this.next = function () {
      var n = names[i++];
      return n === undefined ? undefined : { name: n, length: M.files[root + n].length };
    };
  }

  M.modules = {
    file: { File: File, Iterator: Iterator },
    http: { Request: Request },
    securesocket: { "default": SecureSocket },
    preference: { "default": Preference },
    timer: { "default": Timer },
    crypt: { Digest: Digest },
  };
  M.Preference = Preference;
  return M;
})();
