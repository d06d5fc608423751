import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openStore } from '../store/index.ts';
import { runCli } from './test-helpers/run.ts';

const LOGS = new URL('../../test/fixtures/logs/', import.meta.url).pathname;
process.env.MINEWATCH_HOME = mkdtempSync(join(tmpdir(), 'mw-home-'));

test('import: every fixture format loads, bad lines are named, detections are stored, re-import counts duplicates', async () => {
  const db = join(mkdtempSync(join(tmpdir(), 'mw-import-')), 'fleet.db');
  const files = readdirSync(LOGS).map((f) => join(LOGS, f));
  const r = await runCli(['import', '--db', db, '--format', 'json', '--no-user-intel', ...files]);
  assert.equal(r.code, 1, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.ok(doc.summary.events >= 50);
  assert.equal(doc.summary.accepted, doc.summary.events);
  assert.ok(doc.summary.bad_lines > 0);
  assert.match(r.stderr, /events\.ndjson:13: not JSON/);
  const formats = new Set(doc.summary.files.map((f: { format: string }) => f.format));
  for (const f of ['minewatch', 'zeek-tsv', 'zeek-json', 'suricata', 'falco', 'sysmon', 'csv-flows'])
    assert.ok(formats.has(f), f);
  const rules = new Set(doc.findings.map((f: { rule: string }) => f.rule));
  for (const rule of [
    'host.process.stratum-cmdline',
    'net.dns.pool-query',
    'net.tls.pool-sni',
    'net.flow.mining-behaviour',
  ])
    assert.ok(rules.has(rule), rule);
  assert.equal(doc.summary.findings_stored, doc.findings.length);

  const again = await runCli(['import', '--db', db, '--format', 'json', '--no-user-intel', ...files]);
  const d2 = JSON.parse(again.stdout);
  assert.equal(d2.summary.accepted, 0);
  assert.equal(d2.summary.duplicates, doc.summary.events);

  const store = await openStore(db);
  try {
    const stored = await store.findings({});
    assert.equal(stored.length, doc.findings.length);
    const coins = await store.rank('coin', {});
    assert.ok(coins.some((c) => c.key === 'XMR'));
  } finally {
    await store.close();
  }
});

test('import: a missing file is exit 2 and named; the others still load', async () => {
  const db = join(mkdtempSync(join(tmpdir(), 'mw-import-')), 'fleet.db');
  const r = await runCli([
    'import',
    '--db',
    db,
    '--format',
    'json',
    '/nonexistent/conn.log',
    join(LOGS, 'dns.log'),
  ]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /\/nonexistent\/conn\.log: no such file/);
  assert.equal(JSON.parse(r.stdout).summary.files[1].events, 2);
});

test('import: a file of many submissions is stored whole, its lines as the events JSON, and counted once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mw-import-'));
  const db = join(dir, 'fleet.db');
  const file = join(dir, 'events.ndjson');
  // 20,000 events (more than two of the importer's 8,192-event submissions); lines with and without ids, one
  // not as JSON.stringify writes it (spaces), one whose id repeats an earlier line's.
  const lines = Array.from({ length: 20_000 }, (_, i) =>
    JSON.stringify({
      ...(i % 3 ? { id: `e${i}` } : {}),
      time: new Date(Date.UTC(2026, 2, 1) + i * 1000).toISOString(),
      host: `web-${i % 7}`,
      type: 'connection',
      src_ip: '10.0.0.1',
      dst_ip: '1.2.3.4',
      dst_port: 443,
      bytes_out: i,
    }),
  );
  lines[5] = lines[5]!.replace('{"id"', '{ "id"').replace(',"time"', ', "time"');
  lines.push(lines[1]!);
  writeFileSync(file, `${lines.join('\n')}\n`);
  const r = await runCli(['import', '--db', db, '--format', 'json', '--no-user-intel', file]);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.deepEqual([doc.summary.events, doc.summary.accepted, doc.summary.duplicates], [20_001, 20_000, 1]);
  const again = JSON.parse(
    (await runCli(['import', '--db', db, '--format', 'json', '--no-user-intel', file])).stdout,
  );
  assert.deepEqual([again.summary.accepted, again.summary.duplicates], [0, 20_001]);
  const store = await openStore(db);
  try {
    assert.equal(await store.count(), 20_000);
    const stored = await store.events({ host: 'web-5', limit: 10_000 });
    const byTime = new Map(stored.map((e) => [e.time, e]));
    for (const i of [5, 12, 19_997]) {
      const want = JSON.parse(lines[i]!);
      assert.deepEqual(byTime.get(want.time), want, `line ${i + 1}`);
    }
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
