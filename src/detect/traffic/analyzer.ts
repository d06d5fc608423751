/**
 * Traffic detection: reassembled flows and datagrams in, mining findings out.
 *
 * One pass, streaming. Every flow is sniffed from its first bytes (TLS, HTTP, stratum, DNS) and only flows that
 * could be mining keep being parsed; every TCP flow also feeds a small message tracker for the behaviour detector.
 * Findings are per client host and pool endpoint (client ip, server ip, server port): several flows and signals
 * for the same endpoint merge into one finding, whose rule is the strongest signal seen.
 */
import { ATTACK, type AttackRef, type Evidence, type Finding, findingId } from '../../findings/index.ts';
import type { IntelBase, PoolEntry } from '../../intel/index.ts';
import type { Direction, Flow, FlowHandlers } from '../../sensors/pcap/flows.ts';
import { latin1 } from '../../sensors/protocols/bytes.ts';
import { type DnsMessage, DnsTcpStream, parseDnsMessage } from '../../sensors/protocols/dns.ts';
import {
  HTTP_DECISIVE_NEEDLES,
  HTTP_NEEDLE_SEAM,
  HttpMiningSession,
  looksLikeHttpRequestStart,
} from '../../sensors/protocols/http.ts';
import { looksLikeProxyStart, ProxyHandshake, type ProxyTarget } from '../../sensors/protocols/proxy.ts';
import { looksLikeStratumStart, type StratumResult } from '../../sensors/protocols/stratum.ts';
import { type ClientHello, type HelloArea, looksLikeTlsStart } from '../../sensors/protocols/tls.ts';
import { msIso } from '../../util/iso.ts';
import { remembered } from '../../util/remembered.ts';
import { accountKey, type LoginParts, parseLogin } from '../../wallets/index.ts';
import { NETWORK_SIGNALS, type NetworkSignal } from '../signals.ts';
import { hasMiningRhythm, judgeBehaviour, longEnough, longEnoughSpan, rhythmFeatures } from './behaviour.ts';
import { inferCoin } from './coin.ts';
import { DnsNameMap, eachAddressName } from './dns-map.ts';
import { StratumTracker } from './stratum-tracker.ts';
import { judgeTlsMiner, TlsRhythm } from './tls-miner.ts';

const SIGNALS = NETWORK_SIGNALS;

/**
 * parseLogin (wallet validation: base58, Keccak checksums) remembered per login and password: a miner
 * reconnects with the same login again and again, and validating it was ~6% of a whole capture's profile.
 */
const loginParts = remembered<[login: string, pass?: string], LoginParts, string>(
  (login: string, pass?: string): LoginParts => parseLogin(login, pass),
  4096,
  (login, pass) => `${pass === undefined ? 'u' : 'p'}${login.length}:${login}${pass ?? ''}`,
);
type SignalKind = NetworkSignal;

const MAX_EVIDENCE_PACKETS = 32;
/** Names whose pool match is kept (TrafficAnalyzer.matchDomain). */
const POOL_NAMES_MAX = 4096;
/** Bytes of an unrecognised stream we look at before giving up on its content (the tracker goes on). */
const SNIFF_LIMIT = 4096;
/** Packets of an HTTP flow we parse: a miner's getwork/getblocktemplate shows in its first exchange. */
const HTTP_PACKET_LIMIT = 12;
/** Bytes of an HTTP flow held (copied) while none of them could decide it (see onHttp); past that it is parsed. */
const HTTP_HOLD_MAX = 16 * 1024;

/** A segment of an HTTP flow kept for the parser in case a later one can decide the flow. */
interface HeldSegment {
  dir: Direction;
  bytes: Uint8Array;
  pkt: number;
  ts: number;
}
/**
 * The UDP the analyzer reads: DNS. Other UDP flows never leave the core (on the bench capture, 3,400 of 17,864
 * flows had cost a Flow object, two formatted addresses and three calls for nothing).
 */
const DNS_PORTS: ReadonlySet<number> = new Set([53]);

type Kind = 'unknown' | 'proxy' | 'stratum' | 'tls' | 'http' | 'dns' | 'opaque';

/** Where a connection really goes: a proxy's target once the handshake named it, else the server. */
interface Endpoint {
  ip?: string;
  host?: string;
  port: number;
}

interface FlowState {
  kind: Kind;
  sniffed: number;
  stratum?: StratumTracker;
  /**
   * The ClientHello (read by the core: FlowHandlers.onHello), kept for the flows a verdict reads it from: one whose
   * SNI names a pool, and one to a bare address judged by its record rhythm at close.
   */
  clientHello?: ClientHello;
  http?: HttpMiningSession;
  /**
   * An HTTP flow's segments so far, while none of them could decide it (HTTP_DECISIVE_NEEDLES): the parser is made
   * and fed them only when one can. Undefined once it is (or for any other flow).
   */
  httpHeld?: HeldSegment[];
  httpHeldBytes: number;
  /** The last HTTP_NEEDLE_SEAM characters of each direction's held bytes: a needle may straddle two segments. */
  httpSeamC2s: string;
  httpSeamS2c: string;
  /** The last login (and password) parsed for this flow, so re-signalling does not validate the wallet again. */
  loginUser?: string;
  loginPass?: string;
  login?: LoginParts;
  httpPackets: number;
  dnsTcp?: { c2s: DnsTcpStream; s2c: DnsTcpStream };
  /** A proxy handshake (HTTP CONNECT, SOCKS) at the start of the stream, and the target it named. */
  proxyHs?: ProxyHandshake;
  proxy?: ProxyTarget;
  /** A TCP flow judged by its message rhythm at close (the core keeps the rhythm: Flow.rhythm()). */
  tracked: boolean;
  /**
   * Record rhythm of a TLS flow whose ClientHello named no server (see tls-miner.ts): made at the flow's first
   * segment unless its hello, read first, already named the server (null: not wanted). Most hellos do, and
   * the rhythm was made and fed for nothing on each of them.
   */
  tlsRhythm?: TlsRhythm | null;
  conn?: ConnAgg;
  /** The key of this flow's connection finding, and the proxy target it was made for (see signal). */
  connKey?: string;
  connKeyProxy?: ProxyTarget | undefined;
}

interface ConnAgg {
  finding: Finding;
  rank: number;
  /**
   * Signal kinds seen (at most the nine kinds: a list, cheaper to make than a Set), strongest first, equal ranks in
   * the order seen: the finding's `signals` are their rules.
   */
  ranked: SignalKind[];
  flows: number;
  emitted: boolean;
  fieldRank: Map<string, number>;
  /** Totals of flows already closed; a live flow's counts are added on top at its close. */
  shares: number;
  jobs: number;
}

export interface TrafficOptions {
  intel: IntelBase;
  /** The capture's name, for evidence. */
  source: string;
  /** Called once per finding as soon as it is decided (streaming output). */
  onFinding?: (f: Finding) => void;
  /** Called when a finding already emitted gains counts or a stronger rule. */
  onUpdate?: (f: Finding) => void;
}

export interface TrafficSummary {
  hosts_mining: number;
  hosts: Array<{ host: string; pools: string[]; coins: string[] }>;
  coins: Array<{ coin: string; hosts: number; share: number }>;
  pools: Array<{ pool: string; hosts: number; share: number }>;
  ports: Array<{ port: number; flows: number }>;
  findings_by_rule: Record<string, number>;
}

export class TrafficAnalyzer {
  readonly handlers: FlowHandlers;
  /**
   * For the DNS traffic (port 53) of flows another shard of a parallel analysis owns: answers only feed the
   * IP → name map, so each shard names its own connections exactly as a single pass would. No findings.
   */
  readonly dnsHandlers: FlowHandlers;
  private readonly intel: IntelBase;
  private readonly source: string;
  private readonly dnsNames = new DnsNameMap();
  private readonly conns = new Map<string, ConnAgg>();
  private readonly dnsFindings = new Map<string, Finding>();
  private readonly opts: TrafficOptions;
  /**
   * intel.matchDomain's answers by name (null: no pool), up to POOL_NAMES_MAX names, then forgotten at once. The
   * same names come back again and again (a DNS answer's name is matched to learn it and again as the query,
   * a pool host at every connection and signal); the match normalises and walks the name's labels each time.
   */
  private readonly poolNames = new Map<string, { pool: PoolEntry; matched: string } | null>();
  /** learnDns's callbacks for eachAddressName, made once. */
  private readonly isPoolName = (name: string): boolean => this.matchDomain(name) !== undefined;
  private readonly learnName = (ip: string, name: string): void => this.dnsNames.set(ip, name);

  constructor(opts: TrafficOptions) {
    this.opts = opts;
    this.intel = opts.intel;
    this.source = opts.source;
    this.handlers = {
      onData: (flow, dir, data, pkt, ts) => this.onData(flow, dir, data, pkt, ts),
      onDatagram: (flow, dir, data, pkt, ts) => this.onDatagram(flow, dir, data, pkt, ts),
      onClose: (flow) => this.onClose(flow),
      onOpen: (flow, pkt, ts) => this.onOpen(flow, pkt, ts),
      onGap: (flow, dir) => (flow.state as FlowState | undefined)?.tlsRhythm?.gap(dir === 'c2s' ? 0 : 1),
      onHello: (flow, hello, pkt, ts) => this.onHello(flow, hello, pkt, ts),
      datagramPorts: DNS_PORTS,
    };
    this.dnsHandlers = {
      onOpen: (flow) => {
        if (flow.proto === 'tcp') flow.state = { c2s: new DnsTcpStream(), s2c: new DnsTcpStream() };
      },
      onData: (flow, dir, data) => {
        const streams = flow.state as { c2s: DnsTcpStream; s2c: DnsTcpStream } | undefined;
        if (streams) for (const m of streams[dir].push(data)) this.learnDns(m);
      },
      onDatagram: (_flow, _dir, data) => {
        const m = parseDnsMessage(data);
        if (m) this.learnDns(m);
      },
      onClose: (flow) => {
        flow.state = undefined;
      },
      datagramPorts: DNS_PORTS,
    };
  }

  private matchDomain(name: string): { pool: PoolEntry; matched: string } | undefined {
    let m = this.poolNames.get(name);
    if (m === undefined) {
      m = this.intel.matchDomain(name) ?? null;
      if (this.poolNames.size >= POOL_NAMES_MAX) this.poolNames.clear();
      this.poolNames.set(name, m);
    }
    return m ?? undefined;
  }

  // ------------------------------------------------------------------------------------------------
  // Flow events

  private state(flow: Flow): FlowState {
    let s = flow.state as FlowState | undefined;
    if (!s) {
      // Every field from the start: one hidden class for all flow states, whatever the flow turns out to be.
      s = {
        // A flow whose hello the core is still collecting is TLS (its server bytes may come first).
        kind: flow.proto === 'tcp' && flow.helloPending ? 'tls' : 'unknown',
        sniffed: 0,
        stratum: undefined,
        clientHello: undefined,
        http: undefined,
        httpHeld: undefined,
        httpHeldBytes: 0,
        httpSeamC2s: '',
        httpSeamS2c: '',
        loginUser: undefined,
        loginPass: undefined,
        login: undefined,
        httpPackets: 0,
        dnsTcp: undefined,
        proxyHs: undefined,
        proxy: undefined,
        tracked: flow.proto === 'tcp' && !flow.closed,
        tlsRhythm: undefined,
        conn: undefined,
        connKey: undefined,
        connKeyProxy: undefined,
      };
      flow.state = s;
    }
    return s;
  }

  private onOpen(flow: Flow, pkt: number, ts: number): void {
    // A UDP flow here is DNS (datagramPorts): the core keeps the others to itself.
    if (flow.proto !== 'tcp') return;
    // Per-flow state (and the behaviour tracker) waits for the first payload: a SYN flood's half-open flows
    // then cost the flow table's record and nothing here.
    if (flow.serverPort === 53) {
      // DNS over TCP is read here whatever its first bytes: the core does not take its "hello".
      flow.helloOff();
      const s = this.state(flow);
      s.kind = 'dns';
      s.dnsTcp = { c2s: new DnsTcpStream(), s2c: new DnsTcpStream() };
    }
    // A connection to an address a pool name resolved to in this capture: mining intent, even if the
    // content is encrypted or never flows.
    const name = this.dnsNames.get(flow.server);
    const pool = name ? this.matchDomain(name) : undefined;
    if (pool && name) {
      this.signal(flow, 'name', pkt, ts, {
        host: name,
        pool: pool.pool,
        reason: `server address ${flow.server} was resolved from pool name ${name} earlier in the capture`,
      });
    } else {
      const ep = this.intel.matchEndpoint(flow.server, flow.serverPort);
      if (ep?.portMatched) {
        // The endpoint's pool, named as `intel lookup` names it: the entry's pool host, matched to a pool.
        const owner = ep.endpoint.pool ? this.matchDomain(ep.endpoint.pool)?.pool : undefined;
        this.signal(flow, 'endpoint', pkt, ts, {
          reason: `server ${flow.server}:${flow.serverPort} is a pool endpoint in intel (${ep.endpoint.sources.map((x) => x.id).join(', ')})${
            owner
              ? ` of ${owner.name}${ep.endpoint.pool_inferred ? ' (pool inferred by the source list)' : ''}`
              : ''
          }`,
          ...(owner ? { pool: owner } : {}),
          ...(ep.endpoint.coins ? { coins: ep.endpoint.coins } : {}),
        });
      }
    }
  }

  /**
   * Nothing more to parse in this flow: the core keeps its counters and message rhythm, and calls no handler for it
   * but onClose (on the bench capture, 184k of the 235k in-order deliveries were to such flows).
   */
  private opaque(flow: Flow, s: FlowState): void {
    s.kind = 'opaque';
    flow.countOnly = true;
  }

  private onData(flow: Flow, dir: Direction, bytes: Uint8Array, pkt: number, ts: number): void {
    const s = this.state(flow);
    let data = bytes;
    if (s.kind === 'unknown' && dir === 'c2s' && !s.proxyHs) {
      const proxy = looksLikeProxyStart(data);
      if (proxy) {
        s.kind = 'proxy';
        s.proxyHs = new ProxyHandshake(proxy);
      }
    }
    if (s.proxyHs && !s.proxyHs.isOpen(dir)) {
      // The proxy handshake first; what follows it in the stream is the tunnelled connection's own content.
      const rest = this.onProxy(flow, s, dir, data, pkt, ts);
      if (!rest?.length) return;
      data = rest;
    }
    if (s.kind === 'unknown') {
      this.sniff(flow, s, dir, data, pkt, ts);
      // A hello found here went to the core with these bytes (sniff): nothing more to do with them.
      if ((s.kind as Kind) === 'tls') return;
    }
    switch (s.kind) {
      case 'stratum':
        this.onStratum(flow, s, dir, data, pkt, ts);
        break;
      case 'tls':
        // Server bytes while the core reads the hello, or any bytes after it: the record rhythm, unless the hello
        // named the server (null). The core's onHello answer comes first for the client's bytes.
        if (s.tlsRhythm !== null) (s.tlsRhythm ??= new TlsRhythm()).feed(dir === 'c2s' ? 0 : 1, data, ts);
        break;
      case 'http':
        this.onHttp(flow, s, dir, data, pkt, ts);
        break;
      case 'dns':
        if (s.dnsTcp) for (const m of s.dnsTcp[dir].push(data)) this.onDns(flow, m, pkt, ts);
        break;
    }
  }

  private sniff(flow: Flow, s: FlowState, dir: Direction, data: Uint8Array, pkt: number, ts: number): void {
    if (dir === 'c2s' && looksLikeTlsStart(data)) {
      // A hello where the core did not look for one (after a proxy's handshake, or after server bytes): the core
      // reads it from these bytes on, and answers now or through onHello.
      s.kind = 'tls';
      const answer = flow.takeHello(data);
      if (answer) this.helloAnswer(flow, s, answer, pkt, ts);
    } else if (dir === 'c2s' && looksLikeHttpRequestStart(data)) {
      s.kind = 'http';
      s.httpHeld = [];
    } else if (looksLikeStratumStart(data) || (flow.midstream && looksLikeJsonLines(data))) {
      s.kind = 'stratum';
      s.stratum = new StratumTracker();
    } else {
      s.sniffed += data.length;
      if (s.sniffed >= SNIFF_LIMIT || dir === 'c2s') this.opaque(flow, s);
    }
  }

  /** Feeds a proxy handshake; returns the tunnelled bytes that followed it in this segment. */
  private onProxy(
    flow: Flow,
    s: FlowState,
    dir: Direction,
    data: Uint8Array,
    pkt: number,
    ts: number,
  ): Uint8Array | undefined {
    const step = s.proxyHs!.push(dir, data);
    switch (step.status) {
      case 'need-more':
        return undefined;
      case 'request':
        s.proxy = step.target;
        s.kind = 'unknown'; // what the tunnel carries is sniffed like any stream
        this.proxySignal(flow, step.target, pkt, ts);
        return step.rest;
      case 'open':
        return step.rest;
      case 'refused': {
        const f = s.conn?.finding;
        if (f && isRecord(f.proxy)) f.proxy.refused = step.reason;
        s.proxyHs = undefined;
        this.opaque(flow, s);
        return undefined;
      }
      case 'not-proxy':
        s.proxyHs = undefined;
        // A request was read: the answer is odd but the stream goes on; else it was never a proxy.
        if (s.proxy) return data;
        this.opaque(flow, s);
        return undefined;
    }
  }

  /** A proxy was asked for a pool: by name, by a name this capture resolved, or by a pool endpoint. */
  private proxySignal(flow: Flow, t: ProxyTarget, pkt: number, ts: number): void {
    const name = t.host ?? (t.ip ? this.dnsNames.get(t.ip) : undefined);
    const m = name ? this.matchDomain(name) : undefined;
    const ep = !m && t.ip ? this.intel.matchEndpoint(t.ip, t.port) : undefined;
    if (!m && !ep?.portMatched) return;
    const target = `${t.host ?? (t.ip?.includes(':') ? `[${t.ip}]` : t.ip)}:${t.port}`;
    this.signal(flow, 'proxy', pkt, ts, {
      ...(name ? { host: name } : {}),
      ...(m ? { pool: m.pool } : {}),
      ...(ep?.endpoint.coins ? { coins: ep.endpoint.coins } : {}),
      reason: `${PROXY_NAMES[t.protocol]} to proxy ${flow.server}:${flow.serverPort} asks for ${target}, ${
        m ? `a pool host (${m.pool.name}) in intel` : 'a pool endpoint in intel'
      }`,
    });
  }

  private onStratum(
    flow: Flow,
    s: FlowState,
    dir: Direction,
    data: Uint8Array,
    pkt: number,
    ts: number,
  ): void {
    const st = s.stratum!;
    if (st.push(dir, data, pkt)) this.stratumSignal(flow, s, st.result(), pkt, ts);
    else if (st.state === 'not-stratum') this.opaque(flow, s);
    // Decided, login seen: only shares and jobs are left to count, and the core counts them (once a proxy in
    // front is open both ways: its handshake is still read here until then).
    if (
      st.counting &&
      !flow.countOnly &&
      (!s.proxyHs || (s.proxyHs.isOpen('c2s') && s.proxyHs.isOpen('s2c')))
    ) {
      flow.countStratum = true;
      flow.countOnly = true;
    }
  }

  private stratumSignal(flow: Flow, s: FlowState, r: StratumResult, pkt: number, ts: number): void {
    // Only Monero-style miners put the worker name in the password; elsewhere it is a password.
    const pass = r.dialect === 'monero' ? r.pass : undefined;
    // Compared as the two strings (a key string built per signal was hashed for nothing when they repeat).
    if (r.login && (s.loginUser !== r.login || s.loginPass !== pass)) {
      s.loginUser = r.login;
      s.loginPass = pass;
      s.login = loginParts(r.login, pass);
    }
    const login = r.login ? s.login : undefined;
    const ep = endpointOf(flow, s);
    const hostHint =
      r.host ?? s.clientHello?.sni ?? ep.host ?? (ep.ip ? this.dnsNames.get(ep.ip) : undefined);
    const pool = hostHint ? this.matchDomain(hostHint)?.pool : undefined;
    // The fields in the order a finding gains them, set one by one (no spread objects: a stratum flow signals at
    // its decision, its login and its close).
    const fields: Record<string, unknown> = { dialect: r.dialect };
    if (login?.wallet) {
      fields.wallet = login.wallet.address;
      fields.wallet_valid = login.wallet.valid;
    }
    if (login?.user) fields.user = login.user;
    if (login?.worker || r.worker || r.rigid) fields.worker = login?.worker ?? r.worker ?? r.rigid;
    // The pool account (e-mail, user name, a distinctive worker): a campaign key beside the wallet.
    const account = login ? accountKey(login, hostHint) : undefined;
    if (account) fields.account = account;
    if (r.agent) fields.agent = r.agent;
    if (r.algo) fields.algo = r.algo;
    this.signal(flow, 'stratum', pkt, ts, {
      host: hostHint,
      pool,
      confidence: r.confidence,
      reasons: r.reasons,
      packets: r.packets,
      fields,
      walletCoin: login?.wallet?.coin,
    });
  }

  /** The core read a flow's ClientHello (or found it is none): FlowHandlers.onHello. */
  private onHello(flow: Flow, hello: HelloArea, pkt: number, ts: number): void {
    const s = this.state(flow);
    s.kind = 'tls';
    this.helloAnswer(flow, s, hello, pkt, ts);
  }

  private helloAnswer(flow: Flow, s: FlowState, area: HelloArea, pkt: number, ts: number): void {
    if (area.code !== 0) {
      this.opaque(flow, s);
      return;
    }
    const sni = area.sni();
    if (!sni && !s.proxy && !this.dnsNames.get(flow.server)) {
      // TLS to a bare address: go on reading record headers (5 bytes a record) for the stratum rhythm, and
      // keep the flow through floods while it is judged. The rhythm starts with what followed the hello (the
      // hello's own records are handshake records, which it skips; a hole while the core collected the hello
      // leaves it unreadable, as it did when it read the hello's segments itself).
      s.clientHello = area.hello();
      flow.keep = true;
      if (s.tlsRhythm !== null) {
        const rhythm = (s.tlsRhythm ??= new TlsRhythm());
        if (area.gap) rhythm.gap(0);
        rhythm.feed(0, area.tail(), ts);
      }
    } else {
      // The ClientHello was all this flow's content had to give (kind stays 'tls': the behaviour judge asks).
      s.tlsRhythm = null;
      flow.countOnly = true;
    }
    const m = sni ? this.matchDomain(sni) : undefined;
    if (m && sni) {
      const fp = area.fingerprints();
      this.signal(flow, 'sni', pkt, ts, {
        host: sni,
        pool: m.pool,
        reason: `TLS ClientHello names pool host ${sni} (${m.pool.name})`,
        fields: { tls: true, sni, ja3: fp.ja3Hash, ja4: fp.ja4, alpn: area.alpn() },
      });
    }
  }

  /**
   * An HTTP flow's next segment. Most HTTP is not mining, and parsing it was ~38 us a request in a capture's first
   * pass (1,408 requests on the 158 MB bench capture, none of them mining): until a segment holds bytes that could
   * give a decisive signal, the segments are only kept. When one does, the parser is made and fed every kept
   * segment in order, with its own packet and time, then this one: the same calls as if it had read them as they
   * came, and no signal could have come earlier (a decisive signal needs those bytes). A flow that never shows such
   * bytes is left at the packet limit as before, without its heads ever parsed.
   */
  private onHttp(flow: Flow, s: FlowState, dir: Direction, data: Uint8Array, pkt: number, ts: number): void {
    const held = s.httpHeld;
    if (held) {
      const text = latin1(data);
      const seam = dir === 'c2s' ? s.httpSeamC2s : s.httpSeamS2c;
      const decisive =
        HTTP_DECISIVE_NEEDLES.test(text) ||
        (seam !== '' && HTTP_DECISIVE_NEEDLES.test(seam + text.slice(0, HTTP_NEEDLE_SEAM)));
      if (!decisive && s.httpHeldBytes + data.length <= HTTP_HOLD_MAX) {
        if (held.length >= HTTP_PACKET_LIMIT) {
          // The parser would have stopped here too (a long ordinary exchange).
          s.httpHeld = undefined;
          this.opaque(flow, s);
          return;
        }
        held.push({ dir, bytes: data.slice(), pkt, ts });
        s.httpHeldBytes += data.length;
        // The segment's own end when it is long enough (no copy of the segment joined to the seam).
        const tail =
          text.length >= HTTP_NEEDLE_SEAM
            ? text.slice(-HTTP_NEEDLE_SEAM)
            : (seam + text).slice(-HTTP_NEEDLE_SEAM);
        if (dir === 'c2s') s.httpSeamC2s = tail;
        else s.httpSeamS2c = tail;
        return;
      }
      s.httpHeld = undefined;
      s.http = new HttpMiningSession();
      for (const h of held) {
        this.httpSegment(flow, s, h.dir, h.bytes, h.pkt, h.ts);
        if (s.kind !== 'http') return;
      }
    }
    this.httpSegment(flow, s, dir, data, pkt, ts);
  }

  /** One segment through the HTTP parser and the verdict (what onHttp was). */
  private httpSegment(
    flow: Flow,
    s: FlowState,
    dir: Direction,
    data: Uint8Array,
    pkt: number,
    ts: number,
  ): void {
    const http = s.http!;
    http.push(dir, data, pkt);
    if (http.notHttp || ++s.httpPackets > HTTP_PACKET_LIMIT) {
      // Not HTTP after all, or a long ordinary exchange: stop parsing; the tracker goes on.
      this.opaque(flow, s);
      return;
    }
    if (!http.analyzer.isMining) return;
    // Decided by the request: wait for its answer (within the packet limit), whose shape adds its reason.
    if (!http.answered && s.httpPackets < HTTP_PACKET_LIMIT) return;
    this.httpSignal(flow, s, pkt, ts);
  }

  private httpSignal(flow: Flow, s: FlowState, pkt: number, ts: number): void {
    const r = s.http!.analyzer.result();
    this.opaque(flow, s); // decided: nothing more to learn from this flow's content
    const login = r.user ? loginParts(r.user) : undefined;
    const pool = r.host ? this.matchDomain(r.host)?.pool : undefined;
    const fields: Record<string, unknown> = {};
    if (login?.wallet) {
      fields.wallet = login.wallet.address;
      fields.wallet_valid = login.wallet.valid;
    }
    if (login?.user) fields.user = login.user;
    if (login?.worker || r.worker) fields.worker = login?.worker ?? r.worker;
    const account = login ? accountKey(login, r.host) : undefined;
    if (account) fields.account = account;
    if (r.agent) fields.agent = r.agent;
    if (r.stratumUrl) fields.stratum_url = r.stratumUrl;
    if (r.methods.eth_getWork || r.methods.eth_submitWork) fields.dialect = 'eth-getwork';
    this.signal(flow, 'http', pkt, ts, {
      host: r.host,
      pool,
      confidence: r.confidence,
      reasons: r.reasons,
      packets: r.packets,
      fields,
      walletCoin: login?.wallet?.coin,
    });
  }

  private onDatagram(flow: Flow, _dir: Direction, data: Uint8Array, pkt: number, ts: number): void {
    const m = parseDnsMessage(data);
    if (m) this.onDns(flow, m, pkt, ts);
  }

  /** The IP → name map learns a DNS answer (every shard of a parallel analysis learns every answer). */
  private learnDns(m: DnsMessage): void {
    const q = m.questions[0];
    if (!q || !m.qr) return;
    if (plainAnswers(m.answers)) {
      // No CNAME chain and no address twice (most answers): each address is named by its own record, pool name
      // or not (each address's names would be its record's name alone, in this order): no map or look-up to make.
      for (const a of m.answers) if (a.type === 1 || a.type === 28) this.dnsNames.set(a.data, a.name);
      return;
    }
    // Keep the most telling name: a pool name anywhere in the chain beats the CDN edge it ends on.
    eachAddressName(q.name, m.answers, this.isPoolName, this.learnName);
  }

  private onDns(flow: Flow, m: DnsMessage, pkt: number, ts: number): void {
    const q = m.questions[0];
    if (!q) return;
    this.learnDns(m);
    const match = this.matchDomain(q.name);
    if (!match) return;
    // The side that is not port 53 asked, whichever packet of the exchange we saw first.
    const client = flow.serverPort === 53 ? flow.client : flow.server;
    const key = `${client}|${match.pool.host}`;
    let f = this.dnsFindings.get(key);
    if (!f) {
      // A literal per shape, no spread into its middle (see signal): its fields are updated at every query.
      const id = findingId('net.dns.pool-query', client, match.pool.host);
      const confidence = match.pool.status === 'closed' ? 0.6 : 0.75;
      const attack = [ATTACK.resourceHijacking, ATTACK.dnsResolution];
      const time = iso(ts);
      const pool = { host: q.name, name: match.pool.name, domain: match.pool.host };
      const reasons = [
        `query for ${q.name}, a ${match.pool.status === 'closed' ? 'closed ' : ''}pool host (${match.pool.name}) in intel`,
      ];
      const evidence: Evidence[] = [{ kind: 'dns', source: this.source, packets: [] }];
      const coins = match.pool.coins;
      // One shape whatever the pool's coins: an undefined coin is left out of the JSON as an absent one is.
      f = {
        id,
        rule: 'net.dns.pool-query',
        title: 'DNS lookup of a mining pool',
        severity: 'medium',
        confidence,
        attack,
        host: client,
        time,
        first_seen: time,
        last_seen: time,
        pool,
        coin: coins.length === 1 ? coins[0] : undefined,
        queries: 0,
        reasons,
        evidence,
      };
      this.dnsFindings.set(key, f);
      this.opts.onFinding?.(f);
    }
    f.last_seen = iso(ts);
    if (!m.qr) f.queries = (f.queries as number) + 1;
    const pk = f.evidence[0]!.packets!;
    if (pk.length < MAX_EVIDENCE_PACKETS && !pk.includes(pkt)) pk.push(pkt);
  }

  private onClose(flow: Flow): void {
    let s = flow.state as FlowState | undefined;
    if (!s) {
      // A TLS flow whose hello the core never finished reading: its first bytes made it TLS (and tracked).
      if (!flow.helloPending) return;
      s = this.state(flow);
      s.tracked = true;
    }
    const lastPacket = flow.lastDataPacket;
    if (s.stratum) {
      if (flow.countStratum) s.stratum.addCounted(flow.shares, flow.jobs);
      s.stratum.end(lastPacket);
      const r = s.stratum.result();
      // Again at the end even if decided earlier: fields that came after the decision (an authorize after
      // the first notify) fill in what the finding still lacks.
      if (r.isMining) this.stratumSignal(flow, s, r, lastPacket, flow.lastTs);
      if (s.conn && r.isMining) {
        s.conn.shares += r.shares;
        s.conn.jobs += r.jobs;
      }
    }
    // A mining request whose answer never came.
    if (s.kind === 'http' && s.http?.analyzer.isMining) this.httpSignal(flow, s, lastPacket, flow.lastTs);
    if (s.tlsRhythm && s.clientHello && s.tlsRhythm.readable) this.judgeTls(flow, s, s.clientHello);
    // Most flows are short or have no rhythm: judgeBehaviour would say no without the intel look-ups.
    // Most flows are too short for a rhythm: their state is not read out of the core at all.
    const rhythm =
      s.tracked &&
      flow.proto === 'tcp' &&
      !(s.conn && s.conn.rank >= SIGNALS.stratum.rank) &&
      longEnoughSpan(flow.rhythmSpan())
        ? flow.rhythm()
        : undefined;
    if (rhythm && longEnough(rhythm)) {
      const features = rhythmFeatures(rhythm);
      if (hasMiningRhythm(features)) {
        const ep = endpointOf(flow, s);
        const port = this.intel.portInfo(ep.port);
        const verdict = judgeBehaviour(features, {
          ...(port ? { portWeight: port.weight } : {}),
          knownPoolIp: !!(ep.ip && this.intel.matchEndpoint(ep.ip)),
          tls: s.kind === 'tls',
        });
        if (verdict.mining) {
          this.signal(flow, 'behaviour', lastPacket, flow.lastTs, {
            confidence: verdict.confidence,
            reason: verdict.reasons.join('; '),
            fields: { behaviour: { score: verdict.score, ...roundFeatures(features) } },
            ...(s.clientHello?.sni ? { host: s.clientHello.sni } : {}),
          });
        }
      }
    }
    if (s.conn) {
      const f = s.conn.finding;
      if (s.conn.shares) f.shares = s.conn.shares;
      if (s.conn.jobs) f.jobs = s.conn.jobs;
      f.last_seen = iso(flow.lastTs);
      if (s.conn.emitted) this.opts.onUpdate?.(f);
    }
    // Let go of parser state: a closed flow may linger in the table until evicted.
    s.stratum = undefined;
    s.http = undefined;
    s.httpHeld = undefined;
    s.dnsTcp = undefined;
    s.tlsRhythm = undefined;
    // Nothing reads a closed flow's state again (the table delivers nothing more for it); it may linger.
    flow.state = undefined;
  }

  /** A TLS flow to a bare address, at its end: does its ClientHello and record rhythm say stratum? */
  private judgeTls(flow: Flow, s: FlowState, hello: ClientHello): void {
    const features = s.tlsRhythm!.features();
    const fp = this.intel.miners.tls_fingerprints.find(
      (m) => m.value === hello.ja4 || m.value === hello.ja3Hash,
    );
    const port = this.intel.portInfo(flow.serverPort);
    const v = judgeTlsMiner(features, {
      noSni: !hello.sni,
      noAlpn: hello.alpn.length === 0,
      // A name may have been resolved after the hello was read.
      bareIp: !this.dnsNames.get(flow.server),
      ...(fp ? { fingerprint: { value: fp.value, ...(fp.note ? { note: fp.note } : {}) } } : {}),
      ...(port ? { portWeight: port.weight } : {}),
      port: flow.serverPort,
    });
    if (!v.mining) return;
    this.signal(flow, 'tlsRhythm', flow.lastDataPacket, flow.lastTs, {
      confidence: v.confidence,
      reason: v.reasons.join('; '),
      fields: {
        tls: true,
        ja3: hello.ja3Hash,
        ja4: hello.ja4,
        ...(fp ? { tls_stack: fp.note ?? fp.value } : {}),
        tls_rhythm: { score: v.score, ...roundFeatures(features) },
      },
    });
  }

  // ------------------------------------------------------------------------------------------------
  // Findings

  private signal(
    flow: Flow,
    kind: SignalKind,
    pkt: number,
    ts: number,
    d: {
      host?: string | undefined;
      pool?: PoolEntry | undefined;
      coins?: readonly string[];
      confidence?: number;
      /** The reason in words, or the parts to join by '; ' (joined only when the reason is kept). */
      reason?: string;
      reasons?: readonly string[];
      packets?: number[];
      fields?: Record<string, unknown>;
      walletCoin?: string | undefined;
    },
  ): void {
    const s = this.state(flow);
    const ep = endpointOf(flow, s);
    const to = ep.ip ?? ep.host!;
    // The flow's key string is kept (its hash with it) while its endpoint stays: a flow signals several times.
    if (s.connKey === undefined || s.connKeyProxy !== s.proxy) {
      s.connKey = `${flow.client}|${to}|${ep.port}|${flow.proto}`;
      s.connKeyProxy = s.proxy;
    }
    const key = s.connKey;
    let agg = this.conns.get(key);
    const sig = SIGNALS[kind];
    if (!agg) {
      // Built as literals with every field in its place, no spreads: an object made by spreading into the
      // middle of a literal, and every property added to it afterwards, took the slow paths (the pool and
      // finding stores were the largest part of signal's self time, itself the largest in the bench profile).
      const pool: NonNullable<Finding['pool']> = ep.ip
        ? ep.host
          ? { ip: ep.ip, host: ep.host, port: ep.port }
          : { ip: ep.ip, port: ep.port }
        : ep.host
          ? { host: ep.host, port: ep.port }
          : { port: ep.port };
      const id = findingId('net.mining-connection', flow.client, to, ep.port, flow.proto);
      const attack = attackFor(kind, ep.port, !!s.proxy);
      const first = iso(flow.firstTs);
      const last = iso(ts);
      const evidence: Evidence[] = [{ kind: 'flow', source: this.source, packets: [] }];
      // One literal: an undefined proxy is left out of every output, as an absent one is.
      const f: Finding = {
        id,
        rule: sig.rule,
        title: sig.title,
        severity: sig.severity,
        confidence: 0,
        attack,
        host: flow.client,
        time: first,
        first_seen: first,
        last_seen: last,
        pool,
        proxy: s.proxy ? { protocol: s.proxy.protocol, ip: flow.server, port: flow.serverPort } : undefined,
        tls: s.kind === 'tls',
        signals: [],
        reasons: [],
        evidence,
      };
      agg = {
        finding: f,
        rank: 0,
        ranked: [],
        flows: 0,
        emitted: false,
        fieldRank: new Map(),
        shares: 0,
        jobs: 0,
      };
      this.conns.set(key, agg);
    }
    // A mining flow must outlive any flood of other flows in the table.
    flow.keep = true;
    if (s.conn !== agg) {
      s.conn = agg;
      agg.flows++;
      agg.finding.flows = agg.flows;
    }
    const f = agg.finding;
    const fresh = !agg.ranked.includes(kind);
    if (fresh) {
      // Only a new kind changes the list (a flow re-signals on every login update and at its close).
      // Into its place among the kinds seen (after those of its rank, as the stable sort by rank put it), and the
      // rules read off in one loop: no copy, sort and map with their comparator and callback per new kind.
      const ranked = agg.ranked;
      let at = ranked.length;
      ranked.push(kind);
      while (at > 0 && SIGNALS[ranked[at - 1]!].rank < sig.rank) {
        ranked[at] = ranked[at - 1]!;
        at--;
      }
      ranked[at] = kind;
      const rules: string[] = [];
      for (let i = 0; i < ranked.length; i++) rules.push(SIGNALS[ranked[i]!].rule);
      f.signals = rules;
    }
    // Independent signals make a connection surer: combine as a noisy-OR.
    const c = d.confidence ?? defaultConfidence(kind);
    f.confidence = round2(1 - (1 - f.confidence) * (1 - c));
    if (fresh && f.reasons && (f.reasons as string[]).length < 16)
      (f.reasons as string[]).push(d.reason ?? d.reasons!.join('; '));
    if (d.host && (!f.pool!.host || sig.rank >= agg.rank)) f.pool!.host = d.host;
    const pool = d.pool ?? (f.pool!.host ? this.matchDomain(f.pool!.host)?.pool : undefined);
    if (pool) {
      f.pool!.name = pool.name;
      f.pool!.domain = pool.host;
    }
    // A field set by a stronger signal stays (stratum's user beats HTTP basic auth); a weaker one fills gaps.
    const fields = d.fields;
    if (fields)
      for (const k in fields) {
        const v = fields[k];
        if (v === undefined || (agg.fieldRank.get(k) ?? -1) > sig.rank) continue;
        f[k] = v;
        agg.fieldRank.set(k, sig.rank);
      }
    const account = (d.fields?.wallet ?? d.fields?.user) as string | undefined;
    if (account) {
      const accounts = (f.accounts as string[] | undefined) ?? [];
      if (!accounts.includes(account) && accounts.length < 8) accounts.push(account);
      f.accounts = accounts;
    }
    if (d.fields?.tls) f.tls = true;
    if (!f.coin) {
      const c2 = inferCoin(this.intel, {
        walletCoin: d.walletCoin,
        poolCoins: d.coins ?? pool?.coins,
        algo: f.algo,
        dialect: f.dialect as string | undefined,
        agent: f.agent,
        host: f.pool!.host,
      });
      if (c2.coin) {
        f.coin = c2.coin;
        f.coin_basis = c2.basis;
      }
    }
    if (sig.rank > agg.rank) {
      agg.rank = sig.rank;
      f.rule = sig.rule;
      f.title = sig.title;
      f.severity = sig.severity;
      f.attack = attackFor(kind, ep.port, !!s.proxy);
    }
    // The evidence list stays sorted: each new packet goes into its place (as push-then-sort put it). It holds
    // every packet added (at most 32), so it is its own membership test.
    const packets = f.evidence[0]!.packets!;
    if (d.packets?.length) {
      for (const p of d.packets) {
        if (packets.length >= MAX_EVIDENCE_PACKETS) break;
        if (!packets.includes(p)) {
          insertSorted(packets, p);
        }
      }
    } else if (packets.length < MAX_EVIDENCE_PACKETS && !packets.includes(pkt)) {
      insertSorted(packets, pkt);
    }
    f.last_seen = iso(ts);
    if (!agg.emitted) {
      agg.emitted = true;
      this.opts.onFinding?.(f);
    } else if (fresh) this.opts.onUpdate?.(f);
  }

  /** All findings, strongest first, and the capture-level statistics a cloud team reports. */
  finish(): { findings: Finding[]; summary: TrafficSummary } {
    return finishFindings([this.partial()], this.intel);
  }

  /**
   * This analyzer's findings before the capture-wide decisions of `finishFindings`: connection findings (named
   * from the IP → name map where an answer came after the connection began) and DNS-lookup findings. A
   * parallel analysis merges the partials of its shards; a single pass has one.
   */
  partial(): PartialFindings {
    const conns = [...this.conns.values()].map((a) => a.finding);
    for (const f of conns) {
      if (f.pool?.host || !f.pool?.ip) continue;
      const name = this.dnsNames.get(f.pool.ip);
      if (name)
        namePool(
          f,
          name,
          this.intel,
          `server address ${f.pool.ip} resolves from pool name ${name} in this capture`,
        );
    }
    return { conns, dns: [...this.dnsFindings.values()] };
  }
}

/** Names a connection finding's pool by a host name, when intel knows it as a pool (`basis`: how it was guessed). */
function namePool(f: Finding, host: string, intel: IntelBase, reason: string, basis?: string): void {
  const m = intel.matchDomain(host);
  if (!m) return;
  if (basis) f.pool_host_basis = basis;
  Object.assign(f.pool!, { host, name: m.pool.name, domain: m.pool.host });
  (f.reasons as string[]).push(reason);
  if (!f.coin && m.pool.coins.length === 1) f.coin = m.pool.coins[0];
}

/** Findings of (a shard of) one capture, before `finishFindings`. */
export interface PartialFindings {
  conns: Finding[];
  dns: Finding[];
}

/**
 * Pure: the partials of one capture's shards → its findings, strongest first, and summary. DNS-lookup findings
 * of the same host and pool from several shards (several resolvers) become one. A connection still without a
 * name, when its host looked up exactly one pool in the capture, gets that pool as a stated guess; a pool
 * lookup is its own finding only when no connection to that pool was seen from that host.
 */
export function finishFindings(
  parts: readonly PartialFindings[],
  intel: IntelBase,
): { findings: Finding[]; summary: TrafficSummary } {
  const findings = parts.flatMap((p) => p.conns);
  const dns = mergeDnsFindings(parts.flatMap((p) => p.dns));
  const asked = new Map<string, Finding[]>();
  for (const d of dns) {
    const list = asked.get(d.host ?? '');
    if (list) list.push(d);
    else asked.set(d.host ?? '', [d]);
  }
  for (const f of findings) {
    if (f.pool?.host || !f.pool?.ip) continue;
    const mine = asked.get(f.host ?? '') ?? [];
    const domains = new Set(mine.map((d) => d.pool?.domain));
    if (domains.size !== 1) continue;
    const host = mine[0]!.pool!.host;
    const reason = `likely pool ${host}: the only pool this host looked up in the capture (address not confirmed)`;
    if (host) namePool(f, host, intel, reason, 'dns-query-same-host');
  }
  const connected = new Set(findings.map((f) => `${f.host}|${f.pool?.name ?? ''}`));
  for (const f of dns) if (!connected.has(`${f.host}|${f.pool?.name ?? ''}`)) findings.push(f);
  // Total order (id last): the same capture gives the same list whether analysed in one pass or in shards. Each
  // finding's rank and time form are read once, not at each comparison (the regex ran ~80k times, 13 ms, for the
  // 500 MB bench capture's 3,212 findings).
  const keyed = findings.map(sortKey);
  keyed.sort(
    (a, b) => b.rank - a.rank || compareTimes(a, b) || (a.f.id < b.f.id ? -1 : a.f.id > b.f.id ? 1 : 0),
  );
  const sorted = keyed.map((k) => k.f);
  return { findings: sorted, summary: summarise(sorted) };
}

const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

interface SortKey {
  f: Finding;
  rank: number;
  time: string;
  /** The time is in the 24-character ISO form. */
  iso: boolean;
}

function sortKey(f: Finding): SortKey {
  const time = f.time ?? '';
  return { f, rank: rankOf(f), time, iso: time.length === 24 && ISO_TIME.test(time) };
}

/**
 * a.localeCompare(b) for finding times. Two times in the same 24-character ISO form differ only in digits,
 * which the locale orders as their code units: compared directly (localeCompare, an ICU collation, was ~15 ms
 * of sorting the bench capture's 967 findings). Anything else (no time, a year past 9999) asks the locale.
 */
function compareTimes(a: SortKey, b: SortKey): number {
  if (a.iso && b.iso) return a.time < b.time ? -1 : a.time > b.time ? 1 : 0;
  return a.time.localeCompare(b.time);
}

/** DNS-lookup findings with one id (same host and pool, seen by several shards) merged into the earliest. */
function mergeDnsFindings(list: readonly Finding[]): Finding[] {
  const byId = new Map<string, Finding>();
  for (const f of list) {
    const have = byId.get(f.id);
    if (!have) {
      byId.set(f.id, f);
      continue;
    }
    const [first, other] = (have.first_seen ?? '') <= (f.first_seen ?? '') ? [have, f] : [f, have];
    first.last_seen = (first.last_seen ?? '') >= (other.last_seen ?? '') ? first.last_seen : other.last_seen;
    first.queries = ((first.queries as number) ?? 0) + ((other.queries as number) ?? 0);
    const pk = first.evidence[0]!.packets!;
    const merged = [...new Set([...pk, ...(other.evidence[0]!.packets ?? [])])].sort((a, b) => a - b);
    first.evidence[0]!.packets = merged.slice(0, MAX_EVIDENCE_PACKETS);
    byId.set(f.id, first);
  }
  return [...byId.values()];
}

// --------------------------------------------------------------------------------------------------

/** Rule → rank of the first signal with that rule (as a scan of SIGNALS in order would find it). */
const RANK_BY_RULE = new Map<string, number>();
for (const sig of Object.values(SIGNALS))
  if (!RANK_BY_RULE.has(sig.rule)) RANK_BY_RULE.set(sig.rule, sig.rank);

function rankOf(f: Finding): number {
  return RANK_BY_RULE.get(f.rule) ?? 0;
}

/** A signal's confidence when it brings none of its own (one table, not a literal made per call). */
const DEFAULT_CONFIDENCE: Record<SignalKind, number> = {
  stratum: 0.9,
  http: 0.85,
  agent: 0.8,
  sni: 0.85,
  proxy: 0.8,
  name: 0.8,
  behaviour: 0.6,
  tlsRhythm: 0.6,
  endpoint: 0.55,
};

function defaultConfidence(kind: SignalKind): number {
  return DEFAULT_CONFIDENCE[kind];
}

function attackFor(kind: SignalKind, port: number, proxied: boolean): AttackRef[] {
  const a: AttackRef[] = [ATTACK.resourceHijacking];
  if (kind === 'stratum' || kind === 'http') a.push(ATTACK.appLayerProtocol);
  if (kind === 'sni' || kind === 'behaviour' || kind === 'tlsRhythm') a.push(ATTACK.encryptedChannel);
  if (port !== 80 && port !== 443 && port !== 8080) a.push(ATTACK.nonStandardPort);
  if (proxied) a.push(ATTACK.proxy);
  return a;
}

const PROXY_NAMES = { 'http-connect': 'HTTP CONNECT', socks4: 'SOCKS4', socks5: 'SOCKS5' } as const;

/** Where a flow really goes: the target a proxy was asked for, else the server it connected to. */
function endpointOf(flow: Flow, s: FlowState): Endpoint {
  const t = s.proxy;
  if (!t) return { ip: flow.server, port: flow.serverPort };
  return { ...(t.ip ? { ip: t.ip } : {}), ...(t.host ? { host: t.host } : {}), port: t.port };
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

let isoTs = Number.NaN;
let isoText = '';

/**
 * ISO 8601 of a capture time; the last answer is kept, as one packet's time is asked for several times. A damaged
 * record's time can lie outside what a Date holds (pcapng resolution options, mangled seconds): the finding still
 * stands, at the epoch, rather than the analysis throwing.
 */
function iso(ts: number): string {
  if (ts !== isoTs) {
    isoText = msIso(Math.round(ts * 1000)) ?? '1970-01-01T00:00:00.000Z';
    isoTs = ts;
  }
  return isoText;
}

/** An answer section without CNAME records in which no A/AAAA address comes twice. */
function plainAnswers(answers: DnsMessage['answers']): boolean {
  for (let i = 0; i < answers.length; i++) {
    const a = answers[i]!;
    if (a.type === 5) return false;
    if (a.type !== 1 && a.type !== 28) continue;
    for (let j = 0; j < i; j++) {
      const b = answers[j]!;
      if ((b.type === 1 || b.type === 28) && b.data === a.data) return false;
    }
  }
  return true;
}

/** Puts `p` into the ascending list `list`, after any equal value. */
function insertSorted(list: number[], p: number): void {
  let i = list.length;
  list.push(p);
  while (i > 0 && list[i - 1]! > p) {
    list[i] = list[i - 1]!;
    i--;
  }
  list[i] = p;
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

function roundFeatures(f: object): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(f)) out[k] = Number.isFinite(v) ? round2(v as number) : -1;
  return out;
}

/** Midstream captures begin inside a line: accept a stream whose first bytes are printable and hold JSON. */
function looksLikeJsonLines(data: Uint8Array): boolean {
  const n = Math.min(data.length, 512);
  let brace = false;
  for (let i = 0; i < n; i++) {
    const b = data[i]!;
    if (b === 0x7b) brace = true;
    else if (b < 0x09 || (b > 0x0d && b < 0x20) || b === 0x7f) return false;
  }
  return brace;
}

const LOWER_NAME = /^[a-z0-9.-]*$/;
const UPPER_NAME = /^[A-Z0-9.-]*$/;

/**
 * a.localeCompare(b) for pool names and coin symbols. Two names both of lower-case letters, digits, dots and
 * hyphens (or both of upper-case ones) are ordered by the locale's root collation as by their code units, so they
 * are compared directly: the first localeCompare of a process loads ICU's collator, ~8-10 ms of every capture
 * with findings. Anything else asks the locale (a test holds the two to the same answers).
 */
export function compareNames(a: string, b: string): number {
  if ((LOWER_NAME.test(a) && LOWER_NAME.test(b)) || (UPPER_NAME.test(a) && UPPER_NAME.test(b)))
    return a < b ? -1 : a > b ? 1 : 0;
  return a.localeCompare(b);
}

export function summarise(findings: readonly Finding[]): TrafficSummary {
  const mining = findings.filter((f) => f.severity !== 'info' && f.severity !== 'low');
  const hosts = new Map<string, { pools: Set<string>; coins: Set<string> }>();
  const coinHosts = new Map<string, Set<string>>();
  const poolHosts = new Map<string, Set<string>>();
  const portFlows = new Map<number, number>();
  const byRule: Record<string, number> = {};
  for (const f of mining) {
    const host = f.host ?? '?';
    const h = hosts.get(host) ?? { pools: new Set(), coins: new Set() };
    hosts.set(host, h);
    const pool = f.pool?.domain ?? f.pool?.host ?? f.pool?.ip;
    if (pool) {
      h.pools.add(pool);
      (poolHosts.get(pool) ?? poolHosts.set(pool, new Set()).get(pool)!).add(host);
    }
    if (f.coin) {
      h.coins.add(f.coin);
      (coinHosts.get(f.coin) ?? coinHosts.set(f.coin, new Set()).get(f.coin)!).add(host);
    }
    if (f.pool?.port)
      portFlows.set(f.pool.port, (portFlows.get(f.pool.port) ?? 0) + ((f.flows as number) || 1));
    byRule[f.rule] = (byRule[f.rule] ?? 0) + 1;
  }
  const n = hosts.size || 1;
  const ranked = (m: Map<string, Set<string>>) =>
    [...m]
      .map(([k, v]) => ({ k, hosts: v.size, share: round2(v.size / n) }))
      .sort((a, b) => b.hosts - a.hosts || compareNames(a.k, b.k));
  return {
    hosts_mining: hosts.size,
    hosts: [...hosts].map(([host, h]) => ({ host, pools: [...h.pools].sort(), coins: [...h.coins].sort() })),
    coins: ranked(coinHosts).map(({ k, hosts: h, share }) => ({ coin: k, hosts: h, share })),
    pools: ranked(poolHosts).map(({ k, hosts: h, share }) => ({ pool: k, hosts: h, share })),
    ports: [...portFlows]
      .map(([port, flows]) => ({ port, flows }))
      .sort((a, b) => b.flows - a.flows || a.port - b.port),
    findings_by_rule: byRule,
  };
}

export type { Evidence };
