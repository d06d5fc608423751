/**
 * Fleet response: what the decisions stream costs the server. A store with N pool findings from the fleet
 * (distinct pool addresses on distinct hosts) plus the built-in intel; measured: the first refresh (every
 * decision computed and persisted), a refresh with nothing new, a stream answer at startup (the whole set)
 * and since the last version (empty), and a refresh after one new pool. Run alone with
 * `node --import tsx bench/response.ts` (MINEWATCH_BENCH_FINDINGS, default 10,000).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MinewatchEvent } from '../src/findings/index.ts';
import { FleetService } from '../src/server/fleet-service.ts';
import { DuckDBStore } from '../src/store/duckdb.ts';
import type { BenchRow } from './row.ts';

function finding(i: number, time: string): MinewatchEvent {
  const ip = `198.${18 + ((i >> 16) & 1)}.${(i >> 8) & 255}.${i & 255}`;
  return {
    id: `bench-${i}`,
    type: 'finding',
    host: `host-${i % 5000}`,
    time,
    finding: {
      id: `f-${i}`,
      rule: 'net.stratum.session',
      title: 'Stratum mining session',
      severity: 'high',
      confidence: 0.95,
      pool: { ip, port: 3333 },
      evidence: [],
      attack: [],
    },
  } as unknown as MinewatchEvent;
}

export async function benchResponse(): Promise<BenchRow[]> {
  const N = Number(process.env.MINEWATCH_BENCH_FINDINGS ?? 10_000);
  const dir = mkdtempSync(join(tmpdir(), 'minewatch-bench-response-'));
  const rows: BenchRow[] = [];
  const store = await DuckDBStore.open(join(dir, 'r.db'));
  try {
    const now = new Date().toISOString();
    await store.ingest(Array.from({ length: N }, (_, i) => finding(i, now)));
    const svc = new FleetService(store, { refreshMs: 0 });
    const time = async (name: string, f: () => Promise<unknown>, note?: string) => {
      const t = performance.now();
      await f();
      rows.push({ name, value: performance.now() - t, unit: 'ms', ...(note ? { note } : {}) });
    };
    await time(`response: first refresh, intel + ${N.toLocaleString('en-US')} fleet pools`, () =>
      svc.refresh(true),
    );
    await time('response: refresh with nothing new', () => svc.refresh(true));
    const all = await svc.stream();
    await time(`response: stream at startup (${all.new.length.toLocaleString('en-US')} decisions)`, () =>
      svc.stream(),
    );
    await time('response: stream since the current version', () => svc.stream(all.version));
    await store.ingest([finding(N + 1, now)]);
    await time('response: refresh after one new pool', () => svc.refresh(true));
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`)
  for (const r of await benchResponse()) console.log(`${r.name}: ${r.value.toFixed(0)} ${r.unit}`);
