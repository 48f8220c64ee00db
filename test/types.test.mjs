import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const root = resolve(fileURLToPath(import.meta.url), '../..');

describe('type declarations', () => {
  it('type-check a program written against the package entry', () => {
    const dir = mkdtempSync(join(tmpdir(), 'aliyun-types-'));
    const types = join(root, 'build/node/types/targets/node/index.d.ts').replace(/\.d\.ts$/, '');
    writeFileSync(
      join(dir, 'use.ts'),
      `import { createClient, createQueue, register, thing, float, PublishResult, ClientError, ErrorCode, SignMethod, QueuedMessage, QueueStatus, LogEvent } from ${JSON.stringify(types)};
const c = createClient({ productKey: 'p', deviceName: 'd', deviceSecret: 's', region: 'cn-shanghai' });
const p: Promise<PublishResult> = c.publish('/p/d/user/x', new Uint8Array(2));
c.publish('/p/d/user/x', 'text', (err: ClientError | null, r?: PublishResult) => { if (r) r.messageId.toUpperCase(); });
c.close();
const r = createClient({ productKey: 'p', deviceName: 'd', productSecret: 'ps', registerEndpoint: 'https://localhost:8443' });
const secret: Promise<string> = register({ productKey: 'p', deviceName: 'd', productSecret: 'ps', signMethod: 'hmacsha256' });
const t = thing(r, { productKey: 'p', deviceName: 'd' });
const q: Promise<PublishResult> = t.post({ temperature: float(21), power: { value: 'on', time: Date.now() } });
t.event('overheat', { level: 3 }, (err: ClientError | null) => void err);
t.version('1.0.0', 'mcu').then((x) => x.messageId);
// @ts-expect-error the payload must be a string, Uint8Array or ArrayBuffer
c.publish('/p/d/user/x', 42);
const m: SignMethod = 'hmacmd5';
createClient({ productKey: 'p', deviceName: 'd', deviceSecret: 's', signMethod: m });
// @ts-expect-error not a sign method the service accepts
createClient({ productKey: 'p', deviceName: 'd', deviceSecret: 's', signMethod: 'hmacsha512' });
c.publish('/p/d/user/x', 'x').catch((e: ClientError) => {
  const code: ErrorCode = e.code;
  if (typeof code === 'number') return code + 1;
  const known: 'EINVAL' | 'ETOOBIG' | 'ETIMEDOUT' | 'ENETWORK' | 'EHTTP' | 'EPROTO' | 'ESTORAGE' | 'EFULL' | 'ECORRUPT' = code;
  // @ts-expect-error not a code the library reports
  const other: typeof code = 'ECONNRESET';
  return known + other;
});
const queue = createQueue(c, { dir: '/tmp/q', maxBytes: 8192, full: 'refuse', report: (err: ClientError | null, m: QueuedMessage) => void (err ? m.payload : m.messageId) });
const accepted: boolean = queue.publish('/p/d/user/x', 'reading', (err, m) => void (m && m.accepted));
const flushed: Promise<void> = queue.flush();
const st: QueueStatus = queue.status();
// @ts-expect-error not a policy of the queue
createQueue(c, { full: 'drop-newest' });
queue.close();
const seen: string[] = [];
const logged = createClient({ productKey: 'p', deviceName: 'd', deviceSecret: 's', log: (e: LogEvent) => {
  if (e.type === 'retry') seen.push(e.path + e.attempt + e.code);
  else if (e.type === 'auth') seen.push(e.reason);
  else if (e.type === 'token-write') seen.push(e.stored ? String(e.expire) : String(e.error));
} });
// @ts-expect-error a log is a function
createClient({ productKey: 'p', deviceName: 'd', deviceSecret: 's', log: console });
// @ts-expect-error not an option of the client: refused at run time too
createClient({ productKey: 'p', deviceName: 'd', deviceSecret: 's', endpiont: 'https://h' });
register({ productKey: 'p', deviceName: 'd', productSecret: 'ps', log: (e: LogEvent) => void e.type });
logged.close();
export { p, secret, q, accepted, flushed, st };
`,
    );
    const tsc = join(root, 'node_modules/typescript/bin/tsc');
    try {
      execFileSync(process.execPath, [tsc, '--noEmit', '--strict', '--skipLibCheck', '--target', 'es2020', '--moduleResolution', 'node', '--types', 'node', '--typeRoots', join(root, 'node_modules/@types'), join(dir, 'use.ts')], { encoding: 'utf8' });
    } catch (e) {
      expect.fail(e.stdout + e.stderr);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
