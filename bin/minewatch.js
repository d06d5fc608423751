#!/usr/bin/env node
// Runs the bundled CLI (dist/, built by `npm ci` through the prepare script: scripts/build.mjs). In a source checkout
// without dist/ it falls back to the TypeScript sources through tsx, so `npx minewatch` always works.
import { existsSync } from 'node:fs';

// `minewatch pcap x | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});
const dist = new URL('../dist/main.js', import.meta.url);
let mod;
if (existsSync(dist)) {
  mod = await import(dist.href);
} else {
  // tsx 4 refuses module.register('tsx/esm'): its own API registers the loader.
  (await import('tsx/esm/api')).register();
  mod = await import(new URL('../src/cli/main.ts', import.meta.url).href);
}
process.exitCode = await mod.main(process.argv.slice(2));
