/**
 * `minewatch pcap`'s analysis run RUNS times in one process, on one capture: the bundle (dist/pcap.cjs with its
 * code cache, as bin/minewatch.js loads it) is loaded once and its `main` called again and again, output
 * discarded. The first run pays what every fresh process pays (the intel, the first pass through cold code, V8's
 * compilers, the young generation growing); the later ones are the steady state: what the same work costs once
 * those are paid. bench/pcap-one-core.ts runs this pinned beside the whole command, so that #18's ratio can be
 * split into per-packet work and fixed costs (docs/packet-core.md, "Where #18 stops").
 *
 *   taskset -c 0 node --import tsx bench/pcap-warm.ts FILE [RUNS]   prints {"cache":..., "seconds":[...]}
 */
import { createRequire } from 'node:module';
import { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';

interface Bundle {
  exports: { main(argv: string[], io: unknown): Promise<number> };
  cache: string;
}

const require = createRequire(import.meta.url);
const { loadBundle } = require('../bin/code-cache.js') as { loadBundle(file: string): Bundle };

export async function warmRuns(file: string, runs: number): Promise<{ cache: string; seconds: number[] }> {
  const bundle = loadBundle(fileURLToPath(new URL('../dist/pcap.cjs', import.meta.url)));
  const sink = () => new Writable({ write: (_chunk, _enc, done) => done() });
  const seconds: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    await bundle.exports.main(['pcap', file, '--format', 'json', '--no-user-intel'], {
      stdout: sink(),
      stderr: sink(),
      stdin: Readable.from([]),
    });
    seconds.push(Number(process.hrtime.bigint() - start) / 1e9);
  }
  return { cache: bundle.cache, seconds };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [file, runs = '5'] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: node --import tsx bench/pcap-warm.ts FILE [RUNS]\n');
    process.exit(2);
  }
  console.log(JSON.stringify(await warmRuns(file, Number(runs))));
}
