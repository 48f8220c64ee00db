// The README's Node part against the package: every export of the Node entry is documented in
// the API section, the first example is a CommonJS program as written, and the emulator example
// runs as written without touching the user's token folder.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import { expect } from 'chai';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const readme = readFileSync(join(root, 'README.md'), 'utf8');

/** The text of a section, from its heading to the next heading of the same level or above. */
function section(heading) {
  const level = heading.match(/^#+/)[0].length;
  const start = readme.indexOf(`\n${heading}\n`);
  expect(start, heading).to.be.above(-1);
  const rest = readme.slice(start + heading.length + 2);
  const end = rest.search(new RegExp(`\\n#{1,${level}} `));
  return end < 0 ? rest : rest.slice(0, end);
}

/** The first ```js block of a section. */
function firstJs(heading) {
  const m = /```js\n([\s\S]*?)```/.exec(section(heading));
  expect(m, heading).to.not.equal(null);
  return m[1];
}

describe('README: the Node part', function () {
  it('documents every export of the Node entry in the API section', () => {
    const api = section('## API');
    const exported = Object.keys(require('../build/node/index.cjs'));
    expect(exported.length).to.be.above(15);
    expect(exported.filter((name) => !new RegExp('`' + name + '[(`]').test(api))).to.deep.equal([]);
  });

  it('the first example is a CommonJS program: no top-level await', () => {
    const code = firstJs('## Node');
    expect(code).to.match(/require\('aliyun-iot-http'\)/);
    expect(() => new vm.Script(code, { filename: 'first-example.cjs' })).to.not.throw();
  });

  it('the emulator example runs as written, and leaves the home folder alone', function () {
    this.timeout(30000);
    const code = firstJs('### The emulator');
    // inside the checkout (its ignored .tmp), so that require('aliyun-iot-http') finds this package
    const work = join(root, '.tmp');
    mkdirSync(work, { recursive: true });
    const dir = mkdtempSync(join(work, 'readme-'));
    const home = mkdtempSync(join(tmpdir(), 'aliyun-readme-home-'));
    try {
      writeFileSync(join(dir, 'emulator-example.cjs'), code);
      const r = spawnSync(process.execPath, [join(dir, 'emulator-example.cjs')], { cwd: dir, env: { ...process.env, HOME: home, USERPROFILE: home }, encoding: 'utf8', timeout: 25000 });
      expect(r.status, r.stderr).to.equal(0);
      expect(r.stdout).to.match(/messageId: '\d+' } 1\n$/);
      expect(existsSync(join(home, '.aliyun-iot-http')), 'a token folder in the home folder').to.equal(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      rmSync(home, { recursive: true, force: true });
    }
  });
});
