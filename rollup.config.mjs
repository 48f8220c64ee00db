import typescript from '@rollup/plugin-typescript';
import { minify } from 'terser';
import { builtinModules } from 'node:module';
import { copyFileSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';

// Terser as a plain output plugin. `sequences: false` is not optional for Espruino:
// comma groups skipped by `&&`/`?:` make its interpreter compute wrong results. The Moddable
// bundle (with MD5's 64 steps written out) keeps collapse_vars off: it would nest the steps
// into one expression 64 levels deep, past the parser's recursion limit on small engines.
function terser(options) {
  return {
    name: 'terser',
    async renderChunk(code) {
      const out = await minify(code, options);
      return { code: out.code, map: null };
    },
  };
}

const deviceTerser = (module) => ({
  ecma: 5,
  module,
  compress: { sequences: false, collapse_vars: !module, hoist_funs: true, passes: 3, unsafe_arrows: false, pure_getters: true },
  toplevel: true,
  mangle: { reserved: ['of', 'let', 'static', 'undefined', 'E'] }, // E: Espruino's global
  format: { ascii_only: true },
});

const ts = () => typescript({ tsconfig: './tsconfig.json', outputToFilesystem: false, noEmitOnError: true });
const nodeTs = () => typescript({ tsconfig: './tsconfig.node.json', outputToFilesystem: false, noEmitOnError: true });
const MODDABLE_SDK = ['http', 'securesocket', 'preference', 'timer', 'crypt', 'rng', 'file'];
const MODDABLE_QUEUE = resolve('targets/moddable/queue.ts');
const MODDABLE_CLIENT = resolve('targets/moddable/index.ts');
const node = builtinModules.flatMap((m) => [m, 'node:' + m]);

function copy(from, to) {
  return {
    name: 'copy',
    writeBundle() {
      mkdirSync(to.replace(/\/[^/]*$/, ''), { recursive: true });
      copyFileSync(from, to);
    },
  };
}

export default [
  {
    input: 'targets/node/index.ts',
    external: node,
    plugins: [nodeTs()],
    output: [
      { file: 'build/node/index.cjs', format: 'cjs', exports: 'named' },
      { file: 'build/node/index.mjs', format: 'es' },
    ],
  },
  {
    input: { emulator: 'targets/node/emulator.ts', cli: 'targets/node/cli.ts' },
    external: node,
    plugins: [nodeTs()],
    output: { dir: 'build/node', format: 'cjs', exports: 'named', entryFileNames: '[name].cjs', chunkFileNames: '[name].cjs', banner: (chunk) => (chunk.name === 'cli' ? '#!/usr/bin/env node' : '') },
  },
  // the emulator for `import` too (package.json "exports": "./emulator")
  {
    input: 'targets/node/emulator.ts',
    external: node,
    plugins: [nodeTs()],
    output: { file: 'build/node/emulator.mjs', format: 'es' },
  },
  ...['index', 'sha1', 'sha256', 'register', 'thing', 'queue'].map((name) => {
    const file = `build/espruino/aliyun-iot-http${name === 'index' ? '' : '-' + name}`;
    const cjs = { format: 'cjs', exports: 'named', esModule: false, strict: false, freeze: false };
    return {
      input: `targets/espruino/${name}.ts`,
      treeshake: { moduleSideEffects: false },
      plugins: [ts()],
      output: [
        { file: `${file}.js`, ...cjs },
        { file: `${file}.min.js`, ...cjs, plugins: [terser(deviceTerser(false))] },
      ],
    };
  }),
  {
    input: 'targets/moddable/index.ts',
    treeshake: { moduleSideEffects: false },
    external: MODDABLE_SDK,
    plugins: [ts(), copy('targets/moddable/manifest.json', 'build/moddable/manifest.json')],
    output: { file: 'build/moddable/aliyun-iot-http.js', format: 'es', freeze: false, plugins: [terser(deviceTerser(true))] },
  },
  // modules beside the client, which they import as "aliyun-iot-http" (not a copy of it)
  ...['hashes', 'register', 'thing', 'queue', 'queue-file'].map((name) => ({
    input: `targets/moddable/${name}.ts`,
    treeshake: { moduleSideEffects: false },
    external: (id) => MODDABLE_SDK.includes(id) || id === MODDABLE_CLIENT || (name !== 'queue' && id === MODDABLE_QUEUE),
    makeAbsoluteExternalsRelative: false,
    plugins: [ts(), ...(name === 'queue-file' ? [copy('targets/moddable/manifest-file.json', 'build/moddable/manifest-file.json')] : [])],
    output: { file: `build/moddable/aliyun-iot-http-${name}.js`, format: 'es', freeze: false, paths: { [MODDABLE_CLIENT]: 'aliyun-iot-http', [MODDABLE_QUEUE]: 'aliyun-iot-http-queue' }, plugins: [terser(deviceTerser(true))] },
  })),
];
