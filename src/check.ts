/** The service's limit on a message body. */
export var MAX_PAYLOAD = 131072;

/**
 * Whether a publish topic is valid: MQTT topic rules (no wildcard, no empty level), a leading
 * "/", no "." or ".." level (a URL path would resolve it to another topic), and only characters
 * that need no escaping in a URL path (the platform's topics use letters, digits and -_.@:).
 * No "?": no query string is allowed. Plain loops rather than a regular expression (Espruino's
 * regex support is partial), and levels by split rather than indexOf("//"): Espruino's indexOf
 * finds a needle whose beginning matches the end of the string ("ab/".indexOf("//") is 2).
 */
export function validTopic(topic: unknown): boolean {
  var levels = typeof topic == "string" ? topic.split("/") : [], i, c, l;
  if (levels.length < 2 || levels[0]) return false;
  for (i = 1; i < levels.length; i++) if (!(l = levels[i]) || l == "." || l == "..") return false;
  for (i = 0; i < (topic as string).length; i++) if ((c = (topic as string).charCodeAt(i)) < 33 || c > 126 || '"#%+<>?[\\]^`{|}'.indexOf((topic as string).charAt(i)) >= 0) return false;
  return true;
}

/**
 * A payload as bytes (strings through `encode`, always a copy), or undefined when it is not a
 * string, an ArrayBuffer or a view of one (any typed array, DataView or Buffer, from any realm:
 * known by its shape) or cannot be read (a detached buffer).
 */
export function payloadBytes(payload: unknown, encode: (s: string) => Uint8Array): Uint8Array | undefined {
  var p = payload as any, n, b;
  if (typeof p == "string") return encode(p);
  try {
    n = p.byteLength;
    b = p.buffer ? new Uint8Array(p.buffer, p.byteOffset, n) : new Uint8Array(p);
    // a real buffer's view shares it; an array-like or a look-alike object gets a new one
    if (b.length === n && b.buffer === (p.buffer || p)) return new Uint8Array(b);
  } catch (x) {}
  return undefined;
}

/** A host name: letters, digits, `-`, `_` and dots; no port, no path. */
export function hostName(s: string): boolean {
  return /^[\w.-]+$/.test(s);
}

/**
 * `https://host[:port][/]` to [host, port]; undefined when it is not that. The port is 1 to
 * 65535 in decimal digits; an IPv6 host is written in brackets and given without them.
 */
export function parseEndpoint(url: string): [string, number] | undefined {
  var parts = url.split("/"), a = parts[2] || "", i = a.lastIndexOf(":"), host = a, port = "443";
  if (i > a.indexOf("]")) {
    host = a.slice(0, i);
    port = a.slice(i + 1);
  }
  if (/^\[[0-9A-Fa-f:.]+\]$/.test(host)) host = host.slice(1, -1);
  else if (!hostName(host)) return undefined;
  return parts[0].toLowerCase() == "https:" && !parts[1] && !parts[3] && parts.length < 5 && /^[1-9][0-9]*$/.test(port) && +port < 65536 ? [host, +port] : undefined;
}
