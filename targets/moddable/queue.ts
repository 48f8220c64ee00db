import Preference from "preference";
import Timer from "timer";
import { queue as queueCore, QueueOptions } from "../../src/queue";
import { QueueFiles } from "../../src/log";
import { utf8 } from "../../src/bytes";
import { error } from "../../src/errors";
import { Client } from "../../src/types";

var PIECE = 62; // ESP8266 and Pico keep at most 63 bytes in a preference value

/** A byte string's bytes, as the ArrayBuffer that Preference and File write unchanged. */
export function toBuffer(s: string): ArrayBuffer {
  var b = new Uint8Array(s.length), i;
  for (i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
  return b.buffer;
}

export function fromBuffer(a: ArrayBuffer): string {
  var b = new Uint8Array(a), s = "", i;
  for (i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
  return s;
}

/**
 * Queue files in Preference, for a board with nothing else: what is written at an offset is
 * kept under the key `<file>:<offset in base 36>:<piece in base 36>`, in pieces of 62 bytes
 * (so at most 2,232 bytes a write); the one-byte mark later written over a record's first byte
 * under `<file>:<offset>:-`. Keys of the default names stay within ESP32's 15 characters.
 */
export function preferenceFiles(domain?: string): QueueFiles {
  var d = domain || "aiq";
  function at(name: string, offset: number) {
    return name + ":" + offset.toString(36) + ":";
  }
  return {
    list: function () {
      var seen: { [name: string]: number } = {}, out: string[] = [];
      Preference.keys(d).forEach(function (k: string) {
        var n = k.split(":")[0];
        if (!seen[n]) out.push(n);
        seen[n] = 1;
      });
      return out;
    },
    read: function (name, offset, length) {
      var k = at(name, offset), s = "", i, v, m;
      for (i = 0; s.length < length && (v = Preference.get(d, k + i.toString(36))) instanceof ArrayBuffer; i++) s += fromBuffer(v);
      m = Preference.get(d, k + "-");
      if (s && m instanceof ArrayBuffer) s = fromBuffer(m) + s.slice(1);
      return s.slice(0, length);
    },
    write: function (name, data, offset) {
      var k = at(name, offset), i;
      if (Preference.get(d, k + "0") !== undefined) return Preference.set(d, k + "-", toBuffer(data.slice(0, 1)));
      if (data.length > 36 * PIECE) throw error("ETOOBIG", "over " + 36 * PIECE + " bytes for Preference");
      for (i = 0; i * PIECE < data.length; i++) Preference.set(d, k + i.toString(36), toBuffer(data.slice(i * PIECE, (i + 1) * PIECE)));
    },
    erase: function (name) {
      Preference.keys(d).forEach(function (k: string) {
        if (k.split(":")[0] == name) Preference.delete(d, k);
      });
    },
  };
}

/** Store and forward over a client; kept in Preference unless `files` says otherwise (see aliyun-iot-http-queue-file). */
export function queue(client: Client, options?: QueueOptions) {
  return queueCore(client, options as QueueOptions, {
    files: preferenceFiles(),
    encode: utf8,
    setTimeout: function (fn, ms) {
      return Timer.set(fn, ms);
    },
    clearTimeout: function (id) {
      if (id) Timer.clear(id);
    },
  });
}
