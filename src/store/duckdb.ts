/**
 * The embedded engine: one DuckDB file, no server. Why DuckDB and not SQLite: the fleet queries group millions
 * of rows by day and pool with distinct hosts, where a columnar engine is 10-15x faster (README "Store"); a
 * commit writes and fsyncs DuckDB's WAL, so an acknowledged batch survives kill -9 and power loss.
 *
 * Layout: `events` (one row per event, columns from `toRow`, the JSON in `data`, and `kh`/`kl`, the hash of
 * its host and id) and tables derived from it:
 * `host_day`, per (day, host, type, coin, pool, port, family) the count, bytes, first/last time and highest
 * severity; `host_all`, the same over all time; `host_sum`, per host with its latest heartbeat; `instance_all`
 * and `campaign_all` (miner instances and campaign keys over all time); `finding_events`, the finding events
 * again. Rankings and daily series read the rollups; ranges that do not fall on whole UTC days read `events`.
 * Commits only append to `events`; the derived tables are brought up to date by a "fold" of the events past a
 * durable mark (in bulk: in the background on a connection of its own once 500,000 events are pending, and
 * before any read that needs them), and a rollup is re-aggregated ("compacted") when it has doubled, so
 * nothing is updated in place.
 *
 * Writing: a batch goes to DuckDB as one packed byte string per chunk of rows (pack.ts), split into rows and
 * columns by DuckDB itself in `INSERT INTO events SELECT ... string_split(...)`: one native call per chunk,
 * not 22 appender calls per row, and no staging table. Chunks of one commit are pipelined: the next chunk is
 * packed in JS while DuckDB inserts the previous one on its own threads.
 *
 * Dedup: each row carries a 64-bit hash of its (host, id) computed in JS (`keyHash`), stored in `events.kh`/
 * `kl`. A `KeyFilter` (Bloom filter over those hashes, rebuilt from the two columns on the first ingest after
 * open) says which rows are new for certain; only the rest (a retried batch, repeats inside the group, rare
 * false positives) are confirmed against the group so far and against `events`, by hash first and then by host
 * and id, whatever their time: dedup is by (host, id).
 *
 * Files from before the key columns (0.1.0 development builds) get them on open: added, and filled from
 * host and id (`fillKeys`), as are rows written into `events` by SQL (the fleet bench generates 10M so).
 */

import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname } from 'node:path';
import {
  type DuckDBConnection,
  DuckDBInstance,
  type DuckDBPreparedStatement,
  type DuckDBValue,
} from '@duckdb/node-api';
import type { MinewatchEvent } from '../findings/index.ts';
import {
  campaignRow,
  hostRow,
  instanceRow,
  limitOf,
  minSev,
  pageCut,
  rankRow,
  storedFinding,
  tokenRow,
} from './answers.ts';
import { auditBounds, auditRow, checkAudit, checkFleetRecord, fleetRecordRow } from './fleet-rows.ts';
import { GroupCommitter, type Submission } from './group.ts';
import { KeyFilter } from './keyfilter.ts';
import {
  ESCAPABLE_FIELDS,
  escapeField,
  PACKED_FIELDS,
  type PackedChunk,
  RowPacker,
  sourceText,
} from './pack.ts';
import { boundMs } from './row.ts';
import type {
  AuditEntry,
  AuditQuery,
  CampaignKey,
  CampaignRow,
  Dim,
  EventPageQuery,
  EventPageRow,
  EventQuery,
  FindingQuery,
  FleetRecord,
  HostKeyRow,
  HostRow,
  IngestOptions,
  IngestResult,
  InstanceRow,
  PageCursor,
  Range,
  RankQuery,
  RankRow,
  SeriesRow,
  Store,
  StoredFinding,
  TokenRecord,
  TokenSelector,
} from './types.ts';

const DAY_MS = 86_400_000;
/**
 * Rows per packed chunk: one INSERT each, the next packed in JS while DuckDB inserts it. Smaller overlaps
 * more of a commit's JS and DuckDB work; larger costs fewer statements.
 */
const CHUNK_ROWS = 8192;
/**
 * Rows per INSERT of submissions packed before their commit started (nothing left to overlap): larger, since
 * each statement waits for a turn of the JS event loop to be issued, and a bulk loader keeps that loop busy
 * (8,192-row INSERTs left DuckDB idle half of an import). Inserting 983,040 import rows straight into DuckDB
 * in transactions of 122,880: 40,960-row INSERTs 1.44 s, one 122,880-row INSERT 2.01 s (load 1.2).
 */
const PACKED_INSERT_ROWS = 40_960;
/**
 * Events per group (one transaction) at most: DuckDB's row group. A transaction of whole row groups is
 * written straight into the file at COMMIT ("optimistic writes") instead of the WAL and a later checkpoint.
 * Groups form from what is queued when the previous commit ends, so an import's rarely fill one exactly and
 * mostly go through the WAL (~320 bytes an event; 1M events leave ~100 MB, checkpointed at close in ~0.7 s).
 * Holding an import's submissions until they filled whole row groups was measured and gained nothing (1M
 * NDJSON events: 85-93k events/s either way, load ~1.8): the same bytes are then written at each commit.
 */
const GROUP_EVENTS = 122_880;

const EVENT_COLUMNS = `id VARCHAR NOT NULL, ts BIGINT NOT NULL, day INTEGER NOT NULL, host VARCHAR NOT NULL,
  type VARCHAR NOT NULL, source VARCHAR NOT NULL, rule VARCHAR NOT NULL, sev TINYINT NOT NULL, coin VARCHAR NOT NULL,
  pool VARCHAR NOT NULL, port INTEGER NOT NULL, domain VARCHAR NOT NULL, dst_ip VARCHAR NOT NULL,
  family VARCHAR NOT NULL, exe VARCHAR NOT NULL, sha256 VARCHAR NOT NULL, wallet VARCHAR NOT NULL,
  account VARCHAR NOT NULL, dropper VARCHAR NOT NULL, bytes BIGINT NOT NULL, data VARCHAR NOT NULL,
  kh UINTEGER, kl UINTEGER`;

/**
 * The columns of `events` that hold the row itself (`toRow`'s fields), in table order: all but the key hash
 * `kh`/`kl`, which rows written by SQL leave NULL for the store to fill on open (`fillKeys`).
 */
export const EVENT_ROW_COLUMNS =
  'id, ts, day, host, type, source, rule, sev, coin, pool, port, domain, dst_ip, family, exe, sha256, wallet, account, dropper, bytes, data';

const DIM_COLS = 'host, type, coin, pool, port, family';
/** The events a miner instance is seen in. */
const INSTANCE_WHERE = "exe <> '' AND (type = 'finding' OR (type = 'process' AND family <> ''))";
const DIM_DEFS = `host VARCHAR NOT NULL, type VARCHAR NOT NULL, coin VARCHAR NOT NULL, pool VARCHAR NOT NULL,
  port INTEGER NOT NULL, family VARCHAR NOT NULL`;
/**
 * Byte totals are HUGEINT (128-bit): a row holds at most 2 * 2^53 (validation), so no sum of them can overflow,
 * where a BIGINT total of a few hundred such rows did and failed every later fold and read.
 */
const SUM_DEFS =
  'n BIGINT NOT NULL, bytes HUGEINT NOT NULL, first_ts BIGINT NOT NULL, last_ts BIGINT NOT NULL, sev TINYINT NOT NULL';

/**
 * A rollup: each fold appends the partial aggregate of the new events (`partial`), and the table is
 * re-aggregated (`merge`) when it has doubled, so nothing is updated in place.
 */
interface Rollup {
  table: string;
  columns: string;
  partial: (src: string) => string;
  merge: string;
}

const ROLLUPS: readonly Rollup[] = [
  {
    table: 'host_day',
    columns: `day INTEGER NOT NULL, ${DIM_DEFS}, ${SUM_DEFS}`,
    partial: (src) =>
      `SELECT day, ${DIM_COLS}, count(*), sum(bytes), min(ts), max(ts), max(sev) FROM ${src} GROUP BY ALL`,
    merge: `SELECT day, ${DIM_COLS}, sum(n)::BIGINT, sum(bytes)::HUGEINT, min(first_ts), max(last_ts), max(sev)
      FROM host_day GROUP BY ALL`,
  },
  {
    // host_day without the day: rankings over all time read ~300k rows instead of ~9M at 10M events (a fleet
    // sends about one event per host and day, so host_day is nearly as long as `events`).
    table: 'host_all',
    columns: `${DIM_DEFS}, ${SUM_DEFS}`,
    partial: (src) =>
      `SELECT ${DIM_COLS}, count(*), sum(bytes), min(ts), max(ts), max(sev) FROM ${src} GROUP BY ALL`,
    merge: `SELECT ${DIM_COLS}, sum(n)::BIGINT, sum(bytes)::HUGEINT, min(first_ts), max(last_ts), max(sev)
      FROM host_all GROUP BY ALL`,
  },
  {
    // Per host: first/last time, events, bytes, findings, highest severity and the latest heartbeat (time and
    // JSON). `hosts()` and the all-time host ranking read it instead of the events table, whose heartbeat JSON
    // was most of a `hosts()` (5.2 s at 10M events).
    table: 'host_sum',
    columns: `host VARCHAR NOT NULL, first_ts BIGINT NOT NULL, last_ts BIGINT NOT NULL, n BIGINT NOT NULL,
      bytes HUGEINT NOT NULL, findings BIGINT NOT NULL, sev TINYINT NOT NULL, hb_ts BIGINT, hb_data VARCHAR`,
    partial: (src) =>
      `SELECT host, min(ts), max(ts), count(*), sum(bytes), count(*) FILTER (WHERE type = 'finding'), max(sev),
         max(ts) FILTER (WHERE type = 'heartbeat'), arg_max(data, ts) FILTER (WHERE type = 'heartbeat')
       FROM ${src} GROUP BY host`,
    merge: `SELECT host, min(first_ts), max(last_ts), sum(n)::BIGINT, sum(bytes)::HUGEINT, sum(findings)::BIGINT,
        max(sev), max(hb_ts), arg_max(hb_data, hb_ts) FILTER (WHERE hb_ts IS NOT NULL)
      FROM host_sum GROUP BY host`,
  },
  {
    // Miner instances over all time (`instances()` without a range): ~30k rows instead of a scan of `events`.
    table: 'instance_all',
    columns: `host VARCHAR NOT NULL, exe VARCHAR NOT NULL, sha256 VARCHAR NOT NULL, family VARCHAR NOT NULL,
      n BIGINT NOT NULL, first_ts BIGINT NOT NULL, last_ts BIGINT NOT NULL`,
    partial: (src) =>
      `SELECT host, exe, sha256, max(family), count(*), min(ts), max(ts) FROM ${src} WHERE ${INSTANCE_WHERE}
       GROUP BY host, exe, sha256`,
    merge: `SELECT host, exe, sha256, max(family), sum(n)::BIGINT, min(first_ts), max(last_ts) FROM instance_all
      GROUP BY host, exe, sha256`,
  },
  {
    // Campaign keys (wallet, dropper, account) per host over all time (`campaigns()` without a range).
    table: 'campaign_all',
    columns: `kind VARCHAR NOT NULL, key VARCHAR NOT NULL, host VARCHAR NOT NULL, n BIGINT NOT NULL,
      first_ts BIGINT NOT NULL, last_ts BIGINT NOT NULL`,
    partial: (src) =>
      ['wallet', 'dropper', 'account']
        .map(
          (k) =>
            `SELECT '${k}', ${k}, host, count(*), min(ts), max(ts) FROM ${src} WHERE ${k} <> '' GROUP BY ALL`,
        )
        .join(' UNION ALL '),
    merge: `SELECT kind, key, host, sum(n)::BIGINT, min(first_ts), max(last_ts) FROM campaign_all GROUP BY ALL`,
  },
];

/**
 * Finding events again, with the columns `findings()` filters on: about 1 in 100 events, so reading findings'
 * JSON no longer drags the whole events.data column (the findings of 10M events took 4 s, 3.7 s of it `data`).
 */
const FINDING_COLUMNS = `id VARCHAR NOT NULL, ts BIGINT NOT NULL, host VARCHAR NOT NULL, source VARCHAR NOT NULL,
  rule VARCHAR NOT NULL, sev TINYINT NOT NULL, coin VARCHAR NOT NULL, data VARCHAR NOT NULL`;
const FINDING_SELECT = (src: string) =>
  `SELECT id, ts, host, source, rule, sev, coin, data FROM ${src} WHERE type = 'finding'`;
/** Version of the derived tables (rollups, `finding_events`); a file with an older one gets them rebuilt on open. */
const ROLLUP_VERSION = '6';

/**
 * Rebuilds every derived table from `events` (a file from before they existed, or a bench that wrote `events`
 * in SQL). One transaction on the given connection.
 */
export async function rebuildDerived(c: DuckDBConnection): Promise<void> {
  await c.run('BEGIN TRANSACTION');
  try {
    for (const r of ROLLUPS) {
      // Dropped, not emptied: a file from an older version may have other column types (BIGINT byte totals).
      await c.run(`DROP TABLE IF EXISTS ${r.table}`);
      await c.run(`CREATE TABLE ${r.table} (${r.columns})`);
      await c.run(`INSERT INTO ${r.table} ${r.partial('events')}`);
    }
    await c.run('DELETE FROM finding_events');
    await c.run(`INSERT INTO finding_events ${FINDING_SELECT('events')}`);
    await c.run(`INSERT OR REPLACE INTO meta VALUES ('rollups', '${ROLLUP_VERSION}')`);
    await c.run("INSERT OR REPLACE INTO meta SELECT 'folded', CAST(count(*) AS VARCHAR) FROM events");
    await c.run('COMMIT');
  } catch (err) {
    await c.run('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/** Undoes pack.ts's escapes of 0x1d-0x1f in a text field (used only for chunks that needed them). */
const unescapeSql = (x: string) =>
  `replace(replace(replace(${x}, chr(29) || '2', chr(31)), chr(29) || '1', chr(30)), chr(29) || '0', chr(29))`;

/** Rows of a packed byte string parameter as lists of fields. */
const SPLIT_ROWS = (param: string) =>
  `(SELECT string_split(r, chr(31)) AS l FROM (SELECT unnest(string_split(${param}, chr(30))) AS r))`;

/**
 * The INSERT of one packed chunk (pack.ts) bound as a BLOB: DuckDB splits it into rows and fields and casts
 * them, on its own threads. A row with the wrong number of fields fails the statement (a packer bug, never
 * bad input: text fields are escaped and JSON holds no separator).
 */
function insertPackedSql(escaped: boolean): string {
  const at = (name: (typeof PACKED_FIELDS)[number]) => `l[${PACKED_FIELDS.indexOf(name) + 1}]`;
  const text = (name: (typeof PACKED_FIELDS)[number]) =>
    escaped && ESCAPABLE_FIELDS.has(name) ? unescapeSql(at(name)) : at(name);
  const n = PACKED_FIELDS.length;
  return `INSERT INTO events (${EVENT_ROW_COLUMNS}, kh, kl)
    SELECT ${text('id')}, ts, (ts // ${DAY_MS})::INTEGER, ${text('host')}, ${text('type')}, ${text('source')},
      ${text('rule')}, ${at('sev')}::TINYINT, ${text('coin')}, ${text('pool')}, ${at('port')}::INTEGER,
      ${text('domain')}, ${text('dst_ip')}, ${text('family')}, ${text('exe')}, ${text('sha256')}, ${text('wallet')},
      ${text('account')}, ${text('dropper')}, ${at('bytes')}::BIGINT, ${at('data')}, ${at('kh')}::UINTEGER,
      ${at('kl')}::UINTEGER
    FROM (SELECT l, CASE WHEN len(l) = ${n} THEN ${at('ts')}::BIGINT
            ELSE error('packed row with ' || len(l) || ' fields, not ${n}') END AS ts
          FROM ${SPLIT_ROWS('decode($1)')})`;
}

/** Duplicate candidates (pos, kh, kl, host, id) as a packed text parameter, into the temp table `cand`. */
const CAND_INSERT = `INSERT INTO cand SELECT l[1]::INTEGER, l[2]::UINTEGER, l[3]::UINTEGER, ${unescapeSql('l[4]')},
  ${unescapeSql('l[5]')} FROM ${SPLIT_ROWS('$1')}`;

/** Rows whose key columns are missing, per INSERT into the fill table. */
const FILL_CHUNK = 500_000;

/**
 * Fills `kh`/`kl` of rows that lack them (a file from before the columns, or rows written by SQL), from
 * host and id, as pack.ts computes them at ingest. `w` writes; `r` (another connection of the same
 * instance) streams the rows. Returns the rows filled. 2M rows took 2.4 s here (load ~1.5).
 */
export async function fillKeys(w: DuckDBConnection, r: DuckDBConnection): Promise<number> {
  const missing = 'kh IS NULL OR kl IS NULL';
  const count = await w.runAndReadAll(`SELECT count(*) FROM events WHERE ${missing}`);
  if (!Number(count.getRows()[0]?.[0] ?? 0)) return 0;
  await w.run(
    'CREATE OR REPLACE TEMP TABLE keyfill (rid BIGINT NOT NULL, kh UINTEGER NOT NULL, kl UINTEGER NOT NULL)',
  );
  let filled = 0;
  const pk = new RowPacker(16 << 20);
  const flush = async () => {
    if (!pk.size) return;
    const stmt = await w.prepare(
      `INSERT INTO keyfill SELECT l[1]::BIGINT, l[2]::UINTEGER, l[3]::UINTEGER FROM ${SPLIT_ROWS('decode($1)')}`,
    );
    stmt.bindBlob(1, pk.chunk().bytes);
    await stmt.run();
    pk.reset();
  };
  // rowid as a DOUBLE: a JS number, not a bigint (exact below 2^53).
  const res = await r.stream(`SELECT rowid::DOUBLE, host, id FROM events WHERE ${missing}`);
  for (let c = await res.fetchChunk(); c && c.rowCount > 0; c = await res.fetchChunk()) {
    const rid = c.getColumnValues(0) as number[];
    pk.addKeyRows(rid, c.getColumnValues(1) as string[], c.getColumnValues(2) as string[]);
    filled += rid.length;
    if (pk.size >= FILL_CHUNK * 24) await flush();
  }
  await flush();
  await w.run('BEGIN TRANSACTION');
  try {
    await w.run('UPDATE events SET kh = k.kh, kl = k.kl FROM keyfill k WHERE events.rowid = k.rid');
    await w.run('COMMIT');
  } catch (err) {
    await w.run('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    await w.run('DROP TABLE IF EXISTS keyfill');
  }
  return filled;
}

/** Adds the key columns to an `events` table from before them (filled by `fillKeys`). */
async function ensureKeyColumns(w: DuckDBConnection): Promise<void> {
  const r = await w.runAndReadAll(
    `SELECT column_name FROM duckdb_columns() WHERE database_name = current_database() AND schema_name = 'main'
       AND table_name = 'events'`,
  );
  const have = new Set(r.getRows().map((x) => String(x[0])));
  for (const col of ['kh', 'kl'])
    if (!have.has(col)) await w.run(`ALTER TABLE events ADD COLUMN ${col} UINTEGER`);
}

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS events (${EVENT_COLUMNS})`,
  ...ROLLUPS.map((r) => `CREATE TABLE IF NOT EXISTS ${r.table} (${r.columns})`),
  `CREATE TABLE IF NOT EXISTS finding_events (${FINDING_COLUMNS})`,
  `CREATE TABLE IF NOT EXISTS tokens (id VARCHAR PRIMARY KEY, name VARCHAR NOT NULL, admin BOOLEAN NOT NULL,
    hash VARCHAR NOT NULL, created VARCHAR NOT NULL, revoked BOOLEAN NOT NULL)`,
  // The host an agent token speaks for (files from before it get the column).
  'ALTER TABLE tokens ADD COLUMN IF NOT EXISTS host VARCHAR',
  `CREATE TABLE IF NOT EXISTS meta (k VARCHAR PRIMARY KEY, v VARCHAR NOT NULL)`,
  // Fleet response (issue 17): decisions, approvals and agent reports by (kind, id); the audit log.
  `CREATE TABLE IF NOT EXISTS fleet_state (kind VARCHAR NOT NULL, id VARCHAR NOT NULL, version BIGINT NOT NULL,
    data VARCHAR, PRIMARY KEY (kind, id))`,
  `CREATE TABLE IF NOT EXISTS audit_log (id VARCHAR PRIMARY KEY, ts BIGINT NOT NULL, actor VARCHAR NOT NULL,
    action VARCHAR NOT NULL, host VARCHAR NOT NULL, subject VARCHAR NOT NULL, detail VARCHAR NOT NULL)`,
];

/** SQL expression of a dimension's key in `host_day` and `events` alike. */
const DIM_SQL: Record<Dim, string> = {
  coin: 'coin',
  pool: 'pool',
  port: 'CAST(port AS VARCHAR)',
  family: 'family',
  type: 'type',
  host: 'host',
};
const DIM_NONEMPTY: Record<Dim, string> = {
  coin: "coin <> ''",
  pool: "pool <> ''",
  port: 'port <> 0',
  family: "family <> ''",
  type: 'true',
  host: 'true',
};

export interface DuckDBStoreOptions {
  /** DuckDB memory_limit, e.g. '1GB' (default: MINEWATCH_DUCKDB_MEMORY or 1GB): bounded memory. */
  memoryLimit?: string;
  threads?: number;
  maxGroupEvents?: number;
  /**
   * WAL size that triggers a checkpoint (default: MINEWATCH_DUCKDB_CHECKPOINT or 128MB). DuckDB's own 16MB
   * checkpointed on nearly every 50,000-event commit and made commit the largest cost of bulk ingest (7.1 s of
   * 21 s for 500,000 events; 1.3 s at 256MB, `bench/fleet.ts`). The price is a longer WAL replay on the next
   * open after a crash; the data is as durable either way (the WAL is fsynced at every commit).
   */
  checkpointThreshold?: string;
  /**
   * Build the dedup filter in the background as soon as the store is open (a server): the first ingest
   * otherwise waits for it, ~0.6 us per stored event (a 10M-event store's first 10k batch took 7 s).
   */
  warm?: boolean;
  /** Rows a rollup may grow by (beyond doubling) before it is compacted; default 100,000 (tests: small). */
  compactAfter?: number;
  /** Pending events that make a commit fold them into the derived tables (default 500,000); reads fold anyway. */
  foldAfter?: number;
}

/**
 * The store holds every host's telemetry and the token hashes: its file, WAL and spill directory are the
 * owner's alone. DuckDB creates the WAL (again after each checkpoint) and its temp directory itself, with the
 * process umask, so the umask is narrowed to 077 for this process (files 0600, directories 0700); a
 * directory the path needs is made 0700, and a file an older version made 0644 is narrowed on open.
 */
function privateFiles(path: string): void {
  process.umask(process.umask() | 0o077);
  const dir = dirname(path);
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
}

/** A tiny mutex: one statement sequence at a time per connection. */
class Lane {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.tail.then(fn, fn);
    this.tail = next.catch(() => undefined);
    return next;
  }
}

function dayIso(day: unknown): string {
  return new Date(Number(day) * DAY_MS).toISOString().slice(0, 10);
}

export class DuckDBStore implements Store {
  readonly engine = 'duckdb' as const;
  private readonly committer: GroupCommitter;
  private readonly writeLane = new Lane();
  private readonly readLane = new Lane();
  private readonly foldLane = new Lane();
  /** A fold is queued in the fold lane and has not started. */
  private foldQueued = false;
  /** Rows of each rollup at its last compaction and now: compact when it has doubled. */
  private readonly rollupBase = ROLLUPS.map(() => 0);
  private readonly rollupRows = ROLLUPS.map(() => 0);
  /** Rows in `events` (as far as this process knows) and how many of them the derived tables hold. */
  private stored = 0;
  private folded = 0;
  private filter: KeyFilter | undefined;
  /** Packs commit chunks; another packs submissions made while a commit runs. */
  private readonly packer = new RowPacker(4 << 20);
  private readonly subPacker = new RowPacker();
  private readonly inserts: (Promise<DuckDBPreparedStatement> | undefined)[] = [undefined, undefined];
  /**
   * Where commit time goes, summed over this store's commits (bench/fleet.ts prints it): `packMs` JS packing
   * and filter checks, `waitMs` waiting for DuckDB's INSERTs (what packing did not hide), `dedupMs` confirming
   * candidates, `commitMs` COMMIT; `foldMs` bringing the derived tables up to date (`folds` times).
   */
  readonly commitStats = {
    commits: 0,
    rows: 0,
    chunks: 0,
    packMs: 0,
    waitMs: 0,
    dedupMs: 0,
    commitMs: 0,
    folds: 0,
    foldMs: 0,
  };

  private constructor(
    readonly location: string,
    private readonly instance: DuckDBInstance,
    private readonly writer: DuckDBConnection,
    private readonly reader: DuckDBConnection,
    /** Folds and compactions run here, beside commits (see `foldSoon`). */
    private readonly folder: DuckDBConnection,
    maxGroupEvents: number,
    private readonly compactAfter: number,
    private readonly foldAfter: number,
  ) {
    this.committer = new GroupCommitter(
      (s) => this.writeLane.run(() => this.commitGroup(s)),
      maxGroupEvents,
      (sub, busy) => this.prepareSubmission(sub, busy),
    );
  }

  static async open(path: string, opts: DuckDBStoreOptions = {}): Promise<DuckDBStore> {
    const memory = opts.memoryLimit ?? process.env.MINEWATCH_DUCKDB_MEMORY ?? '1GB';
    const threads = opts.threads ?? Math.max(1, Math.min(4, availableParallelism()));
    if (path !== ':memory:') privateFiles(path);
    let instance: DuckDBInstance;
    try {
      instance = await DuckDBInstance.create(path, {
        memory_limit: memory,
        threads: String(threads),
        checkpoint_threshold: opts.checkpointThreshold ?? process.env.MINEWATCH_DUCKDB_CHECKPOINT ?? '128MB',
      });
    } catch (err) {
      const msg = String((err as Error).message ?? err);
      if (/lock/i.test(msg))
        throw new Error(
          `${path} is open in another process (a running 'minewatch serve'?): the embedded store has one writer; ` +
            `send events through that server's API, stop it first, or use --db clickhouse://... for many processes`,
        );
      throw err;
    }
    if (path !== ':memory:') for (const f of [path, `${path}.wal`]) if (existsSync(f)) chmodSync(f, 0o600);
    const writer = await instance.connect();
    const reader = await instance.connect();
    const folder = await instance.connect();
    for (const sql of SCHEMA) await writer.run(sql);
    await ensureKeyColumns(writer);
    await fillKeys(writer, reader);
    await writer.run(
      `CREATE TEMP TABLE IF NOT EXISTS cand (pos INTEGER NOT NULL, kh UINTEGER NOT NULL, kl UINTEGER NOT NULL,
        host VARCHAR NOT NULL, id VARCHAR NOT NULL)`,
    );
    const store = new DuckDBStore(
      path,
      instance,
      writer,
      reader,
      folder,
      opts.maxGroupEvents ?? GROUP_EVENTS,
      opts.compactAfter ?? 100_000,
      opts.foldAfter ?? 500_000,
    );
    const version = await writer.runAndReadAll("SELECT v FROM meta WHERE k = 'rollups'");
    if (String(version.getRows()[0]?.[0] ?? '') !== ROLLUP_VERSION) await rebuildDerived(writer);
    store.stored = await store.scalar(writer, 'SELECT count(*) FROM events');
    const folded = await writer.runAndReadAll("SELECT v FROM meta WHERE k = 'folded'");
    store.folded = Number(folded.getRows()[0]?.[0] ?? 0);
    for (const [i, r] of ROLLUPS.entries()) {
      const n = await store.scalar(writer, `SELECT count(*) FROM ${r.table}`);
      store.rollupBase[i] = n;
      store.rollupRows[i] = n;
    }
    // On the write lane, so no commit interleaves with it; a commit that comes first builds it itself.
    if (opts.warm) void store.writeLane.run(() => store.keyFilter()).catch(() => undefined);
    return store;
  }

  ingest(events: readonly MinewatchEvent[], opts: IngestOptions = {}): Promise<IngestResult> {
    return this.committer.submit(events, opts.source ?? '', opts.raw);
  }

  private async scalar(conn: DuckDBConnection, sql: string, params: DuckDBValue[] = []): Promise<number> {
    const r = await conn.runAndReadAll(sql, params);
    return Number(r.getRows()[0]?.[0] ?? 0);
  }

  /** The key filter, built from the key columns on the first ingest after open (or when it outgrew its size). */
  private async keyFilter(): Promise<KeyFilter> {
    if (this.filter && !this.filter.full) return this.filter;
    const n = await this.scalar(this.writer, 'SELECT count(*) FROM events');
    // Room for half as many again before it is rebuilt larger (a rebuild reads the keys of every stored event).
    const f = new KeyFilter(Math.max(1_000_000, Math.ceil(1.5 * n)));
    const res = await this.writer.stream('SELECT kh, kl FROM events');
    for (let c = await res.fetchChunk(); c && c.rowCount > 0; c = await res.fetchChunk()) {
      const hi = c.getColumnValues(0) as number[];
      const lo = c.getColumnValues(1) as number[];
      for (let i = 0; i < hi.length; i++) f.add(hi[i]!, lo[i]!);
    }
    this.filter = f;
    return f;
  }

  /** The statement inserting packed chunks (pack.ts), with or without undoing escapes; prepared once. */
  private insertStatement(escaped: boolean): Promise<DuckDBPreparedStatement> {
    const k = escaped ? 1 : 0;
    this.inserts[k] ??= this.writer.prepare(insertPackedSql(escaped));
    return this.inserts[k]!;
  }

  /** Packs a submission on its own (it arrived while a commit ran: this work overlaps that commit's). */
  private prepareSubmission(sub: Submission, busy: boolean): void {
    if (!busy) return;
    const p = this.subPacker;
    p.reset();
    const source = sourceText(sub.source);
    for (let i = 0; i < sub.events.length; i++) p.add(sub.events[i]!, source, sub.raw?.[i], 0);
    sub.packed = p.copy();
  }

  /**
   * Commits one group in one transaction: rows are packed (or copied, when packed on submit) into chunks of
   * CHUNK_ROWS; each chunk is checked against the key filter and, for the rows it cannot clear, against the
   * group so far and the stored events; then inserted while the next chunk is packed.
   */
  private async commitGroup(subs: readonly Submission[]): Promise<number[]> {
    const fresh = subs.map(() => 0);
    const filter = await this.keyFilter();
    const w = this.writer;
    const pk = this.packer;
    /** Rows stored per submission by the chunks inserted so far (counted into `fresh` after COMMIT). */
    const added = subs.map(() => 0);
    let began = false;
    let pending: Promise<unknown> | undefined;
    /** host NUL id of every row of the group so far, from the first chunk with a candidate on. */
    let groupKeys: Set<string> | undefined;
    const earlier: { host: string[]; id: string[] }[] = [];

    const st = this.commitStats;
    let mark = performance.now();
    /** Adds the time since the last mark to `key`. */
    const lap = (key: 'packMs' | 'waitMs' | 'dedupMs' | 'commitMs') => {
      const now = performance.now();
      st[key] += now - mark;
      mark = now;
    };
    const finishPending = async () => {
      if (!pending) return;
      const p = pending;
      pending = undefined;
      lap('packMs');
      await p;
      lap('waitMs');
    };

    const send = async () => {
      if (!pk.rows) return;
      let c = pk.chunk();
      let cands: number[] | undefined;
      for (let i = 0; i < c.n; i++) if (filter.addCheck(c.kh[i]!, c.kl[i]!)) (cands ??= []).push(i);
      await finishPending();
      if (cands || groupKeys) {
        if (!groupKeys) {
          groupKeys = new Set();
          for (const e of earlier)
            for (let i = 0; i < e.host.length; i++) groupKeys.add(`${e.host[i]}\u0000${e.id[i]}`);
        }
        const keep = new Uint8Array(c.n).fill(1);
        const ask: number[] = [];
        let k = 0;
        for (let i = 0; i < c.n; i++) {
          const key = `${c.host[i]}\u0000${c.id[i]}`;
          const cand = cands !== undefined && cands[k] === i;
          if (cand) k++;
          if (groupKeys.has(key)) keep[i] = 0;
          else {
            groupKeys.add(key);
            if (cand) ask.push(i);
          }
        }
        lap('packMs');
        for (const i of await this.storedAmong(c, ask)) keep[i] = 0;
        if (keep.includes(0)) {
          pk.keepRows(keep);
          c = pk.chunk();
        }
        lap('dedupMs');
      } else earlier.push({ host: c.host, id: c.id });
      if (!c.n) {
        pk.reset();
        return;
      }
      if (!began) {
        await w.run('BEGIN TRANSACTION');
        began = true;
      }
      const stmt = await this.insertStatement(c.escaped);
      // Binding copies the bytes: the packer's memory is free for the next chunk as soon as this returns.
      stmt.bindBlob(1, c.bytes);
      const n = c.n;
      for (let i = 0; i < n; i++) added[c.req[i]!]!++;
      pending = stmt.run().then((r) => {
        if (Number(r.rowsChanged) !== n) throw new Error(`inserted ${r.rowsChanged} of ${n} packed rows`);
      });
      // A failure is seen when the next chunk or the commit awaits it; not before, unobserved.
      pending.catch(() => undefined);
      st.chunks++;
      pk.reset();
    };

    try {
      pk.reset();
      for (let s = 0; s < subs.length; s++) {
        const sub = subs[s]!;
        if (sub.packed) {
          const c = sub.packed;
          for (let i = 0; i < c.n; ) {
            const k = Math.min(c.n, i + PACKED_INSERT_ROWS - pk.rows);
            pk.addRows(c, i, k, s);
            i = k;
            if (pk.rows >= PACKED_INSERT_ROWS) await send();
          }
          continue;
        }
        const source = sourceText(sub.source);
        const evs = sub.events;
        for (let i = 0; i < evs.length; i++) {
          pk.add(evs[i]!, source, sub.raw?.[i], s);
          if (pk.rows >= CHUNK_ROWS) await send();
        }
      }
      await send();
      await finishPending();
      if (began) await w.run('COMMIT');
      lap('commitMs');
    } catch (err) {
      await pending?.catch(() => undefined);
      if (began) await w.run('ROLLBACK').catch(() => undefined);
      pk.reset();
      // Keys of this group were added to the filter: harmless (a "maybe" is confirmed against the table).
      throw err;
    }
    let n = 0;
    added.forEach((k, i) => {
      fresh[i] = k;
      n += k;
    });
    this.stored += n;
    st.commits++;
    st.rows += n;
    if (this.stored - this.folded >= this.foldAfter) this.foldSoon();
    return fresh;
  }

  /**
   * Which of the rows `ask` of chunk `c` are stored already: same (host, id) in `events`, matched by key hash
   * first. At any time: dedup is by (host, id) as documented, so an event resent with another time is still
   * the same event (a window on the rows' times made it (host, id, time)). Only rows the key filter could not
   * clear get here (a retried batch; false "maybe"s are ~never, see keyfilter.ts), so the scan of the key
   * columns this costs is paid by retries, not by new events.
   */
  private async storedAmong(c: PackedChunk, ask: number[]): Promise<number[]> {
    if (!ask.length) return [];
    const w = this.writer;
    const parts: string[] = [];
    for (const i of ask)
      parts.push(
        `${i}\x1f${c.kh[i]}\x1f${c.kl[i]}\x1f${escapeField(c.host[i]!)}\x1f${escapeField(c.id[i]!)}`,
      );
    await w.run('DELETE FROM cand');
    await w.run(CAND_INSERT, [parts.join('\x1e')]);
    const r = await w.runAndReadAll(
      `SELECT DISTINCT c.pos FROM cand c JOIN events e ON e.kh = c.kh AND e.kl = c.kl AND e.host = c.host
         AND e.id = c.id`,
    );
    return r.getRows().map((x) => Number(x[0]));
  }

  /**
   * Starts a fold in the background once enough events are pending: after the commit that got there has
   * answered its callers. The fold runs on its own connection in its own transaction, beside later commits
   * (it writes only the derived tables and the mark, commits only append to `events`; DuckDB's MVCC keeps
   * them apart), so a bulk load's commits do not wait for it (a fold of 500,000 events took ~0.9 s of the
   * bench's bulk ingest when its last commit ran it). A failure is not the batch's: the next read folds again and reports it.
   */
  private foldSoon(): void {
    if (this.foldQueued) return;
    this.foldQueued = true;
    void this.foldLane
      .run(async () => {
        this.foldQueued = false;
        await this.fold();
      })
      .catch(() => undefined);
  }

  /**
   * Brings the derived tables up to date: the events stored since the last fold (rowid >= the `folded` mark;
   * events are only ever appended, in rowid order) are aggregated into every rollup and copied to
   * `finding_events`, and the mark moves, in one transaction whose snapshot fixes which events those are.
   * Runs in the fold lane: in the background once enough events are pending (`foldSoon`), and before any read
   * of a derived table (`readDerived`). Folding in bulk instead of on every commit keeps the rollups off the
   * ingest path (5 statements per commit cost HTTP ingest a third of its rate).
   */
  private async fold(): Promise<void> {
    const t0 = performance.now();
    try {
      await this.foldNow();
    } finally {
      this.commitStats.folds++;
      this.commitStats.foldMs += performance.now() - t0;
    }
  }

  private async foldNow(): Promise<void> {
    const f = this.folder;
    const from = this.folded;
    const added: number[] = [];
    let n: number;
    await f.run('BEGIN TRANSACTION');
    try {
      n = await this.scalar(f, 'SELECT count(*) FROM events');
      if (n > from) {
        const src = `(SELECT * FROM events WHERE rowid >= ${from} AND rowid < ${n}) e`;
        for (const r of ROLLUPS)
          added.push(Number((await f.run(`INSERT INTO ${r.table} ${r.partial(src)}`)).rowsChanged));
        await f.run(`INSERT INTO finding_events ${FINDING_SELECT(src)}`);
        await f.run(`INSERT OR REPLACE INTO meta VALUES ('folded', '${n}')`);
      }
      await f.run('COMMIT');
    } catch (err) {
      await f.run('ROLLBACK').catch(() => undefined);
      throw err;
    }
    if (n <= from) return;
    this.folded = n;
    added.forEach((k, i) => {
      // A rollup that was empty holds one partial aggregate now: one row per key, compacted already (a
      // first fold of 500,000 bench events re-aggregated ~450,000 host_day rows for nothing).
      if (this.rollupRows[i] === 0) this.rollupBase[i] = k;
      this.rollupRows[i]! += k;
    });
    for (let i = 0; i < ROLLUPS.length; i++) {
      const base = this.rollupBase[i]!;
      if (this.rollupRows[i]! > Math.max(2 * base, base + this.compactAfter)) await this.compact(i);
    }
  }

  /**
   * A read of the derived tables: pending events are folded in first, so a read sees every acknowledged event
   * (a fold queued now starts after any running one, with a snapshot holding every commit answered so far).
   */
  private async readDerived(sql: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
    if (this.stored > this.folded)
      await this.foldLane.run(async () => {
        if (this.stored > this.folded) await this.fold();
      });
    return this.read(sql, params);
  }

  /** Re-aggregates a rollup: partial rows of one key become one. Runs in the fold lane. */
  private async compact(i: number): Promise<void> {
    const w = this.folder;
    const r = ROLLUPS[i]!;
    await w.run('BEGIN TRANSACTION');
    try {
      await w.run(`CREATE OR REPLACE TEMP TABLE rollup_merge AS ${r.merge}`);
      await w.run(`DELETE FROM ${r.table}`);
      await w.run(`INSERT INTO ${r.table} SELECT * FROM rollup_merge`);
      await w.run('COMMIT');
    } catch (err) {
      await w.run('ROLLBACK').catch(() => undefined);
      throw err;
    }
    await w.run('DROP TABLE IF EXISTS rollup_merge');
    const n = await this.scalar(w, `SELECT count(*) FROM ${r.table}`);
    this.rollupBase[i] = n;
    this.rollupRows[i] = n;
  }

  /** Rows of a read query as plain objects (BIGINTs as JS bigints or numbers: callers apply Number()). */
  private read(sql: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
    return this.readLane.run(async () => {
      const r = await this.reader.runAndReadAll(sql, params as DuckDBValue[]);
      // Column-wise conversion, then objects: getRowObjectsJS took 480 ms for the 72,850 findings of a 10M
      // store, getColumnsJS 52 ms.
      const names = r.columnNames();
      const cols = r.getColumnsJS();
      const n = cols[0]?.length ?? 0;
      const rows: Record<string, unknown>[] = new Array(n);
      for (let i = 0; i < n; i++) {
        const o: Record<string, unknown> = {};
        for (let c = 0; c < names.length; c++) o[names[c]!] = cols[c]![i];
        rows[i] = o;
      }
      return rows;
    });
  }

  /** WHERE terms for a range over `events` (ts) or the rollup (whole days); null when the rollup can't answer. */
  private rangeTerms(q: Range, table: 'events' | 'host_day', terms: string[], params: unknown[]): boolean {
    const from = boundMs(q.from, 'from');
    const to = boundMs(q.to, 'to');
    if (table === 'host_day') {
      if ((from !== undefined && from % DAY_MS) || (to !== undefined && to % DAY_MS)) return false;
      if (from !== undefined) terms.push(`day >= ${Math.floor(from / DAY_MS)}`);
      if (to !== undefined) terms.push(`day < ${Math.floor(to / DAY_MS)}`);
      return true;
    }
    if (from !== undefined) {
      terms.push('ts >= ?');
      params.push(BigInt(from));
    }
    if (to !== undefined) {
      terms.push('ts < ?');
      params.push(BigInt(to));
    }
    return true;
  }

  /** The rollup (or, for ranges inside days, the events table) filtered by range, type and coin. */
  private source(q: RankQuery, params: unknown[], byDay = true): string {
    const terms: string[] = [];
    let table: 'events' | 'host_day' | 'host_all' = 'host_day';
    if (!byDay && allTime(q)) table = 'host_all';
    else if (!this.rangeTerms(q, 'host_day', terms, params)) {
      terms.length = 0;
      table = 'events';
      this.rangeTerms(q, 'events', terms, params);
    }
    if (q.type) {
      terms.push('type = ?');
      params.push(q.type);
    }
    if (q.coin) {
      terms.push('coin = ?');
      params.push(q.coin.toUpperCase());
    }
    if (q.host) {
      terms.push('host = ?');
      params.push(q.host);
    }
    if (q.hosts) {
      if (q.hosts.length) {
        terms.push(`host IN (${q.hosts.map(() => '?').join(', ')})`);
        params.push(...q.hosts);
      } else terms.push('FALSE');
    }
    if (q.pooled) terms.push("pool <> ''");
    const cols =
      table === 'host_all'
        ? 'host, type, coin, pool, port, family, n, bytes, first_ts, last_ts'
        : table === 'host_day'
          ? 'day, host, type, coin, pool, port, family, n, bytes, first_ts, last_ts'
          : 'day, host, type, coin, pool, port, family, 1 AS n, bytes, ts AS first_ts, ts AS last_ts';
    return `(SELECT ${cols} FROM ${table}${terms.length ? ` WHERE ${terms.join(' AND ')}` : ''})`;
  }

  async rank(dim: Dim, q: RankQuery = {}): Promise<RankRow[]> {
    if (dim === 'host' && !q.type && !q.coin && !q.host && !q.hosts && !q.pooled && allTime(q)) {
      // Every host over all time: the per-host rollup has it (one row per host and commit, not per day).
      const rows = await this.readDerived(
        `SELECT host AS key, sum(n)::BIGINT AS events, 1 AS hosts, sum(bytes) AS bytes, min(first_ts) AS first_ts,
           max(last_ts) AS last_ts FROM host_sum GROUP BY host ORDER BY events DESC, key LIMIT ${limitOf(q.limit, 1000)}`,
      );
      return rows.map(rankRow);
    }
    const params: unknown[] = [];
    const src = this.source(q, params, false);
    const order =
      dim === 'port' || dim === 'type' || dim === 'host'
        ? 'events DESC, hosts DESC'
        : 'hosts DESC, events DESC';
    // Two-phase grouping (key, host) then key: much faster in DuckDB than count(DISTINCT host).
    const rows = await this.readDerived(
      `SELECT key, sum(n)::BIGINT AS events, count(*)::BIGINT AS hosts, sum(bytes) AS bytes, min(first_ts) AS first_ts, max(last_ts) AS last_ts
       FROM (SELECT ${DIM_SQL[dim]} AS key, host, sum(n) AS n, sum(bytes) AS bytes, min(first_ts) AS first_ts, max(last_ts) AS last_ts
             FROM ${src} WHERE ${DIM_NONEMPTY[dim]} GROUP BY ALL)
       GROUP BY key ORDER BY ${order}, key LIMIT ${limitOf(q.limit, 1000)}`,
      params,
    );
    return rows.map(rankRow);
  }

  async hostKeys(dim: Dim, q: RankQuery = {}): Promise<HostKeyRow[]> {
    const params: unknown[] = [];
    const src = this.source(q, params, false);
    const rows = await this.readDerived(
      `SELECT host, ${DIM_SQL[dim]} AS key, sum(n)::BIGINT AS events FROM ${src} WHERE ${DIM_NONEMPTY[dim]}
       GROUP BY ALL ORDER BY host, key LIMIT ${limitOf(q.limit, 1_000_000)}`,
      params,
    );
    return rows.map((r) => ({ host: String(r.host), key: String(r.key), events: Number(r.events) }));
  }

  async series(dim: Dim, q: RankQuery = {}): Promise<SeriesRow[]> {
    const params: unknown[] = [];
    const src = this.source(q, params);
    const rows = await this.readDerived(
      q.countHosts === false
        ? `SELECT day, ${DIM_SQL[dim]} AS key, sum(n)::BIGINT AS events, 0 AS hosts FROM ${src}
           WHERE ${DIM_NONEMPTY[dim]} GROUP BY day, key ORDER BY day, key LIMIT ${limitOf(q.limit, 1_000_000)}`
        : `SELECT day, key, sum(n)::BIGINT AS events, count(*)::BIGINT AS hosts
       FROM (SELECT day, ${DIM_SQL[dim]} AS key, host, sum(n) AS n FROM ${src} WHERE ${DIM_NONEMPTY[dim]} GROUP BY ALL)
       GROUP BY day, key ORDER BY day, key LIMIT ${limitOf(q.limit, 1_000_000)}`,
      params,
    );
    return rows.map((r) => ({
      day: dayIso(r.day),
      key: String(r.key),
      events: Number(r.events),
      hosts: Number(r.hosts),
    }));
  }

  async instances(q: Range & { host?: string; limit?: number } = {}): Promise<InstanceRow[]> {
    const params: unknown[] = [];
    const all = allTime(q);
    const terms = all ? [] : [INSTANCE_WHERE];
    this.rangeTerms(q, 'events', terms, params);
    if (q.host) {
      terms.push('host = ?');
      params.push(q.host);
    }
    const where = terms.length ? `WHERE ${terms.join(' AND ')}` : '';
    const rows = await this.readDerived(
      all
        ? `SELECT host, exe, sha256, max(family) AS fam, min(first_ts) AS first_ts, max(last_ts) AS last_ts,
             sum(n)::BIGINT AS events FROM instance_all ${where} GROUP BY host, exe, sha256
           ORDER BY first_ts, host, exe LIMIT ${limitOf(q.limit, 100_000)}`
        : `SELECT host, exe, sha256, max(family) AS fam, min(ts) AS first_ts, max(ts) AS last_ts, count(*)::BIGINT AS events
       FROM events ${where} GROUP BY host, exe, sha256 ORDER BY first_ts, host, exe
       LIMIT ${limitOf(q.limit, 100_000)}`,
      params,
    );
    return rows.map(instanceRow);
  }

  async campaigns(by: CampaignKey, q: Range & { limit?: number } = {}): Promise<CampaignRow[]> {
    const col = CAMPAIGN_COLUMN[by];
    if (!col) throw new RangeError(`unknown campaign key '${String(by)}'`);
    const params: unknown[] = [];
    const terms = [`${col} <> ''`];
    this.rangeTerms(q, 'events', terms, params);
    const inner = allTime(q)
      ? `SELECT key, host, sum(n) AS n, min(first_ts) AS first_ts, max(last_ts) AS last_ts FROM campaign_all
         WHERE kind = '${col}' GROUP BY ALL`
      : `SELECT ${col} AS key, host, count(*) AS n, min(ts) AS first_ts, max(ts) AS last_ts FROM events
         WHERE ${terms.join(' AND ')} GROUP BY ALL`;
    const rows = await this.readDerived(
      `SELECT key, count(*)::BIGINT AS hosts, list(host ORDER BY host)[1:100] AS host_list, sum(n)::BIGINT AS events,
         min(first_ts) AS first_ts, max(last_ts) AS last_ts
       FROM (${inner})
       GROUP BY key ORDER BY hosts DESC, events DESC, key LIMIT ${limitOf(q.limit, 1000)}`,
      params,
    );
    return rows.map(campaignRow);
  }

  async findings(q: FindingQuery = {}): Promise<StoredFinding[]> {
    const params: unknown[] = [];
    const terms = ['true'];
    this.rangeTerms(q, 'events', terms, params);
    if (q.host) terms.push('host = ?') && params.push(q.host);
    if (q.rule) terms.push('rule = ?') && params.push(q.rule);
    if (q.coin) terms.push('coin = ?') && params.push(q.coin.toUpperCase());
    if (q.severity) terms.push(`sev >= ${minSev(q.severity)}`);
    if (q.after) afterTerms(q.after, terms, params);
    const rows = await this.readDerived(
      `SELECT id, ts, host, source, data FROM finding_events WHERE ${terms.join(' AND ')} ORDER BY ts DESC, host, id
       LIMIT ${limitOf(q.limit, 1000)}`,
      params,
    );
    return rows.map(storedFinding);
  }

  async hosts(q: { limit?: number; after?: string } = {}): Promise<HostRow[]> {
    const limit = limitOf(q.limit, 100_000);
    const stats = await this.readDerived(
      `SELECT host, min(first_ts) AS first_ts, max(last_ts) AS last_ts, sum(n)::BIGINT AS events,
         sum(findings)::BIGINT AS findings, max(sev) AS sev,
         arg_max(hb_data, hb_ts) FILTER (WHERE hb_ts IS NOT NULL) AS data
       FROM host_sum${q.after !== undefined ? ' WHERE host > ?' : ''} GROUP BY host ORDER BY host LIMIT ${limit}`,
      q.after !== undefined ? [q.after] : [],
    );
    return stats.map((r) => hostRow(r, r.data == null ? undefined : String(r.data)));
  }

  async events(q: EventQuery = {}): Promise<MinewatchEvent[]> {
    const { where, params } = this.eventWhere(q);
    const rows = await this.read(
      `SELECT data FROM events${where} ORDER BY ts DESC, id LIMIT ${limitOf(q.limit, 10_000)}`,
      params,
    );
    return rows.map((r) => JSON.parse(String(r.data)) as MinewatchEvent);
  }

  /**
   * A page in two steps: the keys and sizes of up to `limit` rows, then the JSON of as many as fit `maxBytes`,
   * so neither this process nor the answer holds more than a page however large the events are.
   */
  async eventPage(q: EventPageQuery): Promise<{ rows: EventPageRow[]; more: boolean }> {
    const limit = Math.max(1, Math.min(q.limit ?? 100, 1000));
    const maxBytes = q.maxBytes ?? 4 << 20;
    const { where, params } = this.eventWhere(q);
    const terms = where ? [where.replace(/^ WHERE /, '')] : [];
    if (q.after) afterTerms(q.after, terms, params);
    const w = terms.length ? ` WHERE ${terms.join(' AND ')}` : '';
    const keys = await this.read(
      `SELECT ts, host, id, strlen(data) AS n FROM events${w} ORDER BY ts DESC, host, id LIMIT ${limit}`,
      params,
    );
    const take = pageCut(
      keys.map((k) => Number(k.n)),
      maxBytes,
    );
    if (!take) return { rows: [], more: false };
    const last = keys[take - 1]!;
    const upTo = [...terms];
    const p2 = [...params];
    upToTerms({ ts: Number(last.ts), host: String(last.host), id: String(last.id) }, upTo, p2);
    const rows = await this.read(
      `SELECT ts, host, id, data FROM events WHERE ${upTo.join(' AND ')} ORDER BY ts DESC, host, id LIMIT ${take}`,
      p2,
    );
    return {
      rows: rows.map((r) => ({
        ts: Number(r.ts),
        host: String(r.host),
        id: String(r.id),
        data: String(r.data),
      })),
      more: take < keys.length || keys.length === limit,
    };
  }

  async count(q: EventQuery = {}): Promise<number> {
    const { where, params } = this.eventWhere(q);
    const rows = await this.read(`SELECT count(*)::BIGINT AS n FROM events${where}`, params);
    return Number(rows[0]?.n ?? 0);
  }

  private eventWhere(q: EventQuery): { where: string; params: unknown[] } {
    const params: unknown[] = [];
    const terms: string[] = [];
    this.rangeTerms(q, 'events', terms, params);
    if (q.host) terms.push('host = ?') && params.push(q.host);
    if (q.type) terms.push('type = ?') && params.push(q.type);
    return { where: terms.length ? ` WHERE ${terms.join(' AND ')}` : '', params };
  }

  putToken(t: TokenRecord): Promise<void> {
    return this.writeLane.run(async () => {
      await this.writer.run(
        'INSERT OR REPLACE INTO tokens (id, name, admin, hash, created, revoked, host) VALUES (?, ?, ?, ?, ?, ?, ?)',
        [t.id, t.name, t.admin, t.hash, t.created, t.revoked, t.host ?? null],
      );
    });
  }

  async getToken(id: string): Promise<TokenRecord | null> {
    const rows = await this.read('SELECT * FROM tokens WHERE id = ?', [id]);
    return rows[0] ? tokenRow(rows[0]) : null;
  }

  async listTokens(): Promise<TokenRecord[]> {
    return (await this.read('SELECT * FROM tokens ORDER BY created, id')).map(tokenRow);
  }

  revokeToken(which: TokenSelector): Promise<number> {
    const [col, v] = 'id' in which ? ['id', which.id] : ['name', which.name];
    return this.writeLane.run(async () => {
      const r = await this.writer.run(`UPDATE tokens SET revoked = true WHERE ${col} = ? AND NOT revoked`, [
        v,
      ]);
      return Number(r.rowsChanged);
    });
  }

  // ---------- fleet response (issue 17) ----------

  async putFleetRecords(recs: readonly FleetRecord[]): Promise<void> {
    for (const r of recs) checkFleetRecord(r);
    if (!recs.length) return;
    // One upsert statement per 500 rows: a row at a time cost ~17 ms each (2,088 decisions took 36 s in
    // bench/response.ts); one key may appear once per statement, so the newest of each goes in.
    const newest = new Map<string, FleetRecord>();
    for (const r of recs) {
      const k = `${r.kind}\u0000${r.id}`;
      const had = newest.get(k);
      if (!had || r.version >= had.version) newest.set(k, r);
    }
    const rows = [...newest.values()];
    return this.writeLane.run(async () => {
      await this.writer.run('BEGIN TRANSACTION');
      try {
        for (let i = 0; i < rows.length; i += 500) {
          const chunk = rows.slice(i, i + 500);
          // An older version never overwrites a newer one, as ReplacingMergeTree(version) folds on ClickHouse.
          await this.writer.run(
            `INSERT INTO fleet_state VALUES ${chunk.map(() => '(?, ?, ?, ?)').join(', ')}
               ON CONFLICT (kind, id) DO UPDATE SET version = excluded.version, data = excluded.data
               WHERE excluded.version >= fleet_state.version`,
            chunk.flatMap((r) => [r.kind, r.id, r.version, r.data === null ? null : JSON.stringify(r.data)]),
          );
        }
        await this.writer.run('COMMIT');
      } catch (err) {
        await this.writer.run('ROLLBACK').catch(() => undefined);
        throw err;
      }
    });
  }

  async fleetRecords(kind: string, q: { id?: string } = {}): Promise<FleetRecord[]> {
    const rows = await this.read(
      `SELECT kind, id, version, data FROM fleet_state WHERE kind = ?${q.id !== undefined ? ' AND id = ?' : ''}
       ORDER BY id`,
      q.id !== undefined ? [kind, q.id] : [kind],
    );
    return rows.map(fleetRecordRow).filter((r): r is FleetRecord => r !== null);
  }

  async appendAudit(entries: readonly AuditEntry[]): Promise<void> {
    const ts = entries.map(checkAudit);
    if (!entries.length) return;
    return this.writeLane.run(async () => {
      await this.writer.run('BEGIN TRANSACTION');
      try {
        for (let i = 0; i < entries.length; i++) {
          const e = entries[i]!;
          await this.writer.run('INSERT OR IGNORE INTO audit_log VALUES (?, ?, ?, ?, ?, ?, ?)', [
            e.id,
            ts[i]!,
            e.actor,
            e.action,
            e.host,
            e.subject,
            JSON.stringify(e.detail),
          ]);
        }
        await this.writer.run('COMMIT');
      } catch (err) {
        await this.writer.run('ROLLBACK').catch(() => undefined);
        throw err;
      }
    });
  }

  async audit(q: AuditQuery = {}): Promise<AuditEntry[]> {
    const b = auditBounds(q);
    const terms: string[] = [];
    const params: unknown[] = [];
    if (b.from !== undefined) terms.push('ts >= ?') && params.push(b.from);
    if (b.to !== undefined) terms.push('ts < ?') && params.push(b.to);
    if (q.host) terms.push('host = ?') && params.push(q.host);
    if (q.action) terms.push('action = ?') && params.push(q.action);
    const rows = await this.read(
      `SELECT * FROM audit_log${terms.length ? ` WHERE ${terms.join(' AND ')}` : ''}
       ORDER BY ts DESC, id DESC LIMIT ${b.limit}`,
      params,
    );
    return rows.map(auditRow);
  }

  async close(): Promise<void> {
    await this.committer.close();
    await this.writeLane.run(async () => undefined);
    await this.foldLane.run(async () => undefined);
    await this.readLane.run(async () => undefined);
    this.reader.closeSync();
    this.writer.closeSync();
    this.folder.closeSync();
    this.instance.closeSync();
  }
}

const CAMPAIGN_COLUMN: Record<CampaignKey, string> = {
  wallet: 'wallet',
  dropper: 'dropper',
  account: 'account',
};

/** Rows after a page cursor in the order (ts DESC, host, id). */
function afterTerms(c: PageCursor, terms: string[], params: unknown[]): void {
  terms.push('(ts < ? OR (ts = ? AND (host > ? OR (host = ? AND id > ?))))');
  params.push(BigInt(c.ts), BigInt(c.ts), c.host, c.host, c.id);
}

/** Rows up to and including a page cursor in the same order. */
function upToTerms(c: PageCursor, terms: string[], params: unknown[]): void {
  terms.push('(ts > ? OR (ts = ? AND (host < ? OR (host = ? AND id <= ?))))');
  params.push(BigInt(c.ts), BigInt(c.ts), c.host, c.host, c.id);
}

/** A range with neither bound: the all-time rollups answer it. */
function allTime(q: Range): boolean {
  return boundMs(q.from, 'from') === undefined && boundMs(q.to, 'to') === undefined;
}
