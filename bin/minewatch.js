#!/usr/bin/env node
// Runs the bundled CLI (dist/, built by `npm ci` through the prepare script: scripts/build.mjs). In a source checkout
// without dist/ it falls back to the TypeScript sources through tsx, so `npx minewatch` always works.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// `minewatch pcap x | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});
const argv = process.argv.slice(2);
const dist = new URL('../dist/main.js', import.meta.url);
// `pcap` has a bundle of its own, run with a compile cache (bin/code-cache.js says why).
const pcap = new URL('../dist/pcap.cjs', import.meta.url);
let mod;
if (argv[0] === 'pcap' && existsSync(pcap)) {
  mod = (await import('./code-cache.js')).loadBundle(fileURLToPath(pcap)).exports;
} else if (existsSync(dist)) {
  mod = await import(dist.href);
} else {
  // tsx 4 refuses module.register('tsx/esm'): its own API registers the loader.
  (await import('tsx/esm/api')).register();
  mod = await import(new URL('../src/cli/main.ts', import.meta.url).href);
}
process.exitCode = await mod.main(argv);
