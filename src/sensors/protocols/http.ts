/**
 * HTTP/1.x dissector for miner traffic (RFC 9112 message syntax).
 *
 * Before stratum, miners fetched work over HTTP JSON-RPC: `getwork` (obsolete, miners only),
 * `getblocktemplate` with BIP 22/23 client capabilities, `submitblock`; pools answered with `X-Long-Polling`
 * and `X-Stratum` headers pointing the miner to a stratum URL. bfgminer and cgminer still try it first
 * (bitcoin-mining.pcap: `POST /` to us1.bitminter.com:3333 with `X-Mining-Extensions` and basic auth), and
 * browser miners reach their pool over a WebSocket upgrade.
 *
 * `getblocktemplate` alone is also what pool software sends to its own full node, so it is not enough:
 * the verdict combines the method with miner-only headers (`X-Mining-Extensions`, `X-Mining-Hashrate`),
 * a miner User-Agent, pool response headers, or a stratum server answering the HTTP request in raw JSON.
 *
 * Bounds: a head is at most 16 KiB, a body is looked at up to 64 KiB (longer bodies are skipped, not
 * buffered), at most 64 messages per direction are analysed, every kept string is capped.
 */
import { latin1, objectOf, utf8 } from './bytes.ts';

export interface HttpRequestHead {
  method: string;
  /** Request target as sent (path and query, or absolute URI for proxies). */
  path: string;
  version: string;
  /** Names lowercased; repeated headers joined with ', '. */
  headers: Record<string, string>;
}

export interface HttpResponseHead {
  version: string;
  status: number;
  reason: string;
  headers: Record<string, string>;
}

export type HttpHeadResult<T> =
  | { status: 'need-more' }
  | { status: 'done'; head: T /** offset of the first body byte */; bodyOffset: number }
  | { status: 'not-http'; reason: string };

export interface HttpMiningResult {
  isMining: boolean;
  confidence: number;
  agent?: string;
  user?: string;
  pass?: string;
  /** Host header without port, lowercased. */
  host?: string;
  port?: number;
  /** Worker (rig) name, from an eth getwork URL (`/?miner=...@0x...@rig`, `/0x.../rig`). */
  worker?: string;
  /** Stratum URL a pool advertised in `X-Stratum`. */
  stratumUrl?: string;
  longPolling?: string;
  /** A WebSocket upgrade was requested (browser miners talk to their pool this way). */
  websocket?: boolean;
  /** JSON-RPC methods seen in request bodies. */
  methods: Record<string, number>;
  reasons: string[];
  packets: number[];
}

const MAX_HEAD = 16 * 1024;
const MAX_BODY = 64 * 1024;
const MAX_MESSAGES = 64;
const MAX_STR = 512;
const MAX_HEADERS = 100;
export const HTTP_MINING_THRESHOLD = 0.6;

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const cap = (s: string) => (s.length > MAX_STR ? s.slice(0, MAX_STR) : s);

/**
 * Index just after the blank line ending the head (CRLFCRLF, or bare LFLF from sloppy clients), or -1. Hops
 * from LF to LF with the native indexOf: a loop over every byte of every head (hundreds of bytes) ran mostly
 * in V8's interpreter during a capture's first thousands of flows.
 */
function headEnd(b: Uint8Array, limit: number): number {
  const n = Math.min(b.length, limit);
  for (let i = b.indexOf(0x0a); i >= 0 && i < n; i = b.indexOf(0x0a, i + 1)) {
    if (b[i + 1] === 0x0a) return i + 2;
    if (b[i + 1] === 0x0d && b[i + 2] === 0x0a) return i + 3;
  }
  return -1;
}

/**
 * Header lines → headers, or null if one is malformed. With `wanted`, every line is still checked (and counted)
 * as before but only those names are kept: the session's own heads, whose other headers nobody reads.
 */
function parseHeaderLines(
  lines: string[],
  from: number,
  wanted?: ReadonlySet<string>,
): Record<string, string> | null {
  // Written straight into the plain object callers get, read back by own properties only (a header named like
  // an Object.prototype member is just a name). The former null-prototype object copied by
  // Object.fromEntries(Object.entries()) was the HTTP parser's largest cost.
  const headers: Record<string, string> = {};
  let count = 0;
  let last: string | undefined;
  for (let i = from; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') continue;
    if ((line[0] === ' ' || line[0] === '\t') && last !== undefined) {
      // obs-fold continuation (RFC 9112 §5.2): append to the previous header.
      if (!wanted || wanted.has(last)) put(headers, last, cap(headers[last] + ' ' + line.trim()));
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) return null;
    const name = line.slice(0, colon).toLowerCase();
    if (!TOKEN.test(name)) return null;
    if (++count > MAX_HEADERS) break;
    last = name;
    if (wanted && !wanted.has(name)) continue;
    const value = line.slice(colon + 1).trim();
    put(headers, name, cap(Object.hasOwn(headers, name) ? headers[name] + ', ' + value : value));
  }
  return headers;
}

/** o[k] = v as an own data property, `__proto__` included (assigned, it would set the prototype). */
function put(o: Record<string, string>, k: string, v: string): void {
  if (k === '__proto__')
    Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  else o[k] = v;
}

function splitHead(
  b: Uint8Array,
  maxBytes: number,
): { lines: string[]; end: number } | 'need-more' | 'too-large' {
  const end = headEnd(b, maxBytes);
  if (end < 0) return b.length >= maxBytes ? 'too-large' : 'need-more';
  // split(/\r?\n/) without the regular expression: cut at each LF, then drop the CR before it.
  const lines = latin1(b, 0, end).split('\n');
  for (let i = 0; i < lines.length - 1; i++) {
    const line = lines[i]!;
    if (line.charCodeAt(line.length - 1) === 0x0d) lines[i] = line.slice(0, -1);
  }
  return { lines, end };
}

const METHOD_RE = /^[A-Z][A-Z-]{2,19}$/;

/**
 * Parses an HTTP/1.x request head from the start of a stream. Rejects early (`not-http`) as soon as the
 * first bytes cannot start a request line, so it is cheap to try on every flow. With `wanted`, every header line
 * is still checked but only those names are kept (parseHeaderLines).
 */
export function parseHttpRequestHead(
  b: Uint8Array,
  maxBytes = MAX_HEAD,
  wanted?: ReadonlySet<string>,
): HttpHeadResult<HttpRequestHead> {
  // Early reject: the method is uppercase letters followed by a space.
  for (let i = 0; i < Math.min(b.length, 21); i++) {
    const c = b[i]!;
    if (c === 0x20) {
      if (i < 3) return { status: 'not-http', reason: 'bad method' };
      break;
    }
    if (!((c >= 0x41 && c <= 0x5a) || c === 0x2d) || i === 20)
      return { status: 'not-http', reason: 'bad method' };
  }
  const s = splitHead(b, maxBytes);
  if (s === 'need-more') return { status: 'need-more' };
  if (s === 'too-large') return { status: 'not-http', reason: 'head larger than the limit' };
  const m = /^([A-Z-]+) (\S+) (HTTP\/1\.[01])$/.exec(s.lines[0] ?? '');
  if (!m || !METHOD_RE.test(m[1]!)) return { status: 'not-http', reason: 'bad request line' };
  const headers = parseHeaderLines(s.lines, 1, wanted);
  if (!headers) return { status: 'not-http', reason: 'bad header line' };
  return {
    status: 'done',
    head: { method: m[1]!, path: cap(m[2]!), version: m[3]!, headers },
    bodyOffset: s.end,
  };
}

/** Parses an HTTP/1.x response head (status line and headers); `wanted` as for parseHttpRequestHead. */
export function parseHttpResponseHead(
  b: Uint8Array,
  maxBytes = MAX_HEAD,
  wanted?: ReadonlySet<string>,
): HttpHeadResult<HttpResponseHead> {
  const prefix = 'HTTP/1.';
  for (let i = 0; i < Math.min(b.length, prefix.length); i++) {
    if (b[i] !== prefix.charCodeAt(i)) return { status: 'not-http', reason: 'no HTTP status line' };
  }
  const s = splitHead(b, maxBytes);
  if (s === 'need-more') return { status: 'need-more' };
  if (s === 'too-large') return { status: 'not-http', reason: 'head larger than the limit' };
  const m = /^(HTTP\/1\.[01]) (\d{3})(?: (.*))?$/.exec(s.lines[0] ?? '');
  if (!m) return { status: 'not-http', reason: 'bad status line' };
  const headers = parseHeaderLines(s.lines, 1, wanted);
  if (!headers) return { status: 'not-http', reason: 'bad header line' };
  return {
    status: 'done',
    head: { version: m[1]!, status: Number(m[2]), reason: cap(m[3] ?? ''), headers },
    bodyOffset: s.end,
  };
}

/** Cheap check: does the stream start like an HTTP/1.x request? */
export function looksLikeHttpRequestStart(b: Uint8Array): boolean {
  // The method's first byte, checked before the view below is made (it is every stream's first segment):
  // parseHttpRequestHead rejects the same bytes at once, and an empty stream is 'need-more' but too short.
  const c = b[0];
  if (c === undefined || !((c >= 0x41 && c <= 0x5a) || c === 0x2d)) return false;
  const r = parseHttpRequestHead(b.subarray(0, 24));
  return r.status !== 'not-http' && b.length >= 4;
}

/** `Authorization: Basic base64(user:pass)` → user and pass (capped). */
export function decodeBasicAuth(value: string): { user: string; pass?: string } | undefined {
  const m = /^basic\s+([A-Za-z0-9+/=_-]{1,2048})\s*$/i.exec(value);
  if (!m) return undefined;
  const text = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon < 0) return { user: cap(text) };
  return { user: cap(text.slice(0, colon)), pass: cap(text.slice(colon + 1)) };
}

/** User agents of mining software. */
export const MINER_USER_AGENT =
  /\b(bfgminer|cgminer|sgminer|cpuminer|minerd|ccminer|xmrig|xmr-stak|ethminer|claymore|phoenixminer|nanominer|lolminer|gminer|t-rex|nbminer|teamredminer|srbminer|wildrig|bminer|poclbm|diablominer|guiminer|50miner|bitminter)[\s/_-]?/i;

/**
 * What bytes must hold (any case) before an HTTP flow can give a decisive signal, the only kind that makes it
 * mining: a miner User-Agent (every MINER_USER_AGENT name contains one of these: http.test.ts checks), the miner and
 * pool headers (X-Mining-Extensions, X-Mining-Hashrate, X-Stratum), the getwork methods and their answers
 * (`getwork`, `eth_getWork`, `eth_submit*`, a `result`), and what would hide those from a plain search: a chunked
 * body (its framing can split a word) and a JSON `\u` escape. A superset, never a verdict: a flow without any of
 * these in its bytes cannot be mining over HTTP, and the analyzer does not parse it (detect/traffic/analyzer.ts).
 */
export const HTTP_DECISIVE_NEEDLES =
  /x-mining-|x-stratum|getwork|eth_submit|result|chunked|\\u|miner|xmrig|xmr-stak|claymore|t-rex|wildrig|poclbm|bitminter/i;
/** A needle split across two segments has at most this many bytes in the first. */
export const HTTP_NEEDLE_SEAM = 9;

/** MINER_USER_AGENT's answer per User-Agent (bounded): a capture's clients send a few agents again and again. */
const minerAgents = new Map<string, boolean>();
function minerAgent(ua: string): boolean {
  let v = minerAgents.get(ua);
  if (v === undefined) {
    v = MINER_USER_AGENT.test(ua);
    if (minerAgents.size >= 1024) minerAgents.clear();
    minerAgents.set(ua, v);
  }
  return v;
}

/**
 * Ethereum getwork (ethminer/Claymore `getwork://`, eth-proxy): the method set only a miner and its pool
 * speak. Each is decisive when its parameters (or, for eth_getWork, its answer) have the getwork shape.
 */
const ETH_WORK_METHODS = new Set(['eth_getWork', 'eth_submitWork', 'eth_submitHashrate']);
const HEX32 = /^0x[0-9a-fA-F]{64}$/;
const HEX8 = /^0x[0-9a-fA-F]{16}$/;
const HEXQ = /^0x[0-9a-fA-F]{1,64}$/;
const ETH_ADDRESS = /^0x[0-9a-fA-F]{40}$/;

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** eth_submitWork [nonce(8), header(32), mix(32)] / eth_submitHashrate [rate, id(32)] parameter shapes. */
function ethParamsShaped(method: string, params: unknown): boolean {
  // libjson-rpc-cpp (ethminer) sends `"params":null` for a call without parameters.
  if (!Array.isArray(params)) return method === 'eth_getWork' && (params === undefined || params === null);
  const str = (i: number) => (typeof params[i] === 'string' ? (params[i] as string) : '');
  if (method === 'eth_getWork') return params.length === 0;
  if (method === 'eth_submitWork')
    return params.length === 3 && HEX8.test(str(0)) && HEX32.test(str(1)) && HEX32.test(str(2));
  return params.length === 2 && HEXQ.test(str(0)) && HEX32.test(str(1));
}

/** eth_getWork's answer: [header hash, seed hash, boundary] (32 bytes each in hex), sometimes a block number. */
export function isEthWorkResult(result: unknown): boolean {
  return (
    Array.isArray(result) &&
    result.length >= 3 &&
    result.length <= 4 &&
    HEX32.test(String(result[0])) &&
    HEX32.test(String(result[1])) &&
    HEX32.test(String(result[2]))
  );
}

/**
 * Wallet and rig from an eth getwork request target: `/?miner=<MH/s>@<0x wallet>@<rig>` (eth-proxy and the
 * pools that took its form), `/<0x wallet>/<rig>` and `/<0x wallet>.<rig>` (ethminer and Claymore URLs).
 */
export function ethLoginFromPath(path: string): { wallet: string; worker?: string } | undefined {
  const q = path.indexOf('?');
  if (q >= 0) {
    for (const kv of path.slice(q + 1).split('&')) {
      const [k, v] = kv.split('=');
      if (k !== 'miner' || !v) continue;
      const parts = safeDecode(v).split('@');
      const i = parts.findIndex((x) => ETH_ADDRESS.test(x));
      if (i < 0) continue;
      const worker = parts[i + 1];
      return { wallet: parts[i]!, ...(worker ? { worker: cap(worker) } : {}) };
    }
  }
  // open-ethereum-pool's proxy routes /<wallet>/<rig> (also under a prefix such as /miner/).
  const segs = (q >= 0 ? path.slice(0, q) : path).split('/').filter(Boolean).slice(0, 8);
  for (let i = 0; i < segs.length; i++) {
    const seg = segs[i]!;
    const dot = seg.indexOf('.');
    const wallet = dot > 0 ? seg.slice(0, dot) : seg;
    if (!ETH_ADDRESS.test(wallet)) continue;
    const worker = dot > 0 ? seg.slice(dot + 1) : segs[i + 1];
    return { wallet, ...(worker ? { worker: cap(safeDecode(worker)) } : {}) };
  }
  return undefined;
}

const WORK_METHODS = new Set([
  'getwork',
  'getblocktemplate',
  'submitblock',
  'getauxblock',
  'eth_getWork',
  'eth_submitWork',
  'eth_submitHashrate',
]);

/** BIP 23 capabilities only a mining client advertises. */
const MINER_CAPABILITIES = [
  'coinbasetxn',
  'workid',
  'coinbase/append',
  'longpoll',
  'time/increment',
  'submit/coinbase',
];

function jsonBody(body: Uint8Array | string | undefined): unknown {
  if (body === undefined) return undefined;
  if (typeof body !== 'string' && !mayStartJson(body)) return undefined;
  const text = typeof body === 'string' ? body : utf8(body);
  if (text.length === 0 || text.length > MAX_BODY) return undefined;
  const t = text.trim();
  if (t[0] !== '{' && t[0] !== '[') return undefined;
  try {
    return JSON.parse(t);
  } catch {
    return undefined;
  }
}

/**
 * False when the body's text cannot start, after trim(), with '{' or '[': its first byte that is not ASCII white
 * space is another ASCII character, or there is none. Then jsonBody's answer is known without decoding the
 * body (most HTTP bodies are not JSON: OCSP, forms, HTML); a non-ASCII first byte (a BOM, Unicode space) still
 * goes through the decoder and trim().
 */
function mayStartJson(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    if (c === 0x20 || (c >= 0x09 && c <= 0x0d)) continue;
    return c === 0x7b || c === 0x5b || c >= 0x80;
  }
  return false;
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const own = (o: Record<string, unknown>, k: string): unknown => (Object.hasOwn(o, k) ? o[k] : undefined);

type Extracted = Omit<HttpMiningResult, 'isMining' | 'confidence' | 'methods' | 'reasons' | 'packets'>;

/**
 * Accumulates evidence over the requests and responses of one flow (or a single exchange). Feed heads and
 * bodies with `request()` / `response()`, or bytes with `HttpMiningSession`.
 */
/** What an analyzer that has not made its collections yet reads. */
const NO_SIGNALS: ReadonlyMap<string, number> = new Map();

export class HttpMiningAnalyzer {
  // Made at first use: most HTTP flows are not mining and never signal or carry JSON-RPC, and a Map or Set made
  // for every flow showed in a capture's first pass (an analyzer cost ~14 us to make cold, ~1.5 us warm).
  private signals: Map<string, number> | undefined;
  private methodCounts: Map<string, number> | undefined;
  private readonly reasonList: string[] = [];
  private packetSet: Set<number> | undefined;
  private readonly out: Extracted = {};
  private decisive = false;
  private packet = 0;
  /** Methods of requests not answered yet, in order (HTTP/1.1 answers in order): names an answer's call. */
  private readonly pending: string[] = [];

  request(head: HttpRequestHead, body?: Uint8Array | string, packet = 0): void {
    this.packet = packet;
    const h = head.headers;
    const ua = h['user-agent'];
    if (ua) {
      this.setOnce('agent', cap(ua));
      if (minerAgent(ua))
        this.signal('miner-agent', 0.6, `mining software User-Agent ${JSON.stringify(cap(ua))}`, true);
    }
    if (h['x-mining-extensions'] !== undefined)
      this.signal(
        'x-mining-extensions',
        0.6,
        `X-Mining-Extensions header (${cap(h['x-mining-extensions'])})`,
        true,
      );
    if (h['x-mining-hashrate'] !== undefined)
      this.signal('x-mining-hashrate', 0.6, 'X-Mining-Hashrate header', true);
    if (h.authorization) {
      const auth = decodeBasicAuth(h.authorization);
      if (auth) {
        this.setOnce('user', auth.user);
        if (auth.pass !== undefined) this.setOnce('pass', auth.pass);
      }
    }
    if (h.host) {
      const m = /^\[?([^\]]*?)\]?(?::(\d{1,5}))?$/.exec(h.host.trim());
      if (m?.[1]) {
        this.setOnce('host', m[1].toLowerCase());
        if (m[2]) this.setOnce('port', Number(m[2]));
      }
    }
    if ((h.upgrade ?? '').toLowerCase().includes('websocket')) {
      this.out.websocket = true;
      this.note('WebSocket upgrade requested');
    }
    const json = jsonBody(body);
    const calls = Array.isArray(json) ? json.slice(0, 16) : [json];
    let first: string | undefined;
    for (const call of calls) {
      if (!isObj(call)) continue;
      const method = own(call, 'method');
      if (typeof method !== 'string') continue;
      const name = method.slice(0, 64);
      first ??= name;
      const counts = (this.methodCounts ??= new Map());
      const n = counts.get(name);
      if (n !== undefined) counts.set(name, n + 1);
      else if (counts.size < 64) counts.set(name, 1);
      if (!WORK_METHODS.has(name)) continue;
      if (ETH_WORK_METHODS.has(name) && ethParamsShaped(name, own(call, 'params'))) {
        this.signal(`method:${name}`, 0.6, `Ethereum getwork ${name} call with its parameter shape`, true);
        const login = ethLoginFromPath(head.path);
        if (login) {
          this.setOnce('user', login.wallet);
          this.setOnce('worker', login.worker);
        }
        continue;
      }
      // getwork left bitcoind in 0.10 (2015): today only miners and pools speak it.
      const getwork = name === 'getwork';
      this.signal(`method:${name}`, getwork ? 0.45 : 0.35, `JSON-RPC ${name} request`, getwork);
      const params = own(call, 'params');
      const p0 = Array.isArray(params) ? params[0] : undefined;
      const caps = isObj(p0) ? own(p0, 'capabilities') : undefined;
      if (name === 'getblocktemplate' && Array.isArray(caps)) {
        const miner = caps.filter((c) => typeof c === 'string' && MINER_CAPABILITIES.includes(c));
        if (miner.length > 0)
          this.signal(
            'gbt-capabilities',
            0.3,
            `getblocktemplate with mining client capabilities (${miner.slice(0, 4).join(', ')})`,
          );
      }
    }
    if (this.pending.length < 16) this.pending.push(first ?? '');
  }

  response(head: HttpResponseHead, body?: Uint8Array | string, packet = 0): void {
    this.packet = packet;
    const h = head.headers;
    if (h['x-stratum']) {
      this.setOnce('stratumUrl', cap(h['x-stratum']));
      this.signal(
        'x-stratum',
        0.6,
        `pool advertises stratum at ${JSON.stringify(cap(h['x-stratum']))}`,
        true,
      );
    }
    if (h['x-long-polling']) {
      this.setOnce('longPolling', cap(h['x-long-polling']));
      this.signal('x-long-polling', 0.4, 'X-Long-Polling header (getwork/GBT pool)');
    }
    if (h['x-roll-ntime'] !== undefined)
      this.signal('x-roll-ntime', 0.3, 'X-Roll-NTime header (getwork pool)');
    if (head.status === 101 && (h.upgrade ?? '').toLowerCase().includes('websocket')) {
      this.out.websocket = true;
      this.note('WebSocket upgrade accepted');
    }
    const json = jsonBody(body);
    const result = isObj(json) ? own(json, 'result') : undefined;
    const asked = this.pending.shift();
    if (isEthWorkResult(result) && (asked === 'eth_getWork' || asked === undefined || asked === ''))
      this.signal('eth-work-result', 0.6, 'eth_getWork answered with header, seed and boundary hashes', true);
    if (
      isObj(result) &&
      typeof own(result, 'midstate') === 'string' &&
      typeof own(result, 'data') === 'string'
    )
      this.signal('getwork-result', 0.5, 'getwork answer with midstate/data', true);
  }

  /** The server answered an HTTP request with raw JSON lines: a stratum port, as pools on 3333 do. */
  rawJsonAnswer(line: string, packet = 0): void {
    this.packet = packet;
    let msg: unknown;
    try {
      msg = JSON.parse(line);
    } catch {
      return;
    }
    if (isObj(msg) && (Object.hasOwn(msg, 'result') || Object.hasOwn(msg, 'error')))
      this.signal('raw-json-answer', 0.3, 'HTTP request answered with bare JSON-RPC (a stratum port)');
  }

  /** result().isMining without building the result (asked after every segment). */
  get isMining(): boolean {
    return this.decisive && this.confidence() >= HTTP_MINING_THRESHOLD;
  }

  private confidence(): number {
    let p = 1;
    for (const w of (this.signals ?? NO_SIGNALS).values()) p *= 1 - w;
    return Math.round((1 - p) * 1000) / 1000;
  }

  result(): HttpMiningResult {
    const confidence = this.confidence();
    return {
      // Decisive signals are the miner-only ones; supporting ones (capabilities, long polling) cannot
      // make a verdict alone, so a pool's own full-node GBT traffic stays below the line.
      isMining: confidence >= HTTP_MINING_THRESHOLD && this.decisive,
      confidence,
      ...this.out,
      methods: objectOf(this.methodCounts ?? NO_SIGNALS),
      reasons: [...this.reasonList],
      packets: this.packetSet ? [...this.packetSet] : [],
    };
  }

  private setOnce<K extends keyof Extracted>(k: K, v: Extracted[K]): void {
    if (this.out[k] === undefined && v !== undefined && v !== '') this.out[k] = v;
  }

  private note(reason: string): void {
    if (this.reasonList.length < 32 && !this.reasonList.includes(reason)) this.reasonList.push(reason);
  }

  private signal(kind: string, weight: number, reason: string, decisive = false): void {
    const signals = (this.signals ??= new Map());
    if (!signals.has(kind)) {
      signals.set(kind, weight);
      this.note(reason);
    }
    if (decisive) this.decisive = true;
    const packets = (this.packetSet ??= new Set());
    if (packets.size < 64) packets.add(this.packet);
  }
}

type DirState = {
  buf: Uint8Array;
  /** chunk-size / chunk-data / chunk-end / trailer: a chunked body (RFC 9112 §7.1). */
  mode: 'head' | 'body' | 'raw' | 'off' | 'chunk-size' | 'chunk-data' | 'chunk-end' | 'trailer';
  head?: HttpRequestHead | HttpResponseHead;
  bodyLeft: number;
  body: Uint8Array[];
  bodySize: number;
  /** Declared Content-Length of the current body. */
  bodyTotal: number;
  messages: number;
};

/**
 * Byte-level driver for one flow: splits requests and responses (Content-Length bodies; chunked or
 * unframed bodies end the analysis of that direction) and feeds an HttpMiningAnalyzer.
 */
const EMPTY = new Uint8Array(0);

/**
 * The headers the session and HttpMiningAnalyzer read (framing; request(); response()): the only ones its heads
 * keep. The rest of a browser's or CDN's dozen headers were cut out, trimmed and stored for nothing.
 */
const REQUEST_HEADERS_READ: ReadonlySet<string> = new Set([
  'transfer-encoding',
  'content-length',
  'user-agent',
  'x-mining-extensions',
  'x-mining-hashrate',
  'authorization',
  'host',
  'upgrade',
]);
const RESPONSE_HEADERS_READ: ReadonlySet<string> = new Set([
  'transfer-encoding',
  'content-length',
  'x-stratum',
  'x-long-polling',
  'x-roll-ntime',
  'upgrade',
]);

function newDirState(): DirState {
  return {
    buf: EMPTY,
    mode: 'head',
    bodyLeft: 0,
    body: [],
    bodySize: 0,
    bodyTotal: 0,
    messages: 0,
  };
}

export class HttpMiningSession {
  readonly analyzer = new HttpMiningAnalyzer();
  private readonly st: Record<'c2s' | 's2c', DirState> = { c2s: newDirState(), s2c: newDirState() };
  /** Set when the client side is not HTTP at all. */
  notHttp = false;

  push(dir: 'c2s' | 's2c', bytes: Uint8Array, packet = 0): void {
    const s = this.st[dir];
    if (s.mode === 'off') return;
    let data = bytes;
    if (s.buf.length > 0) {
      data = new Uint8Array(s.buf.length + bytes.length);
      data.set(s.buf, 0);
      data.set(bytes, s.buf.length);
      s.buf = EMPTY;
    }
    let off = 0;
    while (off < data.length && (s.mode as DirState['mode']) !== 'off') {
      if (s.mode === 'chunk-size' || s.mode === 'chunk-end' || s.mode === 'trailer') {
        // One line: a chunk's size (extensions after ';' ignored), the CRLF after its data, or a trailer line.
        const nl = data.indexOf(0x0a, off);
        if (nl < 0) {
          if (data.length - off > 1024) s.mode = 'off';
          else s.buf = data.slice(off);
          return;
        }
        const line = latin1(data, off, nl).trim();
        off = nl + 1;
        if (s.mode === 'chunk-end') {
          s.mode = 'chunk-size';
          continue;
        }
        if (s.mode === 'trailer') {
          if (line === '') this.finish(dir, packet);
          continue;
        }
        const size = Number.parseInt(line.split(';')[0]!, 16);
        if (!Number.isSafeInteger(size) || size < 0 || !/^[0-9a-fA-F]/.test(line)) {
          s.mode = 'off';
          return;
        }
        if (size === 0) s.mode = 'trailer';
        else {
          s.bodyLeft = size;
          s.mode = 'chunk-data';
        }
        continue;
      }
      if (s.mode === 'chunk-data') {
        const take = Math.min(s.bodyLeft, data.length - off);
        if (s.bodySize + take <= MAX_BODY) s.body.push(data.slice(off, off + take));
        s.bodySize += take;
        s.bodyLeft -= take;
        off += take;
        if (s.bodyLeft === 0) s.mode = 'chunk-end';
        continue;
      }
      if (s.mode === 'body') {
        const take = Math.min(s.bodyLeft, data.length - off);
        if (s.bodyTotal <= MAX_BODY) {
          // The part that ends the body is read at once (finish below): a view will do. Earlier parts must
          // outlive this segment and are copied.
          s.body.push(take === s.bodyLeft ? data.subarray(off, off + take) : data.slice(off, off + take));
          s.bodySize += take;
        }
        s.bodyLeft -= take;
        off += take;
        if (s.bodyLeft === 0) this.finish(dir, packet);
        continue;
      }
      if (s.mode === 'raw') {
        // Server answered in raw JSON lines; look at the first complete line only.
        const nl = data.indexOf(0x0a, off);
        const end = nl < 0 ? data.length : nl;
        if (nl < 0 && end - off < MAX_HEAD) {
          s.buf = data.slice(off);
          return;
        }
        // Only meaningful as an answer to an HTTP request: on a stratum flow it says nothing.
        if (this.st.c2s.messages > 0 || this.st.c2s.head)
          this.analyzer.rawJsonAnswer(latin1(data, off, Math.min(end, off + MAX_HEAD)).trim(), packet);
        s.mode = 'off';
        return;
      }
      const rest = data.subarray(off);
      if (dir === 's2c' && s.messages === 0 && rest[0] === 0x7b) {
        s.mode = 'raw';
        continue;
      }
      const r =
        dir === 'c2s'
          ? parseHttpRequestHead(rest, MAX_HEAD, REQUEST_HEADERS_READ)
          : parseHttpResponseHead(rest, MAX_HEAD, RESPONSE_HEADERS_READ);
      if (r.status === 'need-more') {
        s.buf = rest.slice();
        return;
      }
      if (r.status === 'not-http') {
        if (dir === 'c2s' && s.messages === 0) this.notHttp = true;
        s.mode = 'off';
        return;
      }
      s.head = r.head;
      off += r.bodyOffset;
      const te = (r.head.headers['transfer-encoding'] ?? '').toLowerCase();
      const cl = Number(r.head.headers['content-length'] ?? '0');
      if (te.includes('chunked')) {
        // Decoded up to MAX_BODY in all (bodyTotal 0 until the end: finish() checks bodySize then).
        s.mode = 'chunk-size';
        s.bodyTotal = 0;
        continue;
      }
      if (!Number.isSafeInteger(cl) || cl < 0) {
        // No usable framing: analyse the head and stop following this direction.
        this.finish(dir, packet);
        s.mode = 'off';
        return;
      }
      s.bodyLeft = cl;
      s.bodyTotal = cl;
      s.mode = 'body';
      if (cl === 0) this.finish(dir, packet);
    }
  }

  result(): HttpMiningResult {
    return this.analyzer.result();
  }

  /** The server has answered at least once (or stopped speaking HTTP): its answer has been weighed. */
  get answered(): boolean {
    return this.st.s2c.messages > 0 || this.st.s2c.mode === 'off';
  }

  private finish(dir: 'c2s' | 's2c', packet: number): void {
    const s = this.st[dir];
    let body: Uint8Array | undefined;
    // Bodies over the limit were skipped, not buffered: analyse the head only.
    if (s.bodySize > 0 && s.bodyTotal <= MAX_BODY && s.bodySize <= MAX_BODY)
      body = s.body.length === 1 ? s.body[0] : Buffer.concat(s.body);
    if (s.head) {
      if (dir === 'c2s') this.analyzer.request(s.head as HttpRequestHead, body, packet);
      else this.analyzer.response(s.head as HttpResponseHead, body, packet);
    }
    s.head = undefined;
    s.body = [];
    s.bodySize = 0;
    s.bodyTotal = 0;
    s.mode = ++s.messages >= MAX_MESSAGES ? 'off' : 'head';
  }
}
