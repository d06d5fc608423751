/**
 * Runs an engine contract suite (contract.ts, fleet-contract.ts) on both engines: the embedded one, each store
 * a new file in a temp dir, and ClickHouse, each store a new database dropped when the file's tests end.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { ClickHouseStore } from './clickhouse.ts';
import { DuckDBStore, type DuckDBStoreOptions } from './duckdb.ts';
import { testClickHouse, uniqueDb } from './testkit.ts';
import type { Store } from './types.ts';

export type ContractSuite = (
  name: string,
  open: () => Promise<Store>,
  reopen: (s: Store) => Promise<Store>,
  skip?: string,
) => void;

const BASE: DuckDBStoreOptions = { memoryLimit: '256MB', threads: 2 };

/** `firstOpen` is merged into the embedded store's options when it is created (not when it is reopened). */
export async function onBothEngines(suite: ContractSuite, firstOpen: DuckDBStoreOptions = {}): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'minewatch-contract-'));
  let n = 0;
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  suite(
    'duckdb',
    () => DuckDBStore.open(join(dir, `s${n++}.db`), { ...BASE, ...firstOpen }),
    async (s) => {
      await s.close();
      return DuckDBStore.open(s.location, BASE);
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
  suite(
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
}
