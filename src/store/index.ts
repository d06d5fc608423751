/**
 * The store's face: `openStore(url)` picks the engine from `--db` (a file path: embedded DuckDB; a
 * `clickhouse://` URL: ClickHouse), the same on every command that uses the store.
 */
import { Option } from 'commander';
import type { Store } from './types.ts';

export { contentId, type ParsedBatch, parseBatch, type Rejected, toRow, validateEvent } from './row.ts';
export { chInt, chString, chStringList, tsvField } from './sql.ts';
export * from './types.ts';

/** Where the store lives when `--db` is not given. */
export const DEFAULT_DB = 'minewatch.db';

export function defaultDb(): string {
  return process.env.MINEWATCH_DB || DEFAULT_DB;
}

export function isClickHouseUrl(db: string): boolean {
  return /^clickhouses?:\/\//i.test(db);
}

/** `--db URL` as every command declares it. */
export function dbOption(): Option {
  return new Option(
    '--db <url>',
    `store: a file path (embedded, default ${DEFAULT_DB} or $MINEWATCH_DB) or clickhouse://[user:pass@]host:port/db`,
  );
}

/** Opens (and creates when missing) the store at `db`. Engines are imported lazily: each pulls a native client. */
export async function openStore(
  db: string = defaultDb(),
  opts: { memoryLimit?: string; threads?: number; warm?: boolean } = {},
): Promise<Store> {
  if (isClickHouseUrl(db)) {
    const { ClickHouseStore } = await import('./clickhouse.ts');
    return ClickHouseStore.open(db);
  }
  const { DuckDBStore } = await import('./duckdb.ts');
  return DuckDBStore.open(db, opts);
}
