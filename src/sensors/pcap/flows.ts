/**
 * Flow table: bidirectional TCP/UDP flows and in-order TCP reassembly. Pure state machine: fed decoded
 * packets, answers through handlers. (Message timing for the behaviour detector lives with that detector,
 * in detect/traffic/behaviour.ts, fed from onData.)
 *
 * Memory is bounded three ways: out-of-order bytes held per direction (maxPendingPerDir), out-of-order
 * bytes held across all flows (maxTotalPending), and the number of flows. When a pending cap is hit we stop
 * waiting for the missing bytes: the hole is reported through onGap and the buffered bytes after it are
 * delivered. That is what a capture with dropped packets needs anyway.
 *
 * Flow bounds. Every flow sits in exactly one of four LRU lists, by class (see FlowClass):
 *   closed     ended by FIN/RST, kept closedLingerSec so trailing ACKs do not open a new flow (no reassembly state);
 *   half-open  TCP with no payload yet (a SYN flood, a scan, a refused connect): halfOpenTimeoutSec;
 *   open       carried payload, not marked by a handler: idleTimeoutSec;
 *   kept       a handler set `flow.keep` (a decided mining flow, or one still being judged): idleTimeoutSec.
 * closed + half-open + open share maxFlows; when a new flow would pass it, the least recently used flow of
 * the first non-empty list in that order is evicted (onClose 'evicted'), so a flood of SYNs or of short
 * connections only ever pushes out its own kind, never a flow that carries data while cheaper ones exist.
 * Kept flows do not count against maxFlows: they have their own cap, maxKeptFlows, so what a handler asked
 * to keep survives any flood of other flows, and is still bounded. Each list is in last-activity order, so
 * a timeout sweep stops at the first flow still young. The counts are in stats.evicted / stats.timedOut.
 *
 * Data handed to onData/onDatagram is a view into the caller's packet buffer (or a pending copy) and is
 * only valid during the callback. A handler that no longer needs a flow's bytes sets `flow.sizesOnly`: from
 * then on that flow's data arrives through onSize (lengths only: no view is made, and out-of-order bytes are
 * accounted against the caps exactly as before but not copied), so delivery order, gaps and closes stay the same.
 *
 * Flows are found by a numeric hash of the raw address bytes and ports (IPv4; buckets chained through the
 * records) rather than a string key per packet: the string keys were 31 MB of the 332 MB allocated on the
 * 552k-packet bench capture, plus a string hash per packet. IPv6 and packets without raw bytes keep string keys.
 */
import type { DecodedPacket } from './decode.ts';
import { IPPROTO_TCP, IPPROTO_UDP, TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN } from './decode.ts';

export type Direction = 'c2s' | 's2c';

export interface FlowKey {
  client: string;
  clientPort: number;
  server: string;
  serverPort: number;
  proto: 'tcp' | 'udp';
}

export interface Flow extends FlowKey {
  id: number;
  firstTs: number;
  lastTs: number;
  firstPacket: number;
  sawSyn: boolean;
  /** No SYN seen: the capture started after the connection did (or it is UDP). */
  midstream: boolean;
  packets: { c2s: number; s2c: number };
  /** L4 payload bytes per direction (as sent, including retransmissions). */
  bytes: { c2s: number; s2c: number };
  /** Slot for the detector's per-flow state. */
  state: unknown;
  /**
   * Set by a handler when this flow must survive floods: it moves out of the lists that eviction takes from
   * into the kept list (own cap, maxKeptFlows). Read at the flow's next packet.
   */
  keep: boolean;
  /** Set once onClose has been called. */
  closed: boolean;
  /**
   * Set by a handler (one-way) when it no longer needs this flow's bytes: data then comes through onSize
   * (if given) as lengths only, and held out-of-order segments keep their length but not their bytes.
   */
  sizesOnly: boolean;
}

export type CloseReason = 'fin' | 'rst' | 'idle' | 'evicted' | 'end';

export interface FlowHandlers {
  /** New in-order TCP stream bytes. packetIndex/ts are of the packet that made them deliverable. */
  onData?(flow: Flow, dir: Direction, data: Uint8Array, packetIndex: number, ts: number): void;
  onDatagram?(flow: Flow, dir: Direction, data: Uint8Array, packetIndex: number, ts: number): void;
  /** In place of onData/onDatagram for a flow with sizesOnly set: how many bytes, no bytes. */
  onSize?(flow: Flow, dir: Direction, bytes: number, packetIndex: number, ts: number): void;
  /** Bytes of the stream that will never be delivered (lost, snapped, or given up on under memory caps). */
  onGap?(flow: Flow, dir: Direction, bytes: number, packetIndex: number, ts: number): void;
  onOpen?(flow: Flow, packetIndex: number, ts: number): void;
  onClose?(flow: Flow, reason: CloseReason): void;
}

export interface FlowTableOptions {
  /** Closed, half-open and open flows held at once (default 50,000); the oldest of the cheapest class goes first. */
  maxFlows?: number;
  /** Flows a handler marked `keep` held at once (default 10,000), beyond maxFlows. */
  maxKeptFlows?: number;
  /** A TCP flow that carried no payload is dropped after this long without a packet (default 30 s). */
  halfOpenTimeoutSec?: number;
  /**
   * A flow ended by FIN or RST is kept this long after its last packet, to absorb trailing ACKs and
   * retransmissions (default 60 s, Linux's TIME_WAIT).
   */
  closedLingerSec?: number;
  maxPendingPerDir?: number;
  maxTotalPending?: number;
  idleTimeoutSec?: number;
  /** Ports treated as server ports when no SYN shows who connected (default: < 1024 and common pool/app ports). */
  serverPorts?: ReadonlySet<number>;
}

export interface FlowTableStats {
  packets: number;
  flows: number;
  tcpFlows: number;
  udpFlows: number;
  active: number;
  closed: Record<CloseReason, number>;
  /** Packets that arrived for a flow already closed by FIN/RST (trailing ACKs, late retransmissions). */
  afterClose: number;
  retransSegments: number;
  oooSegments: number;
  /** Bytes dropped because they overlapped bytes already delivered or already pending. */
  overlapBytes: number;
  gapBytes: number;
  pendingBytes: number;
  peakPendingBytes: number;
  peakPendingPerDir: number;
  /** Times a pending cap forced a hole to be skipped. */
  capFlushes: number;
  /** Most flows held at once (all classes). */
  peakFlows: number;
  /** Flows dropped to make room, by the class they were in. */
  evicted: Record<FlowClass, number>;
  /** Flows dropped by a timeout, by the class they were in. */
  timedOut: Record<FlowClass, number>;
}

/** Which list a flow is in: what eviction takes first (closed) to last (kept, under its own cap). */
export type FlowClass = 'closed' | 'halfOpen' | 'open' | 'kept';
const CLOSED = 0;
const HALF_OPEN = 1;
const OPEN = 2;
const KEPT = 3;
const CLASS_NAMES: readonly FlowClass[] = ['closed', 'halfOpen', 'open', 'kept'];

export const DEFAULT_SERVER_PORTS: ReadonlySet<number> = new Set([
  1080, 1433, 1521, 2049, 2375, 2376, 3128, 3306, 3333, 3334, 3335, 3336, 3357, 3389, 4028, 4444, 4445, 5222,
  5432, 5555, 5556, 5588, 5671, 5672, 5900, 6379, 6666, 6667, 7777, 8000, 8008, 8080, 8081, 8088, 8333, 8443,
  8545, 8888, 9000, 9050, 9092, 9200, 9300, 9418, 9999, 10001, 10128, 10300, 11211, 12222, 13333, 14433,
  14444, 15555, 17777, 18080, 18081, 18089, 20535, 20580, 25565, 27017, 30303, 45560, 45700,
]);

const C2S = 0;
const S2C = 1;
const DIRS: readonly Direction[] = ['c2s', 's2c'];

interface Seg {
  rel: number;
  len: number;
  /** Captured bytes held (a copy), or null for a sizesOnly flow (then only `size` is known). */
  data: Uint8Array | null;
  /** Captured bytes of the segment (data.length when held): what the pending caps count. */
  size: number;
}

const EMPTY = new Uint8Array(0);

/** One direction of a TCP stream. Sequence numbers are kept relative to `base` as plain numbers, so
 * wraparound is handled once, by the signed 32-bit difference to the next expected byte. */
class Half {
  started = false;
  base = 0;
  next = 0;
  segs: Seg[] = [];
  pend = 0;
  finRel = -1;
}

class FlowImpl implements Flow {
  client = '';
  clientPort = 0;
  server = '';
  serverPort = 0;
  proto: 'tcp' | 'udp' = 'tcp';
  id = 0;
  firstTs = 0;
  lastTs = 0;
  firstPacket = 0;
  sawSyn = false;
  midstream = false;
  packets = { c2s: 0, s2c: 0 };
  bytes = { c2s: 0, s2c: 0 };
  state: unknown = undefined;
  keep = false;
  closed = false;
  sizesOnly = false;
}

/** Internal record: the public Flow plus reassembly and LRU bookkeeping. */
class Rec {
  readonly flow = new FlowImpl();
  /** String key (IPv6, or packets without raw bytes), or '' for a numerically keyed IPv4 flow. */
  key = '';
  /** IPv4 key: protocol, low and high address, low port << 16 | high port; hash and the bucket chain. */
  kProto = 0;
  kLo = 0;
  kHi = 0;
  kPorts = 0;
  hash = 0;
  hnext: Rec | null = null;
  /** True when the endpoint that sorts low in the key is the client. */
  lowIsClient = true;
  halves: [Half, Half] | null = null;
  /** The LRU list this record is in (CLOSED..KEPT), and its neighbours there. */
  cls = HALF_OPEN;
  prev: Rec | null = null;
  nextRec: Rec | null = null;
}

/** One class's flows, least recently used first. */
class LruList {
  head: Rec | null = null;
  tail: Rec | null = null;
  count = 0;

  append(r: Rec): void {
    r.prev = this.tail;
    r.nextRec = null;
    if (this.tail) this.tail.nextRec = r;
    else this.head = r;
    this.tail = r;
    this.count++;
  }

  unlink(r: Rec): void {
    const prev = r.prev;
    const next = r.nextRec;
    if (prev) prev.nextRec = next;
    else this.head = next;
    if (next) next.prev = prev;
    else this.tail = prev;
    r.prev = r.nextRec = null;
    this.count--;
  }
}

export class FlowTable {
  readonly stats: FlowTableStats = {
    packets: 0,
    flows: 0,
    tcpFlows: 0,
    udpFlows: 0,
    active: 0,
    closed: { fin: 0, rst: 0, idle: 0, evicted: 0, end: 0 },
    afterClose: 0,
    retransSegments: 0,
    oooSegments: 0,
    overlapBytes: 0,
    gapBytes: 0,
    pendingBytes: 0,
    peakPendingBytes: 0,
    peakPendingPerDir: 0,
    capFlushes: 0,
    peakFlows: 0,
    evicted: { closed: 0, halfOpen: 0, open: 0, kept: 0 },
    timedOut: { closed: 0, halfOpen: 0, open: 0, kept: 0 },
  };
  private readonly h: FlowHandlers;
  private readonly maxFlows: number;
  private readonly maxKept: number;
  private readonly halfOpenTimeout: number;
  private readonly closedLinger: number;
  private readonly maxPendingPerDir: number;
  private readonly maxTotalPending: number;
  private readonly idle: number;
  private readonly sweepEvery: number;
  private readonly serverPorts: ReadonlySet<number>;
  /** IPv4 flows by hash; a bucket holds its first record, the rest chain through Rec.hnext. */
  private readonly map4 = new Map<number, Rec>();
  private readonly map = new Map<string, Rec>();
  private count = 0;
  /** By class: CLOSED, HALF_OPEN, OPEN, KEPT. */
  private readonly lists: readonly LruList[] = [new LruList(), new LruList(), new LruList(), new LruList()];
  private lastSweep = -Infinity;
  private nextId = 1;
  // current packet context for callbacks fired from deep inside reassembly
  private curIndex = 0;
  private curTs = 0;

  constructor(handlers: FlowHandlers, opts: FlowTableOptions = {}) {
    this.h = handlers;
    this.maxFlows = Math.max(1, opts.maxFlows ?? 50_000);
    this.maxKept = Math.max(1, opts.maxKeptFlows ?? 10_000);
    this.halfOpenTimeout = opts.halfOpenTimeoutSec ?? 30;
    this.closedLinger = opts.closedLingerSec ?? 60;
    this.maxPendingPerDir = Math.max(0, opts.maxPendingPerDir ?? 256 * 1024);
    this.maxTotalPending = Math.max(0, opts.maxTotalPending ?? 64 * 1024 * 1024);
    this.idle = opts.idleTimeoutSec ?? 600;
    this.sweepEvery = Math.min(Math.min(this.idle, this.halfOpenTimeout, this.closedLinger) / 4, 10);
    this.serverPorts = opts.serverPorts ?? DEFAULT_SERVER_PORTS;
  }

  /** Number of flows currently held (open or closed-but-lingering). */
  get size(): number {
    return this.count;
  }

  add(p: DecodedPacket, packetIndex: number, ts: number): void {
    const proto = p.proto;
    if (proto !== IPPROTO_TCP && proto !== IPPROTO_UDP) return;
    const st = this.stats;
    st.packets++;
    this.curIndex = packetIndex;
    this.curTs = ts;
    if (ts - this.lastSweep >= this.sweepEvery) this.sweep(ts);

    const srcLow = this.makeKey(p);
    const key = this.keyOut;
    let rec = key === '' ? this.find4() : this.map.get(key);
    const tcp = proto === IPPROTO_TCP ? p.tcp : undefined;
    const flags = tcp ? tcp.flags : 0;
    if (rec?.flow.closed && (flags & (TCP_SYN | TCP_ACK)) === TCP_SYN) {
      // Port reuse: a fresh SYN on a 4-tuple whose connection already ended starts a new flow.
      this.remove(rec);
      rec = undefined;
    }
    if (!rec) rec = this.create(p, key, srcLow, flags, packetIndex, ts);
    const f = rec.flow;
    const d = srcLow === rec.lowIsClient ? C2S : S2C;
    const dir = DIRS[d]!;
    f.lastTs = ts;
    // Named properties, not f.packets[dir] / f.bytes[dir]: those keyed stores were ~30% of add()'s own
    // samples in a warm profile of the bench capture.
    if (d === C2S) f.packets.c2s++;
    else f.packets.s2c++;
    if (f.closed) {
      this.touch(rec, CLOSED);
      st.afterClose++;
      return;
    }
    // The payload as a range of a buffer: the packet's own (no view made) or the view it offers.
    let buf: Uint8Array;
    let off: number;
    let have: number;
    if (p.raw !== undefined && p.payloadOff !== undefined && p.payloadEnd !== undefined) {
      buf = p.raw;
      off = p.payloadOff;
      have = p.payloadEnd - off;
    } else {
      buf = p.payload;
      off = 0;
      have = buf.length;
    }
    const plen = p.payloadLen ?? have;
    if (d === C2S) f.bytes.c2s += plen;
    else f.bytes.s2c += plen;
    // Payload (or, for UDP, an answer) makes a flow open; a handler's keep moves it out of eviction's way.
    this.touch(
      rec,
      f.keep
        ? KEPT
        : rec.cls === HALF_OPEN && (tcp ? plen > 0 : f.packets.s2c > 0 && f.packets.c2s > 0)
          ? OPEN
          : rec.cls,
    );

    if (!tcp) {
      if (f.sizesOnly && this.h.onSize) this.h.onSize(f, dir, have, packetIndex, ts);
      else
        this.h.onDatagram?.(
          f,
          dir,
          have === buf.length ? buf : buf.subarray(off, off + have),
          packetIndex,
          ts,
        );
      return;
    }
    this.tcpSegment(rec, d, tcp.seq, tcp.ack, flags, buf, off, have, plen);
  }

  /** Flush everything: pending bytes are delivered after their holes, every open flow gets onClose('end'). */
  end(): void {
    // Oldest activity first across the classes, as one list would have it.
    const open: Rec[] = [];
    for (const list of this.lists) for (let r = list.head; r; r = r.nextRec) if (!r.flow.closed) open.push(r);
    open.sort((a, b) => a.flow.lastTs - b.flow.lastTs || a.flow.id - b.flow.id);
    for (const r of open) this.close(r, 'end');
    this.map.clear();
    this.map4.clear();
    this.count = 0;
    for (const list of this.lists) {
      list.head = list.tail = null;
      list.count = 0;
    }
    this.stats.active = 0;
  }

  /** Flows held now, by class. */
  held(): Record<FlowClass, number> {
    return {
      closed: this.lists[CLOSED]!.count,
      halfOpen: this.lists[HALF_OPEN]!.count,
      open: this.lists[OPEN]!.count,
      kept: this.lists[KEPT]!.count,
    };
  }

  // ---- keys -------------------------------------------------------------------------------------

  private keyOut = '';
  // IPv4 key of the current packet (keyOut is '' then)
  private kProto = 0;
  private kLo = 0;
  private kHi = 0;
  private kPorts = 0;
  private kHash = 0;

  /** The IPv4 flow with the current packet's key, if held. */
  private find4(): Rec | undefined {
    for (let r = this.map4.get(this.kHash); r; r = r.hnext ?? undefined) {
      if (r.kLo === this.kLo && r.kHi === this.kHi && r.kPorts === this.kPorts && r.kProto === this.kProto)
        return r;
    }
    return undefined;
  }

  /**
   * Build a direction-independent key from raw address bytes and ports (endpoints sorted): for IPv4 into
   * kProto/kLo/kHi/kPorts/kHash (and keyOut = ''), otherwise a string into keyOut.
   * Returns whether the packet's source is the endpoint that sorts low.
   */
  private makeKey(p: DecodedPacket): boolean {
    const sp = p.srcPort;
    const dp = p.dstPort;
    const raw = p.raw;
    if (raw === undefined || p.srcOff === undefined || p.dstOff === undefined) {
      const a = p.src;
      const b = p.dst;
      const low = a < b || (a === b && sp <= dp);
      this.keyOut = low ? `s${p.proto}|${a}|${sp}|${b}|${dp}` : `s${p.proto}|${b}|${dp}|${a}|${sp}`;
      return low;
    }
    const so = p.srcOff;
    const dO = p.dstOff;
    if (p.ipVersion === 4) {
      const a = ((raw[so]! << 24) | (raw[so + 1]! << 16) | (raw[so + 2]! << 8) | raw[so + 3]!) >>> 0;
      const b = ((raw[dO]! << 24) | (raw[dO + 1]! << 16) | (raw[dO + 2]! << 8) | raw[dO + 3]!) >>> 0;
      const low = a < b || (a === b && sp <= dp);
      const x = low ? a : b;
      const y = low ? b : a;
      const ports = low ? ((sp << 16) | dp) >>> 0 : ((dp << 16) | sp) >>> 0;
      this.keyOut = '';
      this.kProto = p.proto;
      this.kLo = x;
      this.kHi = y;
      this.kPorts = ports;
      // Multiplicative mix to a small integer (a V8 Smi: no heap number per lookup).
      let h = Math.imul(x ^ Math.imul(y, 0x9e3779b1), 0x85ebca6b) ^ Math.imul(ports ^ p.proto, 0xc2b2ae35);
      h ^= h >>> 15;
      h = Math.imul(h, 0x2c1b3c6d);
      this.kHash = (h ^ (h >>> 13)) & 0x3fffffff;
      return low;
    }
    let cmp = 0;
    for (let i = 0; i < 16 && cmp === 0; i++) cmp = raw[so + i]! - raw[dO + i]!;
    const low = cmp < 0 || (cmp === 0 && sp <= dp);
    const x = low ? so : dO;
    const y = low ? dO : so;
    const w = (o: number): number => (raw[o]! << 8) | raw[o + 1]!;
    this.keyOut = String.fromCharCode(
      p.proto + 256,
      w(x),
      w(x + 2),
      w(x + 4),
      w(x + 6),
      w(x + 8),
      w(x + 10),
      w(x + 12),
      w(x + 14),
      low ? sp : dp,
      w(y),
      w(y + 2),
      w(y + 4),
      w(y + 6),
      w(y + 8),
      w(y + 10),
      w(y + 12),
      w(y + 14),
      low ? dp : sp,
    );
    return low;
  }

  // ---- flow lifecycle ---------------------------------------------------------------------------

  private create(
    p: DecodedPacket,
    key: string,
    srcLow: boolean,
    flags: number,
    packetIndex: number,
    ts: number,
  ): Rec {
    const st = this.stats;
    if (this.count - this.lists[KEPT]!.count >= this.maxFlows) this.evictOne();
    const rec = new Rec();
    rec.key = key;
    if (key === '') {
      rec.kProto = this.kProto;
      rec.kLo = this.kLo;
      rec.kHi = this.kHi;
      rec.kPorts = this.kPorts;
      rec.hash = this.kHash;
      rec.hnext = this.map4.get(rec.hash) ?? null;
      this.map4.set(rec.hash, rec);
    } else this.map.set(key, rec);
    this.count++;
    const f = rec.flow;
    const isTcp = p.proto === IPPROTO_TCP;
    // Who is the client? A SYN says so; otherwise the well-known/pool/lower port is the server's, and
    // on a tie the first sender is the client.
    let srcIsClient: boolean;
    if (isTcp && flags & TCP_SYN) srcIsClient = (flags & TCP_ACK) === 0;
    else {
      const sk = p.srcPort < 1024 || this.serverPorts.has(p.srcPort);
      const dk = p.dstPort < 1024 || this.serverPorts.has(p.dstPort);
      if (sk !== dk) srcIsClient = dk;
      else if (p.srcPort !== p.dstPort) srcIsClient = p.srcPort > p.dstPort;
      else srcIsClient = true;
    }
    rec.lowIsClient = srcIsClient === srcLow;
    const src = p.src;
    const dst = p.dst;
    if (srcIsClient) {
      f.client = src;
      f.clientPort = p.srcPort;
      f.server = dst;
      f.serverPort = p.dstPort;
    } else {
      f.client = dst;
      f.clientPort = p.dstPort;
      f.server = src;
      f.serverPort = p.srcPort;
    }
    f.proto = isTcp ? 'tcp' : 'udp';
    f.id = this.nextId++;
    f.firstTs = f.lastTs = ts;
    f.firstPacket = packetIndex;
    f.sawSyn = isTcp && (flags & TCP_SYN) !== 0;
    f.midstream = !f.sawSyn;
    if (isTcp) {
      rec.halves = [new Half(), new Half()];
      st.tcpFlows++;
    } else st.udpFlows++;
    st.flows++;
    st.active = this.count;
    if (this.count > st.peakFlows) st.peakFlows = this.count;
    // A new flow is half-open until it carries payload (UDP: until it is answered).
    rec.cls = HALF_OPEN;
    this.lists[HALF_OPEN]!.append(rec);
    this.h.onOpen?.(f, packetIndex, ts);
    // onOpen may already have asked to keep it (a known pool endpoint).
    if (f.keep) this.touch(rec, KEPT);
    return rec;
  }

  /**
   * Make room for one flow: the least recently used of the cheapest non-empty class among closed, half-open
   * and open. Kept flows are not taken here (see keepRoom).
   */
  private evictOne(): void {
    for (let c = CLOSED; c <= OPEN; c++) {
      const victim = this.lists[c]!.head;
      if (!victim) continue;
      this.stats.evicted[CLASS_NAMES[c]!]++;
      if (!victim.flow.closed) this.close(victim, 'evicted');
      this.remove(victim);
      return;
    }
  }

  /** A flow about to join the kept list: past maxKeptFlows, the least recently used kept flow goes. */
  private keepRoom(): void {
    const kept = this.lists[KEPT]!;
    if (kept.count < this.maxKept || !kept.head) return;
    const victim = kept.head;
    this.stats.evicted.kept++;
    if (!victim.flow.closed) this.close(victim, 'evicted');
    this.remove(victim);
  }

  /** Mark a flow as just active, in class `cls` (moving it to that list's tail). */
  private touch(rec: Rec, cls: number): void {
    const from = this.lists[rec.cls]!;
    if (cls === rec.cls && rec === from.tail) return;
    from.unlink(rec);
    if (cls === KEPT && rec.cls !== KEPT) this.keepRoom();
    rec.cls = cls;
    this.lists[cls]!.append(rec);
  }

  private remove(rec: Rec): void {
    this.lists[rec.cls]!.unlink(rec);
    if (rec.halves) {
      for (const h of rec.halves) this.dropPending(h);
      rec.halves = null;
    }
    if (rec.key !== '') this.map.delete(rec.key);
    else {
      const first = this.map4.get(rec.hash);
      if (first === rec) {
        if (rec.hnext) this.map4.set(rec.hash, rec.hnext);
        else this.map4.delete(rec.hash);
      } else {
        let q = first;
        while (q && q.hnext !== rec) q = q.hnext ?? undefined;
        if (q) q.hnext = rec.hnext;
      }
      rec.hnext = null;
    }
    this.count--;
    this.stats.active = this.count;
  }

  private close(rec: Rec, reason: CloseReason): void {
    const f = rec.flow;
    if (f.closed) return;
    if (rec.halves) {
      // Deliver whatever is still waiting behind holes: the detector should see it.
      this.flushHalf(rec, C2S);
      this.flushHalf(rec, S2C);
    }
    f.closed = true;
    this.stats.closed[reason]++;
    this.h.onClose?.(f, reason);
    if (reason === 'fin' || reason === 'rst') {
      // It lingers only to absorb trailing packets: no reassembly state, first in line for eviction.
      if (rec.halves) for (const h of rec.halves) this.dropPending(h);
      rec.halves = null;
      this.touch(rec, CLOSED);
    }
  }

  /**
   * Close and drop flows idle longer than their class's timeout (half-open: halfOpenTimeoutSec, the others
   * idleTimeoutSec). Each list is in last-activity order, so each scan stops at its first young flow.
   */
  private sweep(now: number): void {
    this.lastSweep = now;
    for (let c = CLOSED; c <= KEPT; c++) {
      const limit =
        now - (c === HALF_OPEN ? this.halfOpenTimeout : c === CLOSED ? this.closedLinger : this.idle);
      for (let r = this.lists[c]!.head; r && r.flow.lastTs < limit; ) {
        const next = r.nextRec;
        if (!r.flow.closed) this.close(r, 'idle');
        this.stats.timedOut[CLASS_NAMES[c]!]++;
        this.remove(r);
        r = next;
      }
    }
  }

  // ---- TCP reassembly ---------------------------------------------------------------------------

  private tcpSegment(
    rec: Rec,
    d: number,
    seq: number,
    ack: number,
    flags: number,
    buf: Uint8Array,
    off: number,
    have: number,
    len: number,
  ): void {
    const halves = rec.halves!;
    const h = halves[d]!;
    const other = halves[d ^ 1]!;
    if (flags & TCP_ACK && other.segs.length > 0) {
      // The peer acknowledged bytes we never saw: the capture lost them. Stop waiting for the hole.
      const ackRel = other.next + ((ack - other.base - other.next) | 0);
      while (other.segs.length > 0 && other.segs[0]!.rel < ackRel) this.skipHole(rec, d ^ 1, other);
    }
    if (flags & TCP_SYN) {
      rec.flow.sawSyn = true;
      if (!h.started) {
        h.started = true;
        h.base = (seq + 1) >>> 0;
        h.next = 0;
      }
      seq = (seq + 1) >>> 0; // SYN occupies one sequence number; any data (TFO) follows it
    } else if (!h.started) {
      // Mid-session start: the first byte we see is byte 0 of this direction.
      h.started = true;
      h.base = seq;
      h.next = 0;
    }
    const rel = h.next + ((seq - h.base - h.next) | 0);
    if (len > 0) {
      const end = rel + len;
      if (end <= h.next) {
        this.stats.retransSegments++;
      } else {
        if (rel <= h.next) {
          this.deliver(rec, d, h, rel, buf, off, have, len);
          this.drain(rec, d, h);
        } else {
          this.pending(rec, d, h, rel, buf, off, have, len);
        }
      }
    }
    if (flags & TCP_RST) {
      this.close(rec, 'rst');
      return;
    }
    if (flags & TCP_FIN) {
      const finRel = rel + len;
      if (h.finRel < 0 || finRel < h.finRel) h.finRel = finRel;
    }
    if (h.finRel >= 0 && other.finRel >= 0 && h.next >= h.finRel && other.next >= other.finRel) {
      this.close(rec, 'fin');
    }
  }

  /**
   * Deliver a segment starting at or before h.next; trims what was already delivered. Its captured bytes
   * are buf[off, off + have) (buf null: not held, sizes only).
   */
  private deliver(
    rec: Rec,
    d: number,
    h: Half,
    rel: number,
    buf: Uint8Array | null,
    off: number,
    have: number,
    len: number,
  ): void {
    const skip = h.next - rel;
    if (skip > 0) this.stats.overlapBytes += Math.min(skip, len);
    if (skip < have) {
      const f = rec.flow;
      const from = Math.max(skip, 0);
      if (f.sizesOnly && this.h.onSize) this.h.onSize(f, DIRS[d]!, have - from, this.curIndex, this.curTs);
      else if (this.h.onData) {
        // A segment held without bytes (sizesOnly was set when it arrived) can only reach onData if a
        // handler cleared sizesOnly again without giving onSize; it then reads as zeros.
        const view =
          buf === null
            ? new Uint8Array(have - from)
            : from === 0 && have === buf.length
              ? buf
              : buf.subarray(off + from, off + have);
        this.h.onData(f, DIRS[d]!, view, this.curIndex, this.curTs);
      }
    }
    // Bytes the headers promise but the capture cut off (snaplen) are a hole in the stream.
    const missing = len - Math.max(skip, have);
    if (missing > 0) this.gap(rec, d, missing);
    h.next = rel + len;
  }

  private drain(rec: Rec, d: number, h: Half): void {
    const segs = h.segs;
    while (segs.length > 0 && segs[0]!.rel <= h.next) {
      const s = segs.shift()!;
      this.unpend(h, s.size);
      if (s.rel + s.len > h.next) this.deliver(rec, d, h, s.rel, s.data, 0, s.size, s.len);
      else this.stats.overlapBytes += s.len;
    }
  }

  private pending(
    rec: Rec,
    d: number,
    h: Half,
    rel: number,
    buf: Uint8Array,
    off: number,
    have: number,
    len: number,
  ): void {
    const st = this.stats;
    st.oooSegments++;
    const segs = h.segs;
    // Sorted insert (stable: equal starts keep arrival order, so the first copy of a byte wins).
    let i = segs.length;
    while (i > 0 && segs[i - 1]!.rel > rel) i--;
    const prev = segs[i - 1];
    if (prev && prev.rel + prev.len >= rel + len) {
      st.overlapBytes += len; // already fully held
      return;
    }
    const size = have;
    // Caps: give up on the oldest hole(s) rather than hold more than allowed.
    while (
      (h.pend + size > this.maxPendingPerDir || st.pendingBytes + size > this.maxTotalPending) &&
      h.segs.length > 0
    ) {
      st.capFlushes++;
      this.skipHole(rec, d, h);
      if (rel <= h.next) break;
    }
    if (rel <= h.next) {
      if (rel + len > h.next) this.deliver(rec, d, h, rel, buf, off, have, len);
      this.drain(rec, d, h);
      return;
    }
    if (h.pend + size > this.maxPendingPerDir || st.pendingBytes + size > this.maxTotalPending) {
      // Other flows hold the global budget: release the least recently used ones' pending bytes first.
      if (h.pend + size <= this.maxPendingPerDir) this.freeGlobal(size, rec);
      if (h.pend + size > this.maxPendingPerDir || st.pendingBytes + size > this.maxTotalPending) {
        st.capFlushes++;
        this.gap(rec, d, rel - h.next);
        h.next = rel;
        this.deliver(rec, d, h, rel, buf, off, have, len);
        this.drain(rec, d, h);
        return;
      }
    }
    i = segs.length;
    while (i > 0 && segs[i - 1]!.rel > rel) i--;
    // A sizesOnly flow's bytes are never read again: count them against the caps as before, copy nothing.
    const held = rec.flow.sizesOnly && this.h.onSize ? null : size > 0 ? buf.slice(off, off + size) : EMPTY;
    segs.splice(i, 0, { rel, len, data: held, size });
    h.pend += size;
    st.pendingBytes += size;
    if (st.pendingBytes > st.peakPendingBytes) st.peakPendingBytes = st.pendingBytes;
    if (h.pend > st.peakPendingPerDir) st.peakPendingPerDir = h.pend;
  }

  private freeGlobal(size: number, except: Rec): void {
    const st = this.stats;
    for (const list of this.lists)
      for (let r = list.head; r && st.pendingBytes + size > this.maxTotalPending; r = r.nextRec) {
        if (r === except || !r.halves) continue;
        for (let d = 0; d < 2; d++) {
          const h = r.halves[d]!;
          while (h.segs.length > 0 && st.pendingBytes + size > this.maxTotalPending) {
            st.capFlushes++;
            this.skipHole(r, d, h);
          }
        }
      }
  }

  /** Declare the bytes before the first pending segment lost, then deliver what is now in order. */
  private skipHole(rec: Rec, d: number, h: Half): void {
    const first = h.segs[0];
    if (!first) return;
    if (first.rel > h.next) {
      this.gap(rec, d, first.rel - h.next);
      h.next = first.rel;
    }
    this.drain(rec, d, h);
  }

  private flushHalf(rec: Rec, d: number): void {
    const h = rec.halves![d]!;
    while (h.segs.length > 0) this.skipHole(rec, d, h);
  }

  private dropPending(h: Half): void {
    if (h.pend > 0) this.stats.pendingBytes -= h.pend;
    h.pend = 0;
    h.segs.length = 0;
  }

  private unpend(h: Half, n: number): void {
    h.pend -= n;
    this.stats.pendingBytes -= n;
  }

  private gap(rec: Rec, d: number, bytes: number): void {
    this.stats.gapBytes += bytes;
    this.h.onGap?.(rec.flow, DIRS[d]!, bytes, this.curIndex, this.curTs);
  }
}
