/**
 * Embedded-engine specifics the shared contract cannot see: files from before the derived tables or the key
 * columns existed, the packed rows as DuckDB stores them, dedup by the stored key hash, background folds.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import type { MinewatchEvent } from '../findings/index.ts';
import { fleetFixture } from './contract.ts';
import { DuckDBStore } from './duckdb.ts';
import { keyHash } from './pack.ts';
import { toRow } from './row.ts';
import { HOSTILE_TEXT as HOSTILE, hostileFinding } from './testkit.ts';
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

/** Runs `fn` on a DuckDB connection of its own to the (closed) store file. */
async function raw<T>(
  path: string,
  fn: (c: Awaited<ReturnType<DuckDBInstance['connect']>>) => Promise<T>,
): Promise<T> {
  const inst = await DuckDBInstance.create(path);
  const c = await inst.connect();
  try {
    return await fn(c);
  } finally {
    c.closeSync();
    inst.closeSync();
  }
}

const COLUMNS =
  'id, ts, day, host, type, source, rule, sev, coin, pool, port, domain, dst_ip, family, exe, sha256, wallet, account, dropper, bytes, data';

/** Every stored row as toRow's fields (day as a day number), with kh/kl, by id. */
async function storedRows(path: string): Promise<Map<string, Record<string, unknown>>> {
  return raw(path, async (c) => {
    const r = await c.runAndReadAll(`SELECT ${COLUMNS}, kh, kl FROM events ORDER BY id`);
    const out = new Map<string, Record<string, unknown>>();
    for (const row of r.getRowObjectsJS()) out.set(String(row.id), row);
    return out;
  });
}

test('hostile text is stored exactly in every column, and the key columns are the key hash', async () => {
  const path = join(dir, 'hostile.db');
  const evs: MinewatchEvent[] = [...fleetFixture()];
  HOSTILE.forEach((h, i) => {
    evs.push(hostileFinding(h, { id: `h${i}${h}`, host: `host ${h}`, rule: `r${h}` }));
    evs.push({
      time: '2026-03-06T00:00:00Z',
      host: `c${h}`,
      type: 'connection',
      dst_ip: h,
      dst_port: 1,
    } as MinewatchEvent);
  });
  const s = await DuckDBStore.open(path, { memoryLimit: '256MB', threads: 2 });
  assert.deepEqual(await s.ingest(evs, { source: `agent ${HOSTILE.join('|')}` }), {
    accepted: evs.length,
    duplicates: 0,
  });
  await s.close();
  const stored = await storedRows(path);
  assert.equal(stored.size, evs.length);
  for (const e of evs) {
    const want = toRow(e, `agent ${HOSTILE.join('|')}`);
    const got = stored.get(want.id);
    assert.ok(got, want.id);
    const norm = (x: unknown) => (typeof x === 'bigint' ? Number(x) : x);
    for (const k of COLUMNS.split(', ')) {
      const w =
        k === 'day' ? Math.floor(want.ts / 86_400_000) : (want as unknown as Record<string, unknown>)[k];
      assert.deepEqual(norm(got[k]), k === 'bytes' ? Math.round(w as number) : w, `${want.id} ${k}`);
    }
    assert.deepEqual([got.kh, got.kl], keyHash(want.host, want.id));
  }
});

test('a retried batch is counted once after reopening: the filter is rebuilt from the stored key columns', async () => {
  const path = join(dir, 'retry.db');
  // More than one packed chunk (8,192 rows), repeats inside the batch across chunks, a stored event, and ids
  // shared by two hosts (not duplicates).
  const ev = (i: number, host = `h${i % 7}`) =>
    ({
      id: `e${i}`,
      time: new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString(),
      host,
      type: 'heartbeat',
    }) as MinewatchEvent;
  const first = Array.from({ length: 20_000 }, (_, i) => ev(i));
  let s = await DuckDBStore.open(path, { memoryLimit: '256MB', threads: 2 });
  assert.deepEqual(await s.ingest(first.slice(0, 10)), { accepted: 10, duplicates: 0 });
  assert.deepEqual(await s.ingest(first), { accepted: 19_990, duplicates: 10 });
  await s.close();
  s = await DuckDBStore.open(path, { memoryLimit: '256MB', threads: 2 });
  try {
    const again = [
      ...first.slice(15_000),
      ev(5, 'other-host'),
      ...first.slice(0, 9000),
      ev(20_000),
      ev(20_000),
    ];
    assert.deepEqual(await s.ingest(again), { accepted: 2, duplicates: again.length - 2 });
    assert.equal(await s.count(), 20_002);
    assert.equal((await s.hosts()).length, 8);
  } finally {
    await s.close();
  }
  // As `serve` opens it: the filter is built in the background before any ingest, and dedups the same.
  s = await DuckDBStore.open(path, { memoryLimit: '256MB', threads: 2, warm: true });
  try {
    const built = () => (s as unknown as { filter?: unknown }).filter !== undefined;
    for (let i = 0; i < 500 && !built(); i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(built(), 'the filter was built without an ingest');
    assert.deepEqual(await s.ingest(first.slice(0, 100)), { accepted: 0, duplicates: 100 });
    assert.deepEqual(await s.ingest([ev(30_000)]), { accepted: 1, duplicates: 0 });
  } finally {
    await s.close();
  }
});

test('a file from before the key columns gets them, filled from host and id, and dedups as before', async () => {
  const path = join(dir, 'nokeys.db');
  let s = await DuckDBStore.open(path, { memoryLimit: '256MB', threads: 2 });
  await s.ingest(fleetFixture());
  const want = await answers(s);
  await s.close();
  // What a build before the key columns left; and a row written by SQL, without keys (the fleet bench does so).
  await raw(path, async (c) => {
    await c.run('ALTER TABLE events DROP COLUMN kh');
    await c.run('ALTER TABLE events DROP COLUMN kl');
  });
  s = await DuckDBStore.open(path, { memoryLimit: '256MB', threads: 2 });
  await s.close();
  await raw(path, async (c) => {
    await c.run(`INSERT INTO events (${COLUMNS}) SELECT 'sql1', ts, day, host, type, source, rule, sev, coin, pool,
      port, domain, dst_ip, family, exe, sha256, wallet, account, dropper, bytes, data FROM events LIMIT 1`);
  });
  s = await DuckDBStore.open(path, { memoryLimit: '256MB', threads: 2 });
  try {
    assert.deepEqual(await s.ingest(fleetFixture()), { accepted: 0, duplicates: 13 });
    const sql1 = { ...fleetFixture()[0]!, id: 'sql1' };
    assert.deepEqual(await s.ingest([sql1]), { accepted: 0, duplicates: 1 });
    assert.equal(await s.count(), 14);
    // The derived tables were folded before the columns were added and hold the SQL row's copy too.
    const coins = await s.rank('coin');
    assert.deepEqual(
      coins.map((c) => [c.key, c.events]),
      want[2].map((c) => [c.key, c.events + (c.key === 'XMR' ? 1 : 0)]),
    );
  } finally {
    await s.close();
  }
  for (const row of (await storedRows(path)).values())
    assert.deepEqual([row.kh, row.kl], keyHash(String(row.host), String(row.id)));
});

test('folds run beside commits: every read sees every acknowledged event', async () => {
  const path = join(dir, 'fold.db');
  const s = await DuckDBStore.open(path, {
    memoryLimit: '256MB',
    threads: 2,
    foldAfter: 500,
    compactAfter: 300,
  });
  try {
    const batch = (b: number) =>
      Array.from(
        { length: 400 },
        (_, i) =>
          ({
            id: `b${b}-${i}`,
            time: new Date(Date.UTC(2026, 0, 1 + (i % 5)) + b).toISOString(),
            host: `h${i % 11}`,
            type: 'connection',
            src_ip: '10.0.0.1',
            dst_ip: '1.2.3.4',
            dst_port: 3333,
            coin: i % 2 ? 'xmr' : 'etc',
            pool: `pool${i % 3}.example`,
          }) as MinewatchEvent,
      );
    let acked = 0;
    const reads: Promise<void>[] = [];
    for (let b = 0; b < 12; b++) {
      const r = await s.ingest(batch(b));
      acked += r.accepted;
      const seen = acked;
      // A read right after each ack (folds queued behind running ones) counts at least what was acked.
      reads.push(
        s.rank('coin').then((rows) => {
          assert.ok(rows.reduce((a, x) => a + x.events, 0) >= seen);
        }),
      );
    }
    await Promise.all(reads);
    const coins = await s.rank('coin');
    assert.deepEqual(
      coins.map((c) => [c.key, c.events, c.hosts]),
      [
        ['ETC', 2400, 11],
        ['XMR', 2400, 11],
      ],
    );
    assert.equal(
      (await s.series('pool', { countHosts: false })).reduce((a, x) => a + x.events, 0),
      4800,
    );
    assert.ok(s.commitStats.folds >= 2);
  } finally {
    await s.close();
  }
});
