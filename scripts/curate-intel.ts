/**
 * Rebuilds data/intel/*.json from the public sources in data/intel/sources/ and our hand-curated
 * knowledge in data/intel/curated/. Deterministic: same inputs, same bytes (sorted, stable, the date
 * comes from curated/meta.json, not the clock). `npm run curate` writes; `--check` only compares.
 *
 * The project does not ship the shared files: it takes entries from them, each with its source and
 * licence, and drops what must never be a pool (exclusions).
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseSections, parseTrail, type TrailSection } from '../src/intel/formats.ts';
import { ExclusionIndex } from '../src/intel/match.ts';
import { isDomain, normalizeDomain, registrableDomain } from '../src/intel/names.ts';
import type {
  CoinEntry,
  EndpointEntry,
  ExclusionEntry,
  FamilyEntry,
  MinerKnowledge,
  MinerMarker,
  PoolEntry,
  PoolKind,
  PortEntry,
  SourceEntry,
  SourceRef,
  Weight,
} from '../src/intel/schema.ts';

export const DEFAULT_SHARED_DIR = fileURLToPath(new URL('../data/intel/sources/', import.meta.url));
export const DEFAULT_CURATED_DIR = fileURLToPath(new URL('../data/intel/curated/', import.meta.url));
export const DEFAULT_OUT_DIR = fileURLToPath(new URL('../data/intel/', import.meta.url));

/** How many report URLs to keep per entry: enough to follow up, not a copy of the source's history. */
const MAX_SEEN = 3;

export interface CurationLog {
  dropped: Array<{ value: string; from: string; reason: string }>;
}

export interface CurationResult {
  /** file name (e.g. `pools.json`) → file text */
  files: Map<string, string>;
  log: CurationLog;
}

// ---------- small helpers ----------

function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

/** `id` or `id:ref` → SourceRef. */
function src(s: string): SourceRef {
  const c = s.indexOf(':');
  return c < 0 ? { id: s } : { id: s.slice(0, c), ref: s.slice(c + 1) };
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function ipKey(ip: string): string {
  // Numeric order for IPv4 so 9.x sorts before 10.x; IPv6 after, textually.
  const p = ip.split('.');
  return p.length === 4 ? p.map((x) => x.padStart(3, '0')).join('.') : `~${ip}`;
}

class SourceSet {
  readonly #m = new Map<string, SourceRef>();
  add(r: SourceRef): void {
    const k = `${r.id}\u0000${r.ref ?? ''}`;
    if (!this.#m.has(k)) this.#m.set(k, r.ref === undefined ? { id: r.id } : { id: r.id, ref: r.ref });
  }
  list(): SourceRef[] {
    return [...this.#m.values()].sort((a, b) => cmp(a.id, b.id) || cmp(a.ref ?? '', b.ref ?? ''));
  }
  get size(): number {
    return this.#m.size;
  }
}

const uniqSorted = <T extends string | number>(xs: Iterable<T>): T[] =>
  [...new Set(xs)].sort((a, b) =>
    typeof a === 'number' ? (a as number) - (b as number) : cmp(a as string, b as string),
  );

// ---------- curated input shapes ----------

interface CuratedOperator {
  domains: string[];
  name: string;
  kind?: PoolKind;
  coins: string[];
  coins_inferred?: boolean;
  algos?: string[];
  ports?: { plain: number[]; tls: number[] };
  status?: 'active' | 'closed';
  closed?: string;
  hosts?: string[];
  note?: string;
}

interface CuratedAnalysisHost {
  host: string;
  coins?: string[];
  ports?: { plain: number[]; tls: number[] };
  hashrate_share?: string;
  popularity_rank?: number;
  note?: string;
}

interface CuratedCoins {
  entries: Array<Omit<CoinEntry, 'sources'> & { sources: string[] }>;
  label_tokens: Record<string, string>;
  name_substrings: Record<string, string>;
}

type CuratedMarker = Omit<MinerMarker, 'sources'> & { sources: string[] };

interface CuratedMiners {
  falco_binary_weights: { default: Weight; medium: string[]; notes: Record<string, string> };
  linuxcheck_weights: { default: Weight; strong: string[]; weak: string[]; notes: Record<string, string> };
  processes: CuratedMarker[];
  files: CuratedMarker[];
  cmdline: CuratedMarker[];
  config_keys: CuratedMarker[];
  user_agents: CuratedMarker[];
  strings: CuratedMarker[];
  system: CuratedMarker[];
  tls_fingerprints: CuratedMarker[];
}

interface CuratedFamily extends Omit<FamilyEntry, 'sources' | 'domains' | 'ips' | 'urls'> {
  trail?: string;
  maltrail_section?: string;
  domains?: string[];
  sources: string[];
}

interface CuratedPorts {
  min_observed: number;
  default_weight: Weight;
  entries: Array<
    Omit<PortEntry, 'sources' | 'pools' | 'observed'> & { sources: string[]; exclusive_to?: string }
  >;
}

// ---------- the curation ----------

interface PoolCandidate {
  host: string;
  sources: SourceSet;
  seen: Set<string>;
  /** Section markers seen with it, e.g. the HashVault title marker. */
  markers: Set<string>;
  httpsHint: boolean;
  httpHint: boolean;
}

const HASHVAULT_MARKER = /TITLE-HOST\/IP=HashVault/i;

export function curate(sharedDir = DEFAULT_SHARED_DIR, curatedDir = DEFAULT_CURATED_DIR): CurationResult {
  const log: CurationLog = { dropped: [] };
  const meta = readJson<{ generated: string }>(join(curatedDir, 'meta.json'));
  const curatedSources = readJson<{ entries: SourceEntry[] }>(join(curatedDir, 'sources.json')).entries;
  const operators = readJson<{ operators: CuratedOperator[] }>(join(curatedDir, 'operators.json')).operators;
  const analysis = readJson<{ hosts: CuratedAnalysisHost[]; ports: Record<string, number[]> }>(
    join(curatedDir, 'analysis.json'),
  );
  const coinsCur = readJson<CuratedCoins>(join(curatedDir, 'coins.json'));
  const minersCur = readJson<CuratedMiners>(join(curatedDir, 'miners.json'));
  const familiesCur = readJson<{ entries: CuratedFamily[] }>(join(curatedDir, 'families.json')).entries;
  const portsCur = readJson<CuratedPorts>(join(curatedDir, 'ports.json'));
  const exclRaw = readJson<{ entries: Array<[string, ExclusionEntry['category'], ExclusionEntry['scope']]> }>(
    join(curatedDir, 'exclusions.json'),
  ).entries;

  // Exclusions first: everything else is filtered through them.
  const exclusions: ExclusionEntry[] = exclRaw
    .map(([domain, category, scope]) => ({ domain, category, scope, sources: [{ id: 'minewatch' }] }))
    .sort((a, b) => cmp(a.domain, b.domain));
  const excl = new ExclusionIndex(exclusions);
  const shared = excl.sharedZones();
  const excludedReason = (host: string): string | undefined => {
    const e = excl.find(host);
    return e ? `excluded: ${e.domain} (${e.category}, ${e.scope})` : undefined;
  };

  // ---- read the public sources ----
  const falco = parseSections(readFileSync(join(sharedDir, 'falco/miner_lists.txt'), 'utf8'));
  const maltrailDir = join(sharedDir, 'maltrail');
  const trail = (f: string): TrailSection[] => parseTrail(readFileSync(join(maltrailDir, f), 'utf8'), f);
  const crypto = trail('crypto_mining.txt');
  const linux = parseSections(readFileSync(join(sharedDir, 'linuxcheck/miner_patterns.txt'), 'utf8'));

  // ---- pool candidates from every source ----
  const cands = new Map<string, PoolCandidate>();
  const addCand = (raw: string, ref: SourceRef, from: string): PoolCandidate | undefined => {
    const host = normalizeDomain(raw);
    if (!isDomain(host)) {
      log.dropped.push({ value: raw, from, reason: 'not a domain name' });
      return undefined;
    }
    const why = excludedReason(host);
    if (why) {
      log.dropped.push({ value: host, from, reason: why });
      return undefined;
    }
    let c = cands.get(host);
    if (!c) {
      c = {
        host,
        sources: new SourceSet(),
        seen: new Set(),
        markers: new Set(),
        httpsHint: false,
        httpHint: false,
      };
      cands.set(host, c);
    }
    c.sources.add(ref);
    return c;
  };

  for (const list of ['miner_domains', 'https_miner_domains', 'http_miner_domains']) {
    for (const d of falco.get(list) ?? []) {
      const c = addCand(d, { id: 'falco', ref: list }, `falco ${list}`);
      if (c && list === 'https_miner_domains') c.httpsHint = true;
      if (c && list === 'http_miner_domains') c.httpHint = true;
    }
  }

  for (const sec of crypto) {
    for (const it of sec.items) {
      if (it.type !== 'domain') continue;
      const c = addCand(it.value, { id: 'maltrail', ref: 'crypto_mining.txt' }, 'maltrail crypto_mining.txt');
      if (!c) continue;
      for (const r of sec.refs) c.seen.add(r);
      for (const m of sec.markers) c.markers.add(m);
    }
    for (const d of sec.commented) {
      // NoCoin's browser-miner hosts, listed but commented out in maltrail: still evidence, of another kind.
      const c = addCand(
        d,
        { id: 'maltrail', ref: 'crypto_mining.txt (commented out)' },
        'maltrail commented',
      );
      if (c) for (const r of sec.refs) c.seen.add(r);
    }
  }

  const sigmaDir = join(sharedDir, 'sigma');
  for (const f of readdirSync(sigmaDir).sort()) {
    if (!f.endsWith('.yml')) continue;
    const text = readFileSync(join(sigmaDir, f), 'utf8');
    // Only the host lists of network/DNS rules name pools; command-line rules are read by hand (miners.json).
    if (!/DestinationHostname:|query\|(?:contains|endswith):/.test(text)) continue;
    let inList = false;
    for (const raw of text.split(/\r?\n/)) {
      if (/^\s*(DestinationHostname|query\|contains|query\|endswith):\s*$/.test(raw)) {
        inList = true;
        continue;
      }
      const m = /^\s*-\s*'?([^'#\s]+)'?/.exec(raw);
      if (inList && m) addCand(m[1]!, { id: 'sigma', ref: f }, `sigma ${f}`);
      else if (inList && raw.trim() !== '' && !raw.trim().startsWith('#')) inList = false;
    }
  }

  // ---- operators, analysis hosts ----
  const opByDomain = new Map<string, CuratedOperator>();
  for (const op of operators) for (const d of op.domains) opByDomain.set(d, op);
  const operatorOf = (host: string): CuratedOperator | undefined => {
    const reg = registrableDomain(host, shared);
    return opByDomain.get(reg) ?? opByDomain.get(host);
  };
  for (const op of operators) {
    for (const h of [...op.domains, ...(op.hosts ?? [])])
      addCand(h, { id: 'minewatch' }, `operator ${op.name}`);
  }
  const analysisByHost = new Map(analysis.hosts.map((h) => [h.host, h]));
  for (const h of analysis.hosts) addCand(h.host, { id: 'analysis' }, 'analysis');

  // ---- coin inference ----
  const coinTable = new Map(coinsCur.entries.map((c) => [c.symbol, c]));
  const tokens = coinsCur.label_tokens;
  const substrings = Object.entries(coinsCur.name_substrings).filter(([k]) => k !== 'comment');
  const labelCoins = (host: string, reg: string): string[] => {
    const sub = host.length > reg.length ? host.slice(0, host.length - reg.length - 1) : '';
    const found: string[] = [];
    for (const t of sub.match(/[a-z]+/g) ?? []) {
      const sym = t !== 'comment' ? tokens[t] : undefined;
      if (sym && coinTable.has(sym)) found.push(sym);
    }
    return uniqSorted(found);
  };
  const nameCoins = (reg: string): string[] => {
    const name = reg.split('.')[0] ?? '';
    return uniqSorted(substrings.filter(([k]) => name.includes(k)).map(([, v]) => v));
  };
  const algosOf = (coins: string[]): string[] =>
    uniqSorted(coins.flatMap((c) => coinTable.get(c)?.algos ?? []));

  // ---- build pool entries ----
  const pools: PoolEntry[] = [];
  for (const c of [...cands.values()].sort((a, b) => cmp(a.host, b.host))) {
    const reg = registrableDomain(c.host, shared);
    const op = operatorOf(c.host);
    const an = analysisByHost.get(c.host);
    const hashvaultFront = [...c.markers].some((m) => HASHVAULT_MARKER.test(m));
    const firstLabel = c.host.split('.')[0] ?? '';

    let kind: PoolKind = op?.kind ?? 'pool';
    let name = op?.name ?? reg;
    let note = an?.note ?? op?.note;
    if (!op && hashvaultFront) {
      kind = 'proxy';
      name = 'HashVault front';
      note =
        'Serves the HashVault Mining Pool page under another name (maltrail section title): a proxy or mirror.';
    }
    if (/^seed\d*$/.test(firstLabel) && kind === 'pool') kind = 'node';

    let coins: string[];
    let inferred = false;
    const fromLabel = labelCoins(c.host, reg);
    if (an?.coins) coins = an.coins;
    else if (fromLabel.length > 0) {
      coins = fromLabel;
      inferred = true;
    } else if (op) {
      coins = op.coins;
      inferred = op.coins_inferred === true;
    } else if (hashvaultFront) {
      coins = ['XMR'];
      inferred = true;
    } else {
      coins = nameCoins(reg);
      inferred = coins.length > 0;
    }
    coins = uniqSorted(coins);

    const plain = new Set<number>([...(op?.ports?.plain ?? []), ...(an?.ports?.plain ?? [])]);
    const tls = new Set<number>([...(op?.ports?.tls ?? []), ...(an?.ports?.tls ?? [])]);
    // Falco pairs these lists with destination port 443 / 80 in its rules.
    if (c.httpsHint) tls.add(443);
    if (c.httpHint) plain.add(80);

    if (op) c.sources.add({ id: 'minewatch' });
    if (an) c.sources.add({ id: 'analysis' });

    const e: PoolEntry = {
      host: c.host,
      name,
      kind,
      coins,
      ...(inferred ? { coins_inferred: true } : {}),
      algos: op?.algos && !(fromLabel.length > 0) ? uniqSorted(op.algos) : algosOf(coins),
      ports: { plain: uniqSorted(plain), tls: uniqSorted(tls) },
      status: op?.status ?? 'active',
      ...(op?.closed ? { closed: op.closed } : {}),
      sources: c.sources.list(),
      ...(an?.hashrate_share ? { hashrate_share: an.hashrate_share } : {}),
      ...(c.seen.size > 0 ? { seen: [...c.seen].slice(0, MAX_SEEN) } : {}),
      ...(an?.popularity_rank ? { popularity_rank: an.popularity_rank } : {}),
      ...(note ? { note } : {}),
    };
    pools.push(e);
  }
  const poolByHost = new Map(pools.map((p) => [p.host, p]));

  // ---- endpoints (maltrail crypto_mining.txt ip / ip:port) ----
  const eps = new Map<string, { e: EndpointEntry; seen: Set<string> }>();
  for (const sec of crypto) {
    // `http://1.2.3.4` trails name the whole host: kept as a bare-IP endpoint.
    const hostIps: Array<{ value: string; port?: number }> = [];
    for (const i of sec.items) {
      if (i.type === 'ip')
        hostIps.push(i.port === undefined ? { value: i.value } : { value: i.value, port: i.port });
      else if (i.type === 'url') {
        const m = /^https?:\/\/([\d.]+)\/?$/.exec(i.value);
        if (m) hostIps.push({ value: m[1]! });
      }
    }
    if (hostIps.length === 0) continue;
    // The section's pool: when all its domains belong to one operator, its IPs are that operator's too
    // (the report that listed them was about that pool). Marked pool_inferred.
    const names = new Set<string>();
    for (const it of sec.items) {
      if (it.type !== 'domain') continue;
      const p = poolByHost.get(it.value);
      if (p) names.add(p.name);
    }
    if (sec.markers.some((m) => HASHVAULT_MARKER.test(m))) {
      names.clear();
      names.add('HashVault');
    }
    const pool = names.size === 1 ? [...names][0]! : undefined;
    const poolCoins = pool ? operators.find((o) => o.name === pool)?.coins : undefined;
    for (const it of hostIps) {
      const port = it.port;
      const key = `${it.value}|${port ?? ''}`;
      let rec = eps.get(key);
      if (!rec) {
        const e: EndpointEntry = {
          ip: it.value,
          ...(port !== undefined ? { port } : {}),
          ...(pool ? { pool, pool_inferred: true } : {}),
          ...(poolCoins && poolCoins.length === 1 ? { coins: poolCoins } : {}),
          sources: [{ id: 'maltrail', ref: 'crypto_mining.txt' }],
        };
        rec = { e, seen: new Set() };
        eps.set(key, rec);
      }
      for (const r of sec.refs) rec.seen.add(r);
    }
  }
  // A port only one operator uses (MinerGate's 45700) names the pool of an otherwise anonymous
  // endpoint; which ports qualify is curated (ports.json exclusive_to), and the result is marked inferred.
  const exclusive = new Map(
    portsCur.entries.filter((e) => e.exclusive_to).map((e) => [e.port, e.exclusive_to!]),
  );
  for (const { e } of eps.values()) {
    if (e.pool || e.port === undefined) continue;
    const name = exclusive.get(e.port);
    if (!name) continue;
    e.pool = name;
    e.pool_inferred = true;
    e.note = `pool inferred from port ${e.port}, which only ${name} is known to use`;
    const oc = operators.find((o) => o.name === name)?.coins;
    if (oc && oc.length === 1) e.coins = oc;
  }
  const endpoints = [...eps.values()]
    .map(({ e, seen }) => (seen.size > 0 ? { ...e, seen: [...seen].slice(0, MAX_SEEN) } : e))
    .sort((a, b) => cmp(ipKey(a.ip), ipKey(b.ip)) || (a.port ?? 0) - (b.port ?? 0));

  // ---- ports ----
  const observed = new Map<number, number>();
  for (const e of endpoints) if (e.port !== undefined) observed.set(e.port, (observed.get(e.port) ?? 0) + 1);
  const portSrc = new Map<number, SourceSet>();
  const portMeta = new Map<number, { weight?: Weight; tls?: boolean; note?: string }>();
  const poolsOnPortCur = new Map<number, Set<string>>();
  const addPort = (p: number, r: SourceRef) => {
    let s = portSrc.get(p);
    if (!s) portSrc.set(p, (s = new SourceSet()));
    s.add(r);
  };
  for (const p of falco.get('miner_ports') ?? []) addPort(Number(p), { id: 'falco', ref: 'miner_ports' });
  for (const list of Object.values(analysis.ports)) for (const p of list) addPort(p, { id: 'analysis' });
  for (const e of portsCur.entries) {
    for (const s of e.sources) addPort(e.port, src(s));
    portMeta.set(e.port, {
      weight: e.weight,
      ...(e.tls ? { tls: true } : {}),
      ...(e.note ? { note: e.note } : {}),
    });
    if (e.exclusive_to)
      (poolsOnPortCur.get(e.port) ?? poolsOnPortCur.set(e.port, new Set()).get(e.port)!).add(e.exclusive_to);
  }
  for (const [p, n] of observed)
    if (n >= portsCur.min_observed) addPort(p, { id: 'maltrail', ref: 'crypto_mining.txt' });
  const poolsOnPort = new Map<number, Set<string>>();
  const tlsOnly = new Map<number, boolean>();
  for (const op of operators) {
    for (const p of op.ports?.plain ?? []) {
      (poolsOnPort.get(p) ?? poolsOnPort.set(p, new Set()).get(p)!).add(op.name);
      tlsOnly.set(p, false);
    }
    for (const p of op.ports?.tls ?? []) {
      (poolsOnPort.get(p) ?? poolsOnPort.set(p, new Set()).get(p)!).add(op.name);
      if (!tlsOnly.has(p)) tlsOnly.set(p, true);
    }
  }
  const ports: PortEntry[] = [...portSrc.keys()]
    .sort((a, b) => a - b)
    .map((port) => {
      const m = portMeta.get(port);
      const tls = m?.tls ?? tlsOnly.get(port) === true;
      return {
        port,
        weight: m?.weight ?? portsCur.default_weight,
        ...(tls ? { tls: true } : {}),
        pools: uniqSorted([...(poolsOnPort.get(port) ?? []), ...(poolsOnPortCur.get(port) ?? [])]),
        ...(observed.has(port) ? { observed: observed.get(port)! } : {}),
        sources: portSrc.get(port)!.list(),
        ...(m?.note ? { note: m.note } : {}),
      };
    });

  // ---- coins ----
  const coins: CoinEntry[] = coinsCur.entries
    .map((c) => ({ ...c, sources: c.sources.map(src) }))
    .sort((a, b) => cmp(a.symbol, b.symbol));

  // ---- miners ----
  const miners = buildMiners(minersCur, falco, linux);

  // ---- families ----
  const families: FamilyEntry[] = familiesCur
    .map((f) => buildFamily(f, f.trail ? trail(f.trail) : [], crypto, excludedReason, log))
    .sort((a, b) => cmp(a.id, b.id));

  // ---- sources, with what each contributed ----
  const counts = new Map<string, Record<string, number>>();
  const count = (kind: string, refs: SourceRef[]) => {
    for (const id of new Set(refs.map((r) => r.id))) {
      const c = counts.get(id) ?? {};
      c[kind] = (c[kind] ?? 0) + 1;
      counts.set(id, c);
    }
  };
  for (const p of pools) count('pools', p.sources);
  for (const e of endpoints) count('endpoints', e.sources);
  for (const p of ports) count('ports', p.sources);
  for (const c of coins) count('coins', c.sources);
  for (const cat of Object.keys(miners) as Array<keyof MinerKnowledge>)
    for (const m of miners[cat]) count('miners', m.sources);
  for (const f of families) count('families', f.sources);
  for (const x of exclusions) count('exclusions', x.sources);
  const sources: SourceEntry[] = curatedSources
    .map((s) => {
      const c = counts.get(s.id);
      const sorted = c ? Object.fromEntries(Object.entries(c).sort(([a], [b]) => cmp(a, b))) : undefined;
      return sorted ? { ...s, counts: sorted } : s;
    })
    .sort((a, b) => cmp(a.id, b.id));

  const file = (kind: string, entries: unknown) =>
    formatIntelFile({ schema: `minewatch-intel/${kind}@1`, generated: meta.generated, entries });
  const files = new Map<string, string>([
    ['sources.json', file('sources', sources)],
    ['pools.json', file('pools', pools)],
    ['endpoints.json', file('endpoints', endpoints)],
    ['ports.json', file('ports', ports)],
    ['coins.json', file('coins', coins)],
    ['miners.json', file('miners', miners)],
    ['families.json', file('families', families)],
    ['exclusions.json', file('exclusions', exclusions)],
  ]);
  log.dropped.sort((a, b) => cmp(a.value, b.value) || cmp(a.from, b.from));
  return { files, log };
}

function buildMiners(
  cur: CuratedMiners,
  falco: Map<string, string[]>,
  linux: Map<string, string[]>,
): MinerKnowledge {
  const byKey = new Map<string, Map<string, { m: MinerMarker; s: SourceSet }>>();
  const put = (cat: keyof MinerKnowledge, m: Omit<MinerMarker, 'sources'>, refs: SourceRef[]) => {
    let cm = byKey.get(cat);
    if (!cm) byKey.set(cat, (cm = new Map()));
    const k = `${m.match}\u0000${m.value}`;
    let rec = cm.get(k);
    if (!rec) {
      rec = { m: { ...m, sources: [] }, s: new SourceSet() };
      cm.set(k, rec);
    }
    for (const r of refs) rec.s.add(r);
  };
  const fw = cur.falco_binary_weights;
  for (const b of falco.get('miner_binaries') ?? []) {
    const note = fw.notes[b];
    put(
      'processes',
      {
        value: b,
        match: 'exact',
        weight: fw.medium.includes(b) ? 'medium' : fw.default,
        ...(note ? { note } : {}),
      },
      [{ id: 'falco', ref: 'miner_binaries' }],
    );
  }
  const lw = cur.linuxcheck_weights;
  const weightOf = (v: string): Weight =>
    lw.strong.includes(v) ? 'strong' : lw.weak.includes(v) ? 'weak' : lw.default;
  const regexy = /[\\*+?()[\]{}|^$]/;
  for (const [section, values] of linux) {
    const isPs = section.startsWith('ps aux');
    const isFind = section.startsWith('find');
    if (!isPs && !isFind) continue; // family sections go to families.json
    for (const v of values) {
      const note = lw.notes[v];
      const base = isPs
        ? 'Pattern LinuxCheck greps in `ps aux` output (whole line).'
        : 'Pattern LinuxCheck passes to `find -regex` (matched against the whole path).';
      put(
        isPs ? 'processes' : 'files',
        {
          value: v,
          match: isFind || regexy.test(v) ? 'regex' : 'substring',
          weight: weightOf(v),
          note: note ? `${base} ${note}` : base,
        },
        [{ id: 'linuxcheck', ref: isPs ? 'miner_check ps' : 'miner_check find' }],
      );
    }
  }
  const cats: Array<keyof MinerKnowledge> = [
    'processes',
    'files',
    'cmdline',
    'config_keys',
    'user_agents',
    'strings',
    'system',
    'tls_fingerprints',
  ];
  for (const cat of cats) {
    for (const m of cur[cat]) {
      const { sources, ...rest } = m;
      put(cat, rest, sources.map(src));
    }
  }
  const out = {} as MinerKnowledge;
  for (const cat of cats) {
    out[cat] = [...(byKey.get(cat)?.values() ?? [])]
      .map(({ m, s }) => ({ ...m, sources: s.list() }))
      .sort((a, b) => cmp(a.value, b.value) || cmp(a.match, b.match));
  }
  return out;
}

function buildFamily(
  f: CuratedFamily,
  sections: TrailSection[],
  crypto: TrailSection[],
  excludedReason: (h: string) => string | undefined,
  log: CurationLog,
): FamilyEntry {
  const domains = new Set<string>(f.domains ?? []);
  const ips = new Set<string>();
  const urls = new Set<string>();
  const from = f.trail ? `maltrail ${f.trail}` : `family ${f.id}`;
  const addDomain = (d: string) => {
    const why = excludedReason(d);
    if (why) log.dropped.push({ value: d, from, reason: why });
    else domains.add(d);
  };
  for (const sec of sections) {
    for (const it of sec.items) {
      if (it.type === 'domain') addDomain(it.value);
      else if (it.type === 'ip') ips.add(it.port === undefined ? it.value : `${it.value}:${it.port}`);
      else if (it.type === 'url') {
        const bare = /^https?:\/\/([\d.]+)\/?$/.exec(it.value);
        if (bare) ips.add(bare[1]!);
        else urls.add(it.value);
      }
    }
  }
  if (f.maltrail_section) {
    for (const sec of crypto) {
      if (!sec.refs.some((r) => r.includes(f.maltrail_section!))) continue;
      for (const it of sec.items) if (it.type === 'domain') addDomain(it.value);
    }
  }
  const { trail: _t, maltrail_section: _m, sources, ...rest } = f;
  return {
    ...rest,
    domains: [...domains].sort(cmp),
    ips: [...ips].sort((a, b) => cmp(ipKey(a), ipKey(b))),
    urls: [...urls].sort(cmp),
    sources: sources.map(src),
  };
}

/**
 * One entry a line: diffs of a re-curation show exactly which entries changed, and the files stay a
 * fraction of the size of fully indented JSON.
 */
export function formatIntelFile(doc: { schema: string; generated: string; entries: unknown }): string {
  const list = (xs: unknown[], indent: string) =>
    xs.length === 0
      ? '[]'
      : `[\n${xs.map((x) => indent + JSON.stringify(x)).join(',\n')}\n${indent.slice(2)}]`;
  let body: string;
  if (Array.isArray(doc.entries)) body = list(doc.entries, '    ');
  else {
    const obj = doc.entries as Record<string, unknown[]>;
    body = `{\n${Object.entries(obj)
      .map(([k, v]) => `    ${JSON.stringify(k)}: ${list(v, '      ')}`)
      .join(',\n')}\n  }`;
  }
  return `{\n  "schema": ${JSON.stringify(doc.schema)},\n  "generated": ${JSON.stringify(doc.generated)},\n  "entries": ${body}\n}\n`;
}

/** Writes (or with check, compares) the generated files. Returns the names that differ. */
export function writeCurated(result: CurationResult, outDir = DEFAULT_OUT_DIR, check = false): string[] {
  const differ: string[] = [];
  for (const [name, text] of result.files) {
    let old: string | undefined;
    try {
      old = readFileSync(join(outDir, name), 'utf8');
    } catch {
      old = undefined;
    }
    if (old === text) continue;
    differ.push(name);
    if (!check) writeFileSync(join(outDir, name), text);
  }
  return differ;
}

function main(argv: string[]): number {
  let shared = DEFAULT_SHARED_DIR;
  let check = false;
  let verbose = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--check') check = true;
    else if (a === '--verbose' || a === '-v') verbose = true;
    else if (a === '--shared' && argv[i + 1]) shared = argv[++i]!;
    else {
      process.stderr.write(`usage: curate-intel [--shared DIR] [--check] [--verbose]\n`);
      return 2;
    }
  }
  const result = curate(shared);
  const differ = writeCurated(result, DEFAULT_OUT_DIR, check);
  const pools = (JSON.parse(result.files.get('pools.json')!) as { entries: unknown[] }).entries.length;
  const endpoints = (JSON.parse(result.files.get('endpoints.json')!) as { entries: unknown[] }).entries
    .length;
  process.stdout.write(
    `curate-intel: ${pools} pools, ${endpoints} endpoints, ${result.log.dropped.length} source entries dropped\n`,
  );
  if (verbose)
    for (const d of result.log.dropped)
      process.stdout.write(`  dropped ${d.value} (${d.from}): ${d.reason}\n`);
  if (check) {
    if (differ.length > 0) {
      process.stderr.write(`out of date: ${differ.join(', ')} (run npm run curate)\n`);
      return 1;
    }
    process.stdout.write('up to date\n');
  } else if (differ.length > 0) process.stdout.write(`wrote ${differ.join(', ')}\n`);
  return 0;
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  process.exitCode = main(process.argv.slice(2));
}
