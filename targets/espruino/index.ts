import { createClient as createCoreClient } from "../../src/client";
import { ClientOptions } from "../../src/types";
import { boardHash, flash, transport } from "./platform";
import { Hash } from "../../src/hash/md";
import { error } from "../../src/errors";

declare var E: any;
declare function atob(s: string): string;

export interface EspruinoOptions extends ClientOptions {
  /** SHA-1 for a board without require("crypto"): require("aliyun-iot-http-sha1").sha1 */
  sha1?: Hash;
  /** SHA-256 for signMethod "hmacsha256" on a firmware without require("crypto").SHA256: require("aliyun-iot-http-sha256").sha256 */
  sha256?: Hash;
}

/**
 * A client on the board's http, Storage and crypto modules. Strings are sent as their own
 * bytes: Espruino strings are 8-bit, and text typed in the IDE is already UTF-8.
 * It signs with hmacsha1, or hmacsha256 where the firmware has SHA-256 (or `sha256` is given);
 * not hmacmd5: boards lack MD5, and it would cost 600 bytes.
 */
export function createClient(options: EspruinoOptions) {
  var sha1 = (options && options.sha1) || boardHash("SHA1");
  if (typeof sha1 != "function") throw error("EINVAL", "bad option sha1"); // no require("crypto") here
  return createCoreClient(options, {
    encode: E.toUint8Array, // a static native: works unbound
    unbase64: function (s) {
      return atob(s.replace(/-/g, "+").replace(/_/g, "/")); // atob reads - and _ as 0
    },
    transport: transport,
    storage: flash,
    hashes: { hmacsha1: sha1, hmacsha256: (options && options.sha256) || boardHash("SHA256") },
  });
}

export { hmac } from "../../src/hash/hmac";
export { hex } from "../../src/bytes";
