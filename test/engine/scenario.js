// The checks that run inside an engine. Globals: ENGINE, TARGET ("espruino" | "moddable"),
// INPUT (from the Node test), H (harness.js), ESP or MOD (the fakes) and LIB (the bundle's
// exports). Each step stores plain data in H.results; the Node test makes the assertions.
var R = H.results;

// A target's exports are those of the client and of its second module (HASHLIB: Espruino's
// SHA-1 module, Moddable's hashes module).
R.exports = [];
(function () {
  var k;
  for (k in LIB) R.exports.push(k);
  for (k in HASHLIB) R.exports.push(k);
  for (k in SHA256LIB) R.exports.push(k);
})();
var SHA1 = LIB.sha1 || (HASHLIB && HASHLIB.sha1), MD5 = LIB.md5 || (HASHLIB && HASHLIB.md5);
var SHA256 = LIB.sha256 || (HASHLIB && HASHLIB.sha256) || (SHA256LIB && SHA256LIB.sha256);

// 1. Hash vectors: md5, sha1 and HMAC on the given inputs; the digests go back as hex (null
// where the bundle does not export the function).
H.step("hashes", function (done) {
  var out = [], i, c, m, d, h;
  for (i = 0; i < INPUT.hash.length; i++) {
    c = INPUT.hash[i];
    m = H.fromHex(c.msg);
    h = c.alg == "md5" || c.alg == "hmac-md5" ? MD5 : c.alg == "sha256" || c.alg == "hmac-sha256" ? SHA256 : SHA1;
    if (!h || (c.key != null && !LIB.hmac)) {
      out.push(null);
      continue;
    }
    d = c.key == null ? h(m) : LIB.hmac(h, H.fromHex(c.key), m);
    out.push(LIB.hex(d) + (LIB.hex(d) === H.hex(d) ? "" : " (hex() disagrees: " + H.hex(d) + ")"));
  }
  R.hash = out;
  R.hexCheck = LIB.hex(H.fromHex(INPUT.hexCheck));
  if (LIB.utf8) {
    R.utf8 = [];
    for (i = 0; i < INPUT.utf8.length; i++) R.utf8.push(H.hex(LIB.utf8(INPUT.utf8[i])));
  }
  done();
});

// 2. The sign example of protocol.md: through sign() where the bundle exports it, else through
// hmac(sha1, ...) on the sign text (the scenario's /auth sign covers the client's own signing).
H.step("sign", function (done) {
  var p = INPUT.sign.params, text = "", names = ["clientId", "deviceName", "productKey", "timestamp"], i;
  function bytes(s) {
    var b = new Uint8Array(s.length), j;
    for (j = 0; j < s.length; j++) b[j] = s.charCodeAt(j);
    return b;
  }
  if (LIB.sign) {
    R.sign = { via: "sign", hmacsha1: LIB.sign(p, INPUT.sign.secret, "hmacsha1") };
    if (MD5) R.sign.hmacmd5 = LIB.sign(p, INPUT.sign.secret, "hmacmd5");
  } else {
    for (i = 0; i < names.length; i++) text += names[i] + p[names[i]];
    R.sign = { via: "hmac", hmacsha1: LIB.hex(LIB.hmac(SHA1, bytes(INPUT.sign.secret), bytes(text))) };
  }
  done();
});

function options(extra) {
  var o = { productKey: INPUT.device.productKey, deviceName: INPUT.device.deviceName, deviceSecret: INPUT.device.deviceSecret, backoff: 1, timeout: ENGINE == "espruino" ? 15000 : 3000 }, k; // Espruino: real timers, on a machine that may be busy
  o.now = function () {
    return INPUT.now;
  };
  for (k in extra) o[k] = extra[k];
  return o;
}

// Runs publish/auth calls one after another; each callback is recorded every time it runs.
function sequence(calls, log, done) {
  var i = 0;
  function next() {
    var c = calls[i++], tag;
    if (!c) return done();
    tag = c.tag;
    var first = 1;
    var cb = H.guard(tag, function (err, result) {
      log.push({ tag: tag, err: H.error(err), result: result === undefined ? null : result });
      if (first) {
        first = 0;
        setTimeout(next, 0);
      }
    });
    try {
      c.run(cb);
    } catch (e) {
      log.push({ tag: tag, threw: H.error(e) });
      setTimeout(next, 0);
    }
  }
  next();
}

// The UTF-8 text payload: to the Espruino bundle as a Uint8Array of its bytes (Espruino strings
// are 8-bit on boards, "\u2603" there is not a snowman, and the bundle sends a string's own
// bytes); to the Moddable bundle as the JavaScript string, which it must encode as UTF-8.
function textPayload() {
  return TARGET == "espruino" ? H.fromHex(INPUT.payloadHex) : INPUT.payloadText;
}
function bufferPayload() {
  var b = H.fromHex(INPUT.payload2Hex), ab = new ArrayBuffer(b.length), v = new Uint8Array(ab), i;
  for (i = 0; i < b.length; i++) v[i] = b[i];
  return ab;
}

// 3. The client over a scripted transport and memory storage: auth, publish, 20001 (re-auth,
// resend), 40000 (backoff, retry), success.
H.step("scenario", function (done) {
  var requests = [], log = [], replies = INPUT.scenario.replies.slice();
  if (ESP) ESP.crypto = false; // off Espruino, no require("crypto"): the SHA-1 module's sha1
  function transport(req, cb) {
    var a = replies.shift();
    requests.push({
      method: req.method,
      host: req.host,
      port: req.port,
      path: req.path,
      headers: H.copy(req.headers),
      body: H.hex(req.body),
      bodyIsUint8Array: req.body instanceof Uint8Array,
      bodyLength: req.body.length,
      timeout: req.timeout,
      t: H.clock(),
    });
    setTimeout(function () {
      if (a) cb(null, { status: a.status, body: a.body });
      else cb(new Error("the script has no more replies"));
    }, 0);
  }
  var o = options({ retries: 2, transport: transport, storage: LIB.memoryStorage ? LIB.memoryStorage() : H.memory() }), client;
  if (TARGET == "espruino") {
    // without require("crypto") and without the sha1 option, createClient refuses (off Espruino)
    try {
      LIB.createClient(o);
      R.noSha1 = ENGINE == "espruino" ? "not tested: Espruino has require(\"crypto\")" : "accepted";
    } catch (e) {
      R.noSha1 = H.error(e);
    }
    o.sha1 = HASHLIB.sha1; // on Espruino too: the pure-JS path through the whole client
  }
  client = LIB.createClient(o);
  sequence(
    [
      { tag: "text", run: function (cb) { client.publish(INPUT.topic, textPayload(), cb); } },
      { tag: "buffer", run: function (cb) { client.publish(INPUT.topic, bufferPayload(), cb); } },
    ],
    log,
    function () {
      R.scenario = { requests: requests, callbacks: log, unusedReplies: replies }; // arrays: printed as they are at the end
      done();
    }
  );
});

// 3b. What a review found, on the device bundle itself: info.messageId among decoys, dot-level
// topics, endpoint ports and IPv6 hosts, a transport error with a string code, typed-array
// views, a clock that throws at each read, and a damaged stored token. The cases are plain
// data run one at a time, each making its client when its turn comes: a board's memory holds
// few clients at once.
H.step("review", function (done) {
  var out = { ids: [], topics: [], endpoints: [], clock: [], payloads: [] }, V = INPUT.review, cases = [], i, j;
  if (ESP) ESP.crypto = false;
  function storage(record) {
    var m = LIB.memoryStorage ? LIB.memoryStorage() : H.memory();
    if (record) m.setItem("token", record);
    return m;
  }
  // a client whose transport logs each request and answers /auth with a token, a publish with
  // `reply` (a text, or a function that answers)
  function client(extra, reply, log) {
    var o = options({ retries: 0, storage: storage(), transport: function (req, cb) {
      log.push({ path: req.path, host: req.host, port: req.port, password: req.headers.password || null, body: H.hex(req.body) });
      setTimeout(function () {
        if (typeof reply == "function") reply(req, cb);
        else cb(null, { status: 200, body: req.path == "/auth" ? V.tokenReply : reply });
      }, 0);
    } }), k;
    if (TARGET == "espruino") o.sha1 = HASHLIB.sha1;
    for (k in extra) o[k] = extra[k];
    return LIB.createClient(o);
  }
  // runs one call; `next(record)` once, after the first callback or a synchronous throw
  function call(run, next) {
    var rec = { calls: 0 };
    try {
      run(function (err, r) {
        rec.calls++;
        rec.err = H.error(err);
        rec.result = r === undefined ? null : r;
        if (rec.calls == 1) setTimeout(function () { next(rec); }, 0);
      });
    } catch (e) {
      rec.threw = H.error(e);
      setTimeout(function () { next(rec); }, 0);
    }
  }
  var run = {
    id: function (c, next) {
      call(function (cb) { client({}, V.replies[c.i], []).publish(INPUT.topic, "x", cb); }, function (r) {
        // which of two duplicate keys the engine's own JSON.parse keeps (ECMAScript: the last)
        r.firstOfDuplicates = JSON.parse('{"a":1,"a":2}').a == 1;
        out.ids.push(r);
        next();
      });
    },
    topic: function (c, next) {
      var log = [];
      call(function (cb) { client({}, V.idReply, log).publish(V.topics[c.i], "x", cb); }, function (r) { r.requests = log.length; out.topics.push(r); next(); });
    },
    endpoint: function (c, next) {
      var log = [], e = V.endpoints[c.i], cl;
      try {
        cl = client({ endpoint: e }, V.idReply, log);
      } catch (x) {
        out.endpoints.push({ endpoint: e, err: H.error(x) });
        return next();
      }
      call(function (cb) { cl.auth(cb); }, function () { out.endpoints.push({ endpoint: e, host: log[0] && log[0].host, port: log[0] && log[0].port }); next(); });
    },
    // a transport error with a string code: ENETWORK, retried, the original as cause
    code: function (c, next) {
      var attempts = 0;
      call(function (cb) {
        client({ retries: 2 }, function (req, reply) { attempts++; reply({ code: "ECONNRESET", message: "reset by peer" }); }, []).auth(cb);
      }, function (r) { r.attempts = attempts; out.transportCode = r; next(); });
    },
    // typed-array views (where the engine has them) and things that are not payloads
    payload: function (c, next) {
      var log = [], p = V.payloads[c.i], b, value;
      if ((p.kind == "DataView" && typeof DataView == "undefined") || (p.kind == "Int16Array" && typeof Int16Array == "undefined")) return next();
      b = p.bufferHex && H.fromHex(p.bufferHex).buffer;
      value = p.kind == "DataView" ? new DataView(b, p.offset, p.length) : p.kind == "Int16Array" ? new Int16Array(b, p.offset, p.length / 2) : p.kind == "object" ? { byteLength: 3 } : [1, 2];
      call(function (cb) { client({}, V.idReply, log).publish(INPUT.topic, value, cb); }, function (r) { r.kind = p.kind; r.sent = log.length > 1 ? log[1].body : null; out.payloads.push(r); next(); });
    },
    // a clock that throws at read `bad`, fresh or with a stored token: 5 publishes
    clock: function (c, next) {
      var reads = 0, results = [], cl = client({ storage: storage(c.stored ? V.storedRecord : null), now: function () {
        if (++reads == c.bad) throw new Error("rtc read failed");
        return INPUT.now;
      } }, V.idReply, []);
      (function publish() {
        if (results.length == 5) {
          out.clock.push({ bad: c.bad, stored: c.stored, results: results, reads: reads });
          return next();
        }
        call(function (cb) { cl.publish(INPUT.topic, "x", cb); }, function (r) { results.push(r); publish(); });
      })();
    },
    // a stored token with a line feed: dropped, /auth, and the new token is sent
    damaged: function (c, next) {
      var log = [], s = storage(V.damagedRecord);
      call(function (cb) { client({ storage: s }, V.idReply, log).publish(INPUT.topic, "x", cb); }, function (r) { out.damaged = { result: r, requests: log, stored: s.getItem("token") }; next(); });
    },
  };
  for (i = 0; i < V.replies.length; i++) cases.push({ kind: "id", i: i });
  for (i = 0; i < V.topics.length; i++) cases.push({ kind: "topic", i: i });
  for (i = 0; i < V.endpoints.length; i++) cases.push({ kind: "endpoint", i: i });
  cases.push({ kind: "code" });
  for (i = 0; i < V.payloads.length; i++) cases.push({ kind: "payload", i: i });
  for (i = 1; i <= 4; i++) for (j = 0; j < 2; j++) cases.push({ kind: "clock", bad: i, stored: j });
  cases.push({ kind: "damaged" });
  (function next() {
    var c = cases.shift();
    if (!c) {
      R.review = out;
      return done();
    }
    run[c.kind](c, function () { setTimeout(next, 0); });
  })();
});

// 4. Espruino bundle: its own transport on a fake require("http") and its Storage.
if (TARGET == "espruino")
  H.step("espruino http and Storage", function (done) {
    var log = [], a, b, storage = ESP.storage();
    ESP.crypto = true;
    ESP.plan = INPUT.http.plan.slice();
    ESP.requests = []; // (not .length = 0: that throws on Espruino)
    ESP.writes = [];
    a = LIB.createClient(options({ retries: 1 }));
    sequence(
      [
        { tag: "first", run: function (cb) { a.publish(INPUT.topic, H.fromHex(INPUT.payloadHex), cb); } },
        { tag: "tlsErrorAfterBody", run: function (cb) { a.publish(INPUT.topic, H.fromHex(INPUT.payloadHex), cb); } },
        { tag: "endThrows", run: function (cb) { a.publish(INPUT.topic, H.fromHex(INPUT.payloadHex), cb); } },
        { tag: "secondClient", run: function (cb) { b = LIB.createClient(options({ retries: 1 })); b.publish(INPUT.topic, INPUT.asciiText, cb); } },
        { tag: "sameToken", run: function (cb) { b.auth(cb); } },
        { tag: "requestThrows", run: function (cb) { b.publish(INPUT.topic, INPUT.asciiText, cb); } },
      ],
      log,
      function () {
        var files = {}, names = storage.list(), i;
        for (i = 0; i < names.length; i++) if (names[i].indexOf("aliyun-iot-http") != 0) files[names[i]] = storage.read(names[i]);
        R.http = { requests: ESP.requests, callbacks: log, writes: ESP.writes, files: files, cryptoCalls: ESP.cryptoCalls, unused: ESP.plan };
        done();
      }
    );
  });

// 5. Moddable bundle: its own transport on a fake Request and its Preference storage.
if (TARGET == "moddable")
  H.step("moddable Request and Preference", function (done) {
    var log = [], cert = H.fromHex(INPUT.moddable.certificateHex).buffer, a, removed = [];
    MOD.certificate = cert;
    MOD.plan = INPUT.moddable.plan.slice();
    // the key whose value is a number (the piece count) and the string-valued keys (pieces)
    function keys(kind) {
      var out = [], d, k;
      for (d in MOD.prefs) for (k in MOD.prefs[d]) if (typeof MOD.prefs[d][k] == kind) out.push([d, k]);
      return out.sort();
    }
    function remove(kind, index) {
      var k = keys(kind)[index];
      if (!k) throw new Error("no " + kind + " preference to delete");
      removed.push(k[1]);
      MOD.Preference["delete"](k[0], k[1]);
    }
    a = LIB.createClient(options({ retries: 1, certificate: cert }));
    sequence(
      [
        { tag: "first", run: function (cb) { a.publish(INPUT.topic, H.fromHex(INPUT.payloadHex), cb); } },
        { tag: "error", run: function (cb) { a.publish(INPUT.topic, H.fromHex(INPUT.payloadHex), cb); } },
        { tag: "secondClient", run: function (cb) { LIB.createClient(options({ certificate: cert })).publish(INPUT.topic, H.fromHex(INPUT.payloadHex), cb); } },
        { tag: "countDeleted", run: function (cb) { remove("number", 0); LIB.createClient(options({ certificate: cert })).publish(INPUT.topic, H.fromHex(INPUT.payloadHex), cb); } },
        { tag: "pieceDeleted", run: function (cb) { remove("string", 1); LIB.createClient(options({ certificate: cert, signMethod: "hmacmd5" })).publish(INPUT.topic, H.fromHex(INPUT.payloadHex), cb); } },
        { tag: "timedOut", run: function (cb) { LIB.createClient(options({ certificate: cert, timeout: 50, retries: 0 })).publish(INPUT.topic, H.fromHex(INPUT.payloadHex), cb); } },
      ],
      log,
      function () {
        R.moddable = { requests: MOD.requests, callbacks: log, prefs: MOD.prefs, prefLog: MOD.prefLog, violations: MOD.violations, digests: MOD.digests, removed: removed, unused: MOD.plan };
        done();
      }
    );
  });
