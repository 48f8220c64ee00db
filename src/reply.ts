/** A service reply: `{code, message, info}`, with `info.messageId` as exact decimal digits. */
export interface Reply {
  code: number;
  message?: string;
  info?: { token?: unknown; messageId?: unknown; data?: unknown };
  messageId?: string;
}

/** Parses a reply text; undefined when it is not the JSON object the service sends. */
export function parseReply(text: string): Reply | undefined {
  var r, id;
  try {
    r = JSON.parse(text);
  } catch (e) {
    return;
  }
  if (!r || typeof r.code != "number") return;
  id = r.info && r.info.messageId;
  if (id != null) {
    // JSON.parse rounds integers above 2^53 (and Espruino's wraps above 2^63): take the digits
    // as printed. Inside a JSON string a quote is escaped, so this finds the key, not a value.
    // No `?` or `\s*:` in the pattern: Espruino's regular expressions fail on them silently.
    r.messageId = (text.match(/"messageId"[\s:]*([-\d]+)/) || [0, "" + id])[1];
  }
  return r;
}
