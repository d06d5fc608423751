import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadIntel } from '../../intel/index.ts';
import { analyseCapture } from './capture.ts';
import { fuzzCorpus, hugeLineCapture } from './test-helpers/fuzz.ts';
import { corpusFiles } from './test-helpers/replicate.ts';

const intel = loadIntel({ userDir: null });

test('mutated corpus captures: no crash, no hang; only clear format errors', {
  timeout: 120_000,
}, async () => {
  const out = await fuzzCorpus(corpusFiles(), intel, 220, 42);
  assert.equal(out.ok + out.formatErrors, 220);
  assert.ok(out.ok > 100, `most mutants still parse (${out.ok})`);
  assert.ok(out.maxMs < 20_000, `slowest input took ${out.maxMs} ms`);
});

test('a 64 MB stratum line with no newline keeps memory bounded', { timeout: 120_000 }, async () => {
  global.gc?.();
  const before = process.memoryUsage().rss;
  let peak = before;
  const chunks = (function* () {
    for (const c of hugeLineCapture(64 * 1024 * 1024)) {
      peak = Math.max(peak, process.memoryUsage().rss);
      yield c;
    }
  })();
  const r = await analyseCapture('-', { intel, stdin: chunks });
  assert.ok(r.summary.packets > 1000);
  assert.ok(r.summary.bytes > 64 * 1024 * 1024);
  const grew = (peak - before) / 2 ** 20;
  assert.ok(grew < 200, `RSS grew ${grew.toFixed(0)} MB for a 64 MB line`);
});

test('fuzz seed 2777 over the corpus and the TLS captures: a record time beyond what a Date holds', {
  timeout: 120_000,
}, async () => {
  // `npm run fuzz -- 20000 777` threw RangeError from toISOString in its third batch (seed 2777).
  const dir = fileURLToPath(new URL('../../../test/captures/tls-no-sni/', import.meta.url));
  const tls = readdirSync(dir)
    .filter((f) => f.endsWith('.pcap'))
    .sort()
    .map((f) => dir + f);
  const out = await fuzzCorpus([...corpusFiles(), ...tls], intel, 1000, 2777);
  assert.equal(out.ok + out.formatErrors, 1000);
});
