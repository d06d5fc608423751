import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { ClickHouseStore } from './clickhouse.ts';
import { storeContract } from './contract.ts';
import { DuckDBStore } from './duckdb.ts';
import { testClickHouse, uniqueDb } from './testkit.ts';
import type { Store } from './types.ts';

const dir = mkdtempSync(join(tmpdir(), 'minewatch-store-'));
let n = 0;
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

storeContract(
  'duckdb',
  // compactAfter 3, foldAfter 2: commits fold and rollups are merged every few commits, so answers go through
  // commit-time folds, read-time folds and merges.
  () =>
    DuckDBStore.open(join(dir, `s${n++}.db`), {
      memoryLimit: '256MB',
      threads: 2,
      compactAfter: 3,
      foldAfter: 2,
    }),
  async (s) => {
    await s.close();
    return DuckDBStore.open(s.location, { memoryLimit: '256MB', threads: 2 });
  },
);

const ch = await testClickHouse();
const dbs: string[] = [];
after(async () => {
  if (ch.url) {
    for (const db of dbs) {
      const s = await ClickHouseStore.open(`${ch.url}/${db}`);
      await s.dropDatabase();
      await s.close();
    }
  }
  await ch.stop();
});
if (ch.skip) process.stderr.write(`${ch.skip}\n`);

storeContract(
  'clickhouse',
  async () => {
    const db = uniqueDb();
    dbs.push(db);
    return ClickHouseStore.open(`${ch.url}/${db}`);
  },
  async (s: Store) => {
    await s.close();
    return ClickHouseStore.open(`clickhouse://${s.location.slice('clickhouse://'.length)}`);
  },
  ch.skip,
);
