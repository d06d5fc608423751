/**
 * The whole report of `minewatch pcap`, byte for byte, on every capture kept in the repository and on a
 * replicated corpus (many hosts and flows in one file): findings with every field in their order, and the
 * capture summary (packets, flows, flow-table and decode counters). A change to the packet path (reader,
 * decoder, flow table, the detectors it feeds) must leave these identical, or show the reviewer the diff.
 * `UPDATE_GOLDEN=1` rewrites test/golden/pcap/ from the current code.
 */
import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadIntel } from '../../intel/index.ts';
import { analyseCapture, type CaptureReport } from './capture.ts';
import { writeReplicatedCorpus } from './test-helpers/replicate.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const GOLDEN = join(ROOT, 'test/golden/pcap');
const intel = loadIntel({ userDir: null });

function captures(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? captures(join(dir, e.name)) : /\.pcap(ng)?$/.test(e.name) ? [join(dir, e.name)] : [],
  );
}

/** The report as the CLI prints it, minus the file's path (the replicated capture lives under a temp dir). */
function stable(r: CaptureReport, source: string): unknown {
  const text = JSON.stringify(r).replaceAll(JSON.stringify(r.summary.source), JSON.stringify(source));
  return JSON.parse(text);
}

function check(name: string, got: unknown): void {
  const file = join(GOLDEN, `${name}.json`);
  if (process.env.UPDATE_GOLDEN === '1') {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${JSON.stringify(got, null, 1)}\n`);
  }
  assert.ok(existsSync(file), `missing ${file}: run with UPDATE_GOLDEN=1 and review it`);
  assert.deepEqual(got, JSON.parse(readFileSync(file, 'utf8')));
}

const files = ['test/corpus/pcap', 'test/captures', 'test/fixtures/pcap']
  .flatMap((d) => captures(join(ROOT, d)))
  .sort();

test('golden: every capture in the repository is found', () => {
  assert.ok(files.length >= 37, `${files.length} captures`);
});

for (const f of files) {
  const rel = relative(ROOT, f);
  test(`golden: ${rel} gives the same report`, async () => {
    check(rel.replace(/^test\//, ''), stable(await analyseCapture(f, { intel }), rel));
  });
}

const tmp = mkdtempSync(join(tmpdir(), 'mw-golden-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

test('golden: a 6 MB replicated corpus (hundreds of hosts) gives the same report', async () => {
  const path = writeReplicatedCorpus(join(tmp, 'replicated.pcap'), 6 << 20);
  check('replicated-6m', stable(await analyseCapture(path, { intel }), 'replicated-6m.pcap'));
});
