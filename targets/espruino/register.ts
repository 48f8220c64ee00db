import { register as registerCore } from "../../src/register";
import { provisioned } from "../../src/provision";
import { Callback, Client, Platform, RegisterOptions } from "../../src/types";
import { Hash } from "../../src/hash/md";
import { boardHash, flash, transport } from "./platform";
import { EspruinoOptions } from "./index";

declare function require(name: string): any;
declare var E: any;

export interface EspruinoRegisterOptions extends RegisterOptions {
  sha1?: Hash;
  sha256?: Hash;
}

/** 32 random bits of the board's hardware source, as hex. */
function random32() {
  return (E.hwRand() >>> 0).toString(16);
}

function platform(o: EspruinoRegisterOptions | EspruinoOptions): Platform {
  return {
    encode: E.toUint8Array,
    hashes: { hmacsha1: (o && o.sha1) || boardHash("SHA1"), hmacsha256: (o && o.sha256) || boardHash("SHA256") },
    transport: transport,
    storage: flash,
    random: function () {
      return random32() + random32();
    },
  } as any as Platform; // registration reads no token: no unbase64
}

/**
 * Registers the device and calls back with its deviceSecret, signed with hmacsha256 where the
 * firmware has SHA-256, else hmacsha1. The caller keeps the secret: it is not given again.
 */
export function register(options: EspruinoRegisterOptions, cb: Callback<string>) {
  registerCore(options, platform(options), cb);
}

/**
 * The client of require("aliyun-iot-http"), for a board flashed with its product's secret: it
 * registers once, keeps the deviceSecret in Storage ("aliyun.secret"), and from then on uses it.
 * Given a deviceSecret, it is that module's client as it is.
 */
export function createClient(options: EspruinoOptions): Client {
  var make = require("aliyun-iot-http").createClient;
  return options && options.productSecret != null && options.deviceSecret == null ? provisioned(options, platform(options), make) : make(options);
}
