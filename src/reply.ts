/** A service reply: `{code, message, info}`, with `info.messageId` as exact decimal digits. */
export interface Reply {
  code: number;
  message?: string;
  info?: { token?: unknown; messageId?: unknown; data?: unknown };
  messageId?: string;
}

/**
 * A JSON text with every number turned into a string of its digits as printed. JSON.parse
 * rounds integers above 2^53 (Espruino's wraps them above 2^63); parsing this text instead
 * keeps them exact, and lets JSON.parse itself find `info.messageId` (nesting, escaped keys,
 * the last of duplicate keys).
 */
function numbersAsText(text: string): string {
  var out = "", inString = false, inNumber = false, i, c, d;
  for (i = 0; i < text.length; i++) {
    c = text.charAt(i);
    if (inString) {
      if (c == "\\") c += text.charAt(++i);
      else if (c == '"') inString = false;
    } else if (c == '"') inString = true;
    else if ((d = "+.eE-0123456789".indexOf(c) >= (inNumber ? 0 : 4)) != inNumber) {
      // a number starts with - or a digit, and goes on with any of these
      out += '"';
      inNumber = d;
    }
    out += c;
  }
  return out;
}

/**
 * Parses a reply text; undefined when it is not the JSON object the service sends, or when its
 * `info.messageId` is not an integer (a number or a string of an optional "-" and digits).
 */
export function parseReply(text: string): Reply | undefined {
  var r, id;
  try {
    r = JSON.parse(text);
    if (!r || typeof r.code != "number") return;
    if (r.info && r.info.messageId != null) {
      id = JSON.parse(numbersAsText(text)).info.messageId; // a number is a string here; an array is not
      if (typeof id != "string" || !/^[0-9]+$/.test(id.charAt(0) == "-" ? id.slice(1) : id)) return; // no "-?": Espruino's regex lacks it
      r.messageId = id;
    }
  } catch (e) {
    return;
  }
  return r;
}
