import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync } from 'node:fs';
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
