/** base64url (a JWT part: no padding) to a byte string. */
export function unbase64(s: string): string {
  var out = "", acc = 0, bits = 0, i, c;
  for (i = 0; i < s.length; i++) {
    c = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".indexOf(s.charAt(i));
    acc = (acc << 6) | c;
    bits += 6;
    if (bits > 7) out += String.fromCharCode((acc >> (bits -= 8)) & 255);
  }
  return out;
}

/**
 * The `expire` (ms since the epoch) that a JWT-shaped token carries in its payload
 * (`header.{"expire":...,"token":...}.signature`); 0 when the token has none. `decode` is
 * base64url to a byte string: the platform's own where it has one.
 */
export function expiry(token: string, decode: (s: string) => string): number {
  try {
    return +JSON.parse(decode(token.split(".")[1])).expire || 0;
  } catch (x) {
    return 0;
  }
}

export function tokenExpiry(token: string): number {
  return expiry(token, unbase64);
}
