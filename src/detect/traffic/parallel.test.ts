/**
 * The sharded analysis must give exactly what one pass gives: same findings, same order, same summary, on a
 * capture with many hosts (the corpus replicated with rewritten addresses), with 2 and 3 threads.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Finding } from '../../findings/index.ts';
import { loadIntel } from '../../intel/index.ts';
import { CaptureFormatError } from '../../sensors/pcap/index.ts';
import { analyseCapture, type CaptureReport } from './capture.ts';
import { analyseInShards, MAX_THREADS, threadsFor } from './parallel.ts';
import { writeReplicatedCorpus } from './test-helpers/replicate.ts';

const intel = loadIntel({ userDir: null });
let dir = '';
let file = '';
let single: CaptureReport;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mw-parallel-'));
  file = writeReplicatedCorpus(join(dir, 'replicated.pcap'), 6 * 1024 * 1024);
  single = await analyseCapture(file, { intel, threads: 1 });
});
after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('the replicated capture has many mining hosts to split', () => {
  assert.ok(single.summary.hosts_mining >= 12, `hosts mining: ${single.summary.hosts_mining}`);
  assert.ok(single.summary.flows > 500);
});

for (const threads of [2, 3]) {
  test(`${threads} threads: the same findings, order and summary as one pass`, async () => {
    const announced: string[] = [];
    const r = await analyseCapture(file, { intel, threads, onFinding: (f) => announced.push(f.id) });
    assert.deepEqual(r.findings, single.findings);
    // The flow table's own counters are per table: each shard sweeps on its own packets' clock and holds its
    // own peak, so only their sum of evictions must agree (none here: the capture fits every table).
    const { flow_table: shardTable, ...summary } = r.summary;
    const { flow_table: singleTable, ...singleSummary } = single.summary;
    assert.deepEqual(summary, singleSummary);
    assert.equal(shardTable.evicted, singleTable.evicted);
    // Streaming: every finding a single pass would announce is announced once.
    const once: string[] = [];
    await analyseCapture(file, { intel, threads: 1, onFinding: (f) => once.push(f.id) });
    assert.deepEqual([...announced].sort(), [...once].sort());
  });
}

test('every shard does part of the work', async () => {
  const r = await analyseInShards(file, 2, { intel });
  assert.equal(r.stats.flows.flows, single.summary.flows);
  assert.equal(r.stats.capture.packets, single.summary.packets);
  assert.deepEqual(r.findings, single.findings);
});

test('a file that is not a capture fails the same way with threads', async () => {
  const d = mkdtempSync(join(tmpdir(), 'mw-parallel-bad-'));
  try {
    const bad = join(d, 'bad.pcap');
    writeFileSync(bad, 'this is not a capture file at all, just text\n'.repeat(10));
    const one = await analyseCapture(bad, { intel, threads: 1 }).then(
      () => undefined,
      (e: Error) => e,
    );
    const two = await analyseCapture(bad, { intel, threads: 2 }).then(
      () => undefined,
      (e: Error) => e,
    );
    assert.ok(one instanceof CaptureFormatError && two instanceof CaptureFormatError);
    assert.equal(two.message, one.message);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('threads: one pass unless asked for more, and never more than MAX_THREADS', () => {
  assert.equal(threadsFor(), 1);
  assert.equal(threadsFor(1), 1);
  assert.equal(threadsFor(3), 3);
  assert.equal(threadsFor(1000), MAX_THREADS);
});

export type { Finding };
