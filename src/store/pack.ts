/**
 * The embedded store's bulk row format: a batch of events as ONE byte string that DuckDB splits itself, so a
 * batch costs one native call instead of 22 appender calls per row (`Store.ingest` was 45-48k events/s with
 * the appender; README "Benchmarks").
 *
 *   row    = field 0x1f field 0x1f ... (PACKED_FIELDS.length fields)
 *   batch  = row 0x1e row 0x1e ...
 *
 * The JSON in `data` never holds a raw control character (JSON.stringify escapes them, and JSON text allows
 * none but whitespace), and it is written last but three. The other text fields (host, coin, wallet...) may
 * hold anything, so 0x1d, 0x1e and 0x1f in them are written as 0x1d '0', 0x1d '1', 0x1d '2'; a chunk that
 * needed this is flagged `escaped` and inserted by the SQL that undoes it (`duckdb.ts`), the rest by the SQL
 * that does not (no per-field replace() on the common path).
 *
 * What is written is exactly `toRow` (both take the dimensions from `rowDims`), with these differences in how
 * and not in what: the JSON is serialised straight into the buffer (`json`, byte-for-byte `JSON.stringify`:
 * 73-86 ms per 50,000 bench events against 85-102 ms for JSON.stringify and copying its result; even for
 * Zeek events), given text that is exactly JSON.stringify's is copied instead (`isCanonicalJson`), the
 * content id of an event without one is the SHA-256 of those bytes (`contentId`), and the day is left to
 * SQL. Each row also carries the 64-bit hash of its (host, id) (`keyHash`), stored in the `kh`/`kl` columns
 * that the dedup filter is rebuilt from.
 *
 * Measured per 50,000 bench events (`bench/fleet.ts` events, load ~1.3): packing from EventRows into a
 * Buffer 49-57 ms; template strings joined 242-385 ms; one Array.join of the fields 114-148 ms.
 */
import { hash } from 'node:crypto';
import { dimString, isCanonicalJson, type RowDims, rowDims } from './row.ts';

export const FIELD_SEP = 0x1f;
export const ROW_SEP = 0x1e;
const ESC = 0x1d;

/** Field order of a packed row (`duckdb.ts` maps them onto the `events` columns). */
export const PACKED_FIELDS = [
  'ts',
  'host',
  'type',
  'source',
  'rule',
  'sev',
  'coin',
  'pool',
  'port',
  'domain',
  'dst_ip',
  'family',
  'exe',
  'sha256',
  'wallet',
  'account',
  'dropper',
  'bytes',
  'data',
  'id',
  'kh',
  'kl',
] as const;

/** Fields that are text and may be escaped (everything but the numbers and `data`). */
export const ESCAPABLE_FIELDS: ReadonlySet<string> = new Set([
  'host',
  'type',
  'source',
  'rule',
  'coin',
  'pool',
  'domain',
  'dst_ip',
  'family',
  'exe',
  'sha256',
  'wallet',
  'account',
  'dropper',
  'id',
]);

/**
 * The 64-bit key of (host, id) as two unsigned 32-bit halves, over the UTF-16 code units of both (and the
 * length of host, so ('ab','c') and ('a','bc') differ): FNV-1a and a multiply-xorshift stream, each finished
 * by MurmurHash3's fmix32. Stored in `events.kh`/`kl`, so it must never change for existing files: a new
 * definition needs a new column (or a migration that recomputes it, like `fillKeys`).
 */
export function keyHash(host: string, id: string): [number, number] {
  keyHashInto(host, id);
  return [khOut, klOut];
}

let khOut = 0;
let klOut = 0;

function keyHashInto(host: string, id: string): void {
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  for (let i = 0; i < host.length; i++) {
    const c = host.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 13;
  }
  a = Math.imul(a ^ host.length ^ 0x10000, 0x01000193);
  b = Math.imul(b ^ host.length ^ 0x10000, 0x5bd1e995);
  b ^= b >>> 13;
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 13;
  }
  khOut = fmix32(a ^ Math.imul(b, 0x27d4eb2f)) >>> 0;
  klOut = fmix32(b ^ Math.imul(a, 0x165667b1)) >>> 0;
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}

/** A packed chunk: rows [0, n) in `bytes`, and per row what the commit needs beside the bytes. */
export interface PackedChunk {
  bytes: Buffer;
  n: number;
  /** Row i is bytes [starts[i], starts[i + 1] - 1): the separator after it is excluded. */
  starts: Int32Array;
  kh: Uint32Array;
  kl: Uint32Array;
  ts: Float64Array;
  host: string[];
  id: string[];
  /** Which submission of the group each row came from. */
  req: Int32Array;
  /** Some text field was escaped: insert with the SQL that undoes it. */
  escaped: boolean;
}

const HEX = '0123456789abcdef';
const HEX_CODES = Uint8Array.from(HEX, (c) => c.charCodeAt(0));
const MAX_DEPTH = 200;
/** Characters JSON.stringify writes escaped: controls, quote, backslash, and surrogates (lone ones are). */
const JSON_ESCAPED = /[\u0000-\u001f"\\\ud800-\udfff]/;

/**
 * Buffer's encoders without `write`/`toString`'s argument handling (the public methods' wrappers were ~0.3 us
 * an event in a profile of `minewatch import`). Present on every Buffer since Node 0.x.
 */
interface RawBuffer {
  latin1Write(s: string, offset: number, length: number): number;
  utf8Write(s: string, offset: number, length: number): number;
  latin1Slice(start: number, end: number): string;
}
const rb = (b: Buffer) => b as unknown as RawBuffer;

/** A copy in memory of its own (Buffer.from(buffer) went through a per-element path: 94 ms per 1M rows). */
function copyOf(b: Uint8Array): Buffer {
  const c = Buffer.allocUnsafe(b.length);
  c.set(b);
  return c;
}

/** Whether Object.prototype has enumerable keys (someone assigned to it): then for..in is not own keys. */
function prototypePolluted(): boolean {
  for (const _k in {}) return true;
  return false;
}

/**
 * Writes rows into one growing buffer. Reused across chunks: `reset()` starts a new chunk in the same memory
 * (the previous chunk must have been bound, which copies it, before).
 */
export class RowPacker {
  private b: Buffer;
  private p = 0;
  private n = 0;
  private starts = new Int32Array(1024);
  private kh = new Uint32Array(1024);
  private kl = new Uint32Array(1024);
  private ts = new Float64Array(1024);
  private req = new Int32Array(1024);
  private host: string[] = [];
  private id: string[] = [];
  private escaped = false;
  private polluted = prototypePolluted();
  private readonly dims = {} as RowDims;
  private srcText: string | undefined;
  private srcBytes: Buffer = Buffer.alloc(0);
  private srcEscaped = false;

  constructor(initialBytes = 1 << 20) {
    this.b = Buffer.allocUnsafe(initialBytes);
  }

  get rows(): number {
    return this.n;
  }

  get size(): number {
    return this.p;
  }

  reset(): void {
    this.p = 0;
    this.n = 0;
    // New arrays, not emptied ones: a commit keeps the previous chunks' keys (duckdb.ts, inner duplicates).
    this.host = [];
    this.id = [];
    this.escaped = false;
    this.polluted = prototypePolluted();
  }

  /** The chunk so far (a view of the packer's memory: valid until the next `reset()`). */
  chunk(): PackedChunk {
    this.starts[this.n] = this.p + 1;
    return {
      bytes: this.b.subarray(0, this.p),
      n: this.n,
      starts: this.starts.subarray(0, this.n + 1),
      kh: this.kh.subarray(0, this.n),
      kl: this.kl.subarray(0, this.n),
      ts: this.ts.subarray(0, this.n),
      host: this.host,
      id: this.id,
      req: this.req.subarray(0, this.n),
      escaped: this.escaped,
    };
  }

  /** The chunk so far as a copy of its own (survives `reset()`). */
  copy(): PackedChunk {
    const c = this.chunk();
    return {
      bytes: copyOf(c.bytes),
      n: c.n,
      starts: c.starts.slice(),
      kh: c.kh.slice(),
      kl: c.kl.slice(),
      ts: c.ts.slice(),
      host: c.host.slice(),
      id: c.id.slice(),
      req: c.req.slice(),
      escaped: c.escaped,
    };
  }

  /**
   * Appends rows [from, to) of another chunk (e.g. one packed when it was submitted), tagged `req`. Its
   * `escaped` flag comes along even when the escaped rows are elsewhere in it (harmless: undoing escapes of
   * text that has none changes nothing).
   */
  addRows(c: PackedChunk, from: number, to: number, req: number): void {
    if (from >= to) return;
    const start = c.starts[from]!;
    const end = c.starts[to]! - 1;
    this.room(to - from, end - start + 1);
    if (this.n) this.b[this.p++] = ROW_SEP;
    const shift = this.p - start;
    c.bytes.copy(this.b, this.p, start, end);
    for (let i = from; i < to; i++) {
      const k = this.n + i - from;
      this.starts[k] = c.starts[i]! + shift;
      this.kh[k] = c.kh[i]!;
      this.kl[k] = c.kl[i]!;
      this.ts[k] = c.ts[i]!;
      this.req[k] = req;
      this.host.push(c.host[i]!);
      this.id.push(c.id[i]!);
    }
    this.n += to - from;
    this.p += end - start;
    if (c.escaped) this.escaped = true;
  }

  /**
   * Keeps only the rows whose `keep[i]` is set, in order (the rows found stored already are dropped before
   * the chunk is inserted). Rare: only chunks with a duplicate get here.
   */
  keepRows(keep: Uint8Array): void {
    const b = this.b;
    let w = 0;
    let k = 0;
    const n = this.n;
    this.starts[n] = this.p + 1;
    for (let i = 0; i < n; i++) {
      if (!keep[i]) continue;
      const s = this.starts[i]!;
      const e = this.starts[i + 1]! - 1;
      if (k) b[w++] = ROW_SEP;
      this.starts[k] = w;
      b.copyWithin(w, s, e);
      w += e - s;
      this.kh[k] = this.kh[i]!;
      this.kl[k] = this.kl[i]!;
      this.ts[k] = this.ts[i]!;
      this.req[k] = this.req[i]!;
      this.host[k] = this.host[i]!;
      this.id[k] = this.id[i]!;
      k++;
    }
    this.n = k;
    this.p = w;
    this.host.length = k;
    this.id.length = k;
  }

  /**
   * Appends rows `rowid 0x1f kh 0x1f kl` (key hashes of stored rows that lack them: duckdb.ts `fillKeys`).
   * Not a chunk of events: only `bytes` of `chunk()` means anything after it.
   */
  addKeyRows(rowid: readonly number[], host: readonly string[], id: readonly string[]): void {
    for (let i = 0; i < rowid.length; i++) {
      this.ensure(48);
      if (this.p) this.b[this.p++] = ROW_SEP;
      this.int(rowid[i]!);
      keyHashInto(host[i]!, id[i]!);
      this.sep();
      this.hex32(khOut);
      this.sep();
      this.hex32(klOut);
    }
  }

  /**
   * Appends one valid event. `source` is the row's source as stored (already cut like every dimension);
   * `raw`, when given, is text that JSON.parses to `ev` (`IngestOptions.raw`) and is stored as `data`.
   */
  add(ev: MinewatchEventLike, source: string, raw: string | undefined, req: number): void {
    const d = rowDims(ev as never, this.dims);
    if (!Number.isSafeInteger(d.ts)) throw new RangeError(`event time '${String(ev.time)}' is not a date`);
    this.room(1, 0);
    const row = this.n;
    const rowStart = this.p;
    try {
      if (row) this.b[this.p++] = ROW_SEP;
      this.starts[row] = this.p;
      this.int(d.ts);
      this.sep();
      this.text(ev.host);
      this.sep();
      this.text(ev.type);
      this.sep();
      this.source(source);
      this.sep();
      this.text(d.rule);
      this.sep();
      this.int(d.sev);
      this.sep();
      this.text(d.coin);
      this.sep();
      this.text(d.pool);
      this.sep();
      this.int(d.port);
      this.sep();
      this.text(d.domain);
      this.sep();
      this.text(d.dst_ip);
      this.sep();
      this.text(d.family);
      this.sep();
      this.text(d.exe);
      this.sep();
      this.text(d.sha256);
      this.sep();
      this.text(d.wallet);
      this.sep();
      this.text(d.account);
      this.sep();
      this.text(d.dropper);
      this.sep();
      this.bigint(Math.round(d.bytes));
      this.sep();
      // data, then the id. An event without an id gets the hash of JSON.stringify(ev) (`contentId`), so it
      // is serialised anyway: those bytes are its data too (they parse to the event, as `raw` would), and the
      // text it came from is not copied. An event with an id keeps the text it came from, when given.
      const given = typeof ev.id === 'string' && ev.id ? ev.id : undefined;
      const dataStart = this.p;
      let id: string;
      if (given !== undefined) {
        if (raw === undefined || !this.rawText(raw)) this.json(ev);
        this.sep();
        id = given;
        this.text(id);
      } else {
        // The given text, when it is exactly what JSON.stringify would write (the usual NDJSON line): then
        // it is both the data and what the content id hashes, and the event is not serialised.
        if (raw === undefined || !isCanonicalJson(raw, ev) || !this.rawText(raw)) this.json(ev);
        const dataEnd = this.p;
        this.sep();
        id = this.contentId(dataStart, dataEnd);
      }
      keyHashInto(ev.host, id);
      this.sep();
      this.hex32(khOut);
      this.sep();
      this.hex32(klOut);
      this.kh[row] = khOut;
      this.kl[row] = klOut;
      this.ts[row] = d.ts;
      this.req[row] = req;
      this.host.push(ev.host);
      this.id.push(id);
      this.n++;
    } catch (err) {
      this.p = rowStart;
      throw err;
    }
  }

  // ---------- writing ----------

  /** Room for `rows` more rows and `bytes` more bytes beyond the current position. */
  private room(rows: number, bytes: number): void {
    const need = this.n + rows + 1;
    if (need > this.starts.length) {
      let m = this.starts.length * 2;
      while (m < need) m *= 2;
      const grow = <T extends Int32Array | Uint32Array | Float64Array>(a: T, make: (n: number) => T): T => {
        const x = make(m);
        x.set(a);
        return x;
      };
      this.starts = grow(this.starts, (k) => new Int32Array(k));
      this.kh = grow(this.kh, (k) => new Uint32Array(k));
      this.kl = grow(this.kl, (k) => new Uint32Array(k));
      this.ts = grow(this.ts, (k) => new Float64Array(k));
      this.req = grow(this.req, (k) => new Int32Array(k));
    }
    this.ensure(bytes);
  }

  private ensure(bytes: number): void {
    if (this.p + bytes <= this.b.length) return;
    let m = this.b.length * 2;
    while (m < this.p + bytes) m *= 2;
    const nb = Buffer.allocUnsafe(m);
    this.b.copy(nb, 0, 0, this.p);
    this.b = nb;
  }

  private sep(): void {
    this.ensure(1);
    this.b[this.p++] = FIELD_SEP;
  }

  /** A safe integer in decimal. */
  private int(v: number): void {
    if (!Number.isSafeInteger(v)) throw new RangeError(`${v} is not an integer column value`);
    this.ensure(24);
    if (v < 0) {
      this.b[this.p++] = 45;
      v = -v;
    }
    if (v < 1e9) this.uint(v, 0);
    else {
      // Two parts that fit int32 arithmetic (divisions by a constant become multiplications); a safe
      // integer is below 1e16, so the high part is below 1e9.
      let hi = Math.floor(v / 1e9);
      let lo = v - hi * 1e9;
      if (lo < 0) {
        hi--;
        lo += 1e9;
      }
      this.uint(hi, 0);
      this.uint(lo, 9);
    }
  }

  /** 0 <= v < 1e9 in decimal, left-padded with zeros to `width` digits. */
  private uint(v: number, width: number): void {
    let digits = 1;
    for (let t = 10; t <= v && digits < 9; t *= 10) digits++;
    if (digits < width) digits = width;
    const b = this.b;
    const p = this.p;
    for (let i = p + digits - 1; i >= p; i--) {
      const q = (v / 10) | 0;
      b[i] = 48 + v - q * 10;
      v = q;
    }
    this.p = p + digits;
  }

  /** An unsigned 32-bit value as '0x' and 8 hex digits (DuckDB casts those; no divisions). */
  private hex32(v: number): void {
    this.ensure(10);
    const b = this.b;
    let p = this.p;
    b[p++] = 48;
    b[p++] = 120;
    for (let sh = 28; sh >= 0; sh -= 4) b[p++] = HEX_CODES[(v >>> sh) & 15]!;
    this.p = p;
  }

  /**
   * Writes the content id of the JSON in bytes [start, end) (written by `json`, so exactly JSON.stringify's)
   * and returns it: row.ts's `contentIdOf`, 'h:' and the first 32 hex digits of its SHA-256, written here
   * from the digest's text (the id read back is one flat string: a 'h:' + slice concatenation cost its
   * character reads in the key hash).
   */
  private contentId(start: number, end: number): string {
    const hex = hash('sha256', new Uint8Array(this.b.buffer, this.b.byteOffset + start, end - start), 'hex');
    this.ensure(34);
    const p = this.p;
    this.b[p] = 0x68;
    this.b[p + 1] = 0x3a;
    rb(this.b).latin1Write(hex, p + 2, 32);
    this.p = p + 34;
    return rb(this.b).latin1Slice(p, p + 34);
  }

  /** An integer-valued number of any size (bytes): exact digits; BIGINT's range is DuckDB's to check. */
  private bigint(v: number): void {
    if (Number.isSafeInteger(v)) {
      this.int(v === 0 ? 0 : v);
      return;
    }
    this.ascii(BigInt(v).toString());
  }

  private ascii(s: string): void {
    this.ensure(s.length);
    this.p += rb(this.b).latin1Write(s, this.p, s.length);
  }

  /** The source field: the same for every row of a submission, so its bytes are made once. */
  private source(s: string): void {
    if (s !== this.srcText) {
      const start = this.p;
      const was = this.escaped;
      this.escaped = false;
      this.text(s);
      this.srcEscaped = this.escaped;
      this.escaped ||= was;
      this.srcBytes = copyOf(this.b.subarray(start, this.p));
      this.srcText = s;
      return;
    }
    if (this.srcEscaped) this.escaped = true;
    const src = this.srcBytes;
    const n = src.length;
    this.ensure(n);
    const b = this.b;
    let p = this.p;
    for (let i = 0; i < n; i++) b[p++] = src[i]!;
    this.p = p;
  }

  /** A text field: UTF-8, with 0x1d-0x1f escaped (see the top of the file). */
  private text(s: string): void {
    const n = s.length;
    if (n === 0) return;
    this.ensure(3 * n);
    const b = this.b;
    let p = this.p;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x80) {
        if (c >= ESC && c <= FIELD_SEP) {
          b[p++] = ESC;
          b[p++] = 48 + (c - ESC);
          this.escaped = true;
        } else b[p++] = c;
      } else {
        const q = utf8NonAscii(b, p, c, i + 1 < n ? s.charCodeAt(i + 1) : 0);
        if (q >= 0) {
          if (q - p === 4) i++; // a surrogate pair: both halves written
          p = q;
        } else {
          // A lone surrogate: U+FFFD, as the UTF-8 conversion of every other path to DuckDB writes it.
          b[p++] = 0xef;
          b[p++] = 0xbf;
          b[p++] = 0xbd;
        }
      }
    }
    this.p = p;
  }

  /**
   * JSON text given by the caller as data: copied as UTF-8. False (nothing written that counts) when it holds
   * a separator byte, which valid JSON text cannot: the event is then serialised instead.
   */
  private rawText(s: string): boolean {
    if (s.includes('\x1e') || s.includes('\x1f')) return false;
    // Buffer's UTF-8 encoder: 0.12 us for a 177-character line against 0.5-1 us for a charCodeAt loop (lone
    // surrogates become U+FFFD, as in every other path to DuckDB).
    this.ensure(3 * s.length);
    this.p += rb(this.b).utf8Write(s, this.p, this.b.length - this.p);
    return true;
  }

  /** Exactly `JSON.stringify(v)` as UTF-8 (`pack.test.ts` compares them); its own path for odd values. */
  private json(v: unknown): void {
    const start = this.p;
    if (this.polluted || !this.value(v, 0)) {
      this.p = start;
      const s = JSON.stringify(v);
      this.ensure(3 * s.length);
      this.p += rb(this.b).utf8Write(s, this.p, this.b.length - this.p);
    }
  }

  /** Writes v; false for anything only JSON.stringify itself should decide (toJSON, class instances, depth). */
  private value(v: unknown, depth: number): boolean {
    switch (typeof v) {
      case 'string':
        this.jsonString(v);
        return true;
      case 'number':
        if (Number.isSafeInteger(v)) this.int(v === 0 ? 0 : v);
        else this.ascii(Number.isFinite(v) ? String(v) : 'null');
        return true;
      case 'boolean':
        this.ascii(v ? 'true' : 'false');
        return true;
      case 'object': {
        if (v === null) {
          this.ascii('null');
          return true;
        }
        if (depth > MAX_DEPTH) return false;
        const o = v as Record<string, unknown>;
        if (o.toJSON !== undefined) return false;
        if (Array.isArray(v)) {
          if (Object.getPrototypeOf(v) !== Array.prototype) return false;
          this.ensure(1);
          this.b[this.p++] = 0x5b;
          for (let i = 0; i < v.length; i++) {
            if (i) {
              this.ensure(1);
              this.b[this.p++] = 0x2c;
            }
            const x: unknown = v[i];
            if (x === undefined || typeof x === 'function' || typeof x === 'symbol') this.ascii('null');
            else if (!this.value(x, depth + 1)) return false;
          }
          this.ensure(1);
          this.b[this.p++] = 0x5d;
          return true;
        }
        const proto = Object.getPrototypeOf(v);
        if (proto !== Object.prototype && proto !== null) return false;
        this.ensure(1);
        this.b[this.p++] = 0x7b;
        let first = true;
        for (const k in o) {
          const x = o[k];
          if (x === undefined || typeof x === 'function' || typeof x === 'symbol') continue;
          this.ensure(1);
          if (!first) this.b[this.p++] = 0x2c;
          first = false;
          this.jsonString(k);
          this.ensure(1);
          this.b[this.p++] = 0x3a;
          if (!this.value(x, depth + 1)) return false;
        }
        this.ensure(1);
        this.b[this.p++] = 0x7d;
        return true;
      }
      default:
        // bigint (JSON.stringify throws: so will the fallback), and undefined/function/symbol at the top.
        return false;
    }
  }

  /** A JSON string literal as JSON.stringify writes it (well-formed: lone surrogates as \udxxx). */
  private jsonString(s: string): void {
    const n = s.length;
    this.ensure(6 * n + 2);
    const b = this.b;
    let p = this.p;
    b[p++] = 0x22;
    if (n > 24 && !JSON_ESCAPED.test(s)) {
      // Nothing to escape: Buffer's encoder, faster than the loop below past a few dozen characters.
      p += rb(b).utf8Write(s, p, b.length - p);
      b[p++] = 0x22;
      this.p = p;
      return;
    }
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x80) {
        if (c >= 0x20) {
          if (c === 0x22 || c === 0x5c) b[p++] = 0x5c;
          b[p++] = c;
        } else {
          b[p++] = 0x5c;
          if (c === 8) b[p++] = 0x62;
          else if (c === 9) b[p++] = 0x74;
          else if (c === 10) b[p++] = 0x6e;
          else if (c === 12) b[p++] = 0x66;
          else if (c === 13) b[p++] = 0x72;
          else {
            b[p++] = 0x75;
            b[p++] = 0x30;
            b[p++] = 0x30;
            b[p++] = HEX.charCodeAt(c >> 4);
            b[p++] = HEX.charCodeAt(c & 15);
          }
        }
      } else {
        const q = utf8NonAscii(b, p, c, i + 1 < n ? s.charCodeAt(i + 1) : 0);
        if (q >= 0) {
          if (q - p === 4) i++; // a surrogate pair: both halves written
          p = q;
        } else {
          // A lone surrogate, as JSON.stringify writes it: \udxxx.
          b[p++] = 0x5c;
          b[p++] = 0x75;
          b[p++] = HEX.charCodeAt(c >> 12);
          b[p++] = HEX.charCodeAt((c >> 8) & 15);
          b[p++] = HEX.charCodeAt((c >> 4) & 15);
          b[p++] = HEX.charCodeAt(c & 15);
        }
      }
    }
    b[p++] = 0x22;
    this.p = p;
  }
}

/** What `add` reads of an event (a MinewatchEvent; loose so callers' event types need no cast). */
interface MinewatchEventLike {
  time: string;
  host: string;
  type: string;
  id?: unknown;
}

/** The source column of a submission as stored (cut like every dimension). */
export function sourceText(source: string): string {
  return dimString(source);
}

/** A text field's escape as a string (RowPacker writes the same bytes in its loop), for small packed parameters. */
export function escapeField(s: string): string {
  return /[\x1d-\x1f]/.test(s) ? s.replace(/[\x1d-\x1f]/g, (c) => `\x1d${c.charCodeAt(0) - ESC}`) : s;
}

/** The inverse of `escapeField`. */
export function unescapeField(s: string): string {
  return s.replace(/\x1d([012])/g, (_m, d: string) => String.fromCharCode(ESC + Number(d)));
}

/** Test helper and documentation: a packed chunk's rows as field arrays, escapes undone. */
export function unpack(bytes: Uint8Array): string[][] {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  if (!text) return [];
  return text
    .split('\x1e')
    .map((r) =>
      r.split('\x1f').map((f, k) => (ESCAPABLE_FIELDS.has(PACKED_FIELDS[k]!) ? unescapeField(f) : f)),
    );
}

/**
 * Writes the UTF-8 of a non-ASCII UTF-16 unit `c` at b[p] (`next`: the unit after it, the low half when `c`
 * opens a surrogate pair) and returns the new position: p + 2 or p + 3, or p + 4 for a pair (both units
 * consumed). -1 for a lone surrogate, which each caller writes its own way. Shared by the two hot loops
 * above; the ASCII path, nearly every character, stays inline in each.
 */
function utf8NonAscii(b: Uint8Array, p: number, c: number, next: number): number {
  if (c < 0x800) {
    b[p] = 0xc0 | (c >> 6);
    b[p + 1] = 0x80 | (c & 63);
    return p + 2;
  }
  if (c < 0xd800 || c > 0xdfff) {
    b[p] = 0xe0 | (c >> 12);
    b[p + 1] = 0x80 | ((c >> 6) & 63);
    b[p + 2] = 0x80 | (c & 63);
    return p + 3;
  }
  if (c > 0xdbff || next < 0xdc00 || next > 0xdfff) return -1;
  const cp = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
  b[p] = 0xf0 | (cp >> 18);
  b[p + 1] = 0x80 | ((cp >> 12) & 63);
  b[p + 2] = 0x80 | ((cp >> 6) & 63);
  b[p + 3] = 0x80 | (cp & 63);
  return p + 4;
}
