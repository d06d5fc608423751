import assert from 'node:assert/strict';
import { test } from 'node:test';
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
