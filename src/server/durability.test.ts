/**
 * "Nothing is lost": kill -9 the server in the middle of a load, restart it on the same store, and every event
 * it acknowledged is there (and a retried batch is still counted once).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ClickHouseStore } from '../store/clickhouse.ts';
import { testClickHouse, uniqueDb } from '../store/testkit.ts';
import { http, ndjson, spawnServe } from './testkit.ts';

const ADMIN = 'durability-admin-token-0123456789abcdef';
const dir = mkdtempSync(join(tmpdir(), 'minewatch-durable-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

const ch = await testClickHouse();
after(() => ch.stop());

async function killMidLoad(db: string): Promise<void> {
  const env = { MINEWATCH_ADMIN_TOKEN: ADMIN, MINEWATCH_DUCKDB_MEMORY: '256MB' };
  const first = await spawnServe(['--db', db, '--listen', '127.0.0.1:0', '--rate-limit', '0'], env);
  const acked = new Set<string>();
  const exited = new Promise((r) => first.child.once('exit', r));
  let stop = false;
  let sent = 0;
  // Four clients posting 250-event batches until the server dies under them.
  const client = async (c: number) => {
    for (let b = 0; !stop && b < 40; b++) {
      const events = Array.from({ length: 250 }, (_, i) => ({
        id: `c${c}-b${b}-${i}`,
        time: new Date(Date.UTC(2026, 2, 1) + (b * 250 + i) * 1000).toISOString(),
        host: `host-${c}`,
        type: 'connection',
        src_ip: '10.0.0.1',
        dst_ip: '1.2.3.4',
        dst_port: 3333,
        pool: 'pool.example',
        coin: 'xmr',
      }));
      sent += events.length;
      try {
        const r = await http(`${first.url}/api/v1/events`, { token: ADMIN, body: ndjson(events) });
        if (r.status === 200) for (const e of events) acked.add(e.id);
      } catch {
        return; // the server is gone: this batch was never acknowledged
      }
    }
  };
  const load = Promise.all([0, 1, 2, 3].map(client));
  // Kill once a fair part of the load is acknowledged, while batches are still in flight.
  const deadline = Date.now() + 20_000;
  while (acked.size < 5000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  first.child.kill('SIGKILL');
  stop = true;
  await load;
  await exited;
  assert.ok(acked.size >= 5000, `only ${acked.size} events acknowledged before the kill`);
  assert.ok(sent > acked.size, 'the kill should land while batches are in flight');

  const second = await spawnServe(['--db', db, '--listen', '127.0.0.1:0'], env);
  try {
    // Every stored event, a page at a time (the API never answers the whole store at once).
    const all: { id: string }[] = [];
    for (let cursor = ''; ; ) {
      const r = await http(
        `${second.url}/api/v1/events?type=connection&limit=1000${cursor ? `&cursor=${cursor}` : ''}`,
        { token: ADMIN },
      );
      assert.equal(r.status, 200);
      all.push(...(r.body.events as { id: string }[]));
      if (!r.body.next) break;
      cursor = String(r.body.next);
    }
    const stored = new Set(all.map((e) => e.id));
    const missing = [...acked].filter((id) => !stored.has(id));
    assert.deepEqual(missing.slice(0, 5), [], `${missing.length} acknowledged events lost`);
    assert.equal(stored.size, all.length, 'no event stored twice');
    // Re-sending an acknowledged batch after the restart is counted as duplicates.
    const again = [...acked].slice(0, 3).map((id) => all.find((e) => e.id === id));
    const re = await http(`${second.url}/api/v1/events`, { token: ADMIN, body: ndjson(again) });
    assert.deepEqual([re.body.accepted, re.body.duplicates], [0, 3]);
  } finally {
    second.child.kill('SIGTERM');
    await new Promise((r) => second.child.once('exit', r));
  }
}

test('duckdb: kill -9 mid-load loses no acknowledged event', { timeout: 60_000 }, async () => {
  await killMidLoad(join(dir, 'durable.db'));
});

test('clickhouse: kill -9 of a replica mid-load loses no acknowledged event', {
  skip: ch.skip ?? false,
  timeout: 60_000,
}, async () => {
  const url = `${ch.url}/${uniqueDb('mw_durable')}`;
  try {
    await killMidLoad(url);
  } finally {
    const s = await ClickHouseStore.open(url);
    await s.dropDatabase();
    await s.close();
  }
});
