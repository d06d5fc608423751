/**
 * Push parser for pcap and pcapng captures. Pure: no I/O, the caller feeds bytes in any chunk sizes
 * (file reads, stdin from `tcpdump -w -`) and gets packets back through a callback.
 *
 * The parser itself is in the packet core (core/assembly/reader.ts, WebAssembly); this is its JS face. Bytes are
 * copied into the core's input region (source.ts reads a file straight into it instead), the core walks the whole
 * records there and lists them in a batch table, and the callbacks get views of the core's memory: `RawPacket.data`
 * is only valid during the callback (copy what you keep). A record cut by the end of the input so far stays in the
 * region and is completed by the next push.
 *
 * Damage policy: a record with an impossible length is counted in `stats.damaged`, then the reader scans
 * forward byte by byte for the next plausible record header (like pcapfix does) instead of giving up.
 * Only input that is not a capture at all throws `CaptureFormatError`.
 */
import { type CoreExports, instantiateCore } from './core/load.ts';

export interface RawPacket {
  /** 1-based packet number, as Wireshark counts (damaged records do not get a number). */
  index: number;
  /** Capture time in float seconds since the epoch. Simple Packet Blocks carry no time: they get the previous packet's. */
  tsSec: number;
  linkType: number;
  caplen: number;
  origLen: number;
  /** Interface id within the pcapng section (always 0 for pcap). */
  iface: number;
  /** Captured bytes; a view into the reader's input, valid only during the callback. */
  data: Uint8Array;
  /** The buffer the record lies in and where (data = buf[offset, offset + caplen)), for callers that work on offsets. */
  buf?: Uint8Array;
  offset?: number;
  /** @internal The record's entry in the core's batch table (source.ts decodes it there). */
  batch?: number;
}

const EMPTY = new Uint8Array(0);

/** The packet object handed out in `reuse` mode: one per reader, `data` made only when read. */
class ReusedPacket implements RawPacket {
  index = 0;
  tsSec = 0;
  linkType = 0;
  caplen = 0;
  origLen = 0;
  iface = 0;
  buf: Uint8Array = EMPTY;
  offset = 0;
  batch = 0;
  private view: Uint8Array | undefined = undefined;
  get data(): Uint8Array {
    if (this.view === undefined) this.view = this.buf.subarray(this.offset, this.offset + this.caplen);
    return this.view;
  }
  set(buf: Uint8Array, offset: number): void {
    this.buf = buf;
    this.offset = offset;
    this.view = undefined;
  }
}

export type CaptureFormat = 'pcap' | 'pcapng' | 'unknown';

export interface CaptureStats {
  packets: number;
  /** Records that could not be used: bad lengths, unknown interface, truncated at end of input. */
  damaged: number;
  /** Input bytes consumed so far. */
  bytes: number;
  format: CaptureFormat;
  /** Bytes stepped over while looking for the next valid record after damage. */
  skippedBytes: number;
  /** Packets captured shorter than they were on the wire (caplen < origLen). */
  snapped: number;
  /** pcapng: Section Header Blocks and Interface Description Blocks seen. */
  sections: number;
  interfaces: number;
  /** pcapng blocks Wireshark numbers as frames without being packets (custom, systemd journal); keeps `index` in step with Wireshark. */
  nonPacketFrames: number;
}

export interface CaptureReaderOptions {
  /** Name used in error messages (file path, 'stdin'). */
  source?: string;
  /** Largest record/block accepted, in bytes; larger ones count as damage. Bounds the carry buffer. */
  maxRecord?: number;
  /**
   * Hand out the same RawPacket object for every record (its fields change per call, `data` is made only
   * when read; use buf/offset to avoid it). For pipelines that copy what they keep: per-record allocation
   * (object + subarray) was ~90 MB of the 332 MB a 552k-packet run allocated.
   */
  reuse?: boolean;
}

export class CaptureFormatError extends Error {
  readonly source: string;
  readonly offset: number;
  constructor(source: string, offset: number, message: string) {
    super(`${source}: ${message} (byte offset ${offset})`);
    this.name = 'CaptureFormatError';
    this.source = source;
    this.offset = offset;
  }
}

/** The reader's exports (core/assembly/reader.ts). */
export interface ReaderCore extends CoreExports {
  readerInit(maxRecord: number, capacity: number): number;
  readerPrepare(): number;
  readerSpace(): number;
  readerPush(n: number, mode: number): number;
  readerFinish(mode: number): number;
  readerStatsPtr(): number;
  readerErrorPtr(): number;
  readerBatchPtr(): number;
  readerBatchCount(): number;
  readerBatchLayout(field: number): number;
  readerDecode(i: number): number;
}

// What the core does with each record (assembly/reader.ts M_*).
/** List it in the batch table for JS. */
export const MODE_BATCH = 0;
/** Decode it and hand it to the flow table (the fused loop). */
export const MODE_FLOWS = 1;
/** Only count it / only decode it (the benchmark's stages). */
export const MODE_READ = 2;
export const MODE_DECODE = 3;

// readerPush / readerFinish results.
const R_BATCH_FULL = 1;
const R_ERROR = 2;

const FORMATS: readonly CaptureFormat[] = ['unknown', 'pcap', 'pcapng'];

/**
 * The batch table's entry layout (readerBatchLayout: index and ts f64, then address, caplen, origLen, linkType,
 * iface u32; the entry's size), in f64 and u32 elements from the entry's start: the same for every instance.
 */
let B: {
  index: number;
  ts: number;
  at: number;
  caplen: number;
  orig: number;
  link: number;
  iface: number;
  size: number;
};
function batchLayout(core: ReaderCore): typeof B {
  B ??= {
    index: core.readerBatchLayout(0) >>> 3,
    ts: core.readerBatchLayout(1) >>> 3,
    at: core.readerBatchLayout(2) >>> 2,
    caplen: core.readerBatchLayout(3) >>> 2,
    orig: core.readerBatchLayout(4) >>> 2,
    link: core.readerBatchLayout(5) >>> 2,
    iface: core.readerBatchLayout(6) >>> 2,
    size: core.readerBatchLayout(7),
  };
  return B;
}
/** Input region besides a whole record (maxRecord + 64): what one push copies in at a time. */
const DEFAULT_REGION = 256 * 1024;

export class CaptureReader {
  /** The core instance the reader runs in (its own, or a pipeline's: source.ts). */
  readonly core: ReaderCore;
  private readonly source: string;
  private readonly reused: ReusedPacket | null;
  private readonly batchPtr: number;
  private readonly statsPtr: number;
  private u8: Uint8Array;
  private f64: Float64Array;
  private u32: Uint32Array;
  private cb: (p: RawPacket) => void = () => {};
  private ended = false;

  /**
   * `core`: run in this core instance instead of a fresh one (a pipeline whose decoder and flow table are in the same
   * core); `region`: bytes of input taken at a time besides a whole record.
   */
  constructor(opts: CaptureReaderOptions = {}, core?: CoreExports, region = DEFAULT_REGION) {
    this.source = opts.source ?? 'capture';
    this.reused = opts.reuse ? new ReusedPacket() : null;
    this.core = (core ?? instantiateCore()) as ReaderCore;
    this.core.readerInit(Math.max(opts.maxRecord ?? 1 << 20, 64), region);
    this.batchPtr = this.core.readerBatchPtr();
    batchLayout(this.core);
    this.statsPtr = this.core.readerStatsPtr();
    const buf = this.core.memory.buffer;
    this.u8 = new Uint8Array(buf);
    this.f64 = new Float64Array(buf);
    this.u32 = new Uint32Array(buf);
  }

  get stats(): CaptureStats {
    this.views();
    const p = this.statsPtr >>> 3;
    const f = this.f64;
    return {
      packets: f[p]!,
      damaged: f[p + 1]!,
      bytes: f[p + 2]!,
      format: FORMATS[f[p + 3]!]!,
      skippedBytes: f[p + 4]!,
      snapped: f[p + 5]!,
      sections: f[p + 6]!,
      interfaces: f[p + 7]!,
      nonPacketFrames: f[p + 8]!,
    };
  }

  /** The core's memory, its views made again if it has grown (growing detaches the old buffer: length 0). */
  views(): Uint8Array {
    if (this.u8.byteLength === 0) {
      const buf = this.core.memory.buffer;
      this.u8 = new Uint8Array(buf);
      this.f64 = new Float64Array(buf);
      this.u32 = new Uint32Array(buf);
    }
    return this.u8;
  }

  /** Feed the next bytes of the capture. Packets are delivered synchronously to onPacket. */
  push(chunk: Uint8Array, onPacket: (p: RawPacket) => void, mode = MODE_BATCH): void {
    if (this.ended) throw new Error('CaptureReader.push after end()');
    for (let off = 0; off < chunk.length; ) {
      const space = this.space(chunk.length - off);
      const n = space.length;
      if (n > 64) space.set(off === 0 && n === chunk.length ? chunk : chunk.subarray(off, off + n));
      else for (let i = 0; i < n; i++) space[i] = chunk[off + i]!;
      off += n;
      this.written(n, onPacket, mode);
    }
  }

  /**
   * The free part of the input region (after moving a cut record to its front), at most `max` bytes: write the
   * capture's next bytes there (a file read), then call written(). No other call into the core in between.
   */
  space(max: number): Uint8Array {
    const at = this.core.readerPrepare();
    const n = Math.min(this.core.readerSpace(), max);
    return this.views().subarray(at, at + n);
  }

  /** n bytes were written into space(): walk them, with what each record gets (MODE_*). */
  written(n: number, onPacket: (p: RawPacket) => void, mode = MODE_BATCH): void {
    if (this.ended) throw new Error('CaptureReader.push after end()');
    this.cb = onPacket;
    this.run(this.core.readerPush(n, mode), false, mode);
  }

  /** Input is complete. A partial record left over counts as damaged (truncated capture). */
  end(mode = MODE_BATCH): void {
    if (this.ended) return;
    this.ended = true;
    this.run(this.core.readerFinish(mode), true, mode);
  }

  /** Deliver batches until the core has walked all it holds; an error is thrown after the records before it. */
  private run(r: number, finish: boolean, mode = MODE_BATCH): void {
    for (;;) {
      if (mode === MODE_BATCH) this.deliver();
      if (r === R_BATCH_FULL) {
        r = finish ? this.core.readerFinish(mode) : this.core.readerPush(0, mode);
        continue;
      }
      if (r === R_ERROR) throw this.error();
      return;
    }
  }

  /** The batch table's records to the callback. */
  private deliver(): void {
    const n = this.core.readerBatchCount();
    const cb = this.cb;
    const r = this.reused;
    const L = B;
    for (let i = 0; i < n; i++) {
      this.views();
      // The table is 8-aligned and entries are a multiple of 8 bytes: whole f64 and u32 elements.
      const e = this.batchPtr + i * L.size;
      const f = e >>> 3;
      const w = e >>> 2;
      const index = this.f64[f + L.index]!;
      const ts = this.f64[f + L.ts]!;
      const at = this.u32[w + L.at]!;
      const caplen = this.u32[w + L.caplen]!;
      if (r !== null) {
        r.index = index;
        r.tsSec = ts;
        r.caplen = caplen;
        r.origLen = this.u32[w + L.orig]!;
        r.linkType = this.u32[w + L.link]!;
        r.iface = this.u32[w + L.iface]!;
        r.batch = i;
        r.set(this.u8, at);
        cb(r);
      } else {
        cb({
          index,
          tsSec: ts,
          linkType: this.u32[w + L.link]!,
          caplen,
          origLen: this.u32[w + L.orig]!,
          iface: this.u32[w + L.iface]!,
          data: this.u8.subarray(at, at + caplen),
          buf: this.u8,
          offset: at,
          batch: i,
        });
      }
    }
  }

  /** The core's error as the TS reader threw it: same message, same stream offset. */
  private error(): CaptureFormatError {
    const m = this.views();
    const e = this.core.readerErrorPtr() >>> 3;
    const f = this.f64;
    const code = f[e]!;
    const offset = f[e + 1]!;
    let message: string;
    switch (code) {
      case 1: {
        const at = f[e + 3]!;
        const shown = Array.from(m.subarray(at, at + 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
        message = `not a pcap or pcapng capture (unknown magic ${shown})`;
        break;
      }
      case 2:
        message = 'pcapng section header has a bad byte-order magic';
        break;
      case 3:
        message = `pcapng block length ${f[e + 2]!} is invalid`;
        break;
      case 4:
        message = 'pcapng block trailer does not match its length';
        break;
      case 5:
        message = 'empty input, not a capture';
        break;
      default:
        message = 'input ends inside the capture file header';
    }
    return new CaptureFormatError(this.source, offset, message);
  }
}
