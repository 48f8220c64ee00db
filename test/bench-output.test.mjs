// `npm run bench` prints its results and leaves the tracked test/bench/RESULTS.md alone unless
// asked (--write, or --out FILE elsewhere); an argument it does not know stops it before it
// measures anything.
import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { resultsFile } from './bench/output.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

describe('npm run bench: where the results go', () => {
  it('prints only by default; --write names RESULTS.md, --out another file', () => {
    expect(resultsFile([], root)).to.equal(null);
    expect(resultsFile(['--write'], root)).to.equal(join(root, 'test', 'bench', 'RESULTS.md'));
    expect(resultsFile(['--out', 'bench.md'], root)).to.equal(resolve('bench.md'));
    expect(resultsFile(['--out=/tmp/bench.md'], root)).to.equal('/tmp/bench.md');
    for (const bad of [['--wirte'], ['--out'], ['RESULTS.md']]) expect(() => resultsFile(bad, root), bad.join(' ')).to.throw(/unknown argument .*usage: node test\/bench\/run.mjs/);
  });

  it('refuses an unknown argument at once, before measuring', () => {
    const r = spawnSync(process.execPath, [join(root, 'test', 'bench', 'run.mjs'), '--wirte'], { cwd: root, encoding: 'utf8', timeout: 30000 });
    expect(r.status).to.equal(2);
    expect(r.stderr).to.match(/unknown argument --wirte/);
    expect(r.stdout).to.equal('');
  });
});
