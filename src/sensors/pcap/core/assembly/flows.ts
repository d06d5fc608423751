// The flow table: bidirectional TCP/UDP flows and in-order TCP reassembly, in the core. A port of what was
// src/sensors/pcap/flows.ts's FlowTable, event for event (see docs/packet-core.md, "flow table"): fed one decoded
// packet at a time from PKT, it answers through the imports in core.ts; the JS side (flows.ts) turns those into the
// FlowHandlers calls and keeps one JS Flow object per record, by slot.
//
// Memory is bounded three ways: out-of-order bytes held per direction (maxPendingPerDir), out-of-order bytes held
// across all flows (maxTotalPending), and the number of flows. When a pending cap is hit we stop waiting for the
// missing bytes: the hole is reported as a gap and the buffered bytes after it are delivered.
//
// Flow bounds. Every flow sits in exactly one of four LRU lists, by class:
//   closed     ended by FIN/RST, kept closedLingerSec so trailing ACKs do not open a new flow (no reassembly state);
//   half-open  TCP with no payload yet (UDP: not answered yet): halfOpenTimeoutSec;
//   open       carried payload, not marked by a handler: idleTimeoutSec;
//   kept       a handler set `keep`: idleTimeoutSec, own cap maxKeptFlows.
// closed + half-open + open share maxFlows; when a new flow would pass it, the least recently used flow of the first
// non-empty list in that order is evicted. Each list is in last-activity order, so a timeout sweep stops at the
// first flow still young.
//
// Records, reassembly halves and held segments (and the held bytes, copies) are plain blocks of the core's heap
// (@unmanaged: no GC header, no write barrier), freed by the table itself when it drops them: a record never moves,
// so its address is stable for the JS side from flowOpen to flowDrop. (The first port used managed classes and
// arrays: the table cost 0.13 s of CPU on the bench capture against 0.085 s now, one core, no handlers, most of the
// difference the incremental GC's write barrier on every list link and its allocation steps.)
// Flows are found through a chained hash table over the raw address bytes (IPv4 and IPv6 alike) and ports.
import {
  flowClose as evClose,
  flowData as evData,
  flowDatagram as evDatagram,
  flowDrop as evDrop,
  flowFetch as evFetch,
  flowGap as evGap,
  flowHello as evHello,
  flowOpen as evOpen,
  flowSize as evSize,
} from './core';
import { counterAdd, counterGet, counterSet } from './counters';
import { countJobs, countShares } from './needles';
import { PKT } from './packet';
import { RHYTHM_SIZE, Rhythm, rhythmInit, rhythmSegment } from './rhythm';
import { Scratch, scratchOf } from './scratch';
import { HS_NEED_MORE, Hs, helloFeed, hsFree, hsNew } from './tls';

// ---- constants ----

const TCP_FIN: i32 = 0x01;
const TCP_SYN: i32 = 0x02;
const TCP_RST: i32 = 0x04;
const TCP_ACK: i32 = 0x10;

const CLOSED: i32 = 0;
const HALF_OPEN: i32 = 1;
const OPEN: i32 = 2;
const KEPT: i32 = 3;

const R_FIN: i32 = 0;
const R_RST: i32 = 1;
const R_IDLE: i32 = 2;
const R_EVICTED: i32 = 3;
const R_END: i32 = 4;

// Handler presence (flowInit's `handlers` bit set): an absent handler costs no call.
const H_DATA: i32 = 1;
const H_DATAGRAM: i32 = 2;
const H_SIZE: i32 = 4;
const H_GAP: i32 = 8;
const H_CLOSE: i32 = 16;
/** The handlers read ClientHellos: a TCP flow whose first client bytes are a handshake record goes to tls.ts. */
const H_HELLO: i32 = 32;

// Rec.hello: what the core does with a TCP flow's first client bytes (H_HELLO).
/** Not decided: the flow's first delivered payload decides (a client handshake record: HELLO_COLLECTING). */
const HELLO_UNSEEN: u8 = 0;
/** The core collects the client's ClientHello (tls.ts); the client bytes go nowhere else until it answers. */
const HELLO_COLLECTING: u8 = 1;
/** Answered (flowHello called): the flow's bytes go to the handlers again, as any flow's. */
const HELLO_ANSWERED: u8 = 2;
/** Not a hello, or the JS side decides (it saw the flow's bytes first, or set it): never taken. */
const HELLO_OFF: u8 = 3;

// ---- stats: f64 counters in linear memory, read by the JS side (FlowTableStats, in this order) ----

export const S_PACKETS: i32 = 0;
const S_FLOWS: i32 = 1;
const S_TCP_FLOWS: i32 = 2;
const S_UDP_FLOWS: i32 = 3;
const S_ACTIVE: i32 = 4;
/** closed by reason: fin, rst, idle, evicted, end */
const S_CLOSED: i32 = 5;
const S_AFTER_CLOSE: i32 = 10;
const S_RETRANS: i32 = 11;
const S_OOO: i32 = 12;
const S_OVERLAP: i32 = 13;
const S_GAP: i32 = 14;
const S_PENDING: i32 = 15;
const S_PEAK_PENDING: i32 = 16;
const S_PEAK_PENDING_DIR: i32 = 17;
const S_CAP_FLUSHES: i32 = 18;
const S_PEAK_FLOWS: i32 = 19;
/** evicted by class: closed, halfOpen, open, kept */
const S_EVICTED: i32 = 20;
/** timed out by class */
const S_TIMED_OUT: i32 = 24;
export const S_COUNT: i32 = 28;

const STATS: usize = memory.data(<i32>(S_COUNT * 8), 8);

// ---- records ----

/** A held out-of-order segment, in its direction's list (sorted by rel). */
@unmanaged
class Seg {
  prev: Seg | null = null;
  next: Seg | null = null;
  rel: i64 = 0;
  len: i32 = 0;
  /** Captured bytes of the segment: what the pending caps count. */
  size: i32 = 0;
  /** A copy of the bytes (heap.alloc, `size` bytes), or 0 when not held (sizesOnly) or empty. */
  data: usize = 0;
  /** False for a sizesOnly flow's segment: only `size` is known. */
  held: bool = true;
}

/**
 * One direction of a TCP stream. Sequence numbers are kept relative to `base`, so wraparound is handled once,
 * by the signed 32-bit difference to the next expected byte.
 */
@unmanaged
class Half {
  started: bool = false;
  base: u32 = 0;
  next: i64 = 0;
  /** Held out-of-order segments, sorted by rel (first: the next to deliver). */
  first: Seg | null = null;
  last: Seg | null = null;
  pend: f64 = 0;
  finRel: i64 = -1;
}

@unmanaged
class Rec {
  // Read (and keep/sizesOnly written) by the JS side through flowLayout: keep these first.
  lastTs: f64 = 0;
  bytesC2s: f64 = 0;
  bytesS2c: f64 = 0;
  pktsC2s: f64 = 0;
  pktsS2c: f64 = 0;
  closed: u8 = 0;
  sawSyn: u8 = 0;
  midstream: u8 = 0;
  keep: u8 = 0;
  sizesOnly: u8 = 0;
  /**
   * Written by the JS side (one-way): the handler needs nothing more of this flow's content, neither bytes nor
   * sizes; the core goes on counting (packets, bytes, the message rhythm, lastData) and calls out no more.
   */
  quiet: u8 = 0;
  /** Written by the JS side (one-way): count stratum shares (c2s) and jobs (s2c) in what is delivered. */
  countStratum: u8 = 0;
  /** Packet index of the flow's last delivered payload (data or size), and the counts of countStratum. */
  lastData: f64 = 0;
  shares: f64 = 0;
  jobs: f64 = 0;
  /** The message rhythm of a TCP flow (rhythm.ts), made at its first delivered payload; 0 before. */
  rhythm: usize = 0;
  /** HELLO_*: read by the JS side, and set to HELLO_OFF by it for a flow it reads itself (H_HELLO). */
  hello: u8 = 0;
  /** The ClientHello collector while HELLO_COLLECTING (tls.ts's Hs), else 0. */
  hs: usize = 0;
  // Internal.
  /** A UDP flow no handler wants (datagramFilter): no events at all, no slot. */
  silent: u8 = 0;
  lowIsClient: bool = true;
  ver: u8 = 0;
  proto: u8 = 0;
  id: f64 = 0;
  slot: i32 = 0;
  /** Key: the endpoint that sorts low and the one that sorts high (address as two big-endian u64), ports. */
  lo0: u64 = 0;
  lo1: u64 = 0;
  hi0: u64 = 0;
  hi1: u64 = 0;
  ports: u32 = 0;
  hash: u32 = 0;
  hnext: Rec | null = null;
  /** Reassembly state per direction (c2s, s2c); null for UDP and once closed by FIN/RST. */
  h0: Half | null = null;
  h1: Half | null = null;
  /** The LRU list this record is in (CLOSED..KEPT), and its neighbours there. */
  cls: i32 = HALF_OPEN;
  prev: Rec | null = null;
  next: Rec | null = null;
}

/** One class's flows, least recently used first. */
@final
class LruList {
  head: Rec | null = null;
  tail: Rec | null = null;
  count: i32 = 0;

  append(r: Rec): void {
    r.prev = this.tail;
    r.next = null;
    const t = this.tail;
    if (t) t.next = r;
    else this.head = r;
    this.tail = r;
    this.count++;
  }

  unlink(r: Rec): void {
    const prev = r.prev;
    const next = r.next;
    if (prev) prev.next = next;
    else this.head = next;
    if (next) next.prev = prev;
    else this.tail = prev;
    r.prev = null;
    r.next = null;
    this.count--;
  }
}

// ---- table state ----

let maxFlows: f64 = 50000;
let maxKept: f64 = 10000;
let halfOpenTimeout: f64 = 30;
let closedLinger: f64 = 60;
let maxPendingPerDir: f64 = 256 * 1024;
let maxTotalPending: f64 = 64 * 1024 * 1024;
let idleTimeout: f64 = 600;
let sweepEvery: f64 = 10;
let handlers: i32 = 0;
/** Server ports, one bit each (65,536 bits). */
const SERVER_PORTS: usize = memory.data(8192, 8);
/**
 * Ports whose UDP flows the handlers see (one bit each), once `datagramFilter` is on (flowDatagramPort): any other
 * UDP flow is silent, counted here and never reported, as nDPI leaves a flow no dissector wants.
 */
const DATAGRAM_PORTS: usize = memory.data(8192, 8);
let datagramFilter: bool = false;

const lists: StaticArray<LruList> = [new LruList(), new LruList(), new LruList(), new LruList()];
let buckets: StaticArray<Rec | null> = new StaticArray<Rec | null>(4096);
let mask: u32 = 4095;
let count: i32 = 0;
let lastSweep: f64 = -Infinity;
let nextId: f64 = 1;
const freeSlots: Array<i32> = [] as i32[];
let nextSlot: i32 = 0;
/**
 * The current packet for the JS side: index, ts, and a count of packets added (f64 each). Events carry no index
 * or ts (each f64 argument was a heap number made per event): add()'s caller knows them, and the fused loop reads
 * them here.
 */
const CURRENT: usize = memory.data(24, 8);

export function flowCurrentPtr(): usize {
  return CURRENT;
}

// The current packet's key (makeKey).
let kVer: u8 = 0;
let kProto: u8 = 0;
let kLo0: u64 = 0;
let kLo1: u64 = 0;
let kHi0: u64 = 0;
let kHi1: u64 = 0;
let kPorts: u32 = 0;
let kHash: u32 = 0;

/** (Re)configure and empty the table. Options as FlowTableOptions, already defaulted by the JS side. */
export function flowInit(
  maxFlows_: f64,
  maxKept_: f64,
  halfOpen_: f64,
  linger_: f64,
  perDir_: f64,
  total_: f64,
  idle_: f64,
  handlers_: i32,
): void {
  maxFlows = maxFlows_;
  maxKept = maxKept_;
  halfOpenTimeout = halfOpen_;
  closedLinger = linger_;
  maxPendingPerDir = perDir_;
  maxTotalPending = total_;
  idleTimeout = idle_;
  sweepEvery = Math.min(Math.min(Math.min(idle_, halfOpen_), linger_) / 4, 10);
  handlers = handlers_;
  memory.fill(SERVER_PORTS, 0, 8192);
  memory.fill(DATAGRAM_PORTS, 0, 8192);
  datagramFilter = false;
  memory.fill(STATS, 0, <usize>S_COUNT * 8);
  lastSweep = -Infinity;
  nextId = 1;
}

/** Sets a port's bit in a 65,536-bit port set (SERVER_PORTS, DATAGRAM_PORTS); a port out of range is ignored. */
function markPort(set: usize, port: i32): void {
  if (port < 0 || port > 0xffff) return;
  const p = set + (<usize>port >> 3);
  store<u8>(p, load<u8>(p) | ((<u8>1) << (<u8>(port & 7))));
}

/** Whether a port (0..65535, as a packet's) is in a port set. */
function hasPort(set: usize, port: i32): bool {
  return (load<u8>(set + (<usize>port >> 3)) & ((<u8>1) << (<u8>(port & 7)))) !== 0;
}

/** Mark one server port (the JS side calls it for each of FlowTableOptions.serverPorts). */
export function flowServerPort(port: i32): void {
  markPort(SERVER_PORTS, port);
}

/** Report the UDP flows with this port at either end, and (from the first call) no other UDP flow. */
export function flowDatagramPort(port: i32): void {
  datagramFilter = true;
  markPort(DATAGRAM_PORTS, port);
}

function isServerPort(port: i32): bool {
  return port < 1024 || hasPort(SERVER_PORTS, port);
}

export function flowStatsPtr(): usize {
  return STATS;
}

/** Flows held now in class c (closed, halfOpen, open, kept). */
export function flowHeld(c: i32): i32 {
  return unchecked(lists[c & 3]).count;
}

export function flowCount(): i32 {
  return count;
}

/** Byte offsets of a record's fields the JS side reads (and keep/sizesOnly, which it writes); 10-12: sizes. */
export function flowLayout(field: i32): i32 {
  switch (field) {
    case 0:
      return <i32>offsetof<Rec>('lastTs');
    case 1:
      return <i32>offsetof<Rec>('bytesC2s');
    case 2:
      return <i32>offsetof<Rec>('bytesS2c');
    case 3:
      return <i32>offsetof<Rec>('pktsC2s');
    case 4:
      return <i32>offsetof<Rec>('pktsS2c');
    case 5:
      return <i32>offsetof<Rec>('closed');
    case 6:
      return <i32>offsetof<Rec>('sawSyn');
    case 7:
      return <i32>offsetof<Rec>('midstream');
    case 8:
      return <i32>offsetof<Rec>('keep');
    case 9:
      return <i32>offsetof<Rec>('sizesOnly');
    case 13:
      return <i32>offsetof<Rec>('quiet');
    case 14:
      return <i32>offsetof<Rec>('countStratum');
    case 15:
      return <i32>offsetof<Rec>('lastData');
    case 16:
      return <i32>offsetof<Rec>('shares');
    case 17:
      return <i32>offsetof<Rec>('jobs');
    case 18:
      return <i32>offsetof<Rec>('rhythm');
    case 19:
      return <i32>offsetof<Rec>('hello');
    // sizes of a record, a direction's reassembly state and a held segment (docs/packet-core.md)
    case 10:
      return <i32>offsetof<Rec>();
    case 11:
      return <i32>offsetof<Half>();
    case 12:
      return <i32>offsetof<Seg>();
    default:
      return -1;
  }
}

// ---- the packet ----

/**
 * Whether the current packet's payload bytes are in memory at PKT.payloadOff. flowAddPacket's caller copies them
 * only when asked (flowFetch): most packets' bytes are never read (no payload, retransmitted, after the close, or a
 * sizesOnly flow's), and the copy was the JS side's largest cost.
 */
let payloadReady = true;

/** Make the current packet's payload readable (see payloadReady). */
function fetchPayload(): void {
  if (!payloadReady) {
    evFetch();
    payloadReady = true;
  }
}

/** Track the packet in PKT (TCP or UDP; anything else is ignored). Its payload must be in memory. */
export function flowAdd(): void {
  payloadReady = true;
  add();
}

function add(): void {
  const proto = <i32>PKT.proto;
  if (proto !== 6 && proto !== 17) return;
  counterAdd(STATS, S_PACKETS, 1);
  const ts = PKT.tsSec;
  store<f64>(CURRENT, <f64>PKT.index);
  store<f64>(CURRENT + 8, ts);
  store<f64>(CURRENT + 16, load<f64>(CURRENT + 16) + 1);
  if (ts - lastSweep >= sweepEvery) sweep(ts);

  const srcLow = makeKey();
  let rec = find();
  const isTcp = proto === 6;
  const flags: i32 = isTcp ? <i32>PKT.tcpFlags : 0;
  if (rec !== null && rec.closed !== 0 && (flags & (TCP_SYN | TCP_ACK)) === TCP_SYN) {
    // Port reuse: a fresh SYN on a 4-tuple whose connection already ended starts a new flow.
    remove(rec);
    rec = null;
  }
  if (rec === null) rec = create(srcLow, flags, ts);
  const r = rec;
  const d: i32 = srcLow === r.lowIsClient ? 0 : 1;
  r.lastTs = ts;
  if (d === 0) r.pktsC2s += 1;
  else r.pktsS2c += 1;
  if (r.closed) {
    touch(r, CLOSED);
    counterAdd(STATS, S_AFTER_CLOSE, 1);
    return;
  }
  const off = <usize>PKT.payloadOff;
  const have = <i32>(PKT.payloadEnd - PKT.payloadOff);
  const plen = <i32>PKT.payloadLen;
  if (d === 0) r.bytesC2s += <f64>plen;
  else r.bytesS2c += <f64>plen;
  // Payload (or, for UDP, an answer) makes a flow open; a handler's keep moves it out of eviction's way.
  touch(
    r,
    r.keep ? KEPT : r.cls === HALF_OPEN && (isTcp ? plen > 0 : r.pktsS2c > 0 && r.pktsC2s > 0) ? OPEN : r.cls,
  );
  if (!isTcp) {
    r.lastData = load<f64>(CURRENT);
    if (r.quiet !== 0) return;
    if (r.sizesOnly !== 0 && (handlers & H_SIZE) !== 0) evSize(r.slot, d, have);
    else if (handlers & H_DATAGRAM) {
      fetchPayload();
      evDatagram(r.slot, d, off, have);
    }
    return;
  }
  tcpSegment(r, d, PKT.seq, PKT.ack, flags, off, have, plen);
}

/**
 * Set PKT from the JS side's decoded packet and track it (until the decoder fills PKT itself). The addresses must be
 * in memory; the payload is asked for (flowFetch) when needed.
 */
export function flowAddPacket(
  ipVersion: i32,
  proto: i32,
  flags: i32,
  srcPort: i32,
  dstPort: i32,
  seq: u32,
  ack: u32,
  srcOff: u32,
  dstOff: u32,
  payloadOff: u32,
  payloadEnd: u32,
  payloadLen: u32,
  index: f64,
  ts: f64,
): void {
  PKT.ipVersion = <u8>ipVersion;
  PKT.proto = <u8>proto;
  PKT.tcpFlags = <u8>flags;
  PKT.srcPort = <u16>srcPort;
  PKT.dstPort = <u16>dstPort;
  PKT.seq = seq;
  PKT.ack = ack;
  PKT.srcOff = srcOff;
  PKT.dstOff = dstOff;
  PKT.payloadOff = payloadOff;
  PKT.payloadEnd = payloadEnd;
  PKT.payloadLen = payloadLen;
  PKT.index = <u32>index;
  PKT.tsSec = ts;
  payloadReady = false;
  add();
}

const packetScratch = new Scratch();

/** A region of at least n bytes the JS side copies a packet into (valid until the next call). */
export function flowScratch(n: usize): usize {
  return scratchOf(packetScratch, n);
}

/** Flush everything: pending bytes are delivered after their holes, every open flow is closed ('end'). */
export function flowEnd(): void {
  // Oldest activity first across the classes, as one list would have it.
  const open: Rec[] = [];
  for (let c = 0; c < 4; c++)
    for (let r: Rec | null = unchecked(lists[c]).head; r !== null; ) {
      if (!r.closed) open.push(r);
      r = r.next;
    }
  open.sort(byActivity);
  for (let i = 0; i < open.length; i++) close(unchecked(open[i]), R_END);
  for (let c = 0; c < 4; c++) {
    const list = unchecked(lists[c]);
    for (let r: Rec | null = list.head; r !== null; ) {
      const next = r.next;
      freeHalf(r.h0);
      freeHalf(r.h1);
      r.h0 = null;
      r.h1 = null;
      r.prev = null;
      r.next = null;
      r.hnext = null;
      if (r.silent === 0) evDrop(r.slot);
      if (r.rhythm !== 0) heap.free(r.rhythm);
      if (r.hs !== 0) hsFree(changetype<Hs>(r.hs));
      heap.free(changetype<usize>(r));
      r = next;
    }
    list.head = null;
    list.tail = null;
    list.count = 0;
  }
  for (let i = 0; i < buckets.length; i++) unchecked((buckets[i] = null));
  count = 0;
  freeSlots.length = 0;
  nextSlot = 0;
  counterSet(STATS, S_ACTIVE, 0);
}

function byActivity(a: Rec, b: Rec): i32 {
  if (a.lastTs < b.lastTs) return -1;
  if (a.lastTs > b.lastTs) return 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

// ---- keys ----

/**
 * The current packet's direction-independent key (endpoints sorted) into kVer..kHash. Returns whether the
 * packet's source is the endpoint that sorts low.
 */
function makeKey(): bool {
  const sp = <u32>PKT.srcPort;
  const dp = <u32>PKT.dstPort;
  const so = <usize>PKT.srcOff;
  const dO = <usize>PKT.dstOff;
  let a0: u64;
  let a1: u64 = 0;
  let b0: u64;
  let b1: u64 = 0;
  const v6 = PKT.ipVersion === 6;
  if (v6) {
    a0 = bswap<u64>(load<u64>(so));
    a1 = bswap<u64>(load<u64>(so + 8));
    b0 = bswap<u64>(load<u64>(dO));
    b1 = bswap<u64>(load<u64>(dO + 8));
  } else {
    a0 = <u64>bswap<u32>(load<u32>(so));
    b0 = <u64>bswap<u32>(load<u32>(dO));
  }
  const low = a0 < b0 || (a0 === b0 && (a1 < b1 || (a1 === b1 && sp <= dp)));
  kVer = v6 ? 6 : 4;
  kProto = PKT.proto;
  if (low) {
    kLo0 = a0;
    kLo1 = a1;
    kHi0 = b0;
    kHi1 = b1;
    kPorts = (sp << 16) | dp;
  } else {
    kLo0 = b0;
    kLo1 = b1;
    kHi0 = a0;
    kHi1 = a1;
    kPorts = (dp << 16) | sp;
  }
  // Multiply-xorshift mixing (64-bit odd constants, written as halves: a plain literal reads to the linter as an
  // imprecise JS number).
  let h: u64 = (kLo0 ^ (kLo1 * M1)) * M2;
  h ^= (kHi0 ^ (kHi1 * M3) ^ (((<u64>kPorts) << 8) | <u64>kProto)) * M4;
  h ^= h >> 29;
  h *= M5;
  kHash = <u32>(h ^ (h >> 32));
  return low;
}

const M1: u64 = ((<u64>0x9e3779b9) << 32) | 0x7f4a7c15;
const M2: u64 = ((<u64>0xff51afd7) << 32) | 0xed558ccd;
const M3: u64 = ((<u64>0xc2b2ae3d) << 32) | 0x27d4eb4f;
const M4: u64 = ((<u64>0xc4ceb9fe) << 32) | 0x1a85ec53;
const M5: u64 = ((<u64>0x94d049bb) << 32) | 0x133111eb;

/** The flow with the current packet's key, if held. */
function find(): Rec | null {
  for (let r: Rec | null = unchecked(buckets[kHash & mask]); r !== null; ) {
    if (
      r.hash === kHash &&
      r.lo0 === kLo0 &&
      r.hi0 === kHi0 &&
      r.ports === kPorts &&
      r.lo1 === kLo1 &&
      r.hi1 === kHi1 &&
      r.proto === kProto &&
      r.ver === kVer
    )
      return r;
    r = r.hnext;
  }
  return null;
}

/** Twice the buckets once there are more flows than buckets (never shrinks: a table's size is bounded). */
function grow(): void {
  const size = buckets.length << 1;
  const next = new StaticArray<Rec | null>(size);
  const m = <u32>(size - 1);
  for (let i = 0; i < buckets.length; i++) {
    for (let r: Rec | null = unchecked(buckets[i]); r !== null; ) {
      const after = r.hnext;
      const b = r.hash & m;
      r.hnext = unchecked(next[b]);
      unchecked((next[b] = r));
      r = after;
    }
  }
  buckets = next;
  mask = m;
}

// ---- flow lifecycle ----

function create(srcLow: bool, flags: i32, ts: f64): Rec {
  if (<f64>(count - unchecked(lists[KEPT]).count) >= maxFlows) evictOne();
  const rec = newRec();
  rec.ver = kVer;
  rec.proto = kProto;
  rec.lo0 = kLo0;
  rec.lo1 = kLo1;
  rec.hi0 = kHi0;
  rec.hi1 = kHi1;
  rec.ports = kPorts;
  rec.hash = kHash;
  const b = kHash & mask;
  rec.hnext = unchecked(buckets[b]);
  unchecked((buckets[b] = rec));
  count++;
  if (count > buckets.length) grow();
  const isTcp = kProto === 6;
  const sp = <i32>PKT.srcPort;
  const dp = <i32>PKT.dstPort;
  // Who is the client? A SYN says so; otherwise the well-known/pool/lower port is the server's, and on a tie
  // the first sender is the client.
  let srcIsClient: bool;
  if (isTcp && flags & TCP_SYN) srcIsClient = (flags & TCP_ACK) === 0;
  else {
    const sk = isServerPort(sp);
    const dk = isServerPort(dp);
    if (sk !== dk) srcIsClient = dk;
    else if (sp !== dp) srcIsClient = sp > dp;
    else srcIsClient = true;
  }
  rec.lowIsClient = srcIsClient === srcLow;
  const so = <usize>PKT.srcOff;
  const dO = <usize>PKT.dstOff;
  rec.id = nextId;
  nextId += 1;
  rec.lastTs = ts;
  rec.sawSyn = isTcp && (flags & TCP_SYN) !== 0 ? 1 : 0;
  rec.midstream = rec.sawSyn ? 0 : 1;
  if (isTcp) {
    rec.h0 = newHalf();
    rec.h1 = newHalf();
    counterAdd(STATS, S_TCP_FLOWS, 1);
  } else counterAdd(STATS, S_UDP_FLOWS, 1);
  counterAdd(STATS, S_FLOWS, 1);
  counterSet(STATS, S_ACTIVE, <f64>count);
  if (<f64>count > counterGet(STATS, S_PEAK_FLOWS)) counterSet(STATS, S_PEAK_FLOWS, <f64>count);
  // A new flow is half-open until it carries payload (UDP: until it is answered).
  rec.cls = HALF_OPEN;
  unchecked(lists[HALF_OPEN]).append(rec);
  if (!isTcp && datagramFilter && !hasPort(DATAGRAM_PORTS, sp) && !hasPort(DATAGRAM_PORTS, dp)) {
    rec.silent = 1;
    rec.quiet = 1;
    rec.slot = -1;
    return rec;
  }
  rec.slot = freeSlots.length > 0 ? freeSlots.pop() : nextSlot++;
  evOpen(
    rec.slot,
    changetype<usize>(rec),
    rec.id,
    srcIsClient ? so : dO,
    srcIsClient ? dO : so,
    srcIsClient ? sp : dp,
    srcIsClient ? dp : sp,
    isTcp ? 1 : 0,
    kVer,
  );
  // onOpen may already have asked to keep it (a known pool endpoint).
  if (rec.keep) touch(rec, KEPT);
  return rec;
}

/**
 * Make room for one flow: the least recently used of the cheapest non-empty class among closed, half-open and
 * open. Kept flows are not taken here (see keepRoom).
 */
function evictOne(): void {
  for (let c = CLOSED; c <= OPEN; c++) {
    const victim = unchecked(lists[c]).head;
    if (victim === null) continue;
    counterAdd(STATS, S_EVICTED + c, 1);
    if (!victim.closed) close(victim, R_EVICTED);
    remove(victim);
    return;
  }
}

/** A flow about to join the kept list: past maxKeptFlows, the least recently used kept flow goes. */
function keepRoom(): void {
  const kept = unchecked(lists[KEPT]);
  const victim = kept.head;
  if (<f64>kept.count < maxKept || victim === null) return;
  counterAdd(STATS, S_EVICTED + KEPT, 1);
  if (!victim.closed) close(victim, R_EVICTED);
  remove(victim);
}

/** Mark a flow as just active, in class `cls` (moving it to that list's tail). */
function touch(rec: Rec, cls: i32): void {
  const from = unchecked(lists[rec.cls]);
  if (cls === rec.cls && rec === from.tail) return;
  from.unlink(rec);
  if (cls === KEPT && rec.cls !== KEPT) keepRoom();
  rec.cls = cls;
  unchecked(lists[cls]).append(rec);
}

function remove(rec: Rec): void {
  unchecked(lists[rec.cls]).unlink(rec);
  const h0 = rec.h0;
  if (h0 !== null) {
    dropPending(h0);
    dropPending(rec.h1!);
    freeHalf(h0);
    freeHalf(rec.h1);
    rec.h0 = null;
    rec.h1 = null;
  }
  const b = rec.hash & mask;
  let q: Rec | null = unchecked(buckets[b]);
  if (q === rec) unchecked((buckets[b] = rec.hnext));
  else {
    while (q !== null && q.hnext !== rec) q = q.hnext;
    if (q !== null) q.hnext = rec.hnext;
  }
  rec.hnext = null;
  count--;
  counterSet(STATS, S_ACTIVE, <f64>count);
  if (rec.silent === 0) {
    evDrop(rec.slot);
    freeSlots.push(rec.slot);
  }
  if (rec.rhythm !== 0) heap.free(rec.rhythm);
  if (rec.hs !== 0) hsFree(changetype<Hs>(rec.hs));
  heap.free(changetype<usize>(rec));
}

function close(rec: Rec, reason: i32): void {
  if (rec.closed) return;
  if (rec.h0 !== null) {
    // Deliver whatever is still waiting behind holes: the detector should see it.
    flushHalf(rec, 0);
    flushHalf(rec, 1);
  }
  rec.closed = 1;
  counterAdd(STATS, S_CLOSED + reason, 1);
  if (handlers & H_CLOSE && rec.silent === 0) evClose(rec.slot, reason);
  if (reason === R_FIN || reason === R_RST) {
    // It lingers only to absorb trailing packets: no reassembly state, first in line for eviction.
    const h0 = rec.h0;
    if (h0 !== null) {
      dropPending(h0);
      dropPending(rec.h1!);
      freeHalf(h0);
      freeHalf(rec.h1);
    }
    rec.h0 = null;
    rec.h1 = null;
    touch(rec, CLOSED);
  }
}

/**
 * Close and drop flows idle longer than their class's timeout (half-open: halfOpenTimeoutSec, closed:
 * closedLingerSec, the others idleTimeoutSec). Each list is in last-activity order: each scan stops at its first
 * young flow.
 */
function sweep(now: f64): void {
  lastSweep = now;
  for (let c = CLOSED; c <= KEPT; c++) {
    const limit = now - (c === HALF_OPEN ? halfOpenTimeout : c === CLOSED ? closedLinger : idleTimeout);
    for (let r: Rec | null = unchecked(lists[c]).head; r !== null && r.lastTs < limit; ) {
      const next = r.next;
      if (!r.closed) close(r, R_IDLE);
      counterAdd(STATS, S_TIMED_OUT + c, 1);
      remove(r);
      r = next;
    }
  }
}

// ---- TCP reassembly ----

function half(rec: Rec, d: i32): Half {
  return d === 0 ? rec.h0! : rec.h1!;
}

/** Position of sequence number `seq` relative to h.base, taken as the nearest to h.next (signed 32-bit). */
function relOf(h: Half, seq: u32): i64 {
  return h.next + <i64>(<i32>(seq - h.base - <u32>h.next));
}

function tcpSegment(rec: Rec, d: i32, seq: u32, ack: u32, flags: i32, off: usize, have: i32, len: i32): void {
  const h = half(rec, d);
  const other = half(rec, d ^ 1);
  if (flags & TCP_ACK && other.first !== null) {
    // The peer acknowledged bytes we never saw: the capture lost them. Stop waiting for the hole.
    const ackRel = relOf(other, ack);
    while (other.first !== null && other.first!.rel < ackRel) skipHole(rec, d ^ 1, other);
  }
  if (flags & TCP_SYN) {
    rec.sawSyn = 1;
    if (!h.started) {
      h.started = true;
      h.base = seq + 1;
      h.next = 0;
    }
    seq = seq + 1; // SYN occupies one sequence number; any data (TFO) follows it
  } else if (!h.started) {
    // Mid-session start: the first byte we see is byte 0 of this direction.
    h.started = true;
    h.base = seq;
    h.next = 0;
  }
  const rel = relOf(h, seq);
  if (len > 0) {
    const end = rel + <i64>len;
    if (end <= h.next) {
      counterAdd(STATS, S_RETRANS, 1);
    } else if (rel <= h.next) {
      deliver(rec, d, h, rel, off, true, true, have, len);
      drain(rec, d, h);
    } else {
      pending(rec, d, h, rel, off, have, len);
    }
  }
  if (flags & TCP_RST) {
    close(rec, R_RST);
    return;
  }
  if (flags & TCP_FIN) {
    const finRel = rel + <i64>len;
    if (h.finRel < 0 || finRel < h.finRel) h.finRel = finRel;
  }
  if (h.finRel >= 0 && other.finRel >= 0 && h.next >= h.finRel && other.next >= other.finRel) {
    close(rec, R_FIN);
  }
}

/**
 * Deliver a segment starting at or before h.next; trims what was already delivered. Its captured bytes are
 * [buf, buf + have) (held false: not held, sizes only; pkt: the current packet's, fetched if read).
 */
function deliver(
  rec: Rec,
  d: i32,
  h: Half,
  rel: i64,
  buf: usize,
  held: bool,
  pkt: bool,
  have: i32,
  len: i32,
): void {
  const skip = h.next - rel;
  if (skip > 0) counterAdd(STATS, S_OVERLAP, <f64>min<i64>(skip, <i64>len));
  if (skip < <i64>have) {
    const from = <i32>max<i64>(skip, 0);
    // What every TCP delivery feeds, whoever reads the content: the rhythm and the last data packet.
    if (rec.rhythm === 0) {
      rec.rhythm = heap.alloc(RHYTHM_SIZE);
      rhythmInit(changetype<Rhythm>(rec.rhythm));
    }
    rhythmSegment(changetype<Rhythm>(rec.rhythm), d, <f64>(have - from), load<f64>(CURRENT + 8));
    rec.lastData = load<f64>(CURRENT);
    if (rec.quiet !== 0) {
      if (rec.countStratum !== 0 && held) {
        if (pkt) fetchPayload();
        const at = buf + <usize>from;
        if (d === 0) rec.shares += <f64>countShares(at, <usize>(have - from));
        else rec.jobs += <f64>countJobs(at, <usize>(have - from));
      }
    } else if (rec.sizesOnly !== 0 && (handlers & H_SIZE) !== 0) evSize(rec.slot, d, have - from);
    else if (handlers & (H_DATA | H_HELLO)) {
      // A segment held without bytes (sizesOnly was set when it arrived) can only reach onData if a handler
      // cleared sizesOnly again without giving onSize; it then reads as zeros.
      if (pkt) fetchPayload();
      const at = buf + <usize>from;
      const n = have - from;
      if (rec.hello < HELLO_ANSWERED && (handlers & H_HELLO) !== 0) {
        // A client that opens with a handshake record: its hello is read here, and the handlers hear of the flow
        // once it is (flowHello). Server bytes before that, and any flow the JS side saw first, go on as before.
        if (d === 0 && (rec.hello === HELLO_COLLECTING || (held && looksLikeHello(at, n)))) {
          helloSegment(rec, held ? at : zeroes(n), n);
          afterDelivery(h, rel, len, skip, have, rec, d);
          return;
        }
        if (rec.hello === HELLO_UNSEEN) rec.hello = HELLO_OFF;
      }
      if (handlers & H_DATA) evData(rec.slot, d, held ? <isize>at : -1, n);
    }
  }
  afterDelivery(h, rel, len, skip, have, rec, d);
}

function afterDelivery(h: Half, rel: i64, len: i32, skip: i64, have: i32, rec: Rec, d: i32): void {
  // Bytes the headers promise but the capture cut off (snaplen) are a hole in the stream.
  const missing = <i64>len - max<i64>(skip, <i64>have);
  if (missing > 0) gap(rec, d, missing);
  h.next = rel + <i64>len;
}

/** A TLS handshake record header (type 22, version 3.x): what the JS side's looksLikeTlsStart tested. */
function looksLikeHello(p: usize, n: i32): bool {
  return n >= 3 && load<u8>(p) === 0x16 && load<u8>(p + 1) === 0x03 && load<u8>(p + 2) <= 4;
}

/** The largest ClientHello a flow's collector takes (the TypeScript reader's default, 16 KiB). */
const MAX_HELLO: i32 = 16384;

/** The client's next bytes to the flow's collector (made at its first); on an answer the flow is answered. */
function collect(rec: Rec, p: usize, n: i32): i32 {
  if (rec.hs === 0) {
    rec.hs = changetype<usize>(hsNew(1, MAX_HELLO));
    rec.hello = HELLO_COLLECTING;
  }
  const st = helloFeed(changetype<Hs>(rec.hs), p, n);
  if (st !== HS_NEED_MORE) rec.hello = HELLO_ANSWERED;
  return st;
}

function dropCollector(rec: Rec): void {
  hsFree(changetype<Hs>(rec.hs));
  rec.hs = 0;
}

/** The client's next bytes to the flow's hello collector; once it answers, the handlers hear (flowHello). */
function helloSegment(rec: Rec, p: usize, n: i32): void {
  const st = collect(rec, p, n);
  if (st === HS_NEED_MORE) return;
  // HELLO's tail may lie in the collector's buffers: freed only once the handler has read it.
  evHello(rec.slot, st);
  dropCollector(rec);
}

/**
 * The JS side found a hello where the core did not look (after a proxy's handshake, or after server bytes): the
 * flow's client bytes [ptr, ptr + len) on go to the collector. Returns tls.ts's answer (HELLO then holds the hello);
 * HS_NEED_MORE: the core goes on collecting the client's next bytes and calls flowHello when it answers.
 */
export function flowHelloTake(recPtr: usize, ptr: usize, len: i32): i32 {
  const rec = changetype<Rec>(recPtr);
  if (rec.hs !== 0) dropCollector(rec);
  const st = collect(rec, ptr, len);
  // Freed before the JS side reads HELLO, which is safe here: a fresh collector answering its first bytes holds
  // nothing of its own (the tail lies in the caller's bytes; the hello's fields are in HELLO's pools).
  if (st !== HS_NEED_MORE) dropCollector(rec);
  return st;
}

const zeros = new Scratch();

/** n zero bytes (a segment held without its bytes reads as zeros, as onData's view of it does). */
function zeroes(n: i32): usize {
  const p = scratchOf(zeros, <usize>n);
  memory.fill(p, 0, <usize>n);
  return p;
}

function drain(rec: Rec, d: i32, h: Half): void {
  for (let s = h.first; s !== null && s.rel <= h.next; s = h.first) {
    const after = s.next;
    h.first = after;
    if (after !== null) after.prev = null;
    else h.last = null;
    unpend(h, s.size);
    if (s.rel + <i64>s.len > h.next) deliver(rec, d, h, s.rel, s.data, s.held, false, s.size, s.len);
    else counterAdd(STATS, S_OVERLAP, <f64>s.len);
    freeSeg(s);
  }
}

function pending(rec: Rec, d: i32, h: Half, rel: i64, off: usize, have: i32, len: i32): void {
  counterAdd(STATS, S_OOO, 1);
  // Sorted insert (stable: equal starts keep arrival order, so the first copy of a byte wins): after `prev`.
  let prev = h.last;
  while (prev !== null && prev.rel > rel) prev = prev.prev;
  if (prev !== null && prev.rel + <i64>prev.len >= rel + <i64>len) {
    counterAdd(STATS, S_OVERLAP, <f64>len); // already fully held
    return;
  }
  const size = have;
  // Caps: give up on the oldest hole(s) rather than hold more than allowed.
  while (
    (h.pend + <f64>size > maxPendingPerDir || counterGet(STATS, S_PENDING) + <f64>size > maxTotalPending) &&
    h.first !== null
  ) {
    counterAdd(STATS, S_CAP_FLUSHES, 1);
    skipHole(rec, d, h);
    if (rel <= h.next) break;
  }
  if (rel <= h.next) {
    if (rel + <i64>len > h.next) deliver(rec, d, h, rel, off, true, true, have, len);
    drain(rec, d, h);
    return;
  }
  if (h.pend + <f64>size > maxPendingPerDir || counterGet(STATS, S_PENDING) + <f64>size > maxTotalPending) {
    // Other flows hold the global budget: release the least recently used ones' pending bytes first.
    if (h.pend + <f64>size <= maxPendingPerDir) freeGlobal(size, rec);
    if (h.pend + <f64>size > maxPendingPerDir || counterGet(STATS, S_PENDING) + <f64>size > maxTotalPending) {
      counterAdd(STATS, S_CAP_FLUSHES, 1);
      gap(rec, d, rel - h.next);
      h.next = rel;
      deliver(rec, d, h, rel, off, true, true, have, len);
      drain(rec, d, h);
      return;
    }
  }
  prev = h.last;
  while (prev !== null && prev.rel > rel) prev = prev.prev;
  const s = newSeg();
  s.rel = rel;
  s.len = len;
  s.size = size;
  // A sizesOnly flow's bytes are never read again: count them against the caps as before, copy nothing.
  if ((rec.sizesOnly !== 0 && (handlers & H_SIZE) !== 0) || (rec.quiet !== 0 && rec.countStratum === 0))
    s.held = false;
  else if (size > 0) {
    s.data = heap.alloc(<usize>size);
    fetchPayload();
    memory.copy(s.data, off, <usize>size);
  }
  s.prev = prev;
  const after = prev !== null ? prev.next : h.first;
  s.next = after;
  if (prev !== null) prev.next = s;
  else h.first = s;
  if (after !== null) after.prev = s;
  else h.last = s;
  h.pend += <f64>size;
  counterAdd(STATS, S_PENDING, <f64>size);
  if (counterGet(STATS, S_PENDING) > counterGet(STATS, S_PEAK_PENDING))
    counterSet(STATS, S_PEAK_PENDING, counterGet(STATS, S_PENDING));
  if (h.pend > counterGet(STATS, S_PEAK_PENDING_DIR)) counterSet(STATS, S_PEAK_PENDING_DIR, h.pend);
}

function freeGlobal(size: i32, except: Rec): void {
  for (let c = 0; c < 4; c++) {
    let r: Rec | null = unchecked(lists[c]).head;
    while (r !== null && counterGet(STATS, S_PENDING) + <f64>size > maxTotalPending) {
      if (r !== except && r.h0 !== null) {
        for (let d = 0; d < 2; d++) {
          const h = half(r, d);
          while (h.first !== null && counterGet(STATS, S_PENDING) + <f64>size > maxTotalPending) {
            counterAdd(STATS, S_CAP_FLUSHES, 1);
            skipHole(r, d, h);
          }
        }
      }
      r = r.next;
    }
  }
}

/** Declare the bytes before the first pending segment lost, then deliver what is now in order. */
function skipHole(rec: Rec, d: i32, h: Half): void {
  const first = h.first;
  if (first === null) return;
  if (first.rel > h.next) {
    gap(rec, d, first.rel - h.next);
    h.next = first.rel;
  }
  drain(rec, d, h);
}

function flushHalf(rec: Rec, d: i32): void {
  const h = half(rec, d);
  while (h.first !== null) skipHole(rec, d, h);
}

function dropPending(h: Half): void {
  if (h.pend > 0) counterAdd(STATS, S_PENDING, -h.pend);
  h.pend = 0;
  freeHalfSegs(h);
}

function freeHalfSegs(h: Half): void {
  for (let s = h.first; s !== null; ) {
    const after = s.next;
    freeSeg(s);
    s = after;
  }
  h.first = null;
  h.last = null;
}

/** Free a direction's state (its held segments, then itself). */
function freeHalf(h: Half | null): void {
  if (h === null) return;
  freeHalfSegs(h);
  heap.free(changetype<usize>(h));
}

// ---- allocation: records, halves and segments are plain blocks of the core's heap, freed by the table ----

function newRec(): Rec {
  const p = heap.alloc(offsetof<Rec>());
  memory.fill(p, 0, offsetof<Rec>());
  const r = changetype<Rec>(p);
  r.lowIsClient = true;
  r.cls = HALF_OPEN;
  return r;
}

function newHalf(): Half {
  const p = heap.alloc(offsetof<Half>());
  memory.fill(p, 0, offsetof<Half>());
  const h = changetype<Half>(p);
  h.finRel = -1;
  return h;
}

function newSeg(): Seg {
  const p = heap.alloc(offsetof<Seg>());
  memory.fill(p, 0, offsetof<Seg>());
  const s = changetype<Seg>(p);
  s.held = true;
  return s;
}

function freeSeg(s: Seg): void {
  if (s.data !== 0) heap.free(s.data);
  heap.free(changetype<usize>(s));
}

function unpend(h: Half, n: i32): void {
  h.pend -= <f64>n;
  counterAdd(STATS, S_PENDING, -(<f64>n));
}

function gap(rec: Rec, d: i32, bytes: i64): void {
  counterAdd(STATS, S_GAP, <f64>bytes);
  // The hello's collector does not see holes (the parser it replaces read on across them), but a record rhythm
  // made from what follows the hello must know of one (onHello's `gap`).
  if (d === 0 && rec.hs !== 0) changetype<Hs>(rec.hs).gap = 1;
  if (handlers & H_GAP && rec.quiet === 0) evGap(rec.slot, d, <f64>bytes);
}
