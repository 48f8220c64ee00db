import { Hash } from "./hash/md";
import { hex } from "./bytes";
import { error } from "./errors";
import { hmac } from "./hash/hmac";
import { hostName, parseEndpoint } from "./check";
import { option } from "./options";
import { requester } from "./request";
import { Callback, Platform, RegisterOptions } from "./types";

declare var setTimeout: (fn: () => void, ms: number) => unknown;
declare var clearTimeout: (id: any) => void;

/** A secret as the service issues it: printable ASCII, no space, that a storage keeps whole. */
export function validSecret(s: unknown): boolean {
  return typeof s == "string" && s.length < 257 && /^[!-~]+$/.test(s);
}

/**
 * Dynamic registration ("one secret per product"): the device's own deviceSecret, from its
 * product's productSecret. POST /auth/register/device, form-urlencoded; the sign is the hex
 * HMAC, keyed by the productSecret, of "deviceName" dn "productKey" pk "random" r (the
 * parameters sorted by name). Success is code 200 with data.deviceSecret. Once the device is
 * active (its first /auth) the service answers 6289 and never gives the secret again.
 */
export function register(o: RegisterOptions, p: Platform, cb: Callback<string>): void {
  o = o || ({} as RegisterOptions);
  var productKey: string = option(o, "productKey", "");
  var deviceName: string = option(o, "deviceName", "");
  var secret: string = option(o, "productSecret", "");
  var method: string = option(o, "signMethod", (p.hashes as any).hmacsha256 ? "hmacsha256" : "hmacsha1", function (v) {
    return p.hashes[v];
  });
  var region: string = option(o, "region", "cn-shanghai", hostName);
  var hostPort = parseEndpoint(option(o, "endpoint", "https://iot-auth." + region + ".aliyuncs.com", parseEndpoint)) as [string, number];
  var random: string = option(o, "random", (p.random as () => string)(), function (v) {
    return v.length < 65 && /^[0-9A-Za-z]+$/.test(v);
  });
  var request = requester(option(o, "transport", p.transport), hostPort, option(o, "timeout", 10000, function (v) {
    return v > 0;
  }), option(o, "retries", 2, function (v) {
    return v % 1 == 0;
  }), option(o, "backoff", 1000), p.setTimeout || setTimeout, p.clearTimeout || clearTimeout);
  var body, sign;
  if (typeof cb != "function") throw error("EINVAL", "bad callback");
  sign = hex(hmac(p.hashes[method] as Hash, p.encode(secret), p.encode("deviceName" + deviceName + "productKey" + productKey + "random" + random)));
  body = "productKey=" + encodeURIComponent(productKey) + "&deviceName=" + encodeURIComponent(deviceName) + "&random=" + random + "&sign=" + sign + "&signMethod=" + method;
  request("/auth/register/device", "application/x-www-form-urlencoded", "", p.encode(body), function (err, reply) {
    var s = reply && (reply as any).data && (reply as any).data.deviceSecret;
    if (!err || err.code == 200) err = validSecret(s) ? null : error("EPROTO", "no deviceSecret");
    else if (err.code == 6289) err.message = "device already active: its deviceSecret was issued before and is not given again; restore the stored one, flash it with its deviceSecret, or reset the device in the IoT console";
    cb(err, s);
  });
}
