// Child process of the publish benchmarks: the emulator (build/node/emulator.cjs) in its own
// process, so that client and server do not share a thread. argv[2]: the devices as JSON.
// Prints {url, ca} as one JSON line; exits when its stdin closes.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { root } from './libraries.mjs';

const { startEmulator } = createRequire(import.meta.url)(join(root, 'build/node/emulator.cjs'));
const emu = await startEmulator({ devices: JSON.parse(process.argv[2]) });
setInterval(() => emu.reset(), 1000); // it records every request: keep its memory flat
process.stdout.write(JSON.stringify({ url: emu.url, ca: emu.ca }) + '\n');
process.stdin.on('end', () => emu.close().then(() => process.exit(0)));
process.stdin.resume();
