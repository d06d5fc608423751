/**
 * Pure: the rows both engines' queries return, turned into the Store's answers. The SQL differs per engine;
 * what a row means does not, so it is read in one place (and ClickHouse no longer loads DuckDB's native
 * addon to reach these).
 */
import { SEVERITY_ORDER, type Severity } from '../findings/index.ts';
import { severityName } from './row.ts';
import type { CampaignRow, HostRow, InstanceRow, RankRow, StoredFinding, TokenRecord } from './types.ts';

type Row = Record<string, unknown>;

/** ISO 8601 of epoch milliseconds. */
export function iso(ms: unknown): string {
  return new Date(Number(ms)).toISOString();
}

/** A query's row limit: the default when unset, else 1 to 1,000,000. */
export function limitOf(n: number | undefined, dflt: number): number {
  if (n === undefined || !Number.isFinite(n)) return dflt;
  return Math.max(1, Math.min(Math.floor(n), 1_000_000));
}

/** The stored sev number of a severity name; throws on an unknown name (callers answer 400). */
export function minSev(name: string): number {
  const n = SEVERITY_ORDER[name.toLowerCase() as Severity];
  if (n === undefined) throw new RangeError(`unknown severity '${name}'`);
  return n;
}

/** Columns: key, events, hosts, bytes, first_ts, last_ts. */
export function rankRow(r: Row): RankRow {
  return {
    key: String(r.key),
    events: Number(r.events),
    hosts: Number(r.hosts),
    bytes: Number(r.bytes),
    first: iso(r.first_ts),
    last: iso(r.last_ts),
  };
}

/** Columns: host, exe, sha256, fam (the family), first_ts, last_ts, events. */
export function instanceRow(r: Row): InstanceRow {
  return {
    host: String(r.host),
    exe: String(r.exe),
    sha256: String(r.sha256),
    family: String(r.fam),
    first: iso(r.first_ts),
    last: iso(r.last_ts),
    events: Number(r.events),
  };
}

/** Columns: key, hosts, host_list, events, first_ts, last_ts. */
export function campaignRow(r: Row): CampaignRow {
  return {
    key: String(r.key),
    hosts: Number(r.hosts),
    host_list: (r.host_list as unknown[]).map(String),
    events: Number(r.events),
    first: iso(r.first_ts),
    last: iso(r.last_ts),
  };
}

/** Columns: id, ts, host, source, data (the finding event's JSON). */
export function storedFinding(r: Row): StoredFinding {
  return {
    id: String(r.id),
    time: iso(r.ts),
    host: String(r.host),
    source: String(r.source),
    finding: (JSON.parse(String(r.data)) as { finding: Record<string, unknown> }).finding,
  };
}

/** Columns: host, first_ts, last_ts, events, findings, sev; the latest heartbeat's JSON, if any. */
export function hostRow(r: Row, heartbeat: string | undefined): HostRow {
  let inventory: Record<string, unknown> | null = null;
  if (heartbeat) {
    const { id: _id, type: _t, host: _h, ...rest } = JSON.parse(heartbeat) as Record<string, unknown>;
    inventory = rest;
  }
  const sev = Number(r.sev);
  return {
    host: String(r.host),
    first: iso(r.first_ts),
    last: iso(r.last_ts),
    events: Number(r.events),
    findings: Number(r.findings),
    max_severity: sev >= 0 ? severityName(sev) : null,
    inventory,
  };
}

export function tokenRow(r: Row): TokenRecord {
  return {
    id: String(r.id),
    name: String(r.name),
    admin: r.admin === true || Number(r.admin) === 1,
    hash: String(r.hash),
    created: String(r.created),
    revoked: r.revoked === true || Number(r.revoked) === 1,
    ...(typeof r.host === 'string' && r.host ? { host: r.host } : {}),
  };
}

/** Pure: how many rows of a page to send, given their sizes: up to `maxBytes`, and at least one. */
export function pageCut(sizes: readonly number[], maxBytes: number): number {
  let total = 0;
  for (let i = 0; i < sizes.length; i++) {
    total += sizes[i]!;
    if (total > maxBytes) return Math.max(1, i);
  }
  return sizes.length;
}
