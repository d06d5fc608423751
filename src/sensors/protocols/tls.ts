/**
 * TLS handshake dissector: ClientHello (RFC 8446 §4.1.2, RFC 5246 §7.4.1.2) and, minimally, ServerHello.
 *
 * Miners and browser miners increasingly wrap stratum in TLS, so the ClientHello is often all we see in
 * clear: the SNI names the pool (`us1.bitminter.com` on port 3333 in bitcoin-mining.pcap) and the
 * JA3/JA4 fingerprints name the client library (xmrig's OpenSSL build differs from a browser).
 *
 * The hello arrives as the first bytes of a client→server TCP stream and may span several TLS records and
 * several TCP segments, so `ClientHelloParser` is fed bytes and answers need-more / done / not-tls. The record
 * layer and the ClientHello body are read by the packet core (core/assembly/tls.ts), the one implementation: a
 * capture's flows are handed to it by the flow table without a call into JavaScript, and this module's parsers
 * run the same code in a core instance of their own. This module reads the parsed hello out of the core's memory
 * (`HelloArea`) and builds the fingerprints. Work is bounded: the handshake message may be at most `maxBytes`
 * (16 KiB by default; post-quantum key shares make real hellos ~2 KiB), at most 32 records are read, and every
 * inner length is checked against its container before use, so lying lengths end in `not-tls`, never in an
 * over-read.
 *
 * Fingerprints:
 * - JA3 (salesforce/ja3): `version,ciphers,extensions,groups,point_formats`, decimal, dash-joined, GREASE
 *   (RFC 8701) removed, MD5 of that string.
 * - JA4 (FoxIO, technical_details/JA4.md): `t13d1516h2_<sha256-12 of sorted ciphers>_<sha256-12 of sorted
 *   extensions minus SNI/ALPN, '_', signature algorithms in wire order>`.
 * - JA3S: `version,cipher,extensions` of the ServerHello, MD5.
 */

import { createHash } from 'node:crypto';
import { TWO } from '../../util/iso.ts';
import { remembered } from '../../util/remembered.ts';
import { instantiateCore } from '../pcap/core/load.ts';
import { type Latin1Buffer, latin1 } from './bytes.ts';

export const TLS_EXT = {
  SERVER_NAME: 0x0000,
  SUPPORTED_GROUPS: 0x000a,
  EC_POINT_FORMATS: 0x000b,
  SIGNATURE_ALGORITHMS: 0x000d,
  ALPN: 0x0010,
  SUPPORTED_VERSIONS: 0x002b,
} as const;

/** RFC 8701 GREASE: 0x0a0a, 0x1a1a, ... 0xfafa (both bytes equal, low nibble 0xa). */
export function isGrease(v: number): boolean {
  return (v & 0x0f0f) === 0x0a0a && v >> 8 === (v & 0xff);
}

export interface ClientHello {
  /** Version in the first record header (often 0x0301 for compatibility). */
  recordVersion: number;
  /** legacy_version in the hello body (0x0303 for TLS 1.2 and 1.3). */
  version: number;
  /** Highest non-GREASE entry of supported_versions, else `version`: the version the client really wants. */
  maxVersion: number;
  sessionIdLength: number;
  /** In wire order, GREASE included (fingerprints strip it). */
  cipherSuites: number[];
  compressionMethods: number[];
  /** Extension types in wire order, GREASE included. */
  extensions: number[];
  /** host_name from server_name, lowercased; absent when the client connects by IP. */
  sni?: string;
  alpn: string[];
  supportedGroups: number[];
  ecPointFormats: number[];
  signatureAlgorithms: number[];
  supportedVersions: number[];
  ja3: string;
  ja3Hash: string;
  ja4: string;
  /** JA4 raw form (sorted lists before hashing): lets an analyst see why two hashes differ. */
  ja4r: string;
}

export interface ServerHello {
  version: number;
  /** supported_versions' selected version when present (TLS 1.3), else `version`. */
  selectedVersion: number;
  cipherSuite: number;
  extensions: number[];
  alpn?: string;
  ja3s: string;
  ja3sHash: string;
}

export type TlsParseResult<T> =
  | { status: 'need-more' }
  | {
      status: 'done';
      hello: T /** bytes of the stream consumed up to the end of the hello's record */;
      consumed: number;
    }
  | { status: 'not-tls'; reason: string };

export interface TlsParserOptions {
  /** Largest handshake message accepted (default 16 KiB). */
  maxBytes?: number;
  /** First character of JA4: 't' TLS over TCP (default). The record-layer parser reads TLS records only;
   *  QUIC hellos go through parseClientHelloMessage, DTLS is not parsed (ja4() accepts 'd' for callers
   *  that build a ClientHello themselves). */
  transport?: 't' | 'q';
}

/** Bounds-checked big-endian reader; any over-read throws Malformed, caught by the hello parsers. */
class Malformed extends Error {}

class Reader {
  constructor(
    private readonly b: Uint8Array,
    public pos = 0,
    private readonly end = b.length,
  ) {}
  get left(): number {
    return this.end - this.pos;
  }
  u8(): number {
    if (this.pos + 1 > this.end) throw new Malformed('u8');
    return this.b[this.pos++]!;
  }
  u16(): number {
    if (this.pos + 2 > this.end) throw new Malformed('u16');
    const v = (this.b[this.pos]! << 8) | this.b[this.pos + 1]!;
    this.pos += 2;
    return v;
  }
  bytes(n: number): Uint8Array {
    if (n < 0 || this.pos + n > this.end) throw new Malformed('length beyond its container');
    const s = this.b.subarray(this.pos, this.pos + n);
    this.pos += n;
    return s;
  }
  /** A sub-reader over the next n bytes (a length-prefixed vector). */
  sub(n: number): Reader {
    if (n < 0 || this.pos + n > this.end) throw new Malformed('length beyond its container');
    const r = new Reader(this.b, this.pos, this.pos + n);
    this.pos += n;
    return r;
  }
}

/**
 * A parsed ClientHello. The fingerprints are computed on first read: most hellos in a capture are never
 * reported, and hashing them all cost ~20 µs a flow (about 80 ms on the 158 MB benchmark capture). They are
 * getters of the class, not accessors defined on each object: `Object.defineProperty` with a closure per hello
 * gave every hello a hidden class of its own, and parsing the bench capture's corpus hellos in a loop spent
 * ~30% of its time in GC that way (24 µs a hello warm). `toJSON` keeps the fingerprints in a hello's JSON.
 */
class ParsedClientHello implements ClientHello {
  extensions: number[] = [];
  declare sni?: string;
  alpn: string[] = [];
  supportedGroups: number[] = [];
  ecPointFormats: number[] = [];
  signatureAlgorithms: number[] = [];
  supportedVersions: number[] = [];
  #ja3: string | undefined;
  #ja3Hash: string | undefined;
  #ja4: { ja4: string; raw: string } | undefined;

  constructor(
    public recordVersion: number,
    public version: number,
    public maxVersion: number,
    public sessionIdLength: number,
    public cipherSuites: number[],
    public compressionMethods: number[],
    private readonly transport: 't' | 'q' | 'd',
  ) {}

  get ja3(): string {
    return (this.#ja3 ??= ja3String(this));
  }
  set ja3(v: string) {
    this.#ja3 = v;
  }
  get ja3Hash(): string {
    return (this.#ja3Hash ??= md5(this.ja3));
  }
  set ja3Hash(v: string) {
    this.#ja3Hash = v;
  }
  get ja4(): string {
    return (this.#ja4 ??= ja4(this, this.transport)).ja4;
  }
  set ja4(v: string) {
    this.#ja4 = { ...(this.#ja4 ??= ja4(this, this.transport)), ja4: v };
  }
  get ja4r(): string {
    return (this.#ja4 ??= ja4(this, this.transport)).raw;
  }
  set ja4r(v: string) {
    this.#ja4 = { ...(this.#ja4 ??= ja4(this, this.transport)), raw: v };
  }

  /** The fields in the order a plain object of them always had (sni, set while parsing, last). */
  toJSON(): Record<string, unknown> {
    return {
      recordVersion: this.recordVersion,
      version: this.version,
      maxVersion: this.maxVersion,
      sessionIdLength: this.sessionIdLength,
      cipherSuites: this.cipherSuites,
      compressionMethods: this.compressionMethods,
      extensions: this.extensions,
      alpn: this.alpn,
      supportedGroups: this.supportedGroups,
      ecPointFormats: this.ecPointFormats,
      signatureAlgorithms: this.signatureAlgorithms,
      supportedVersions: this.supportedVersions,
      ja3: this.ja3,
      ja3Hash: this.ja3Hash,
      ja4: this.ja4,
      ja4r: this.ja4r,
      sni: this.sni,
    };
  }
}

// Fingerprint strings repeat within a capture (a fleet's clients share a few TLS stacks): hashing each
// once took ~5% off a whole `minewatch pcap` profile.
const md5 = remembered((s: string) => createHash('md5').update(s).digest('hex'), 4096);
const sha12 = remembered((s: string) => createHash('sha256').update(s).digest('hex').slice(0, 12), 4096);

const hex4 = (v: number) => v.toString(16).padStart(4, '0');
const noGrease = (xs: number[]) => xs.filter((x) => !isGrease(x));

/**
 * The fingerprint strings are written byte by byte into one scratch buffer and cut out as one string each,
 * without the filter/map/sort/join chains they are defined by (kept in the comments): those chains, and then
 * strings grown piece by piece, were ~7 us a hello warm and the largest garbage of the TLS flows, and every
 * hello the bench capture reports is fingerprinted. The results are the same strings (tls.test.ts checks
 * published fingerprints; fuzzed against the chains).
 */
const HEX_DIGITS = Buffer.from('0123456789abcdef', 'latin1');
let scratch = Buffer.alloc(4096) as Latin1Buffer;
let sortScratch = new Uint16Array(1024);
function room(n: number): void {
  if (scratch.length < n) scratch = Buffer.alloc(Math.max(n, scratch.length * 2)) as typeof scratch;
}

/** Writes x (an integer, 0 <= x <= 0xffff) in decimal at `at`; returns the end. */
function writeDecimal(x: number, at: number): number {
  // Digit by digit with integer division (no loop to count digits, no Math.floor calls): this runs mostly in
  // V8's interpreter during a capture's first thousands of hellos (see joinNumbers).
  let n = at;
  if (x >= 10) {
    if (x >= 100) {
      if (x >= 1000) {
        if (x >= 10000) scratch[n++] = 0x30 + ((x / 10000) | 0);
        scratch[n++] = 0x30 + (((x / 1000) | 0) % 10);
      }
      scratch[n++] = 0x30 + (((x / 100) | 0) % 10);
    }
    scratch[n++] = 0x30 + (((x / 10) | 0) % 10);
  }
  scratch[n++] = 0x30 + (x % 10);
  return n;
}

/**
 * `xs` minus GREASE (when asked), joined by `sep`: `noGrease(xs).join(sep)`. One loop with the tests written out
 * (no isGrease or u16 test call per value): the fingerprints of a capture's first thousands of hellos run in V8's
 * interpreter, where those calls were most of the cost (2,376 hellos of the 158 MB bench capture, fingerprinted
 * once each in a fresh process: see hexList for the number).
 */
function joinNumbers(xs: readonly number[], sep: number, dropGrease: boolean): string {
  const len = xs.length;
  room(len * 6);
  let n = 0;
  for (let i = 0; i < len; i++) {
    const x = xs[i]!;
    // isGrease(x) written out.
    if (dropGrease && (x & 0x0f0f) === 0x0a0a && x >> 8 === (x & 0xff)) continue;
    if (!(x >= 0 && x <= 0xffff && (x | 0) === x)) {
      // Not a u16 (a hand-made hello): the definition itself.
      const kept = dropGrease ? xs.filter((v) => !isGrease(v)) : xs;
      return kept.join(String.fromCharCode(sep));
    }
    if (n > 0) scratch[n++] = sep;
    n = writeDecimal(x, n);
  }
  return scratch.latin1Slice(0, n);
}

/** Which values a list keeps: all, all but GREASE, or all but GREASE, server_name and ALPN (JA4's extensions). */
const Keep = { All: 0, NoGrease: 1, NoGreaseSniAlpn: 2 } as const;
type Keep = (typeof Keep)[keyof typeof Keep];
function kept(x: number, keep: Keep): boolean {
  if (keep === Keep.All) return true;
  if (isGrease(x)) return false;
  return keep === Keep.NoGrease || (x !== TLS_EXT.SERVER_NAME && x !== TLS_EXT.ALPN);
}
/** How many values `kept` keeps (GREASE test written out, as in joinNumbers). */
function countNoGrease(xs: readonly number[]): number {
  let n = 0;
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i]!;
    if (!((x & 0x0f0f) === 0x0a0a && x >> 8 === (x & 0xff))) n++;
  }
  return n;
}

/**
 * The kept u16 values as 4-digit hex joined by ',', optionally sorted: `xs.filter(kept).map(hex4).sort().join(',')`
 * (without the intermediate arrays). One pass picks the kept values into a Uint16Array with the tests written out
 * (no kept, isGrease or u16 test call per value, three passes before): JA3 and JA4 of the bench capture's 2,376 hellos,
 * each once in a fresh process (cold, as in a capture's first pass): parse and
 * fingerprints 77-83 ms against 100-103 ms before (bench CPU time, one core, V8 interrupt budget as in the CLI).
 */
function hexList(xs: readonly number[], sort: boolean, keep: Keep): string {
  const len = xs.length;
  if (sortScratch.length < len) sortScratch = new Uint16Array(len * 2);
  const list = sortScratch;
  let count = 0;
  for (let i = 0; i < len; i++) {
    const x = xs[i]!;
    if (keep !== Keep.All) {
      if ((x & 0x0f0f) === 0x0a0a && x >> 8 === (x & 0xff)) continue;
      if (keep === Keep.NoGreaseSniAlpn && (x === TLS_EXT.SERVER_NAME || x === TLS_EXT.ALPN)) continue;
    }
    if (!(x >= 0 && x <= 0xffff && (x | 0) === x)) {
      // Other widths do not sort as numbers: the definition itself.
      const hex = xs.filter((v) => kept(v, keep)).map(hex4);
      return (sort ? hex.sort() : hex).join(',');
    }
    list[count++] = x;
  }
  // Four hex digits each: sorting the numbers sorts their hex text.
  if (sort && count > 1) list.subarray(0, count).sort();
  room(count * 5);
  let n = 0;
  for (let i = 0; i < count; i++) {
    const x = list[i]!;
    if (i > 0) scratch[n++] = 0x2c;
    scratch[n++] = HEX_DIGITS[x >> 12]!;
    scratch[n++] = HEX_DIGITS[(x >> 8) & 0xf]!;
    scratch[n++] = HEX_DIGITS[(x >> 4) & 0xf]!;
    scratch[n++] = HEX_DIGITS[x & 0xf]!;
  }
  return scratch.latin1Slice(0, n);
}

export function ja3String(
  h: Pick<ClientHello, 'version' | 'cipherSuites' | 'extensions' | 'supportedGroups' | 'ecPointFormats'>,
): string {
  // [version, noGrease(ciphers), noGrease(extensions), noGrease(groups), pointFormats], lists '-'-joined, ','-joined.
  const dash = 0x2d;
  return `${h.version},${joinNumbers(h.cipherSuites, dash, true)},${joinNumbers(h.extensions, dash, true)},${joinNumbers(
    h.supportedGroups,
    dash,
    true,
  )},${joinNumbers(h.ecPointFormats, dash, false)}`;
}

const JA4_VERSIONS: Record<number, string> = {
  772: '13',
  771: '12',
  770: '11',
  769: '10',
  768: 's3',
  2: 's2',
  65279: 'd1',
  65277: 'd2',
  65276: 'd3',
};

function isAlnum(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

/** First and last character of the first ALPN value; its hex form's first and last when either is not
 *  alphanumeric (JA4 spec), '00' when there is none. */
function ja4Alpn(alpn: string[]): string {
  const first = alpn[0];
  if (first === undefined || first.length === 0) return '00';
  const a = first.charCodeAt(0);
  const z = first.charCodeAt(first.length - 1);
  if (isAlnum(a) && isAlnum(z)) return first[0]! + first[first.length - 1]!;
  const hx = Array.from(first, (c) => c.charCodeAt(0).toString(16).padStart(2, '0')).join('');
  return hx[0]! + hx[hx.length - 1]!;
}

export function ja4(
  h: Pick<ClientHello, 'maxVersion' | 'sni' | 'cipherSuites' | 'extensions' | 'alpn' | 'signatureAlgorithms'>,
  transport: 't' | 'q' | 'd' = 't',
): { ja4: string; raw: string } {
  const a =
    transport +
    (JA4_VERSIONS[h.maxVersion] ?? '00') +
    // server_name (0) is never GREASE: among all extensions or the kept ones alike.
    (h.sni !== undefined || h.extensions.includes(TLS_EXT.SERVER_NAME) ? 'd' : 'i') +
    TWO[Math.min(countNoGrease(h.cipherSuites), 99)] +
    TWO[Math.min(countNoGrease(h.extensions), 99)] +
    ja4Alpn(h.alpn);
  const cipherList = hexList(h.cipherSuites, true, Keep.NoGrease);
  const extList = hexList(h.extensions, true, Keep.NoGreaseSniAlpn);
  const sigs = hexList(h.signatureAlgorithms, false, Keep.NoGrease);
  const cPart = sigs ? `${extList}_${sigs}` : extList;
  const b = cipherList ? sha12(cipherList) : '000000000000';
  const c = extList || sigs ? sha12(cPart) : '000000000000';
  return { ja4: `${a}_${b}_${c}`, raw: `${a}_${cipherList}_${cPart}` };
}

function parseServerHelloBody(body: Uint8Array): ServerHello {
  const r = new Reader(body);
  const version = r.u16();
  r.bytes(32);
  const sidLen = r.u8();
  if (sidLen > 32) throw new Malformed('session id too long');
  r.bytes(sidLen);
  const cipherSuite = r.u16();
  r.u8(); // compression
  const sh: ServerHello = {
    version,
    selectedVersion: version,
    cipherSuite,
    extensions: [],
    ja3s: '',
    ja3sHash: '',
  };
  if (r.left > 0) {
    const exts = r.sub(r.u16());
    while (exts.left > 0) {
      const type = exts.u16();
      const data = exts.sub(exts.u16());
      sh.extensions.push(type);
      if (type === TLS_EXT.SUPPORTED_VERSIONS && data.left === 2) sh.selectedVersion = data.u16();
      if (type === TLS_EXT.ALPN && data.left >= 3) {
        const list = data.sub(data.u16());
        sh.alpn = latin1(list.bytes(list.u8()));
      }
    }
  }
  if (r.left > 0) throw new Malformed('bytes after the extensions');
  sh.ja3s = [version, cipherSuite, noGrease(sh.extensions).join('-')].join(',');
  sh.ja3sHash = md5(sh.ja3s);
  return sh;
}

// ---- the parsed hello in the core's memory ----

/** What a core exports for the TLS reader (core/assembly/tls.ts). */
export interface TlsCore {
  memory: WebAssembly.Memory;
  helloPtr(): number;
  helloParse(ptr: number, len: number): number;
  tlsReaderNew(wantType: number, maxBytes: number): number;
  tlsReaderFeed(h: number, ptr: number, len: number): number;
  tlsHelloFeed(h: number, ptr: number, len: number): number;
  tlsReaderFree(h: number): void;
  tlsScratch(n: number): number;
}

/** The core's answers (HS_* in core/assembly/tls.ts). */
export const HELLO_NEED_MORE = 0;
export const HELLO_DONE = 1;
export const HELLO_FAIL = 2;

// HELLO's i32 fields (core/assembly/tls.ts, H_*).
const H_STATUS = 0;
const H_VERSION = 1;
const H_MAX_VERSION = 2;
const H_SID = 3;
const H_RECORD_VERSION = 4;
const H_CONSUMED = 5;
const H_HAS_SNI = 6;
const H_SNI = 7;
const H_SNI_LEN = 8;
const H_ALPN_COUNT = 9;
const H_ALPN = 10;
const H_POOL = 11;
const H_TAIL = 12;
const H_TAIL_LEN = 13;
const H_GAP = 14;
const H_BAD_TYPE = 15;
const H_BODY = 16;
const H_BODY_LEN = 17;
const H_KEY = 18;
const H_KEY_LEN = 19;
const H_LISTS = 20;
const H_FIELDS = H_LISTS + 14;

/** The reasons behind the core's codes: the record layer's, then the ClientHello body's (it was Malformed). */
const RECORD_REASONS: Record<number, string> = {
  1: 'not a handshake record',
  2: 'record interleaved',
  3: 'bad record version',
  4: 'bad record length',
  5: 'too many records',
  7: 'handshake message too large',
  8: 'hellos held over their memory cap',
};
const BODY_REASONS: Record<number, string> = {
  20: 'u8',
  21: 'u16',
  22: 'length beyond its container',
  23: 'session id too long',
  24: 'odd u16 vector',
  25: 'bytes after the extensions',
};

/**
 * A core's parsed hello (HELLO), read where it lies: valid until the core parses the next one. The flow table hands
 * one to its onHello handler, which reads the SNI (every TLS flow) and builds the whole ClientHello only for the
 * few flows a verdict needs it for.
 */
export class HelloArea {
  private readonly core: TlsCore;
  private readonly base: number;
  private i32: Int32Array;
  private u8: Uint8Array;
  private dv: DataView;

  constructor(core: TlsCore) {
    this.core = core;
    this.base = core.helloPtr();
    this.i32 = new Int32Array(0);
    this.u8 = new Uint8Array(0);
    this.dv = new DataView(new ArrayBuffer(0));
  }

  /** The views again when the core's memory has grown (the old buffer then reads as empty). */
  private at(field: number): number {
    if (this.u8.byteLength === 0) {
      const buf = this.core.memory.buffer;
      this.i32 = new Int32Array(buf, this.base, H_FIELDS);
      this.u8 = new Uint8Array(buf);
      this.dv = new DataView(buf);
    }
    return this.i32[field]!;
  }

  /** 0 for a parsed hello, else the reason's code. */
  get code(): number {
    return this.at(H_STATUS);
  }
  get consumed(): number {
    return this.at(H_CONSUMED);
  }
  /** Bytes of the stream lost while the hello was collected (the flow table's collector). */
  get gap(): boolean {
    return this.at(H_GAP) !== 0;
  }
  /** What followed the hello's last record in the segment that completed it (a view of the core's memory). */
  tail(): Uint8Array {
    const p = this.at(H_TAIL);
    return this.u8.subarray(p, p + this.at(H_TAIL_LEN));
  }
  /** The message body a stand-alone reader collected (a copy). */
  body(): Uint8Array {
    const p = this.at(H_BODY);
    return this.u8.slice(p, p + this.at(H_BODY_LEN));
  }
  /** Why the stream is not a hello, in the words the TypeScript parser used. */
  reason(wantType: number): string {
    const c = this.at(H_STATUS);
    if (c === 6) return `handshake type ${this.at(H_BAD_TYPE)} is not ${wantType}`;
    const r = RECORD_REASONS[c];
    if (r !== undefined) return r;
    return `malformed ${wantType === 1 ? 'ClientHello' : 'ServerHello'}: ${BODY_REASONS[c] ?? `code ${c}`}`;
  }
  /**
   * The hello's JA3 hash and JA4, built and hashed once per distinct fingerprint input (the core's key: versions,
   * host name or not, the lists, the first ALPN value) and then remembered: what a finding names a TLS client by.
   */
  fingerprints(transport: 't' | 'q' | 'd' = 't'): Fingerprints {
    const p = this.at(H_KEY);
    return fingerprintsByKey(transport + latin1(this.u8, p, p + this.at(H_KEY_LEN)), this, transport);
  }
  /** The ALPN values in order. */
  alpn(): string[] {
    const out: string[] = [];
    let p = this.at(H_ALPN);
    for (let i = this.at(H_ALPN_COUNT); i > 0; i--) {
      const len = this.u8[p]!;
      out.push(latin1(this.u8, p + 1, p + 1 + len));
      p += 1 + len;
    }
    return out;
  }
  /** host_name of server_name (lowercased, escaped), if the hello has one. */
  sni(): string | undefined {
    if (this.at(H_HAS_SNI) === 0) return undefined;
    const p = this.at(H_SNI);
    return latin1(this.u8, p, p + this.at(H_SNI_LEN));
  }
  private list(which: number): number[] {
    const pool = this.at(H_POOL);
    const first = this.at(H_LISTS + which * 2);
    const n = this.at(H_LISTS + which * 2 + 1);
    const out = new Array<number>(n);
    for (let i = 0; i < n; i++) out[i] = this.dv.getUint16(pool + (first + i) * 2, true);
    return out;
  }
  /** The whole ClientHello, its fields in the order the TypeScript parser set them. */
  hello(transport: 't' | 'q' | 'd' = 't'): ClientHello {
    const h = new ParsedClientHello(
      this.at(H_RECORD_VERSION),
      this.at(H_VERSION),
      this.at(H_MAX_VERSION),
      this.at(H_SID),
      this.list(0),
      this.list(1),
      transport,
    );
    h.extensions = this.list(2);
    const sni = this.sni();
    if (sni !== undefined) h.sni = sni;
    h.alpn = this.alpn();
    // An extension absent leaves its list empty; present, the count may still be 0 (an empty vector).
    h.supportedGroups = this.list(3);
    h.ecPointFormats = this.list(4);
    h.signatureAlgorithms = this.list(5);
    h.supportedVersions = this.list(6);
    return h;
  }
}

/** The fingerprints a finding names a TLS client by. */
export interface Fingerprints {
  ja3Hash: string;
  ja4: string;
}

/** The fingerprints by their inputs (HelloArea.fingerprints): a miss builds the hello and asks it. */
const fingerprintsByKey = remembered(
  (_key: string, area: HelloArea, transport: 't' | 'q' | 'd'): Fingerprints => {
    const h = area.hello(transport);
    return { ja3Hash: h.ja3Hash, ja4: h.ja4 };
  },
  4096,
);

/** A core of this module's own for the stand-alone parsers below (the flow table's hellos are read in its core). */
let own: { core: TlsCore; area: HelloArea; free: FinalizationRegistry<number> } | undefined;
function ownCore(): NonNullable<typeof own> {
  if (!own) {
    const core = instantiateCore() as unknown as TlsCore;
    // A parser dropped before its answer still holds its collector in the core's heap.
    own = { core, area: new HelloArea(core), free: new FinalizationRegistry((h) => core.tlsReaderFree(h)) };
  }
  return own;
}

/**
 * Where `bytes` lie in the core's memory: their own offset if they are a view of it (a segment the flow table
 * gave), else a copy's in the core's scratch.
 */
export function bytesInCore(core: TlsCore, bytes: Uint8Array): number {
  const buf = core.memory.buffer;
  if (bytes.buffer === buf) return bytes.byteOffset;
  const p = core.tlsScratch(bytes.length);
  new Uint8Array(core.memory.buffer, p, bytes.length).set(bytes);
  return p;
}

/** The collector of a stream's first handshake message, in the module's core: fed, freed once it answers. */
abstract class CoreHandshakeParser<T> {
  private handle: number;
  private readonly token = {};
  protected result: TlsParseResult<T> | null = null;

  constructor(
    private readonly wantType: number,
    maxBytes: number,
  ) {
    const o = ownCore();
    this.handle = o.core.tlsReaderNew(wantType, maxBytes);
    o.free.register(this, this.handle, this.token);
  }

  feed(chunk: Uint8Array): TlsParseResult<T> {
    if (this.result) return this.result;
    const o = ownCore();
    const st = this.step(o.core, this.handle, bytesInCore(o.core, chunk), chunk.length);
    if (st === HELLO_NEED_MORE) return { status: 'need-more' };
    this.result =
      st === HELLO_DONE ? this.done(o.area) : { status: 'not-tls', reason: o.area.reason(this.wantType) };
    o.free.unregister(this.token);
    o.core.tlsReaderFree(this.handle);
    this.handle = 0;
    return this.result;
  }

  protected abstract step(core: TlsCore, h: number, ptr: number, len: number): number;
  protected abstract done(area: HelloArea): TlsParseResult<T>;
}

/**
 * Incremental ClientHello parser for the first bytes of a client→server stream. Feed segments in order
 * until the status is not 'need-more'; after that every call returns the same final answer.
 */
export class ClientHelloParser extends CoreHandshakeParser<ClientHello> {
  private readonly transport: 't' | 'q';

  constructor(opts: TlsParserOptions = {}) {
    super(1, opts.maxBytes ?? 16384);
    this.transport = opts.transport ?? 't';
  }

  protected step(core: TlsCore, h: number, ptr: number, len: number): number {
    return core.tlsHelloFeed(h, ptr, len);
  }

  protected done(area: HelloArea): TlsParseResult<ClientHello> {
    return { status: 'done', hello: area.hello(this.transport), consumed: area.consumed };
  }
}

/** Same as ClientHelloParser for the server→client stream's first message. */
export class ServerHelloParser extends CoreHandshakeParser<ServerHello> {
  constructor(opts: Pick<TlsParserOptions, 'maxBytes'> = {}) {
    super(2, opts.maxBytes ?? 16384);
  }

  protected step(core: TlsCore, h: number, ptr: number, len: number): number {
    return core.tlsReaderFeed(h, ptr, len);
  }

  protected done(area: HelloArea): TlsParseResult<ServerHello> {
    try {
      return { status: 'done', hello: parseServerHelloBody(area.body()), consumed: area.consumed };
    } catch (e) {
      if (e instanceof Malformed) return { status: 'not-tls', reason: `malformed ServerHello: ${e.message}` };
      throw e;
    }
  }
}

/** One-shot: the ClientHello at the start of `bytes`, or null if absent, incomplete or malformed. */
export function parseClientHello(bytes: Uint8Array, opts?: TlsParserOptions): ClientHello | null {
  const r = new ClientHelloParser(opts).feed(bytes);
  return r.status === 'done' ? r.hello : null;
}

/**
 * A ClientHello handshake message without the TLS record layer (4-byte handshake header + body), as QUIC
 * carries it in CRYPTO frames once the caller has decrypted the Initial packet. `transport` sets JA4's
 * first character. Returns null when malformed.
 */
export function parseClientHelloMessage(msg: Uint8Array, transport: 't' | 'q' = 'q'): ClientHello | null {
  if (msg.length < 4 || msg[0] !== 1) return null;
  const len = (msg[1]! << 16) | (msg[2]! << 8) | msg[3]!;
  if (len > 65536 || msg.length < 4 + len) return null;
  const o = ownCore();
  const p = bytesInCore(o.core, msg.subarray(4, 4 + len));
  return o.core.helloParse(p, len) === 0 ? o.area.hello(transport) : null;
}

/** One-shot: the ServerHello at the start of `bytes`, or null. */
export function parseServerHello(bytes: Uint8Array): ServerHello | null {
  const r = new ServerHelloParser().feed(bytes);
  return r.status === 'done' ? r.hello : null;
}

/** Cheap test on a stream's first bytes: a TLS handshake record header (type 22, version 3.x). */
export function looksLikeTlsStart(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && bytes[0] === 0x16 && bytes[1] === 0x03 && bytes[2]! <= 4;
}
