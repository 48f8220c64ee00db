// Sizes: minified and gzip -9 bytes of our bundles, of our hash code alone, and of the hash
// libraries minified the same way (libraries.mjs).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { rollup } from 'rollup';
import { minify } from 'terser';
import ts from 'typescript';
import { BUNDLES, LIBRARIES, SIZE_ONLY, TERSER, minifiedText, read, root, shippedText } from './libraries.mjs';

// An earlier measurement of the same libraries (the engine notes' table), for comparison.
const ENGINES_MD = { 'js-sha1': 8332, 'js-md5': 9865, 'blueimp-md5': 4588, 'crypto-js SHA-1 + HMAC': 7276, 'crypto-js MD5 + SHA-1': 10636 };

// src/hash (md5, sha1, hmac) alone, bundled, compiled to ES5 and minified like the libraries.
async function hashCode() {
  const entry = '\0bench-hash-entry';
  const bundle = await rollup({
    input: entry,
    plugins: [
      {
        name: 'hash-entry',
        resolveId: (id, from) => (id === entry ? id : from && id.startsWith('.') ? join(from === entry ? root : join(from, '..'), id.endsWith('.ts') ? id : id + '.ts') : null),
        load: (id) => (id === entry ? "export { md5 } from './src/hash/md5';\nexport { sha1 } from './src/hash/sha1';\nexport { hmac } from './src/hash/hmac';" : null),
        transform: (code, id) => (id.endsWith('.ts') ? ts.transpileModule(code, { compilerOptions: { target: ts.ScriptTarget.ES5, module: ts.ModuleKind.ESNext } }).outputText : null),
      },
    ],
  });
  const { output } = await bundle.generate({ format: 'es' });
  return (await minify(output[0].code, { ...TERSER, module: true, toplevel: true })).code;
}

export async function sizes() {
  const row = (name, what, text, extra = {}) => ({ name, what, min: Buffer.byteLength(text), gzip: gzipSync(text, { level: 9 }).length, ...extra });
  const node = readFileSync(join(root, BUNDLES.node), 'utf8');
  const rows = [
    row('ours: Espruino bundle', `${BUNDLES.espruino} (whole client and HMAC on the board's SHA-1, no MD5)`, read(BUNDLES.espruino)),
    row('ours: Espruino bundle + SHA-1 module', `the above + ${BUNDLES.espruinoSha1} (pure SHA-1, for a board without require("crypto"))`, read(BUNDLES.espruino) + read(BUNDLES.espruinoSha1)),
    row('ours: Espruino SHA-256 module', `${BUNDLES.espruinoSha256} (pure SHA-256)`, read(BUNDLES.espruinoSha256)),
    row('ours: Espruino registration module', `${BUNDLES.espruinoRegister} (register, and a client that registers once and keeps its secret)`, read(BUNDLES.espruinoRegister)),
    row('ours: Espruino thing-model module', `${BUNDLES.espruinoThing} (properties, events, firmware version in Alink JSON)`, read(BUNDLES.espruinoThing)),
    row('ours: Espruino queue module', `${BUNDLES.espruinoQueue} (store and forward in Storage)`, read(BUNDLES.espruinoQueue)),
    row('ours: Moddable bundle', `${BUNDLES.moddable} (whole client and HMAC on crypt's Digest)`, read(BUNDLES.moddable)),
    row('ours: Moddable hashes module', `${BUNDLES.moddableHashes} (pure MD5, SHA-1 and SHA-256)`, read(BUNDLES.moddableHashes)),
    row('ours: Moddable registration module', `${BUNDLES.moddableRegister} (over the client module)`, read(BUNDLES.moddableRegister)),
    row('ours: Moddable thing-model module', `${BUNDLES.moddableThing}`, read(BUNDLES.moddableThing)),
    row('ours: Moddable queue module', `${BUNDLES.moddableQueue} (store and forward in Preference; the file system through aliyun-iot-http-queue-file)`, read(BUNDLES.moddableQueue)),
    row('ours: Node build', `${BUNDLES.node} through terser (${Buffer.byteLength(node).toLocaleString('en-US')} bytes as built)`, (await minify(node, { ecma: 2020, toplevel: true })).code),
    row('ours: hash code alone', 'src/hash: md5, sha1, hmac (ES5, terser)', await hashCode()),
  ];
  for (const lib of [...LIBRARIES, ...SIZE_ONLY]) {
    const text = await minifiedText(lib), shipped = shippedText(lib);
    const what = lib.files ? lib.files.join(' + ') + ' (terser)' : `${lib.shipped} (shipped)`;
    rows.push(row(lib.name, what, text, { shipped: lib.files && shipped ? Buffer.byteLength(shipped) : null, enginesMd: ENGINES_MD[lib.name] || null }));
  }
  return rows;
}
