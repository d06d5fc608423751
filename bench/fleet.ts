/**
 * Fleet store and server speed: bulk ingest through the Store, end-to-end HTTP ingest of NDJSON batches on
 * loopback, and the fleet queries (coin share, pool and port ranking, daily series) over 10 million stored
 * events, generated in the engine with SQL (deterministic: a function of the row number). Embedded DuckDB
 * always; ClickHouse too when MINEWATCH_TEST_CLICKHOUSE is set.
 *
 *   node --import tsx bench/fleet.ts          # MINEWATCH_BENCH_EVENTS=1000000 for a quicker run
 *   MINEWATCH_BENCH_PART=ingest node --import tsx bench/fleet.ts   # ingest and import rows only (no 10M store)
 *   MINEWATCH_BENCH_PART=import ...           # the two whole-import rows only
 *   MINEWATCH_BENCH_PART=clickhouse ...       # ClickHouse's bulk and HTTP ingest rows only
 * Targets: HTTP ingest >= 30,000 events/s embedded, bulk >= 200,000 events/s (Store.ingest and a whole
 * `minewatch import`), query p95 < 500 ms at 10M.
 *
 * The import rows run `minewatch import` in this process (`main(['import', ...])`, the CLI's own entry, with
 * its output captured): the whole command, reading, parsing, detection and the store, without Node's
 * start-up (~0.1-0.3 s, README "Benchmarks"). Files: bench/import.ts's 1M-line minewatch NDJSON and Zeek
 * conn.log (MINEWATCH_BENCH_IMPORT_LINES), each into a fresh DuckDB file.
 */

import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { DuckDBInstance } from '@duckdb/node-api';
import { main } from '../src/cli/main.ts';
import type { MinewatchEvent } from '../src/findings/index.ts';
import { startServer } from '../src/server/app.ts';
import { ClickHouseStore } from '../src/store/clickhouse.ts';
import { DuckDBStore, EVENT_ROW_COLUMNS, rebuildDerived } from '../src/store/duckdb.ts';
import type { Store } from '../src/store/types.ts';
import { writeNdjson, writeZeekConn } from './import.ts';

export interface BenchRow {
  name: string;
  value: number;
  unit: string;
  note?: string;
}

const POOLS = 40;
const HOSTS = 5000;
const DAYS = 90;
const COINS = ['xmr', 'etc', 'rvn', 'zeph', 'eth', 'btc'];
const PORTS = [3333, 4444, 5555, 14444, 443, 80, 7777, 8080];
const FAMILIES = ['xmrig', 'kinsing', 'teamtnt', 'lolminer'];
const T0 = Date.UTC(2026, 0, 1);
/** Sizes of the ingest runs; the row labels are made from these so a label cannot drift from what ran. */
const BULK_EVENTS = 500_000;
const BULK_BATCH = 50_000;
const HTTP_EVENTS = 200_000;
const HTTP_BATCH = 1000;
const HTTP_CLIENTS = 8;
const fmt = (n: number) => n.toLocaleString('en-US');
const BULK_NAME = `bulk ingest via Store (${BULK_BATCH / 1000}k batches)`;
const HTTP_NAME = `HTTP ingest, ${HTTP_BATCH}-event NDJSON batches, ${HTTP_CLIENTS} clients`;

/**
 * Event i of the synthetic fleet: host h sticks to pool h % 40 (1 host in 10 alternates days). Each event is
 * one object literal, as agents' events reach the store (JSON.parse on the server, literals in detectors).
 * Not `{ ...base, type }`: V8 makes spread copies whose every property access takes a slow path (measured
 * here: 0.18 us a named load, 15x a parsed object's; `for..in` 9x), which made the store's row building
 * measure the spread rather than the store (5.2 against 2-3.5 us an event).
 */
export function syntheticEvent(i: number, prefix = 'b'): MinewatchEvent {
  const h = (i * 2654435761) % HOSTS;
  const ts = T0 + ((i * 7919) % (DAYS * 86400)) * 1000;
  const p = ((h % POOLS) + (h % 10 === 0 && Math.floor(ts / 86_400_000) % 2 === 1 ? 1 : 0)) % POOLS;
  const id = `${prefix}${i}`;
  const time = new Date(ts).toISOString();
  const host = `host-${h}`;
  if (i % 20 === 0)
    return {
      id,
      time,
      host,
      type: 'finding',
      finding: {
        id: `f${h}`,
        rule: 'traffic.stratum',
        title: 'Stratum login to a mining pool',
        severity: 'high',
        confidence: 0.9,
        attack: [],
        evidence: [],
        coin: COINS[p % 6],
        pool: { host: `pool${p}.example.com`, port: PORTS[p % 8] },
        wallet: `wallet${h % 300}`,
        family: FAMILIES[p % 4],
      },
    } as unknown as MinewatchEvent;
  if (i % 11 === 0) return { id, time, host, type: 'heartbeat', os: 'Debian 12', cpus: 2 };
  return {
    id,
    time,
    host,
    type: 'connection',
    src_ip: '10.0.0.1',
    dst_ip: `203.0.113.${p}`,
    dst_port: PORTS[p % 8]!,
    pool: `pool${p}.example.com`,
    coin: COINS[p % 6],
    family: FAMILIES[p % 4],
    bytes_out: i % 10000,
  } as MinewatchEvent;
}

/** The same fleet as SQL, for DuckDB (columns in `events` order), rows [0, n). */
export function duckGenerateSql(n: number): string {
  return `INSERT INTO events (${EVENT_ROW_COLUMNS})
  SELECT 'g' || i, ts, (ts // 86400000)::INTEGER, 'host-' || h, typ, 'bench',
    CASE WHEN typ = 'finding' THEN 'traffic.stratum' ELSE '' END, CASE WHEN typ = 'finding' THEN 3 ELSE -1 END,
    CASE WHEN typ = 'heartbeat' THEN '' ELSE ${duckList(COINS)}[1 + p % 6] END,
    CASE WHEN typ = 'heartbeat' THEN '' ELSE 'pool' || p || '.example.com' END,
    CASE WHEN typ = 'heartbeat' THEN 0 ELSE [${PORTS.join(',')}][1 + p % 8] END,
    '', CASE WHEN typ = 'connection' THEN '203.0.113.' || p ELSE '' END,
    CASE WHEN typ = 'heartbeat' THEN '' ELSE ${duckList(FAMILIES)}[1 + p % 4] END,
    '', '', CASE WHEN typ = 'finding' THEN 'wallet' || (h % 300) ELSE '' END, '', '',
    CASE WHEN typ = 'connection' THEN i % 10000 ELSE 0 END, '{"bench":true}'
  FROM (SELECT i, h, ts,
          CASE WHEN i % 20 = 0 THEN 'finding' WHEN i % 11 = 0 THEN 'heartbeat' ELSE 'connection' END AS typ,
          ((h % ${POOLS}) + CASE WHEN h % 10 = 0 AND (ts // 86400000) % 2 = 1 THEN 1 ELSE 0 END) % ${POOLS} AS p
        FROM (SELECT i, (i * 2654435761) % ${HOSTS} AS h, ${T0} + ((i * 7919) % ${DAYS * 86400}) * 1000 AS ts
              FROM range(${n}) r(i)))`;
}

function duckList(xs: string[]): string {
  return `[${xs.map((x) => `'${x}'`).join(',')}]`;
}

function chGenerateSql(n: number): string {
  const arr = (xs: (string | number)[]) =>
    `[${xs.map((x) => (typeof x === 'number' ? x : `'${x}'`)).join(',')}]`;
  return `INSERT INTO events
  SELECT concat('g', toString(i)), ts, toDate(intDiv(ts, 1000)), concat('host-', toString(h)), typ, 'bench',
    if(typ = 'finding', 'traffic.stratum', ''), if(typ = 'finding', 3, -1),
    if(typ = 'heartbeat', '', ${arr(COINS)}[1 + p % 6]),
    if(typ = 'heartbeat', '', concat('pool', toString(p), '.example.com')),
    if(typ = 'heartbeat', 0, ${arr(PORTS)}[1 + p % 8]),
    '', if(typ = 'connection', concat('203.0.113.', toString(p)), ''),
    if(typ = 'heartbeat', '', ${arr(FAMILIES)}[1 + p % 4]),
    '', '', if(typ = 'finding', concat('wallet', toString(h % 300)), ''), '', '',
    if(typ = 'connection', i % 10000, 0), '{"bench":true}'
  FROM (SELECT i, h, ts,
          multiIf(i % 20 = 0, 'finding', i % 11 = 0, 'heartbeat', 'connection') AS typ,
          ((h % ${POOLS}) + if(h % 10 = 0 AND intDiv(ts, 86400000) % 2 = 1, 1, 0)) % ${POOLS} AS p
        FROM (SELECT number AS i, (number * 2654435761) % ${HOSTS} AS h,
                ${T0} + ((number * 7919) % ${DAYS * 86400}) * 1000 AS ts FROM numbers(${n})))`;
}

async function bulk(store: Store, n: number, batch: number, prefix: string): Promise<number> {
  // Events are made before the clock starts: what is measured is the store (rows, dedup, commit).
  const batches: MinewatchEvent[][] = [];
  for (let i = 0; i < n; i += batch)
    batches.push(Array.from({ length: Math.min(batch, n - i) }, (_, k) => syntheticEvent(i + k, prefix)));
  const t = performance.now();
  for (const evs of batches) await store.ingest(evs, { source: 'bench' });
  return n / ((performance.now() - t) / 1000);
}

async function httpIngest(
  store: Store,
  n: number,
  batch: number,
  clients: number,
  prefix: string,
): Promise<number> {
  const admin = 'bench-admin-token-0123456789abcdef';
  const srv = await startServer({
    store,
    listen: '127.0.0.1:0',
    adminToken: admin,
    rateLimit: 0,
    closeStore: false,
  });
  // Bodies are prepared before the clock starts: the agent side is not what is measured.
  const bodies: string[] = [];
  for (let i = 0; i < n; i += batch)
    bodies.push(
      `${Array.from({ length: Math.min(batch, n - i) }, (_, k) => JSON.stringify(syntheticEvent(i + k, prefix))).join('\n')}\n`,
    );
  let next = 0;
  const t = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < bodies.length) {
        const body = bodies[next++]!;
        const r = await fetch(`${srv.url}/api/v1/events`, {
          method: 'POST',
          headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/x-ndjson' },
          body,
        });
        if (r.status !== 200) throw new Error(`ingest answered ${r.status}: ${await r.text()}`);
        await r.arrayBuffer();
      }
    }),
  );
  const rate = n / ((performance.now() - t) / 1000);
  await srv.close();
  return rate;
}

const QUERIES: Array<[string, (s: Store) => Promise<unknown>]> = [
  ['coin share', (s) => s.rank('coin')],
  ['pools by hosts', (s) => s.rank('pool')],
  ['ports by flows', (s) => s.rank('port', { type: 'connection' })],
  ['daily series per pool', (s) => s.series('pool')],
  ['daily series per coin, 30 days', (s) => s.series('coin', { from: '2026-02-01', to: '2026-03-03' })],
  ['daily series per family', (s) => s.series('family')],
];

async function queryRows(store: Store, label: string, n: number, runs: number): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const [name, q] of QUERIES) {
    await q(store); // warm
    const times: number[] = [];
    for (let r = 0; r < runs; r++) {
      const t = performance.now();
      await q(store);
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    const p95 = times[Math.min(times.length - 1, Math.ceil(times.length * 0.95) - 1)]!;
    const p50 = times[Math.floor(times.length / 2)]!;
    rows.push({
      name: `${label}: ${name} p95`,
      value: p95,
      unit: 'ms',
      note: `p50 ${p50.toFixed(0)} ms, ${n.toLocaleString('en-US')} events, ${runs} runs`,
    });
  }
  return rows;
}

/** Bulk and HTTP ingest on an empty embedded store. */
async function ingestRows(dir: string): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const s = await DuckDBStore.open(join(dir, 'ingest.db'));
  const rate = await bulk(s, BULK_EVENTS, BULK_BATCH, 'b');
  const st = { ...s.commitStats };
  const per = (ms: number) => (ms / st.commits).toFixed(0);
  rows.push({
    name: `duckdb: ${BULK_NAME}`,
    value: rate,
    unit: 'events/s',
    note:
      `${fmt(BULK_EVENTS)} events, durable commit per batch; per batch: pack ${per(st.packMs)} ms, ` +
      `wait for INSERTs ${per(st.waitMs)}, dedup ${per(st.dedupMs)}, COMMIT ${per(st.commitMs)} ms`,
  });
  // The bulk load's last commit queued a fold of its 500,000 events into the derived tables, which runs
  // beside later commits; the first read waits for it. Timed on its own, so it neither hides in nor
  // slows the next row.
  let t = performance.now();
  await s.rank('type');
  rows.push({
    name: 'duckdb: first read after the bulk ingest (fold into the rollups)',
    value: performance.now() - t,
    unit: 'ms',
    note: `${fmt(BULK_EVENTS)} events folded, ${s.commitStats.folds} fold(s)`,
  });
  rows.push({
    name: `duckdb: ${HTTP_NAME}`,
    value: await httpIngest(s, HTTP_EVENTS, HTTP_BATCH, HTTP_CLIENTS, 'h'),
    unit: 'events/s',
    note: `${fmt(HTTP_EVENTS)} events on loopback, acknowledged after commit`,
  });
  // Commits only write the WAL (checkpoint_threshold 128MB): the checkpoint left over is paid here.
  t = performance.now();
  await s.close();
  rows.push({
    name: 'duckdb: close after ingest (final checkpoint)',
    value: performance.now() - t,
    unit: 'ms',
    note: `${fmt(BULK_EVENTS + HTTP_EVENTS)} events stored`,
  });
  return rows;
}

/** Runs `minewatch import` in this process on one file into a fresh DuckDB file; events/s of the whole run. */
async function importRow(name: string, file: string, db: string): Promise<BenchRow> {
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  out.on('data', (c: Buffer) => {
    stdout += c;
  });
  err.on('data', (c: Buffer) => {
    stderr += c;
  });
  const cpu = process.cpuUsage();
  const t = performance.now();
  const code = await main(['import', '--db', db, '--format', 'json', '--no-user-intel', file], {
    stdout: out,
    stderr: err,
    stdin: Readable.from([]),
  });
  const ms = performance.now() - t;
  const used = process.cpuUsage(cpu);
  if (code !== 0 && code !== 1) throw new Error(`import exited ${code}: ${stderr.slice(0, 500)}`);
  const doc = JSON.parse(stdout) as { summary: { events: number; accepted: number; bad_lines: number } };
  if (doc.summary.accepted !== doc.summary.events || doc.summary.bad_lines)
    throw new Error(
      `import stored ${doc.summary.accepted} of ${doc.summary.events} events: ${stderr.slice(0, 500)}`,
    );
  return {
    name: `duckdb: whole \`minewatch import\`, ${name}`,
    value: (doc.summary.events / ms) * 1000,
    unit: 'events/s',
    note:
      `${fmt(doc.summary.events)} events, ${(statSync(file).size / 1e6).toFixed(0)} MB, ${(ms / 1000).toFixed(2)} s, ` +
      `CPU ${((used.user + used.system) / 1e6).toFixed(1)} s; in-process, fresh file`,
  };
}

/** The whole import of a generated 1M-line minewatch NDJSON file and of a Zeek conn.log of the same size. */
async function importRows(dir: string): Promise<BenchRow[]> {
  const lines = Number(process.env.MINEWATCH_BENCH_IMPORT_LINES ?? 1_000_000);
  const nd = join(dir, 'events.ndjson');
  const zk = join(dir, 'conn.log');
  await writeNdjson(nd, lines);
  await writeZeekConn(zk, lines);
  const rows = [
    await importRow('minewatch NDJSON', nd, join(dir, 'import-ndjson.db')),
    await importRow('Zeek conn.log TSV', zk, join(dir, 'import-zeek.db')),
  ];
  rmSync(nd, { force: true });
  rmSync(zk, { force: true });
  return rows;
}

export async function benchFleet(onRow?: (r: BenchRow) => void): Promise<BenchRow[]> {
  let N = Number(process.env.MINEWATCH_BENCH_EVENTS ?? 10_000_000);
  const dir = mkdtempSync(join(tmpdir(), 'minewatch-bench-fleet-'));
  const rows: BenchRow[] = [];
  const push = rows.push.bind(rows);
  // Rows are reported as they come: a 10M run takes minutes.
  rows.push = (...r: BenchRow[]) => {
    for (const x of r) onRow?.(x);
    return push(...r);
  };
  try {
    const part = process.env.MINEWATCH_BENCH_PART;
    if (part !== 'import' && part !== 'clickhouse') rows.push(...(await ingestRows(dir)));
    if (part !== 'clickhouse') rows.push(...(await importRows(dir)));
    if (part === 'ingest' || part === 'import' || part === 'clickhouse') N = 0;
    // 10M events generated in SQL, the rollup built the way ingest keeps it, then the fleet queries.
    if (N > 0) {
      const path = join(dir, 'fleet.db');
      await (await DuckDBStore.open(path)).close();
      const inst = await DuckDBInstance.create(path, { memory_limit: '2GB' });
      const c = await inst.connect();
      let t = performance.now();
      await c.run(duckGenerateSql(N));
      // The rollups as ingest keeps them (host_day, host_sum, finding_events).
      await rebuildDerived(c);
      await c.run('CHECKPOINT');
      rows.push({
        name: `duckdb: generate ${N.toLocaleString('en-US')} events + rollup in SQL`,
        value: (performance.now() - t) / 1000,
        unit: 's',
      });
      c.closeSync();
      inst.closeSync();
      // Rows written by SQL have no key hash: the store computes it from host and id on open (fillKeys).
      t = performance.now();
      const s = await DuckDBStore.open(path);
      rows.push({
        name: `duckdb: open after SQL generation (key hash of ${N.toLocaleString('en-US')} rows)`,
        value: (performance.now() - t) / 1000,
        unit: 's',
        note: 'once, for rows not written through ingest',
      });
      rows.push(...(await queryRows(s, 'duckdb', N, 20)));
      t = performance.now();
      const r = await bulk(s, 100_000, 10_000, 'late');
      rows.push({
        name: 'duckdb: bulk ingest into the 10M store (10k batches)',
        value: r,
        unit: 'events/s',
        note: `${((performance.now() - t) / 1000).toFixed(1)} s for 100,000`,
      });
      await s.close();
    }
    const ch = process.env.MINEWATCH_TEST_CLICKHOUSE;
    if (ch) {
      const db = `mw_bench_${process.pid}`;
      const s = await ClickHouseStore.open(`${ch.replace(/\/+$/, '')}/${db}`);
      try {
        rows.push({
          name: `clickhouse: ${BULK_NAME}`,
          value: await bulk(s, BULK_EVENTS, BULK_BATCH, 'b'),
          unit: 'events/s',
          note: `${fmt(BULK_EVENTS)} events`,
        });
        rows.push({
          name: `clickhouse: ${HTTP_NAME}`,
          value: await httpIngest(s, HTTP_EVENTS, HTTP_BATCH, HTTP_CLIENTS, 'h'),
          unit: 'events/s',
          note: `${fmt(HTTP_EVENTS)} events on loopback`,
        });
        if (N === 0) return rows;
        const { createClient } = await import('@clickhouse/client');
        const { parseClickHouseUrl } = await import('../src/store/clickhouse.ts');
        const target = parseClickHouseUrl(`${ch.replace(/\/+$/, '')}/${db}`);
        const client = createClient({
          url: target.url,
          username: target.username,
          password: target.password,
          database: db,
        });
        await client.command({ query: 'TRUNCATE TABLE events' });
        const t = performance.now();
        await client.command({ query: chGenerateSql(N) });
        rows.push({
          name: `clickhouse: generate ${N.toLocaleString('en-US')} events in SQL`,
          value: (performance.now() - t) / 1000,
          unit: 's',
        });
        await client.close();
        rows.push(...(await queryRows(s, 'clickhouse', N, 10)));
      } finally {
        await s.dropDatabase();
        await s.close();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

const isEntry = process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isEntry) {
  const show = (r: BenchRow) =>
    console.log(
      `${r.name.padEnd(64)} ${(r.value >= 100 ? Math.round(r.value).toLocaleString('en-US') : r.value.toFixed(2)).padStart(12)} ${r.unit}${r.note ? `  (${r.note})` : ''}`,
    );
  await benchFleet(show);
}
