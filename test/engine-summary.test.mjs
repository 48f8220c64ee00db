// The line that ends `npm test`: which engine suites were skipped and what enables each. Run
// through mocha itself in a child process (the repository's .mocharc.json with a one-test spec)
// with a cleared environment, and its choice checked against each variable.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { ENGINE_SUITES, skippedSuites, summaryLine } from './engine-summary.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const mocha = join(root, 'node_modules', 'mocha', 'bin', 'mocha.js');

describe('the skipped engine suites line at the end of npm test', function () {
  let dir;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'aliyun-summary-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** An executable file `name` in `folder`. */
  const tool = (folder, name) => {
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, name), '#!/bin/sh\n');
    chmodSync(join(folder, name), 0o755);
  };

  it('is printed last by mocha with the repository configuration, naming every suite and its variable', () => {
    const config = JSON.parse(readFileSync(join(root, '.mocharc.json'), 'utf8'));
    expect(config.require).to.include('test/engine-summary.mjs');
    writeFileSync(join(dir, 'tiny.spec.mjs'), "it('runs', () => {});\n");
    writeFileSync(join(dir, 'mocharc.json'), JSON.stringify({ ...config, spec: [join(dir, 'tiny.spec.mjs')] }));
    const r = spawnSync(process.execPath, [mocha, '--config', join(dir, 'mocharc.json')], { cwd: root, env: { PATH: join(dir, 'empty'), HOME: dir }, encoding: 'utf8', timeout: 60000 });
    expect(r.status, r.stderr).to.equal(0);
    const lines = r.stdout.trim().split('\n');
    expect(r.stdout).to.match(/1 passing/);
    const last = lines[lines.length - 1];
    expect(last).to.match(/^Engine suites skipped: Duktape \(apt-get install duktape\); MuJS \(apt-get install mujs\); Espruino \(/);
    for (const word of ['ESPRUINO_BIN', 'ESPRUINO_5100_BIN', 'XST_BIN', 'MODDABLE', 'Xvfb', 'Moddable simulator', 'README.md']) expect(last).to.include(word);
  });

  it('leaves out each suite its variable or tool enables, and says when all ran', () => {
    const names = (env) => skippedSuites(env).map((s) => s.name);
    const bin = join(dir, 'bin');
    expect(names({ PATH: '' })).to.deep.equal(ENGINE_SUITES.map((s) => s.name));
    tool(bin, 'duk');
    expect(names({ PATH: bin })).to.not.include('Duktape');
    tool(bin, 'mujs');
    expect(names({ PATH: bin, ESPRUINO_BIN: '/x/espruino', XST_BIN: '/x/xst' })).to.deep.equal(['Espruino on 5,100 variables', 'Moddable simulator']);
    // MODDABLE alone is not enough: the simulator suite needs its tools built and Xvfb
    const sdk = join(dir, 'moddable'), tools = join(sdk, 'build', 'bin', 'lin', 'release');
    const all = { PATH: bin, ESPRUINO_BIN: 'e', ESPRUINO_5100_BIN: 'e5', XST_BIN: 'x', MODDABLE: sdk };
    expect(names(all)).to.deep.equal(['Moddable simulator']);
    tool(tools, 'mcsim');
    tool(tools, 'mcconfig');
    expect(names(all)).to.deep.equal(['Moddable simulator']);
    tool(bin, 'Xvfb');
    expect(names(all)).to.deep.equal([]);
    expect(summaryLine(skippedSuites(all))).to.equal('All engine suites ran: Duktape, MuJS, Espruino, Espruino on 5,100 variables, XS, Moddable simulator.');
    expect(summaryLine(skippedSuites({ ...all, XST_BIN: '' }))).to.equal('Engine suites skipped: XS (set XST_BIN to Moddable\'s xst). See "Set-up" in README.md.');
  });
});
