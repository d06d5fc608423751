/**
 * What each view shows, computed from the store's aggregations (rank, series, campaigns, findings); the server
 * only joins small results (per-coin host sets, one row per host) and never pulls raw events for a chart.
 */
import { fillSeries } from '../analytics/series.ts';
import { detectSpikes, type Spike } from '../analytics/spikes.ts';
import { classifyVector } from '../analytics/vectors.ts';
import { verdictOf } from '../detect/host/verdict.ts';
import type { Finding, MinewatchEvent } from '../findings/index.ts';
import type {
  CampaignKey,
  HostRow,
  InstanceRow,
  Range,
  RankRow,
  Store,
  StoredFinding,
} from '../store/types.ts';
import { type Bounds, bounds, type Filter, groupOf } from './filter.ts';

const DAY_MS = 86_400_000;

export interface Ctx {
  store: Store;
}

/** Small time-based memo: the data clock and the host table are asked for by every page and every poll. */
class Memo<T> {
  private at = 0;
  private value: Promise<T> | undefined;
  constructor(
    private readonly ttlMs: number,
    private readonly load: () => Promise<T>,
  ) {}
  get(): Promise<T> {
    const now = Date.now();
    if (!this.value || now - this.at > this.ttlMs) {
      this.at = now;
      this.value = this.load();
      this.value.catch(() => {
        this.value = undefined;
      });
    }
    return this.value;
  }
}

export interface Pulse {
  events: number;
  findings: number;
  /** Newest event time (ISO), or null for an empty store. */
  last: string | null;
  last_finding: string | null;
}

export interface HostInfo extends HostRow {
  group: string;
}

export class DashboardData {
  private readonly pulseMemo: Memo<Pulse>;
  private readonly hostMemo: Memo<HostInfo[]>;

  constructor(readonly store: Store) {
    this.pulseMemo = new Memo(1000, () => this.loadPulse());
    this.hostMemo = new Memo(5000, async () =>
      (await store.hosts()).map((h) => ({ ...h, group: groupOf(h.host, h.inventory) })),
    );
  }

  /** Counts by type from the rollup: cheap enough to poll. */
  private async loadPulse(): Promise<Pulse> {
    const rows = await this.store.rank('type', { limit: 100 });
    let events = 0;
    let last = '';
    let findings = 0;
    let lastFinding: string | null = null;
    for (const r of rows) {
      events += r.events;
      if (r.last > last) last = r.last;
      if (r.key === 'finding') {
        findings = r.events;
        lastFinding = r.last;
      }
    }
    return { events, findings, last: last || null, last_finding: lastFinding };
  }

  pulse(): Promise<Pulse> {
    return this.pulseMemo.get();
  }

  hosts(): Promise<HostInfo[]> {
    return this.hostMemo.get();
  }

  async groups(): Promise<string[]> {
    return [...new Set((await this.hosts()).map((h) => h.group))].sort();
  }

  /** The data clock: the newest event's time (now for an empty store). */
  async clock(): Promise<number> {
    const p = await this.pulse();
    return p.last ? Date.parse(p.last) : Date.now();
  }

  async range(f: Filter): Promise<{ b: Bounds; r: Range; clock: number }> {
    const clock = await this.clock();
    const b = bounds(f, clock);
    const r: Range = {};
    if (b.from !== undefined) r.from = b.from;
    if (b.to !== undefined) r.to = b.to;
    return { b, r, clock };
  }

  /** Hosts of the filter's group, or null when no group is picked. */
  async groupHosts(f: Filter): Promise<Set<string> | null> {
    if (!f.group) return null;
    return new Set((await this.hosts()).filter((h) => h.group === f.group).map((h) => h.host));
  }

  /** host → coins it showed in the range, in the order of `coins` (one (host, coin) query over the rollup). */
  async coinsByHost(r: Range, coins: readonly string[]): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    if (!coins.length) return out;
    // Stored coins are upper case (toRow), as a coin filter matches them.
    const order = new Map(coins.map((c, i) => [c.toUpperCase(), i]));
    const rows = await this.store.hostKeys('coin', {
      ...r,
      ...(coins.length === 1 ? { coin: coins[0]! } : {}),
      limit: 1_000_000,
    });
    for (const row of rows) {
      const i = order.get(row.key.toUpperCase());
      if (i === undefined) continue;
      const l = out.get(row.host);
      if (l) l.push(coins[i]!);
      else out.set(row.host, [coins[i]!]);
    }
    for (const l of out.values())
      if (l.length > 1) l.sort((a, b) => order.get(a.toUpperCase())! - order.get(b.toUpperCase())!);
    return out;
  }

  async coinList(): Promise<string[]> {
    return (await this.store.rank('coin', { limit: 50 })).map((r) => r.key);
  }

  async overview(f: Filter): Promise<Overview> {
    const { r, clock, b } = await this.range(f);
    const store = this.store;
    const group = await this.groupHosts(f);
    const coinQ = f.coin ? { coin: f.coin } : {};
    let coins = await store.rank('coin', { ...r, ...coinQ, limit: 20 });
    const allCoins = coins.map((c) => c.key);
    // Mining now: hosts with coin activity on the data clock's day or the day before. Whole days, so the
    // rollup answers (a 24-hour window cut mid-day would scan the events table once per coin).
    const today = Math.floor(clock / DAY_MS) * DAY_MS;
    const recent = await this.coinsByHost({ from: today - DAY_MS, to: today + DAY_MS }, allCoins);
    const inGroup = (h: string) => !group || group.has(h);
    const miningNow = [...recent.keys()].filter(inGroup).length;
    if (group) {
      const byHost = await this.coinsByHost(r, allCoins);
      const n = new Map<string, number>();
      for (const [h, cs] of byHost) if (inGroup(h)) for (const c of cs) n.set(c, (n.get(c) ?? 0) + 1);
      coins = coins
        .map((c) => ({ ...c, hosts: n.get(c.key) ?? 0 }))
        .filter((c) => c.hosts > 0)
        .sort((x, y) => y.hosts - x.hosts);
    }
    // New this week: hosts whose first finding is in the 7 days up to the data clock.
    const firstFindings = await store.rank('host', { type: 'finding', ...coinQ, limit: 1_000_000 });
    const weekAgo = clock - 7 * DAY_MS;
    const newHosts = firstFindings.filter((h) => Date.parse(h.first) >= weekAgo && inGroup(h.key));
    const types = await store.rank('type', { ...r, limit: 100 });
    // A group filter narrows every panel in the store (its hosts as a list filter).
    const hostsQ = group ? { hosts: [...group] } : {};
    const pools = await store.rank('pool', { ...r, ...coinQ, ...hostsQ, limit: 10 });
    // Ports of connections to pools (attributed connections, findings), never all traffic: a fleet's HTTPS
    // would otherwise rank 443 first. Where both count a port, the larger stands (the same connections).
    const [connPorts, findingPorts] = await Promise.all([
      store.rank('port', { ...r, ...coinQ, ...hostsQ, type: 'connection', pooled: true, limit: 10 }),
      store.rank('port', { ...r, ...coinQ, ...hostsQ, type: 'finding', pooled: true, limit: 10 }),
    ]);
    const ports = mergePorts(connPorts, findingPorts).slice(0, 10);
    const seriesRows = await store.series('coin', { ...r, ...coinQ, ...hostsQ });
    const days = dayList(
      b.from ?? (seriesRows[0] ? Date.parse(seriesRows[0].day) : clock),
      b.to !== undefined ? b.to - DAY_MS : clock,
    );
    const perCoin = new Map<string, Map<string, number>>();
    for (const row of seriesRows) {
      let m = perCoin.get(row.key);
      if (!m) perCoin.set(row.key, (m = new Map()));
      m.set(row.day, row.hosts);
    }
    const trendCoins = [...perCoin.keys()]
      .map((k) => ({ k, total: [...perCoin.get(k)!.values()].reduce((a, x) => a + x, 0) }))
      .sort((a, b2) => b2.total - a.total)
      .slice(0, 6)
      .map((x) => x.k);
    const series = trendCoins.map((c) => fillSeries(`coin:${c}`, 'hosts', days, perCoin.get(c)!));
    // Newly flagged hosts per day (first finding of any rule): a wave of infections is a spike here even when the
    // mining-host count it adds to is large and noisy.
    const firstDay = new Map<string, number>();
    for (const h of firstFindings)
      if (inGroup(h.key)) firstDay.set(h.first.slice(0, 10), (firstDay.get(h.first.slice(0, 10)) ?? 0) + 1);
    series.push(fillSeries(NEW_SERIES, 'hosts', days, firstDay));
    const spikes = series
      .flatMap((s) => detectSpikes(s))
      .sort((x, y) => y.score - x.score)
      .slice(0, 6);
    const explained = await Promise.all(spikes.map((s) => this.explainSpike(s, group)));
    const findingRow = types.find((t) => t.key === 'finding');
    return {
      clock: new Date(clock).toISOString(),
      range: {
        from: b.from ? new Date(b.from).toISOString() : null,
        to: b.to ? new Date(b.to).toISOString() : null,
      },
      kpis: {
        hosts: group ? group.size : (await this.hosts()).length,
        mining_now: miningNow,
        new_this_week: newHosts.length,
        findings: findingRow?.events ?? 0,
        events: types.reduce((a, t) => a + t.events, 0),
      },
      new_hosts: newHosts.slice(0, 20).map((h) => ({ host: h.key, first: h.first })),
      coins,
      pools,
      ports,
      days,
      series: series.map((s) => ({ name: seriesLabel(s.name), values: s.points.map((p) => p.value) })),
      spikes: explained,
    };
  }

  /** What happened on a spike's first day: its findings by rule, wallet, dropper and pool, and the intrusion
   * vectors seen on the three days before it. */
  async explainSpike(s: Spike, group: Set<string> | null): Promise<SpikeInfo> {
    const coin = s.series.startsWith('coin:') ? s.series.slice(5) : '';
    const day = Date.parse(`${s.date}T00:00:00Z`);
    const keep = (f: StoredFinding) => !group || group.has(f.host);
    const on = (await this.store.findings({ from: day, to: day + DAY_MS, limit: 2000 })).filter(keep);
    const before = (await this.store.findings({ from: day - 3 * DAY_MS, to: day, limit: 2000 })).filter(keep);
    const tally = (xs: (string | undefined)[]) => {
      const m = new Map<string, number>();
      for (const x of xs) if (x) m.set(x, (m.get(x) ?? 0) + 1);
      return [...m.entries()]
        .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
        .slice(0, 3)
        .map(([key, n]) => ({ key, n }));
    };
    const mine = on.filter((f) => !coin || !f.finding.coin || String(f.finding.coin).toUpperCase() === coin);
    const str = (x: unknown) => (typeof x === 'string' && x ? x : undefined);
    return {
      coin,
      series: seriesLabel(s.series),
      date: s.date,
      days: s.days,
      value: s.value,
      baseline: s.baseline,
      score: s.score,
      peak: s.peak,
      findings: mine.length,
      hosts: new Set(mine.map((f) => f.host)).size,
      rules: tally(mine.map((f) => str(f.finding.rule))),
      wallets: tally(mine.map((f) => str(f.finding.wallet))),
      droppers: tally(on.map((f) => str(f.finding.dropper_url ?? f.finding.url))),
      pools: tally(mine.map((f) => poolName(f.finding.pool))),
      vectors: tally([...before, ...on].map((f) => classifyVector(f.finding) ?? undefined)),
    };
  }

  async hostList(f: Filter, opts: { q?: string; sort?: string; dir?: 'asc' | 'desc' }): Promise<HostList> {
    const { r } = await this.range(f);
    const hosts = await this.hosts();
    const coins = (await this.store.rank('coin', { ...r, limit: 50 })).map((c) => c.key);
    const byHostCoin = await this.coinsByHost(r, f.coin ? [f.coin] : coins);
    const active =
      f.range === 'all'
        ? null
        : new Set((await this.store.rank('host', { ...r, limit: 1_000_000 })).map((x) => x.key));
    // Verdicts from each host's serious findings (newest first, bounded: a fleet of thousands fits).
    const fs = await this.store.findings({
      ...r,
      ...(f.coin ? { coin: f.coin } : {}),
      severity: 'medium',
      limit: 20_000,
    });
    const byHost = new Map<string, StoredFinding[]>();
    for (const x of fs) {
      const l = byHost.get(x.host);
      if (l) l.push(x);
      else byHost.set(x.host, [x]);
    }
    const q = opts.q?.toLowerCase();
    let rows: HostListRow[] = [];
    for (const h of hosts) {
      if (f.group && h.group !== f.group) continue;
      if (active && !active.has(h.host)) continue;
      const hc = byHostCoin.get(h.host) ?? [];
      if (f.coin && !hc.length) continue;
      const hf = byHost.get(h.host) ?? [];
      const inv = h.inventory ?? {};
      const v = hf.length ? verdictOf(hf.map(asFinding)) : null;
      const pool = hf.map((x) => poolName(x.finding.pool)).find(Boolean) ?? '';
      const verdict =
        typeof inv.verdict === 'string' && inv.verdict
          ? inv.verdict
          : v
            ? v.status
            : h.findings
              ? 'suspicious'
              : 'clean';
      const row: HostListRow = {
        host: h.host,
        group: h.group,
        verdict,
        infection_type:
          (typeof inv.infection_type === 'string' && inv.infection_type) || v?.infection_type || '',
        coin: hc.join(' '),
        pool,
        first: h.first,
        last: h.last,
        last_heartbeat: typeof inv.time === 'string' ? inv.time : '',
        findings: h.findings,
        max_severity: h.max_severity ?? '',
      };
      if (q && !Object.values(row).some((x) => String(x).toLowerCase().includes(q))) continue;
      rows.push(row);
    }
    const key = (SORTABLE as readonly string[]).includes(opts.sort ?? '')
      ? (opts.sort as SortKey)
      : 'verdict';
    const dir =
      opts.dir === 'asc' ? 1 : opts.dir === 'desc' ? -1 : key === 'host' || key === 'group' ? 1 : -1;
    rows = rows.sort((a, b) => dir * compare(a, b, key) || a.host.localeCompare(b.host));
    return { total: rows.length, rows, sort: key, dir: dir === 1 ? 'asc' : 'desc' };
  }

  async host(name: string, f: Filter): Promise<HostPage | null> {
    const { r } = await this.range(f);
    const h = (await this.hosts()).find((x) => x.host === name);
    if (!h) return null;
    const findings = await this.store.findings({ host: name, ...r, limit: 500 });
    const events = await this.store.events({ host: name, ...r, limit: 400 });
    const instances = await this.store.instances({ host: name, ...r, limit: 100 });
    const serious = findings.map(asFinding);
    const v = serious.length ? verdictOf(serious) : null;
    return { host: h, verdict: v, findings, events, instances };
  }

  async campaigns(f: Filter): Promise<CampaignView[]> {
    const { r } = await this.range(f);
    const group = await this.groupHosts(f);
    const coinHosts = f.coin ? new Set((await this.coinsByHost(r, [f.coin])).keys()) : null;
    const out: CampaignView[] = [];
    for (const by of ['wallet', 'dropper', 'account'] as CampaignKey[]) {
      for (const c of await this.store.campaigns(by, { ...r, limit: 200 })) {
        const narrowed = Boolean(group || coinHosts);
        const list = c.host_list.filter((h) => (!group || group.has(h)) && (!coinHosts || coinHosts.has(h)));
        if (!list.length) continue;
        // The store lists up to 100 hosts per key; a narrowed count is a count of that list.
        const hosts = narrowed ? list.length : c.hosts;
        if (hosts < 2) continue;
        out.push({ by, key: c.key, hosts, events: c.events, first: c.first, last: c.last, host_list: list });
      }
    }
    return out.sort((a, b) => b.hosts - a.hosts || a.key.localeCompare(b.key));
  }
}

const NEW_SERIES = 'new-infections';

function seriesLabel(name: string): string {
  return name === NEW_SERIES ? 'newly flagged hosts' : name.replace(/^coin:/, '');
}

export const SORTABLE = [
  'host',
  'group',
  'verdict',
  'infection_type',
  'coin',
  'pool',
  'first',
  'last_heartbeat',
  'findings',
] as const;
export type SortKey = (typeof SORTABLE)[number];

const VERDICT_RANK: Record<string, number> = { infected: 4, mining: 4, suspicious: 2, clean: 0 };

function compare(a: HostListRow, b: HostListRow, k: SortKey): number {
  if (k === 'findings') return a.findings - b.findings;
  if (k === 'verdict')
    return (VERDICT_RANK[a.verdict] ?? 1) - (VERDICT_RANK[b.verdict] ?? 1) || a.findings - b.findings;
  return String(a[k]).localeCompare(String(b[k]));
}

export function poolName(p: unknown): string | undefined {
  if (typeof p === 'string') return p || undefined;
  if (p && typeof p === 'object') {
    const o = p as Record<string, unknown>;
    const h = o.host ?? o.ip;
    if (typeof h === 'string' && h) return typeof o.port === 'number' ? `${h}:${o.port}` : h;
  }
  return undefined;
}

export function asFinding(f: StoredFinding): Finding {
  return { evidence: [], attack: [], confidence: 0, id: f.id, title: '', ...f.finding } as unknown as Finding;
}

function dayList(from: number, to: number): string[] {
  const out: string[] = [];
  const start = Math.floor(from / DAY_MS) * DAY_MS;
  // Bounded: a custom range of decades still draws at most ~3 years of days.
  for (let t = start; t <= to && out.length < 1200; t += DAY_MS)
    out.push(new Date(t).toISOString().slice(0, 10));
  return out;
}

export interface SpikeInfo {
  /** The coin of a per-coin series; '' for the new-infections series. */
  coin: string;
  /** The series' label in the chart legend. */
  series: string;
  date: string;
  days: number;
  value: number;
  baseline: number;
  score: number;
  peak: number;
  findings: number;
  hosts: number;
  rules: { key: string; n: number }[];
  wallets: { key: string; n: number }[];
  droppers: { key: string; n: number }[];
  pools: { key: string; n: number }[];
  vectors: { key: string; n: number }[];
}

export interface Overview {
  clock: string;
  range: { from: string | null; to: string | null };
  kpis: { hosts: number; mining_now: number; new_this_week: number; findings: number; events: number };
  new_hosts: { host: string; first: string }[];
  coins: RankRow[];
  pools: RankRow[];
  ports: RankRow[];
  days: string[];
  series: { name: string; values: number[] }[];
  spikes: SpikeInfo[];
}

export interface HostListRow {
  host: string;
  group: string;
  verdict: string;
  infection_type: string;
  coin: string;
  pool: string;
  first: string;
  last: string;
  last_heartbeat: string;
  findings: number;
  max_severity: string;
}

export interface HostList {
  total: number;
  rows: HostListRow[];
  sort: SortKey;
  dir: 'asc' | 'desc';
}

export interface HostPage {
  host: HostInfo;
  verdict: ReturnType<typeof verdictOf> | null;
  findings: StoredFinding[];
  events: MinewatchEvent[];
  instances: InstanceRow[];
}

export interface CampaignView {
  by: CampaignKey;
  key: string;
  hosts: number;
  events: number;
  first: string;
  last: string;
  host_list: string[];
}

/** Two rankings of pool ports merged per port, the larger count of each (they may count the same traffic). */
export function mergePorts(a: readonly RankRow[], b: readonly RankRow[]): RankRow[] {
  const by = new Map<string, RankRow>();
  for (const r of [...a, ...b]) {
    const cur = by.get(r.key);
    if (!cur) by.set(r.key, { ...r });
    else {
      cur.events = Math.max(cur.events, r.events);
      cur.hosts = Math.max(cur.hosts, r.hosts);
      cur.bytes = Math.max(cur.bytes, r.bytes);
      if (r.first && (!cur.first || r.first < cur.first)) cur.first = r.first;
      if (r.last > cur.last) cur.last = r.last;
    }
  }
  return [...by.values()].sort(
    (x, y) => y.events - x.events || y.hosts - x.hosts || x.key.localeCompare(y.key),
  );
}
