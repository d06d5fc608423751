/** Embedded-engine specifics the shared contract cannot see: files from before the derived tables existed. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { fleetFixture } from './contract.ts';
import { DuckDBStore } from './duckdb.ts';
import type { Store } from './types.ts';

const dir = mkdtempSync(join(tmpdir(), 'minewatch-duckdb-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

const answers = (s: Store) =>
  Promise.all([
    s.hosts(),
    s.rank('host'),
    s.rank('coin'),
    s.findings(),
    s.instances(),
    s.campaigns('wallet'),
    s.hostKeys('coin'),
  ]);

test('a file without the derived tables (older version) gets them built on open', async () => {
  const path = join(dir, 'old.db');
  let s = await DuckDBStore.open(path, { memoryLimit: '256MB', threads: 2 });
  await s.ingest(fleetFixture());
  const want = await answers(s);
  await s.close();
  // What an older minewatch left: events and host_day only, no version mark.
  const inst = await DuckDBInstance.create(path);
  const c = await inst.connect();
  for (const t of ['host_all', 'host_sum', 'instance_all', 'campaign_all', 'finding_events'])
    await c.run(`DROP TABLE ${t}`);
  await c.run("DELETE FROM meta WHERE k = 'rollups'");
  c.closeSync();
  inst.closeSync();
  s = await DuckDBStore.open(path, { memoryLimit: '256MB', threads: 2 });
  try {
    const got = await answers(s);
    assert.deepEqual(got, want);
    assert.equal(got[0].length, 3);
    assert.equal(got[3].length, 3);
    // Ingest keeps working on the rebuilt tables.
    assert.deepEqual(await s.ingest(fleetFixture()), { accepted: 0, duplicates: 13 });
    assert.deepEqual(await answers(s), want);
  } finally {
    await s.close();
  }
});

test('events acknowledged but not yet folded into the rollups are folded after reopening', async () => {
  const path = join(dir, 'pending.db');
  let s = await DuckDBStore.open(path, { memoryLimit: '256MB', threads: 2 });
  const half = fleetFixture().slice(0, 6);
  await s.ingest(half);
  assert.equal((await s.hosts()).length, 3);
  // The rest is committed, then the store is closed before any read folds it.
  await s.ingest(fleetFixture().slice(6));
  await s.close();
  s = await DuckDBStore.open(path, { memoryLimit: '256MB', threads: 2 });
  const ref = await DuckDBStore.open(join(dir, 'ref.db'), { memoryLimit: '256MB', threads: 2 });
  try {
    await ref.ingest(fleetFixture());
    assert.deepEqual(await answers(s), await answers(ref));
  } finally {
    await s.close();
    await ref.close();
  }
});
