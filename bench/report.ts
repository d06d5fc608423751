/**
 * `minewatch report` speed: the full report (store queries, analysis, HTML with every chart) over 10 million
 * stored events on the embedded default, and how fast `minewatch demo` loads its default fleet.
 *
 *   node --import tsx bench/report.ts        # MINEWATCH_BENCH_EVENTS=2000000 for a quicker run
 * Target: full report over 10M events < 10 s.
 *
 * The 10M store is the demo fleet (1,500 hosts through the Store's ingest) copied in SQL under new host names
 * until it holds N events, then the rollup rebuilt the way ingest keeps it (as bench/fleet.ts does): realistic
 * daily shapes, minutes faster than ingesting 10M. It is kept under /tmp and reused by later runs.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { analyze, collect, parsePrices } from '../src/analytics/index.ts';
import { loadDemo, planDemo, pricesCsv } from '../src/demo/index.ts';
import { renderHtml } from '../src/report/index.ts';
import { EVENT_ROW_COLUMNS, rebuildDerived } from '../src/store/duckdb.ts';
import { openStore } from '../src/store/index.ts';

export interface BenchRow {
  name: string;
  value: number;
  unit: string;
  note?: string;
}

const SEED_HOSTS = 1500;

async function buildStore(path: string, n: number): Promise<number> {
  for (const f of [path, `${path}.wal`]) rmSync(f, { force: true });
  const t = performance.now();
  const store = await openStore(path);
  const r = await loadDemo(store, { hosts: SEED_HOSTS });
  await store.close();
  const copies = Math.max(0, Math.ceil(n / r.events) - 1);
  const inst = await DuckDBInstance.create(path, { memory_limit: '2GB' });
  const c = await inst.connect();
  // Copy k: same events on hosts renamed `<host>~k`, so the fleet grows and every daily shape stays. Rows written
  // by SQL have no key hash (kh, kl): the store computes them from host and id when it opens the file (fillKeys),
  // as for bench/fleet.ts's.
  await c.run(
    `INSERT INTO events (${EVENT_ROW_COLUMNS}) SELECT id, ts, day, host || '~' || k, type, source, rule, sev, coin, pool, port, domain, dst_ip,
       family, exe, sha256, wallet, account, dropper, bytes, data
     FROM events, range(1, ${copies + 1}) r(k)`,
  );
  // The rollups as ingest keeps them (host_day, host_sum, finding_events).
  await rebuildDerived(c);
  await c.run('CHECKPOINT');
  const total = Number((await c.runAndReadAll('SELECT count(*) FROM events')).getRows()[0]?.[0] ?? 0);
  c.closeSync();
  inst.closeSync();
  // Opened once here, so the key hashes of the copies are filled before any run is timed.
  await (await openStore(path)).close();
  process.stderr.write(
    `bench report: built ${total.toLocaleString('en-US')} events in ${((performance.now() - t) / 1000).toFixed(1)} s\n`,
  );
  return total;
}

export async function benchReport(): Promise<BenchRow[]> {
  const N = Number(process.env.MINEWATCH_BENCH_EVENTS ?? 10_000_000);
  const path = join(tmpdir(), `minewatch-bench-report-${N}.db`);
  const rows: BenchRow[] = [];
  let total = 0;
  if (existsSync(path)) {
    const s = await openStore(path);
    total = await s.count();
    await s.close();
  }
  if (total < N * 0.95) total = await buildStore(path, N);
  const prices = parsePrices(pricesCsv(planDemo({ hosts: SEED_HOSTS }))).table;
  const runs: { collect: number; analyze: number; html: number }[] = [];
  for (let i = 0; i < 3; i++) {
    // A fresh open each run: what a `minewatch report` invocation pays.
    const t0 = performance.now();
    const store = await openStore(path);
    const input = await collect(store, { prices });
    await store.close();
    const t1 = performance.now();
    const a = analyze(input);
    const t2 = performance.now();
    renderHtml(a);
    const t3 = performance.now();
    runs.push({ collect: t1 - t0, analyze: t2 - t1, html: t3 - t2 });
  }
  const med = (k: 'collect' | 'analyze' | 'html') => [...runs.map((r) => r[k])].sort((a, b) => a - b)[1]!;
  const full = [...runs.map((r) => r.collect + r.analyze + r.html)].sort((a, b) => a - b)[1]!;
  const note = `${total.toLocaleString('en-US')} events, median of 3`;
  rows.push({
    name: 'report: full HTML report over the 10M store (target < 10 s)',
    value: full / 1000,
    unit: 's',
    note,
  });
  rows.push({ name: 'report: store queries (collect)', value: med('collect'), unit: 'ms', note });
  rows.push({
    name: 'report: analysis (series, spikes, correlations)',
    value: med('analyze'),
    unit: 'ms',
    note,
  });
  rows.push({ name: 'report: HTML with all charts (ECharts SSR)', value: med('html'), unit: 'ms', note });

  if (process.env.MINEWATCH_BENCH_SKIP_DEMO !== '1') {
    const dir = mkdtempSync(join(tmpdir(), 'minewatch-bench-demo-'));
    try {
      const store = await openStore(join(dir, 'demo.db'));
      const r = await loadDemo(store);
      await store.close();
      rows.push({
        name: 'demo: load the default fleet (6,000 hosts, 9 months)',
        value: r.ms / 1000,
        unit: 's',
        note: `${r.events.toLocaleString('en-US')} events, ${Math.round(r.events / (r.ms / 1000)).toLocaleString('en-US')} events/s`,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return rows;
}

const isEntry = process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isEntry) {
  for (const r of await benchReport())
    console.log(
      `${r.name.padEnd(64)} ${r.value.toFixed(r.value >= 100 ? 0 : 2).padStart(10)} ${r.unit}${r.note ? `  (${r.note})` : ''}`,
    );
}
