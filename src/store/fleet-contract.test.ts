import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { ClickHouseStore } from './clickhouse.ts';
import { DuckDBStore } from './duckdb.ts';
import { fleetStoreContract } from './fleet-contract.ts';
import { testClickHouse, uniqueDb } from './testkit.ts';
import type { Store } from './types.ts';

const dir = mkdtempSync(join(tmpdir(), 'minewatch-fleet-store-'));
let n = 0;
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

fleetStoreContract(
  'duckdb',
  () => DuckDBStore.open(join(dir, `f${n++}.db`), { memoryLimit: '256MB', threads: 2 }),
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

fleetStoreContract(
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
