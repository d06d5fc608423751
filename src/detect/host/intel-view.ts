/**
 * The one place the host detectors touch intel. Rules ask questions ("is this a miner process name?",
 * "which pool is this host?") and never see the intel files' shape, so a change there is one edit here.
 * `IntelLike` is the structural subset of src/intel's IntelBase that this module reads.
 */

export type Weight = 'strong' | 'medium' | 'weak';
export type MarkerMatch = 'exact' | 'prefix' | 'substring' | 'regex';

export interface MarkerLike {
  value: string;
  match: MarkerMatch;
  weight: Weight;
  sources?: { id: string; ref?: string }[];
  note?: string;
}

export interface PoolLike {
  host: string;
  name: string;
  kind?: string;
  coins: string[];
  algos?: string[];
  ports?: { plain: number[]; tls: number[] };
  status?: string;
}

export interface FamilyLike {
  id: string;
  name: string;
  aliases: string[];
  processes: string[];
  paths: string[];
  script_markers: string[];
  domains: string[];
  ips: string[];
  urls: string[];
}

export interface IntelLike {
  pools: PoolLike[];
  miners: {
    processes: MarkerLike[];
    files: MarkerLike[];
    cmdline: MarkerLike[];
    config_keys: MarkerLike[];
    strings: MarkerLike[];
    system: MarkerLike[];
    user_agents?: MarkerLike[];
  };
  families: FamilyLike[];
  matchDomain(name: string): { pool: PoolLike; matched: string } | undefined;
  matchEndpoint(
    ip: string,
    port?: number,
  ):
    | { endpoint: { ip: string; port?: number; pool?: string; coins?: string[] }; portMatched: boolean }
    | undefined;
  portInfo(port: number): { port: number; weight: Weight; pools?: string[] } | undefined;
  isExcluded?(domain: string): boolean;
}

export const WEIGHT: Record<Weight, number> = { strong: 0.9, medium: 0.6, weak: 0.3 };

export interface NameHit {
  value: string;
  weight: Weight;
  /** Family id when the name is a campaign's artefact (kinsing, kdevtmpfsi) rather than a stock miner. */
  family?: string;
}

export interface PoolHit {
  host: string;
  name: string;
  coins: string[];
  kind: string;
  /** The pool has closed: a miner pointed there is stale, still malicious. */
  closed: boolean;
}

export interface FamilyHit {
  family: string;
  name: string;
  marker: string;
  what: 'process' | 'path' | 'script' | 'domain' | 'ip' | 'url';
}

export interface IntelView {
  minerProcess(name: string): NameHit | undefined;
  minerFile(pathOrName: string): NameHit | undefined;
  cmdlineMarkers(cmdline: string): NameHit[];
  configKeys(): ReadonlySet<string>;
  /** Miner strings found in `text` (binaries' strings, scripts). */
  minerStrings(text: string): NameHit[];
  /** Host tuning markers (hugepages, msr, nmi_watchdog) found in `text`. */
  systemMarkers(text: string): NameHit[];
  pool(host: string): PoolHit | undefined;
  endpoint(ip: string, port?: number): { pool?: string; coins: string[]; portMatched: boolean } | undefined;
  portWeight(port: number): Weight | undefined;
  /** Campaign markers of any kind found in `text` (first per family and kind). */
  families(text: string): FamilyHit[];
  familyName(id: string): string;
  /** Literal tokens worth a content-scanner hit in any file (strong miner strings, family artefact names). */
  contentTokens(): string[];
  /** TLDs of pool and campaign domains: the content scanner anchors on '.tld' and looks back. */
  poolTlds(): string[];
  isExcluded(domain: string): boolean;
}

function esc(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

class MarkerSet {
  private exact = new Map<string, MarkerLike>();
  private others: { m: MarkerLike; re: RegExp }[] = [];
  private any: RegExp | undefined;
  /**
   * `wholeRegex`: regex markers match the whole name or path, as `find -regex` applies LinuxCheck's file
   * patterns; unanchored, '.*kerbero' would call 'Kerberos' a miner and '.*xmrig' any 'xmrig_docs.py'.
   */
  constructor(markers: MarkerLike[], caseless = true, wholeRegex = false) {
    const alts: string[] = [];
    for (const m of markers) {
      if (m.match === 'exact') this.exact.set(caseless ? m.value.toLowerCase() : m.value, m);
      let src: string;
      try {
        src =
          m.match === 'regex'
            ? wholeRegex
              ? `^(?:${m.value})$`
              : m.value
            : m.match === 'prefix'
              ? `^${esc(m.value)}`
              : m.match === 'exact'
                ? `^${esc(m.value)}$`
                : esc(m.value);
        this.others.push({ m, re: new RegExp(src, caseless ? 'i' : '') });
        alts.push(`(?:${src})`);
      } catch {
        // A marker that is not a valid JS regex is skipped rather than breaking every scan.
      }
    }
    this.any = alts.length ? new RegExp(alts.join('|'), caseless ? 'i' : '') : undefined;
  }
  /** Whole-name match (process names, file names). */
  name(s: string): MarkerLike | undefined {
    const e = this.exact.get(s.toLowerCase());
    if (e) return e;
    for (const o of this.others) {
      if (o.m.match === 'exact') continue;
      // Substring markers are path fragments ('/var/tmp/apple'): they name a process only through its path.
      if (o.m.match === 'substring' && !(o.m.value.includes('/') && s.includes('/'))) continue;
      if (o.re.test(s)) return o.m;
    }
    return undefined;
  }
  /** All markers occurring in a text. The union pre-check keeps the common no-match case to one scan. */
  within(s: string): MarkerLike[] {
    if (!this.any?.test(s)) return [];
    return this.others.filter((o) => o.re.test(s)).map((o) => o.m);
  }
}

export function intelView(base: IntelLike): IntelView {
  const procs = new MarkerSet(base.miners.processes);
  const files = new MarkerSet(base.miners.files, true, true);
  const cmd = new MarkerSet(base.miners.cmdline);
  const strings = new MarkerSet(base.miners.strings);
  const system = new MarkerSet(base.miners.system);
  const keys = new Set(base.miners.config_keys.map((k) => k.value));

  const famProc = new Map<string, FamilyLike>();
  for (const f of base.families) for (const p of f.processes) famProc.set(p.toLowerCase(), f);
  const famNames = new Map(base.families.map((f) => [f.id, f.name]));
  // Campaign markers in one regex per kind; which family matched is found afterwards (rare path).
  const kinds: { what: FamilyHit['what']; pick: (f: FamilyLike) => string[] }[] = [
    { what: 'process', pick: (f) => f.processes.filter((p) => p.length >= 5) },
    { what: 'path', pick: (f) => f.paths },
    { what: 'script', pick: (f) => f.script_markers },
    { what: 'domain', pick: (f) => f.domains },
    {
      what: 'ip',
      pick: (f) =>
        f.ips
          .map((i) => i.replace(/^https?:\/\//, '').split('/')[0]!)
          .filter((i) => /\d+\.\d+\.\d+\.\d+/.test(i)),
    },
    { what: 'url', pick: (f) => f.urls },
  ];
  const famRes = kinds.map((k) => {
    const all = [...new Set(base.families.flatMap(k.pick))].filter((s) => s.length >= 4);
    // Process names are words, some of them ordinary ones (sysupdate, networkservice): in text they count
    // only as a whole name, case and all, so 'systemd-sysupdate', 'ksysguard' or Windows' 'NetworkService'
    // account are not a campaign's miner.
    const word = k.what === 'process';
    const pre = word ? '(?<![A-Za-z0-9_.-])' : '';
    const post = k.what === 'ip' ? '(?![0-9])' : word ? '(?![A-Za-z0-9_-])' : '';
    const re = all.length
      ? new RegExp(`${pre}(?:${all.map(esc).join('|')})${post}`, word ? '' : 'i')
      : undefined;
    return { ...k, re };
  });

  const tlds = new Set<string>();
  for (const p of base.pools) tlds.add(p.host.split('.').pop()!.toLowerCase());
  for (const f of base.families) for (const d of f.domains) tlds.add(d.split('.').pop()!.toLowerCase());

  return {
    minerProcess(name) {
      const n = name.replace(/^\[|\]$/g, '');
      const f = famProc.get(n.toLowerCase());
      if (f) return { value: n, weight: 'strong', family: f.id };
      const m = procs.name(n);
      return m ? { value: m.value, weight: m.weight } : undefined;
    },
    minerFile(p) {
      const base_ = p.split('/').pop() ?? p;
      const f = famProc.get(base_.toLowerCase());
      if (f) return { value: base_, weight: 'strong', family: f.id };
      const m = files.name(base_) ?? files.name(p);
      return m ? { value: m.value, weight: m.weight } : undefined;
    },
    cmdlineMarkers(c) {
      return cmd.within(c).map((m) => ({ value: m.value, weight: m.weight }));
    },
    configKeys: () => keys,
    minerStrings(t) {
      return strings.within(t).map((m) => ({ value: m.value, weight: m.weight }));
    },
    systemMarkers(t) {
      return system.within(t).map((m) => ({ value: m.value, weight: m.weight }));
    },
    pool(host) {
      const h = base.matchDomain(host);
      if (!h) return undefined;
      return {
        host: host.toLowerCase(),
        name: h.pool.name,
        coins: h.pool.coins,
        kind: h.pool.kind ?? 'pool',
        closed: h.pool.status === 'closed',
      };
    },
    endpoint(ip, port) {
      const e = base.matchEndpoint(ip, port);
      if (!e) return undefined;
      const r: { pool?: string; coins: string[]; portMatched: boolean } = {
        coins: e.endpoint.coins ?? [],
        portMatched: e.portMatched,
      };
      if (e.endpoint.pool) r.pool = e.endpoint.pool;
      return r;
    },
    portWeight: (port) => base.portInfo(port)?.weight,
    families(text) {
      const out: FamilyHit[] = [];
      for (const k of famRes) {
        if (!k.re) continue;
        const m = k.re.exec(text);
        if (!m) continue;
        const hit = m[0].toLowerCase();
        const fam = base.families.find((f) => k.pick(f).some((s) => s.toLowerCase() === hit));
        if (fam) out.push({ family: fam.id, name: fam.name, marker: m[0], what: k.what });
      }
      return out;
    },
    familyName: (id) => famNames.get(id) ?? id,
    contentTokens() {
      const out = new Set<string>();
      for (const m of base.miners.strings)
        if (m.weight !== 'weak' && m.match !== 'regex' && m.value.length >= 5) out.add(m.value);
      // Family artefact names the curation also lists as script markers (kinsing, kdevtmpfsi): those are the
      // ones distinctive enough to find in any file's bytes. Other process names (sysupdate, watchdogs,
      // networkservice, work64) are ordinary words that legitimate binaries carry as strings: they identify a
      // family as a process or file name, not as content.
      for (const f of base.families) {
        const markers = new Set(f.script_markers.map((m) => m.toLowerCase()));
        for (const p of f.processes)
          if (p.length >= 6 && markers.has(p.toLowerCase()) && !/^k\w*d\d?$|\.exe$/i.test(p)) out.add(p);
      }
      return [...out];
    },
    poolTlds: () => [...tlds].filter((t) => /^[a-z][a-z0-9-]*$/.test(t)),
    isExcluded: (d) => base.isExcluded?.(d) ?? false,
  };
}
