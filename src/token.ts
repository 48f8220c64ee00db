var B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** base64url (or base64) to a byte string; padding and unknown characters are skipped. */
function unbase64(s: string): string {
  var out = "", acc = 0, bits = 0, i, v;
  for (i = 0; i < s.length; i++) {
    v = B64.indexOf(s.charAt(i).replace("+", "-").replace("/", "_"));
    if (v < 0) continue;
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += String.fromCharCode((acc >> bits) & 255);
    }
  }
  return out;
}

/**
 * The `expire` (ms since the epoch) that a JWT-shaped token carries in its payload
 * (`header.{"expire":...,"token":...}.signature`); 0 when the token has none.
 */
export function tokenExpiry(token: string): number {
  var parts = token.split("."), e;
  if (parts.length == 3) {
    try {
      e = +JSON.parse(unbase64(parts[1])).expire;
      if (e > 0) return e;
    } catch (x) {}
  }
  return 0;
}
