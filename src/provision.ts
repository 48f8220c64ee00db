import { error } from "./errors";
import { hostName, parseEndpoint } from "./check";
import { option } from "./options";
import { register, validSecret } from "./register";
import { Callback, Client, ClientOptions, Platform, Storage } from "./types";

declare var setTimeout: (fn: () => void, ms: number) => unknown;

var SECRET_KEY = "secret";

/**
 * A client for a device flashed with its product's productSecret only. The first time it needs
 * a token it takes its deviceSecret from storage, or registers (`enroll`) and stores the secret,
 * read back to be sure it is kept, before anything uses it: a power cut at any moment cannot
 * leave an activated device without its secret. A secret that cannot be stored is not used (the
 * device stays inactive, so it may register again). From then on it is `make`'s client with
 * that deviceSecret. The stored secret names the device and the registration host: one stored
 * for another is not used.
 */
export function provisioned(o: ClientOptions, p: Platform, make: (o: ClientOptions) => Client): Client {
  var client: Client | null = null, waiting: any[][] | null = null;
  var storage = o.storage || (p.storage as Storage);
  var later = p.setTimeout || setTimeout;
  var endpoint: string = option(o, "registerEndpoint", "https://iot-auth." + option(o, "region", "cn-shanghai", hostName) + ".aliyuncs.com", parseEndpoint);
  var owner = o.productKey + "/" + o.deviceName + "@" + parseEndpoint(endpoint);
  var registration = { productKey: o.productKey, deviceName: o.deviceName, productSecret: option(o, "productSecret", ""), endpoint: endpoint, timeout: o.timeout, retries: o.retries, backoff: o.backoff, transport: o.transport };
  function options(secret: string) {
    var copy: any = {}, k;
    for (k in o) copy[k] = (o as any)[k];
    copy.deviceSecret = secret;
    copy.storage = storage;
    return copy;
  }
  function stored(): string | undefined {
    var r;
    try {
      r = JSON.parse(storage.getItem(SECRET_KEY) as string);
    } catch (x) {}
    return r && r[0] === owner && validSecret(r[1]) ? r[1] : undefined;
  }
  /** Runs `use` with the client once there is one; `cb` gets the error when there is none. */
  function ready(use: (c: Client) => void, cb: Callback<any>) {
    var s;
    if (typeof cb != "function") throw error("EINVAL", "bad callback");
    if (client) return use(client);
    if (waiting) return void waiting.push([use, cb]);
    waiting = [[use, cb]];
    if ((s = stored())) return done(null, s);
    try {
      register(registration, p, function (err, s) {
        var rec = JSON.stringify([owner, s]);
        if (!err)
          try {
            storage.setItem(SECRET_KEY, rec);
            if (storage.getItem(SECRET_KEY) !== rec) throw 0;
          } catch (x) {
            err = error("ESTORAGE", "registered, but the deviceSecret could not be stored, so it is not used");
          }
        done(err, s);
      });
    } catch (x) {
      done(x); // a random source or hash that throws
    }
  }
  function done(err: any, s?: string) {
    var list = waiting as any[][];
    waiting = null;
    if (!err) client = make(options(s as string));
    list.forEach(function (w) {
      later(function () {
        err ? w[1](err) : w[0](client);
      }, 0);
    });
  }
  make(options("-")); // checks the options now, as a client with a deviceSecret does
  return {
    publish: function (topic, payload, cb) {
      ready(function (c) {
        c.publish(topic, payload, cb);
      }, cb);
    },
    auth: function (cb) {
      ready(function (c) {
        c.auth(cb);
      }, cb);
    },
  };
}
