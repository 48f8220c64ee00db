import Timer from "timer";
import { thing as thingCore, ThingOptions, Thing } from "../../src/thing";
import { Client } from "../../src/types";

export { float } from "../../src/thing";

/** Thing-model messages (Alink JSON) of one device, published through `client`. */
export function thing(client: Client, options: ThingOptions): Thing {
  return thingCore(client, options, function (fn, ms) {
    return Timer.set(fn, ms);
  });
}
