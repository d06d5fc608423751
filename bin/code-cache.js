// A CommonJS bundle run through node:vm with a V8 code cache beside it (`<bundle>.cache`), for the commands whose
// start-up is measured against a C peer: `minewatch pcap` (dist/pcap.cjs, built by scripts/build.mjs).
//
// Why: Node 20 has no module compile cache (module.enableCompileCache is Node 22), so every run parses and
// compiles the bundle again, and compiles each function again on its first call. The cache is written after a
// run over the project's own capture corpus, so it holds the bytecode of every function that run called: the
// detectors, the parsers, the report. Measured on the 158 MB bench capture, one core (taskset -c 0), three
// interleaved runs: 1.22-1.25 s with the cache, 1.28-1.30 s without it, 1.31-1.37 s from the ES-module chunks;
// the smallest capture 0.26 s against 0.28 and 0.29 s (docs/packet-core.md, "Start-up and the optimizing compiler").
//
// V8 checks a cache against its own version, its flags and the source before using it, and compiles from the
// source when they differ (another Node, a flag on the command line): the run is the same, only slower. The
// cache is never written at run time (an installed dist/ may be read-only); `npm run build` makes it.
//
// CommonJS, as bin/minewatch.js is (bin/package.json says so for the folder).
'use strict';
const { existsSync, readFileSync, writeFileSync } = require('node:fs');
const Module = require('node:module');
const { dirname, resolve } = require('node:path');
const vm = require('node:vm');

/** Loads a bundle; `cache` says whether V8 took the code cache ('accepted'), refused it, or found none. */
function loadBundle(file) {
  const source = readFileSync(file, 'utf8');
  const cacheFile = `${file}.cache`;
  const cachedData = existsSync(cacheFile) ? readFileSync(cacheFile) : undefined;
  const script = new vm.Script(Module.wrap(source), {
    filename: file,
    ...(cachedData ? { cachedData } : {}),
  });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, Module.createRequire(file), module, file, dirname(file));
  const cache = !cachedData ? 'none' : script.cachedDataRejected ? 'rejected' : 'accepted';
  return { exports: module.exports, script, cache };
}

/**
 * Runs the bundle's `main` on argv with its output discarded, then writes the code cache of everything that run
 * compiled. Run in a process of its own (scripts/build.mjs does), so only the bundle is in it.
 */
async function writeCodeCache(file, argv) {
  const { exports, script } = loadBundle(file);
  const { Writable, Readable } = require('node:stream');
  const sink = () => new Writable({ write: (_chunk, _enc, done) => done() });
  const code = await exports.main(argv, { stdout: sink(), stderr: sink(), stdin: Readable.from([]) });
  // A command may set V8 flags as it runs (`pcap`: src/cli/pcap-v8.ts); the next run loads the bundle before it
  // sets them, and V8 refuses a cache made under other flags, so the bundle puts V8's own values back first.
  exports.untunePcapV8?.();
  writeFileSync(`${file}.cache`, script.createCachedData());
  return code;
}

module.exports = { loadBundle, writeCodeCache };

// node bin/code-cache.js BUNDLE ARGS...: write BUNDLE's cache after running it on ARGS.
if (require.main === module) {
  const [file, ...argv] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: node bin/code-cache.js BUNDLE ARGS...\n');
    process.exit(2);
  }
  // The run's own exit code says what it found (1: mining); only 2, a failed run, fails the build.
  writeCodeCache(resolve(file), argv).then((code) => {
    if (code === 2) process.exitCode = 2;
  });
}
