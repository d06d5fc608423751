/**
 * Pools and pool ports as the fleet sees them, from what the store holds: pure functions over stored findings
 * and per-host rollup rows, so the report counts a pool once and ranks ports of pool connections only.
 *
 * - A finding can be stored more than once (an agent re-sends it; an import upgrades it when a DNS answer in a
 *   later file or batch names its address): the strongest, latest copy of each (host, finding id) stands.
 * - A pool is known by name when anything in the range tied its address to a pool host (a finding with both,
 *   a DNS pool query's answers): rows keyed by the address are counted under the name, hosts once.
 * - Ports rank connections to pools (pool-attributed connection events, network findings' connection
 *   counts), never all traffic: 1,500 clean hosts on HTTPS do not make 443 a mining port.
 */
import type { HostKeyRow, RankRow, SeriesRow, StoredFinding } from '../store/index.ts';

const SEV: Record<string, number> = { info: 0, low: 1, medium: 2, high: 3, critical: 4 };

interface PoolField {
  host?: unknown;
  ip?: unknown;
  port?: unknown;
  name?: unknown;
  domain?: unknown;
}

function poolOf(f: Record<string, unknown>): PoolField | undefined {
  const p = f.pool;
  return typeof p === 'object' && p !== null && !Array.isArray(p) ? (p as PoolField) : undefined;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);

/** How much a stored copy of a finding says: named pool first, then severity, then the later copy. */
function weight(s: StoredFinding): [number, number, number] {
  const f = s.finding;
  return [str(poolOf(f)?.host) ? 1 : 0, SEV[String(f.severity)] ?? 0, Date.parse(s.time) || 0];
}

function better(a: StoredFinding, b: StoredFinding): boolean {
  const x = weight(a);
  const y = weight(b);
  for (let i = 0; i < 3; i++) if (x[i]! !== y[i]!) return x[i]! > y[i]!;
  return false;
}

/** One stored copy per (host, finding id): the one that names the pool, is most severe, is latest. */
export function latestFindings(findings: readonly StoredFinding[]): StoredFinding[] {
  const best = new Map<string, StoredFinding>();
  for (const s of findings) {
    const id = str(s.finding.id) ?? s.id;
    const k = `${s.host}\u0000${id}`;
    const cur = best.get(k);
    if (!cur || better(s, cur)) best.set(k, s);
  }
  return [...best.values()];
}

/**
 * Address → pool host name, from findings that tie the two: a connection finding naming both, a DNS pool
 * query's answers (in its evidence). The first name seen for an address wins (findings come newest first).
 */
export function poolNames(findings: readonly StoredFinding[]): Map<string, string> {
  const names = new Map<string, string>();
  for (const s of findings) {
    const f = s.finding;
    const p = poolOf(f);
    const host = str(p?.host)?.toLowerCase();
    if (!host) continue;
    const ip = str(p?.ip);
    if (ip && !names.has(ip)) names.set(ip, host);
    if (f.rule === 'net.dns.pool-query' && Array.isArray(f.evidence))
      for (const e of f.evidence) {
        const answers = (e as { answers?: unknown }).answers;
        if (Array.isArray(answers))
          for (const a of answers)
            if (typeof a === 'string' && isAddress(a) && !names.has(a)) names.set(a, host);
      }
  }
  return names;
}

function isAddress(s: string): boolean {
  return /^\d{1,3}(?:\.\d{1,3}){3}$/.test(s) || (s.includes(':') && /^[0-9a-f:.]+$/i.test(s));
}

/**
 * Findings that name a pool by address only, given the pool's name where the range tied that address to one
 * (copies: the stored findings are not changed). An agent's flow finding in one batch and its DNS answer in
 * another read as one named pool connection.
 */
export function nameFindings(
  findings: readonly StoredFinding[],
  names: ReadonlyMap<string, string>,
): StoredFinding[] {
  return findings.map((s) => {
    const p = poolOf(s.finding);
    const ip = str(p?.ip);
    if (!p || str(p.host) || !ip) return s;
    const name = names.get(ip);
    if (!name) return s;
    return { ...s, finding: { ...s.finding, pool: { ...p, host: name } } };
  });
}

const rankRow = (key: string, events: number, hosts: number): RankRow => ({
  key,
  events,
  hosts,
  bytes: 0,
  first: '',
  last: '',
});

/** Pools ranked by hosts, rows keyed by an address folded into its pool's name (each host counted once). */
export function foldPools(rows: readonly HostKeyRow[], names: ReadonlyMap<string, string>): RankRow[] {
  const by = new Map<string, { events: number; hosts: Set<string> }>();
  for (const r of rows) {
    const key = names.get(r.key) ?? r.key;
    let a = by.get(key);
    if (!a) by.set(key, (a = { events: 0, hosts: new Set() }));
    a.events += r.events;
    a.hosts.add(r.host);
  }
  return [...by]
    .map(([k, a]) => rankRow(k, a.events, a.hosts.size))
    .sort((x, y) => y.hosts - x.hosts || y.events - x.events || x.key.localeCompare(y.key));
}

/** Daily series rows with address keys folded into pool names. */
export function foldSeries(rows: readonly SeriesRow[], names: ReadonlyMap<string, string>): SeriesRow[] {
  const by = new Map<string, SeriesRow>();
  for (const r of rows) {
    const key = names.get(r.key) ?? r.key;
    const k = `${r.day}\u0000${key}`;
    const cur = by.get(k);
    if (cur) {
      cur.events += r.events;
      cur.hosts += r.hosts;
    } else by.set(k, { ...r, key });
  }
  return [...by.values()];
}

/** Network findings: a connection (or IDS alert on one) to a pool port; DNS lookups have no port. */
function connectionCount(f: Record<string, unknown>): number | undefined {
  const rule = String(f.rule ?? '');
  if (!(rule.startsWith('net.') || rule.startsWith('ids.')) || rule.startsWith('net.dns.')) return undefined;
  const n = f.events;
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : 1;
}

/**
 * Destination ports of connections to pools, by connections: pool-attributed connection events (per host
 * and port, from the store) and network findings (their connection counts), whichever says more for a
 * host and port (they describe the same connections when both exist).
 */
export function poolPorts(connRows: readonly HostKeyRow[], findings: readonly StoredFinding[]): RankRow[] {
  const per = new Map<string, number>();
  const k = (host: string, port: number) => `${port}\u0000${host}`;
  for (const r of connRows) {
    const port = Number(r.key);
    if (!Number.isInteger(port) || port <= 0) continue;
    per.set(k(r.host, port), Math.max(per.get(k(r.host, port)) ?? 0, r.events));
  }
  // Per (host, port, pool): findings about the same connections (the flow finding, an IDS alert on it) count
  // once, the larger; different pools on one port add up.
  const perPool = new Map<string, number>();
  for (const s of findings) {
    const n = connectionCount(s.finding);
    const p = poolOf(s.finding);
    const port = Number(p?.port);
    if (n === undefined || !Number.isInteger(port) || port <= 0) continue;
    const pk = `${k(s.host, port)}\u0000${str(p?.ip) ?? str(p?.host) ?? ''}`;
    perPool.set(pk, Math.max(perPool.get(pk) ?? 0, n));
  }
  const fromFindings = new Map<string, number>();
  for (const [pk, n] of perPool) {
    const key = pk.slice(0, pk.lastIndexOf('\u0000'));
    fromFindings.set(key, (fromFindings.get(key) ?? 0) + n);
  }
  for (const [key, n] of fromFindings) per.set(key, Math.max(per.get(key) ?? 0, n));
  const by = new Map<string, { events: number; hosts: number }>();
  for (const [key, n] of per) {
    const port = key.slice(0, key.indexOf('\u0000'));
    const a = by.get(port) ?? { events: 0, hosts: 0 };
    a.events += n;
    a.hosts++;
    by.set(port, a);
  }
  return [...by]
    .map(([p, a]) => rankRow(p, a.events, a.hosts))
    .sort((x, y) => y.events - x.events || y.hosts - x.hosts || Number(x.key) - Number(y.key));
}

/** Per day and port, the larger of two series (connection events and findings count the same traffic). */
export function maxSeries(a: readonly SeriesRow[], b: readonly SeriesRow[]): SeriesRow[] {
  const by = new Map<string, SeriesRow>();
  for (const r of [...a, ...b]) {
    const k = `${r.day}\u0000${r.key}`;
    const cur = by.get(k);
    if (!cur || r.events > cur.events) by.set(k, { ...r });
  }
  return [...by.values()].sort((x, y) => x.day.localeCompare(y.day) || x.key.localeCompare(y.key));
}
