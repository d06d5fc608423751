#!/usr/bin/env node
// Runs the bundled CLI (dist/, built by `npm ci` through the prepare script: scripts/build.mjs). In a source checkout
// without dist/ it falls back to the TypeScript sources through tsx, so `npx minewatch` always works.
//
// CommonJS (bin/package.json), not an ES module: an ES entry starts Node's ES module loader and builds an ES facade
// of each built-in it imports (node:fs's loads the streams), 14 ms of wall time and 600 page faults before the first
// line of the command on the bench machine (smallest capture, 15 interleaved runs: 294 against 308 ms). The commands
// in dist/ are still ES modules, loaded by import().
'use strict';
const { existsSync } = require('node:fs');
const { join } = require('node:path');
const { pathToFileURL } = require('node:url');

// `minewatch pcap x | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

async function run(argv) {
  const dist = join(__dirname, '../dist/main.js');
  // `pcap` has a bundle of its own, run with a compile cache (bin/code-cache.js says why).
  const pcap = join(__dirname, '../dist/pcap.cjs');
  let mod;
  if (argv[0] === 'pcap' && existsSync(pcap)) {
    mod = require('./code-cache.js').loadBundle(pcap).exports;
  } else if (existsSync(dist)) {
    mod = await import(pathToFileURL(dist).href);
  } else {
    // tsx 4 refuses module.register('tsx/esm'): its own API registers the loader.
    (await import('tsx/esm/api')).register();
    mod = await import(pathToFileURL(join(__dirname, '../src/cli/main.ts')).href);
  }
  process.exitCode = await mod.main(argv);
}

run(process.argv.slice(2)).catch((err) => {
  // As an uncaught error at the top level would: the stack on stderr, exit 1.
  console.error(err);
  process.exitCode = 1;
});
