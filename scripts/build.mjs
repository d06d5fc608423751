// The published build: the CLI bundled by esbuild into dist/ (ES modules, one chunk per lazily loaded
// command). Why a bundle and not tsc's file-per-module output: start-up. `minewatch pcap` on a tiny capture
// took 0.25 s from ~100 modules and 0.14-0.15 s bundled (bare `node -e 0`: 0.06 s), and start-up is what
// a tool run from cron, agents and shell loops pays every time. Type checking stays with `tsc --noEmit`.
//
//   node scripts/build.mjs                 # dist/
//   node scripts/build.mjs --outdir DIR    # elsewhere inside the package (the bundle test builds its own)
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
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
// The packet core's WebAssembly beside the chunks that load it.
await buildCore(outdir);
