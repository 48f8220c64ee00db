import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const cli = fileURLToPath(new URL('../build/node/cli.cjs', import.meta.url));

describe('demo command (npm start)', () => {
  it('runs a device through the emulator and exits 0', () => {
    const env = { ...process.env };
    for (const k of ['ALIYUN_PRODUCT_KEY', 'ALIYUN_DEVICE_NAME', 'ALIYUN_DEVICE_SECRET']) delete env[k];
    const r = spawnSync(process.execPath, [cli, 'demo'], { env, encoding: 'utf8', timeout: 30000 });
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/reused the stored token.*\/auth calls so far: 1\)/);
    expect(r.stdout).to.match(/authenticated again and resent.*\/auth calls so far: 2\)/);
    expect(r.stdout).to.include('each once: true');
    expect(r.stdout).to.not.include('demo-secret-not-real');
  });
  it('explains its usage for an unknown command and exits 1', () => {
    const r = spawnSync(process.execPath, [cli, 'nonsense'], { encoding: 'utf8', timeout: 10000 });
    expect(r.status).to.equal(1);
    expect(r.stderr).to.include('Usage');
  });
});
