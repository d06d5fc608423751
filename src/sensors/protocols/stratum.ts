/**
 * Stratum dissector: mining pool protocols spoken as newline-delimited JSON-RPC over TCP.
 *
 * Dialects recognised:
 * - Monero / CryptoNote (xmrig, xmr-stak, coinhive proxies): `login {login, pass, agent, algo, rigid}`,
 *   server `job {blob, job_id, target, algo, seed_hash, height}` pushes, login results carrying a job,
 *   `submit {id, job_id, nonce, result}`, `keepalived`.
 * - Bitcoin stratum V1 (slushpool docs; also ZCash/Equihash pools): `mining.subscribe [agent, session, host,
 *   port]`, `mining.authorize [user, pass]`, `mining.notify`, `mining.set_difficulty`, `mining.set_target`,
 *   `mining.submit`, and the auxiliary `mining.*` methods.
 * - Ethereum getwork-over-stratum (ethproxy / "stratum1"): `eth_submitLogin [wallet, pass]` with a `worker`
 *   field, `eth_getWork`, `eth_submitWork`, `eth_submitHashrate`, work pushed as `{"id":0,"result":[...]}`.
 * - NiceHash EthereumStratum/1.0.0: `mining.subscribe [agent, "EthereumStratum/1.0.0"]`, 4-param notify.
 *
 * No single method name decides. JSON-RPC is everywhere (Electrum, LSP, bitcoind, chat apps, Zabbix), and
 * even `login` or `eth_getWork` exist outside mining. Each line that matches a mining method *and* the
 * parameter or result shape that method has in mining adds a named signal with a weight; the confidence is
 * the noisy-OR of the distinct signals, and each signal leaves a reason in words. Methods known from
 * non-mining JSON-RPC protocols damp a verdict that has no strong signal.
 *
 * Everything is bounded: `LineSplitter` caps a line at 64 KiB and discards longer ones without buffering
 * them (a 100 MB line without newline costs 64 KiB), the session ignores over-long lines, caps every string
 * it keeps, the request-id table, the method table, the evidence packet list and the reasons.
 */

import { objectOf, utf8 } from './bytes.ts';

export type Direction = 'c2s' | 's2c';
export type StratumDialect = 'monero' | 'bitcoin' | 'ethereum' | 'ethereum-nicehash' | 'unknown';

export interface StratumResult {
  isMining: boolean;
  /** 0..1, noisy-OR of the distinct signals seen. */
  confidence: number;
  dialect: StratumDialect;
  /** Wallet or pool user as sent (Monero login, mining.authorize user, eth_submitLogin wallet). Not parsed here. */
  login?: string;
  pass?: string;
  agent?: string;
  algo?: string;
  /** Pool host as the miner was told to address it (mining.subscribe host parameter). */
  host?: string;
  port?: number;
  rigid?: string;
  worker?: string;
  /** Work units received (job pushes, notify, getWork answers, jobs inside login results). */
  jobs: number;
  /** Shares submitted. */
  shares: number;
  acceptedShares?: number;
  /** Count per JSON-RPC method name seen in either direction. */
  methods: Record<string, number>;
  reasons: string[];
  /** Packet indexes of the lines that produced evidence (first ones, bounded). */
  packets: number[];
  firstEvidence?: { dir: Direction; method: string; packet: number };
  /** Line statistics: how much of the flow was JSON at all. */
  lines: { total: number; json: number; other: number; dropped: number };
}

const MAX_LINE = 64 * 1024;
const MAX_STR = 512;
const MAX_METHODS = 64;
const MAX_PENDING = 256;
const MAX_PACKETS = 64;
const MAX_REASONS = 32;
/** Confidence at which a flow is reported as mining. */
export const MINING_THRESHOLD = 0.6;

// ---------------------------------------------------------------------------------------------------------
// Line splitting

/**
 * Incremental splitter of one direction of a TCP stream into text lines. Lines longer than `maxLineBytes`
 * are dropped (counted in `droppedLines`) while their bytes stream past: the splitter never holds more than
 * `maxLineBytes`. Invalid UTF-8 becomes U+FFFD rather than an error.
 */
export class LineSplitter {
  private parts: Uint8Array[] = [];
  private size = 0;
  private discarding = false;
  droppedLines = 0;
  droppedBytes = 0;

  constructor(private readonly maxLineBytes = MAX_LINE) {}

  push(chunk: Uint8Array): string[] {
    const out: string[] = [];
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl >= 0 && this.size === 0 && !this.discarding && nl - start <= this.maxLineBytes) {
        // A whole line inside this chunk (the usual case): decoded where it lies, without the copy a line
        // that must outlive the chunk needs (each copy an off-heap buffer).
        this.emit(out, chunk.subarray(start, nl));
        start = nl + 1;
        continue;
      }
      const end = nl < 0 ? chunk.length : nl;
      this.append(chunk, start, end);
      if (nl < 0) break;
      this.finishLine(out);
      start = nl + 1;
    }
    return out;
  }

  /** End of stream: a last line without newline still counts. */
  flush(): string[] {
    const out: string[] = [];
    if (this.size > 0 || this.discarding) this.finishLine(out);
    return out;
  }

  /** Bytes currently held for an unfinished line (always ≤ maxLineBytes). */
  get buffered(): number {
    return this.size;
  }

  private append(chunk: Uint8Array, start: number, end: number): void {
    const n = end - start;
    if (n === 0) return;
    if (this.discarding) {
      this.droppedBytes += n;
      return;
    }
    if (this.size + n > this.maxLineBytes) {
      this.droppedBytes += this.size + n;
      this.parts = [];
      this.size = 0;
      this.discarding = true;
      return;
    }
    // Copy: the caller may reuse its buffer.
    this.parts.push(chunk.slice(start, end));
    this.size += n;
  }

  private finishLine(out: string[]): void {
    if (this.discarding) {
      this.droppedLines++;
      this.discarding = false;
      return;
    }
    let bytes: Uint8Array;
    if (this.parts.length === 1) bytes = this.parts[0]!;
    else {
      bytes = new Uint8Array(this.size);
      let o = 0;
      for (const p of this.parts) {
        bytes.set(p, o);
        o += p.length;
      }
    }
    this.parts = [];
    this.size = 0;
    this.emit(out, bytes);
  }

  private emit(out: string[], bytes: Uint8Array): void {
    let line = utf8(bytes);
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.trim().length > 0) out.push(line);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Cheap pre-filter

const KEYS = ['"method"', '"id"', '"jsonrpc"', '"result"', '"params"'].map((k) => Buffer.from(k, 'latin1'));

/**
 * Cheap check on the first bytes of a stream: a JSON object that names a JSON-RPC key early. Lets the
 * caller run JSON parsing only on candidate flows. Looks at no more than 512 bytes, searched as bytes (a
 * string of them built char by char was made for every unrecognised stream's first segment).
 */
export function looksLikeStratumStart(bytes: Uint8Array): boolean {
  let i = 0;
  while (
    i < bytes.length &&
    i < 16 &&
    (bytes[i] === 0x20 || bytes[i] === 0x09 || bytes[i] === 0x0d || bytes[i] === 0x0a)
  )
    i++;
  if (bytes[i] !== 0x7b) return false;
  const head = Buffer.from(bytes.buffer, bytes.byteOffset + i, Math.min(bytes.length - i, 512));
  return KEYS.some((k) => head.includes(k));
}

// ---------------------------------------------------------------------------------------------------------
// Session

type Json = unknown;
type Obj = Record<string, Json>;

const isObj = (v: Json): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const own = (o: Obj, k: string): Json => (Object.hasOwn(o, k) ? o[k] : undefined);
const cap = (s: string) => (s.length > MAX_STR ? s.slice(0, MAX_STR) : s);
const strOf = (v: Json): string | undefined => (typeof v === 'string' ? cap(v) : undefined);
const HEX = /^[0-9a-fA-F]+$/;
const isHex = (v: Json, len?: number): boolean =>
  typeof v === 'string' && v.length > 0 && HEX.test(v) && (len === undefined || v.length === len);
const is0xHex = (v: Json, len?: number): boolean =>
  typeof v === 'string' && v.startsWith('0x') && isHex(v.slice(2), len);

/** Agent strings of mining software (case-insensitive). Used as a supporting signal only. */
const MINER_AGENT =
  /xmrig|xmr-stak|xmrstak|cpuminer|ccminer|cgminer|bfgminer|sgminer|ethminer|claymore|phoenixminer|nanominer|lolminer|gminer|t-rex|nbminer|bminer|teamredminer|srbminer|wildrig|cryptodredge|ewbf|excavator|nheqminer|minerd|xmr-node-proxy|xmrigcc|kawpowminer|rigel|onezerominer|bzminer|xmrminer|miner\//i;

/** Methods of JSON-RPC protocols that are not mining. */
const NON_MINING_METHOD =
  /^(server\.|blockchain\.|textDocument\/|workspace\/|window\/|\$\/|initialize$|initialized$|shutdown$|exit$|getblockchaininfo$|getrawtransaction$|getnetworkinfo$|getbalance$|getwalletinfo$|sendrawtransaction$|getbestblockhash$|getblockcount$|getblock$|getmempoolinfo$|eth_call$|eth_getBalance$|eth_blockNumber$|eth_sendRawTransaction$|eth_getTransaction|eth_chainId$|net_version$|web3_|zabbix\.|user\.login$|echo$)/;

/** NON_MINING_METHOD's answer per method name (bounded): a flow's lines repeat a handful of names. */
const nonMiningNames = new Map<string, boolean>();
function nonMining(name: string): boolean {
  let v = nonMiningNames.get(name);
  if (v === undefined) {
    v = NON_MINING_METHOD.test(name);
    if (nonMiningNames.size >= 1024) nonMiningNames.clear();
    nonMiningNames.set(name, v);
  }
  return v;
}

type Fields = Partial<
  Pick<StratumResult, 'login' | 'pass' | 'agent' | 'algo' | 'host' | 'port' | 'rigid' | 'worker'>
>;

interface Signal {
  weight: number;
  /** 'stratum' = shared by the Bitcoin and NiceHash dialects. */
  dialect: Exclude<StratumDialect, 'unknown'> | 'stratum';
}

/** Monero algorithms come as a string or (xmrig) an array of strings. */
function algoText(v: Json): string | undefined {
  if (typeof v === 'string') return cap(v);
  if (Array.isArray(v)) {
    const xs = v.filter((x): x is string => typeof x === 'string').slice(0, 16);
    return xs.length ? cap(xs.join(',')) : undefined;
  }
  return undefined;
}

function isMoneroJob(v: Json): v is Obj {
  return isObj(v) && isHex(own(v, 'blob')) && typeof own(v, 'job_id') === 'string' && isHex(own(v, 'target'));
}

/** Ethereum work package: [headerHash, seedHash, target, (blockNumber)]. */
function isEthWork(v: Json): boolean {
  return (
    Array.isArray(v) &&
    v.length >= 3 &&
    v.length <= 4 &&
    is0xHex(v[0], 64) &&
    is0xHex(v[1], 64) &&
    is0xHex(v[2])
  );
}

/** JSON-RPC ids as map keys; only scalars are valid ids. */
function idKey(id: Json): string | undefined {
  if (typeof id === 'string') return 's' + cap(id);
  if (typeof id === 'number') return 'n' + id;
  return undefined;
}

/**
 * Per-flow state machine. Feed every line of both directions in order with the packet index where the
 * line ended; read `result()` at any time.
 */
export class StratumSession {
  private readonly signals = new Map<string, Signal>();
  private readonly methodCounts = new Map<string, number>();
  /** Request ids per direction, made at first use (as negatives: a Map made for every session cost in a first pass). */
  private readonly pending: Record<Direction, Map<string, string> | undefined> = {
    c2s: undefined,
    s2c: undefined,
  };
  private readonly reasonList: string[] = [];
  private readonly packetSet = new Set<number>();
  private negatives: Set<string> | undefined;
  private firstEvidence?: StratumResult['firstEvidence'];
  private fields: Fields = {};
  private submitWorker?: string;
  private jobs = 0;
  private shares = 0;
  private accepted = 0;
  private sawSubmitAnswer = false;
  private readonly stats = { total: 0, json: 0, other: 0, dropped: 0 };
  private lspFraming = false;
  // Context of the line being fed, for evidence bookkeeping.
  /**
   * The line being fed: direction, packet, and its method, or for an answer the method it answers (`curAnswer`).
   * Fields rather than an object a line, and an answer's 'x (result)' name built only when it becomes evidence.
   */
  private curDir: Direction = 'c2s';
  private curMethod: string | undefined = '';
  private curAnswer = false;
  private curPacket = 0;

  /** Adds lines dropped upstream (e.g. by a LineSplitter) to the statistics. */
  noteDropped(n: number): void {
    this.stats.dropped += n;
  }

  feed(dir: Direction, line: string, packetIndex: number): void {
    this.stats.total++;
    if (line.length > MAX_LINE) {
      this.stats.dropped++;
      return;
    }
    const t = line.trim();
    if (t.charCodeAt(0) !== 0x7b /* { */) {
      this.stats.other++;
      // LSP and other Content-Length framings put headers on their own lines: JSON-RPC, but not stratum.
      if (/^content-length:\s*\d+$/i.test(t) && !this.lspFraming) {
        this.lspFraming = true;
        this.negative('Content-Length framed JSON-RPC (LSP style), not newline-delimited stratum');
      }
      return;
    }
    let msg: Json;
    try {
      msg = JSON.parse(t);
    } catch {
      // Includes LSP bodies glued to the next header, truncated lines, and deeply nested junk.
      this.stats.other++;
      return;
    }
    if (!isObj(msg)) {
      this.stats.other++;
      return;
    }
    this.stats.json++;
    const method = own(msg, 'method');
    const id = idKey(own(msg, 'id'));
    if (typeof method === 'string') {
      const name = method.length > 64 ? method.slice(0, 64) : method;
      this.countMethod(name);
      this.curDir = dir;
      this.curMethod = name;
      this.curAnswer = false;
      this.curPacket = packetIndex;
      if (id !== undefined) this.remember(dir, id, name);
      this.request(name, msg);
    } else if (Object.hasOwn(msg, 'result') || Object.hasOwn(msg, 'error')) {
      // A response answers a request sent the other way.
      const other: Direction = dir === 'c2s' ? 's2c' : 'c2s';
      let forMethod: string | undefined;
      if (id !== undefined) {
        forMethod = this.pending[other]?.get(id);
        // Stratum clients reuse ids (xmr-stak sends every submit as id 1): keep the entry until overwritten.
      }
      this.curDir = dir;
      this.curMethod = forMethod;
      this.curAnswer = true;
      this.curPacket = packetIndex;
      this.response(forMethod, msg);
    }
  }

  /** result().isMining without building the result (asked after every segment that completed a line). */
  get isMining(): boolean {
    return this.confidence() >= MINING_THRESHOLD;
  }

  /** result().login without building the result. */
  get login(): string | undefined {
    return this.fields.login ?? this.submitWorker;
  }

  private confidence(): number {
    let p = 1;
    let strongest = 0;
    for (const s of this.signals.values()) {
      p *= 1 - s.weight;
      strongest = Math.max(strongest, s.weight);
    }
    let confidence = 1 - p;
    // Non-mining JSON-RPC methods only damp verdicts built from weak or medium signals: a server that pushes
    // real mining jobs is mining whatever else the flow carries.
    if (this.negatives && this.negatives.size > 0 && strongest < 0.8) confidence *= 0.5;
    return Math.round(confidence * 1000) / 1000;
  }

  result(): StratumResult {
    const score: Record<string, number> = {};
    for (const s of this.signals.values()) score[s.dialect] = (score[s.dialect] ?? 0) + s.weight;
    const confidence = this.confidence();

    let dialect: StratumDialect = 'unknown';
    if (this.signals.size > 0) {
      if ((score['ethereum-nicehash'] ?? 0) > 0) dialect = 'ethereum-nicehash';
      else {
        let best = 0;
        for (const d of ['monero', 'bitcoin', 'ethereum'] as const) {
          if ((score[d] ?? 0) > best) {
            best = score[d]!;
            dialect = d;
          }
        }
        if (dialect === 'unknown' && (score.stratum ?? 0) > 0) dialect = 'bitcoin';
      }
    }
    const r: StratumResult = {
      isMining: confidence >= MINING_THRESHOLD,
      confidence,
      dialect,
      jobs: this.jobs,
      shares: this.shares,
      methods: objectOf(this.methodCounts),
      reasons: [...this.reasonList],
      packets: [...this.packetSet],
      lines: { ...this.stats },
    };
    const fields = this.fields as Record<string, unknown>;
    for (const k in fields) {
      const v = fields[k];
      if (v !== undefined) (r as unknown as Record<string, unknown>)[k] = v;
    }
    if (r.login === undefined && this.submitWorker !== undefined) r.login = this.submitWorker;
    if (this.sawSubmitAnswer) r.acceptedShares = this.accepted;
    const e = this.firstEvidence;
    if (e) r.firstEvidence = { dir: e.dir, method: e.method, packet: e.packet };
    return r;
  }

  // ---- bookkeeping

  private countMethod(name: string): void {
    const n = this.methodCounts.get(name);
    if (n !== undefined) this.methodCounts.set(name, n + 1);
    else if (this.methodCounts.size < MAX_METHODS) this.methodCounts.set(name, 1);
    if (nonMining(name)) this.negative(`non-mining JSON-RPC method ${JSON.stringify(name)}`);
  }

  private remember(dir: Direction, id: string, method: string): void {
    const m = (this.pending[dir] ??= new Map());
    m.delete(id);
    if (m.size >= MAX_PENDING) m.delete(m.keys().next().value as string);
    m.set(id, method);
  }

  private negative(reason: string): void {
    const negatives = (this.negatives ??= new Set());
    if (negatives.has(reason) || negatives.size >= 8) return;
    negatives.add(reason);
    this.reason(reason);
  }

  private reason(text: string): void {
    if (this.reasonList.length < MAX_REASONS) this.reasonList.push(text);
  }

  /** Records a signal the first time it is seen (with its reason) and the evidence packet every time. */
  private signal(kind: string, weight: number, dialect: Signal['dialect'], reason: string): void {
    const prev = this.signals.get(kind);
    if (!prev) {
      this.signals.set(kind, { weight, dialect });
      this.reason(reason);
    } else if (weight > prev.weight) prev.weight = weight;
    if (this.packetSet.size < MAX_PACKETS) this.packetSet.add(this.curPacket);
    if (!this.firstEvidence && weight > 0) {
      const m = this.curMethod;
      const method = this.curAnswer ? (m ? `${m} (result)` : 'result') : (m ?? '');
      this.firstEvidence = { dir: this.curDir, method, packet: this.curPacket };
    }
  }

  private set<K extends keyof Fields>(k: K, v: Fields[K] | undefined): void {
    if (v !== undefined && v !== '' && this.fields[k] === undefined) this.fields[k] = v;
  }

  private agent(a: string | undefined): void {
    if (!a) return;
    this.set('agent', a);
    if (MINER_AGENT.test(a))
      this.signal('miner-agent', 0.5, 'stratum', `mining software agent ${JSON.stringify(a)}`);
  }

  // ---- requests and notifications

  private request(method: string, msg: Obj): void {
    const params = own(msg, 'params');
    const arr = Array.isArray(params) ? params : undefined;
    const obj = isObj(params) ? params : undefined;
    switch (method) {
      // Monero / CryptoNote
      case 'login': {
        if (!obj || typeof own(obj, 'login') !== 'string' || !Object.hasOwn(obj, 'pass')) return;
        const agent = strOf(own(obj, 'agent'));
        const algo = algoText(own(obj, 'algo'));
        this.set('login', strOf(own(obj, 'login')));
        this.set('pass', strOf(own(obj, 'pass')));
        this.set('rigid', strOf(own(obj, 'rigid')));
        this.set('algo', algo);
        if (algo)
          this.signal(
            'monero-login',
            0.8,
            'monero',
            'Monero stratum login with login/pass and an algorithm list',
          );
        else if (agent)
          this.signal('monero-login', 0.5, 'monero', 'Monero stratum login with login/pass/agent');
        else
          this.signal('monero-login', 0.35, 'monero', 'login request with Monero-shaped login/pass params');
        this.agent(agent);
        return;
      }
      case 'job': {
        if (!isMoneroJob(obj)) return;
        this.moneroJob(obj, 'server pushed a Monero job (blob/job_id/target)');
        return;
      }
      case 'submit': {
        if (
          !obj ||
          typeof own(obj, 'job_id') !== 'string' ||
          !isHex(own(obj, 'nonce')) ||
          !isHex(own(obj, 'result'), 64)
        )
          return;
        this.shares++;
        this.signal('monero-submit', 0.7, 'monero', 'Monero share submitted (job_id/nonce/result hash)');
        return;
      }
      case 'keepalived':
        if (obj && typeof own(obj, 'id') === 'string')
          this.signal('monero-keepalive', 0.2, 'monero', 'Monero stratum keepalived with session id');
        return;
      case 'getjob':
        if (obj && typeof own(obj, 'id') === 'string')
          this.signal('monero-getjob', 0.3, 'monero', 'Monero getjob request');
        return;

      // Bitcoin stratum V1 and NiceHash EthereumStratum
      case 'mining.subscribe': {
        if (!arr) {
          if (params === undefined || isObj(params))
            this.signal('subscribe', 0.4, 'stratum', 'mining.subscribe request');
          return;
        }
        const p0 = strOf(arr[0]);
        const p1 = strOf(arr[1]);
        if (p1 && /^EthereumStratum\//i.test(p1)) {
          this.signal('subscribe-nicehash', 0.6, 'ethereum-nicehash', `mining.subscribe announcing ${p1}`);
        } else {
          this.signal('subscribe', 0.5, 'bitcoin', 'mining.subscribe request');
        }
        this.agent(p0);
        const host = strOf(arr[2]);
        if (host && /^[A-Za-z0-9.-]{1,253}$/.test(host)) this.set('host', host.toLowerCase());
        const port = Number(arr[3]);
        if (arr[3] !== null && arr[3] !== undefined && Number.isInteger(port) && port > 0 && port < 65536)
          this.set('port', port);
        return;
      }
      case 'mining.authorize': {
        if (!arr || typeof arr[0] !== 'string') return;
        this.set('login', strOf(arr[0]));
        this.set('pass', strOf(arr[1]));
        this.signal('authorize', 0.4, 'stratum', 'mining.authorize with user and password');
        return;
      }
      case 'mining.notify':
        if (arr) this.notify(arr);
        return;
      case 'mining.set_difficulty':
        if (arr && typeof arr[0] === 'number')
          this.signal(
            'set-difficulty',
            0.4,
            'stratum',
            'pool set a share difficulty (mining.set_difficulty)',
          );
        return;
      case 'mining.set_target':
        if (arr && isHex(arr[0], 64))
          this.signal('set-target', 0.45, 'stratum', 'pool set a 256-bit share target (mining.set_target)');
        return;
      case 'mining.submit': {
        if (!arr || arr.length < 3 || typeof arr[0] !== 'string' || typeof arr[1] !== 'string') return;
        this.shares++;
        if (!this.submitWorker) this.submitWorker = strOf(arr[0]);
        if (arr.length === 3)
          this.signal(
            'submit',
            0.6,
            'ethereum-nicehash',
            'share submitted with 3 params (NiceHash EthereumStratum)',
          );
        else this.signal('submit', 0.6, 'bitcoin', 'share submitted (mining.submit worker/job/nonce)');
        return;
      }
      case 'mining.set_extranonce':
      case 'mining.extranonce.subscribe':
      case 'mining.get_transactions':
      case 'mining.configure':
      case 'mining.suggest_difficulty':
      case 'mining.suggest_target':
      case 'mining.multi_version':
      case 'mining.capabilities':
      case 'mining.ping':
      case 'client.reconnect':
      case 'client.get_version':
      case 'client.show_message':
        this.signal(`aux:${method}`, 0.25, 'stratum', `stratum auxiliary method ${method}`);
        return;

      // Ethereum getwork-over-stratum (ethproxy)
      case 'eth_submitLogin': {
        const user = arr?.[0];
        if (!arr || typeof user !== 'string') return;
        this.set('login', strOf(user));
        this.set('pass', strOf(arr[1]));
        this.set('worker', strOf(own(msg, 'worker')));
        const wallet = is0xHex(user.slice(0, 42), 40);
        this.signal(
          'eth-login',
          wallet ? 0.7 : 0.6,
          'ethereum',
          wallet ? 'eth_submitLogin with an Ethereum address' : 'eth_submitLogin (ethproxy stratum login)',
        );
        return;
      }
      case 'eth_getWork':
        this.set('worker', strOf(own(msg, 'worker')));
        this.signal('eth-getwork', 0.3, 'ethereum', 'eth_getWork request');
        return;
      case 'eth_submitWork':
        if (arr && arr.length === 3 && is0xHex(arr[0], 16) && is0xHex(arr[1], 64) && is0xHex(arr[2], 64)) {
          this.shares++;
          this.signal('eth-submit', 0.6, 'ethereum', 'eth_submitWork with nonce/header/mix digest');
        }
        return;
      case 'eth_submitHashrate':
        if (arr && arr.length === 2 && is0xHex(arr[0]) && is0xHex(arr[1]))
          this.signal('eth-hashrate', 0.4, 'ethereum', 'eth_submitHashrate reporting a hash rate');
        return;
    }
  }

  private moneroJob(job: Obj, reason: string): void {
    this.jobs++;
    this.set('algo', strOf(own(job, 'algo')));
    this.signal('monero-job', 0.85, 'monero', reason);
  }

  private notify(p: Json[]): void {
    let kind: string | undefined;
    let dialect: Signal['dialect'] = 'stratum';
    const clean = typeof p[p.length - 1] === 'boolean';
    if (p.length >= 9 && isHex(p[1], 64) && Array.isArray(p[4])) {
      kind = 'mining.notify with a Bitcoin job (prevhash, coinbase parts, merkle branch)';
      dialect = 'bitcoin';
    } else if (p.length >= 8 && isHex(p[1], 8) && isHex(p[2], 64) && isHex(p[3], 64)) {
      kind = 'mining.notify with an Equihash (ZCash-style) job header';
      dialect = 'bitcoin';
    } else if (p.length === 4 && isHex(p[1], 64) && isHex(p[2], 64) && clean) {
      kind = 'mining.notify with a NiceHash EthereumStratum job (seed hash, header hash)';
      dialect = 'ethereum-nicehash';
    } else if (
      p.length >= 3 &&
      p.length <= 5 &&
      (is0xHex(p[1], 64) || isHex(p[1], 64)) &&
      (is0xHex(p[2], 64) || isHex(p[2], 64))
    ) {
      kind = 'mining.notify with an Ethereum job (header hash, seed hash)';
      dialect = 'ethereum';
    } else if (p.length >= 3 && clean && typeof p[0] === 'string') {
      kind = 'mining.notify job push with a clean-jobs flag';
    }
    if (!kind) return;
    this.jobs++;
    this.signal(`notify:${dialect}`, kind.startsWith('mining.notify job push') ? 0.5 : 0.85, dialect, kind);
  }

  // ---- responses

  private response(forMethod: string | undefined, msg: Obj): void {
    const result = own(msg, 'result');
    const error = own(msg, 'error');
    // Monero login answer: recognised by shape even when the request was not seen (mid-session capture).
    if (isObj(result) && isMoneroJob(own(result, 'job'))) {
      this.moneroJob(own(result, 'job') as Obj, 'login answered with a Monero job (blob/job_id/target)');
      return;
    }
    // ethproxy work: answer to eth_getWork or pushed with id 0.
    // The shape (three 32-byte 0x-hex words) is distinctive enough without matching the request id.
    if (isEthWork(result)) {
      this.jobs++;
      this.signal('eth-work', 0.8, 'ethereum', 'Ethereum work package (header hash, seed hash, target)');
      return;
    }
    // Bitcoin subscribe answer: [[["mining.notify", id], ...], extranonce1, extranonce2_size].
    if (Array.isArray(result) && result.length >= 2) {
      const subs = JSON.stringify(result[0] ?? null);
      if (subs.length < 4096 && subs.includes('"mining.notify"')) {
        if (/EthereumStratum/i.test(subs))
          this.signal(
            'subscribe-answer',
            0.6,
            'ethereum-nicehash',
            'subscribe answered with an EthereumStratum session',
          );
        else if (isHex(result[1]) && typeof result[2] === 'number')
          this.signal(
            'subscribe-answer',
            0.6,
            'bitcoin',
            'subscribe answered with notify subscription and extranonce',
          );
        return;
      }
      if (forMethod === 'mining.subscribe' && isHex(result[1])) {
        this.signal('subscribe-answer', 0.5, 'bitcoin', 'subscribe answered with session id and extranonce');
        return;
      }
    }
    const ok = result === true || (isObj(result) && own(result, 'status') === 'OK');
    switch (forMethod) {
      case 'submit':
      case 'mining.submit':
      case 'eth_submitWork':
        this.sawSubmitAnswer = true;
        if (ok && (error === null || error === undefined)) {
          this.accepted++;
          this.signal('share-accepted', 0.3, 'stratum', 'pool accepted a share');
        }
        return;
      case 'mining.authorize':
      case 'eth_submitLogin':
        if (result === true)
          this.signal('login-accepted', 0.1, 'stratum', `pool accepted the login (${forMethod})`);
        return;
    }
    // Stratum V1 errors are [code, message, traceback] triples, not JSON-RPC 2.0 objects.
    if (
      Array.isArray(error) &&
      error.length === 3 &&
      typeof error[0] === 'number' &&
      typeof error[1] === 'string'
    )
      this.signal('stratum-error', 0.15, 'stratum', 'error in stratum V1 form [code, message, traceback]');
  }
}

// ---------------------------------------------------------------------------------------------------------
// Flow convenience

/** Both directions of one TCP flow: bytes in, a StratumResult out. */
export class StratumFlow {
  readonly session = new StratumSession();
  private readonly splitters: Record<Direction, LineSplitter>;
  private counted = 0;

  constructor(maxLineBytes = MAX_LINE) {
    this.splitters = { c2s: new LineSplitter(maxLineBytes), s2c: new LineSplitter(maxLineBytes) };
  }

  /** Feeds one TCP payload; lines completed in it are attributed to `packetIndex`. */
  push(dir: Direction, bytes: Uint8Array, packetIndex: number): void {
    for (const line of this.splitters[dir].push(bytes)) this.session.feed(dir, line, packetIndex);
  }

  /** End of both streams: trailing lines without newline are fed too. */
  end(packetIndex: number): void {
    for (const dir of ['c2s', 's2c'] as const) {
      for (const line of this.splitters[dir].flush()) this.session.feed(dir, line, packetIndex);
    }
  }

  result(): StratumResult {
    const dropped = this.splitters.c2s.droppedLines + this.splitters.s2c.droppedLines;
    if (dropped > this.counted) {
      this.session.noteDropped(dropped - this.counted);
      this.counted = dropped;
    }
    return this.session.result();
  }
}
