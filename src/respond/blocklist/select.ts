/**
 * Which intel entries a blocklist carries. Every writer starts from one Selection, so the formats agree
 * on what is blocked: pools, mining proxies and browser miners (and, on request, miner download sites);
 * never coin nodes or project sites, never an excluded name (exchanges, wallets, shared DNS zones); closed
 * pools only when asked. Pure: intel base + options in, plain data out.
 */
import {
  type EndpointEntry,
  type IntelBase,
  isDomain,
  type MinerMarker,
  normalizeIp,
  type PoolEntry,
} from '../../intel/index.ts';

export interface BlockOptions {
  /** Upper-case coin symbols; entries with no coin listed pass unless strictCoins. Empty/absent: all. */
  coins?: string[];
  strictCoins?: boolean;
  includeClosed?: boolean;
  /** Also block where miner software is downloaded from (nbminer.com ...). */
  includeDownloads?: boolean;
  /** minewatch version for the header (the caller passes VERSION; tests may pin it). */
  version?: string;
}

export interface SelectedSource {
  id: string;
  name: string;
  licence: string;
  url?: string;
  /** Selected entries (domains + addresses) this source contributed. */
  entries: number;
}

export interface Selection {
  /** Every selected name, sorted: for formats that match names exactly (hosts, Falco fd.sip.name). */
  names: string[];
  /** The fewest names whose subtrees cover `names`: for formats that match a name and everything below. */
  zones: string[];
  /**
   * Excluded names that lie below a zone (a shared host under a pool's domain): subtree formats write
   * them as exceptions so blocking the zone never takes the excluded name with it.
   */
  exceptions: string[];
  ipv4: string[];
  ipv6: string[];
  /** Ports the selected pools listen on (plain and TLS), sorted. */
  ports: number[];
  pools: PoolEntry[];
  endpoints: EndpointEntry[];
  /** Miner HTTP User-Agent prefixes (intel user_agents), sorted. */
  uaPrefixes: string[];
  /** Miner process names that are exact names (intel processes with match exact), sorted. */
  binaries: string[];
  /** Strings found inside miner binaries and scripts (intel strings), sorted by value. */
  minerStrings: MinerMarker[];
  sources: SelectedSource[];
  /** Sources of the miner markers (user agents, binaries, strings), for formats that carry them. */
  markerSources: SelectedSource[];
  options: Required<Pick<BlockOptions, 'strictCoins' | 'includeClosed' | 'includeDownloads'>> & {
    coins: string[];
  };
  version: string;
  /** The built-in intel's `generated` stamp. */
  intelGenerated: string;
}

const BLOCKED_KINDS = new Set(['pool', 'proxy', 'browser-miner']);

function coinsPass(
  coins: readonly string[] | undefined,
  want: ReadonlySet<string>,
  strict: boolean,
): boolean {
  if (want.size === 0) return true;
  if (!coins || coins.length === 0) return !strict;
  return coins.some((c) => want.has(c));
}

/** Plain code-unit order: the same bytes on every machine, whatever its locale. */
export function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function parentsOf(name: string): string[] {
  const out: string[] = [];
  let s = name;
  for (let dot = s.indexOf('.'); dot >= 0; dot = s.indexOf('.')) {
    s = s.slice(dot + 1);
    if (s.includes('.')) out.push(s);
  }
  return out;
}

/** Byte-wise compare of IPv4 addresses so 9.x sorts before 10.x. */
function ipv4Key(ip: string): number {
  return ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}

export function selectBlocklist(base: IntelBase, opts: BlockOptions = {}): Selection {
  const want = new Set((opts.coins ?? []).map((c) => c.trim().toUpperCase()).filter(Boolean));
  const strict = opts.strictCoins === true;
  const kinds = new Set(BLOCKED_KINDS);
  if (opts.includeDownloads) kinds.add('download');
  const statusOk = (p: PoolEntry) => p.status === 'active' || opts.includeClosed === true;

  const pools = base.pools
    .filter(
      (p) =>
        kinds.has(p.kind) &&
        statusOk(p) &&
        coinsPass(p.coins, want, strict) &&
        isDomain(p.host) &&
        !base.isExcluded(p.host),
    )
    .sort((a, b) => byCodeUnit(a.host, b.host));
  const selectedHosts = new Set(pools.map((p) => p.host));

  // Family indicators below a selected pool are known subdomains of it (xmr.kinsing-pool.example): exact
  // formats such as hosts files need each one listed, since they cannot say "and everything below".
  const names = new Set(selectedHosts);
  for (const f of base.families) {
    for (const d of f.domains) {
      const n = d.toLowerCase();
      if (!isDomain(n) || base.isExcluded(n)) continue;
      if (parentsOf(n).some((p) => selectedHosts.has(p))) names.add(n);
    }
  }
  const sortedNames = [...names].sort(byCodeUnit);
  const zones = [...selectedHosts]
    .filter((h) => !parentsOf(h).some((p) => selectedHosts.has(p)))
    .sort(byCodeUnit);
  const zoneSet = new Set(zones);
  const exceptions = base.exclusionEntries
    .map((e) => e.domain)
    .filter((d) => parentsOf(d).some((p) => zoneSet.has(p)))
    .sort(byCodeUnit);

  // Endpoints: an address listed under a pool follows that pool's fate (closed, node, filtered by coin);
  // the intel names the pool by host or by display name.
  const byHost = new Map(base.pools.map((p) => [p.host, [p]]));
  const byName = new Map<string, PoolEntry[]>();
  for (const p of base.pools) byName.set(p.name, [...(byName.get(p.name) ?? []), p]);
  const endpoints: EndpointEntry[] = [];
  const v4 = new Set<string>();
  const v6 = new Set<string>();
  for (const e of base.endpoints) {
    const ip = normalizeIp(e.ip);
    if (!ip) continue;
    const owners = e.pool ? (byHost.get(e.pool) ?? byName.get(e.pool) ?? []) : [];
    if (
      owners.length > 0 &&
      !owners.some((p) => kinds.has(p.kind) && statusOk(p) && !base.isExcluded(p.host))
    )
      continue;
    const coins = e.coins ?? (owners.length > 0 ? [...new Set(owners.flatMap((p) => p.coins))] : undefined);
    if (!coinsPass(coins, want, strict)) continue;
    endpoints.push(e);
    (ip.includes(':') ? v6 : v4).add(ip);
  }

  const ports = new Set<number>();
  for (const p of pools) for (const port of [...p.ports.plain, ...p.ports.tls]) ports.add(port);

  const sourcesOf = (
    entries: ReadonlyArray<{ sources: ReadonlyArray<{ id: string }> }>,
  ): SelectedSource[] => {
    const counts = new Map<string, number>();
    for (const entry of entries)
      for (const id of new Set(entry.sources.map((s) => s.id))) counts.set(id, (counts.get(id) ?? 0) + 1);
    return [...counts.keys()].sort(byCodeUnit).map((id) => {
      const s = base.source(id);
      return {
        id,
        name: s?.name ?? id,
        licence: s?.licence ?? 'unknown',
        ...(s?.url ? { url: s.url } : {}),
        entries: counts.get(id) ?? 0,
      };
    });
  };
  const sources = sourcesOf([...pools, ...endpoints]);
  const exactProcesses = base.miners.processes.filter((m) => m.match === 'exact');
  const markerSources = sourcesOf([...base.miners.user_agents, ...exactProcesses, ...base.miners.strings]);

  return {
    names: sortedNames,
    zones,
    exceptions,
    ipv4: [...v4].sort((a, b) => ipv4Key(a) - ipv4Key(b)),
    ipv6: [...v6].sort(byCodeUnit),
    ports: [...ports].sort((a, b) => a - b),
    pools,
    endpoints,
    uaPrefixes: [...new Set(base.miners.user_agents.map((m) => m.value))].sort(byCodeUnit),
    binaries: [...new Set(exactProcesses.map((m) => m.value))].sort(byCodeUnit),
    minerStrings: [...base.miners.strings].sort((a, b) => byCodeUnit(a.value, b.value)),
    sources,
    markerSources,
    options: {
      coins: [...want].sort(byCodeUnit),
      strictCoins: strict,
      includeClosed: opts.includeClosed === true,
      includeDownloads: opts.includeDownloads === true,
    },
    version: opts.version ?? '0.0.0',
    intelGenerated: base.generated,
  };
}

/**
 * The header every format starts with (the writer adds its comment marker): who made the list, from which
 * intel, what it holds, and the sources and licences of the entries in it (DRL-1.1 asks for attribution).
 */
export function headerLines(sel: Selection, format: string, withMarkers = false): string[] {
  const o = sel.options;
  const kinds = ['pool', 'proxy', 'browser-miner', ...(o.includeDownloads ? ['download'] : [])];
  const lines = [
    `minewatch blocklist, format ${format}: generated by minewatch ${sel.version}`,
    `intel: built-in data generated ${sel.intelGenerated || 'unknown'}`,
    `selection: kinds ${kinds.join(', ')}; ${o.includeClosed ? 'active and closed pools' : 'active pools only'}; coins ${
      o.coins.length
        ? `${o.coins.join(', ')}${o.strictCoins ? ' (strict)' : ' (and pools of unknown coin)'}`
        : 'all'
    }`,
    `entries: ${sel.names.length} names, ${sel.zones.length} zones, ${sel.ipv4.length} IPv4 and ${sel.ipv6.length} IPv6 addresses, ${sel.exceptions.length} excepted names`,
    'sources and licences of the entries included:',
  ];
  for (const s of sel.sources)
    lines.push(
      `  ${s.id}: ${s.name}; licence ${s.licence}${s.url ? `; ${s.url}` : ''} (${s.entries} entries)`,
    );
  if (withMarkers) {
    lines.push('sources and licences of the miner markers included (process names, user agents, strings):');
    for (const s of sel.markerSources)
      lines.push(
        `  ${s.id}: ${s.name}; licence ${s.licence}${s.url ? `; ${s.url}` : ''} (${s.entries} markers)`,
      );
  }
  return lines;
}

/** Header lines behind a comment marker ("#", ";", "//"). */
export function commentHeader(sel: Selection, format: string, marker: string, withMarkers = false): string {
  return headerLines(sel, format, withMarkers)
    .map((l) => `${marker} ${l}`.trimEnd())
    .join('\n');
}
