import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Storage } from '../../src/types';
import type { LogEvent } from './transport';

export interface FileStorageOptions {
  /** Folder of the token files; default ~/.aliyun-iot-http. */
  dir?: string;
  /** File name without extension, e.g. `<productKey>.<deviceName>`. */
  name: string;
}

/** O_NOFOLLOW where the system has it (not on Windows). */
const NOFOLLOW = fs.constants.O_NOFOLLOW || 0;

/** A regular file's text; a symbolic link is not followed, nor anything else read (it throws). */
function readNoFollow(file: string): string {
  // non-blocking: a FIFO someone left at the path must not hang the process
  const fd = fs.openSync(file, fs.constants.O_RDONLY | NOFOLLOW | (fs.constants.O_NONBLOCK || 0));
  try {
    if (!fs.fstatSync(fd).isFile()) throw new Error('not a file');
    return fs.readFileSync(fd, 'utf8');
  } finally {
    fs.closeSync(fd);
  }
}

/** fsync of a folder, where the system allows it (Windows does not). */
export function syncFolder(dir: string) {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // the rename is done; only its durability across a power cut is less certain here
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

export function defaultDir(): string {
  return path.join(os.homedir(), '.aliyun-iot-http');
}

/**
 * One JSON file of key/value pairs, readable by its owner only (0600), replaced atomically
 * (temporary file, then rename) so that a power cut leaves the old file or the new one.
 * A missing, corrupt or unreadable file, or a symbolic link, reads as empty.
 */
export function fileStorage(options: FileStorageOptions): Storage & { file: string } {
  const dir = options.dir || defaultDir();
  const file = path.join(dir, encodeURIComponent(options.name).replace(/^\.+/, '_') + '.json');
  let data: Record<string, string> | undefined;

  function read(): Record<string, string> {
    if (!data) {
      try {
        const parsed = JSON.parse(readNoFollow(file));
        data = parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? parsed : {};
      } catch {
        data = {};
      }
    }
    return data as Record<string, string>;
  }

  /**
   * A new file of a random name, created exclusively with mode 0600 (never an existing file
   * or a link, whoever else can write to the folder), synced, then renamed over the old one;
   * the folder is synced too, so that the rename itself survives a power cut.
   */
  function write() {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const tmp = path.join(dir, '.' + path.basename(file) + '.' + randomBytes(8).toString('hex') + '.tmp');
    const fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | NOFOLLOW, 0o600);
    try {
      try {
        fs.writeFileSync(fd, JSON.stringify(data)); // all of it, or a throw (a full disk)
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      fs.renameSync(tmp, file);
    } catch (e) {
      fs.rmSync(tmp, { force: true });
      throw e;
    }
    syncFolder(dir);
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

/** Why a write failed, for a log: the error's code (`EACCES`, `ENOSPC`, ...), else its message without the value written. */
function why(e: any, value: string): string {
  if (e && typeof e.code === 'string') return e.code;
  const text = String((e && e.message) || e).slice(0, 200);
  let record: unknown;
  try {
    record = JSON.parse(value);
  } catch {
    record = [value];
  }
  // the record holds the token or the secret: a storage's message must not carry it to a log
  const pieces = (Array.isArray(record) ? record : [record]).filter((p) => typeof p === 'string' && p.length > 3);
  return pieces.some((p) => text.includes(p) || (p.length > 20 && text.includes(p.slice(0, 20)))) ? 'write failed' : text;
}

/**
 * A storage that tells `emit` when the client writes its token record (`token-write`, with its
 * expiry) or a registered secret (`secret-write`), whether the write succeeded, never what was
 * written; and `held()` when a token is read. Reads and writes themselves are unchanged.
 */
export function watchStorage(inner: Storage, emit: (event: LogEvent) => void, held: () => void): Storage {
  const watched: Storage = {
    getItem(key) {
      const v = inner.getItem(key);
      if (key === 'token' && v) held();
      return v;
    },
    setItem(key, value) {
      const type = key === 'token' ? 'token-write' : key === 'secret' ? 'secret-write' : undefined;
      if (!type) return inner.setItem(key, value);
      try {
        inner.setItem(key, value);
      } catch (e) {
        emit({ type, stored: false, error: why(e, value) });
        throw e;
      }
      if (type === 'secret-write') return emit({ type, stored: true });
      let expire = 0;
      try {
        expire = +JSON.parse(value)[2] || 0; // [owner, token, expire]
      } catch {
        // a record of another shape: expiry not known
      }
      emit({ type, stored: true, expire });
    },
  };
  if (typeof inner.removeItem === 'function') watched.removeItem = (key) => (inner.removeItem as (key: string) => void)(key);
  return watched;
}
