/** base64url (a JWT part: no padding) to a byte string. */
function unbase64(s: string): string {
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
 * (`header.{"expire":...,"token":...}.signature`); 0 when the token has none.
 */
export function tokenExpiry(token: string): number {
  var parts = token.split(".");
  try {
    return +JSON.parse(unbase64(parts[1])).expire || 0;
  } catch (x) {
    return 0;
  }
}
