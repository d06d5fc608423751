/**
 * The embedded engine: one DuckDB file, no server. Why DuckDB and not SQLite: the fleet queries group millions
 * of rows by day and pool with distinct hosts, where a columnar engine is 10-15x faster (README "Store"); a
 * commit writes and fsyncs DuckDB's WAL, so an acknowledged batch survives kill -9 and power loss.
 *
 * Layout: `events` (one row per event, columns from `toRow`, the JSON in `data`) and tables derived from it:
 * `host_day`, per (day, host, type, coin, pool, port, family) the count, bytes, first/last time and highest
 * severity; `host_all`, the same over all time; `host_sum`, per host with its latest heartbeat; `instance_all`
 * and `campaign_all` (miner instances and campaign keys over all time); `finding_events`, the finding events
 * again. Rankings and daily series read the rollups; ranges that do not fall on whole UTC days read `events`.
 * Commits only append to `events`; the derived tables are brought up to date by a "fold" of the events past a
 * durable mark (in bulk, after 500,000 events or before any read that needs them), and a rollup is
 * re-aggregated ("compacted") when it has doubled, so nothing is updated in place.
 *
 * Dedup: a `KeyFilter` (Bloom filter over DuckDB's hash of every stored host and id, built on the first ingest)
 * says which staged events are new for certain; only the rest are looked up in `events`, within their time
 * window (a retried event has the same host, id and time). Before, every commit anti-joined the whole batch
 * against the batch's time window, which is the whole table when a batch spans months.
 */

import { availableParallelism } from 'node:os';
import { type DuckDBConnection, DuckDBInstance, type DuckDBValue } from '@duckdb/node-api';
import type { MinewatchEvent } from '../findings/index.ts';
import { SEVERITY_ORDER, type Severity } from '../findings/index.ts';
import { GroupCommitter, type GroupRows, type Submission } from './group.ts';
import { KeyFilter } from './keyfilter.ts';
import { boundMs, severityName } from './row.ts';
import type {
  CampaignKey,
  CampaignRow,
  Dim,
  EventQuery,
  FindingQuery,
  HostKeyRow,
  HostRow,
  IngestOptions,
  IngestResult,
  InstanceRow,
  Range,
  RankQuery,
  RankRow,
  SeriesRow,
  Store,
  StoredFinding,
  TokenRecord,
} from './types.ts';

const DAY_MS = 86_400_000;
/** The two 32-bit halves of DuckDB's hash of an event's key, for the `KeyFilter`. */
const KEY_HASH = '(h >> 32)::UINTEGER, (h & 4294967295)::UINTEGER';

const EVENT_COLUMNS = `id VARCHAR NOT NULL, ts BIGINT NOT NULL, day INTEGER NOT NULL, host VARCHAR NOT NULL,
  type VARCHAR NOT NULL, source VARCHAR NOT NULL, rule VARCHAR NOT NULL, sev TINYINT NOT NULL, coin VARCHAR NOT NULL,
  pool VARCHAR NOT NULL, port INTEGER NOT NULL, domain VARCHAR NOT NULL, dst_ip VARCHAR NOT NULL,
  family VARCHAR NOT NULL, exe VARCHAR NOT NULL, sha256 VARCHAR NOT NULL, wallet VARCHAR NOT NULL,
  account VARCHAR NOT NULL, dropper VARCHAR NOT NULL, bytes BIGINT NOT NULL, data VARCHAR NOT NULL`;
const EVENT_NAMES =
  'id, ts, day, host, type, source, rule, sev, coin, pool, port, domain, dst_ip, family, exe, sha256, wallet, account, dropper, bytes, data';

const DIM_COLS = 'host, type, coin, pool, port, family';
/** The events a miner instance is seen in. */
const INSTANCE_WHERE = "exe <> '' AND (type = 'finding' OR (type = 'process' AND family <> ''))";
const DIM_DEFS = `host VARCHAR NOT NULL, type VARCHAR NOT NULL, coin VARCHAR NOT NULL, pool VARCHAR NOT NULL,
  port INTEGER NOT NULL, family VARCHAR NOT NULL`;
const SUM_DEFS =
  'n BIGINT NOT NULL, bytes BIGINT NOT NULL, first_ts BIGINT NOT NULL, last_ts BIGINT NOT NULL, sev TINYINT NOT NULL';

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
    merge: `SELECT day, ${DIM_COLS}, sum(n)::BIGINT, sum(bytes)::BIGINT, min(first_ts), max(last_ts), max(sev)
      FROM host_day GROUP BY ALL`,
  },
  {
    // host_day without the day: rankings over all time read ~300k rows instead of ~9M at 10M events (a fleet
    // sends about one event per host and day, so host_day is nearly as long as `events`).
    table: 'host_all',
    columns: `${DIM_DEFS}, ${SUM_DEFS}`,
    partial: (src) =>
      `SELECT ${DIM_COLS}, count(*), sum(bytes), min(ts), max(ts), max(sev) FROM ${src} GROUP BY ALL`,
    merge: `SELECT ${DIM_COLS}, sum(n)::BIGINT, sum(bytes)::BIGINT, min(first_ts), max(last_ts), max(sev)
      FROM host_all GROUP BY ALL`,
  },
  {
    // Per host: first/last time, events, bytes, findings, highest severity and the latest heartbeat (time and
    // JSON). `hosts()` and the all-time host ranking read it instead of the events table, whose heartbeat JSON
    // was most of a `hosts()` (5.2 s at 10M events).
    table: 'host_sum',
    columns: `host VARCHAR NOT NULL, first_ts BIGINT NOT NULL, last_ts BIGINT NOT NULL, n BIGINT NOT NULL,
      bytes BIGINT NOT NULL, findings BIGINT NOT NULL, sev TINYINT NOT NULL, hb_ts BIGINT, hb_data VARCHAR`,
    partial: (src) =>
      `SELECT host, min(ts), max(ts), count(*), sum(bytes), count(*) FILTER (WHERE type = 'finding'), max(sev),
         max(ts) FILTER (WHERE type = 'heartbeat'), arg_max(data, ts) FILTER (WHERE type = 'heartbeat')
       FROM ${src} GROUP BY host`,
    merge: `SELECT host, min(first_ts), max(last_ts), sum(n)::BIGINT, sum(bytes)::BIGINT, sum(findings)::BIGINT,
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
const ROLLUP_VERSION = '5';

/**
 * Rebuilds every derived table from `events` (a file from before they existed, or a bench that wrote `events`
 * in SQL). One transaction on the given connection.
 */
export async function rebuildDerived(c: DuckDBConnection): Promise<void> {
  await c.run('BEGIN TRANSACTION');
  try {
    for (const r of ROLLUPS) {
      await c.run(`DELETE FROM ${r.table}`);
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

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS events (${EVENT_COLUMNS})`,
  ...ROLLUPS.map((r) => `CREATE TABLE IF NOT EXISTS ${r.table} (${r.columns})`),
  `CREATE TABLE IF NOT EXISTS finding_events (${FINDING_COLUMNS})`,
  `CREATE TABLE IF NOT EXISTS tokens (id VARCHAR PRIMARY KEY, name VARCHAR NOT NULL, admin BOOLEAN NOT NULL,
    hash VARCHAR NOT NULL, created VARCHAR NOT NULL, revoked BOOLEAN NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS meta (k VARCHAR PRIMARY KEY, v VARCHAR NOT NULL)`,
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
  /** Rows a rollup may grow by (beyond doubling) before it is compacted; default 100,000 (tests: small). */
  compactAfter?: number;
  /** Pending events that make a commit fold them into the derived tables (default 500,000); reads fold anyway. */
  foldAfter?: number;
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

function iso(ms: unknown): string {
  return new Date(Number(ms)).toISOString();
}

function dayIso(day: unknown): string {
  return new Date(Number(day) * DAY_MS).toISOString().slice(0, 10);
}

export class DuckDBStore implements Store {
  readonly engine = 'duckdb' as const;
  private readonly committer: GroupCommitter;
  private readonly writeLane = new Lane();
  private readonly readLane = new Lane();
  /** Rows of each rollup at its last compaction and now: compact when it has doubled. */
  private readonly rollupBase = ROLLUPS.map(() => 0);
  private readonly rollupRows = ROLLUPS.map(() => 0);
  /** Rows in `events` (as far as this process knows) and how many of them the derived tables hold. */
  private stored = 0;
  private folded = 0;
  private filter: KeyFilter | undefined;

  private constructor(
    readonly location: string,
    private readonly instance: DuckDBInstance,
    private readonly writer: DuckDBConnection,
    private readonly reader: DuckDBConnection,
    maxGroupEvents: number,
    private readonly compactAfter: number,
    private readonly foldAfter: number,
  ) {
    this.committer = new GroupCommitter(
      (g, s) => this.writeLane.run(() => this.commitGroup(g, s)),
      maxGroupEvents,
    );
  }

  static async open(path: string, opts: DuckDBStoreOptions = {}): Promise<DuckDBStore> {
    const memory = opts.memoryLimit ?? process.env.MINEWATCH_DUCKDB_MEMORY ?? '1GB';
    const threads = opts.threads ?? Math.max(1, Math.min(4, availableParallelism()));
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
    const writer = await instance.connect();
    const reader = await instance.connect();
    for (const sql of SCHEMA) await writer.run(sql);
    await writer.run(`CREATE TEMP TABLE IF NOT EXISTS stage (${EVENT_COLUMNS}, pos INTEGER NOT NULL)`);
    await writer.run('CREATE TEMP TABLE IF NOT EXISTS cand (pos INTEGER NOT NULL)');
    const store = new DuckDBStore(
      path,
      instance,
      writer,
      reader,
      opts.maxGroupEvents ?? 50_000,
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
    return store;
  }

  ingest(events: readonly MinewatchEvent[], opts: IngestOptions = {}): Promise<IngestResult> {
    return this.committer.submit(events, opts.source ?? '', opts.raw);
  }

  private async scalar(conn: DuckDBConnection, sql: string, params: DuckDBValue[] = []): Promise<number> {
    const r = await conn.runAndReadAll(sql, params);
    return Number(r.getRows()[0]?.[0] ?? 0);
  }

  /** Each (host, id) hash in rows of `sql` (columns: pos, hi, lo) handed to `each`. */
  private async eachKeyHash(sql: string, each: (pos: number, hi: number, lo: number) => void): Promise<void> {
    const res = await this.writer.stream(sql);
    for (let c = await res.fetchChunk(); c && c.rowCount > 0; c = await res.fetchChunk()) {
      const pos = c.getColumnValues(0) as number[];
      const hi = c.getColumnValues(1) as number[];
      const lo = c.getColumnValues(2) as number[];
      for (let i = 0; i < pos.length; i++) each(pos[i]!, hi[i]!, lo[i]!);
    }
  }

  /** The key filter, built from the table on the first ingest after open (or when it outgrew its size). */
  private async keyFilter(): Promise<KeyFilter> {
    if (this.filter && !this.filter.full) return this.filter;
    const n = await this.scalar(this.writer, 'SELECT count(*) FROM events');
    // Room for half as many again before it is rebuilt larger (a rebuild reads one hash per stored event).
    const f = new KeyFilter(Math.max(1_000_000, Math.ceil(1.5 * n)));
    await this.eachKeyHash(
      `SELECT 0, ${KEY_HASH} FROM (SELECT hash(host, id) AS h FROM events)`,
      (_p, hi, lo) => f.add(hi, lo),
    );
    this.filter = f;
    return f;
  }

  private async commitGroup(g: GroupRows, subs: readonly Submission[]): Promise<number[]> {
    const fresh = subs.map(() => 0);
    if (!g.rows.length) return fresh;
    const w = this.writer;
    const filter = await this.keyFilter();
    await w.run('DELETE FROM stage');
    // The appender writes straight into the temp stage table: no SQL text per row.
    const app = await w.createAppender('stage', 'main', 'temp');
    g.rows.forEach((r, i) => {
      app.appendVarchar(r.id);
      app.appendBigInt(BigInt(r.ts));
      app.appendInteger(Math.floor(r.ts / DAY_MS));
      app.appendVarchar(r.host);
      app.appendVarchar(r.type);
      app.appendVarchar(r.source);
      app.appendVarchar(r.rule);
      app.appendTinyInt(r.sev);
      app.appendVarchar(r.coin);
      app.appendVarchar(r.pool);
      app.appendInteger(r.port);
      app.appendVarchar(r.domain);
      app.appendVarchar(r.dst_ip);
      app.appendVarchar(r.family);
      app.appendVarchar(r.exe);
      app.appendVarchar(r.sha256);
      app.appendVarchar(r.wallet);
      app.appendVarchar(r.account);
      app.appendVarchar(r.dropper);
      app.appendBigInt(BigInt(Math.round(r.bytes)));
      app.appendVarchar(r.data);
      app.appendInteger(i);
      app.endRow();
    });
    app.closeSync();
    // Dedup, step 1: DuckDB hashes the staged keys (the function that built the filter); keys the filter has
    // never seen are new for certain, the rest are candidates.
    const khi = new Uint32Array(g.rows.length);
    const klo = new Uint32Array(g.rows.length);
    let maybe = 0;
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    const candApp = await w.createAppender('cand', 'main', 'temp');
    await this.eachKeyHash(
      `SELECT pos, ${KEY_HASH} FROM (SELECT pos, hash(host, id) AS h FROM stage)`,
      (pos, h1, h2) => {
        khi[pos] = h1;
        klo[pos] = h2;
        if (!filter.has(h1, h2)) return;
        maybe++;
        const ts = g.rows[pos]!.ts;
        if (ts < lo) lo = ts;
        if (ts > hi) hi = ts;
        candApp.appendInteger(pos);
        candApp.endRow();
      },
    );
    candApp.closeSync();
    // Step 2: candidates are confirmed against the stored events of their time window (a retried event has the
    // same host, id and time) and dropped from the stage. A batch of new events skips this (about 1 in 100).
    const dup = new Set<number>();
    if (maybe) {
      const r = await w.runAndReadAll(
        `DELETE FROM stage WHERE pos IN (SELECT s.pos FROM stage s SEMI JOIN cand c ON s.pos = c.pos
           SEMI JOIN (SELECT host, id FROM events WHERE ts BETWEEN ? AND ?) e ON s.host = e.host AND s.id = e.id)
         RETURNING pos`,
        [BigInt(lo), BigInt(hi)],
      );
      for (const [p] of r.getRows()) dup.add(Number(p));
      await w.run('DELETE FROM cand');
    }
    if (dup.size < g.rows.length) {
      await w.run('BEGIN TRANSACTION');
      try {
        const ins = await w.run(`INSERT INTO events SELECT ${EVENT_NAMES} FROM stage`);
        await w.run('COMMIT');
        this.stored += Number(ins.rowsChanged);
      } catch (err) {
        await w.run('ROLLBACK').catch(() => undefined);
        throw err;
      }
    }
    g.rows.forEach((_r, i) => {
      if (dup.has(i)) return;
      fresh[g.req[i]!]!++;
      filter.add(khi[i]!, klo[i]!);
    });
    // The batch is durable already: a failed fold must not fail its ingest (the next read folds, or reports it).
    if (this.stored - this.folded >= this.foldAfter) await this.fold().catch(() => undefined);
    return fresh;
  }

  /**
   * Brings the derived tables up to date: the events stored since the last fold (rowid >= the `folded` mark;
   * events are only ever appended) are aggregated into every rollup and copied to `finding_events`, and the
   * mark moves, in one transaction. Runs in the write lane: after a commit once enough events are pending, and
   * before any read of a derived table (`readDerived`). Folding in bulk instead of on every commit keeps the
   * rollups off the ingest path (5 statements per commit cost HTTP ingest a third of its rate).
   */
  private async fold(): Promise<void> {
    const w = this.writer;
    const n = await this.scalar(w, 'SELECT count(*) FROM events');
    if (n === this.folded) {
      this.stored = n;
      return;
    }
    const src = `(SELECT * FROM events WHERE rowid >= ${this.folded}) e`;
    const added: number[] = [];
    await w.run('BEGIN TRANSACTION');
    try {
      for (const r of ROLLUPS)
        added.push(Number((await w.run(`INSERT INTO ${r.table} ${r.partial(src)}`)).rowsChanged));
      await w.run(`INSERT INTO finding_events ${FINDING_SELECT(src)}`);
      await w.run(`INSERT OR REPLACE INTO meta VALUES ('folded', '${n}')`);
      await w.run('COMMIT');
    } catch (err) {
      await w.run('ROLLBACK').catch(() => undefined);
      throw err;
    }
    this.folded = n;
    this.stored = n;
    added.forEach((k, i) => {
      this.rollupRows[i]! += k;
    });
    for (let i = 0; i < ROLLUPS.length; i++) {
      const base = this.rollupBase[i]!;
      if (this.rollupRows[i]! > Math.max(2 * base, base + this.compactAfter)) await this.compact(i);
    }
  }

  /** A read of the derived tables: pending events are folded in first, so a read sees every acknowledged event. */
  private async readDerived(sql: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
    if (this.stored !== this.folded)
      await this.writeLane.run(async () => {
        if (this.stored !== this.folded) await this.fold();
      });
    return this.read(sql, params);
  }

  /** Re-aggregates a rollup: partial rows of one key become one. Runs in the write lane. */
  private async compact(i: number): Promise<void> {
    const w = this.writer;
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
    const cols =
      table === 'host_all'
        ? 'host, type, coin, pool, port, family, n, bytes, first_ts, last_ts'
        : table === 'host_day'
          ? 'day, host, type, coin, pool, port, family, n, bytes, first_ts, last_ts'
          : 'day, host, type, coin, pool, port, family, 1 AS n, bytes, ts AS first_ts, ts AS last_ts';
    return `(SELECT ${cols} FROM ${table}${terms.length ? ` WHERE ${terms.join(' AND ')}` : ''})`;
  }

  async rank(dim: Dim, q: RankQuery = {}): Promise<RankRow[]> {
    if (dim === 'host' && !q.type && !q.coin && !q.host && !q.hosts && allTime(q)) {
      // Every host over all time: the per-host rollup has it (one row per host and commit, not per day).
      const rows = await this.readDerived(
        `SELECT host AS key, sum(n)::BIGINT AS events, sum(bytes)::BIGINT AS bytes, min(first_ts) AS first_ts,
           max(last_ts) AS last_ts FROM host_sum GROUP BY host ORDER BY events DESC, key LIMIT ${limitOf(q.limit, 1000)}`,
      );
      return rows.map((r) => ({
        key: String(r.key),
        events: Number(r.events),
        hosts: 1,
        bytes: Number(r.bytes),
        first: iso(r.first_ts),
        last: iso(r.last_ts),
      }));
    }
    const params: unknown[] = [];
    const src = this.source(q, params, false);
    const order =
      dim === 'port' || dim === 'type' || dim === 'host'
        ? 'events DESC, hosts DESC'
        : 'hosts DESC, events DESC';
    // Two-phase grouping (key, host) then key: much faster in DuckDB than count(DISTINCT host).
    const rows = await this.readDerived(
      `SELECT key, sum(n)::BIGINT AS events, count(*)::BIGINT AS hosts, sum(bytes)::BIGINT AS bytes, min(first_ts) AS first_ts, max(last_ts) AS last_ts
       FROM (SELECT ${DIM_SQL[dim]} AS key, host, sum(n) AS n, sum(bytes) AS bytes, min(first_ts) AS first_ts, max(last_ts) AS last_ts
             FROM ${src} WHERE ${DIM_NONEMPTY[dim]} GROUP BY ALL)
       GROUP BY key ORDER BY ${order}, key LIMIT ${limitOf(q.limit, 1000)}`,
      params,
    );
    return rows.map((r) => ({
      key: String(r.key),
      events: Number(r.events),
      hosts: Number(r.hosts),
      bytes: Number(r.bytes),
      first: iso(r.first_ts),
      last: iso(r.last_ts),
    }));
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
        ? `SELECT host, exe, sha256, max(family) AS family, min(first_ts) AS first_ts, max(last_ts) AS last_ts,
             sum(n)::BIGINT AS events FROM instance_all ${where} GROUP BY host, exe, sha256
           ORDER BY first_ts, host, exe LIMIT ${limitOf(q.limit, 100_000)}`
        : `SELECT host, exe, sha256, max(family) AS family, min(ts) AS first_ts, max(ts) AS last_ts, count(*)::BIGINT AS events
       FROM events ${where} GROUP BY host, exe, sha256 ORDER BY first_ts, host, exe
       LIMIT ${limitOf(q.limit, 100_000)}`,
      params,
    );
    return rows.map((r) => ({
      host: String(r.host),
      exe: String(r.exe),
      sha256: String(r.sha256),
      family: String(r.family),
      first: iso(r.first_ts),
      last: iso(r.last_ts),
      events: Number(r.events),
    }));
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
    return rows.map((r) => ({
      key: String(r.key),
      hosts: Number(r.hosts),
      host_list: (r.host_list as unknown[]).map(String),
      events: Number(r.events),
      first: iso(r.first_ts),
      last: iso(r.last_ts),
    }));
  }

  async findings(q: FindingQuery = {}): Promise<StoredFinding[]> {
    const params: unknown[] = [];
    const terms = ['true'];
    this.rangeTerms(q, 'events', terms, params);
    if (q.host) terms.push('host = ?') && params.push(q.host);
    if (q.rule) terms.push('rule = ?') && params.push(q.rule);
    if (q.coin) terms.push('coin = ?') && params.push(q.coin.toUpperCase());
    if (q.severity) terms.push(`sev >= ${minSev(q.severity)}`);
    const rows = await this.readDerived(
      `SELECT id, ts, host, source, data FROM finding_events WHERE ${terms.join(' AND ')} ORDER BY ts DESC, id
       LIMIT ${limitOf(q.limit, 1000)}`,
      params,
    );
    return rows.map((r) => ({
      id: String(r.id),
      time: iso(r.ts),
      host: String(r.host),
      source: String(r.source),
      finding: (JSON.parse(String(r.data)) as { finding: Record<string, unknown> }).finding,
    }));
  }

  async hosts(q: { limit?: number } = {}): Promise<HostRow[]> {
    const limit = limitOf(q.limit, 100_000);
    const stats = await this.readDerived(
      `SELECT host, min(first_ts) AS first_ts, max(last_ts) AS last_ts, sum(n)::BIGINT AS events,
         sum(findings)::BIGINT AS findings, max(sev) AS sev,
         arg_max(hb_data, hb_ts) FILTER (WHERE hb_ts IS NOT NULL) AS data
       FROM host_sum GROUP BY host ORDER BY host LIMIT ${limit}`,
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
      await this.writer.run('INSERT OR REPLACE INTO tokens VALUES (?, ?, ?, ?, ?, ?)', [
        t.id,
        t.name,
        t.admin,
        t.hash,
        t.created,
        t.revoked,
      ]);
    });
  }

  async getToken(id: string): Promise<TokenRecord | null> {
    const rows = await this.read('SELECT * FROM tokens WHERE id = ?', [id]);
    return rows[0] ? tokenRow(rows[0]) : null;
  }

  async listTokens(): Promise<TokenRecord[]> {
    return (await this.read('SELECT * FROM tokens ORDER BY created, id')).map(tokenRow);
  }

  revokeToken(nameOrId: string): Promise<number> {
    return this.writeLane.run(async () => {
      const r = await this.writer.run(
        'UPDATE tokens SET revoked = true WHERE (name = ? OR id = ?) AND NOT revoked',
        [nameOrId, nameOrId],
      );
      return Number(r.rowsChanged);
    });
  }

  async close(): Promise<void> {
    await this.committer.close();
    await this.writeLane.run(async () => undefined);
    await this.readLane.run(async () => undefined);
    this.reader.closeSync();
    this.writer.closeSync();
    this.instance.closeSync();
  }
}

const CAMPAIGN_COLUMN: Record<CampaignKey, string> = {
  wallet: 'wallet',
  dropper: 'dropper',
  account: 'account',
};

/** A range with neither bound: the all-time rollups answer it. */
function allTime(q: Range): boolean {
  return boundMs(q.from, 'from') === undefined && boundMs(q.to, 'to') === undefined;
}

export function limitOf(n: number | undefined, dflt: number): number {
  if (n === undefined || !Number.isFinite(n)) return dflt;
  return Math.max(1, Math.min(Math.floor(n), 1_000_000));
}

export function minSev(name: string): number {
  const n = SEVERITY_ORDER[name.toLowerCase() as Severity];
  if (n === undefined) throw new RangeError(`unknown severity '${name}'`);
  return n;
}

export function hostRow(r: Record<string, unknown>, heartbeat: string | undefined): HostRow {
  let inventory: Record<string, unknown> | null = null;
  if (heartbeat) {
    const { id: _id, type: _t, host: _h, ...rest } = JSON.parse(heartbeat) as Record<string, unknown>;
    inventory = rest;
  }
  const sev = Number(r.sev);
  return {
    host: String(r.host),
    first: iso(r.first_ts),
    last: iso(r.last_ts),
    events: Number(r.events),
    findings: Number(r.findings),
    max_severity: sev >= 0 ? severityName(sev) : null,
    inventory,
  };
}

export function tokenRow(r: Record<string, unknown>): TokenRecord {
  return {
    id: String(r.id),
    name: String(r.name),
    admin: r.admin === true || Number(r.admin) === 1,
    hash: String(r.hash),
    created: String(r.created),
    revoked: r.revoked === true || Number(r.revoked) === 1,
  };
}
