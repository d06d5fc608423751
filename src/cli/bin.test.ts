/**
 * `bin/minewatch.js` as a user runs it, in a process of its own: its output must be the command's as run in the
 * test's process (whole, ~200 KB of JSON through a pipe another Node process reads, where a write to fd 1 once
 * failed half-way), with the exit code; and stdin must reach it.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { writeReplicatedCorpus } from '../detect/traffic/test-helpers/replicate.ts';
import { runCli } from './test-helpers/run.ts';

const BIN = fileURLToPath(new URL('../../bin/minewatch.js', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'mw-bin-'));
process.env.MINEWATCH_HOME = join(tmp, 'home'); // no user intel from this machine
after(() => rmSync(tmp, { recursive: true, force: true }));

function run(args: string[], input?: Buffer) {
  return spawnSync(process.execPath, [BIN, 'pcap', ...args, '--no-user-intel'], {
    ...(input ? { input } : {}),
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
}

test('a 17 MiB capture through the bin prints what the command prints in this process', async () => {
  const file = writeReplicatedCorpus(join(tmp, 'big.pcap'), 17 << 20);
  const bin = run([file, '--format', 'json']);
  const here = await runCli(['pcap', file, '--format', 'json', '--no-user-intel']);
  assert.equal(bin.status, 1, bin.stderr);
  assert.equal(here.code, 1, here.stderr);
  assert.ok(bin.stdout.length > 100_000, `${bin.stdout.length} bytes`);
  assert.equal(bin.stdout, here.stdout);
  assert.ok(JSON.parse(bin.stdout).findings.length > 0);
});

test('stdin reaches the command, and a missing file still exits 2 with its name', () => {
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
