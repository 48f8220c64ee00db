import { utf8 } from "./bytes";

/** The service's limit on a message body. */
export var MAX_PAYLOAD = 131072;

/**
 * Why a publish topic is invalid, or "" when it is valid: MQTT topic rules (no wildcard, no
 * empty level), a leading "/", no "?" (no query string is allowed) and no control characters.
 * Plain loops rather than a regular expression: Espruino's regex support is partial.
 */
export function topicError(topic: unknown): string {
  var i, c, prev = 0;
  if (typeof topic != "string" || topic.length < 2 || topic.charAt(0) != "/") return "topic must be a string starting with /";
  for (i = 0; i < topic.length; i++) {
    c = topic.charCodeAt(i);
    if (c < 32 || c == 127) return "topic has a control character";
    if (c == 35 || c == 43 || c == 63) return "topic must not contain +, # or ?";
    if (c == 47 && prev == 47) return "topic has an empty level";
    prev = c;
  }
  return prev == 47 ? "topic has an empty level" : "";
}

var UNSAFE = ' "%<>[\\]^`{|}';

/** `/topic/...` with every byte outside the safe set of a URL path percent-encoded. */
export function topicPath(topic: string): string {
  var b = utf8(topic), path = "/topic", i, c, ch;
  for (i = 0; i < b.length; i++) {
    c = b[i];
    ch = String.fromCharCode(c);
    path += c > 32 && c < 127 && UNSAFE.indexOf(ch) < 0 ? ch : "%" + (c < 16 ? "0" : "") + c.toString(16).toUpperCase();
  }
  return path;
}

/** A payload as bytes (strings as UTF-8, always a copy), or undefined for an unsupported type. */
export function payloadBytes(payload: unknown): Uint8Array | undefined {
  if (typeof payload == "string") return utf8(payload);
  if (payload instanceof Uint8Array) return new Uint8Array(payload);
  if (typeof ArrayBuffer != "undefined" && payload instanceof ArrayBuffer) return new Uint8Array(new Uint8Array(payload));
  return undefined;
}
