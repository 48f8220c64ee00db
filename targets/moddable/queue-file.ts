import { File, Iterator } from "file";
import { QueueFiles } from "../../src/log";
import { fromBuffer, toBuffer } from "./queue";

/**
 * Queue files in a folder of the board's file system (`root` ends with "/", as config.file.root
 * does). Each write opens the file, writes at its offset and closes it, so that it is on flash
 * when it returns.
 */
export function fileFiles(root: string): QueueFiles {
  return {
    list: function () {
      var out: string[] = [], it = new Iterator(root), item;
      while ((item = it.next())) if (item.length !== undefined) out.push(item.name);
      return out;
    },
    read: function (name, offset, length) {
      var f, n;
      try {
        f = new File(root + name);
      } catch (x) {
        return "";
      }
      try {
        n = Math.min(length, f.length - offset);
        if (n <= 0) return "";
        f.position = offset;
        return fromBuffer(f.read(ArrayBuffer, n));
      } finally {
        f.close();
      }
    },
    write: function (name, data, offset, size) {
      var f;
      if (size !== undefined && File.exists(root + name)) File.delete(root + name);
      f = new File(root + name, true);
      try {
        f.position = offset;
        f.write(toBuffer(data));
      } finally {
        f.close();
      }
    },
    erase: function (name) {
      File.delete(root + name);
    },
  };
}
