import * as fs from 'node:fs';
import * as path from 'node:path';
import { queue as queueCore, Queue, QueueOptions, QueuedMessage, QueueStatus } from '../../src/queue';
import type { QueueFiles } from '../../src/log';
import type { ClientError } from '../../src/errors';
import type { Callback } from '../../src/types';
import { error } from '../../src/errors';
import { defaultDir, syncFolder } from './storage';

export type { QueueFiles, QueueOptions, QueuedMessage, QueueStatus };

export interface NodeQueueOptions extends QueueOptions {
  /** Folder of the queue's files when no `files` are given; default ~/.aliyun-iot-http/queue. One folder per queue. */
  dir?: string;
}

export interface NodeQueue extends Omit<Queue, 'flush'> {
  /** Sends now; resolves once the queue is empty, rejects with the error that stopped it. */
  flush(): Promise<void>;
  flush(callback: (err: ClientError | null) => void): void;
}

const NOFOLLOW = fs.constants.O_NOFOLLOW || 0;

/**
 * Queue files in a folder (0700; files 0600, never through a symbolic link). Every write is
 * synced before it returns, and a file's creation and removal sync the folder too.
 */
export function folderFiles(dir: string): QueueFiles {
  if (typeof dir !== 'string' || !dir) throw error('EINVAL', 'bad option dir');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = (name: string) => path.join(dir, name);
  return {
    list: () => fs.readdirSync(dir),
    read(name, offset, length) {
      let fd: number;
      try {
        fd = fs.openSync(file(name), fs.constants.O_RDONLY | NOFOLLOW);
      } catch {
        return '';
      }
      try {
        const buf = Buffer.alloc(length);
        return buf.toString('latin1', 0, fs.readSync(fd, buf, 0, length, offset));
      } finally {
        fs.closeSync(fd);
      }
    },
    write(name, data, offset, size) {
      const created = size !== undefined;
      const { O_WRONLY, O_CREAT, O_TRUNC } = fs.constants;
      const fd = fs.openSync(file(name), O_WRONLY | NOFOLLOW | (created ? O_CREAT | O_TRUNC : 0), 0o600);
      try {
        const buf = Buffer.from(data, 'latin1');
        fs.writeSync(fd, buf, 0, buf.length, offset); // a regular file takes it all or throws
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      if (created) syncFolder(dir);
    },
    erase(name) {
      fs.rmSync(file(name), { force: true });
      syncFolder(dir);
    },
  };
}

/**
 * Store and forward over a client: each message is written to a file (and synced) before
 * `publish` returns true, and sent, oldest first, until the service answers it.
 */
export function createQueue(client: { publish: (topic: string, payload: any, cb: Callback<any>) => void }, options?: NodeQueueOptions): NodeQueue {
  const o = options || {};
  if (o.dir != null && (typeof o.dir !== 'string' || !o.dir)) throw error('EINVAL', 'bad option dir');
  const files = o.files || folderFiles(o.dir || path.join(defaultDir(), 'queue'));
  const q = queueCore(client as any, o, {
    files,
    encode: (s) => Buffer.from(s, 'utf8'),
    setTimeout: (fn, ms) => setTimeout(fn, ms),
    clearTimeout: (id) => clearTimeout(id),
  });
  return {
    publish: q.publish,
    status: q.status,
    close: q.close,
    flush(cb?: (err: ClientError | null) => void) {
      if (cb) return q.flush(cb);
      return new Promise<void>((resolve, reject) => q.flush((err) => (err ? reject(err) : resolve())));
    },
  } as NodeQueue;
}
