import { Hash } from "./hash/md";
import { MAX_PAYLOAD, hostName, parseEndpoint, payloadBytes, validTopic } from "./check";
import { ClientError, error } from "./errors";
import { option } from "./options";
import { requester } from "./request";
import { hex } from "./bytes";
import { hmac } from "./hash/hmac";
import { expiry } from "./token";
import { Callback, Client, ClientOptions, Platform, PublishResult, Storage } from "./types";

declare var setTimeout: (fn: () => void, ms: number) => unknown;
declare var clearTimeout: (id: any) => void;

var CLOCK_SET = 1577836800000; // 2020-01-01: an earlier clock has not been set
var RENEW_EARLY = 300000; // renew a token 5 minutes before it expires
var DEFAULT_LIFETIME = 172800000; // 48 h, for a token that carries no expiry
var TOKEN_KEY = "token";

/** What a clock or hash threw, as an error (a throw of null or a string too). */
function thrown(x: any): ClientError {
  return x && typeof x == "object" ? x : error("EINVAL", "threw " + x);
}

function callable(cb: unknown) {
  if (typeof cb != "function") throw error("EINVAL", "bad callback");
}

/**
 * The client over a platform: `encode` (strings to bytes), the hashes of the sign methods it
 * offers (native ones where it has them), a default transport and storage, and timers.
 */
export function createClient(o: ClientOptions, p: Platform): Client {
  o = o || {}; // missing options fail as "bad option productKey"

  var productKey: string = option(o, "productKey", "");
  var deviceName: string = option(o, "deviceName", "");
  var secret: string = option(o, "deviceSecret", "");
  var clientId: string = option(o, "clientId", productKey + "." + deviceName, function (v) {
    return v.length <= 64;
  });
  var method: string = option(o, "signMethod", "hmacsha1", function (v) {
    return p.hashes[v]; // a method the platform lacks (Espruino without a SHA-256) is refused
  });
  var region: string = option(o, "region", "cn-shanghai", hostName);
  var hostPort = parseEndpoint(option(o, "endpoint", "https://iot-as-http." + region + ".aliyuncs.com", parseEndpoint)) as [string, number];
  var timeout: number = option(o, "timeout", 10000, function (v) {
    return v > 0;
  });
  var retries: number = option(o, "retries", 2, function (v) {
    return v % 1 == 0;
  });
  var backoff: number = option(o, "backoff", 1000);
  var now: () => number = option(o, "now", Date.now);
  var transport = option(o, "transport", p.transport);
  var storage: Storage = option(o, "storage", p.storage, function (v) {
    return v && typeof v.getItem == "function" && typeof v.setItem == "function";
  });
  var encode = p.encode;
  var later = p.setTimeout || setTimeout;
  var cancel = p.clearTimeout || clearTimeout;
  var hash = p.hashes[method] as Hash;
  var unbase64 = p.unbase64;
  var owner = productKey + "/" + deviceName + "@" + hostPort;
  var token: any[] | null | undefined; // [owner, token, expire]; undefined: storage not read yet
  var waiting: Callback<string>[] | null = null;
  var request = requester(transport, hostPort, timeout, retries, backoff, later, cancel);
  o = p = 0 as any; // read: a board's memory need not keep the options and the platform

  /** Whether a token can be sent as a header, and stored and read back whole. */
  function sendable(t: any) {
    return typeof t == "string" && t.length < 1025 && /^[!-~]+$/.test(t); // printable ASCII, no space
  }

  /**
   * POST /auth; every caller that arrives while it runs shares it. The timestamp goes into the
   * body and the sign only when the clock is set; a clock set wrong (a stale timestamp answers
   * 20000) gets one more try without it.
   */
  function auth(cb: Callback<string> | 0, time?: number) {
    var params: { [name: string]: string }, body, stamped: any;
    if (cb) {
      if (waiting) return void waiting.push(cb);
      waiting = [cb];
    }
    try {
      if (cb) time = now(); // the one clock read of this /auth
      stamped = cb && (time as number) > CLOCK_SET;
      params = { productKey: productKey, deviceName: deviceName, clientId: clientId };
      if (stamped) params.timestamp = "" + Math.floor(time as number);
      // the sign text: the parameters sorted by name, each name then its value
      params.sign = hex(hmac(hash, encode(secret), encode("clientId" + clientId + "deviceName" + deviceName + "productKey" + productKey + (stamped ? "timestamp" + params.timestamp : ""))));
      params.signmethod = method;
      body = encode(JSON.stringify(params));
    } catch (x) {
      return done(thrown(x)); // a clock or hash that throws fails the waiting callers, once
    }
    request("/auth", "application/json", "", body, function (err, reply) {
      var t = reply && reply.info && reply.info.token, e, rec;
      if (err && err.code == 20000 && stamped) return auth(0, time);
      if (!err)
        if (sendable(t)) {
          // an expire already due by this clock (a clock far ahead) is not believed: the
          // token is then used until the service says 20001
          e = expiry(t as string, unbase64) || ((time as number) > CLOCK_SET ? (time as number) + DEFAULT_LIFETIME : 0);
          token = [owner, t, e > (time as number) + RENEW_EARLY ? e : 0];
          rec = JSON.stringify(token);
          try {
            if (rec != storage.getItem(TOKEN_KEY)) storage.setItem(TOKEN_KEY, rec); // flash wears: write changes only
          } catch (x) {} // a token that cannot be kept is still good for this run
        } else err = error("EPROTO", t ? "bad token" : "no token");
      done(err, t as string);
    });
  }

  /** Ends an /auth for everyone waiting on it, from a timer: one callback's throw cannot stop the others. */
  function done(err: ClientError | null, t?: string) {
    var list = waiting as Callback<string>[];
    waiting = null;
    list.forEach(function (f) {
      later(function () {
        f(err, t);
      }, 0);
    });
  }

  function withToken(next: Callback<string>) {
    var time;
    if (token === undefined) {
      try {
        token = JSON.parse(storage.getItem(TOKEN_KEY) as string);
      } catch (x) {}
      // [owner, token, expire], kept only for this device at this endpoint; a damaged one is dropped
      if (!token || token[0] !== owner || !sendable(token[1]) || typeof token[2] != "number") token = null;
    }
    try {
      time = now();
    } catch (x) {
      return void later(function () {
        next(thrown(x));
      }, 0);
    }
    if (token && !(token[2] && time > CLOCK_SET && time > token[2] - RENEW_EARLY)) next(null, token[1]);
    else auth(next);
  }

  function publish(topic: string, payload: string | Uint8Array | ArrayBuffer, cb: Callback<PublishResult>) {
    var body = payloadBytes(payload, encode) as Uint8Array, resent = 0;
    var err = !validTopic(topic) ? error("EINVAL", "bad topic " + (typeof topic == "string" ? topic : typeof topic)) : !body ? error("EINVAL", "bad payload") : body.length > MAX_PAYLOAD ? error("ETOOBIG", "payload over " + MAX_PAYLOAD + " bytes") : null;
    callable(cb);
    if (err)
      return void later(function () {
        cb(err);
      }, 0);
    function send() {
      withToken(function (err, t) {
        if (err) return cb(err);
        request("/topic" + topic, "application/octet-stream", t as string, body, function (err, reply) {
          var c = err && err.code;
          // 20001 expired, 20002 missing, 20003 unknown token, or a token the transport cannot
          // send (EINVAL): authenticate once, resend once
          if ((c == 20001 || c == 20002 || c == 20003 || c == "EINVAL") && !resent++) {
            if (token && token[1] == t) token = null;
            return send();
          }
          var id = reply && reply.messageId, data = reply && reply.info && (reply.info as any).data;
          if (!err && !id) err = error("EPROTO", "no messageId");
          if (err) cb(err);
          else cb(null, data == null ? { messageId: id as string } : { messageId: id as string, data: data });
        });
      });
    }
    send();
  }

  return {
    publish: publish,
    auth: function (cb: Callback<string>) {
      callable(cb);
      token = null;
      auth(cb);
    },
  };
}
