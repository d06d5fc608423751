/**
 * Detection over telemetry events (what `minewatch import` reads and agents send): events in, findings out,
 * one pass, bounded state.
 *
 * - process and file events go through the host rules (src/detect/host) after adapt.ts turns them into the
 *   host sensors' records, so an imported Sysmon or Falco process is judged exactly as a scanned one;
 * - dns events: a query (or a CNAME in the answer) for a pool host; the pool's answer addresses are
 *   remembered so a later connection to one of them is attributed to the pool by name;
 * - connection events: SNI / HTTP host / DNS name of a pool, a known pool endpoint, a miner's HTTP
 *   User-Agent, and the flow-record behaviour (../flows) when the record has duration and byte counts.
 *   Signals for the same (host, server, port) merge into one finding whose rule is the strongest signal, as
 *   the pcap analyser does, so a Zeek log and a capture of the same traffic read alike;
 * - IDS alerts carried by events (Suricata, Falco) whose signature names mining.
 *
 * Repeats of the same finding (the same miner seen in every agent report, every flow of a session) are
 * counted into one finding with first_seen/last_seen and a few log locations as evidence.
 */
import {
  ATTACK,
  type AttackRef,
  type ConnectionEvent,
  type DnsEvent,
  type Evidence,
  type FileEvent,
  type Finding,
  findingId,
  type MinewatchEvent,
  type ProcessEvent,
  SEVERITY_ORDER,
  type Severity,
} from '../../findings/index.ts';
import type { IntelBase } from '../../intel/index.ts';
import type { ContentMatcher } from '../../sensors/host/types.ts';
import type { SourceRef, TelemetryRecord } from '../../sensors/logs/types.ts';
import { canonicalIpv6 } from '../../sensors/logs/util.ts';
import { authority } from '../../sensors/protocols/proxy.ts';
import { type FlowRecord, FlowRepeats, judgeFlow, MIN_DURATION_SEC } from '../flows/judge.ts';
import { contentMatcher } from '../host/content.ts';
import { detectFiles } from '../host/files.ts';
import { type IntelLike, type IntelView, intelView } from '../host/intel-view.ts';
import { detectProcesses } from '../host/process.ts';
import { NETWORK_SIGNALS, type NetworkSignal } from '../signals.ts';
import { toFileRecord, toProcessRecord } from './adapt.ts';

export interface EventDetectorOptions {
  /** A prebuilt view of the intel (tests, or to share one with other detectors). */
  view?: IntelView;
  /** Log locations kept per finding as evidence. Default 5. */
  maxEvidence?: number;
  /** Bound on remembered state (DNS answers, flow repeat keys, process cache). Default 100,000 each. */
  maxState?: number;
  /**
   * Connections held without a name, waiting for one (a DNS answer read later). Default 50,000 (~25 MB);
   * the oldest go first, so an answer logged more than this many distinct connections later names nothing.
   */
  maxPending?: number;
  /**
   * How far (seconds) before and after a pool name was resolved to an address (DNS answer, SNI, HTTP Host)
   * a connection to that address is attributed to the name; an answer's TTL widens it after. Default 6 h:
   * logs are written at connection end or out of order, and a miner keeps its pool connection for hours.
   */
  nameWindowSec?: number;
}

/** What is known of an address: the pool name it was resolved from, and over which times. */
interface NameFact {
  name: string;
  /** Epoch ms of the first and last sighting of the name for this address. */
  first: number;
  last: number;
  /** Longest TTL an answer gave, seconds (0 when unknown). */
  ttl: number;
  /** How it was learnt, for the finding's reasons. */
  via: 'dns' | 'sni' | 'host';
}

/**
 * A connection no name was known for yet: kept (bounded) so a name learnt later still attributes it. One
 * flat object with what the finding's evidence cites, not the event: a big conn.log holds many of these.
 */
class PendingConn {
  readonly host: string;
  readonly src: string;
  readonly dst: string;
  readonly port: number;
  readonly srcPort: number | undefined;
  readonly proto: string | undefined;
  readonly sensor: string | undefined;
  readonly uid: string | undefined;
  readonly file: string | undefined;
  readonly line: number | undefined;
  readonly format: SourceRef['format'];
  /** Further events of the same (host, address, port), and when (event time text: parsed only if named). */
  more = 0;
  first: string;
  last: string;
  constructor(ev: ConnectionEvent, at: SourceRef) {
    this.host = ev.host;
    this.src = typeof ev.src_ip === 'string' ? ev.src_ip : '';
    this.dst = ev.dst_ip;
    this.port = ev.dst_port;
    this.srcPort = typeof ev.src_port === 'number' ? ev.src_port : undefined;
    this.proto = typeof ev.proto === 'string' ? ev.proto : undefined;
    this.sensor = typeof ev.sensor === 'string' ? ev.sensor : undefined;
    this.uid = typeof ev.uid === 'string' ? ev.uid : undefined;
    this.file = at.file;
    this.line = at.line;
    this.format = at.format;
    this.first = ev.time;
    this.last = ev.time;
  }

  /** The first connection as an event again, for the finding's evidence. */
  event(): ConnectionEvent {
    const e: Record<string, unknown> = {
      time: this.first,
      host: this.host,
      type: 'connection',
      src_ip: this.src,
      dst_ip: this.dst,
      dst_port: this.port,
    };
    if (this.srcPort !== undefined) e.src_port = this.srcPort;
    if (this.proto) e.proto = this.proto;
    if (this.sensor) e.sensor = this.sensor;
    if (this.uid) e.uid = this.uid;
    return e as ConnectionEvent;
  }

  where(): SourceRef {
    const r: SourceRef = {};
    if (this.file) r.file = this.file;
    if (this.line !== undefined) r.line = this.line;
    if (this.format) r.format = this.format;
    return r;
  }
}

export interface EventDetectorStats {
  events: number;
  byType: Record<string, number>;
  findings: number;
}

const SIGNALS = NETWORK_SIGNALS;
type Signal = NetworkSignal;

const MINING_ALERT_RE =
  /coin ?miner|crypto ?(?:currency )?min(?:er|ing)|cryptomin|stratum|xmrig|monero|mining pool|miner checkin|coinhive|nicehash|\bminer\b/i;

interface Agg {
  finding: Finding;
  /** The last log location counted: one line that became two events (Falco) is one sighting. */
  lastWhere: string;
  events: number;
  first: string;
  last: string;
  locations: Set<string>;
}

interface ConnAgg {
  host: string;
  dstIp: string;
  dstPort: number;
  signal: Signal;
  confidence: number;
  severity: Severity;
  reasons: string[];
  pool: NonNullable<Finding['pool']>;
  coin?: string;
  tls?: boolean;
  agent?: string;
  attack: AttackRef[];
  evidence: Evidence[];
  events: number;
  first: string;
  last: string;
  /** Flows judged mining-like, and the reasons of the most convincing one (not one set per flow). */
  flows: number;
  flowScore: number;
  flowReasons: string[];
  extra: Record<string, unknown>;
}

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function maxTime(a: string, b: string): string {
  return Date.parse(b) > Date.parse(a) ? b : a;
}
function minTime(a: string, b: string): string {
  return Date.parse(b) < Date.parse(a) ? b : a;
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function oneCoin(coins: readonly string[] | undefined): string | undefined {
  return coins && coins.length === 1 ? coins[0] : undefined;
}

export class EventDetector {
  readonly stats: EventDetectorStats = { events: 0, byType: {}, findings: 0 };
  private readonly iv: IntelView;
  private readonly matcher: ContentMatcher;
  private readonly maxEvidence: number;
  private readonly maxState: number;
  private readonly agg = new Map<string, Agg>();
  private readonly conns = new Map<string, ConnAgg>();
  /**
   * Address → the pool name a DNS answer (or SNI, HTTP Host, CONNECT) gave it, with when: pool names only, so
   * it stays small. Applied to connections before and after it within the window, whatever the order read.
   */
  private readonly poolAddr = new Map<string, NameFact>();
  /** (host|address|port) → a connection no name was known for when read (bounded: oldest go first). */
  private readonly pending = new Map<string, PendingConn>();
  private readonly windowMs: number;
  private readonly maxPending: number;
  /** Coin symbol → its name as one lowercase word ('zcash'), to read a coin out of a pool host's labels. */
  private readonly coinNames = new Map<string, string>();
  private readonly repeats: FlowRepeats;
  /** Command lines the process rules found nothing in: the common case, judged once. */
  private readonly benignProc = new Set<string>();
  private readonly uaRe: RegExp | undefined;

  constructor(
    private readonly intel: IntelBase,
    opts: EventDetectorOptions = {},
  ) {
    this.iv = opts.view ?? intelView(intel as unknown as IntelLike);
    this.matcher = contentMatcher(this.iv);
    this.maxEvidence = opts.maxEvidence ?? 5;
    this.maxState = opts.maxState ?? 100_000;
    this.windowMs = (opts.nameWindowSec ?? 6 * 3600) * 1000;
    this.maxPending = opts.maxPending ?? 50_000;
    for (const c of intel.coins ?? []) this.coinNames.set(c.symbol, c.name.toLowerCase().replace(/\s+/g, ''));
    this.repeats = new FlowRepeats(this.maxState);
    const alts: string[] = [];
    for (const m of intel.miners.user_agents) {
      const v = m.match === 'regex' ? m.value : esc(m.value);
      alts.push(m.match === 'prefix' ? `^${v}` : m.match === 'exact' ? `^${v}$` : v);
    }
    try {
      this.uaRe = alts.length ? new RegExp(alts.join('|'), 'i') : undefined;
    } catch {
      this.uaRe = undefined;
    }
  }

  /** A record from readTelemetry: its event with its file and line as evidence; errors are not ours. */
  pushRecord(r: TelemetryRecord): void {
    // The record is its own SourceRef (file, line, format): no object per event.
    if (r.event) this.push(r.event, r);
  }

  push(ev: MinewatchEvent, at: SourceRef = {}): void {
    this.stats.events++;
    this.stats.byType[ev.type] = (this.stats.byType[ev.type] ?? 0) + 1;
    switch (ev.type) {
      case 'process':
        this.onProcess(ev, at);
        break;
      case 'connection':
        this.onConnection(ev, at);
        break;
      case 'dns':
        this.onDns(ev, at);
        break;
      case 'file':
        this.onFile(ev, at);
        break;
      default:
        // findings are already findings; heartbeats are inventory.
        break;
    }
    const alert = (ev as { alert?: unknown }).alert;
    if (alert && typeof alert === 'object') this.onAlert(ev, alert as Record<string, unknown>, at);
  }

  /** Every finding so far, strongest first. Can be called more than once. */
  finish(): Finding[] {
    this.attributeLate();
    this.nameAlerts();
    const out: Finding[] = [];
    for (const a of this.agg.values()) {
      a.finding.first_seen = a.first;
      a.finding.last_seen = a.last;
      a.finding.time = a.first;
      a.finding.events = a.events;
      out.push(a.finding);
    }
    for (const c of this.conns.values()) out.push(this.connFinding(c));
    this.stats.findings = out.length;
    return out.sort(
      (a, b) =>
        SEVERITY_ORDER[b.severity] - SEVERITY_ORDER[a.severity] ||
        a.rule.localeCompare(b.rule) ||
        (a.host ?? '').localeCompare(b.host ?? ''),
    );
  }

  /**
   * The coins a pool host name narrows its pool's to: a multi-coin pool names the coin in a label
   * ('zec-eu1.nanopool.org', 'eu1-zcash.flypool.org', 'xmr.2miners.com'). Unchanged when no label does.
   */
  private coinsOf(name: string, coins: readonly string[]): readonly string[] {
    if (coins.length <= 1) return coins;
    const labels = new Set(name.toLowerCase().split(/[.-]/));
    const hit = coins.filter((sym) => {
      if (labels.has(sym.toLowerCase())) return true;
      const full = this.coinNames.get(sym);
      return full !== undefined && labels.has(full);
    });
    return hit.length === 1 ? hit : coins;
  }

  /** A port pools are known on (intel weight strong or medium). */
  private poolPort(port: number): boolean {
    const w = this.intel.portInfo(port)?.weight;
    return w === 'strong' || w === 'medium';
  }

  /** The pool name `ip` was resolved from around `t` (epoch ms), if any. */
  private nameAt(ip: string, t: number): NameFact | undefined {
    const f = this.poolAddr.get(ip);
    if (!f) return undefined;
    if (!Number.isFinite(t)) return f;
    return t >= f.first - this.windowMs && t <= f.last + Math.max(this.windowMs, f.ttl * 1000)
      ? f
      : undefined;
  }

  /** Remembers that `ip` is `name` (a pool host in intel) as seen at `t`. */
  private learnName(ip: string, name: string, t: number, via: NameFact['via'], ttl = 0): void {
    const f = this.poolAddr.get(ip);
    if (f && f.name === name) {
      if (Number.isFinite(t)) {
        f.first = Number.isFinite(f.first) ? Math.min(f.first, t) : t;
        f.last = Number.isFinite(f.last) ? Math.max(f.last, t) : t;
      }
      f.ttl = Math.max(f.ttl, ttl);
      return;
    }
    // A name asked for by the client (DNS) is kept over one seen in SNI or a Host header for the same address.
    if (f && f.via === 'dns' && via !== 'dns') return;
    if (!f && this.poolAddr.size >= this.maxState) {
      const oldest = this.poolAddr.keys().next();
      if (!oldest.done) this.poolAddr.delete(oldest.value);
    }
    this.poolAddr.set(ip, { name, first: t, last: t, ttl, via });
  }

  /**
   * Names learnt after a connection was read apply to it too: a connection still waiting (no signal at all)
   * becomes a pool connection, a finding by address alone (behaviour, known endpoint) gets the pool's name,
   * coin and the stronger rule. Its id does not change (connFinding), so a stored one is upgraded in place.
   */
  private attributeLate(): void {
    for (const [key, p] of this.pending) {
      if (!this.poolAddr.has(p.dst)) continue;
      const fact = this.nameAt(p.dst, Date.parse(p.first)) ?? this.nameAt(p.dst, Date.parse(p.last));
      if (!fact) continue;
      this.pending.delete(key);
      this.nameSignal(p.event(), p.where(), fact);
      const c = this.conns.get(key);
      if (c) {
        c.events += p.more;
        c.first = minTime(c.first, p.first);
        c.last = maxTime(c.last, p.last);
      }
    }
    for (const c of this.conns.values()) {
      if (c.pool.host) continue;
      const fact = this.nameAt(c.dstIp, Date.parse(c.first)) ?? this.nameAt(c.dstIp, Date.parse(c.last));
      if (!fact) continue;
      const m = this.intel.matchDomain(fact.name);
      if (SIGNALS.name.rank > SIGNALS[c.signal].rank) c.signal = 'name';
      c.confidence = Math.max(c.confidence, 0.85);
      if (SEVERITY_ORDER.high > SEVERITY_ORDER[c.severity]) c.severity = 'high';
      const r = this.nameReason(c.dstIp, fact);
      if (!c.reasons.includes(r)) c.reasons.unshift(r);
      c.pool.host = fact.name;
      if (m) {
        c.pool.name ??= m.pool.name;
        c.pool.domain ??= m.pool.host;
        c.coin ??= oneCoin(this.coinsOf(fact.name, m.pool.coins));
      }
    }
  }

  /**
   * Other findings that name a pool by address alone (an IDS alert on the stratum flow) get its name too, so
   * a pool is one pool in the fleet's numbers, not its name and its address.
   */
  private nameAlerts(): void {
    for (const a of this.agg.values()) {
      const p = a.finding.pool;
      if (!p || p.host || typeof p.ip !== 'string') continue;
      const fact = this.nameAt(p.ip, Date.parse(a.first)) ?? this.nameAt(p.ip, Date.parse(a.last));
      if (!fact) continue;
      const m = this.intel.matchDomain(fact.name);
      p.host = fact.name;
      if (m) {
        p.name ??= m.pool.name;
        p.domain ??= m.pool.host;
        a.finding.coin ??= oneCoin(this.coinsOf(fact.name, m.pool.coins));
      }
    }
  }

  private nameReason(ip: string, fact: NameFact): string {
    return fact.via === 'dns'
      ? `${ip} was resolved from the pool host ${fact.name}`
      : `${ip} served the pool host ${fact.name} (${fact.via === 'sni' ? 'TLS SNI' : 'HTTP Host'})`;
  }

  /** The 'name' signal for a connection to an address known as a pool name. */
  private nameSignal(ev: ConnectionEvent, at: SourceRef, fact: NameFact): void {
    const m = this.intel.matchDomain(fact.name);
    this.signal(
      ev,
      at,
      'name',
      0.85,
      [this.nameReason(ev.dst_ip, fact)],
      { host: fact.name, ...(m ? { name: m.pool.name, domain: m.pool.host } : {}) },
      m ? this.coinsOf(fact.name, m.pool.coins) : undefined,
    );
  }

  /** A connection with no name yet: kept so a name learnt later (a DNS answer logged after it) applies. */
  private hold(ev: ConnectionEvent, at: SourceRef, key: string): void {
    const p = this.pending.get(key);
    const time = ev.time;
    if (p) {
      p.more++;
      // Readers write one ISO form, so text order is time order; a mixed file only widens the span less.
      if (time < p.first) p.first = time;
      if (time > p.last) p.last = time;
      return;
    }
    if (this.pending.size >= this.maxPending) {
      // Evict the oldest eighth in one pass: deleting one at a time from the front of a Map makes each
      // lookup of its first key walk the deleted ones (a 300k-flow conn.log took 5x as long).
      let drop = Math.max(1, this.maxPending >> 3);
      for (const k of this.pending.keys()) {
        this.pending.delete(k);
        if (--drop === 0) break;
      }
    }
    this.pending.set(key, new PendingConn(ev, at));
  }

  // ---------- helpers ----------

  private logEvidence(ev: MinewatchEvent, at: SourceRef, kind: Evidence['kind'] = 'log'): Evidence {
    const e: Evidence = { kind };
    if (at.file) e.source = at.file;
    if (at.line !== undefined) e.line = at.line;
    if (at.format) e.format = at.format;
    if (typeof ev.sensor === 'string') e.sensor = ev.sensor;
    e.event_type = ev.type;
    return e;
  }

  private where(at: SourceRef): string {
    return `${at.file ?? ''}:${at.line ?? ''}`;
  }

  /** Adds or counts a finding keyed by its id; `ev` supplies time and the log location. */
  private record(f: Finding, ev: MinewatchEvent, at: SourceRef, logEv = true): Agg {
    const w = this.where(at);
    const a = this.agg.get(f.id);
    if (!a) {
      f.host = ev.host;
      if (logEv && (at.file || at.line !== undefined)) f.evidence.push(this.logEvidence(ev, at));
      const n: Agg = {
        finding: f,
        lastWhere: w,
        events: 1,
        first: ev.time,
        last: ev.time,
        locations: new Set([w]),
      };
      this.agg.set(f.id, n);
      return n;
    }
    if (w !== ':' && a.lastWhere === w) return a;
    a.lastWhere = w;
    a.events++;
    a.first = minTime(a.first, ev.time);
    a.last = maxTime(a.last, ev.time);
    if ((at.file || at.line !== undefined) && a.locations.size < this.maxEvidence && !a.locations.has(w)) {
      a.locations.add(w);
      a.finding.evidence.push(
        this.logEvidence(ev, at, a.finding.evidence[0]?.kind === 'dns' ? 'dns' : 'log'),
      );
    }
    return a;
  }

  /** Host rules key findings by pid or path only: on a fleet the host is part of what the finding is. */
  private hostScoped(f: Finding, host: string): Finding {
    f.id = findingId(f.rule, host, f.id);
    return f;
  }

  // ---------- process and file events: the host rules ----------

  private onProcess(ev: ProcessEvent, at: SourceRef): void {
    if (typeof ev.pid !== 'number') return;
    const key = `${ev.exe ?? ''}\u0000${ev.cmdline ?? ''}\u0000${ev.name ?? ''}`;
    if (this.benignProc.has(key)) return;
    const found = detectProcesses([toProcessRecord(ev)], this.iv);
    if (found.length === 0) {
      if (this.benignProc.size >= this.maxState) this.benignProc.clear();
      this.benignProc.add(key);
      return;
    }
    for (const f of found) {
      if (typeof ev.sha256 === 'string' && f.evidence[0]) f.evidence[0].sha256 = ev.sha256;
      if (typeof ev.user === 'string' && f.evidence[0]) f.evidence[0].user = ev.user;
      this.record(this.hostScoped(f, ev.host), ev, at);
    }
  }

  private onFile(ev: FileEvent, at: SourceRef): void {
    if (typeof ev.path !== 'string' || !ev.path) return;
    const rec = toFileRecord(ev, this.matcher);
    const { findings } = detectFiles([rec], this.iv);
    for (const f of findings) {
      if (typeof ev.sha256 === 'string' && f.evidence[0]) f.evidence[0].sha256 = ev.sha256;
      this.record(this.hostScoped(f, ev.host), ev, at);
    }
  }

  // ---------- dns ----------

  private onDns(ev: DnsEvent, at: SourceRef): void {
    if (typeof ev.query !== 'string') return;
    let hit = this.intel.matchDomain(ev.query);
    let via: string | undefined;
    const answers = Array.isArray(ev.answers) ? ev.answers : [];
    if (!hit) {
      // A CNAME chain can lead to a pool from an innocent-looking name (a campaign's own domain).
      for (const a of answers) {
        if (typeof a !== 'string' || !a.includes('.') || /^[\d.]+$/.test(a) || a.includes(':')) continue;
        const h = this.intel.matchDomain(a);
        if (h) {
          hit = h;
          via = a;
          break;
        }
      }
    }
    if (!hit) return;
    const name = ev.query.toLowerCase().replace(/\.$/, '');
    const t = Date.parse(ev.time);
    const rawTtls = (ev as { ttls?: unknown }).ttls;
    const ttls: unknown[] = Array.isArray(rawTtls) ? rawTtls : [];
    const ttl = Math.max(0, ...ttls.map((x) => (typeof x === 'number' && Number.isFinite(x) ? x : 0)));
    for (const a of answers) {
      if (typeof a !== 'string' || !(/^\d{1,3}(?:\.\d{1,3}){3}$/.test(a) || a.includes(':'))) continue;
      this.learnName(a.includes(':') ? canonicalIpv6(a) : a, via ?? name, t, 'dns', ttl);
    }
    const closed = hit.pool.status === 'closed';
    const evidence: Evidence[] = [];
    const coin = oneCoin(this.coinsOf(via ?? ev.query.toLowerCase(), hit.pool.coins));
    const f: Finding = {
      id: findingId('net.dns.pool-query', ev.host, hit.pool.host),
      rule: 'net.dns.pool-query',
      title: 'DNS lookup of a mining pool',
      severity: 'medium',
      confidence: closed ? 0.6 : 0.75,
      attack: [ATTACK.resourceHijacking, ATTACK.dnsResolution],
      pool: { host: name, name: hit.pool.name, domain: hit.pool.host },
      reasons: [
        `query for ${name}${via ? ` (answered by the pool host ${via})` : ''}, a ${closed ? 'closed ' : ''}${hit.pool.kind === 'pool' ? 'pool' : hit.pool.kind} host (${hit.pool.name}) in intel`,
      ],
      evidence,
    };
    if (coin) f.coin = coin;
    if (typeof ev.exe === 'string') f.exe = ev.exe;
    if (!this.agg.has(f.id)) {
      const e = this.logEvidence(ev, at, 'dns');
      e.query = name;
      if (answers.length) e.answers = answers.slice(0, 8);
      if (typeof ev.pid === 'number') e.pid = ev.pid;
      if (typeof ev.exe === 'string') e.path = ev.exe;
      evidence.push(e);
    }
    this.record(f, ev, at, false);
  }

  // ---------- connections ----------

  private onConnection(event: ConnectionEvent, at: SourceRef): void {
    // A connection through a proxy (HTTP CONNECT, SOCKS) goes to its target: that is the pool, not the proxy.
    const ev = viaProxy(event) ?? event;
    const dst = ev.dst_ip;
    const port = ev.dst_port;
    if (typeof dst !== 'string' || typeof port !== 'number') return;
    const domain = typeof ev.domain === 'string' && ev.domain ? ev.domain : undefined;
    /** What keys this connection: its address, or the name a CONNECT asked for (see `signal`). */
    const to = dst || domain || '';
    const tls = ev.tls === true || (typeof ev.sni === 'string' && !!ev.sni);

    // Pool by name: SNI, HTTP Host, the agent's own resolution or Sysmon's DestinationHostname.
    const byName = domain ? this.intel.matchDomain(domain) : undefined;
    const key = `${ev.host}|${to}|${port}`;
    let fact: NameFact | undefined;
    if (byName && domain) {
      // The address served a pool name: connections to it without a name (conn.log, flows) are that pool's.
      if (dst)
        this.learnName(
          dst,
          domain,
          Date.parse(ev.time),
          typeof ev.sni === 'string' && ev.sni ? 'sni' : 'host',
        );
      const sig: Signal = tls && typeof ev.sni === 'string' ? 'sni' : 'name';
      const closed = byName.pool.status === 'closed';
      this.signal(
        ev,
        at,
        sig,
        closed ? 0.75 : 0.9,
        [
          `${sig === 'sni' ? 'TLS SNI' : 'server name'} ${domain} is a ${closed ? 'closed ' : ''}pool host (${byName.pool.name}) in intel`,
        ],
        { host: domain, name: byName.pool.name, domain: byName.pool.host },
        this.coinsOf(domain, byName.pool.coins),
      );
    } else if (dst) {
      // Parse the time only for an address a pool name is known for (most are not).
      fact = this.poolAddr.has(dst) ? this.nameAt(dst, Date.parse(ev.time)) : undefined;
      if (fact) this.nameSignal(ev, at, fact);
    }

    const ep = this.intel.matchEndpoint(dst, port);
    if (ep) {
      this.signal(
        ev,
        at,
        'endpoint',
        ep.portMatched ? 0.85 : 0.6,
        [`intel lists ${dst}${ep.portMatched ? `:${port}` : ''} as ${ep.endpoint.pool ?? 'a pool endpoint'}`],
        ep.endpoint.pool ? { name: ep.endpoint.pool } : {},
        ep.endpoint.coins,
        ep.portMatched ? 'high' : 'medium',
      );
    }

    const ua = typeof ev.user_agent === 'string' ? ev.user_agent : undefined;
    if (ua && this.uaRe?.test(ua)) {
      this.signal(
        ev,
        at,
        'agent',
        0.9,
        [`HTTP User-Agent '${ua.slice(0, 80)}' is a miner's`],
        {},
        undefined,
        'high',
        ua,
      );
    }

    const duration = num(ev.duration);
    // judgeFlow calls a short or non-TCP flow quiet whatever its context: skip building that context (and
    // the repeat lookup, a Map probe with a fresh key: a third of a Zeek conn.log's detection time).
    if (
      duration !== undefined &&
      duration >= MIN_DURATION_SEC &&
      (typeof ev.proto !== 'string' || ev.proto === '' || ev.proto === 'tcp')
    ) {
      const rec: FlowRecord = { durationSec: duration };
      const bo = num(ev.bytes_out);
      const bi = num(ev.bytes_in);
      if (bo !== undefined) rec.bytesOut = bo;
      if (bi !== undefined) rec.bytesIn = bi;
      const po = num(ev.packets_out);
      const pi = num(ev.packets_in);
      if (po !== undefined) rec.packetsOut = po;
      if (pi !== undefined) rec.packetsIn = pi;
      if (ev.bytes_include_headers === true) rec.bytesIncludeHeaders = true;
      if (ev.one_way === true) rec.oneWay = true;
      if (typeof ev.proto === 'string') rec.proto = ev.proto;
      const key = `${ev.host}|${to}|${port}`;
      const pw = this.intel.portInfo(port)?.weight;
      const pre = judgeFlow(rec, {
        ...(pw ? { portWeight: pw } : {}),
        ...(ep
          ? {
              knownPool: {
                portMatched: ep.portMatched,
                ...(ep.endpoint.pool ? { pool: ep.endpoint.pool } : {}),
              },
            }
          : {}),
        ...((byName && domain) || fact ? { poolName: byName ? domain! : fact!.name } : {}),
        ...this.repeats.peek(key),
      });
      if (pre.shape) this.repeats.add(key, duration);
      if (pre.mining) {
        this.signal(ev, at, 'behaviour', pre.confidence, [], {}, undefined, ep || byName ? 'high' : 'medium');
        const c = this.conns.get(key)!;
        c.flows++;
        if (pre.score > c.flowScore) {
          c.flowScore = pre.score;
          c.flowReasons = pre.reasons;
        }
      }
    }
    // No name for this address yet and no finding for it: a pool name learnt later may still claim it.
    // Only what a pool session can be: TCP (or unknown) to a public address; internal traffic (the resolver,
    // file shares) and UDP/ICMP are most of a log and never a pool.
    if (
      dst &&
      !byName &&
      !fact &&
      (typeof ev.proto !== 'string' || ev.proto === '' || ev.proto === 'tcp') &&
      // A short connection (known duration) to a port no pool is known on is a web request, not a session:
      // most of a conn.log, and holding them cost more than the rest of detection.
      (duration === undefined || duration >= MIN_DURATION_SEC || this.poolPort(port)) &&
      !isInternal(dst) &&
      !this.conns.has(key)
    )
      this.hold(ev, at, key);
  }

  /** Merges one network signal into the (host, server, port) finding. */
  private signal(
    ev: ConnectionEvent,
    at: SourceRef,
    sig: Signal,
    confidence: number,
    reasons: string[],
    pool: NonNullable<Finding['pool']>,
    coins?: readonly string[],
    severity: Severity = SIGNALS[sig].severity,
    agent?: string,
  ): void {
    // A proxied connection to a name has no address: the name keys it (see viaProxy).
    const to = ev.dst_ip || (ev.domain as string);
    const key = `${ev.host}|${to}|${ev.dst_port}`;
    let c = this.conns.get(key);
    if (!c) {
      const proxy = (ev as ProxiedEvent).proxy;
      c = {
        host: ev.host,
        dstIp: to,
        dstPort: ev.dst_port,
        signal: sig,
        confidence,
        severity,
        reasons: [],
        pool: ev.dst_ip ? { ip: ev.dst_ip, port: ev.dst_port } : { port: ev.dst_port },
        attack: proxy ? [ATTACK.resourceHijacking, ATTACK.proxy] : [ATTACK.resourceHijacking],
        evidence: [],
        events: 0,
        first: ev.time,
        last: ev.time,
        flows: 0,
        flowScore: 0,
        flowReasons: [],
        extra: proxy ? { proxy } : {},
      };
      this.conns.set(key, c);
    }
    const w = this.where(at);
    const isNewEvent = c.extra._lastWhere !== w || c.extra._lastTime !== ev.time;
    if (isNewEvent) {
      c.events++;
      c.extra._lastWhere = w;
      c.extra._lastTime = ev.time;
      c.first = minTime(c.first, ev.time);
      c.last = maxTime(c.last, ev.time);
      if (c.evidence.length < this.maxEvidence) {
        const e = this.logEvidence(ev, at, sig === 'behaviour' ? 'flow' : ev.tls ? 'tls' : 'connection');
        e.remote = `${ev.dst_ip}:${ev.dst_port}`;
        if (typeof ev.src_ip === 'string' && ev.src_ip)
          e.local = `${ev.src_ip}${ev.src_port !== undefined ? `:${ev.src_port}` : ''}`;
        if (typeof ev.domain === 'string') e.domain = ev.domain;
        if (typeof ev.pid === 'number') e.pid = ev.pid;
        if (typeof ev.exe === 'string') e.path = ev.exe;
        for (const k of [
          'duration',
          'bytes_out',
          'bytes_in',
          'packets_out',
          'packets_in',
          'uid',
          'ja3',
        ] as const)
          if (ev[k] !== undefined) e[k] = ev[k];
        c.evidence.push(e);
      }
    }
    if (SIGNALS[sig].rank > SIGNALS[c.signal].rank) c.signal = sig;
    c.confidence = Math.max(c.confidence, confidence);
    if (SEVERITY_ORDER[severity] > SEVERITY_ORDER[c.severity]) c.severity = severity;
    for (const r of reasons) if (!c.reasons.includes(r) && c.reasons.length < 12) c.reasons.push(r);
    for (const [k, v] of Object.entries(pool))
      if (v !== undefined && c.pool[k as keyof typeof c.pool] === undefined)
        (c.pool as Record<string, unknown>)[k] = v;
    if (pool.host) c.pool.host = c.pool.host ?? pool.host;
    if (!c.coin) {
      const coin = oneCoin(coins);
      if (coin) c.coin = coin;
    }
    if (ev.tls === true) c.tls = true;
    if (agent) c.agent = agent;
    if (sig === 'endpoint' || sig === 'behaviour') {
      const port = this.intel.portInfo(ev.dst_port);
      if (port?.weight === 'strong' && !c.attack.includes(ATTACK.nonStandardPort))
        c.attack.push(ATTACK.nonStandardPort);
    }
    if (c.tls && !c.attack.includes(ATTACK.encryptedChannel)) c.attack.push(ATTACK.encryptedChannel);
    if (typeof ev.exe === 'string' && !c.extra.exe) c.extra.exe = ev.exe;
    if (typeof ev.pid === 'number' && c.extra.pid === undefined) c.extra.pid = ev.pid;
  }

  private connFinding(c: ConnAgg): Finding {
    const s = SIGNALS[c.signal];
    // Several independent signals for one endpoint are worth more than the strongest alone.
    const reasons = [...c.reasons, ...c.flowReasons];
    if (c.flows > 1) reasons.push(`${c.flows} flows to this endpoint behave like this`);
    const conf = Math.min(0.99, c.confidence + (c.reasons.length + (c.flows ? 1 : 0) > 1 ? 0.04 : 0));
    const f: Finding = {
      // Not the rule: a name learnt later (a DNS answer in a later file or batch) upgrades the rule of the
      // same finding, and the id the store and the report know it by stays (as detect/traffic keys it).
      id: findingId('net.mining-connection', c.host, c.dstIp, c.dstPort),
      rule: s.rule,
      title: `${s.title}: ${c.pool.host ?? c.dstIp}:${c.dstPort}`,
      severity: c.severity,
      confidence: Math.round(conf * 100) / 100,
      attack: c.attack,
      host: c.host,
      time: c.first,
      first_seen: c.first,
      last_seen: c.last,
      pool: c.pool,
      reasons,
      evidence: c.evidence,
      events: c.events,
    };
    if (c.tls) f.tls = true;
    if (c.coin) f.coin = c.coin;
    if (c.agent) f.agent = c.agent;
    for (const [k, v] of Object.entries(c.extra)) if (!k.startsWith('_')) f[k] = v;
    return f;
  }

  // ---------- IDS alerts ----------

  private onAlert(ev: MinewatchEvent, alert: Record<string, unknown>, at: SourceRef): void {
    const name =
      typeof alert.signature === 'string'
        ? alert.signature
        : typeof alert.rule === 'string'
          ? alert.rule
          : '';
    if (!name || !MINING_ALERT_RE.test(name)) return;
    const src = typeof alert.source === 'string' ? alert.source : 'ids';
    const e = ev as Record<string, unknown>;
    const dst = typeof e.dst_ip === 'string' ? e.dst_ip : undefined;
    const port = typeof e.dst_port === 'number' ? e.dst_port : undefined;
    const pid = typeof e.pid === 'number' ? e.pid : undefined;
    // Falco writes one alert as a process and a connection event (same pid, same line): one finding.
    const target = src === 'suricata' ? `${dst ?? ''}:${port ?? ''}` : String(pid ?? dst ?? '');
    const f: Finding = {
      id: findingId('ids.mining-alert', ev.host, src, name, target),
      rule: 'ids.mining-alert',
      title: `${src === 'falco' ? 'Falco' : src === 'suricata' ? 'Suricata' : 'IDS'} alert: ${name}`,
      severity: 'high',
      confidence: 0.8,
      attack: [ATTACK.resourceHijacking],
      reasons: [`${src} rule '${name}' names mining`],
      evidence: [],
      alert_source: src,
    };
    if (typeof alert.signature_id === 'number') f.signature_id = alert.signature_id;
    if (typeof alert.priority === 'string') f.priority = alert.priority;
    const a = this.record(f, ev, at);
    if (dst && !a.finding.pool) a.finding.pool = { ip: dst, ...(port !== undefined ? { port } : {}) };
    // An alert on a DNS question names the pool by the name asked for.
    const q = ev.type === 'dns' && typeof e.query === 'string' ? e.query.toLowerCase() : undefined;
    const qm = q ? this.intel.matchDomain(q) : undefined;
    if (q && qm && !a.finding.pool) {
      a.finding.pool = { host: q, name: qm.pool.name, domain: qm.pool.host };
      const coin = oneCoin(this.coinsOf(q, qm.pool.coins));
      if (coin) a.finding.coin = coin;
    }
    if (pid !== undefined && a.finding.pid === undefined) a.finding.pid = pid;
    if (typeof e.exe === 'string' && a.finding.exe === undefined) a.finding.exe = e.exe;
  }
}

/** Convenience: every event (or readTelemetry record) through one EventDetector. */
export function detectEvents(
  events: Iterable<MinewatchEvent | TelemetryRecord>,
  intel: IntelBase,
  opts: EventDetectorOptions = {},
): Finding[] {
  const d = new EventDetector(intel, opts);
  for (const x of events) {
    if ('type' in x && typeof x.type === 'string' && 'host' in x) d.push(x as MinewatchEvent);
    else d.pushRecord(x as TelemetryRecord);
  }
  return d.finish();
}

/** A connection event seen through a proxy: addressed to the target it asked for, the proxy kept aside. */
type ProxiedEvent = ConnectionEvent & {
  proxy: { protocol: 'http-connect' | 'socks4' | 'socks5'; ip: string; port: number };
};

/**
 * The event as a connection to the target a proxy was asked for, or undefined when it went through none that
 * a log recorded: an HTTP CONNECT (`http_method`, target in `http_uri`, Zeek http.log and Suricata http) or a
 * SOCKS request (`socks_host`/`socks_ip` and `socks_port`, Zeek socks.log). A target given by name has no
 * address (`dst_ip` ''); its name is the `domain`.
 */
function viaProxy(ev: ConnectionEvent): ProxiedEvent | undefined {
  const e = ev as ConnectionEvent & Record<string, unknown>;
  let t: { host: string; port: number } | { ip: string; port: number } | undefined;
  let protocol: ProxiedEvent['proxy']['protocol'];
  if (typeof e.http_method === 'string' && e.http_method.toUpperCase() === 'CONNECT') {
    t = typeof e.http_uri === 'string' ? authority(connectTarget(e.http_uri)) : undefined;
    protocol = 'http-connect';
  } else if (
    typeof e.socks_port === 'number' &&
    (typeof e.socks_host === 'string' || typeof e.socks_ip === 'string')
  ) {
    t =
      typeof e.socks_ip === 'string' && e.socks_ip
        ? { ip: e.socks_ip, port: e.socks_port }
        : { host: e.socks_host as string, port: e.socks_port };
    protocol = e.socks_version === 4 ? 'socks4' : 'socks5';
  } else return undefined;
  if (!t) return undefined;
  return {
    ...ev,
    dst_ip: 'ip' in t ? t.ip : '',
    dst_port: t.port,
    ...('host' in t ? { domain: t.host } : {}),
    proxy: { protocol, ip: ev.dst_ip, port: ev.dst_port },
  };
}

/**
 * The authority of a CONNECT request's URI as logs write it: 'pool.example.com:443', and also
 * 'pool.example.com:443 /' or 'http://pool.example.com:443/' (what some clients and proxies send and Zeek logs
 * as it came).
 */
export function connectTarget(uri: string): string {
  const first = uri.trim().split(/\s+/)[0] ?? '';
  return first.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '').replace(/\/+$/, '');
}

/** Private, loopback, link-local, CGNAT, multicast and unique-local addresses: no mining pool lives there. */
export function isInternal(ip: string): boolean {
  if (ip.includes(':')) {
    const l = ip.toLowerCase();
    return (
      l === '::1' || l.startsWith('fe80:') || l.startsWith('fc') || l.startsWith('fd') || l.startsWith('ff')
    );
  }
  const dot = ip.indexOf('.');
  const a = Number(ip.slice(0, dot));
  if (a === 10 || a === 127 || a === 0 || a >= 224) return true;
  const b = Number(ip.slice(dot + 1, ip.indexOf('.', dot + 1)));
  return (
    (a === 192 && b === 168) ||
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 169 && b === 254) ||
    (a === 100 && b >= 64 && b <= 127)
  );
}
