/**
 * TLS handshake dissector: ClientHello (RFC 8446 §4.1.2, RFC 5246 §7.4.1.2) and, minimally, ServerHello.
 *
 * Miners and browser miners increasingly wrap stratum in TLS, so the ClientHello is often all we see in
 * clear: the SNI names the pool (`us1.bitminter.com` on port 3333 in bitcoin-mining.pcap) and the
 * JA3/JA4 fingerprints name the client library (xmrig's OpenSSL build differs from a browser).
 *
 * The hello arrives as the first bytes of a client→server TCP stream and may span several TLS records and
 * several TCP segments, so `ClientHelloParser` is fed bytes and answers need-more / done / not-tls. Work is
 * bounded: the handshake message may be at most `maxBytes` (16 KiB by default; post-quantum key shares
 * make real hellos ~2 KiB), at most 32 records are read, and every inner length is checked against its
 * container before use, so lying lengths end in `not-tls`, never in an over-read.
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

const MAX_RECORDS = 32;
/** TLSPlaintext.length is at most 2^14; allow a little slack for odd stacks. */
const MAX_RECORD_LEN = 16384 + 256;

/** Shared empty buffer: a reader holds nothing most of the time, and each typed array is an off-heap allocation. */
const EMPTY = new Uint8Array(0);

/** Collects the first handshake message of one type from a TLS record stream. */
class HandshakeReader {
  private pending: Uint8Array = EMPTY;
  private hs: Uint8Array = EMPTY;
  private records = 0;
  private consumed = 0;
  private final:
    | { status: 'done'; body: Uint8Array; consumed: number }
    | { status: 'not-tls'; reason: string }
    | null = null;
  recordVersion = 0;

  constructor(
    private readonly wantType: number,
    private readonly maxBytes: number,
  ) {}

  /**
   * The body of a 'done' answer may be a view of `chunk` itself (a hello in one record, the usual case): it is
   * valid while the caller's chunk is, and the callers here parse it at once. Copying every hello's record
   * twice was most of the garbage of the 158 MB bench capture's TLS flows (each copy an off-heap buffer).
   */
  feed(chunk: Uint8Array): { status: 'need-more' } | NonNullable<HandshakeReader['final']> {
    if (this.final) return this.final;
    let data = chunk;
    if (this.pending.length > 0) {
      data = new Uint8Array(this.pending.length + chunk.length);
      data.set(this.pending, 0);
      data.set(chunk, this.pending.length);
    }
    let off = 0;
    for (;;) {
      const avail = data.length - off;
      // Reject as early as the bytes allow, so the caller can drop a non-TLS flow after one byte.
      if (avail >= 1 && data[off] !== 0x16)
        return this.fail(this.records === 0 ? 'not a handshake record' : 'record interleaved');
      if (avail >= 2 && data[off + 1] !== 0x03) return this.fail('bad record version');
      if (avail < 5) break;
      const minor = data[off + 2]!;
      const len = (data[off + 3]! << 8) | data[off + 4]!;
      if (minor > 4) return this.fail('bad record version');
      if (len === 0 || len > MAX_RECORD_LEN) return this.fail('bad record length');
      if (avail < 5 + len) break;
      if (this.records === 0) this.recordVersion = 0x0300 | minor;
      if (++this.records > MAX_RECORDS) return this.fail('too many records');
      const frag = data.subarray(off + 5, off + 5 + len);
      off += 5 + len;
      this.consumed += 5 + len;
      if (this.hs.length === 0) {
        // Kept as a view for now; copied below only if the message goes on in a later record.
        this.hs = frag;
      } else {
        const next = new Uint8Array(this.hs.length + frag.length);
        next.set(this.hs, 0);
        next.set(frag, this.hs.length);
        this.hs = next;
      }
      if (this.hs.length >= 4) {
        if (this.hs[0] !== this.wantType)
          return this.fail(`handshake type ${this.hs[0]} is not ${this.wantType}`);
        const mlen = (this.hs[1]! << 16) | (this.hs[2]! << 8) | this.hs[3]!;
        if (mlen > this.maxBytes) return this.fail('handshake message too large');
        if (this.hs.length >= 4 + mlen) {
          this.final = { status: 'done', body: this.hs.subarray(4, 4 + mlen), consumed: this.consumed };
          this.pending = EMPTY;
          this.hs = EMPTY;
          return this.final;
        }
      }
      if (this.hs.length > this.maxBytes + 4) return this.fail('handshake message too large');
      // The message continues: what we hold must outlive the caller's chunk.
      if (this.hs === frag) this.hs = frag.slice();
    }
    // Only the incomplete record stays: at most 5 + MAX_RECORD_LEN bytes.
    this.pending = off === data.length ? EMPTY : data.slice(off);
    return { status: 'need-more' };
  }

  private fail(reason: string): { status: 'not-tls'; reason: string } {
    this.pending = EMPTY;
    this.hs = EMPTY;
    this.final = { status: 'not-tls', reason };
    return this.final;
  }
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

// Offset-based reads for the ClientHello, the one parsed for every TLS flow: each throws Malformed as the Reader
// method of the same name does, but nothing is allocated per field (a Reader per vector and a view per byte
// string made the hello parser one of the larger sources of garbage of the bench capture's first pass, and
// the GC pauses it triggered landed in its own calls: 7-40 us a hello, against 1.6 us warm without them).
function u8At(b: Uint8Array, p: number, end: number): number {
  if (p + 1 > end) throw new Malformed('u8');
  return b[p]!;
}
function u16At(b: Uint8Array, p: number, end: number): number {
  if (p + 2 > end) throw new Malformed('u16');
  return (b[p]! << 8) | b[p + 1]!;
}
/** The end of an n-byte vector at p within [.., end). */
function within(p: number, n: number, end: number): number {
  if (n < 0 || p + n > end) throw new Malformed('length beyond its container');
  return p + n;
}
function u16sAt(b: Uint8Array, start: number, end: number): number[] {
  if ((end - start) % 2 !== 0) throw new Malformed('odd u16 vector');
  const out: number[] = [];
  for (let p = start; p < end; p += 2) out.push((b[p]! << 8) | b[p + 1]!);
  return out;
}
function u8sAt(b: Uint8Array, start: number, end: number): number[] {
  const out: number[] = [];
  for (let p = start; p < end; p++) out.push(b[p]!);
  return out;
}

/** Parses a ClientHello body (after the 4-byte handshake header). Throws Malformed. */
function parseClientHelloBody(
  body: Uint8Array,
  recordVersion: number,
  transport: 't' | 'q' | 'd',
): ClientHello {
  const b = body;
  const end = b.length;
  const version = u16At(b, 0, end);
  let p = within(2, 32, end); // random
  const sidLen = u8At(b, p, end);
  p += 1;
  if (sidLen > 32) throw new Malformed('session id too long');
  p = within(p, sidLen, end);
  let n = u16At(b, p, end);
  const csEnd = within(p + 2, n, end);
  const cipherSuites = u16sAt(b, p + 2, csEnd);
  p = csEnd;
  n = u8At(b, p, end);
  const cmEnd = within(p + 1, n, end);
  const compressionMethods = u8sAt(b, p + 1, cmEnd);
  p = cmEnd;
  const h = new ParsedClientHello(
    recordVersion,
    version,
    version,
    sidLen,
    cipherSuites,
    compressionMethods,
    transport,
  );
  // Extensions are optional in pre-TLS-1.0-style hellos.
  if (end - p > 0) {
    const extsEnd = within(p + 2, u16At(b, p, end), end);
    let e = p + 2;
    while (extsEnd - e > 0) {
      const type = u16At(b, e, extsEnd);
      const dataEnd = within(e + 4, u16At(b, e + 2, extsEnd), extsEnd);
      const d = e + 4;
      e = dataEnd;
      h.extensions.push(type);
      switch (type) {
        case TLS_EXT.SERVER_NAME: {
          const listEnd = within(d + 2, u16At(b, d, dataEnd), dataEnd);
          let q = d + 2;
          while (listEnd - q > 0) {
            const nameType = u8At(b, q, listEnd);
            const len = u16At(b, q + 1, listEnd);
            const nameEnd = within(q + 3, len, listEnd);
            if (nameType === 0 && h.sni === undefined) h.sni = sniText(b, q + 3, nameEnd);
            q = nameEnd;
          }
          break;
        }
        case TLS_EXT.SUPPORTED_GROUPS:
          h.supportedGroups = u16sAt(b, d + 2, within(d + 2, u16At(b, d, dataEnd), dataEnd));
          break;
        case TLS_EXT.EC_POINT_FORMATS:
          h.ecPointFormats = u8sAt(b, d + 1, within(d + 1, u8At(b, d, dataEnd), dataEnd));
          break;
        case TLS_EXT.SIGNATURE_ALGORITHMS:
          h.signatureAlgorithms = u16sAt(b, d + 2, within(d + 2, u16At(b, d, dataEnd), dataEnd));
          break;
        case TLS_EXT.ALPN: {
          const listEnd = within(d + 2, u16At(b, d, dataEnd), dataEnd);
          let q = d + 2;
          while (listEnd - q > 0) {
            const len = u8At(b, q, listEnd);
            const protoEnd = within(q + 1, len, listEnd);
            h.alpn.push(latin1(b, q + 1, protoEnd));
            q = protoEnd;
          }
          break;
        }
        case TLS_EXT.SUPPORTED_VERSIONS:
          h.supportedVersions = u16sAt(b, d + 1, within(d + 1, u8At(b, d, dataEnd), dataEnd));
          break;
      }
    }
    p = extsEnd;
  }
  if (end - p > 0) throw new Malformed('bytes after the extensions');
  const real = h.supportedVersions.filter((v) => !isGrease(v));
  if (real.length > 0) h.maxVersion = Math.max(...real);
  return h;
}

/** SNI host_name: printable ASCII lowercased; anything else escaped so it cannot forge log fields. Written into
 *  the fingerprints' scratch buffer and cut out once (a string grown char by char was most of a hello's garbage). */
function sniText(b: Uint8Array, start: number, end: number): string {
  const stop = Math.min(end, start + 255);
  room((stop - start) * 4);
  let n = 0;
  for (let i = start; i < stop; i++) {
    const c = b[i]!;
    if (c > 0x20 && c < 0x7f) scratch[n++] = c >= 0x41 && c <= 0x5a ? c + 32 : c;
    else {
      scratch[n++] = 0x5c; // \x and two hex digits
      scratch[n++] = 0x78;
      scratch[n++] = HEX_DIGITS[c >> 4]!;
      scratch[n++] = HEX_DIGITS[c & 0xf]!;
    }
  }
  return scratch.latin1Slice(0, n);
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

/**
 * Incremental ClientHello parser for the first bytes of a client→server stream. Feed segments in order
 * until the status is not 'need-more'; after that every call returns the same final answer.
 */
export class ClientHelloParser {
  private readonly reader: HandshakeReader;
  private readonly transport: 't' | 'q';
  private result: TlsParseResult<ClientHello> | null = null;

  constructor(opts: TlsParserOptions = {}) {
    this.reader = new HandshakeReader(1, opts.maxBytes ?? 16384);
    this.transport = opts.transport ?? 't';
  }

  feed(chunk: Uint8Array): TlsParseResult<ClientHello> {
    if (this.result) return this.result;
    const r = this.reader.feed(chunk);
    if (r.status === 'need-more') return r;
    if (r.status === 'not-tls') return (this.result = r);
    try {
      const hello = parseClientHelloBody(r.body, this.reader.recordVersion, this.transport);
      return (this.result = { status: 'done', hello, consumed: r.consumed });
    } catch (e) {
      if (e instanceof Malformed)
        return (this.result = { status: 'not-tls', reason: `malformed ClientHello: ${e.message}` });
      throw e;
    }
  }
}

/** Same as ClientHelloParser for the server→client stream's first message. */
export class ServerHelloParser {
  private readonly reader: HandshakeReader;
  private result: TlsParseResult<ServerHello> | null = null;

  constructor(opts: Pick<TlsParserOptions, 'maxBytes'> = {}) {
    this.reader = new HandshakeReader(2, opts.maxBytes ?? 16384);
  }

  feed(chunk: Uint8Array): TlsParseResult<ServerHello> {
    if (this.result) return this.result;
    const r = this.reader.feed(chunk);
    if (r.status === 'need-more') return r;
    if (r.status === 'not-tls') return (this.result = r);
    try {
      return (this.result = { status: 'done', hello: parseServerHelloBody(r.body), consumed: r.consumed });
    } catch (e) {
      if (e instanceof Malformed)
        return (this.result = { status: 'not-tls', reason: `malformed ServerHello: ${e.message}` });
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
  try {
    return parseClientHelloBody(msg.subarray(4, 4 + len), 0, transport);
  } catch (e) {
    if (e instanceof Malformed) return null;
    throw e;
  }
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
