/**
 * UTF-8 encoding of a string (lone surrogates become U+FFFD). Done by hand: Espruino has no
 * TextEncoder and its `encodeURIComponent` encodes raw bytes.
 */
export function utf8(s: string): Uint8Array {
  var n = s.length, out = new Uint8Array(n * 3), j = 0, i, c, d;
  for (i = 0; i < n; i++) {
    c = s.charCodeAt(i);
    if (c < 0x80) {
      out[j++] = c;
      continue;
    }
    if (c >= 0xd800 && c < 0xe000) {
      d = s.charCodeAt(i + 1);
      if (c < 0xdc00 && d >= 0xdc00 && d < 0xe000) {
        c = 0x10000 + ((c - 0xd800) << 10) + d - 0xdc00;
        i++;
      } else c = 0xfffd;
    }
    if (c < 0x800) out[j++] = 0xc0 | (c >> 6);
    else {
      if (c < 0x10000) out[j++] = 0xe0 | (c >> 12);
      else {
        out[j++] = 0xf0 | (c >> 18);
        out[j++] = 0x80 | ((c >> 12) & 63);
      }
      out[j++] = 0x80 | ((c >> 6) & 63);
    }
    out[j++] = 0x80 | (c & 63);
  }
  return out.subarray(0, j);
}

/** Lowercase hex of bytes. */
export function hex(bytes: Uint8Array): string {
  var s = "", i;
  for (i = 0; i < bytes.length; i++) s += (bytes[i] < 16 ? "0" : "") + bytes[i].toString(16);
  return s;
}
