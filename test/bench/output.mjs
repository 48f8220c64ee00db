// Where `npm run bench` puts its results. By default it only prints them: the tracked
// test/bench/RESULTS.md changes only when asked, so that a run to look at the figures does not
// leave the checkout dirty.
//   npm run bench                  prints the Markdown to stdout (progress to stderr)
//   npm run bench -- --write       also writes test/bench/RESULTS.md
//   npm run bench -- --out FILE    also writes FILE
import { isAbsolute, join, resolve } from 'node:path';

export const USAGE = 'usage: node test/bench/run.mjs [--write | --out FILE]';

/** The file to write, or null to print only; throws on an argument it does not know. */
export function resultsFile(args, root) {
  let file = null;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--write') file = join(root, 'test', 'bench', 'RESULTS.md');
    else if (a === '--out' && args[i + 1]) file = isAbsolute(args[++i]) ? args[i] : resolve(args[i]);
    else if (a.startsWith('--out=') && a.length > 6) file = resolve(a.slice(6));
    else throw new Error(`unknown argument ${a}; ${USAGE}`);
  }
  return file;
}
