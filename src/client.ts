import { utf8 } from "./bytes";
import { MAX_PAYLOAD, payloadBytes, topicError, topicPath } from "./check";
import { ClientError, error } from "./errors";
import { md5 } from "./hash/md5";
import { sha1 } from "./hash/sha1";
import { parseReply, Reply } from "./reply";
import { sign } from "./sign";
import { tokenExpiry } from "./token";
import { Callback, Client, ClientOptions, Platform, PublishResult, Storage, Transport, TransportResponse } from "./types";

declare var setTimeout: (fn: () => void, ms: number) => unknown;
declare var clearTimeout: (id: any) => void;

var CLOCK_SET = 1577836800000; // 2020-01-01: an earlier clock has not been set
var RENEW_EARLY = 300000; // renew a token 5 minutes before it expires
var DEFAULT_LIFETIME = 172800000; // 48 h, for a token that carries no expiry
var TOKEN_KEY = "token";

function invalid(name: string, rule: string): ClientError {
  return error("EINVAL", "option " + name + " " + rule);
}

function text(o: any, name: string, fallback?: string): string {
  var v = o[name] == null ? fallback : o[name];
  if (typeof v != "string" || !v) throw invalid(name, "must be a non-empty string");
  return v;
}

function num(o: any, name: string, fallback: number, min: number): number {
  var v = o[name] == null ? fallback : o[name];
  if (typeof v != "number" || !(v >= min) || v > 2147483647) throw invalid(name, "must be a number >= " + min);
  return v;
}

/** Calls every callback in the list, even when one throws; the first throw is rethrown after. */
function each<T>(list: Callback<T>[], err: ClientError | null, value?: T) {
  var thrown, i;
  for (i = 0; i < list.length; i++) {
    try {
      list[i](err, value);
    } catch (x) {
      if (!thrown) thrown = [x];
    }
  }
  if (thrown) throw thrown[0];
}

export function createClient(o: ClientOptions, platform?: Platform): Client {
  var p = platform || {};
  if (!o || typeof o != "object") throw invalid("object", "is required");
  var productKey = text(o, "productKey");
  var deviceName = text(o, "deviceName");
  var secret = text(o, "deviceSecret");
  var clientId = text(o, "clientId", productKey + "." + deviceName);
  var method = text(o, "signMethod", "hmacsha1");
  var endpoint = text(o, "endpoint", "https://iot-as-http." + text(o, "region", "cn-shanghai") + ".aliyuncs.com");
  var timeout = num(o, "timeout", 10000, 1);
  var retries = num(o, "retries", 2, 0);
  var backoff = num(o, "backoff", 1000, 0);
  var now = o.now || Date.now;
  var transport = (o.transport || p.transport) as Transport;
  var storage: Storage = o.storage || p.storage || memoryStorage();
  var later = p.setTimeout || setTimeout;
  var cancel = p.clearTimeout || clearTimeout;
  var hash = method == "hmacmd5" ? p.md5 || md5 : p.sha1 || sha1;
  var host: string, port = 443, i, owner: string;

  if (clientId.length > 64) throw invalid("clientId", "must be at most 64 characters");
  if (method != "hmacsha1" && method != "hmacmd5") throw invalid("signMethod", 'must be "hmacsha1" or "hmacmd5"');
  if (retries % 1) throw invalid("retries", "must be a whole number");
  if (typeof now != "function") throw invalid("now", "must be a function");
  if (typeof transport != "function") throw invalid("transport", "must be a function");
  if (!storage || typeof storage.getItem != "function" || typeof storage.setItem != "function") throw invalid("storage", "must have getItem and setItem");

  // endpoint: https://host[:port][/], host may be [IPv6]
  if (endpoint.slice(0, 8).toLowerCase() != "https://") throw invalid("endpoint", "must be an https:// URL");
  host = endpoint.slice(8);
  if (host.charAt(host.length - 1) == "/") host = host.slice(0, -1);
  i = host.lastIndexOf(":");
  if (i > host.lastIndexOf("]")) {
    port = +host.slice(i + 1);
    host = host.slice(0, i);
    if (!(port > 0 && port < 65536 && port % 1 == 0)) throw invalid("endpoint", "has a bad port");
  }
  if (host.charAt(0) == "[") host = host.slice(1, -1);
  for (i = 0; i < host.length; i++) if (host.charCodeAt(i) < 33 || "/?#@".indexOf(host.charAt(i)) >= 0) host = "";
  if (!host) throw invalid("endpoint", "must be https://host[:port] with no path");
  owner = productKey + "/" + deviceName + "@" + host + ":" + port;

  var token: { t: string; e: number } | null | undefined; // undefined: storage not read yet
  var waiting: Callback<string>[] | null = null;

  function load() {
    try {
      var r = JSON.parse(storage.getItem(TOKEN_KEY) as string);
      if (r && r.o === owner && typeof r.t == "string" && r.t && typeof r.e == "number") return { t: r.t, e: r.e };
    } catch (x) {}
    return null;
  }

  function clockSet() {
    return now() > CLOCK_SET;
  }

  function usable() {
    if (token === undefined) token = load();
    return token && !(token.e && clockSet() && now() > token.e - RENEW_EARLY);
  }

  /** One request with the core's own timeout, one callback, and the reply parsed. */
  function send(path: string, type: string, password: string, body: Uint8Array, cb: (err: ClientError | null, reply?: Reply) => void) {
    var done = 0, headers: { [name: string]: string } = { "Content-Type": type, "Content-Length": "" + body.length };
    var timer = later(function () {
      finish(error("ETIMEDOUT", "no reply within " + timeout + " ms"));
    }, timeout);
    function finish(err: any, res?: TransportResponse) {
      var reply;
      if (done) return;
      done = 1;
      cancel(timer);
      if (err) {
        // a transport's own error (Espruino's are plain objects) becomes ENETWORK
        if (!err.code || "ETIMEDOUT ENETWORK EPROTO".indexOf(err.code) < 0) err = error("ENETWORK", err.message || "" + err);
      } else if (!res || !(res.status >= 200 && res.status < 300)) {
        err = error("EHTTP", "HTTP status " + (res && res.status));
        err.status = res && +res.status;
      } else if (!(reply = parseReply(res.body))) {
        err = error("EPROTO", "reply is not the service's JSON");
      } else if (reply.code) {
        err = error(reply.code, reply.message || "service error " + reply.code);
        if (reply.messageId) err.messageId = reply.messageId;
      }
      cb(err, reply);
    }
    if (password) headers.password = password;
    try {
      transport({ method: "POST", host: host, port: port, path: path, headers: headers, body: body, timeout: timeout }, finish);
    } catch (x) {
      finish(x);
    }
  }

  /** send(), retried with doubling delays on 40000, timeouts, network errors and HTTP 5xx. */
  function request(path: string, type: string, password: string, body: Uint8Array, cb: (err: ClientError | null, reply?: Reply) => void) {
    var n = 0;
    function attempt() {
      send(path, type, password, body, function (err, reply) {
        var c = err && err.code;
        if (n < retries && (c == 40000 || c == "ETIMEDOUT" || c == "ENETWORK" || (err && (err.status as number) >= 500))) {
          later(attempt, backoff * (1 << n++));
        } else cb(err, reply);
      });
    }
    attempt();
  }

  /** POST /auth; every caller that arrives while it runs shares it. */
  function auth(cb: Callback<string>) {
    var params: { [name: string]: string };
    if (waiting) return void waiting.push(cb);
    waiting = [cb];
    params = { productKey: productKey, deviceName: deviceName, clientId: clientId };
    // the timestamp goes into the body and the sign only when the clock is set
    if (clockSet()) params.timestamp = "" + Math.floor(now());
    params.sign = sign(params, secret, method, hash);
    params.signmethod = method;
    request("/auth", "application/json", "", utf8(JSON.stringify(params)), function (err, reply) {
      var list = waiting as Callback<string>[], t = reply && !err && reply.info && reply.info.token;
      waiting = null;
      if (!err && (typeof t != "string" || !t)) err = error("EPROTO", "auth reply has no token");
      if (err) return each(list, err);
      token = { t: t as string, e: tokenExpiry(t as string) || (clockSet() ? now() + DEFAULT_LIFETIME : 0) };
      try {
        storage.setItem(TOKEN_KEY, JSON.stringify({ o: owner, t: token.t, e: token.e }));
      } catch (x) {} // a token that cannot be kept is still good for this session
      each(list, null, token.t);
    });
  }

  function publish(topic: string, payload: string | Uint8Array | ArrayBuffer, cb: Callback<PublishResult>) {
    var bad = topicError(topic), body = payloadBytes(payload), resent = 0, err: ClientError | null = null;
    if (typeof cb != "function") throw error("EINVAL", "callback must be a function");
    if (bad) err = error("EINVAL", bad);
    else if (!body) err = error("EINVAL", "payload must be a string, Uint8Array or ArrayBuffer");
    else if (body.length > MAX_PAYLOAD) err = error("ETOOBIG", "payload is " + body.length + " bytes, over the limit of " + MAX_PAYLOAD);
    if (err) return void later(function () {
      cb(err);
    }, 0);
    function withToken(next: Callback<string>) {
      if (usable()) next(null, (token as { t: string }).t);
      else auth(next);
    }
    function go() {
      withToken(function (err, t) {
        if (err) return cb(err);
        request(topicPath(topic), "application/octet-stream", t as string, body as Uint8Array, function (err, reply) {
          var c = err && err.code;
          // 20001 expired, 20002 missing, 20003 unknown token: authenticate once and resend once
          if ((c == 20001 || c == 20002 || c == 20003) && !resent++) {
            if (token && token.t == t) token = null;
            return go();
          }
          if (!err && !(reply as Reply).messageId) err = error("EPROTO", "reply has no messageId");
          if (err) return cb(err);
          var result: PublishResult = { messageId: (reply as Reply).messageId as string };
          if ((reply as Reply).info && ((reply as Reply).info as any).data != null) result.data = ((reply as Reply).info as any).data;
          cb(null, result);
        });
      });
    }
    go();
  }

  return {
    publish: publish,
    auth: function (cb: Callback<string>) {
      if (typeof cb != "function") throw error("EINVAL", "callback must be a function");
      token = null;
      auth(cb);
    },
  };
}

/** A storage that keeps values in memory only: tokens last until the program stops. */
export function memoryStorage(): Storage {
  var m: { [key: string]: string } = {};
  return {
    getItem: function (k) {
      return m.hasOwnProperty(k) ? m[k] : null;
    },
    setItem: function (k, v) {
      m[k] = "" + v;
    },
    removeItem: function (k) {
      delete m[k];
    },
  };
}
