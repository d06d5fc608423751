/**
 * `npm run fuzz [-- ITERATIONS [SEED]]`: the traffic pipeline's mutation fuzzer run long (the test suite runs a
 * short version in src/detect/traffic/fuzz.test.ts). Any exception other than a clear CaptureFormatError is a
 * bug and stops the run with the seed that found it; then a 100 MB line with no newline, with peak RSS.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { analyseCapture } from '../src/detect/traffic/capture.ts';
import { fuzzCorpus, hugeLineCapture } from '../src/detect/traffic/test-helpers/fuzz.ts';
import { corpusFiles } from '../src/detect/traffic/test-helpers/replicate.ts';
import { loadIntel } from '../src/intel/index.ts';

const iterations = Number(process.argv[2] ?? 20_000);
const seed = Number(process.argv[3] ?? Date.now() % 1e9);
const intel = loadIntel({ userDir: null });
// The public corpus and our own TLS captures (record-header reading, the TLS judge).
const TLS_DIR = fileURLToPath(new URL('../test/captures/tls-no-sni/', import.meta.url));
const files = [
  ...corpusFiles(),
  ...readdirSync(TLS_DIR)
    .filter((f) => f.endsWith('.pcap'))
    .sort()
    .map((f) => TLS_DIR + f),
];

console.log(`fuzzing ${files.length} captures, ${iterations} mutants, seed ${seed}`);
const t0 = performance.now();
const batch = 1000;
for (let done = 0; done < iterations; done += batch) {
  const n = Math.min(batch, iterations - done);
  const out = await fuzzCorpus(files, intel, n, seed + done);
  console.log(
    `${done + n} mutants: ${out.ok} parsed, ${out.formatErrors} format errors, slowest ${out.maxMs.toFixed(0)} ms, rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MB`,
  );
}
console.log(`mutants done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

const before = process.memoryUsage().rss;
let peak = before;
const t1 = performance.now();
const r = await analyseCapture('-', {
  intel,
  stdin: (function* () {
    for (const c of hugeLineCapture(100 * 1024 * 1024)) {
      peak = Math.max(peak, process.memoryUsage().rss);
      yield c;
    }
  })(),
});
console.log(
  `100 MB line without newline: ${r.summary.packets} packets in ${((performance.now() - t1) / 1000).toFixed(1)} s, RSS grew ${((peak - before) / 2 ** 20).toFixed(0)} MB`,
);
