import { queue as queueCore, QueueOptions } from "../../src/queue";
import { QueueFiles } from "../../src/log";
import { error } from "../../src/errors";
import { Client } from "../../src/types";

declare function require(name: string): any;
declare var E: any;
declare var setTimeout: (fn: () => void, ms: number) => unknown;
declare var clearTimeout: (id: any) => void;

/**
 * The queue's files in Storage, written in place: a file is made with its full size, and each
 * record and mark is written into its erased (0xff) bytes, so nothing is ever rewritten.
 */
export var storageFiles: QueueFiles = {
  list: function () {
    return require("Storage").list();
  },
  read: function (name, offset, length) {
    return require("Storage").read(name, offset, length) || "";
  },
  write: function (name, data, offset, size) {
    if (!require("Storage").write(name, data, offset, size)) throw error("ESTORAGE", "Storage full");
  },
  erase: function (name) {
    require("Storage").erase(name);
  },
};

/** Store and forward over a client, kept in Storage (files "aiq1", "aiq2", ...). */
export function queue(client: Client, options?: QueueOptions) {
  return queueCore(client, options as QueueOptions, {
    files: storageFiles,
    encode: E.toUint8Array,
    setTimeout: setTimeout,
    clearTimeout: clearTimeout,
  });
}
