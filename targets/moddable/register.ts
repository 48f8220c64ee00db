import RNG from "rng";
import { register as registerCore } from "../../src/register";
import { provisioned } from "../../src/provision";
import { hex } from "../../src/bytes";
import { Callback, Client, Platform, RegisterOptions } from "../../src/types";
import { createClient as make, ModdableClientOptions, platform } from "./index";

export interface ModdableRegisterOptions extends RegisterOptions {
  /** Root certificate (DER) of the registration host. */
  certificate?: ArrayBuffer;
}

/** The client module's platform, with the TLS stack's random source. */
function withRandom(certificate?: ArrayBuffer): Platform {
  var p = platform(certificate);
  p.random = function () {
    return hex(new Uint8Array(RNG.get(8)));
  };
  return p;
}

/**
 * Registers the device and calls back with its deviceSecret (hmacsha256 by default). The caller
 * keeps the secret: the service does not give it again once the device is active.
 */
export function register(options: ModdableRegisterOptions, cb: Callback<string>) {
  registerCore(options, withRandom(options && options.certificate), cb);
}

/**
 * The client of "aliyun-iot-http", for a device flashed with its product's secret: it registers
 * once, keeps the deviceSecret in Preference (domain "aliyun", key "secret"), and from then on
 * uses it. Given a deviceSecret, it is that module's client as it is.
 */
export function createClient(options: ModdableClientOptions): Client {
  return options && options.productSecret != null && options.deviceSecret == null ? provisioned(options, withRandom(options.certificate), make) : make(options);
}
