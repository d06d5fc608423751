/**
 * Matchers over intel entries. Domains: one Map lookup per label of the queried name, walking from the
 * full name up to its parents, so the cost depends on the query's depth, never on the number of entries.
 */
import { normalizeDomain, normalizeIp } from './names.ts';
import type { EndpointEntry, ExclusionEntry, PoolEntry } from './schema.ts';

export interface DomainHit<T> {
  value: T;
  /** The suffix of the query that matched (an entry's key). */
  matched: string;
}

/** Suffix index: a key matches itself and any name below it, label-aligned. */
export class SuffixIndex<T> {
  readonly #map = new Map<string, T>();

  get size(): number {
    return this.#map.size;
  }

  set(key: string, value: T): void {
    this.#map.set(key, value);
  }

  get(key: string): T | undefined {
    return this.#map.get(key);
  }

  has(key: string): boolean {
    return this.#map.has(key);
  }

  values(): IterableIterator<T> {
    return this.#map.values();
  }

  /** Most specific match: the longest key that equals the name or is a parent of it. Name must be normalised. */
  lookup(name: string): DomainHit<T> | undefined {
    let s = name;
    for (;;) {
      const v = this.#map.get(s);
      if (v !== undefined) return { value: v, matched: s };
      const dot = s.indexOf('.');
      if (dot < 0) return undefined;
      s = s.slice(dot + 1);
    }
  }
}

/** Exclusions: `subtree` entries cover the name and everything below; `exact` ones only the name itself. */
export class ExclusionIndex {
  readonly subtree = new Map<string, ExclusionEntry>();
  readonly exact = new Map<string, ExclusionEntry>();

  constructor(entries: readonly ExclusionEntry[]) {
    for (const e of entries) {
      if (e.scope === 'subtree') this.subtree.set(e.domain, e);
      else this.exact.set(e.domain, e);
    }
  }

  /** The exclusion covering a normalised name, if any. */
  find(name: string): ExclusionEntry | undefined {
    const x = this.exact.get(name);
    if (x) return x;
    let s = name;
    for (;;) {
      const e = this.subtree.get(s);
      if (e) return e;
      const dot = s.indexOf('.');
      if (dot < 0) return undefined;
      s = s.slice(dot + 1);
    }
  }

  /** Zones where every subdomain belongs to a different party (dynamic DNS, shared hosting). */
  sharedZones(): Set<string> {
    return new Set([...this.exact.values()].filter((e) => e.category === 'shared-dns').map((e) => e.domain));
  }
}

export class PoolMatcher {
  /** Pool hosts → entry, subtree exclusions → null: one Map lookup per label decides. */
  readonly #keys = new Map<string, PoolEntry | null>();
  readonly #exact: Map<string, ExclusionEntry>;
  #size = 0;

  constructor(pools: readonly PoolEntry[], exclusions: ExclusionIndex) {
    // Pools under an exclusion are left out, so the first (most specific) key found on the walk up
    // decides, and a pool can never sit below its own exclusion.
    for (const p of pools) {
      if (exclusions.find(p.host)) continue;
      if (!this.#keys.has(p.host)) this.#size++;
      this.#keys.set(p.host, p);
    }
    for (const d of exclusions.subtree.keys()) this.#keys.set(d, null);
    this.#exact = exclusions.exact;
  }

  get size(): number {
    return this.#size;
  }

  /** Walks from the full name up its parents; the first pool or exclusion found decides. */
  match(name: string): { pool: PoolEntry; matched: string } | undefined {
    const n = normalizeDomain(name);
    if (n.length === 0 || this.#exact.has(n)) return undefined;
    let s = n;
    for (;;) {
      const p = this.#keys.get(s);
      // null: an exclusion. Exclusions win: an exchange never becomes a pool.
      if (p !== undefined) return p === null ? undefined : { pool: p, matched: s };
      const dot = s.indexOf('.');
      if (dot < 0) return undefined;
      s = s.slice(dot + 1);
    }
  }
}

export class EndpointMatcher {
  readonly #byIp = new Map<string, EndpointEntry[]>();

  constructor(endpoints: readonly EndpointEntry[]) {
    for (const e of endpoints) {
      const list = this.#byIp.get(e.ip);
      if (list) list.push(e);
      else this.#byIp.set(e.ip, [e]);
    }
  }

  /**
   * An entry for the IP; with a port, the entry for that exact ip:port is preferred (portMatched true),
   * else any entry for the IP is returned with portMatched false: same host, other service.
   */
  match(ip: string, port?: number): { endpoint: EndpointEntry; portMatched: boolean } | undefined {
    const key = normalizeIp(ip);
    if (!key) return undefined;
    const list = this.#byIp.get(key);
    if (!list || list.length === 0) return undefined;
    if (port !== undefined) {
      for (const e of list) if (e.port === port) return { endpoint: e, portMatched: true };
    }
    // Prefer a bare-IP entry (the whole host was listed) over one for another port.
    const bare = list.find((e) => e.port === undefined);
    return { endpoint: bare ?? list[0]!, portMatched: false };
  }
}
