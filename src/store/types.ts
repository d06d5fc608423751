/**
 * The Store: one interface, two engines (embedded DuckDB file, ClickHouse for fleets). Ingest is idempotent by
 * (host, event id); queries are the aggregations the fleet analytics and the dashboard need.
 */
import type { MinewatchEvent } from '../findings/index.ts';

export type Engine = 'duckdb' | 'clickhouse';

/** The columns every event is stored with, beside its JSON; filled by the pure `toRow`. */
export interface EventRow {
  id: string;
  /** Epoch milliseconds. */
  ts: number;
  /** YYYY-MM-DD (UTC) of ts. */
  day: string;
  host: string;
  type: string;
  /** Who sent it: the agent token's name, `import:<file>`, `demo`. */
  source: string;
  rule: string;
  /** 0 none/info .. 4 critical (SEVERITY_ORDER); -1 for events that are not findings. */
  sev: number;
  coin: string;
  pool: string;
  port: number;
  domain: string;
  dst_ip: string;
  family: string;
  exe: string;
  sha256: string;
  wallet: string;
  account: string;
  dropper: string;
  bytes: number;
  /** The whole event as JSON (what `events()` and `findings()` give back). */
  data: string;
}

export interface IngestResult {
  /** Newly stored events. */
  accepted: number;
  /** Events already stored (same host and id): a retried batch. */
  duplicates: number;
}

export interface IngestOptions {
  /** Provenance written on every row (token name, `import:<file>`). */
  source?: string;
  /**
   * The JSON text each event was parsed from (same order as the events), stored as its `data` instead of
   * serialising the event again. Only text that `JSON.parse`s to exactly that event; undefined entries are
   * serialised as usual.
   */
  raw?: readonly (string | undefined)[];
}

/** Time range on event time; ISO 8601 strings or epoch ms. `to` is exclusive. */
export interface Range {
  from?: string | number;
  to?: string | number;
}

/** Dimensions the rollup queries group by. */
export type Dim = 'coin' | 'pool' | 'port' | 'family' | 'type' | 'host';
export const DIMS: readonly Dim[] = ['coin', 'pool', 'port', 'family', 'type', 'host'];

export interface RankQuery extends Range {
  /** Only events of this type (e.g. 'connection' for flows). */
  type?: string;
  /** Only rows whose coin is this (e.g. pools of one coin). */
  coin?: string;
  /** Only this host's rows (e.g. the coins one host showed). */
  host?: string;
  /** Only these hosts' rows (a host group); an empty list matches nothing. */
  hosts?: readonly string[];
  /**
   * Only rows that name a pool (a connection an agent or intel attributed to a pool, a finding about one):
   * the fleet's "ports of pool connections", not every flow's port.
   */
  pooled?: boolean;
  /**
   * `series` only: false skips counting distinct hosts per day (every row's `hosts` is 0). A daily count of
   * events (connections per pool) then costs a fraction of the distinct count over ~10M events.
   */
  countHosts?: boolean;
  limit?: number;
}

export interface RankRow {
  key: string;
  events: number;
  hosts: number;
  bytes: number;
  first: string;
  last: string;
}

/** Events of one host under one key of a dimension. */
export interface HostKeyRow {
  host: string;
  key: string;
  events: number;
}

export interface SeriesRow {
  day: string;
  key: string;
  events: number;
  hosts: number;
}

export interface FindingQuery extends Range {
  /** Findings after this one in the order (ts DESC, host, id): the previous page's last. */
  after?: PageCursor;
  host?: string;
  rule?: string;
  coin?: string;
  /** Minimum severity name ('medium'). */
  severity?: string;
  limit?: number;
}

export interface StoredFinding {
  id: string;
  time: string;
  host: string;
  source: string;
  /** The finding as sent (the `finding` field of a finding event). */
  finding: Record<string, unknown>;
}

export interface HostRow {
  host: string;
  first: string;
  last: string;
  events: number;
  findings: number;
  /** Highest finding severity seen, or null. */
  max_severity: string | null;
  /** The latest heartbeat's inventory (hostname, instance_id, cloud, os, cpus, verdict...), if any. */
  inventory: Record<string, unknown> | null;
}

/** A miner instance: one (host, executable, hash) with when it was first and last seen. */
export interface InstanceRow {
  host: string;
  exe: string;
  sha256: string;
  family: string;
  first: string;
  last: string;
  events: number;
}

export type CampaignKey = 'wallet' | 'dropper' | 'account';
export const CAMPAIGN_KEYS: readonly CampaignKey[] = ['wallet', 'dropper', 'account'];

export interface CampaignRow {
  key: string;
  hosts: number;
  /** Up to 100 host names, sorted. */
  host_list: string[];
  events: number;
  first: string;
  last: string;
}

export interface EventQuery extends Range {
  host?: string;
  type?: string;
  limit?: number;
}

/** Where a page of events (or findings) ended: its last row's time, host and id (the page order's key). */
export interface PageCursor {
  ts: number;
  host: string;
  id: string;
}

/** One bounded page of stored events, newest first, ordered by (ts DESC, host, id). */
export interface EventPageQuery extends EventQuery {
  /** Rows after this one (the previous page's last). */
  after?: PageCursor;
  /** Rows of the page at most (1..1000). */
  limit?: number;
  /** The page stops once its rows' JSON reaches this many bytes (at least one row). Default 4 MiB. */
  maxBytes?: number;
}

export interface EventPageRow extends PageCursor {
  /** The event's stored JSON text, sent as it is. */
  data: string;
}

export interface TokenRecord {
  /** Public part of the token, used to look it up. */
  id: string;
  name: string;
  admin: boolean;
  /** sha256 hex of the secret part. */
  hash: string;
  created: string;
  revoked: boolean;
  /**
   * The one host an agent token may send events for: named at creation, or bound on its first use. Unset
   * for admin tokens and agent tokens not used yet.
   */
  host?: string;
}

/** Which tokens to revoke: by name (every active token of that name) or by id (that one), never either. */
export type TokenSelector = { name: string } | { id: string };

export interface Store extends FleetStore {
  readonly engine: Engine;
  /** Where it lives, without credentials. */
  readonly location: string;
  /**
   * Stores events; resolves once they are durable (committed). Concurrent calls are grouped into one commit.
   * Events must already be valid (`validateEvent`); a duplicate (same host and id, already stored or earlier in
   * the same call) is counted, not stored again.
   */
  ingest(events: readonly MinewatchEvent[], opts?: IngestOptions): Promise<IngestResult>;
  /** Events by a dimension with distinct hosts, largest first (by hosts for pool/family/coin, events otherwise). */
  rank(dim: Dim, q?: RankQuery): Promise<RankRow[]>;
  /** Events per (host, key) of a dimension (which coins each host showed, in one query), by host then key. */
  hostKeys(dim: Dim, q?: RankQuery): Promise<HostKeyRow[]>;
  /** Daily counts per key of a dimension. */
  series(dim: Dim, q?: RankQuery): Promise<SeriesRow[]>;
  /** First and last sight of each (host, exe, sha256) from process events and findings. */
  instances(q?: Range & { host?: string; limit?: number }): Promise<InstanceRow[]>;
  /** Hosts sharing a wallet, dropper URL or pool account. */
  campaigns(by: CampaignKey, q?: Range & { limit?: number }): Promise<CampaignRow[]>;
  findings(q?: FindingQuery): Promise<StoredFinding[]>;
  /** Hosts by name; `after`: the hosts after this name (the previous page's last). */
  hosts(q?: { limit?: number; after?: string }): Promise<HostRow[]>;
  /** Raw events, newest first (export, tests). */
  events(q?: EventQuery): Promise<MinewatchEvent[]>;
  /**
   * A bounded page of raw events as stored text (the HTTP API streams them out as they are); `more`: rows may
   * follow the last one (ask again with it as `after`).
   */
  eventPage(q: EventPageQuery): Promise<{ rows: EventPageRow[]; more: boolean }>;
  count(q?: EventQuery): Promise<number>;
  /** Agent and admin tokens. */
  putToken(t: TokenRecord): Promise<void>;
  getToken(id: string): Promise<TokenRecord | null>;
  listTokens(): Promise<TokenRecord[]>;
  revokeToken(which: TokenSelector): Promise<number>;
  close(): Promise<void>;
}

// ---------- fleet response: decisions, approvals, agent reports, audit (issue 17) ----------

/**
 * One piece of fleet-response state (a block decision, an exception, an approval, an agent's report), by kind
 * and id. The newest version of a (kind, id) wins; `data: null` is a deletion.
 */
export interface FleetRecord {
  kind: string;
  id: string;
  /** Larger wins; callers use a counter or epoch ms. */
  version: number;
  data: Record<string, unknown> | null;
}

/** One line of the audit log: who did what to which host, and the details. Append-only. */
export interface AuditEntry {
  id: string;
  /** ISO 8601. */
  time: string;
  /** Token or session name ('admin', 'ops-alice') or the agent's host for results. */
  actor: string;
  /** 'approve', 'cancel', 'result', 'exception-add', 'exception-remove', 'restore-request', ... */
  action: string;
  host: string;
  /** What it is about: an approval id, a decision value, a journal id. */
  subject: string;
  detail: Record<string, unknown>;
}

export interface AuditQuery extends Range {
  host?: string;
  action?: string;
  limit?: number;
}

/** What the fleet-response modules need from a store (both engines implement it beside `Store`). */
export interface FleetStore {
  putFleetRecords(recs: readonly FleetRecord[]): Promise<void>;
  /** Live (not deleted) records of a kind, newest version of each id, by id. */
  fleetRecords(kind: string, q?: { id?: string }): Promise<FleetRecord[]>;
  appendAudit(entries: readonly AuditEntry[]): Promise<void>;
  /** Newest first. */
  audit(q?: AuditQuery): Promise<AuditEntry[]>;
}
