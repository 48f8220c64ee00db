// Loaded by .mocharc.json ("require"): when the run is over, after mocha's own summary, one line
// says which engine suites did not run on this machine and what enables each. Those suites skip
// quietly (a pending test among hundreds), so without this line a run on a bare machine looks
// as complete as one with every engine.
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Whether an executable of this name is on the PATH of `env`. */
export function onPath(command, env = process.env) {
  return (env.PATH || '').split(delimiter).some((dir) => {
    if (!dir) return false;
    try {
      accessSync(join(dir, command), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** The optional engine suites, each with what makes it run (as the suites themselves decide). */
export const ENGINE_SUITES = [
  { name: 'Duktape', enable: 'apt-get install duktape', runs: (env) => onPath('duk', env) },
  { name: 'MuJS', enable: 'apt-get install mujs', runs: (env) => onPath('mujs', env) },
  { name: 'Espruino', enable: "set ESPRUINO_BIN to Espruino's Linux build, 8,190 variables", runs: (env) => !!env.ESPRUINO_BIN },
  { name: 'Espruino on 5,100 variables', enable: 'set ESPRUINO_5100_BIN to the same built with 5,100 variables', runs: (env) => !!env.ESPRUINO_5100_BIN },
  { name: 'XS', enable: "set XST_BIN to Moddable's xst", runs: (env) => !!env.XST_BIN },
  {
    name: 'Moddable simulator',
    enable: 'set MODDABLE to a Moddable SDK with mcconfig and mcsim built, and install Xvfb',
    runs: (env) => {
      const tools = env.MODDABLE && join(env.MODDABLE, 'build', 'bin', 'lin', 'release');
      return !!tools && existsSync(join(tools, 'mcsim')) && existsSync(join(tools, 'mcconfig')) && onPath('Xvfb', env);
    },
  },
];

/** The suites that do not run with this environment. */
export function skippedSuites(env = process.env) {
  return ENGINE_SUITES.filter((s) => !s.runs(env));
}

/** The closing line: what was skipped and how to enable it, or that nothing was. */
export function summaryLine(skipped) {
  if (!skipped.length) return `All engine suites ran: ${ENGINE_SUITES.map((s) => s.name).join(', ')}.`;
  return `Engine suites skipped: ${skipped.map((s) => `${s.name} (${s.enable})`).join('; ')}. See "Set-up" in README.md.`;
}

/** Mocha's global teardown: runs once, after the reporter's summary. */
export function mochaGlobalTeardown() {
  process.stdout.write(`\n${summaryLine(skippedSuites())}\n`);
}
