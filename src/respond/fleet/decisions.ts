/**
 * The fleet's block decisions, pure: what should be blocked (active intel pools, plus the pools the fleet's
 * own findings saw at confidence >= 0.8, minus the admin's exceptions), each with its reason and source; and
 * the versioned book of them that agents pull as a stream, as CrowdSec bouncers pull `decisions/stream`:
 * everything at start, then what was added and removed since the version they hold.
 */
import { parseFindings } from '../../intel/formats.ts';
import { isDomain, normalizeDomain, normalizeIp } from '../../intel/names.ts';
import type { Selection } from '../blocklist/select.ts';

export type DecisionType = 'ip' | 'domain';

export interface Decision {
  type: DecisionType;
  /** An address (normalised) or a domain name (lower case). */
  value: string;
  origin: 'intel' | 'fleet';
  reason: string;
  /** For fleet decisions: the finding that saw the pool first. */
  source?: { host: string; finding: string; rule: string; time: string; pool?: string };
  /** The version that added it. */
  added: number;
  /** The version that removed it (a tombstone, kept so a stream since an older version learns of it). */
  removed?: number;
}

export interface Exception {
  /** An address, or a domain (which also covers its subdomains and addresses seen for them). */
  value: string;
  reason: string;
  by: string;
  time: string;
}

export function decisionKey(d: Pick<Decision, 'type' | 'value'>): string {
  return `${d.type}:${d.value}`;
}

/**
 * Addresses a fleet finding never turns into a block: private, shared (CGNAT), loopback, link-local (cloud
 * metadata at 169.254.169.254), multicast and reserved space, IPv6 unique-local and link-local. A mining proxy
 * inside the network is found and cleaned on its host, not firewalled fleet-wide, and a forged finding (any
 * agent token can send one) cannot cut hosts off from their own network. Intel entries are public by curation.
 */
export function internalAddress(ip: string): boolean {
  if (ip.includes(':')) return /^(?:::1?$|f[cd]|fe[89ab]|ff|::ffff:)/i.test(ip);
  const [a = 0, b = 0] = ip.split('.').map(Number);
  return (
    a === 0 ||
    a === 10 ||
    a === 127 ||
    a >= 224 ||
    (a === 100 && b >= 64 && b <= 127) ||
    (a === 169 && b === 254) ||
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168)
  );
}

/** A finding as stored, with where it came from. */
export interface FleetFinding {
  host: string;
  time: string;
  finding: Record<string, unknown>;
}

type Wanted = Omit<Decision, 'added' | 'removed'>;

/** Pure: what the fleet should block now. */
export function desiredDecisions(
  intel: Pick<Selection, 'names' | 'ipv4' | 'ipv6' | 'pools' | 'endpoints'> | null,
  findings: readonly FleetFinding[],
  exceptions: readonly Exception[],
): Map<string, Wanted> {
  const out = new Map<string, Wanted>();
  const put = (w: Wanted) => {
    const k = decisionKey(w);
    if (!out.has(k)) out.set(k, w);
  };
  if (intel) {
    for (const n of intel.names)
      put({ type: 'domain', value: n, origin: 'intel', reason: `intel: pool ${n}` });
    const poolOf = new Map(intel.endpoints.map((e) => [normalizeIp(e.ip) ?? e.ip, e.pool]));
    for (const ip of [...intel.ipv4, ...intel.ipv6])
      put({
        type: 'ip',
        value: ip,
        origin: 'intel',
        reason: `intel: address of ${poolOf.get(ip) ?? 'a listed pool'}`,
      });
  }
  // parseFindings applies the same rules as `intel import` of findings: confidence >= 0.8, and a proxied
  // connection's pool is the target the proxy was asked for, never the proxy.
  const sorted = [...findings].sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
  const items = parseFindings(JSON.stringify(sorted.map((f) => f.finding)), 'fleet findings');
  for (const it of items) {
    const src = sorted[it.line - 1]!;
    const f = src.finding;
    const pool = f.pool as { host?: unknown } | undefined;
    const poolName = typeof pool?.host === 'string' ? pool.host : undefined;
    const rule = typeof f.rule === 'string' ? f.rule : '?';
    if (it.type !== 'ip' && it.type !== 'domain') continue;
    const value = it.type === 'ip' ? normalizeIp(it.value) : normalizeDomain(it.value);
    if (!value || (it.type === 'ip' && internalAddress(value))) continue;
    put({
      type: it.type,
      value,
      origin: 'fleet',
      reason: `seen by ${src.host}: ${rule}${typeof f.title === 'string' ? ` (${f.title.slice(0, 120)})` : ''}`,
      source: {
        host: src.host,
        finding: typeof f.id === 'string' ? f.id : '',
        rule,
        time: src.time,
        ...(poolName ? { pool: poolName } : {}),
      },
    });
  }
  for (const [k, w] of out) if (exceptions.some((e) => excepts(e.value, w))) out.delete(k);
  return out;
}

/** Whether an exception covers a decision: the same value, a name below an excepted domain, or an address
 * the fleet saw for an excepted pool name. */
export function excepts(value: string, d: Pick<Decision, 'type' | 'value' | 'source'>): boolean {
  const v = value.toLowerCase();
  if (d.value === v) return true;
  if (d.type === 'domain') return d.value.endsWith(`.${v}`);
  const ip = normalizeIp(v);
  if (ip) return d.value === ip;
  const pool = d.source?.pool?.toLowerCase().replace(/:\d+$/, '');
  return pool !== undefined && (pool === v || pool.endsWith(`.${v}`));
}

/** Pure: a valid exception value (an address or a domain), normalised, or undefined. */
export function exceptionValue(v: string): string | undefined {
  const s = v.trim().toLowerCase();
  const ip = normalizeIp(s);
  if (ip) return ip;
  const d = normalizeDomain(s);
  return isDomain(d) ? d : undefined;
}

export interface StreamAnswer {
  /** The version this answer brings the agent to. */
  version: number;
  /** true: `new` is the whole set; replace what you hold. */
  full: boolean;
  new: Decision[];
  deleted: Decision[];
}

/**
 * The versioned book: live decisions and tombstones. `update` moves it to a new version with whatever
 * changed; `stream` answers an agent holding version `since` (undefined: startup).
 */
export class DecisionBook {
  version = 0;
  /** Versions at or below this have lost tombstones: an agent that old gets the full set. */
  floor = 0;
  private readonly byKey = new Map<string, Decision>();

  constructor(
    records: Iterable<Decision> = [],
    meta: { version?: number; floor?: number } = {},
    private readonly maxTombstones = 50_000,
  ) {
    for (const d of records) {
      this.byKey.set(decisionKey(d), d);
      this.version = Math.max(this.version, d.added, d.removed ?? 0);
    }
    this.version = Math.max(this.version, meta.version ?? 0);
    this.floor = meta.floor ?? 0;
  }

  active(): Decision[] {
    return [...this.byKey.values()].filter((d) => d.removed === undefined);
  }

  get(type: DecisionType, value: string): Decision | undefined {
    return this.byKey.get(decisionKey({ type, value }));
  }

  /** Brings the book to `wanted`; returns the records that changed (to persist), empty when nothing did. */
  update(wanted: Map<string, Wanted>): Decision[] {
    const v = this.version + 1;
    const changed: Decision[] = [];
    for (const [k, w] of wanted) {
      const had = this.byKey.get(k);
      if (had && had.removed === undefined) continue;
      const d: Decision = { ...w, added: v };
      this.byKey.set(k, d);
      changed.push(d);
    }
    for (const [k, d] of this.byKey) {
      if (d.removed !== undefined || wanted.has(k)) continue;
      const gone: Decision = { ...d, removed: v };
      this.byKey.set(k, gone);
      changed.push(gone);
    }
    if (changed.length) this.version = v;
    this.prune();
    return changed;
  }

  /** Drops the oldest tombstones beyond the bound; agents older than them get a full answer. */
  private prune(): void {
    const dead = [...this.byKey.values()].filter((d) => d.removed !== undefined);
    if (dead.length <= this.maxTombstones) return;
    dead.sort((a, b) => a.removed! - b.removed!);
    for (const d of dead.slice(0, dead.length - this.maxTombstones)) {
      this.byKey.delete(decisionKey(d));
      this.floor = Math.max(this.floor, d.removed!);
    }
  }

  stream(since?: number): StreamAnswer {
    if (since === undefined || since < this.floor || since > this.version)
      return { version: this.version, full: true, new: this.active(), deleted: [] };
    const neu: Decision[] = [];
    const deleted: Decision[] = [];
    for (const d of this.byKey.values()) {
      if (d.removed === undefined) {
        if (d.added > since) neu.push(d);
      } else if (d.removed > since && d.added <= since) deleted.push(d);
    }
    return { version: this.version, full: false, new: neu, deleted };
  }
}
