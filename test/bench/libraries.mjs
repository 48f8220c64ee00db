// What is measured: our bundles and the hash libraries people would use instead, as the text an
// engine is given (minified) and how an HMAC is called on each (an ES5 expression over L, the
// loaded library, K the key and M the message, both strings, giving lowercase hex).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as acorn from 'acorn';
import { minify } from 'terser';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const read = (path) => readFileSync(join(root, path), 'utf8');
const mod = (path) => read(join('node_modules', path));

export const BUNDLES = {
  espruino: 'build/espruino/aliyun-iot-http.min.js',
  espruinoSha1: 'build/espruino/aliyun-iot-http-sha1.min.js',
  espruinoSha256: 'build/espruino/aliyun-iot-http-sha256.min.js',
  espruinoRegister: 'build/espruino/aliyun-iot-http-register.min.js',
  espruinoThing: 'build/espruino/aliyun-iot-http-thing.min.js',
  espruinoQueue: 'build/espruino/aliyun-iot-http-queue.min.js',
  moddableRegister: 'build/moddable/aliyun-iot-http-register.js',
  moddableThing: 'build/moddable/aliyun-iot-http-thing.js',
  moddableQueue: 'build/moddable/aliyun-iot-http-queue.js',
  moddable: 'build/moddable/aliyun-iot-http.js',
  moddableHashes: 'build/moddable/aliyun-iot-http-hashes.js',
  node: 'build/node/index.cjs',
};

// Libraries minified the way our device bundles are: their sources together through terser,
// ecma 5, with compress.sequences off (with terser's defaults js-sha1 and js-md5 compute wrong
// on Espruino: the comma-group bug of engines.md); blueimp-md5 as its own min file. `wrap`: how
// the text finds its exports (module: a CommonJS `module` object; global: UMD falling back to
// `this.CryptoJS`).
const CJS = (...names) => ['core', ...names].map((n) => `crypto-js/${n}.js`);
export const LIBRARIES = [
  { name: 'js-sha1', files: ['js-sha1/src/sha1.js'], shipped: 'js-sha1/build/sha1.min.js', wrap: 'module', hmac: { sha1: 'L.hmac(K, M)' } },
  { name: 'js-md5', files: ['js-md5/src/md5.js'], shipped: 'js-md5/build/md5.min.js', wrap: 'module', hmac: { md5: 'L.hmac(K, M)' } },
  { name: 'crypto-js', files: CJS('md5', 'sha1', 'hmac'), wrap: 'global', hmac: { sha1: 'L.HmacSHA1(M, K).toString()', md5: 'L.HmacMD5(M, K).toString()' } },
  { name: 'blueimp-md5', shipped: 'blueimp-md5/js/md5.min.js', wrap: 'module', hmac: { md5: 'L(M, K)' } },
];

// Size-only rows: other crypto-js combinations (engines.md compares against MD5 + SHA-1).
export const SIZE_ONLY = [
  { name: 'crypto-js MD5 + SHA-1', files: CJS('md5', 'sha1') },
  { name: 'crypto-js SHA-1 + HMAC', files: CJS('sha1', 'hmac') },
  { name: 'crypto-js MD5 + HMAC', files: CJS('md5', 'hmac') },
];

export const TERSER = { ecma: 5, compress: { sequences: false } };
const noMap = (code) => code.replace(/\n?\/\/# sourceMappingURL=\S*\s*$/, ''); // xst tries to load the map

const minified = new Map();
export async function minifiedText(lib) {
  if (!lib.files) return noMap(mod(lib.shipped));
  const key = lib.files.join();
  if (!minified.has(key)) minified.set(key, (await minify(lib.files.map(mod).join('\n'), TERSER)).code);
  return minified.get(key);
}

export const shippedText = (lib) => (lib.shipped ? noMap(mod(lib.shipped)) : null);

/** ES5 statements that set `L` to the library's exports. */
export async function libraryLoader(lib) {
  const code = await minifiedText(lib);
  if (lib.wrap === 'global') return `L = (function () {\nvar exports, module, define;\n${code}\n;return this.CryptoJS;\n}).call({});`;
  return `L = (function () {\nvar module = { exports: {} }, exports = module.exports;\n${code}\n;return module.exports;\n})();`;
}

// A Moddable module as a script, as test/engines.test.mjs does it: import declarations cut
// and their names bound to the stand-in modules of test/engine/moddable-env.js (MOD.modules),
// the final `export {a as b}` turned into a returned object, the body in a strict function,
// assigned to `name`.
export function moddableLoader(path = BUNDLES.moddable, name = 'L') {
  const text = read(path);
  const ast = acorn.parse(text, { ecmaVersion: 'latest', sourceType: 'module' });
  const vars = [], out = [];
  let body = text;
  for (const node of [...ast.body].reverse()) {
    if (node.type === 'ImportDeclaration') {
      for (const s of node.specifiers) {
        const name = s.type === 'ImportDefaultSpecifier' ? 'default' : s.imported.name;
        vars.push(`var ${s.local.name} = MOD.modules[${JSON.stringify(node.source.value)}][${JSON.stringify(name)}];`);
      }
    } else if (node.type === 'ExportNamedDeclaration') {
      if (node.declaration || node.source) throw new Error('moddable bundle: only "export {a as b}" is converted');
      for (const s of node.specifiers) out.push(`${JSON.stringify(s.exported.name)}: ${s.local.name}`);
    } else continue;
    body = body.slice(0, node.start) + ' '.repeat(node.end - node.start) + body.slice(node.end);
  }
  return `${name} = (function () {\n"use strict";\n${vars.join('\n')}\n${body}\nreturn { ${out.join(', ')} };\n})();`;
}
