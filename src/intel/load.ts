/**
 * Loads the built-in intel (data/intel/*.json, validated against schema.ts) and the user's intel dir,
 * and builds the matchers. readIntelFiles/readUserDir do the I/O; buildIntel is pure.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { type TypeCheck, TypeCompiler } from '@sinclair/typebox/compiler';
import { packagePath } from '../package-root.ts';
import { parseWalletFormats, WALLET_FORMATS_FILE } from '../wallets/formats.ts';
import { classifyEntry, IntelFormatError, type ListItem, parseHosts, parsePlain } from './formats.ts';
import { EndpointMatcher, ExclusionIndex, PoolMatcher, SuffixIndex } from './match.ts';
import { normalizeDomain } from './names.ts';
import {
  type CoinEntry,
  type EndpointEntry,
  type ExclusionEntry,
  type FamilyEntry,
  FILE_SCHEMAS,
  INTEL_KINDS,
  type IntelFiles,
  type IntelKind,
  type MinerKnowledge,
  type MinerMarker,
  type PoolEntry,
  type PoolKind,
  type PortEntry,
  type SourceEntry,
  type SourceRef,
  UserIntelFile,
} from './schema.ts';
import { INTEL_STAMP, INTEL_STAMP_SCHEMA, intelDigest, readStamp, vouches } from './stamp.ts';

export const BUILTIN_DATA_DIR = `${packagePath('data', 'intel')}/`;

export const USER_LICENCE = 'user-supplied';

/** A data file that parses as JSON but does not have the shape schema.ts describes. */
export class IntelSchemaError extends Error {
  readonly file: string;
  readonly path: string;
  constructor(file: string, path: string, message: string) {
    super(`${file}: ${path || '/'}: ${message}`);
    this.name = 'IntelSchemaError';
    this.file = file;
    this.path = path;
  }
}

export interface IntelStats {
  pools: number;
  poolsByKind: Record<string, number>;
  poolsByCoin: Record<string, number>;
  poolsByStatus: Record<string, number>;
  endpoints: number;
  endpointsByPool: Record<string, number>;
  ports: number;
  portsByWeight: Record<string, number>;
  coins: number;
  families: number;
  familyIndicators: number;
  minerMarkers: Record<string, number>;
  sources: number;
  exclusions: number;
  /** Entries (pools + endpoints + ports + processes) contributed by each source id. */
  bySource: Record<string, number>;
}

export interface LookupResult {
  query: string;
  type: 'domain' | 'ip' | 'invalid';
  host?: string;
  port?: number;
  /** The strongest thing the query is: a pool kind, a known endpoint, a family IOC, excluded, or unknown. */
  verdict: PoolKind | 'endpoint' | 'family' | 'excluded' | 'unknown';
  pool?: { entry: PoolEntry; matched: string };
  endpoint?: { entry: EndpointEntry; portMatched: boolean };
  portInfo?: PortEntry;
  exclusion?: ExclusionEntry;
  families: Array<{ id: string; name: string; matched: string }>;
  /** The licences of the sources behind the answer. */
  licences: string[];
}

export interface IntelBase {
  pools: PoolEntry[];
  endpoints: EndpointEntry[];
  ports: PortEntry[];
  coins: CoinEntry[];
  miners: MinerKnowledge;
  families: FamilyEntry[];
  sources: SourceEntry[];
  exclusions: string[];
  /** The exclusions with category and scope (exclusions above is their names). */
  exclusionEntries: ExclusionEntry[];
  /** The `generated` stamp of the built-in data. */
  generated: string;
  /** What it was built from: `buildIntel(inputs.files, inputs.user)` builds the same base again (in a worker thread). */
  inputs?: { files: IntelFiles & { generated?: string }; user: UserIntelFile[] };
  /** domain or any subdomain of a pool host; case-insensitive, trailing dot ok; 'nanopool.org.evil.com' must NOT match nanopool. Returns the most specific entry. */
  matchDomain(name: string): { pool: PoolEntry; matched: string } | undefined;
  /** known pool IP (optionally with port) */
  matchEndpoint(ip: string, port?: number): { endpoint: EndpointEntry; portMatched: boolean } | undefined;
  portInfo(port: number): PortEntry | undefined;
  coin(symbol: string): CoinEntry | undefined;
  isExcluded(domain: string): boolean;
  /** The source entry for an id (licence, url). */
  source(id: string): SourceEntry | undefined;
  /** Families whose IOCs include the domain (or a parent of it) or the IP (with or without port). */
  matchFamilies(query: {
    domain?: string;
    ip?: string;
    port?: number;
  }): Array<{ family: FamilyEntry; matched: string }>;
  /** counts by kind and coin, for `minewatch intel stats` */
  stats(): IntelStats;
  /** answer for `minewatch intel lookup <domain|ip|ip:port>` (wallets are handled elsewhere) */
  lookup(query: string): LookupResult;
}

// ---------- reading ----------

const checkers = new Map<string, TypeCheck<(typeof FILE_SCHEMAS)[IntelKind]>>();
function checker(kind: IntelKind): TypeCheck<(typeof FILE_SCHEMAS)[IntelKind]> {
  let c = checkers.get(kind);
  if (!c) {
    c = TypeCompiler.Compile(FILE_SCHEMAS[kind]) as TypeCheck<(typeof FILE_SCHEMAS)[IntelKind]>;
    checkers.set(kind, c);
  }
  return c;
}
let userChecker: TypeCheck<typeof UserIntelFile> | undefined;

function parseJson(file: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new IntelSchemaError(file, '', `not JSON: ${(e as Error).message}`);
  }
}

/** Validates one data file's parsed JSON; throws IntelSchemaError naming the first offending path. */
export function validateIntelFile(kind: IntelKind, file: string, doc: unknown): void {
  const c = checker(kind);
  if (c.Check(doc)) return;
  const first = c.Errors(doc).First();
  throw new IntelSchemaError(file, first?.path ?? '', first?.message ?? 'invalid');
}

export { INTEL_STAMP, INTEL_STAMP_SCHEMA, intelDigest } from './stamp.ts';

/**
 * Reads the eight intel files of a directory (default: the built-in ones), checked against their schemas and
 * source references unless the directory's stamp vouches for exactly these texts (`force`: check regardless).
 */
export function readIntelFiles(dir = BUILTIN_DATA_DIR, force = false): IntelFiles & { generated: string } {
  const out: Partial<IntelFiles> & { generated?: string } = {};
  const stamp = force ? undefined : readStamp(dir);
  let stamped = stamp !== undefined;
  for (const kind of INTEL_KINDS) {
    const file = join(dir, `${kind}.json`);
    const text = readFileSync(file, 'utf8');
    const doc = parseJson(file, text);
    if (!vouches(stamp, `${kind}.json`, text)) {
      stamped = false;
      validateIntelFile(kind, file, doc);
    }
    const d = doc as { generated: string; entries: unknown };
    (out as Record<string, unknown>)[kind] = d.entries;
    if (kind === 'pools') out.generated = d.generated;
  }
  const files = out as IntelFiles & { generated: string };
  // Source references cross files: checked again when any file is not the stamped one.
  if (!stamped) checkSourceRefs(files, dir);
  return files;
}

/**
 * Checks a directory's intel files in full and writes its stamp (`npm run intel:stamp`): the eight intel files and
 * the wallet formats (src/wallets/formats.ts), which the wallet validators load on their own.
 */
export function stampIntel(dir = BUILTIN_DATA_DIR): Record<string, string> {
  readIntelFiles(dir, true);
  const wallets = readFileSync(join(dir, WALLET_FORMATS_FILE), 'utf8');
  parseWalletFormats(JSON.parse(wallets));
  const files: Record<string, string> = {};
  for (const kind of INTEL_KINDS)
    files[`${kind}.json`] = intelDigest(readFileSync(join(dir, `${kind}.json`), 'utf8'));
  files[WALLET_FORMATS_FILE] = intelDigest(wallets);
  writeFileSync(
    join(dir, INTEL_STAMP),
    `${JSON.stringify({ schema: INTEL_STAMP_SCHEMA, files }, null, 2)}\n`,
  );
  return files;
}

/** Every entry must name sources that exist, so every entry has a licence. */
function checkSourceRefs(files: IntelFiles, where: string): void {
  const ids = new Set(files.sources.map((s) => s.id));
  const check = (kind: string, key: string, refs: SourceRef[]) => {
    for (const r of refs) {
      if (!ids.has(r.id)) throw new IntelSchemaError(where, `${kind}/${key}`, `unknown source id '${r.id}'`);
    }
  };
  for (const p of files.pools) check('pools', p.host, p.sources);
  for (const e of files.endpoints) check('endpoints', `${e.ip}:${e.port ?? ''}`, e.sources);
  for (const p of files.ports) check('ports', String(p.port), p.sources);
  for (const c of files.coins) check('coins', c.symbol, c.sources);
  for (const f of files.families) check('families', f.id, f.sources);
  for (const x of files.exclusions) check('exclusions', x.domain, x.sources);
  for (const [cat, list] of Object.entries(files.miners))
    for (const m of list) check(`miners/${cat}`, m.value, m.sources);
}

export function defaultUserIntelDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.MINEWATCH_HOME) return join(env.MINEWATCH_HOME, 'intel');
  if (env.XDG_CONFIG_HOME) return join(env.XDG_CONFIG_HOME, 'minewatch', 'intel');
  return join(homedir(), '.config', 'minewatch', 'intel');
}

/** Names of list files a user may drop into the intel dir as they are (CoinBlockerLists and the like). */
const DROPPED_LIST = /\.(?:txt|list|hosts|domains)$/i;

export function userSourceEntry(fileName: string, format: string): SourceEntry {
  return {
    id: `user:${fileName}`,
    name: `user-supplied list ${fileName}`,
    licence: USER_LICENCE,
    taken: `entries of ${fileName} (${format} format)`,
  };
}

/**
 * Turns parsed list items into a user intel file. Exclusions apply: names under an exchange or wallet
 * site are dropped and reported.
 */
export function itemsToUserFile(
  items: ListItem[],
  fileName: string,
  format: string,
  exclusions: ExclusionIndex,
  imported: string,
): { file: UserIntelFile; dropped: Array<{ value: string; line: number; reason: string }>; skipped: number } {
  const source = userSourceEntry(fileName, format);
  const ref: SourceRef[] = [{ id: source.id }];
  const pools = new Map<string, PoolEntry>();
  const endpoints = new Map<string, EndpointEntry>();
  const ports = new Map<number, PortEntry>();
  const processes = new Map<string, MinerMarker>();
  const dropped: Array<{ value: string; line: number; reason: string }> = [];
  let skipped = 0;
  for (const it of items) {
    if (it.type === 'domain') {
      const ex = exclusions.find(it.value);
      if (ex) {
        dropped.push({ value: it.value, line: it.line, reason: `excluded: ${ex.domain} (${ex.category})` });
        continue;
      }
      if (!pools.has(it.value)) {
        pools.set(it.value, {
          host: it.value,
          name: it.value,
          kind: 'pool',
          coins: [],
          algos: [],
          ports: { plain: [], tls: [] },
          status: 'active',
          sources: ref,
        });
      }
    } else if (it.type === 'ip') {
      const key = `${it.value}|${it.port ?? ''}`;
      if (!endpoints.has(key)) {
        endpoints.set(key, {
          ip: it.value,
          ...(it.port !== undefined ? { port: it.port } : {}),
          sources: ref,
        });
      }
    } else if (it.type === 'port') {
      if (!ports.has(it.value))
        ports.set(it.value, { port: it.value, weight: 'medium', pools: [], sources: ref });
    } else if (it.type === 'binary') {
      if (!processes.has(it.value)) {
        processes.set(it.value, { value: it.value, match: 'exact', weight: 'strong', sources: ref });
      }
    } else skipped++; // URL trails: about one resource, not a host to match
  }
  const byKey = <T>(m: Map<string | number, T>) =>
    [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);
  return {
    file: {
      schema: 'minewatch-intel/user@1',
      source,
      imported,
      format,
      pools: byKey(pools),
      endpoints: byKey(endpoints),
      ports: byKey(ports),
      processes: byKey(processes),
    },
    dropped,
    skipped,
  };
}

/** Guesses hosts vs plain for a dropped list: a hosts file's first entry line starts with an address. */
export function sniffListFormat(text: string): 'hosts' | 'plain' {
  for (const raw of text.split(/\r?\n/)) {
    const s = raw.replace(/#.*/, '').trim();
    if (s === '' || s.startsWith('!')) continue;
    const first = s.split(/\s+/)[0]!;
    const item = classifyEntry(first, 0);
    return s.includes(' ') || s.includes('\t') ? (item?.type === 'ip' ? 'hosts' : 'plain') : 'plain';
  }
  return 'plain';
}

/** Reads the user intel dir: imported JSON files, and list files dropped in as they are. Missing dir = none. */
export function readUserDir(dir: string, exclusions: ExclusionIndex): UserIntelFile[] {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const out: UserIntelFile[] = [];
  for (const name of names) {
    if (name.startsWith('.')) continue; // temp files of an import in progress
    const path = join(dir, name);
    if (name.endsWith('.json')) {
      const doc = parseJson(path, readFileSync(path, 'utf8'));
      userChecker ??= TypeCompiler.Compile(UserIntelFile);
      if (!userChecker.Check(doc)) {
        const first = userChecker.Errors(doc).First();
        throw new IntelSchemaError(path, first?.path ?? '', first?.message ?? 'invalid user intel file');
      }
      out.push(doc);
    } else if (DROPPED_LIST.test(name)) {
      const text = readFileSync(path, 'utf8');
      const format = sniffListFormat(text);
      const items = format === 'hosts' ? parseHosts(text, path) : parsePlain(text, path);
      out.push(itemsToUserFile(items, name, format, exclusions, 'dropped-in').file);
    }
  }
  return out;
}

// ---------- building ----------

function mergeSources(a: SourceRef[], b: SourceRef[]): SourceRef[] {
  const seen = new Set(a.map((r) => `${r.id}\u0000${r.ref ?? ''}`));
  const out = [...a];
  for (const r of b) {
    const k = `${r.id}\u0000${r.ref ?? ''}`;
    if (!seen.has(k)) {
      seen.add(k);
      out.push(r);
    }
  }
  return out;
}

function inc(rec: Record<string, number>, key: string, by = 1): void {
  rec[key] = (rec[key] ?? 0) + by;
}

/** Pure: files (+ user files) → IntelBase. User entries for a known host add their source to it. */
export function buildIntel(
  files: IntelFiles & { generated?: string },
  user: UserIntelFile[] = [],
): IntelBase {
  const exclusionIndex = new ExclusionIndex(files.exclusions);
  const sources = [...files.sources];
  const pools = new Map(files.pools.map((p) => [p.host, p]));
  const endpoints = new Map(files.endpoints.map((e) => [`${e.ip}|${e.port ?? ''}`, e]));
  const ports = new Map(files.ports.map((p) => [p.port, p]));
  const processes = new Map(files.miners.processes.map((m) => [`${m.match}\u0000${m.value}`, m]));

  for (const u of user) {
    if (!sources.some((s) => s.id === u.source.id)) sources.push(u.source);
    for (const p of u.pools) {
      // A user file written before an exclusion was added must not bring the name back.
      if (exclusionIndex.find(p.host)) continue;
      const old = pools.get(p.host);
      pools.set(p.host, old ? { ...old, sources: mergeSources(old.sources, p.sources) } : p);
    }
    for (const e of u.endpoints) {
      const k = `${e.ip}|${e.port ?? ''}`;
      const old = endpoints.get(k);
      endpoints.set(k, old ? { ...old, sources: mergeSources(old.sources, e.sources) } : e);
    }
    for (const p of u.ports) {
      const old = ports.get(p.port);
      ports.set(p.port, old ? { ...old, sources: mergeSources(old.sources, p.sources) } : p);
    }
    for (const m of u.processes) {
      const k = `${m.match}\u0000${m.value}`;
      const old = processes.get(k);
      processes.set(k, old ? { ...old, sources: mergeSources(old.sources, m.sources) } : m);
    }
  }

  const poolList = [...pools.values()];
  const endpointList = [...endpoints.values()];
  const portList = [...ports.values()].sort((a, b) => a.port - b.port);
  const miners: MinerKnowledge = { ...files.miners, processes: [...processes.values()] };
  const poolMatcher = new PoolMatcher(poolList, exclusionIndex);
  const endpointMatcher = new EndpointMatcher(endpointList);
  const coinBySymbol = new Map(files.coins.map((c) => [c.symbol, c]));
  const sourceById = new Map(sources.map((s) => [s.id, s]));

  // Family IOCs: domains by suffix, IPs by address (an ip:port IOC also answers for the bare IP).
  const famDomains = new SuffixIndex<FamilyEntry[]>();
  const famIps = new Map<string, Array<{ family: FamilyEntry; ioc: string }>>();
  for (const f of files.families) {
    for (const d of f.domains) {
      const list = famDomains.get(d);
      if (list) list.push(f);
      else famDomains.set(d, [f]);
    }
    for (const ioc of f.ips) {
      const c = ioc.lastIndexOf(':');
      const ip = c > 0 && ioc.indexOf(':') === c ? ioc.slice(0, c) : ioc;
      const list = famIps.get(ip) ?? [];
      list.push({ family: f, ioc });
      famIps.set(ip, list);
    }
  }

  const base: IntelBase = {
    pools: poolList,
    endpoints: endpointList,
    ports: portList,
    coins: files.coins,
    miners,
    families: files.families,
    sources,
    exclusions: files.exclusions.map((e) => e.domain),
    exclusionEntries: files.exclusions,
    generated: files.generated ?? '',
    inputs: { files, user },
    matchDomain: (name) => poolMatcher.match(name),
    matchEndpoint: (ip, port) => endpointMatcher.match(ip, port),
    portInfo: (port) => ports.get(port),
    coin: (symbol) => coinBySymbol.get(symbol.trim().toUpperCase()),
    isExcluded: (domain) => exclusionIndex.find(normalizeDomain(domain)) !== undefined,
    source: (id) => sourceById.get(id),
    matchFamilies(q) {
      const out: Array<{ family: FamilyEntry; matched: string }> = [];
      if (q.domain) {
        const hit = famDomains.lookup(normalizeDomain(q.domain));
        if (hit) for (const f of hit.value) out.push({ family: f, matched: hit.matched });
      }
      if (q.ip) {
        for (const { family, ioc } of famIps.get(q.ip) ?? []) {
          const iocPort = ioc.includes(':') ? Number(ioc.slice(ioc.lastIndexOf(':') + 1)) : undefined;
          if (iocPort === undefined || q.port === undefined || iocPort === q.port)
            out.push({ family, matched: ioc });
        }
      }
      const seen = new Set<string>();
      return out.filter((h) => !seen.has(h.family.id) && seen.add(h.family.id));
    },
    stats: () => computeStats(base),
    lookup: (q) => lookup(base, q, exclusionIndex),
  };
  return base;
}

function computeStats(b: IntelBase): IntelStats {
  const s: IntelStats = {
    pools: b.pools.length,
    poolsByKind: {},
    poolsByCoin: {},
    poolsByStatus: {},
    endpoints: b.endpoints.length,
    endpointsByPool: {},
    ports: b.ports.length,
    portsByWeight: {},
    coins: b.coins.length,
    families: b.families.length,
    familyIndicators: 0,
    minerMarkers: {},
    sources: b.sources.length,
    exclusions: b.exclusions.length,
    bySource: {},
  };
  for (const p of b.pools) {
    inc(s.poolsByKind, p.kind);
    inc(s.poolsByStatus, p.status);
    if (p.coins.length === 0) inc(s.poolsByCoin, 'unknown');
    for (const c of p.coins) inc(s.poolsByCoin, c);
    for (const id of new Set(p.sources.map((r) => r.id))) inc(s.bySource, id);
  }
  for (const e of b.endpoints) {
    inc(s.endpointsByPool, e.pool ?? 'unknown');
    for (const id of new Set(e.sources.map((r) => r.id))) inc(s.bySource, id);
  }
  for (const p of b.ports) {
    inc(s.portsByWeight, p.weight);
    for (const id of new Set(p.sources.map((r) => r.id))) inc(s.bySource, id);
  }
  for (const [cat, list] of Object.entries(b.miners)) s.minerMarkers[cat] = list.length;
  for (const m of b.miners.processes)
    for (const id of new Set(m.sources.map((r) => r.id))) inc(s.bySource, id);
  for (const f of b.families) s.familyIndicators += f.domains.length + f.ips.length + f.urls.length;
  return s;
}

function licencesOf(b: IntelBase, refs: SourceRef[]): string[] {
  const out = new Set<string>();
  for (const r of refs) {
    const s = b.source(r.id);
    if (s) out.add(s.licence);
  }
  return [...out];
}

function lookup(b: IntelBase, query: string, excl: ExclusionIndex): LookupResult {
  // Accept what people paste: stratum+tcp://host:port, http://host/path.
  const hostPart = query
    .trim()
    .replace(/^[a-z][a-z0-9+.-]*:\/\//i, '')
    .replace(/\/.*$/, '');
  const item = classifyEntry(hostPart, 0);
  const portMatch = /^[^[\]:]+:(\d{1,5})$/.exec(hostPart);
  if (!item || item.type === 'url' || item.type === 'port' || item.type === 'binary') {
    return { query, type: 'invalid', verdict: 'unknown', families: [], licences: [] };
  }
  const refs: SourceRef[] = [];
  if (item.type === 'domain') {
    const port = portMatch ? Number(portMatch[1]) : undefined;
    const res: LookupResult = {
      query,
      type: 'domain',
      host: item.value,
      ...(port !== undefined ? { port } : {}),
      verdict: 'unknown',
      families: [],
      licences: [],
    };
    const ex = excl.find(item.value);
    if (ex) {
      res.exclusion = ex;
      res.verdict = 'excluded';
      res.licences = licencesOf(b, ex.sources);
      return res;
    }
    const hit = b.matchDomain(item.value);
    if (hit) {
      res.pool = { entry: hit.pool, matched: hit.matched };
      res.verdict = hit.pool.kind;
      refs.push(...hit.pool.sources);
    }
    res.families = b.matchFamilies({ domain: item.value }).map((h) => ({
      id: h.family.id,
      name: h.family.name,
      matched: h.matched,
    }));
    for (const h of b.matchFamilies({ domain: item.value })) refs.push(...h.family.sources);
    if (res.verdict === 'unknown' && res.families.length > 0) res.verdict = 'family';
    if (port !== undefined) {
      const pi = b.portInfo(port);
      if (pi) res.portInfo = pi;
    }
    res.licences = licencesOf(b, refs);
    return res;
  }
  const port = item.port;
  const res: LookupResult = {
    query,
    type: 'ip',
    host: item.value,
    ...(port !== undefined ? { port } : {}),
    verdict: 'unknown',
    families: [],
    licences: [],
  };
  const hit = b.matchEndpoint(item.value, port);
  if (hit) {
    res.endpoint = { entry: hit.endpoint, portMatched: hit.portMatched };
    res.verdict = 'endpoint';
    refs.push(...hit.endpoint.sources);
  }
  const fams = b.matchFamilies({ ip: item.value, ...(port !== undefined ? { port } : {}) });
  res.families = fams.map((h) => ({ id: h.family.id, name: h.family.name, matched: h.matched }));
  for (const h of fams) refs.push(...h.family.sources);
  if (res.verdict === 'unknown' && fams.length > 0) res.verdict = 'family';
  if (port !== undefined) {
    const pi = b.portInfo(port);
    if (pi) res.portInfo = pi;
  }
  res.licences = licencesOf(b, refs);
  return res;
}

let builtinCache: (IntelFiles & { generated: string }) | undefined;

/** The built-in files, read and validated once per process. */
export function builtinIntelFiles(): IntelFiles & { generated: string } {
  builtinCache ??= readIntelFiles(BUILTIN_DATA_DIR);
  return builtinCache;
}

/**
 * Sync. userDir null = built-in only; undefined = the default user dir (MINEWATCH_HOME/intel, else
 * $XDG_CONFIG_HOME/minewatch/intel, else ~/.config/minewatch/intel). The built-in files are read and
 * validated once per process.
 */
export function loadIntel(opts: { userDir?: string | null; dataDir?: string } = {}): IntelBase {
  const files = opts.dataDir !== undefined ? readIntelFiles(opts.dataDir) : builtinIntelFiles();
  const userDir = opts.userDir === undefined ? defaultUserIntelDir() : opts.userDir;
  const user = userDir === null ? [] : readUserDir(userDir, new ExclusionIndex(files.exclusions));
  return buildIntel(files, user);
}

export { IntelFormatError };
