/** The service's limit on a message body. */
export var MAX_PAYLOAD = 131072;

/**
 * Whether a publish topic is valid: MQTT topic rules (no wildcard, no empty level), a leading
 * "/", and only characters that need no escaping in a URL path (the platform's topics use
 * letters, digits and -_.@:). No "?": no query string is allowed. Plain loops rather than a
 * regular expression: Espruino's regex support is partial.
 */
export function validTopic(topic: unknown): boolean {
  var i, c;
  if (typeof topic != "string" || topic.charAt(0) != "/" || topic.slice(-1) == "/" || topic.indexOf("//") >= 0) return false;
  for (i = 0; i < topic.length; i++) {
    c = topic.charCodeAt(i);
    if (c < 33 || c > 126 || '"#%+<>?[\\]^`{|}'.indexOf(topic.charAt(i)) >= 0) return false;
  }
  return true;
}

/** A payload as bytes (strings through `encode`, always a copy), or undefined for another type. */
export function payloadBytes(payload: unknown, encode: (s: string) => Uint8Array): Uint8Array | undefined {
  if (typeof payload == "string") return encode(payload);
  if (payload instanceof Uint8Array || payload instanceof ArrayBuffer) return new Uint8Array(new Uint8Array(payload as ArrayBuffer));
  return undefined;
}

/** A host name: letters, digits, `-`, `_` and dots; no port, no path. */
export function hostName(s: string): boolean {
  return /^[\w.-]+$/.test(s);
}

/** `https://host[:port][/]` to [host, port]; undefined when it is not that. */
export function parseEndpoint(url: string): [string, number] | undefined {
  var parts = url.split("/"), host = (parts[2] || "").split(":"), port = host[1] ? +host[1] : 443;
  if (parts[0].toLowerCase() == "https:" && !parts[1] && !parts[3] && host.length < 3 && hostName(host[0]) && port > 0 && port < 65536 && port % 1 == 0) return [host[0], port];
  return undefined;
}
