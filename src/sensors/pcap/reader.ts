/**
 * Push parser for pcap and pcapng captures. Pure: no I/O, the caller feeds bytes in any chunk sizes
 * (file reads, stdin from `tcpdump -w -`) and gets packets back through a callback.
 *
 * Hot path notes: records that lie wholly inside a chunk are handed out as subarrays of that chunk (no
 * copy); only a record that straddles two chunks is assembled in a small carry buffer. `RawPacket.data`
 * is therefore only valid during the callback: copy what you keep.
 *
 * Damage policy: a record with an impossible length is counted in `stats.damaged`, then the reader scans
 * forward byte by byte for the next plausible record header (like pcapfix does) instead of giving up.
 * Only input that is not a capture at all throws `CaptureFormatError`.
 */

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

// Parser states.
const S_MAGIC = 0;
const S_PCAP_HDR = 1;
const S_PCAP_REC = 2;
const S_PCAP_RESYNC = 3;
const S_NG_BLOCK = 4;
const S_NG_RESYNC = 5;

const NG_SHB = 0x0a0d0d0a;
const NG_IDB = 1;
const NG_PB = 2; // obsolete Packet Block
const NG_SPB = 3;
const NG_ISB = 5;
const NG_EPB = 6;
const BOM = 0x1a2b3c4d;

/** The largest frame libpcap will ever write (MAXIMUM_SNAPLEN); used to judge plausibility while resyncing. */
const MAX_SNAPLEN = 262144;
/** While resyncing pcap, a candidate header's time must lie this close to the last good packet's. */
const RESYNC_TS_WINDOW = 7 * 86400;

interface Iface {
  linkType: number;
  snaplen: number;
  /** Timestamp units per second (if_tsresol). */
  div: number;
  /** if_tsoffset seconds. */
  offset: number;
}

export class CaptureReader {
  readonly stats: CaptureStats = {
    packets: 0,
    damaged: 0,
    bytes: 0,
    format: 'unknown',
    skippedBytes: 0,
    snapped: 0,
    sections: 0,
    interfaces: 0,
    nonPacketFrames: 0,
  };
  private readonly source: string;
  private readonly maxRecord: number;

  private state = S_MAGIC;
  /** Bytes the current unit needs, counted from its start; set whenever parse() returns 0. */
  private need = 4;
  /** Carry buffer for a record that straddles chunks. */
  private carry: Uint8Array = EMPTY;
  private carryDv = new DataView(new ArrayBuffer(0));
  private carryLen = 0;
  private cb: (p: RawPacket) => void = () => {};
  private readonly reused: ReusedPacket | null;
  private ended = false;
  /** Set by end(): resync candidates that would need more input are rejected instead of awaited. */
  private final = false;

  // pcap
  private le = true;
  private fracDiv = 1e6;
  private recHdr = 16;
  private linkType = 0;
  private snaplen = 0;
  private lastSec = -1;
  private lastTs = 0;
  // pcapng
  private ifaces: Iface[] = [];

  constructor(opts: CaptureReaderOptions = {}) {
    this.source = opts.source ?? 'capture';
    this.maxRecord = Math.max(opts.maxRecord ?? 1 << 20, 64);
    this.reused = opts.reuse ? new ReusedPacket() : null;
  }

  /** Feed the next bytes of the capture. Packets are delivered synchronously to onPacket. */
  push(chunk: Uint8Array, onPacket: (p: RawPacket) => void): void {
    if (this.ended) throw new Error('CaptureReader.push after end()');
    this.cb = onPacket;
    const clen = chunk.length;
    let coff = 0;

    // Finish a record that began in an earlier chunk: top the carry buffer up to exactly what the unit
    // needs, so the rest of this chunk can again be parsed in place.
    while (this.carryLen > 0) {
      const want = this.need - this.carryLen;
      if (want > 0) {
        const take = Math.min(want, clen - coff);
        this.ensureCarry(this.carryLen + take);
        this.carry.set(chunk.subarray(coff, coff + take), this.carryLen);
        this.carryLen += take;
        coff += take;
        if (this.carryLen < this.need) return;
      }
      const n = this.parse(this.carry, this.carryDv, 0, this.carryLen);
      this.stats.bytes += n;
      if (n === 0) continue; // header parsed, need grew to the full record length
      if (n < this.carryLen) {
        this.carry.copyWithin(0, n, this.carryLen);
        this.carryLen -= n;
      } else {
        this.carryLen = 0;
      }
    }

    const dv = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let off = coff;
    for (;;) {
      if (this.state === S_PCAP_REC) off = this.pcapRecords(chunk, dv, off, clen);
      const n = this.parse(chunk, dv, off, clen);
      if (n === 0) break;
      off += n;
      this.stats.bytes += n;
    }
    if (off < clen) {
      this.ensureCarry(clen - off);
      this.carry.set(chunk.subarray(off), 0);
      this.carryLen = clen - off;
    }
  }

  /** Input is complete. A partial record left over counts as damaged (truncated capture). */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    const left = this.carryLen;
    this.carryLen = 0;
    if (this.state === S_MAGIC || this.state === S_PCAP_HDR) {
      const total = this.stats.bytes + left;
      throw new CaptureFormatError(
        this.source,
        total,
        total === 0 ? 'empty input, not a capture' : 'input ends inside the capture file header',
      );
    }
    // While resyncing, the carry may hold a false candidate we were waiting on: rescan it now that we
    // know no more input comes, so real records behind it are not lost.
    this.final = true;
    let off = 0;
    while (off < left) {
      const n = this.parse(this.carry, this.carryDv, off, left);
      if (n === 0) break;
      off += n;
      this.stats.bytes += n;
    }
    if (off < left) {
      if (this.state !== S_PCAP_RESYNC && this.state !== S_NG_RESYNC) this.stats.damaged++;
      this.stats.skippedBytes += left - off;
      this.stats.bytes += left - off;
    }
    this.carry = EMPTY;
  }

  private ensureCarry(n: number): void {
    if (this.carry.length >= n) return;
    const next = new Uint8Array(Math.max(n, Math.min(this.carry.length * 2, this.maxRecord + 64), 4096));
    next.set(this.carry.subarray(0, this.carryLen));
    this.carry = next;
    this.carryDv = new DataView(next.buffer);
  }

  private emit(
    buf: Uint8Array,
    start: number,
    caplen: number,
    origLen: number,
    ts: number,
    linkType: number,
    iface: number,
  ): void {
    const st = this.stats;
    if (caplen < origLen) st.snapped++;
    this.lastTs = ts;
    const r = this.reused;
    if (r !== null) {
      r.index = ++st.packets + st.nonPacketFrames;
      r.tsSec = ts;
      r.linkType = linkType;
      r.caplen = caplen;
      r.origLen = origLen;
      r.iface = iface;
      r.set(buf, start);
      this.cb(r);
      return;
    }
    this.cb({
      index: ++st.packets + st.nonPacketFrames,
      tsSec: ts,
      linkType,
      caplen,
      origLen,
      iface,
      data: buf.subarray(start, start + caplen),
    });
  }

  /**
   * The common case of a pcap file in one tight loop: whole, sane records lying in buf[off..end). Stops at
   * anything else (a partial record, an impossible length) and returns where, for parse() to handle exactly
   * as before. (Per-record parse() calls and its state switch were ~4% of a cold 552k-packet run.)
   */
  private pcapRecords(buf: Uint8Array, dv: DataView, off: number, end: number): number {
    const h = this.recHdr;
    const le = this.le;
    const max = this.maxRecord;
    const div = this.fracDiv;
    const linkType = this.linkType;
    const st = this.stats;
    while (end - off >= h) {
      const caplen = dv.getUint32(off + 8, le);
      const total = h + caplen;
      if (caplen > max || end - off < total) break;
      const sec = dv.getUint32(off, le);
      this.lastSec = sec;
      this.emit(
        buf,
        off + h,
        caplen,
        dv.getUint32(off + 12, le),
        sec + dv.getUint32(off + 4, le) / div,
        linkType,
        0,
      );
      off += total;
      st.bytes += total;
      if (this.state !== S_PCAP_REC) break;
    }
    return off;
  }

  /**
   * Parse one unit at buf[off..end). Returns bytes consumed (> 0), or 0 with this.need set to the number
   * of bytes (from off) required to make progress.
   */
  private parse(buf: Uint8Array, dv: DataView, off: number, end: number): number {
    const avail = end - off;
    for (;;) {
      switch (this.state) {
        case S_PCAP_REC: {
          const h = this.recHdr;
          if (avail < h) return this.want(h);
          const le = this.le;
          const caplen = dv.getUint32(off + 8, le);
          if (caplen > this.maxRecord) {
            this.stats.damaged++;
            this.state = S_PCAP_RESYNC;
            return this.skip(1);
          }
          const total = h + caplen;
          if (avail < total) return this.want(total);
          const sec = dv.getUint32(off, le);
          const ts = sec + dv.getUint32(off + 4, le) / this.fracDiv;
          this.lastSec = sec;
          this.emit(buf, off + h, caplen, dv.getUint32(off + 12, le), ts, this.linkType, 0);
          return total;
        }
        case S_NG_BLOCK: {
          if (avail < 12) return this.want(12);
          const r = this.ngBlock(buf, dv, off, avail);
          if (r >= 0) return r;
          continue; // state changed without consuming
        }
        case S_PCAP_RESYNC: {
          const h = this.recHdr;
          if (avail < h) return this.want(h);
          if (this.plausiblePcapHeader(dv, off, avail)) {
            this.state = S_PCAP_REC;
            continue;
          }
          return this.skip(1);
        }
        case S_NG_RESYNC: {
          // 28 bytes show a packet block's caplen/origLen, which the plausibility check needs.
          if (avail < 28 && !this.final) return this.want(28);
          if (avail < 12) return this.skip(1);
          const type = dv.getUint32(off, this.le);
          let len = dv.getUint32(off + 4, this.le);
          let ok = false;
          if (type === NG_SHB) {
            const bom = dv.getUint32(off + 8, true);
            if (bom === BOM || bom === 0x4d3c2b1a) {
              len = dv.getUint32(off + 4, bom === BOM);
              ok = true;
            }
          } else {
            ok = this.plausibleNgBlock(dv, off, type, len, avail);
          }
          ok = ok && len >= 12 && (len & 3) === 0 && len <= this.maxRecord + 64;
          if (!ok) return this.skip(1);
          if (avail < len) return this.final ? this.skip(1) : this.want(len);
          const trailerLe = type === NG_SHB ? dv.getUint32(off + 8, true) === BOM : this.le;
          if (dv.getUint32(off + len - 4, trailerLe) !== len) return this.skip(1);
          this.state = S_NG_BLOCK;
          continue;
        }
        case S_MAGIC: {
          if (avail < 4) return this.want(4);
          this.detect(buf, dv, off);
          continue;
        }
        case S_PCAP_HDR: {
          if (avail < 24) return this.want(24);
          const le = this.le;
          this.snaplen = dv.getUint32(off + 16, le);
          // The upper bits of the link-type field carry FCS information (LINKTYPE_LINUX_SLL etc. are < 2^16).
          this.linkType = dv.getUint32(off + 20, le) & 0x03ffffff;
          this.state = S_PCAP_REC;
          return 24;
        }
        default:
          throw new Error(`CaptureReader: bad state ${this.state}`);
      }
    }
  }

  private want(n: number): number {
    this.need = n;
    return 0;
  }

  private skip(n: number): number {
    this.stats.skippedBytes += n;
    return n;
  }

  private detect(buf: Uint8Array, dv: DataView, off: number): void {
    const m = dv.getUint32(off, true);
    const st = this.stats;
    if (m === NG_SHB) {
      st.format = 'pcapng';
      this.state = S_NG_BLOCK;
      return;
    }
    const mb = dv.getUint32(off, false);
    const magic = (x: number): number =>
      x === 0xa1b2c3d4 ? 1 : x === 0xa1b23c4d ? 2 : x === 0xa1b2cd34 ? 3 : 0; // µs, ns, Kuznetzov µs
    let kind = magic(m);
    if (kind) this.le = true;
    else {
      kind = magic(mb);
      if (kind) this.le = false;
    }
    if (!kind) {
      const shown = Array.from(buf.subarray(off, off + 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
      throw new CaptureFormatError(
        this.source,
        st.bytes + off,
        `not a pcap or pcapng capture (unknown magic ${shown})`,
      );
    }
    st.format = 'pcap';
    this.fracDiv = kind === 2 ? 1e9 : 1e6;
    this.recHdr = kind === 3 ? 24 : 16;
    this.state = S_PCAP_HDR;
  }

  /** Resync candidate check for a pcapng block (not SHB): packet blocks must agree with their own length. */
  private plausibleNgBlock(dv: DataView, off: number, type: number, len: number, avail: number): boolean {
    const le = this.le;
    const n = this.ifaces.length;
    switch (type) {
      case NG_EPB:
      case NG_PB: {
        if (avail < 28) return false;
        const ifId = type === NG_EPB ? dv.getUint32(off + 8, le) : dv.getUint16(off + 8, le);
        const cap = dv.getUint32(off + 20, le);
        const orig = dv.getUint32(off + 24, le);
        // Options after the data are rare and short; allow a little room for them.
        return ifId < n && cap <= orig && 32 + cap <= len && len <= 32 + cap + 3 + 1024;
      }
      case NG_SPB:
        return n > 0 && avail >= 12 && len >= 16 && len <= 16 + dv.getUint32(off + 8, le) + 3;
      case NG_IDB:
        return len >= 20 && len <= 4096;
      case NG_ISB:
        return len >= 24 && len <= 4096 && avail >= 12 && dv.getUint32(off + 8, le) < n;
      default:
        return false;
    }
  }

  private plausiblePcapHeader(dv: DataView, off: number, avail: number): boolean {
    const le = this.le;
    const sec = dv.getUint32(off, le);
    const frac = dv.getUint32(off + 4, le);
    const caplen = dv.getUint32(off + 8, le);
    const orig = dv.getUint32(off + 12, le);
    if (frac >= this.fracDiv || caplen === 0 || caplen > orig || caplen > this.maxRecord) return false;
    if (orig > Math.max(MAX_SNAPLEN, this.snaplen)) return false;
    if (this.lastSec >= 0 && Math.abs(sec - this.lastSec) > RESYNC_TS_WINDOW) return false;
    // At end of input a candidate must fit in what is left.
    if (this.final && this.recHdr + caplen > avail) return false;
    return true;
  }

  /** One pcapng block at off (avail >= 12). Returns bytes consumed, 0 to wait for more, -1 on state change. */
  private ngBlock(buf: Uint8Array, dv: DataView, off: number, avail: number): number {
    const st = this.stats;
    let le = this.le;
    const type = dv.getUint32(off, le);
    if (type === NG_SHB) {
      // The byte-order magic decides how to read the block's own length.
      const bom = dv.getUint32(off + 8, true);
      if (bom === BOM) le = true;
      else if (bom === 0x4d3c2b1a) le = false;
      else {
        if (st.sections === 0)
          throw new CaptureFormatError(
            this.source,
            st.bytes + off + 8,
            'pcapng section header has a bad byte-order magic',
          );
        st.damaged++;
        this.state = S_NG_RESYNC;
        return this.skip(1);
      }
    }
    const len = dv.getUint32(off + 4, le);
    if (len < 12 || (len & 3) !== 0 || len > this.maxRecord + 64) {
      if (st.sections === 0)
        throw new CaptureFormatError(
          this.source,
          st.bytes + off + 4,
          `pcapng block length ${len} is invalid`,
        );
      st.damaged++;
      this.state = S_NG_RESYNC;
      return this.skip(1);
    }
    if (avail < len) return this.want(len);
    if (dv.getUint32(off + len - 4, le) !== len) {
      if (st.sections === 0)
        throw new CaptureFormatError(
          this.source,
          st.bytes + off + len - 4,
          'pcapng block trailer does not match its length',
        );
      st.damaged++;
      this.state = S_NG_RESYNC;
      return this.skip(1);
    }
    switch (type) {
      case NG_EPB:
      case NG_PB: {
        // The obsolete Packet Block has the Enhanced one's layout but a 16-bit interface id (then a drop count).
        if (len < 32) return this.damagedBlock(len);
        const ifId = type === NG_EPB ? dv.getUint32(off + 8, le) : dv.getUint16(off + 8, le);
        const ifc = this.ifaces[ifId];
        const caplen = dv.getUint32(off + 20, le);
        if (!ifc || 28 + caplen > len - 4) return this.damagedBlock(len);
        const ts = ngTime(dv.getUint32(off + 12, le), dv.getUint32(off + 16, le), ifc);
        this.emit(buf, off + 28, caplen, dv.getUint32(off + 24, le), ts, ifc.linkType, ifId);
        return len;
      }
      case NG_SPB: {
        const ifc = this.ifaces[0];
        if (!ifc || len < 16) return this.damagedBlock(len);
        const orig = dv.getUint32(off + 8, le);
        let caplen = Math.min(orig, len - 16);
        if (ifc.snaplen > 0 && caplen > ifc.snaplen) caplen = ifc.snaplen;
        this.emit(buf, off + 12, caplen, orig, this.lastTs, ifc.linkType, 0);
        return len;
      }
      case NG_IDB: {
        if (len < 20) return this.damagedBlock(len);
        const ifc: Iface = {
          linkType: dv.getUint16(off + 8, le),
          snaplen: dv.getUint32(off + 12, le),
          div: 1e6,
          offset: 0,
        };
        // Options: code u16, length u16, value padded to 4.
        let p = off + 16;
        const stop = off + len - 4;
        while (p + 4 <= stop) {
          const code = dv.getUint16(p, le);
          const olen = dv.getUint16(p + 2, le);
          if (code === 0 || p + 4 + olen > stop) break;
          if (code === 9 && olen >= 1) {
            const v = buf[p + 4]!;
            ifc.div = v & 0x80 ? 2 ** (v & 0x7f) : 10 ** v;
          } else if (code === 14 && olen >= 8) {
            ifc.offset = Number(dv.getBigInt64(p + 4, le));
          }
          p += 4 + ((olen + 3) & ~3);
        }
        this.ifaces.push(ifc);
        st.interfaces++;
        return len;
      }
      case NG_SHB: {
        this.le = le;
        this.ifaces = [];
        st.sections++;
        return len;
      }
      case 0x00000bad:
      case 0x40000bad:
      case 9:
        st.nonPacketFrames++;
        return len;
      default:
        // NRB, ISB, DSB and unknown blocks carry no packets: skip them whole.
        return len;
    }
  }

  private damagedBlock(len: number): number {
    this.stats.damaged++;
    return len;
  }
}

function ngTime(hi: number, lo: number, ifc: Iface): number {
  // Split so the common cases (µs, ns) stay exact enough in a double.
  return (hi * 4294967296) / ifc.div + lo / ifc.div + ifc.offset;
}
