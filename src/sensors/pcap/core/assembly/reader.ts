// The capture reader: pcap (both byte orders, µs and ns, Kuznetzov's) and pcapng (sections of either byte order,
// interfaces with their link types, snap lengths, if_tsresol and if_tsoffset; EPB, SPB, the obsolete PB; other
// blocks skipped) in linear memory. A port of what was src/sensors/pcap/reader.ts's CaptureReader, state for state,
// with the same damage policy (a record with an impossible length is counted, then the reader scans forward byte
// by byte for the next plausible record header) and the same counters.
//
// Input: one region of the heap (readerInit). The JS side writes the capture's next bytes at readerPrepare()'s
// address (a file read lands there directly) and calls readerPush(n, mode); the reader walks the whole records it
// holds and stops at the first partial one, which readerPrepare() later moves to the front of the region (the
// carry of the TS reader, without a second buffer). The region holds a whole unit (maxRecord + 64) besides a read,
// so a record never has to be assembled elsewhere.
//
// What happens to each record (mode): BATCH appends it to a table the JS side walks (CaptureReader's callbacks);
// FLOWS decodes it into PKT (decode.ts) and, if it is TCP or UDP, hands it to the flow table (flows.ts flowAdd): the
// fused loop, no crossing into JS per packet but the flow table's events; READ and DECODE are the benchmark's stages.
//
// Every read of a header or block is checked against what is in the region ([off, end)) first; lengths are u32 and
// summed in 64 bits so a hostile length cannot wrap. Errors (input that is not a capture) stop the walk with a code
// and a stream offset (readerErrorPtr); the JS side builds the CaptureFormatError.
import { tsPow } from './core';
import { counterAdd, counterGet, counterSet } from './counters';
import { countDecode, D_OK, decodeFrame } from './decode';
import { flowAdd } from './flows';
import { PKT } from './packet';

// ---- modes ----
export const M_BATCH: i32 = 0;
export const M_FLOWS: i32 = 1;
export const M_READ: i32 = 2;
export const M_DECODE: i32 = 3;

// ---- results of readerPush / readerFinish ----
/** Every whole record handled; more input wanted (call readerPrepare, then push again). */
export const R_MORE: i32 = 0;
/** The batch table is full: deliver it, then push 0 bytes to go on. */
export const R_BATCH_FULL: i32 = 1;
/** Not a capture: see readerErrorPtr. */
export const R_ERROR: i32 = 2;

// ---- errors (codes; the JS side has the messages) ----
const E_MAGIC: i32 = 1;
const E_BOM: i32 = 2;
const E_BLOCK_LEN: i32 = 3;
const E_TRAILER: i32 = 4;
const E_EMPTY: i32 = 5;
const E_HEADER_CUT: i32 = 6;

// ---- states ----
const S_MAGIC: i32 = 0;
const S_PCAP_HDR: i32 = 1;
const S_PCAP_REC: i32 = 2;
const S_PCAP_RESYNC: i32 = 3;
const S_NG_BLOCK: i32 = 4;
const S_NG_RESYNC: i32 = 5;

const NG_SHB: u32 = 0x0a0d0d0a;
const NG_IDB: u32 = 1;
const NG_PB: u32 = 2; // obsolete Packet Block
const NG_SPB: u32 = 3;
const NG_ISB: u32 = 5;
const NG_EPB: u32 = 6;
const BOM: u32 = 0x1a2b3c4d;

/** The largest frame libpcap will ever write (MAXIMUM_SNAPLEN); used to judge plausibility while resyncing. */
const MAX_SNAPLEN: u32 = 262144;
/** While resyncing pcap, a candidate header's time must lie this close to the last good packet's. */
const RESYNC_TS_WINDOW: i64 = 7 * 86400;

// ---- stats: f64 counters (CaptureStats order; format 0 unknown, 1 pcap, 2 pcapng) ----
const C_PACKETS: i32 = 0;
const C_DAMAGED: i32 = 1;
const C_BYTES: i32 = 2;
const C_FORMAT: i32 = 3;
const C_SKIPPED: i32 = 4;
const C_SNAPPED: i32 = 5;
const C_SECTIONS: i32 = 6;
const C_INTERFACES: i32 = 7;
const C_NON_PACKET: i32 = 8;
const C_COUNT: i32 = 9;
const CSTATS: usize = memory.data(C_COUNT * 8, 8);

// ---- the error: code, stream offset, a value for the message (a block length), the address of the bytes ----
const ERR: usize = memory.data(32, 8);

// ---- the batch table (M_BATCH): per record index f64, ts f64, address, caplen, origLen, linkType, iface, 0 ----
export const BATCH_MAX: i32 = 1024;
export const BATCH_ENTRY: i32 = 40;
const B_INDEX: i32 = 0;
const B_TS: i32 = 8;
const B_ADDR: i32 = 16;
const B_CAPLEN: i32 = 20;
const B_ORIG: i32 = 24;
const B_LINK: i32 = 28;
const B_IFACE: i32 = 32;
const BATCH: usize = memory.data(BATCH_MAX * BATCH_ENTRY, 8);
let batchCount: i32 = 0;

// ---- the region ----
let base: usize = 0;
let cap: usize = 0;
/** Parse position and fill level, relative to base. */
let pos: usize = 0;
let fill: usize = 0;
/** Stream offset of base (bytes before it were consumed and moved out). */
let baseStream: f64 = 0;
let mode: i32 = M_BATCH;

// ---- reader state (the TS reader's fields) ----
let maxRecord: u32 = 1 << 20;
let state: i32 = S_MAGIC;
/** Set by readerFinish(): resync candidates that would need more input are rejected instead of awaited. */
let atEnd: bool = false;
// pcap
let le: bool = true;
let fracDiv: f64 = 1e6;
let recHdr: u32 = 16;
let linkType: u32 = 0;
let snaplen: u32 = 0;
let lastSec: i64 = -1;
let lastTs: f64 = 0;
// pcapng interfaces: linkType u32, snaplen u32, div f64, offset f64 (24 bytes each), in a heap block that grows.
const IFACE: usize = 24;
let ifaces: usize = 0;
let ifaceCap: i32 = 0;
let ifaceCount: i32 = 0;

/**
 * Start reading a capture: an input region of at least `capacity` bytes (grown to hold a whole unit besides), state
 * and counters reset. Returns the region's address.
 */
export function readerInit(maxRec: i32, capacity: i32): usize {
  maxRecord = <u32>max<i32>(maxRec, 64);
  const want = max<usize>(<usize>capacity, 4096) + <usize>maxRecord + 64;
  if (want > cap) {
    if (base !== 0) heap.free(base);
    base = heap.alloc(want);
    cap = want;
  }
  pos = 0;
  fill = 0;
  baseStream = 0;
  batchCount = 0;
  state = S_MAGIC;
  atEnd = false;
  le = true;
  fracDiv = 1e6;
  recHdr = 16;
  linkType = 0;
  snaplen = 0;
  lastSec = -1;
  lastTs = 0;
  ifaceCount = 0;
  memory.fill(CSTATS, 0, C_COUNT * 8);
  memory.fill(ERR, 0, 32);
  return base;
}

export function readerStatsPtr(): usize {
  return CSTATS;
}
export function readerErrorPtr(): usize {
  return ERR;
}
export function readerBatchPtr(): usize {
  return BATCH;
}
export function readerBatchCount(): i32 {
  return batchCount;
}
/**
 * The batch table's layout, so that JS hard-codes none of it: field offsets in an entry (0 index f64, 1 ts f64,
 * 2 address, 3 caplen, 4 origLen, 5 linkType, 6 iface, u32 each), 7 the entry's size.
 */
export function readerBatchLayout(field: i32): i32 {
  switch (field) {
    case 0:
      return B_INDEX;
    case 1:
      return B_TS;
    case 2:
      return B_ADDR;
    case 3:
      return B_CAPLEN;
    case 4:
      return B_ORIG;
    case 5:
      return B_LINK;
    case 6:
      return B_IFACE;
    case 7:
      return BATCH_ENTRY;
    default:
      return -1;
  }
}

/**
 * Make room for the next bytes: the part of the region not yet walked (a record cut by the end of the last read)
 * moves to the front. Returns where to write them; readerSpace() says how many fit.
 */
export function readerPrepare(): usize {
  if (pos > 0) {
    const left = fill - pos;
    if (left > 0) memory.copy(base, base + pos, left);
    baseStream += <f64>pos;
    fill = left;
    pos = 0;
  }
  return base + fill;
}

export function readerSpace(): i32 {
  return <i32>(cap - fill);
}

/** n more bytes were written at readerPrepare()'s address: walk what is whole. */
export function readerPush(n: i32, m: i32): i32 {
  fill += <usize>n;
  mode = m;
  batchCount = 0;
  return walk();
}

/**
 * The input is complete: walk what is left as the TS reader's end() did (resync candidates needing more input are
 * rejected), then count a partial record left over as damaged (a truncated capture). R_BATCH_FULL: deliver and call
 * again. R_ERROR when the input ended inside the file header (or was empty).
 */
export function readerFinish(m: i32): i32 {
  mode = m;
  batchCount = 0;
  if (!atEnd) {
    if (state === S_MAGIC || state === S_PCAP_HDR) {
      const total = counterGet(CSTATS, C_BYTES) + <f64>(fill - pos);
      return fail(total === 0 ? E_EMPTY : E_HEADER_CUT, total, 0, 0);
    }
    atEnd = true;
  }
  const r = walk();
  if (r !== R_MORE) return r;
  const left = fill - pos;
  if (left > 0) {
    if (state !== S_PCAP_RESYNC && state !== S_NG_RESYNC) counterAdd(CSTATS, C_DAMAGED, 1);
    counterAdd(CSTATS, C_SKIPPED, <f64>left);
    counterAdd(CSTATS, C_BYTES, <f64>left);
    pos = fill;
  }
  return R_MORE;
}

function fail(code: i32, streamOff: f64, value: f64, at: usize): i32 {
  store<f64>(ERR, <f64>code);
  store<f64>(ERR + 8, streamOff);
  store<f64>(ERR + 16, value);
  store<f64>(ERR + 24, <f64>at);
  return R_ERROR;
}

// The walk: parse() returns bytes consumed (> 0), 0 to wait for more input, or -1 on an error.
function walk(): i32 {
  const end = base + fill;
  for (;;) {
    if (batchCount >= BATCH_MAX) return R_BATCH_FULL;
    // Nothing left: every state would wait for input, but at the end a resync would step past it (the TS reader's
    // end() looped while bytes were left).
    if (pos >= fill) return R_MORE;
    if (state === S_PCAP_REC) {
      pcapRecords(end);
      if (batchCount >= BATCH_MAX) return R_BATCH_FULL;
    }
    const n = parse(base + pos, end);
    if (n === 0) return R_MORE;
    if (n < 0) return R_ERROR;
    pos += <usize>n;
    counterAdd(CSTATS, C_BYTES, <f64>n);
  } // biome-ignore lint/correctness/noUnreachable: AssemblyScript wants a return after the endless loop
  return R_MORE;
}

/** Where address `at` of the region is in the stream. */
function streamAt(at: usize): f64 {
  return baseStream + <f64>(at - base);
}

function rd32(p: usize, little: bool): u32 {
  const v = load<u32>(p);
  return little ? v : bswap<u32>(v);
}
function rd16(p: usize, little: bool): u32 {
  const v = load<u16>(p);
  return little ? <u32>v : <u32>bswap<u16>(v);
}

/** One record out: counted, then batched for JS, decoded and tracked, or only decoded or counted. */
function emit(at: usize, caplen: u32, origLen: u32, ts: f64, lt: u32, iface: u32): void {
  if (caplen < origLen) counterAdd(CSTATS, C_SNAPPED, 1);
  lastTs = ts;
  counterAdd(CSTATS, C_PACKETS, 1);
  const index = counterGet(CSTATS, C_PACKETS) + counterGet(CSTATS, C_NON_PACKET);
  const m = mode;
  if (m === M_FLOWS) {
    const r = decodeFrame(lt, at, at + <usize>caplen);
    countDecode(r);
    if (r === D_OK) {
      PKT.index = <u32>index;
      PKT.tsSec = ts;
      flowAdd();
    }
  } else if (m === M_BATCH) {
    const e = BATCH + <usize>batchCount * BATCH_ENTRY;
    store<f64>(e + B_INDEX, index);
    store<f64>(e + B_TS, ts);
    store<u32>(e + B_ADDR, <u32>at);
    store<u32>(e + B_CAPLEN, caplen);
    store<u32>(e + B_ORIG, origLen);
    store<u32>(e + B_LINK, lt);
    store<u32>(e + B_IFACE, iface);
    batchCount++;
  } else if (m === M_DECODE) {
    countDecode(decodeFrame(lt, at, at + <usize>caplen));
  }
}

/**
 * The common case of a pcap file in one tight loop: whole, sane records in [base + pos, end). Stops at anything
 * else (a partial record, an impossible length) for parse() to handle exactly as before.
 */
function pcapRecords(end: usize): void {
  let off = base + pos;
  for (;;) {
    const total = pcapRecord(off, end - off);
    if (total <= 0) break;
    off += <usize>total;
    counterAdd(CSTATS, C_BYTES, <f64>total);
    if (batchCount >= BATCH_MAX) break;
  }
  pos = off - base;
}

/**
 * One pcap record at off, emitted if whole and sane: returns its size, 0 if it is cut by the end of what is held,
 * -1 if its length is impossible (damage, for parse() to count and resync from).
 */
function pcapRecord(off: usize, avail: usize): i32 {
  const h = <usize>recHdr;
  if (avail < h) return 0;
  const caplen = rd32(off + 8, le);
  if (caplen > maxRecord) return -1;
  const total = h + <usize>caplen;
  if (avail < total) return 0;
  const sec = rd32(off, le);
  lastSec = <i64>sec;
  emit(off + h, caplen, rd32(off + 12, le), <f64>sec + <f64>rd32(off + 4, le) / fracDiv, linkType, 0);
  return <i32>total;
}

function skip(n: i32): i32 {
  counterAdd(CSTATS, C_SKIPPED, <f64>n);
  return n;
}

/** Parse one unit at [off, end). Returns bytes consumed (> 0), 0 to wait for more input, -1 on an error. */
function parse(off: usize, end: usize): i32 {
  const avail = end - off;
  for (;;) {
    switch (state) {
      case S_PCAP_REC: {
        const total = pcapRecord(off, avail);
        if (total >= 0) return total;
        counterAdd(CSTATS, C_DAMAGED, 1);
        state = S_PCAP_RESYNC;
        return skip(1);
      }
      case S_NG_BLOCK: {
        if (avail < 12) return 0;
        const r = ngBlock(off, avail);
        if (r !== -2) return r;
        continue; // state changed without consuming
      }
      case S_PCAP_RESYNC: {
        if (avail < <usize>recHdr) return 0;
        if (plausiblePcapHeader(off, avail)) {
          state = S_PCAP_REC;
          continue;
        }
        return skip(1);
      }
      case S_NG_RESYNC: {
        // 28 bytes show a packet block's caplen/origLen, which the plausibility check needs.
        if (avail < 28 && !atEnd) return 0;
        if (avail < 12) return skip(1);
        const type = rd32(off, le);
        let len = rd32(off + 4, le);
        let ok = false;
        if (type === NG_SHB) {
          const bom = load<u32>(off + 8);
          if (bom === BOM || bom === 0x4d3c2b1a) {
            len = rd32(off + 4, bom === BOM);
            ok = true;
          }
        } else {
          ok = plausibleNgBlock(off, type, len, avail);
        }
        ok = ok && len >= 12 && (len & 3) === 0 && <u64>len <= <u64>maxRecord + 64;
        if (!ok) return skip(1);
        if (avail < <usize>len) return atEnd ? skip(1) : 0;
        const trailerLe = type === NG_SHB ? load<u32>(off + 8) === BOM : le;
        if (rd32(off + <usize>len - 4, trailerLe) !== len) return skip(1);
        state = S_NG_BLOCK;
        continue;
      }
      case S_MAGIC: {
        if (avail < 4) return 0;
        if (!detect(off)) return -1;
        continue;
      }
      case S_PCAP_HDR: {
        if (avail < 24) return 0;
        snaplen = rd32(off + 16, le);
        // The upper bits of the link-type field carry FCS information (LINKTYPE_LINUX_SLL etc. are < 2^16).
        linkType = rd32(off + 20, le) & 0x03ffffff;
        state = S_PCAP_REC;
        return 24;
      }
      default:
        unreachable();
    }
  } // biome-ignore lint/correctness/noUnreachable: AssemblyScript wants a return after the endless loop
  return 0;
}

/** pcap µs 1, ns 2, Kuznetzov µs 3, else 0. */
function magicKind(x: u32): i32 {
  return x === 0xa1b2c3d4 ? 1 : x === 0xa1b23c4d ? 2 : x === 0xa1b2cd34 ? 3 : 0;
}

function detect(off: usize): bool {
  const m = load<u32>(off);
  if (m === NG_SHB) {
    counterSet(CSTATS, C_FORMAT, 2);
    state = S_NG_BLOCK;
    return true;
  }
  let kind = magicKind(m);
  if (kind) le = true;
  else {
    kind = magicKind(bswap<u32>(m));
    if (kind) le = false;
  }
  if (!kind) {
    fail(E_MAGIC, streamAt(off), 0, off);
    return false;
  }
  counterSet(CSTATS, C_FORMAT, 1);
  fracDiv = kind === 2 ? 1e9 : 1e6;
  recHdr = kind === 3 ? 24 : 16;
  state = S_PCAP_HDR;
  return true;
}

/** Resync candidate check for a pcapng block (not SHB): packet blocks must agree with their own length. */
function plausibleNgBlock(off: usize, type: u32, len: u32, avail: usize): bool {
  const n = <u32>ifaceCount;
  switch (type) {
    case NG_EPB:
    case NG_PB: {
      if (avail < 28) return false;
      const ifId = type === NG_EPB ? rd32(off + 8, le) : rd16(off + 8, le);
      const capl = <u64>rd32(off + 20, le);
      const orig = <u64>rd32(off + 24, le);
      const l = <u64>len;
      // Options after the data are rare and short; allow a little room for them.
      return ifId < n && capl <= orig && 32 + capl <= l && l <= 32 + capl + 3 + 1024;
    }
    case NG_SPB:
      return n > 0 && avail >= 12 && len >= 16 && <u64>len <= 16 + <u64>rd32(off + 8, le) + 3;
    case NG_IDB:
      return len >= 20 && len <= 4096;
    case NG_ISB:
      return len >= 24 && len <= 4096 && avail >= 12 && rd32(off + 8, le) < n;
    default:
      return false;
  }
}

function plausiblePcapHeader(off: usize, avail: usize): bool {
  const sec = rd32(off, le);
  const frac = rd32(off + 4, le);
  const caplen = rd32(off + 8, le);
  const orig = rd32(off + 12, le);
  if (<f64>frac >= fracDiv || caplen === 0 || caplen > orig || caplen > maxRecord) return false;
  if (orig > max<u32>(MAX_SNAPLEN, snaplen)) return false;
  if (lastSec >= 0) {
    const d = <i64>sec - lastSec;
    if ((d < 0 ? -d : d) > RESYNC_TS_WINDOW) return false;
  }
  // At end of input a candidate must fit in what is left.
  if (atEnd && <usize>recHdr + <usize>caplen > avail) return false;
  return true;
}

function damagedBlock(len: u32): i32 {
  counterAdd(CSTATS, C_DAMAGED, 1);
  return <i32>len;
}

/** One pcapng block at off (avail >= 12). Returns bytes consumed, 0 to wait for more, -1 on error, -2 on state change. */
function ngBlock(off: usize, avail: usize): i32 {
  let little = le;
  const type = rd32(off, little);
  const sections = counterGet(CSTATS, C_SECTIONS);
  if (type === NG_SHB) {
    // The byte-order magic decides how to read the block's own length.
    const bom = load<u32>(off + 8);
    if (bom === BOM) little = true;
    else if (bom === 0x4d3c2b1a) little = false;
    else {
      if (sections === 0) {
        fail(E_BOM, streamAt(off + 8), 0, 0);
        return -1;
      }
      counterAdd(CSTATS, C_DAMAGED, 1);
      state = S_NG_RESYNC;
      return skip(1);
    }
  }
  const len = rd32(off + 4, little);
  if (len < 12 || (len & 3) !== 0 || <u64>len > <u64>maxRecord + 64) {
    if (sections === 0) {
      fail(E_BLOCK_LEN, streamAt(off + 4), <f64>len, 0);
      return -1;
    }
    counterAdd(CSTATS, C_DAMAGED, 1);
    state = S_NG_RESYNC;
    return skip(1);
  }
  const ulen = <usize>len;
  if (avail < ulen) return 0;
  if (rd32(off + ulen - 4, little) !== len) {
    if (sections === 0) {
      fail(E_TRAILER, streamAt(off + ulen - 4), 0, 0);
      return -1;
    }
    counterAdd(CSTATS, C_DAMAGED, 1);
    state = S_NG_RESYNC;
    return skip(1);
  }
  switch (type) {
    case NG_EPB:
    case NG_PB: {
      // The obsolete Packet Block has the Enhanced one's layout but a 16-bit interface id (then a drop count).
      if (len < 32) return damagedBlock(len);
      const ifId = type === NG_EPB ? rd32(off + 8, little) : rd16(off + 8, little);
      const caplen = rd32(off + 20, little);
      if (ifId >= <u32>ifaceCount || 28 + <u64>caplen > <u64>len - 4) return damagedBlock(len);
      const ifc = ifaces + <usize>ifId * IFACE;
      const ts = ngTime(rd32(off + 12, little), rd32(off + 16, little), ifc);
      emit(off + 28, caplen, rd32(off + 24, little), ts, load<u32>(ifc), ifId);
      return <i32>len;
    }
    case NG_SPB: {
      if (ifaceCount === 0 || len < 16) return damagedBlock(len);
      const ifc = ifaces;
      const orig = rd32(off + 8, little);
      let caplen = min<u32>(orig, len - 16);
      const snap = load<u32>(ifc, 4);
      if (snap > 0 && caplen > snap) caplen = snap;
      emit(off + 12, caplen, orig, lastTs, load<u32>(ifc), 0);
      return <i32>len;
    }
    case NG_IDB: {
      if (len < 20) return damagedBlock(len);
      const lt = rd16(off + 8, little);
      const snap = rd32(off + 12, little);
      let div: f64 = 1e6;
      let tsoff: f64 = 0;
      // Options: code u16, length u16, value padded to 4.
      let p = off + 16;
      const stop = off + ulen - 4;
      while (p + 4 <= stop) {
        const code = rd16(p, little);
        const olen = <usize>rd16(p + 2, little);
        if (code === 0 || p + 4 + olen > stop) break;
        if (code === 9 && olen >= 1) {
          const v = <u32>load<u8>(p + 4);
          div = v & 0x80 ? tsPow(2, <f64>(v & 0x7f)) : tsPow(10, <f64>v);
        } else if (code === 14 && olen >= 8) {
          const raw = load<u64>(p + 4);
          tsoff = <f64>(<i64>(little ? raw : bswap<u64>(raw)));
        }
        p += 4 + ((olen + 3) & ~3);
      }
      addIface(lt, snap, div, tsoff);
      counterAdd(CSTATS, C_INTERFACES, 1);
      return <i32>len;
    }
    case NG_SHB: {
      le = little;
      ifaceCount = 0;
      counterAdd(CSTATS, C_SECTIONS, 1);
      return <i32>len;
    }
    case 0x00000bad:
    case 0x40000bad:
    case 9:
      counterAdd(CSTATS, C_NON_PACKET, 1);
      return <i32>len;
    default:
      // NRB, ISB, DSB and unknown blocks carry no packets: skip them whole.
      return <i32>len;
  }
}

function addIface(lt: u32, snap: u32, div: f64, tsoff: f64): void {
  if (ifaceCount === ifaceCap) {
    const next = ifaceCap === 0 ? 8 : ifaceCap * 2;
    const p = heap.alloc(<usize>next * IFACE);
    if (ifaces !== 0) {
      memory.copy(p, ifaces, <usize>ifaceCount * IFACE);
      heap.free(ifaces);
    }
    ifaces = p;
    ifaceCap = next;
  }
  const f = ifaces + <usize>ifaceCount * IFACE;
  store<u32>(f, lt);
  store<u32>(f, snap, 4);
  store<f64>(f, div, 8);
  store<f64>(f, tsoff, 16);
  ifaceCount++;
}

function ngTime(hi: u32, lo: u32, ifc: usize): f64 {
  const div = load<f64>(ifc, 8);
  // Split so the common cases (µs, ns) stay exact enough in a double.
  return (<f64>hi * 4294967296) / div + <f64>lo / div + load<f64>(ifc, 16);
}

/**
 * Decode batch entry i into PKT (index, ts and the record's place too) and count it as the fused loop does: the path
 * of a pipeline that sees each record in JS first (an onPacket observer, a shard filter), then may hand PKT to the
 * flow table (flowAdd). Returns D_OK or the reason.
 */
export function readerDecode(i: i32): i32 {
  const e = BATCH + <usize>i * BATCH_ENTRY;
  const at = <usize>load<u32>(e + B_ADDR);
  const caplen = load<u32>(e + B_CAPLEN);
  const lt = load<u32>(e + B_LINK);
  PKT.index = <u32>load<f64>(e + B_INDEX);
  PKT.tsSec = load<f64>(e + B_TS);
  PKT.frameOff = <u32>at;
  PKT.caplen = caplen;
  PKT.origLen = load<u32>(e + B_ORIG);
  PKT.linkType = lt;
  const r = decodeFrame(lt, at, at + <usize>caplen);
  countDecode(r);
  return r;
}
