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
      `import { createClient, PublishResult, ClientError } from ${JSON.stringify(types)};
const c = createClient({ productKey: 'p', deviceName: 'd', deviceSecret: 's', region: 'cn-shanghai' });
const p: Promise<PublishResult> = c.publish('/p/d/user/x', new Uint8Array(2));
c.publish('/p/d/user/x', 'text', (err: ClientError | null, r?: PublishResult) => { if (r) r.messageId.toUpperCase(); });
c.close();
// @ts-expect-error the payload must be a string, Uint8Array or ArrayBuffer
c.publish('/p/d/user/x', 42);
export { p };
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
