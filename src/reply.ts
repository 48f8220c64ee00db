/** A service reply: `{code, message, info}` with `info.messageId` kept as exact decimal digits. */
export interface Reply {
  code: number;
  message: string;
  info?: { token?: unknown; messageId?: unknown; data?: unknown };
  messageId?: string;
}

function isDigit(c: number) {
  return c > 47 && c < 58;
}

/**
 * Puts quotes around every integer of 16 digits or more outside strings, so that JSON.parse
 * keeps the 64-bit messageId exact (JSON numbers above 2^53 round in JavaScript, and wrap above
 * 2^63 on Espruino). Integers of 15 digits or fewer are below 2^53 and stay numbers.
 */
function quoteBigIntegers(text: string): string {
  var out = "", from = 0, i = 0, n = text.length, c, start, end;
  while (i < n) {
    c = text.charCodeAt(i);
    if (c == 34) {
      // skip a string, with its escapes
      for (i++; i < n && text.charCodeAt(i) != 34; i++) if (text.charCodeAt(i) == 92) i++;
      i++;
    } else if (c == 45 || isDigit(c)) {
      start = i;
      for (i++; i < n && isDigit(text.charCodeAt(i)); i++);
      end = i;
      c = text.charCodeAt(i);
      if (end - start - (text.charCodeAt(start) == 45 ? 1 : 0) > 15 && c != 46 && c != 69 && c != 101) {
        out += text.slice(from, start) + '"' + text.slice(start, end) + '"';
        from = end;
      }
    } else i++;
  }
  return out + text.slice(from);
}

/** Parses a reply text; undefined when it is not the JSON object the service sends. */
export function parseReply(text: string): Reply | undefined {
  var r, id;
  try {
    r = JSON.parse(quoteBigIntegers(text));
  } catch (e) {
    return;
  }
  if (!r || typeof r != "object") return;
  if (typeof r.code == "string" && r.code) r.code = +r.code;
  if (typeof r.code != "number" || r.code != r.code) return;
  if (typeof r.message != "string") r.message = "";
  if (r.info && typeof r.info == "object") {
    id = r.info.messageId;
    if (typeof id == "number" || typeof id == "string") r.messageId = "" + id;
  } else r.info = undefined;
  return r;
}
