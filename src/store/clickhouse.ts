/**
 * The distributed engine: ClickHouse, for fleets that outgrow one machine. Any number of stateless
 * `minewatch serve` replicas write to the same database. Works on Debian's 18.16 and current releases, so it
 * uses none of: query parameters, LowCardinality, TTL, DateTime64, newer settings. Every value in a query is a
 * literal from `sql.ts` (escaped, tested against injection); rows go in as one TabSeparated stream per group.
 *
 * Dedup of retried batches: before inserting, the group's (host, id) pairs are looked up inside the group's
 * time window (the sorting key starts with host, ts, so this reads a few granules); only new events are
 * inserted. That catches every sequential retry, which is what an agent does (it waits for the answer or its
 * timeout before trying again). Two replicas inserting the same event at the same instant can still both pass
 * the check, so the table is a ReplacingMergeTree on (host, ts, id): merges fold such a pair into one row.
 * We chose this over `FINAL`/argMax in every query because those make each fleet query pay for a race that is
 * rare and self-healing; distinct-host counts are exact regardless, event counts may be one high until a merge.
 *
 * Durability: an acknowledged batch is one ClickHouse INSERT that returned; ClickHouse writes the part before
 * answering (use replicated tables for power-loss safety, as ClickHouse itself recommends).
 */

import { Readable } from 'node:stream';
import { type ClickHouseClient, createClient } from '@clickhouse/client';
import type { MinewatchEvent } from '../findings/index.ts';
import {
  campaignRow,
  hostRow,
  instanceRow,
  limitOf,
  minSev,
  pageCut,
  rankRow,
  storedFinding,
  tokenRow,
} from './answers.ts';
import { isUnreachable, StoreUnavailableError } from './errors.ts';
import { auditBounds, auditRow, checkAudit, checkFleetRecord, fleetRecordRow } from './fleet-rows.ts';
import { GroupCommitter, type GroupRows, groupRows, type Submission } from './group.ts';
import { boundMs } from './row.ts';
import { chIdent, chInt, chString, chStringList, tsvField, tsvUnescape } from './sql.ts';
import type {
  AuditEntry,
  AuditQuery,
  CampaignKey,
  CampaignRow,
  Dim,
  EventPageQuery,
  EventPageRow,
  EventQuery,
  FindingQuery,
  FleetRecord,
  HostKeyRow,
  HostRow,
  IngestOptions,
  IngestResult,
  InstanceRow,
  PageCursor,
  Range,
  RankQuery,
  RankRow,
  SeriesRow,
  Store,
  StoredFinding,
  TokenRecord,
  TokenSelector,
} from './types.ts';

export interface ClickHouseTarget {
  /** http(s)://host:port for the client. */
  url: string;
  database: string;
  username: string;
  password: string;
  /** The URL without credentials, for messages. */
  display: string;
}

/** Parses `clickhouse://[user[:password]@]host[:port][/database][?secure=1]` (default port 8123, 8443 secure). */
export function parseClickHouseUrl(raw: string): ClickHouseTarget {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new Error(`not a valid ClickHouse URL: ${raw.replace(/\/\/[^@/]*@/, '//***@')}`);
  }
  if (u.protocol !== 'clickhouse:' && u.protocol !== 'clickhouses:')
    throw new Error(`not a clickhouse:// URL: ${u.protocol}`);
  const secure = u.protocol === 'clickhouses:' || ['1', 'true'].includes(u.searchParams.get('secure') ?? '');
  const port = u.port || (secure ? '8443' : '8123');
  const database = chIdent(decodeURIComponent(u.pathname.replace(/^\//, '')) || 'default');
  return {
    url: `${secure ? 'https' : 'http'}://${u.hostname}:${port}`,
    database,
    username: decodeURIComponent(u.username) || 'default',
    password: decodeURIComponent(u.password),
    display: `clickhouse://${u.hostname}:${port}/${database}`,
  };
}

const DIM_SQL: Record<Dim, string> = {
  coin: 'coin',
  pool: 'pool',
  port: 'toString(port)',
  family: 'family',
  type: 'type',
  host: 'host',
};
const DIM_NONEMPTY: Record<Dim, string> = {
  coin: "coin != ''",
  pool: "pool != ''",
  port: 'port != 0',
  family: "family != ''",
  type: '1',
  host: '1',
};
const CAMPAIGN_COLUMN: Record<CampaignKey, string> = {
  wallet: 'wallet',
  dropper: 'dropper',
  account: 'account',
};

/** How long a ClickHouse commit group waits for more submissions (see the constructor). */
const LINGER_MS = 15;

/** A dedup lookup that takes longer fails the group (its submitters retry) rather than hang ingest. */
const LOOKUP_TIMEOUT_MS = 120_000;

/** A network failure as StoreUnavailableError (503 and a retry, not a 500); any other error as it is. */
function unavailable(err: unknown, where: string): unknown {
  if (err instanceof StoreUnavailableError || !isUnreachable(err)) return err;
  return new StoreUnavailableError(`ClickHouse at ${where} is unreachable: ${(err as Error).message}`);
}

/** Rows after a page cursor in the order (ts DESC, host, id). */
function afterSql(c: PageCursor): string {
  const ts = chInt(c.ts);
  return `(ts < ${ts} OR (ts = ${ts} AND (host > ${chString(c.host)} OR (host = ${chString(c.host)} AND id > ${chString(c.id)}))))`;
}

/** Rows up to and including a page cursor in the same order. */
function upToSql(c: PageCursor): string {
  const ts = chInt(c.ts);
  return `(ts > ${ts} OR (ts = ${ts} AND (host < ${chString(c.host)} OR (host = ${chString(c.host)} AND id <= ${chString(c.id)}))))`;
}

export class ClickHouseStore implements Store {
  readonly engine = 'clickhouse' as const;
  private readonly committer: GroupCommitter;
  private lastVersion = 0;

  private constructor(
    readonly location: string,
    private readonly client: ClickHouseClient,
    private readonly target: ClickHouseTarget,
  ) {
    // Every INSERT is a new part per partition it touches, and each costs ClickHouse the same whether it
    // holds 1,000 rows or 8,000: a group waits LINGER_MS for the submissions of other clients to join it
    // (HTTP ingest, 1000-event batches from 8 clients, paired runs: 39k/21k events/s against 25k/17k without).
    this.committer = new GroupCommitter(
      (s) =>
        this.commitGroup(groupRows(s), s).catch((err) => {
          throw unavailable(err, this.location);
        }),
      undefined,
      undefined,
      LINGER_MS,
    );
  }

  static async open(raw: string): Promise<ClickHouseStore> {
    const t = parseClickHouseUrl(raw);
    const admin = createClient({ url: t.url, username: t.username, password: t.password });
    try {
      const ping = await admin.ping();
      if (!ping.success)
        throw new Error(`ClickHouse at ${t.display} does not answer: ${String(ping.error?.message)}`);
      await admin.command({ query: `CREATE DATABASE IF NOT EXISTS ${t.database}` });
    } finally {
      await admin.close();
    }
    const client = createClient({
      url: t.url,
      username: t.username,
      password: t.password,
      database: t.database,
    });
    await client.command({
      query: `CREATE TABLE IF NOT EXISTS events (id String, ts UInt64, day Date, host String, type String,
        source String, rule String, sev Int8, coin String, pool String, port UInt16, domain String, dst_ip String,
        family String, exe String, sha256 String, wallet String, account String, dropper String, bytes UInt64,
        data String) ENGINE = ReplacingMergeTree PARTITION BY toYYYYMM(day) ORDER BY (host, ts, id)`,
    });
    await client.command({
      query: `CREATE TABLE IF NOT EXISTS tokens (id String, name String, admin UInt8, hash String, created String,
        revoked UInt8, version UInt64, host String) ENGINE = ReplacingMergeTree(version) ORDER BY id`,
    });
    // Fleet response (issue 17): state by (kind, id), newest version wins; the audit log, append-only.
    await client.command({
      query: `CREATE TABLE IF NOT EXISTS fleet_state (kind String, id String, version UInt64, deleted UInt8,
        data String) ENGINE = ReplacingMergeTree(version) ORDER BY (kind, id)`,
    });
    await client.command({
      query: `CREATE TABLE IF NOT EXISTS audit_log (id String, ts UInt64, actor String, action String, host String,
        subject String, detail String) ENGINE = ReplacingMergeTree ORDER BY (ts, id)`,
    });
    // The host an agent token speaks for, last (TSV rows are positional); tables from before it get it.
    // (18.16 has no ADD COLUMN IF NOT EXISTS.)
    const cols = await client.query({
      query: `SELECT name FROM system.columns WHERE database = ${chString(t.database)} AND table = 'tokens'`,
      format: 'JSONEachRow',
    });
    if (!((await cols.json()) as { name: string }[]).some((c) => c.name === 'host'))
      await client.command({ query: 'ALTER TABLE tokens ADD COLUMN host String' });
    return new ClickHouseStore(t.display, client, t);
  }

  ingest(events: readonly MinewatchEvent[], opts: IngestOptions = {}): Promise<IngestResult> {
    return this.committer.submit(events, opts.source ?? '', opts.raw);
  }

  private async rows(query: string): Promise<Record<string, unknown>[]> {
    try {
      const r = await this.client.query({ query, format: 'JSONEachRow' });
      return (await r.json()) as Record<string, unknown>[];
    } catch (err) {
      throw unavailable(err, this.location);
    }
  }

  /**
   * (host, id) pairs of the group already stored, in one query per group: the group's keys go along as an
   * external table (ClickHouse's HTTP "external data", there since long before 18.16) and are matched in
   * ClickHouse, so only stored duplicates come back. The hosts' IN (subquery)
   * lets the (host, ts, id) sorting key skip to those hosts. Listing ids in the query text instead, 1,000 a
   * query, cost ~15 ms of query overhead each: 70% of a bulk ingest (27k events/s), and an HTTP ingest of
   * 1000-event batches at 20k events/s (`bench/fleet.ts`).
   */
  private async existing(g: GroupRows): Promise<Set<string>> {
    let keys = '';
    for (const r of g.rows) keys += `${tsvField(r.host)}\t${tsvField(r.id)}\n`;
    // Any time: dedup is by (host, id), so an event resent with another time is still the same event. The
    // hosts' IN (subquery) keeps the read to those hosts' granules (the sorting key starts with host).
    const query = `SELECT host, id FROM events WHERE host IN (SELECT host FROM keys)
      AND (host, id) IN (SELECT host, id FROM keys) FORMAT TabSeparated`;
    const form = new FormData();
    form.append('keys', new Blob([keys]), 'keys.tsv');
    const params = new URLSearchParams({
      database: this.target.database,
      keys_structure: 'host String, id String',
      keys_format: 'TabSeparated',
      query,
    });
    const lookup = () =>
      fetch(`${this.target.url}/?${params}`, {
        method: 'POST',
        body: form,
        headers: {
          authorization: `Basic ${Buffer.from(`${this.target.username}:${this.target.password}`).toString('base64')}`,
        },
        signal: AbortSignal.timeout(LOOKUP_TIMEOUT_MS),
      });
    let res: Response;
    try {
      res = await lookup();
    } catch (first) {
      // A keep-alive socket ClickHouse closed (its keep_alive_timeout, 3 s, is shorter than fetch's) fails
      // once; the SELECT is safe to repeat. Twice is an outage.
      if (!isUnreachable(first)) throw first;
      try {
        res = await lookup();
      } catch (err) {
        throw unavailable(err, this.location);
      }
    }
    const text = await res.text();
    if (!res.ok)
      throw new Error(`ClickHouse dedup lookup failed (HTTP ${res.status}): ${text.slice(0, 300)}`);
    const found = new Set<string>();
    for (const line of text.split('\n')) {
      if (!line) continue;
      const tab = line.indexOf('\t');
      found.add(`${tsvUnescape(line.slice(0, tab))}\u0000${tsvUnescape(line.slice(tab + 1))}`);
    }
    return found;
  }

  private async commitGroup(g: GroupRows, subs: readonly Submission[]): Promise<number[]> {
    const fresh = subs.map(() => 0);
    if (!g.rows.length) return fresh;
    const have = await this.existing(g);
    const lines: string[] = [];
    g.rows.forEach((r, i) => {
      if (have.size && have.has(`${r.host}\u0000${r.id}`)) return;
      fresh[g.req[i]!]!++;
      lines.push(
        [
          tsvField(r.id),
          r.ts,
          r.day,
          tsvField(r.host),
          tsvField(r.type),
          tsvField(r.source),
          tsvField(r.rule),
          r.sev,
          tsvField(r.coin),
          tsvField(r.pool),
          r.port,
          tsvField(r.domain),
          tsvField(r.dst_ip),
          tsvField(r.family),
          tsvField(r.exe),
          tsvField(r.sha256),
          tsvField(r.wallet),
          tsvField(r.account),
          tsvField(r.dropper),
          Math.max(0, Math.round(r.bytes)),
          tsvField(r.data),
        ].join('\t'),
      );
    });
    if (lines.length) await this.insertTsv('events', lines);
    return fresh;
  }

  /** One INSERT of TabSeparated lines, streamed in chunks so a big group is never one giant string. */
  private async insertTsv(table: string, lines: string[]): Promise<void> {
    const CHUNK = 5000;
    function* chunks() {
      for (let i = 0; i < lines.length; i += CHUNK)
        yield Buffer.from(`${lines.slice(i, i + CHUNK).join('\n')}\n`);
    }
    await this.client.insert({
      table,
      values: Readable.from(chunks(), { objectMode: false }),
      format: 'TabSeparated',
    });
  }

  /** WHERE terms of a range over event time. */
  private range(q: Range, terms: string[]): void {
    const from = boundMs(q.from, 'from');
    const to = boundMs(q.to, 'to');
    if (from !== undefined) terms.push(`ts >= ${chInt(from)}`);
    if (to !== undefined) terms.push(`ts < ${chInt(to)}`);
  }

  private rankWhere(q: RankQuery, dim: Dim): string {
    const terms = [DIM_NONEMPTY[dim]];
    this.range(q, terms);
    if (q.type) terms.push(`type = ${chString(q.type)}`);
    if (q.coin) terms.push(`coin = ${chString(q.coin.toUpperCase())}`);
    if (q.host) terms.push(`host = ${chString(q.host)}`);
    if (q.hosts) terms.push(q.hosts.length ? `host IN ${chStringList(q.hosts)}` : '0');
    if (q.pooled) terms.push("pool != ''");
    return terms.join(' AND ');
  }

  async rank(dim: Dim, q: RankQuery = {}): Promise<RankRow[]> {
    // Byte totals in Float64: a UInt64 sum wraps silently past 2^64 (Debian's 18.16 has no UInt128); Float64
    // never wraps, is exact up to 2^53 (all a JSON number shows anyway) and agrees with DuckDB's HUGEINT there.
    const order =
      dim === 'port' || dim === 'type' || dim === 'host'
        ? 'events DESC, hosts DESC'
        : 'hosts DESC, events DESC';
    const rows = await this.rows(
      `SELECT k AS key, sum(n) AS events, count() AS hosts, sum(b) AS bytes, min(f) AS first_ts, max(l) AS last_ts
       FROM (SELECT ${DIM_SQL[dim]} AS k, host, count() AS n, sum(toFloat64(bytes)) AS b, min(ts) AS f, max(ts) AS l
             FROM events WHERE ${this.rankWhere(q, dim)} GROUP BY k, host)
       GROUP BY k ORDER BY ${order}, key LIMIT ${chInt(limitOf(q.limit, 1000))}`,
    );
    return rows.map(rankRow);
  }

  async hostKeys(dim: Dim, q: RankQuery = {}): Promise<HostKeyRow[]> {
    const rows = await this.rows(
      `SELECT host, ${DIM_SQL[dim]} AS k, count() AS events FROM events WHERE ${this.rankWhere(q, dim)}
       GROUP BY host, k ORDER BY host, k LIMIT ${chInt(limitOf(q.limit, 1_000_000))}`,
    );
    return rows.map((r) => ({ host: String(r.host), key: String(r.k), events: Number(r.events) }));
  }

  async series(dim: Dim, q: RankQuery = {}): Promise<SeriesRow[]> {
    const hosts = q.countHosts === false ? '0' : 'count()';
    const rows = await this.rows(
      `SELECT d, k, sum(n) AS events, ${hosts} AS hosts
       FROM (SELECT toString(day) AS d, ${DIM_SQL[dim]} AS k, host, count() AS n
             FROM events WHERE ${this.rankWhere(q, dim)} GROUP BY d, k, host)
       GROUP BY d, k ORDER BY d, k LIMIT ${chInt(limitOf(q.limit, 1_000_000))}`,
    );
    return rows.map((r) => ({
      day: String(r.d),
      key: String(r.k),
      events: Number(r.events),
      hosts: Number(r.hosts),
    }));
  }

  async instances(q: Range & { host?: string; limit?: number } = {}): Promise<InstanceRow[]> {
    const terms = ["exe != ''", "(type = 'finding' OR (type = 'process' AND family != ''))"];
    this.range(q, terms);
    if (q.host) terms.push(`host = ${chString(q.host)}`);
    const rows = await this.rows(
      `SELECT host, exe, sha256, max(family) AS fam, min(ts) AS first_ts, max(ts) AS last_ts, count() AS events
       FROM events WHERE ${terms.join(' AND ')} GROUP BY host, exe, sha256 ORDER BY first_ts, host, exe
       LIMIT ${chInt(limitOf(q.limit, 100_000))}`,
    );
    return rows.map(instanceRow);
  }

  async campaigns(by: CampaignKey, q: Range & { limit?: number } = {}): Promise<CampaignRow[]> {
    const col = CAMPAIGN_COLUMN[by];
    const terms = [`${col} != ''`];
    this.range(q, terms);
    const rows = await this.rows(
      `SELECT k AS key, count() AS hosts, arraySlice(arraySort(groupArray(host)), 1, 100) AS host_list,
         sum(n) AS events, min(f) AS first_ts, max(l) AS last_ts
       FROM (SELECT ${col} AS k, host, count() AS n, min(ts) AS f, max(ts) AS l FROM events
             WHERE ${terms.join(' AND ')} GROUP BY k, host)
       GROUP BY k ORDER BY hosts DESC, events DESC, key LIMIT ${chInt(limitOf(q.limit, 1000))}`,
    );
    return rows.map(campaignRow);
  }

  async findings(q: FindingQuery = {}): Promise<StoredFinding[]> {
    const terms = ["type = 'finding'"];
    this.range(q, terms);
    if (q.host) terms.push(`host = ${chString(q.host)}`);
    if (q.rule) terms.push(`rule = ${chString(q.rule)}`);
    if (q.coin) terms.push(`coin = ${chString(q.coin.toUpperCase())}`);
    if (q.severity) terms.push(`sev >= ${chInt(minSev(q.severity))}`);
    if (q.after) terms.push(afterSql(q.after));
    const rows = await this.rows(
      `SELECT id, ts, host, source, data FROM events WHERE ${terms.join(' AND ')}
       ORDER BY ts DESC, host, id LIMIT 1 BY host, id LIMIT ${chInt(limitOf(q.limit, 1000))}`,
    );
    return rows.map(storedFinding);
  }

  async hosts(q: { limit?: number; after?: string } = {}): Promise<HostRow[]> {
    const rows = await this.rows(
      `SELECT host, min(ts) AS first_ts, max(ts) AS last_ts, count() AS events, countIf(type = 'finding') AS findings,
         max(sev) AS sev, argMaxIf(data, ts, type = 'heartbeat') AS beat
       FROM events${q.after !== undefined ? ` WHERE host > ${chString(q.after)}` : ''} GROUP BY host ORDER BY host LIMIT ${chInt(limitOf(q.limit, 100_000))}`,
    );
    return rows.map((r) => hostRow(r, r.beat ? String(r.beat) : undefined));
  }

  private eventWhere(q: EventQuery): string {
    const terms: string[] = [];
    this.range(q, terms);
    if (q.host) terms.push(`host = ${chString(q.host)}`);
    if (q.type) terms.push(`type = ${chString(q.type)}`);
    return terms.length ? ` WHERE ${terms.join(' AND ')}` : '';
  }

  async events(q: EventQuery = {}): Promise<MinewatchEvent[]> {
    const rows = await this.rows(
      `SELECT data FROM events${this.eventWhere(q)} ORDER BY ts DESC, id LIMIT 1 BY host, id
       LIMIT ${chInt(limitOf(q.limit, 10_000))}`,
    );
    return rows.map((r) => JSON.parse(String(r.data)) as MinewatchEvent);
  }

  /** A page in two steps, as DuckDBStore.eventPage: keys and sizes first, then the JSON that fits. */
  async eventPage(q: EventPageQuery): Promise<{ rows: EventPageRow[]; more: boolean }> {
    const limit = Math.max(1, Math.min(q.limit ?? 100, 1000));
    const maxBytes = q.maxBytes ?? 4 << 20;
    const where = this.eventWhere(q);
    const terms = where ? [where.replace(/^ WHERE /, '')] : [];
    if (q.after) terms.push(afterSql(q.after));
    const w = terms.length ? ` WHERE ${terms.join(' AND ')}` : '';
    const keys = await this.rows(
      `SELECT ts, host, id, length(data) AS n FROM events${w} ORDER BY ts DESC, host, id LIMIT 1 BY host, id
       LIMIT ${chInt(limit)}`,
    );
    const take = pageCut(
      keys.map((k) => Number(k.n)),
      maxBytes,
    );
    if (!take) return { rows: [], more: false };
    const last = keys[take - 1]!;
    terms.push(upToSql({ ts: Number(last.ts), host: String(last.host), id: String(last.id) }));
    const rows = await this.rows(
      `SELECT ts, host, id, data FROM events WHERE ${terms.join(' AND ')} ORDER BY ts DESC, host, id
       LIMIT 1 BY host, id LIMIT ${chInt(take)}`,
    );
    return {
      rows: rows.map((r) => ({
        ts: Number(r.ts),
        host: String(r.host),
        id: String(r.id),
        data: String(r.data),
      })),
      more: take < keys.length || keys.length === limit,
    };
  }

  async count(q: EventQuery = {}): Promise<number> {
    const rows = await this.rows(`SELECT count() AS n FROM events${this.eventWhere(q)}`);
    return Number(rows[0]?.n ?? 0);
  }

  async putToken(t: TokenRecord): Promise<void> {
    // Two writes in one millisecond (bind, then revoke): the later must still win.
    this.lastVersion = Math.max(Date.now(), this.lastVersion + 1);
    const line = [
      tsvField(t.id),
      tsvField(t.name),
      t.admin ? 1 : 0,
      tsvField(t.hash),
      tsvField(t.created),
      t.revoked ? 1 : 0,
      this.lastVersion,
      tsvField(t.host ?? ''),
    ].join('\t');
    await this.insertTsv('tokens', [line]);
  }

  private async tokenRows(where: string): Promise<TokenRecord[]> {
    // The newest version of each token row wins (ReplacingMergeTree(version), folded here without FINAL).
    const rows = await this.rows(
      `SELECT id, argMax(name, version) AS name, argMax(admin, version) AS admin, argMax(hash, version) AS hash,
         argMax(created, version) AS created, argMax(revoked, version) AS revoked,
         argMax(host, version) AS host
       FROM tokens${where} GROUP BY id ORDER BY created, id`,
    );
    return rows.map(tokenRow);
  }

  async getToken(id: string): Promise<TokenRecord | null> {
    return (await this.tokenRows(` WHERE id = ${chString(id)}`))[0] ?? null;
  }

  listTokens(): Promise<TokenRecord[]> {
    return this.tokenRows('');
  }

  async revokeToken(which: TokenSelector): Promise<number> {
    const hits = (await this.listTokens()).filter(
      (t) => !t.revoked && ('id' in which ? t.id === which.id : t.name === which.name),
    );
    for (const t of hits) await this.putToken({ ...t, revoked: true });
    return hits.length;
  }

  // ---------- fleet response (issue 17) ----------

  async putFleetRecords(recs: readonly FleetRecord[]): Promise<void> {
    for (const r of recs) checkFleetRecord(r);
    if (!recs.length) return;
    await this.insertTsv(
      'fleet_state',
      recs.map((r) =>
        [
          tsvField(r.kind),
          tsvField(r.id),
          r.version,
          r.data === null ? 1 : 0,
          tsvField(r.data === null ? '' : JSON.stringify(r.data)),
        ].join('\t'),
      ),
    );
  }

  async fleetRecords(kind: string, q: { id?: string } = {}): Promise<FleetRecord[]> {
    // Folded here without FINAL, as tokens are: the row of the highest version of each id wins.
    const rows = await this.rows(
      `SELECT kind, id, max(version) AS v, argMax(deleted, version) AS gone, argMax(data, version) AS d
       FROM fleet_state WHERE kind = ${chString(kind)}${q.id !== undefined ? ` AND id = ${chString(q.id)}` : ''}
       GROUP BY kind, id HAVING gone = 0 ORDER BY id`,
    );
    return rows
      .map((r) => fleetRecordRow({ kind: r.kind, id: r.id, version: r.v, data: r.d }))
      .filter((r): r is FleetRecord => r !== null);
  }

  async appendAudit(entries: readonly AuditEntry[]): Promise<void> {
    const ts = entries.map(checkAudit);
    if (!entries.length) return;
    await this.insertTsv(
      'audit_log',
      entries.map((e, i) =>
        [
          tsvField(e.id),
          ts[i],
          tsvField(e.actor),
          tsvField(e.action),
          tsvField(e.host),
          tsvField(e.subject),
          tsvField(JSON.stringify(e.detail)),
        ].join('\t'),
      ),
    );
  }

  async audit(q: AuditQuery = {}): Promise<AuditEntry[]> {
    const b = auditBounds(q);
    const terms: string[] = [];
    if (b.from !== undefined) terms.push(`ts >= ${chInt(b.from)}`);
    if (b.to !== undefined) terms.push(`ts < ${chInt(b.to)}`);
    if (q.host) terms.push(`host = ${chString(q.host)}`);
    if (q.action) terms.push(`action = ${chString(q.action)}`);
    // A retried insert of the same entry is one line: grouped by id until the table's merges fold it.
    const rows = await this.rows(
      `SELECT id, any(ts) AS t, any(actor) AS a, any(action) AS act, any(host) AS h, any(subject) AS s,
         any(detail) AS d
       FROM audit_log${terms.length ? ` WHERE ${terms.join(' AND ')}` : ''}
       GROUP BY id ORDER BY t DESC, id DESC LIMIT ${b.limit}`,
    );
    return rows.map((r) =>
      auditRow({ id: r.id, ts: r.t, actor: r.a, action: r.act, host: r.h, subject: r.s, detail: r.d }),
    );
  }

  /** Test helper: drops the database this store writes to. */
  async dropDatabase(): Promise<void> {
    const db = this.location.split('/').pop()!;
    await this.client.command({ query: `DROP DATABASE IF EXISTS ${chIdent(db)}` });
  }

  async close(): Promise<void> {
    await this.committer.close();
    await this.client.close();
  }
}
