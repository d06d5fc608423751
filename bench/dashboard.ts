/**
 * Dashboard first render at fleet scale: a DuckDB store of 10 million events (generated in SQL like
 * bench/fleet.ts: 5,000 hosts, 90 days, connections, heartbeats, findings with wallets) behind the real server,
 * then the time from request to complete HTML for each view on loopback, logged in with a session cookie.
 *
 *   node --import tsx bench/dashboard.ts        # MINEWATCH_BENCH_EVENTS=1000000 for a quicker run
 * Target: every page's first render (complete HTML) under 1 s at 10M events.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { startServer } from '../src/server/app.ts';
import { DuckDBStore, EVENT_ROW_COLUMNS, rebuildDerived } from '../src/store/duckdb.ts';

export interface BenchRow {
  name: string;
  value: number;
  unit: string;
  note?: string;
}

const HOSTS = 5000;
const POOLS = 40;
const DAYS = 90;
const T0 = Date.UTC(2026, 0, 1);
const COINS = "['XMR','ETC','RVN','ZEPH','ETH','BTC']";
const PORTS = '[3333,4444,5555,14444,443,80,7777,8080]';

/** n events in SQL: 1 in 20 a finding (with a wallet shared by ~17 hosts), 1 in 11 a heartbeat. */
function generateSql(n: number): string {
  return `INSERT INTO events (${EVENT_ROW_COLUMNS})
  SELECT 'g' || i, ts, (ts // 86400000)::INTEGER, 'host-' || h, typ, 'bench',
    CASE WHEN typ = 'finding' THEN 'net.pool.connection' ELSE '' END, CASE WHEN typ = 'finding' THEN 3 ELSE -1 END,
    CASE WHEN typ = 'heartbeat' THEN '' ELSE ${COINS}[1 + p % 6] END,
    CASE WHEN typ = 'heartbeat' THEN '' ELSE 'pool' || p || '.example.com' END,
    CASE WHEN typ = 'heartbeat' THEN 0 ELSE ${PORTS}[1 + p % 8] END,
    '', CASE WHEN typ = 'connection' THEN '203.0.113.' || p ELSE '' END,
    CASE WHEN typ = 'heartbeat' THEN '' ELSE 'xmrig' END,
    '', '', CASE WHEN typ = 'finding' THEN 'wallet' || (h % 300) ELSE '' END, '', '',
    CASE WHEN typ = 'connection' THEN i % 10000 ELSE 0 END,
    CASE typ
      WHEN 'finding' THEN '{"id":"g' || i || '","type":"finding","host":"host-' || h || '","time":"' || strftime(make_timestamp(ts * 1000), '%Y-%m-%dT%H:%M:%S.000Z') ||
        '","finding":{"rule":"net.pool.connection","title":"connection to a mining pool","severity":"high","coin":"' || ${COINS}[1 + p % 6] ||
        '","pool":{"host":"pool' || p || '.example.com","port":' || ${PORTS}[1 + p % 8] || '},"wallet":"wallet' || (h % 300) || '","evidence":[]}}'
      WHEN 'heartbeat' THEN '{"id":"g' || i || '","type":"heartbeat","host":"host-' || h || '","time":"' || strftime(make_timestamp(ts * 1000), '%Y-%m-%dT%H:%M:%S.000Z') || '","os":"Debian 12","cpus":2}'
      ELSE '{"id":"g' || i || '","type":"connection","host":"host-' || h || '","time":"' || strftime(make_timestamp(ts * 1000), '%Y-%m-%dT%H:%M:%S.000Z') ||
        '","src_ip":"10.0.0.1","dst_ip":"203.0.113.' || p || '","dst_port":' || ${PORTS}[1 + p % 8] || '}'
    END
  FROM (SELECT i, h, ts,
          CASE WHEN i % 20 = 0 THEN 'finding' WHEN i % 11 = 0 THEN 'heartbeat' ELSE 'connection' END AS typ,
          h % ${POOLS} AS p
        FROM (SELECT i, (i * 2654435761) % ${HOSTS} AS h, ${T0} + ((i * 7919) % ${DAYS * 86400}) * 1000 AS ts
              FROM range(${n}) r(i)))`;
}

export async function benchDashboard(): Promise<BenchRow[]> {
  const N = Number(process.env.MINEWATCH_BENCH_EVENTS ?? 10_000_000);
  const dir = mkdtempSync(join(tmpdir(), 'minewatch-bench-ui-'));
  const rows: BenchRow[] = [];
  try {
    const path = join(dir, 'fleet.db');
    await (await DuckDBStore.open(path)).close();
    const inst = await DuckDBInstance.create(path, { memory_limit: '2GB' });
    const c = await inst.connect();
    let t = performance.now();
    await c.run(generateSql(N));
    // The rollups as ingest keeps them (host_day, host_sum, finding_events).
    await rebuildDerived(c);
    await c.run('CHECKPOINT');
    rows.push({
      name: `dashboard: build ${N.toLocaleString('en-US')}-event store`,
      value: (performance.now() - t) / 1000,
      unit: 's',
    });
    c.closeSync();
    inst.closeSync();

    const store = await DuckDBStore.open(path);
    const admin = 'bench-dashboard-admin-token-0123456789';
    const srv = await startServer({ store, listen: '127.0.0.1:0', adminToken: admin, rateLimit: 0 });
    try {
      const login = await fetch(`${srv.url}/ui/login`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: srv.url },
        body: `token=${admin}`,
      });
      const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
      const get = async (p: string) => {
        const t0 = performance.now();
        const r = await fetch(`${srv.url}${p}`, { headers: { cookie } });
        const body = await r.text();
        if (r.status !== 200) throw new Error(`${p} answered ${r.status}: ${body.slice(0, 200)}`);
        return performance.now() - t0;
      };
      const pages: [string, string][] = [
        ['overview, last 90 days', '/ui/'],
        ['overview, all time', '/ui/?range=all'],
        ['overview, coin XMR, group host', '/ui/?coin=XMR&group=host'],
        ['hosts list', '/ui/hosts'],
        ['hosts sorted by findings', '/ui/hosts?sort=findings'],
        ['host page', '/ui/hosts/host-42'],
        ['campaigns', '/ui/campaigns'],
        ['intel search', '/ui/intel?q=nanopool'],
        ['pulse (live poll)', '/ui/api/pulse'],
      ];
      for (const [name, p] of pages) {
        // The first request is the cold one a user sees after the server starts; the rest show the steady state.
        const cold = await get(p);
        const warm: number[] = [];
        for (let i = 0; i < 5; i++) warm.push(await get(p));
        warm.sort((a, b) => a - b);
        rows.push({
          name: `dashboard: ${name} first render`,
          value: cold,
          unit: 'ms',
          note: `warm median ${warm[2]!.toFixed(0)} ms, max ${warm[4]!.toFixed(0)} ms; ${N.toLocaleString('en-US')} events`,
        });
        t = performance.now();
      }
    } finally {
      await srv.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

const isEntry = process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isEntry) {
  for (const r of await benchDashboard())
    console.log(
      `${r.name.padEnd(56)} ${r.value.toFixed(r.value >= 100 ? 0 : 1).padStart(10)} ${r.unit}${r.note ? `  (${r.note})` : ''}`,
    );
}
