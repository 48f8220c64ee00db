import { createRequire } from 'node:module';
import { createHash } from 'node:crypto';
import { expect } from 'chai';
import * as esm from '../build/node/index.mjs';

const cjs = createRequire(import.meta.url)('../build/node/index.cjs');

describe('ES module entry', () => {
  it('exports the same API as the CommonJS entry', () => {
    expect(Object.keys(esm).sort()).to.deep.equal(Object.keys(cjs).filter((k) => k !== '__esModule').sort());
  });
  it('computes what node:crypto computes', () => {
    const m = new Uint8Array([1, 2, 3]);
    expect(esm.hex(esm.sha1(m))).to.equal(createHash('sha1').update(m).digest('hex'));
  });
  it('refuses bad options the same way', () => {
    expect(() => esm.createClient({})).to.throw(/bad option productKey/);
  });
});
