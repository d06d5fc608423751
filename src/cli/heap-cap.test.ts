/**
 * `minewatch pcap` on a capture of 16 MiB or more, or on stdin, runs in a worker thread with a capped heap
 * (bin/minewatch.js). Its output must be the command's as if run in the process itself: whole (1+ MB of JSON
 * through a pipe another Node process reads, where writing fd 1 from the worker used to fail half-way), in
 * order, with the exit code; and stdin must reach it.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { writeReplicatedCorpus } from '../detect/traffic/test-helpers/replicate.ts';

const BIN = fileURLToPath(new URL('../../bin/minewatch.js', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'mw-heapcap-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function run(args: string[], input?: Buffer, nodeArgs: string[] = []) {
  return spawnSync(process.execPath, [...nodeArgs, BIN, 'pcap', ...args, '--no-user-intel'], {
    ...(input ? { input } : {}),
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
}

test('a 17 MiB capture in the capped worker prints what the uncapped process prints', () => {
  const file = writeReplicatedCorpus(join(tmp, 'big.pcap'), 17 << 20);
  const capped = run([file, '--format', 'json']);
  const uncapped = run([file, '--format', 'json'], undefined, ['--max-old-space-size=4096']);
  assert.equal(capped.status, 1, capped.stderr);
  assert.equal(uncapped.status, 1, uncapped.stderr);
  assert.ok(capped.stdout.length > 100_000, `${capped.stdout.length} bytes`);
  assert.equal(capped.stdout, uncapped.stdout);
  assert.ok(JSON.parse(capped.stdout).findings.length > 0);
});

test('stdin reaches the worker, and a missing file still exits 2 with its name', () => {
  const bytes = readFileSync(
    fileURLToPath(new URL('../../test/corpus/pcap/ndpi/mining.pcapng', import.meta.url)),
  );
  const r = run(['-', '--format', 'ndjson'], bytes);
  assert.equal(r.status, 1, r.stderr);
  assert.equal(r.stdout.trim().split('\n').length >= 4, true, r.stdout);
  const missing = run(['-', join(tmp, 'nope.pcap'), '--format', 'json'], bytes);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /nope\.pcap: no such file/);
});
