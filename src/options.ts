import { error } from "./errors";

/**
 * An option, or its fallback; the fallback's type is the option's type. A number must lie
 * between 0 and 2^31 - 1 (a timer's range); an empty string is refused. Throws EINVAL naming it.
 */
export function option(o: any, name: string, fallback: any, ok?: (v: any) => unknown): any {
  var v = o[name];
  if (v == null) v = fallback;
  // typeof first: Espruino finds a function > 2147483647
  if (typeof v != typeof fallback || v === "" || (typeof v == "number" && !(v >= 0 && v < 2147483648)) || (ok && !ok(v))) throw error("EINVAL", "bad option " + name);
  return v;
}
