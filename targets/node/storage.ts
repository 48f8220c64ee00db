import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Storage } from '../../src/types';

export interface FileStorageOptions {
  /** Folder of the token files; default ~/.aliyun-iot-http. */
  dir?: string;
  /** File name without extension, e.g. `<productKey>.<deviceName>`. */
  name: string;
}

export function defaultDir(): string {
  return path.join(os.homedir(), '.aliyun-iot-http');
}

/**
 * One JSON file of key/value pairs, readable by its owner only (0600), replaced atomically
 * (temporary file, then rename) so that a power cut leaves the old file or the new one.
 * A missing, corrupt or unreadable file reads as empty.
 */
export function fileStorage(options: FileStorageOptions): Storage & { file: string } {
  const dir = options.dir || defaultDir();
  const file = path.join(dir, encodeURIComponent(options.name).replace(/^\.+/, '_') + '.json');
  let data: Record<string, string> | undefined;

  function read(): Record<string, string> {
    if (!data) {
      try {
        const parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
        data = parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? parsed : {};
      } catch {
        data = {};
      }
    }
    return data as Record<string, string>;
  }

  function write() {
    const tmp = file + '.' + process.pid + '.tmp';
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    try {
      fs.writeFileSync(tmp, JSON.stringify(data), { mode: 0o600 });
      fs.renameSync(tmp, file);
    } catch (e) {
      fs.rmSync(tmp, { force: true });
      throw e;
    }
  }

  return {
    file,
    getItem(key) {
      const v = read()[key];
      return typeof v === 'string' ? v : null;
    },
    setItem(key, value) {
      read()[key] = String(value);
      write();
    },
    removeItem(key) {
      if (key in read()) {
        delete read()[key];
        write();
      }
    },
  };
}
