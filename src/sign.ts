import { hex, utf8 } from "./bytes";
import { hmac } from "./hash/hmac";
import { md5 } from "./hash/md5";
import { sha1 } from "./hash/sha1";
import { sha256 } from "./hash/sha256";
import { error } from "./errors";
import { Hash } from "./hash/md";

/**
 * The text an auth sign covers: every parameter sent except version, sign and signmethod,
 * sorted by name, each name followed by its value, with no separator.
 */
export function signText(params: { [name: string]: string }): string {
  var names = Object.keys(params).sort(), text = "", i, k;
  for (i = 0; i < names.length; i++) {
    k = names[i];
    if (k != "version" && k != "sign" && k != "signmethod") text += k + params[k];
  }
  return text;
}

/**
 * The auth sign for `signMethod` "hmacsha1", "hmacmd5" or "hmacsha256": hex HMAC of the sign
 * text, keyed by the device secret. Any other method throws EINVAL.
 */
export function sign(params: { [name: string]: string }, deviceSecret: string, signMethod: string): string {
  var hash = signMethod == "hmacmd5" ? md5 : signMethod == "hmacsha1" ? sha1 : signMethod == "hmacsha256" ? sha256 : 0;
  if (!hash) throw error("EINVAL", "bad signMethod " + signMethod);
  return hex(hmac(hash as Hash, utf8(deviceSecret), utf8(signText(params))));
}
