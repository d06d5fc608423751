/**
 * The fleet analysis. `collect` is the I/O edge (store queries); `analyze` is a pure function of what was
 * collected, so every statistic is testable on hand-made input and the report renders from its result alone.
 */
import { verdictOf } from '../detect/host/verdict.ts';
import type { Finding } from '../findings/index.ts';
import type {
  CampaignKey,
  CampaignRow,
  HostRow,
  InstanceRow,
  RankRow,
  SeriesRow,
  Store,
  StoredFinding,
} from '../store/index.ts';
import { type LagResult, laggedCorrelation } from './correlate.ts';
import {
  foldPools,
  foldSeries,
  latestFindings,
  maxSeries,
  nameFindings,
  poolNames,
  poolPorts,
} from './pools.ts';
import { type PriceTable, priceSeries } from './prices.ts';
import { addDays, dayRange, daysBetween, fillSeries, type Series } from './series.ts';
import { detectSpikes, type Spike, type SpikeOptions } from './spikes.ts';
import { theilSen } from './stats.ts';
import { classifyVector, VECTOR_LABELS, type Vector } from './vectors.ts';

/** Everything the analysis reads from the store. */
export interface AnalysisInput {
  /** Inclusive YYYY-MM-DD bounds asked for; missing ones come from the data. */
  from?: string;
  to?: string;
  events: number;
  /** Hosts reporting in the range. */
  hostCount: number;
  /** Hosts with their latest heartbeat, when collected: an agent's own infection_type wins over findings. */
  hosts?: HostRow[];
  coinRank: RankRow[];
  poolRank: RankRow[];
  portRank: RankRow[];
  familyRank: RankRow[];
  /** Hosts per day per coin (all event types). */
  coinSeries: SeriesRow[];
  /** Connections per day per pool (`events`; `hosts` is not counted, 0). */
  poolSeries: SeriesRow[];
  /** Flows per day per destination port (`events`; `hosts` 0). */
  portSeries: SeriesRow[];
  /** Hosts per day per miner family. */
  familySeries: SeriesRow[];
  instances: InstanceRow[];
  campaigns: Record<CampaignKey, CampaignRow[]>;
  findings: StoredFinding[];
  prices?: PriceTable;
}

export interface AnalysisOptions {
  /** How many pools, ports and miner families get a daily series (largest first). */
  topSeries?: number;
  spikes?: SpikeOptions;
  /** Lags tried for price vs heat (0..maxPriceLag: miners react to a price, not the other way round). */
  maxPriceLag?: number;
  /** Lags tried between event series (−maxEventLag..maxEventLag). */
  maxEventLag?: number;
  /** Window before a spike in which a vector counts as preceding it. */
  vectorLeadDays?: number;
}

export interface CoinShare {
  coin: string;
  hosts: number;
  /** Of the summed mining hosts over coins (a host mining two coins counts for both). */
  share: number;
  events: number;
  event_share: number;
  trend: {
    first_share: number;
    last_share: number;
    direction: 'rising' | 'falling' | 'flat';
    hosts_per_30d: number;
  };
}

export interface VectorRow {
  vector: Vector;
  label: string;
  hosts: number;
  findings: number;
  first_seen: string;
  last_seen: string;
  /** Spikes of new miner instances this vector preceded on the same hosts. */
  precedes: { series: string; date: string; hosts: number; of: number; median_lead_days: number }[];
}

export interface CampaignOut {
  key: string;
  kind: CampaignKey;
  hosts: number;
  events: number;
  first_seen: string;
  last_seen: string;
  host_list: string[];
}

export interface Analysis {
  range: { from: string | null; to: string | null; days: number };
  totals: { events: number; hosts: number; mining_hosts: number; infected_hosts: number };
  coins: CoinShare[];
  pools: { pool: string; hosts: number; share: number; events: number }[];
  ports: { port: number; flows: number; hosts: number; share: number }[];
  series: Series[];
  spikes: Spike[];
  /**
   * Event pairs: best lag and r on daily changes. Price pairs: lag picked on daily changes (`lag_on`, `lag_r`,
   * `by_lag` is that correlogram), r and p on levels at that lag.
   */
  correlations: (LagResult & { kind: 'event' | 'price'; lag_on?: 'changes'; lag_r?: number })[];
  prices: { coins: string[]; missing: string[] };
  infection_types: { type: string; hosts: number; share: number }[];
  infected_hosts: { host: string; infection_type: string; vectors: Vector[] }[];
  vectors: VectorRow[];
  campaigns: CampaignOut[];
}

const DEFAULTS: Required<Omit<AnalysisOptions, 'spikes'>> = {
  topSeries: 8,
  maxPriceLag: 14,
  maxEventLag: 7,
  vectorLeadDays: 7,
};

/** Event-series correlations are reported below this corrected p (many pairs are tried). */
export const EVENT_P = 0.001;

const r4 = (x: number) => Math.round(x * 1e4) / 1e4;
const share = (n: number, d: number) => (d > 0 ? r4(n / d) : 0);
const upper = (c: string) => c.toUpperCase();

/** Days covered: the asked bounds, else the data's first and last day. */
function calendar(input: AnalysisInput): string[] {
  let lo = input.from;
  let hi = input.to;
  if (!lo || !hi) {
    const all = [input.coinSeries, input.poolSeries, input.portSeries, input.familySeries]
      .flat()
      .map((r) => r.day);
    for (const i of input.instances) all.push(i.first.slice(0, 10));
    all.sort();
    lo ??= all[0];
    hi ??= all[all.length - 1];
  }
  return lo && hi ? dayRange(lo, hi) : [];
}

function seriesOf(
  rows: readonly SeriesRow[],
  keys: readonly string[],
  field: 'events' | 'hosts',
): Map<string, Map<string, number>> {
  const want = new Set(keys);
  const out = new Map<string, Map<string, number>>(keys.map((k) => [k, new Map()]));
  for (const r of rows)
    if (want.has(r.key)) out.get(r.key)!.set(r.day, (out.get(r.key)!.get(r.day) ?? 0) + r[field]);
  return out;
}

/** A miner's display name: its family, else the executable's base name. */
export function minerName(i: { family: string; exe: string }): string {
  if (i.family) return i.family;
  const base = i.exe.split(/[\\/]/).pop() ?? i.exe;
  return base.replace(/\.exe$/i, '') || 'unknown';
}

function coinShares(input: AnalysisInput, days: readonly string[]): CoinShare[] {
  const hostSum = input.coinRank.reduce((s, r) => s + r.hosts, 0);
  const eventSum = input.coinRank.reduce((s, r) => s + r.events, 0);
  // Trend: the coin's share of mining hosts over the first and last four weeks (or thirds of a short range).
  const w = Math.max(1, Math.min(28, Math.floor(days.length / 3)));
  const firstDays = new Set(days.slice(0, w));
  const lastDays = new Set(days.slice(-w));
  const sums = { first: new Map<string, number>(), last: new Map<string, number>() };
  const daily = new Map<string, Map<string, number>>();
  for (const r of input.coinSeries) {
    if (firstDays.has(r.day)) sums.first.set(r.key, (sums.first.get(r.key) ?? 0) + r.hosts);
    if (lastDays.has(r.day)) sums.last.set(r.key, (sums.last.get(r.key) ?? 0) + r.hosts);
    let m = daily.get(r.key);
    if (!m) daily.set(r.key, (m = new Map()));
    m.set(r.day, r.hosts);
  }
  const tot = (m: Map<string, number>) => [...m.values()].reduce((s, x) => s + x, 0);
  const tf = tot(sums.first);
  const tl = tot(sums.last);
  return input.coinRank.map((r) => {
    const first = share(sums.first.get(r.key) ?? 0, tf);
    const last = share(sums.last.get(r.key) ?? 0, tl);
    const change = last - first;
    const ys = days.map((d) => daily.get(r.key)?.get(d) ?? 0);
    return {
      coin: upper(r.key),
      hosts: r.hosts,
      share: share(r.hosts, hostSum),
      events: r.events,
      event_share: share(r.events, eventSum),
      trend: {
        first_share: first,
        last_share: last,
        direction: change > 0.05 ? 'rising' : change < -0.05 ? 'falling' : 'flat',
        hosts_per_30d: Math.round(theilSen(ys) * 30 * 10) / 10,
      },
    };
  });
}

/** Per-host infection type: the agent's latest heartbeat verdict, else the verdict of the host's findings. */
function infectionTypes(input: AnalysisInput): Map<string, string> {
  const byHost = new Map<string, Finding[]>();
  for (const f of input.findings) {
    const fx = { evidence: [], ...f.finding } as unknown as Finding;
    if (typeof fx.severity !== 'string' || typeof fx.rule !== 'string') continue;
    let l = byHost.get(f.host);
    if (!l) byHost.set(f.host, (l = []));
    l.push(fx);
  }
  const out = new Map<string, string>();
  for (const [host, fs] of byHost) {
    const v = verdictOf(fs);
    if (v.status === 'infected' && v.infection_type) out.set(host, v.infection_type);
  }
  for (const h of input.hosts ?? []) {
    const t = h.inventory?.infection_type;
    if (typeof t === 'string' && t) out.set(h.host, t);
  }
  return out;
}

function vectorRows(
  input: AnalysisInput,
  spikes: readonly Spike[],
  newByHostDay: Map<string, Map<string, string[]>>,
  leadDays: number,
): { rows: VectorRow[]; byHost: Map<string, Set<Vector>> } {
  const seen = new Map<
    Vector,
    { hosts: Set<string>; n: number; first: string; last: string; times: Map<string, string[]> }
  >();
  const byHost = new Map<string, Set<Vector>>();
  for (const f of input.findings) {
    const v = classifyVector(f.finding);
    if (!v) continue;
    let s = seen.get(v);
    if (!s) seen.set(v, (s = { hosts: new Set(), n: 0, first: f.time, last: f.time, times: new Map() }));
    s.hosts.add(f.host);
    s.n++;
    if (f.time < s.first) s.first = f.time;
    if (f.time > s.last) s.last = f.time;
    let t = s.times.get(f.host);
    if (!t) s.times.set(f.host, (t = []));
    t.push(f.time.slice(0, 10));
    let hv = byHost.get(f.host);
    if (!hv) byHost.set(f.host, (hv = new Set()));
    hv.add(v);
  }
  const rows: VectorRow[] = [];
  for (const [vector, s] of seen) {
    const precedes: VectorRow['precedes'] = [];
    for (const sp of spikes) {
      const family = sp.series.startsWith('new:') ? sp.series.slice(4) : undefined;
      if (!family) continue;
      // The hosts that got a new instance during the episode; a vector precedes when it was seen on those
      // same hosts within `leadDays` before their instance appeared.
      const hostsInSpike: { host: string; day: string }[] = [];
      for (let d = 0; d < sp.days; d++) {
        const day = addDays(sp.date, d);
        for (const host of newByHostDay.get(family)?.get(day) ?? []) hostsInSpike.push({ host, day });
      }
      const leads: number[] = [];
      for (const { host, day } of hostsInSpike) {
        const ts = s.times.get(host);
        if (!ts) continue;
        const lead = Math.min(
          ...ts.map((t) => daysBetween(t, day)).filter((x) => x >= 0 && x <= leadDays),
          Number.POSITIVE_INFINITY,
        );
        if (Number.isFinite(lead)) leads.push(lead);
      }
      if (leads.length >= Math.max(3, 0.1 * hostsInSpike.length)) {
        leads.sort((a, b) => a - b);
        precedes.push({
          series: sp.series,
          date: sp.date,
          hosts: leads.length,
          of: hostsInSpike.length,
          median_lead_days: leads[leads.length >> 1]!,
        });
      }
    }
    rows.push({
      vector,
      label: VECTOR_LABELS[vector],
      hosts: s.hosts.size,
      findings: s.n,
      first_seen: s.first,
      last_seen: s.last,
      precedes,
    });
  }
  rows.sort((a, b) => b.hosts - a.hosts || a.vector.localeCompare(b.vector));
  return { rows, byHost };
}

export function analyze(input: AnalysisInput, opts: AnalysisOptions = {}): Analysis {
  const o = { ...DEFAULTS, ...opts };
  const days = calendar(input);
  const top = o.topSeries;
  const series: Series[] = [];

  const coins = coinShares(input, days);
  const coinKeys = input.coinRank.map((r) => r.key);
  for (const [k, m] of seriesOf(input.coinSeries, coinKeys, 'hosts'))
    series.push(fillSeries(`coin:${upper(k)}`, 'hosts', days, m));

  const poolSum = input.poolRank.reduce((s, r) => s + r.hosts, 0);
  const pools = input.poolRank.map((r) => ({
    pool: r.key,
    hosts: r.hosts,
    share: share(r.hosts, poolSum),
    events: r.events,
  }));
  const topPools = input.poolRank.slice(0, top).map((r) => r.key);
  for (const [k, m] of seriesOf(input.poolSeries, topPools, 'events'))
    series.push(fillSeries(`pool:${k}`, 'connections', days, m));

  const flowSum = input.portRank.reduce((s, r) => s + r.events, 0);
  const ports = input.portRank
    .map((r) => ({ port: Number(r.key), flows: r.events, hosts: r.hosts, share: share(r.events, flowSum) }))
    .filter((p) => Number.isInteger(p.port));
  const topPorts = input.portRank.slice(0, top).map((r) => r.key);
  for (const [k, m] of seriesOf(input.portSeries, topPorts, 'events'))
    series.push(fillSeries(`port:${k}`, 'flows', days, m));

  const topFamilies = input.familyRank.slice(0, top).map((r) => r.key);
  for (const [k, m] of seriesOf(input.familySeries, topFamilies, 'hosts'))
    series.push(fillSeries(`miner:${k}`, 'hosts', days, m));

  // New instances: the first sight of each (host, binary, hash), counted on its day, per miner.
  const newCounts = new Map<string, Map<string, number>>();
  const newByHostDay = new Map<string, Map<string, string[]>>();
  for (const i of input.instances) {
    const name = minerName(i);
    const day = i.first.slice(0, 10);
    let m = newCounts.get(name);
    if (!m) newCounts.set(name, (m = new Map()));
    m.set(day, (m.get(day) ?? 0) + 1);
    let h = newByHostDay.get(name);
    if (!h) newByHostDay.set(name, (h = new Map()));
    let l = h.get(day);
    if (!l) h.set(day, (l = []));
    l.push(i.host);
  }
  const newNames = [...newCounts.entries()]
    .map(([k, m]) => [k, [...m.values()].reduce((s, x) => s + x, 0)] as const)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, top)
    .map(([k]) => k);
  for (const k of newNames) series.push(fillSeries(`new:${k}`, 'instances', days, newCounts.get(k)!));

  const spikes = series.flatMap((s) => detectSpikes(s, o.spikes ?? {}));

  // Which pool moves with each miner's new instances (on day-over-day changes, best positive lag).
  const correlations: Analysis['correlations'] = [];
  const poolSeries = series.filter((s) => s.name.startsWith('pool:'));
  for (const k of newNames) {
    const a = series.find((s) => s.name === `new:${k}`)!;
    let best: LagResult | undefined;
    for (const b of poolSeries) {
      const c = laggedCorrelation(a, b, { minLag: -o.maxEventLag, maxLag: o.maxEventLag, on: 'changes' });
      if (!best || c.r > best.r) best = c;
    }
    // The best of several pools: its p is corrected for them too, and only strong evidence is reported.
    if (best) best = { ...best, p: Math.min(1, best.p * poolSeries.length) };
    if (best && best.r > 0 && best.p < EVENT_P) correlations.push({ ...best, kind: 'event' });
  }

  // Coin price vs mining heat (hosts mining it), on levels, heat lagging price by 0..maxPriceLag days.
  const priced = new Set(input.prices ? [...input.prices.byCoin.keys()] : []);
  const pricesOut = { coins: [...priced].sort(), missing: [] as string[] };
  for (const c of coins) {
    const heat = series.find((s) => s.name === `coin:${c.coin}`);
    if (!heat) continue;
    if (!input.prices || !priced.has(c.coin)) {
      pricesOut.missing.push(c.coin);
      continue;
    }
    const { series: price, start } = priceSeries(input.prices, c.coin, days);
    if (start < 0 || price.points.length < 3) {
      pricesOut.missing.push(c.coin);
      continue;
    }
    series.push(price);
    const h = { ...heat, points: heat.points.slice(start) };
    // The lag comes from daily changes (trends make every lag of two levels look alike); when changes show no
    // significant lead, the lag is 0. Pearson and Spearman are then reported on levels at that lag.
    const byChanges = laggedCorrelation(price, h, {
      minLag: 0,
      maxLag: o.maxPriceLag,
      on: 'changes',
      pick: 'absolute',
    });
    const lag = byChanges.p < 0.05 ? byChanges.lag_days : 0;
    for (const method of ['pearson', 'spearman'] as const) {
      const lv = laggedCorrelation(price, h, { minLag: lag, maxLag: lag, on: 'levels', method });
      correlations.push({
        ...lv,
        by_lag: byChanges.by_lag,
        lag_on: 'changes',
        lag_r: byChanges.r,
        kind: 'price',
      });
    }
  }

  const types = infectionTypes(input);
  const { rows: vectors, byHost: vectorsByHost } = vectorRows(input, spikes, newByHostDay, o.vectorLeadDays);
  const typeCounts = new Map<string, number>();
  for (const t of types.values()) typeCounts.set(t, (typeCounts.get(t) ?? 0) + 1);
  const infection_types = [...typeCounts.entries()]
    .map(([type, hosts]) => ({ type, hosts, share: share(hosts, types.size) }))
    .sort((a, b) => b.hosts - a.hosts || a.type.localeCompare(b.type));
  const infected_hosts = [...types.entries()]
    .sort((a, b) => a[0].localeCompare(b[0]))
    .map(([host, infection_type]) => ({
      host,
      infection_type,
      vectors: [...(vectorsByHost.get(host) ?? [])].sort(),
    }));

  // A campaign links hosts: one host alone with its wallet is not one.
  const campaigns: CampaignOut[] = (['wallet', 'dropper', 'account'] as const)
    .flatMap((kind) =>
      input.campaigns[kind]
        .filter((c) => c.hosts >= 2)
        .map((c) => ({
          key: c.key,
          kind,
          hosts: c.hosts,
          events: c.events,
          first_seen: c.first,
          last_seen: c.last,
          host_list: c.host_list,
        })),
    )
    .sort((a, b) => b.hosts - a.hosts || a.kind.localeCompare(b.kind) || a.key.localeCompare(b.key));

  const miningHosts = new Set(input.instances.map((i) => i.host));
  return {
    range: { from: days[0] ?? null, to: days[days.length - 1] ?? null, days: days.length },
    totals: {
      events: input.events,
      hosts: input.hostCount,
      mining_hosts: Math.max(
        miningHosts.size,
        coins.reduce((m, c) => Math.max(m, c.hosts), 0),
      ),
      infected_hosts: types.size,
    },
    coins,
    pools,
    ports,
    series,
    spikes,
    correlations,
    prices: pricesOut,
    infection_types,
    infected_hosts,
    vectors,
    campaigns,
  };
}

export interface CollectOptions {
  /**
   * Also read every host's latest heartbeat for the agent's own infection_type (costly on big stores: it
   * reads each heartbeat's JSON; findings give the same verdict when agents send them).
   */
  heartbeats?: boolean;
  /** Inclusive first day (YYYY-MM-DD or ISO). */
  from?: string;
  /** Inclusive last day. */
  to?: string;
  prices?: PriceTable;
}

/** Normalises a --from/--to value to YYYY-MM-DD; throws RangeError on garbage. */
export function toDay(x: string, what: string): string {
  const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(x) ? `${x}T00:00:00Z` : x);
  if (!Number.isFinite(ms)) throw new RangeError(`${what} '${x}' is not a date (use YYYY-MM-DD)`);
  return new Date(ms).toISOString().slice(0, 10);
}

/** The I/O edge: the store queries the analysis needs, run together. */
export async function collect(store: Store, opts: CollectOptions = {}): Promise<AnalysisInput> {
  const from = opts.from ? toDay(opts.from, '--from') : undefined;
  const to = opts.to ? toDay(opts.to, '--to') : undefined;
  // The store's `to` is exclusive; ours is the last day included.
  const q = {
    ...(from ? { from: `${from}T00:00:00Z` } : {}),
    ...(to ? { to: `${addDays(to, 1)}T00:00:00Z` } : {}),
  };
  const conn = { ...q, type: 'connection' };
  // Ports and pools count connections to pools only (`pooled`), never all traffic.
  const pooledConn = { ...conn, pooled: true };
  const [
    events,
    hostRank,
    coinRank,
    poolHostKeys,
    portConnKeys,
    familyRank,
    coinSeries,
    poolSeriesRaw,
    portConnSeries,
    portFindingSeries,
    familySeries,
  ] = await Promise.all([
    store.count(q),
    store.rank('host', { ...q, limit: 1_000_000 }),
    store.rank('coin', q),
    store.hostKeys('pool', q),
    store.hostKeys('port', pooledConn),
    store.rank('family', q),
    store.series('coin', q),
    // Pools and ports chart connections per day (events), never hosts: skip the distinct-host count.
    store.series('pool', { ...conn, countHosts: false }),
    store.series('port', { ...pooledConn, countHosts: false }),
    store.series('port', { ...q, type: 'finding', pooled: true, countHosts: false }),
    store.series('family', q),
  ]);
  const [instances, wallet, dropper, account, stored] = await Promise.all([
    store.instances({ ...q, limit: 1_000_000 }),
    store.campaigns('wallet', q),
    store.campaigns('dropper', q),
    store.campaigns('account', q),
    store.findings({ ...q, limit: 1_000_000 }),
  ]);
  // One copy of each finding; a pool's address read as its name wherever the range tied the two.
  const latest = latestFindings(stored);
  const names = poolNames(latest);
  const findings = nameFindings(latest, names);
  const poolRank = foldPools(poolHostKeys, names);
  const poolSeries = foldSeries(poolSeriesRaw, names);
  const portRank = poolPorts(portConnKeys, findings).slice(0, 50);
  const portSeries = maxSeries(portConnSeries, portFindingSeries);
  const hosts = opts.heartbeats ? await store.hosts() : undefined;
  return {
    ...(from ? { from } : {}),
    ...(to ? { to } : {}),
    events,
    hostCount: hostRank.length,
    ...(hosts ? { hosts } : {}),
    coinRank,
    poolRank,
    portRank,
    familyRank,
    coinSeries,
    poolSeries,
    portSeries,
    familySeries,
    instances,
    campaigns: { wallet, dropper, account },
    findings,
    ...(opts.prices ? { prices: opts.prices } : {}),
  };
}
