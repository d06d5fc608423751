// The published build: the CLI bundled by esbuild into dist/ (ES modules, one chunk per lazily loaded
// command). Why a bundle and not tsc's file-per-module output: start-up. `minewatch pcap` on a tiny capture
// took 0.25 s from ~100 modules and 0.14-0.15 s bundled (bare `node -e 0`: 0.06 s), and start-up is what
// a tool run from cron, agents and shell loops pays every time. Type checking stays with `tsc --noEmit`.
//
//   node scripts/build.mjs                 # dist/
//   node scripts/build.mjs --outdir DIR    # elsewhere inside the package (the bundle test builds its own)
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { buildCore } from './build-core.mjs';

const root = new URL('..', import.meta.url).pathname;
const at = process.argv.indexOf('--outdir');
const outdir = resolve(root, at > 0 ? process.argv[at + 1] : 'dist');
rmSync(outdir, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: {
    main: 'src/cli/main.ts',
    // Thread entry of the sharded capture analysis (detect/traffic/parallel.ts); must sit beside the chunks.
    'capture-worker': 'src/detect/traffic/capture-worker.ts',
  },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  // Native addons and big server-side libraries stay in node_modules (loaded only by the commands using them).
  external: ['@duckdb/*', '@clickhouse/*', 'fastify', 'echarts', 'web-tree-sitter'],
  // CommonJS dependencies bundled into ES modules still call require() for Node built-ins.
  banner: {
    js: "import { createRequire as __mwRequire } from 'node:module'; const require = __mwRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
// `minewatch pcap` once more as one CommonJS file, which bin/minewatch.js runs with a V8 code cache (see
// bin/code-cache.js for why and the numbers): vm.Script takes a cache, an ES module cannot on Node 20.
const pcapBundle = join(outdir, 'pcap.cjs');
await build({
  absWorkingDir: root,
  entryPoints: { pcap: 'src/cli/pcap-main.ts' },
  outdir,
  outExtension: { '.js': '.cjs' },
  // Whitespace and comments out: a few comments held non-ASCII characters (arrows), which made the whole source
  // a two-byte string, and V8 then took 24 ms more to run the cached script and 10 ms more for its top level
  // (whitespace alone: reading and checking the source 9 -> 6 ms, 10 -> 7 ms). The smallest capture 0.18-0.19 s
  // against 0.21-0.22 s. Stack traces point into one long line; the linked source map maps them back
  // (node --enable-source-maps).
  minifyWhitespace: true,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  // What the sources ask of import.meta, from the file the bundle is.
  define: { 'import.meta.url': '__mwModuleUrl', 'import.meta.resolve': '__mwResolve' },
  banner: {
    js: "const __mwModuleUrl = require('node:url').pathToFileURL(__filename).href; const __mwResolve = (s) => require('node:url').pathToFileURL(require.resolve(s)).href;",
  },
  logLevel: 'warning',
});
// The packet core's WebAssembly beside the chunks that load it.
await buildCore(outdir);
// The cache holds what a run over the project's captures compiled; a package without test/ gets the bundle's
// top level alone (still valid, just less of it).
const captures = ['test/corpus/pcap', 'test/captures', 'test/fixtures/pcap']
  .flatMap((d) =>
    (existsSync(join(root, d)) ? readdirSync(join(root, d), { recursive: true }) : []).map((f) =>
      join(root, d, f),
    ),
  )
  .filter((f) => /\.pcap(ng)?$/.test(f))
  .sort();
const warm = spawnSync(
  process.execPath,
  [join(root, 'bin/code-cache.js'), pcapBundle, 'pcap', ...captures, '--format', 'json', '--no-user-intel'],
  { stdio: 'inherit' },
);
if (warm.status !== 0)
  throw new Error(`writing the code cache of ${pcapBundle} failed (exit ${warm.status})`);
