import { error } from "./errors";
import { option } from "./options";
import { Callback, Client, PublishResult } from "./types";

declare var setTimeout: (fn: () => void, ms: number) => unknown;

var CLOCK_SET = 1577836800000; // 2020-01-01: an earlier clock has not been set
var DAY = 86400000;
var FLOAT = {}; // the tag of float()'s values
var has = FLOAT.hasOwnProperty; // not the value's own: a property may be named "hasOwnProperty"

export interface ThingOptions {
  productKey: string;
  deviceName: string;
  /** The clock, ms since the epoch, for ids, event times and the 24-hour check; default Date.now. */
  now?: () => number;
}

/** A float or double property value, made by float(). */
export interface FloatValue {
  f: number;
  t: object;
}

/** A number to be written with a decimal point (10 as 10.0): the platform refuses a float or double property without one. */
export function float(v: number): FloatValue {
  if (typeof v != "number" || !isFinite(v)) throw error("EINVAL", "bad float " + v);
  return { f: v, t: FLOAT };
}

/**
 * A JSON string written by hand: Espruino's JSON.stringify writes each byte of a UTF-8 string
 * as a \u00XX escape of its own, so the platform would read other characters.
 */
function quote(s: string): string {
  var out = '"', i, c;
  for (i = 0; i < s.length; i++) {
    c = s.charCodeAt(i);
    out += c == 34 || c == 92 ? "\\" + s.charAt(i) : c < 32 ? "\\u00" + (c < 16 ? "0" : "") + c.toString(16) : s.charAt(i);
  }
  return out + '"';
}

/** Alink JSON of a value: float() values keep a decimal point; what JSON cannot say is refused, not dropped. */
export function alinkJSON(v: any): string {
  var out = [], k, n, s;
  if (v && v.t === FLOAT) {
    s = "" + v.f;
    return s.indexOf(".") < 0 && s.indexOf("e") < 0 ? s + ".0" : s;
  }
  if (typeof v == "number" && isFinite(v)) return "" + v;
  if (typeof v == "string") return quote(v);
  if (v === null || v === true || v === false) return "" + v;
  if (!v || typeof v != "object") throw error("EINVAL", "bad value " + (typeof v == "number" ? v : typeof v));
  n = v instanceof Array;
  for (k in v) if (has.call(v, k)) out.push((n ? "" : quote(k) + ":") + alinkJSON(v[k]));
  return n ? "[" + out + "]" : "{" + out + "}";
}

/** A thing-model helper over a client: properties, events and the firmware version, in Alink JSON. */
export interface Thing {
  /** Reports properties: each value plain or {value, time} (time checked: at most 24 h ahead); float(v) for a float or double. */
  post(params: { [identifier: string]: unknown }, cb: Callback<PublishResult>): void;
  /** Reports event `identifier` with its output parameters, at the clock's time when it is set. */
  event(identifier: string, value: { [name: string]: unknown }, cb: Callback<PublishResult>): void;
  /** Reports the firmware version (OTA inform), of `module` when given. */
  version(version: string, module: string | undefined, cb: Callback<PublishResult>): void;
  /** The id of the next message. */
  id(): string;
}

/**
 * Thing-model messages for one device, published through `client`. Message ids: a message's
 * id is the clock in ms, kept increasing, modulo 2^32 (the platform's range): unique for 49
 * days without a flash write, across reboots too while the device sends fewer than one message
 * a millisecond. Without a set clock they start at a random point.
 */
export function thing(client: Client, o: ThingOptions, later?: (fn: () => void, ms: number) => unknown): Thing {
  o = o || ({} as ThingOptions);
  var productKey: string = option(o, "productKey", "");
  var deviceName: string = option(o, "deviceName", "");
  var now: () => number = option(o, "now", Date.now);
  var own = "/" + productKey + "/" + deviceName;
  var last = Math.floor(Math.random() * 4294967296);
  if (!client || typeof client.publish != "function") throw error("EINVAL", "bad client");

  function id() {
    var t = now();
    last = t > last ? Math.floor(t) : last + 1;
    return "" + (last % 4294967296);
  }
  /** A time the platform takes: a number no more than 24 h ahead of a set clock. */
  function checkTime(time: any, t: number) {
    if (typeof time != "number" || !isFinite(time) || (t > CLOCK_SET && time > t + DAY)) throw error("EINVAL", "bad time " + time);
  }
  function send(topic: string, body: () => string, cb: Callback<PublishResult>) {
    var text;
    if (typeof cb != "function") throw error("EINVAL", "bad callback");
    try {
      text = body();
    } catch (x) {
      // bad params, or a clock that throws: reported as the client reports a bad topic
      return void (later || setTimeout)(function () {
        cb(x as any);
      }, 0);
    }
    client.publish(topic, text, cb);
  }
  function alink(method: string, params: string) {
    return '{"id":"' + id() + '","version":"1.0","sys":{"ack":0},"params":' + params + ',"method":"thing.event.' + method + '.post"}';
  }
  function object(v: any, name: string) {
    if (!v || typeof v != "object" || v instanceof Array) throw error("EINVAL", "bad " + name);
  }

  return {
    post: function (params, cb) {
      send("/sys" + own + "/thing/event/property/post", function () {
        var t = now(), k, v: any;
        object(params, "params");
        for (k in params) if ((v = params[k]) && typeof v == "object" && has.call(v, "time")) checkTime(v.time, t);
        return alink("property", alinkJSON(params));
      }, cb);
    },
    event: function (identifier, value, cb) {
      send("/sys" + own + "/thing/event/" + identifier + "/post", function () {
        var t = now();
        if (typeof identifier != "string" || !/^\w+$/.test(identifier) || identifier.length > 50 || identifier == "property") throw error("EINVAL", "bad identifier " + identifier);
        object(value, "value");
        return alink(identifier, '{"value":' + alinkJSON(value) + (t > CLOCK_SET ? ',"time":' + Math.floor(t) : "") + "}");
      }, cb);
    },
    version: function (version, module, cb) {
      send("/ota/device/inform" + own, function () {
        var ok = function (s: any) {
          return typeof s == "string" && s.length < 65 && /^[!-~]+$/.test(s);
        };
        if (!ok(version) || (module != null && !ok(module))) throw error("EINVAL", "bad version");
        return '{"id":"' + id() + '","params":{"version":' + quote(version) + (module != null ? ',"module":' + quote(module) : "") + "}}";
      }, cb);
    },
    id: id,
  };
}
