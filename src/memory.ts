import { Storage } from "./types";

/** A storage that keeps values in memory only: tokens last until the program stops. */
export function memoryStorage(): Storage {
  var m: { [key: string]: string } = {};
  return {
    getItem: function (k) {
      return m["$" + k];
    },
    setItem: function (k, v) {
      m["$" + k] = v;
    },
    removeItem: function (k) {
      delete m["$" + k];
    },
  };
}
