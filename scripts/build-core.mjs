// Builds the packet core (src/sensors/pcap/core/assembly, AssemblyScript) to WebAssembly: dist/core.wasm, or
// <outdir>/core.wasm. Run by scripts/build.mjs (so by `npm ci`'s prepare step) and before `npm test`; no built
// binary is committed. The loader (src/sensors/pcap/core/load.ts) finds it beside the bundle or in dist/.
//
//   node scripts/build-core.mjs [--outdir DIR] [--debug]
import { mkdirSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import asc from 'assemblyscript/asc';

const root = new URL('..', import.meta.url).pathname;
const at = process.argv.indexOf('--outdir');
const outdir = resolve(root, at > 0 ? process.argv[at + 1] : 'dist');
const debug = process.argv.includes('--debug');

export async function buildCore(dir = outdir, { debugBuild = debug } = {}) {
  mkdirSync(dir, { recursive: true });
  const out = resolve(dir, 'core.wasm');
  const { error, stderr } = await asc.main(
    [
      resolve(root, 'src/sensors/pcap/core/assembly/index.ts'),
      '--outFile',
      out,
      // incremental GC: the flow table's held segments are managed objects; everything per packet is not.
      '--runtime',
      'incremental',
      ...(debugBuild ? ['--debug', '--sourceMap'] : ['-O3', '--noAssert']),
      // One memory that never moves under the JS views: grown only by the core's own allocator.
      '--initialMemory',
      '64',
      '--exportRuntime',
      // 128-bit SIMD (in Node since 16.4): the needle scan's two-byte filter (assembly/needles.ts).
      '--enable',
      'simd',
    ],
    {},
  );
  if (error) {
    process.stderr.write(stderr.toString());
    throw new Error(`packet core build failed: ${error.message}`);
  }
  return { path: out, size: statSync(out).size };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await buildCore();
  process.stdout.write(`packet core: ${r.path} (${r.size} bytes)\n`);
}
