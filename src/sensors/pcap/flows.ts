/**
 * Flow table: bidirectional TCP/UDP flows and in-order TCP reassembly. The table itself lives in the packet core
 * (core/assembly/flows.ts: records, reassembly, held segments, the LRU classes and the hash table in linear memory);
 * this is its JS side: it hands packets to the core and turns the core's events into FlowHandlers calls. Pure state
 * machine: fed decoded packets, answers through handlers. (Message timing for the behaviour detector lives with that
 * detector, in detect/traffic/behaviour.ts, fed from onData.)
 *
 * Memory is bounded three ways: out-of-order bytes held per direction (maxPendingPerDir), out-of-order bytes held
 * across all flows (maxTotalPending), and the number of flows. When a pending cap is hit we stop waiting for the
 * missing bytes: the hole is reported through onGap and the buffered bytes after it are delivered. That is what a
 * capture with dropped packets needs anyway.
 *
 * Flow bounds. Every flow sits in exactly one of four LRU lists, by class (see FlowClass):
 *   closed     ended by FIN/RST, kept closedLingerSec so trailing ACKs do not open a new flow (no reassembly state);
 *   half-open  TCP with no payload yet (a SYN flood, a scan, a refused connect): halfOpenTimeoutSec;
 *   open       carried payload, not marked by a handler: idleTimeoutSec;
 *   kept       a handler set `flow.keep` (a decided mining flow, or one still being judged): idleTimeoutSec.
 * closed + half-open + open share maxFlows; when a new flow would pass it, the least recently used flow of the
 * first non-empty list in that order is evicted (onClose 'evicted'), so a flood of SYNs or of short connections
 * only ever pushes out its own kind, never a flow that carries data while cheaper ones exist. Kept flows do not
 * count against maxFlows: they have their own cap, maxKeptFlows, so what a handler asked to keep survives any
 * flood of other flows, and is still bounded. The counts are in stats.evicted / stats.timedOut.
 *
 * Data handed to onData/onDatagram is a view of the core's memory (the packet, or a held copy) and is only valid
 * during the callback. A handler that no longer needs a flow's bytes sets `flow.sizesOnly`: from then on that
 * flow's data arrives through onSize (lengths only: no view is made, and out-of-order bytes are accounted against
 * the caps exactly as before but not copied), so delivery order, gaps and closes stay the same.
 *
 * The Flow objects handlers see are made here when the core opens a flow (addresses formatted once); their
 * counters, `closed`, `sawSyn` and `midstream` are read from the core's record when read, `keep` and `sizesOnly`
 * written to it (the core reads them at the flow's next packet). When the core drops a record the object keeps
 * its last values and is forgotten here.
 */

import { bytesInCore, HELLO_NEED_MORE, HelloArea, type TlsCore } from '../protocols/tls.ts';
import { type CoreExports, type CoreImports, instantiateCore } from './core/load.ts';
import { type CoreRhythm, emptyRhythm, type RhythmCore, readRhythm, rhythmSpan } from './core/rhythm.ts';
import type { DecodedPacket } from './decode.ts';
import { formatIp, IPPROTO_TCP, IPPROTO_UDP } from './decode.ts';

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
  /**
   * Set by a handler (one-way) when it needs nothing more of this flow's content, neither bytes nor sizes: the
   * core goes on counting (packets, bytes, `rhythm()`, `lastDataPacket`, and `shares`/`jobs` if `countStratum`)
   * and calls no handler for it but onClose. A decided flow then costs no call into JavaScript per segment.
   */
  countOnly: boolean;
  /** Set by a handler (one-way): count stratum shares (client bytes) and jobs (server bytes) from now on. */
  countStratum: boolean;
  /** Packet index of the last packet that delivered payload (data or size) of this flow; 0 before any. */
  readonly lastDataPacket: number;
  /** Shares and jobs counted since `countStratum` was set (each needle once per delivered segment, no overlap). */
  readonly shares: number;
  readonly jobs: number;
  /** The message rhythm of a TCP flow's delivered payload, its last message closed (what behaviour.ts judges). */
  rhythm(): CoreRhythm;
  /** Seconds from the flow's first to its last delivered payload (0 without payload): cheaper than rhythm(). */
  rhythmSpan(): number;
  /**
   * With an onHello handler: the core is collecting this flow's ClientHello (its client bytes went to the core, not
   * to onData, and onHello has not been called yet).
   */
  readonly helloPending: boolean;
  /** With an onHello handler: the handler reads this flow's bytes itself; the core never takes its hello. */
  helloOff(): void;
  /**
   * With an onHello handler: this flow's client bytes from `data` on are a TLS stream whose hello the core is to
   * read (a handler found it where the core did not look: after a proxy's handshake, or after server bytes). The
   * answer, if these bytes give one, is returned (valid until the next); null: the core collects the client's next
   * bytes (they no longer reach onData) and calls onHello when it answers.
   */
  takeHello(data: Uint8Array): HelloArea | null;
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
  /**
   * A TCP flow whose client opened with a TLS handshake record: its ClientHello, read by the core
   * (core/assembly/tls.ts). Given this handler, such a flow's client bytes go to the core until it answers, and
   * this is called once in place of those onData calls: `hello.code` 0 and the hello's fields, or the reason it is
   * not one. `hello` is valid during the call; `hello.tail()` is what followed the hello in the segment that ended it.
   */
  onHello?(flow: Flow, hello: HelloArea, packetIndex: number, ts: number): void;
  /**
   * The UDP flows these handlers read: those with one of these ports at either end. Any other UDP flow is counted
   * in the stats and never reported (no onOpen, onDatagram or onClose, no Flow object), as nDPI leaves a flow no
   * dissector wants. Absent: every UDP flow is reported.
   */
  datagramPorts?: ReadonlySet<number>;
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
  /**
   * Bytes all flows' unfinished ClientHellos may hold together in the core (default 32 MiB; an onHello handler's
   * flows). A hello in one segment holds nothing; past the cap a hello that needs more room is answered as none.
   */
  maxHelloBytes?: number;
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

export const DEFAULT_SERVER_PORTS: ReadonlySet<number> = new Set([
  1080, 1433, 1521, 2049, 2375, 2376, 3128, 3306, 3333, 3334, 3335, 3336, 3357, 3389, 4028, 4444, 4445, 5222,
  5432, 5555, 5556, 5588, 5671, 5672, 5900, 6379, 6666, 6667, 7777, 8000, 8008, 8080, 8081, 8088, 8333, 8443,
  8545, 8888, 9000, 9050, 9092, 9200, 9300, 9418, 9999, 10001, 10128, 10300, 11211, 12222, 13333, 14433,
  14444, 15555, 17777, 18080, 18081, 18089, 20535, 20580, 25565, 27017, 30303, 45560, 45700,
]);

/** What a packet's port can equal (the core keeps one bit per port; a fraction would be truncated to another). */
const isPort = (n: number): boolean => Number.isInteger(n) && n >= 0 && n <= 0xffff;

const DIRS: readonly Direction[] = ['c2s', 's2c'];
const REASONS: readonly CloseReason[] = ['fin', 'rst', 'idle', 'evicted', 'end'];

/** The flow table's exports (core/assembly/flows.ts). */
export interface FlowCore extends CoreExports {
  flowInit(
    maxFlows: number,
    maxKept: number,
    halfOpen: number,
    linger: number,
    perDir: number,
    total: number,
    idle: number,
    handlers: number,
  ): void;
  flowServerPort(port: number): void;
  flowDatagramPort(port: number): void;
  flowStatsPtr(): number;
  flowCurrentPtr(): number;
  flowHeld(cls: number): number;
  flowCount(): number;
  flowLayout(field: number): number;
  flowAdd(): void;
  flowAddPacket(
    ipVersion: number,
    proto: number,
    flags: number,
    srcPort: number,
    dstPort: number,
    seq: number,
    ack: number,
    srcOff: number,
    dstOff: number,
    payloadOff: number,
    payloadEnd: number,
    payloadLen: number,
    index: number,
    ts: number,
  ): void;
  flowScratch(n: number): number;
  flowEnd(): void;
  flowHelloTake(rec: number, ptr: number, len: number): number;
  tlsHeldMax(bytes: number): void;
  tlsHeld(): number;
}

// Handler bits for flowInit (an absent handler costs no call out of the core).
const H_DATA = 1;
const H_DATAGRAM = 2;
const H_SIZE = 4;
const H_GAP = 8;
const H_CLOSE = 16;
const H_HELLO = 32;
/** Rec.hello (core/assembly/flows.ts): collecting, and off. */
const HELLO_COLLECTING = 1;
const HELLO_OFF = 3;

/** Record field offsets (flowLayout 0..9): the same for every instance of the one module. */
let L_LAST_TS = -1;
let L_BYTES_C2S = 0;
let L_BYTES_S2C = 0;
let L_PKTS_C2S = 0;
let L_PKTS_S2C = 0;
let L_CLOSED = 0;
let L_SAW_SYN = 0;
let L_MIDSTREAM = 0;
let L_KEEP = 0;
let L_SIZES_ONLY = 0;
let L_QUIET = 0;
let L_COUNT_STRATUM = 0;
let L_LAST_DATA = 0;
let L_SHARES = 0;
let L_JOBS = 0;
let L_RHYTHM = 0;
let L_HELLO = 0;

function readLayout(core: FlowCore): void {
  if (L_LAST_TS >= 0) return;
  L_BYTES_C2S = core.flowLayout(1);
  L_BYTES_S2C = core.flowLayout(2);
  L_PKTS_C2S = core.flowLayout(3);
  L_PKTS_S2C = core.flowLayout(4);
  L_CLOSED = core.flowLayout(5);
  L_SAW_SYN = core.flowLayout(6);
  L_MIDSTREAM = core.flowLayout(7);
  L_KEEP = core.flowLayout(8);
  L_SIZES_ONLY = core.flowLayout(9);
  L_QUIET = core.flowLayout(13);
  L_COUNT_STRATUM = core.flowLayout(14);
  L_LAST_DATA = core.flowLayout(15);
  L_SHARES = core.flowLayout(16);
  L_JOBS = core.flowLayout(17);
  L_RHYTHM = core.flowLayout(18);
  L_HELLO = core.flowLayout(19);
  L_LAST_TS = core.flowLayout(0);
}

/** A flow as handlers see it: the core's record while the core holds it, its last values after. */
class CoreFlow implements Flow {
  client = '';
  clientPort = 0;
  server = '';
  serverPort = 0;
  proto: 'tcp' | 'udp' = 'tcp';
  id = 0;
  firstTs = 0;
  firstPacket = 0;
  state: unknown = undefined;
  /** The table while the core holds the record (at address `rec`); null once dropped. */
  t: FlowTable | null;
  rec: number;
  // The record's last values, kept when the core drops it (plain fields: no second object per flow).
  private lLastTs = 0;
  private lPktsC2s = 0;
  private lPktsS2c = 0;
  private lBytesC2s = 0;
  private lBytesS2c = 0;
  private lClosed = 0;
  private lSawSyn = 0;
  private lMidstream = 0;
  private lKeep = 0;
  private lSizesOnly = 0;
  private lQuiet = 0;
  private lCountStratum = 0;
  private lLastData = 0;
  private lShares = 0;
  private lJobs = 0;
  private lRhythm: CoreRhythm | null = null;
  private lHello = 0;

  constructor(t: FlowTable, rec: number) {
    this.t = t;
    this.rec = rec;
  }

  /** The core drops the record: keep its last values. */
  detach(v: DataView): void {
    const r = this.rec;
    this.lLastTs = v.getFloat64(r + L_LAST_TS, true);
    this.lPktsC2s = v.getFloat64(r + L_PKTS_C2S, true);
    this.lPktsS2c = v.getFloat64(r + L_PKTS_S2C, true);
    this.lBytesC2s = v.getFloat64(r + L_BYTES_C2S, true);
    this.lBytesS2c = v.getFloat64(r + L_BYTES_S2C, true);
    this.lClosed = v.getUint8(r + L_CLOSED);
    this.lSawSyn = v.getUint8(r + L_SAW_SYN);
    this.lMidstream = v.getUint8(r + L_MIDSTREAM);
    this.lKeep = v.getUint8(r + L_KEEP);
    this.lSizesOnly = v.getUint8(r + L_SIZES_ONLY);
    this.lQuiet = v.getUint8(r + L_QUIET);
    this.lCountStratum = v.getUint8(r + L_COUNT_STRATUM);
    this.lLastData = v.getFloat64(r + L_LAST_DATA, true);
    this.lShares = v.getFloat64(r + L_SHARES, true);
    this.lJobs = v.getFloat64(r + L_JOBS, true);
    this.lHello = v.getUint8(r + L_HELLO);
    // Only read after a drop by a handler that kept the object: the rhythm is read (and freed with the record) now.
    this.lRhythm = null;
    this.t = null;
  }

  private f64(off: number, kept: number): number {
    return this.t ? this.t.view().getFloat64(this.rec + off, true) : kept;
  }
  private flag(off: number, kept: number): boolean {
    return (this.t ? this.t.view().getUint8(this.rec + off) : kept) !== 0;
  }

  get lastTs(): number {
    return this.f64(L_LAST_TS, this.lLastTs);
  }
  get packets(): { c2s: number; s2c: number } {
    return { c2s: this.f64(L_PKTS_C2S, this.lPktsC2s), s2c: this.f64(L_PKTS_S2C, this.lPktsS2c) };
  }
  get bytes(): { c2s: number; s2c: number } {
    return { c2s: this.f64(L_BYTES_C2S, this.lBytesC2s), s2c: this.f64(L_BYTES_S2C, this.lBytesS2c) };
  }
  get closed(): boolean {
    return this.flag(L_CLOSED, this.lClosed);
  }
  get sawSyn(): boolean {
    return this.flag(L_SAW_SYN, this.lSawSyn);
  }
  get midstream(): boolean {
    return this.flag(L_MIDSTREAM, this.lMidstream);
  }
  get keep(): boolean {
    return this.flag(L_KEEP, this.lKeep);
  }
  set keep(on: boolean) {
    if (this.t) this.t.view().setUint8(this.rec + L_KEEP, on ? 1 : 0);
    else this.lKeep = on ? 1 : 0;
  }
  get sizesOnly(): boolean {
    return this.flag(L_SIZES_ONLY, this.lSizesOnly);
  }
  set sizesOnly(on: boolean) {
    if (this.t) this.t.view().setUint8(this.rec + L_SIZES_ONLY, on ? 1 : 0);
    else this.lSizesOnly = on ? 1 : 0;
  }
  get countOnly(): boolean {
    return this.flag(L_QUIET, this.lQuiet);
  }
  set countOnly(on: boolean) {
    if (this.t) this.t.view().setUint8(this.rec + L_QUIET, on ? 1 : 0);
    else this.lQuiet = on ? 1 : 0;
  }
  get countStratum(): boolean {
    return this.flag(L_COUNT_STRATUM, this.lCountStratum);
  }
  set countStratum(on: boolean) {
    if (this.t) this.t.view().setUint8(this.rec + L_COUNT_STRATUM, on ? 1 : 0);
    else this.lCountStratum = on ? 1 : 0;
  }
  get lastDataPacket(): number {
    return this.f64(L_LAST_DATA, this.lLastData);
  }
  get shares(): number {
    return this.f64(L_SHARES, this.lShares);
  }
  get jobs(): number {
    return this.f64(L_JOBS, this.lJobs);
  }
  rhythm(): CoreRhythm {
    if (!this.t) return this.lRhythm ?? emptyRhythm();
    const p = this.t.view().getUint32(this.rec + L_RHYTHM, true);
    return p === 0 ? emptyRhythm() : readRhythm(this.t.core as unknown as RhythmCore, p);
  }
  get helloPending(): boolean {
    return (this.t ? this.t.view().getUint8(this.rec + L_HELLO) : this.lHello) === HELLO_COLLECTING;
  }
  helloOff(): void {
    if (this.t) this.t.view().setUint8(this.rec + L_HELLO, HELLO_OFF);
    else this.lHello = HELLO_OFF;
  }
  takeHello(data: Uint8Array): HelloArea | null {
    return this.t ? this.t.takeHello(this.rec, data) : null;
  }
  rhythmSpan(): number {
    if (!this.t) return 0;
    const v = this.t.view();
    const p = v.getUint32(this.rec + L_RHYTHM, true);
    return p === 0 ? 0 : rhythmSpan(this.t.core as unknown as RhythmCore, p, v);
  }
}

/** Address bytes of a packet without raw bytes (hand-made DecodedPackets): IPv4 dotted quad or IPv6 text. */
function parseIp(s: string, version: 4 | 6, out: Uint8Array, at: number): void {
  out.fill(0, at, at + 16);
  if (version === 4) {
    const q = s.split('.');
    for (let i = 0; i < 4; i++) out[at + i] = Number(q[i]) & 255;
    return;
  }
  const words = (part: string): number[] => {
    if (part === '') return [];
    const w: number[] = [];
    for (const g of part.split(':')) {
      if (g.includes('.')) {
        const q = g.split('.').map((x) => Number(x) & 255);
        w.push((q[0]! << 8) | q[1]!, (q[2]! << 8) | q[3]!);
      } else w.push(Number.parseInt(g, 16) & 0xffff);
    }
    return w;
  };
  const dbl = s.indexOf('::');
  const head = words(dbl < 0 ? s : s.slice(0, dbl));
  const tail = dbl < 0 ? [] : words(s.slice(dbl + 2));
  const all = [...head, ...new Array<number>(Math.max(0, 8 - head.length - tail.length)).fill(0), ...tail];
  for (let i = 0; i < 8; i++) {
    out[at + i * 2] = (all[i] ?? 0) >> 8;
    out[at + i * 2 + 1] = (all[i] ?? 0) & 255;
  }
}

/** Scratch layout for add(): source address, destination address (16 bytes each), then the payload. */
const SCRATCH_PAYLOAD = 32;
const EMPTY = new Uint8Array(0);

export class FlowTable {
  private readonly h: FlowHandlers;
  readonly core: FlowCore;
  private readonly memory: { readonly buffer: ArrayBuffer };
  private u8: Uint8Array;
  private dv: DataView;
  private readonly statsPtr: number;
  /** JS flow objects by the core's slot number. */
  private readonly flows: (CoreFlow | undefined)[] = [];
  /** The packet being added through add() (its address strings are the flow's), or null in addDecoded(). */
  private cur: DecodedPacket | null = null;
  private scratch = 0;
  private scratchSize = 0;
  /** The current add()'s payload: fetchSrc[fetchOff, fetchOff + fetchLen). */
  private fetchSrc: Uint8Array = EMPTY;
  private fetchOff = 0;
  private fetchLen = 0;
  /**
   * The current packet's index and ts for the events (the core sends none: each f64 argument made a heap number
   * per event). add() sets them for its call; otherwise (the fused loop, whether driven from JS by addDecoded or by
   * the core's own loop calling flowAdd, and end()) they are read from the core (sync).
   */
  private curIndex = 0;
  private curTs = 0;
  private inAdd = false;
  private readonly currentPtr: number;
  private currentSeen = -1;
  /** The core's parsed hello (HELLO), as onHello and takeHello give it. */
  private readonly hello: HelloArea;

  /**
   * `instantiate` makes the core instance this table runs in, given the flow table's imports (default: a core of
   * its own); a pipeline whose reader and decoder run in the same core passes one that adds theirs.
   */
  constructor(
    handlers: FlowHandlers,
    opts: FlowTableOptions = {},
    instantiate: (imports: CoreImports) => CoreExports = instantiateCore,
  ) {
    this.h = handlers;
    this.core = instantiate(this.imports()) as FlowCore;
    readLayout(this.core);
    this.memory = this.core.memory;
    this.u8 = new Uint8Array(this.memory.buffer);
    this.dv = new DataView(this.memory.buffer);
    const h = handlers;
    this.core.flowInit(
      Math.max(1, opts.maxFlows ?? 50_000),
      Math.max(1, opts.maxKeptFlows ?? 10_000),
      opts.halfOpenTimeoutSec ?? 30,
      opts.closedLingerSec ?? 60,
      Math.max(0, opts.maxPendingPerDir ?? 256 * 1024),
      Math.max(0, opts.maxTotalPending ?? 64 * 1024 * 1024),
      opts.idleTimeoutSec ?? 600,
      (h.onData ? H_DATA : 0) |
        (h.onDatagram ? H_DATAGRAM : 0) |
        (h.onSize ? H_SIZE : 0) |
        (h.onGap ? H_GAP : 0) |
        (h.onClose ? H_CLOSE : 0) |
        (h.onHello ? H_HELLO : 0),
    );
    for (const port of opts.serverPorts ?? DEFAULT_SERVER_PORTS)
      if (isPort(port)) this.core.flowServerPort(port);
    if (h.datagramPorts) {
      // -1 turns the filter on even for an empty set (no UDP flow wanted).
      this.core.flowDatagramPort(-1);
      for (const port of h.datagramPorts) if (isPort(port)) this.core.flowDatagramPort(port);
    }
    this.statsPtr = this.core.flowStatsPtr();
    this.currentPtr = this.core.flowCurrentPtr();
    this.hello = new HelloArea(this.core as unknown as TlsCore);
    this.core.tlsHeldMax(Math.max(0, opts.maxHelloBytes ?? 32 * 1024 * 1024));
  }

  /** Bytes the flows' unfinished ClientHellos hold in the core now (bounded by maxHelloBytes). */
  get helloBytes(): number {
    return this.core.tlsHeld();
  }

  /** Flow.takeHello: the bytes where the core can read them, then the core. */
  takeHello(rec: number, data: Uint8Array): HelloArea | null {
    const core = this.core as unknown as TlsCore;
    return this.core.flowHelloTake(rec, bytesInCore(core, data), data.length) === HELLO_NEED_MORE
      ? null
      : this.hello;
  }

  /**
   * The core's memory as a DataView, made again when the memory has grown. Growing detaches the old buffer (its
   * length reads 0): checking that is cheaper than memory.buffer, a call into the engine (~10 ms on the bench
   * capture when asked per packet).
   */
  view(): DataView {
    if (this.u8.byteLength === 0) this.refresh();
    return this.dv;
  }

  private bytes(): Uint8Array {
    if (this.u8.byteLength === 0) this.refresh();
    return this.u8;
  }

  private refresh(): void {
    const buf = this.memory.buffer;
    this.u8 = new Uint8Array(buf);
    this.dv = new DataView(buf);
  }

  /** The core's events, bound to this table. */
  private imports(): CoreImports {
    const h = this.h;
    const flows = this.flows;
    return {
      flowOpen: (slot, rec, id, clientOff, serverOff, clientPort, serverPort, isTcp, version) => {
        if (!this.inAdd) this.sync();
        const f = new CoreFlow(this, rec!);
        const cur = this.cur;
        if (cur !== null && cur.raw === undefined) {
          const srcIsClient = clientOff === this.scratch;
          f.client = srcIsClient ? cur.src : cur.dst;
          f.server = srcIsClient ? cur.dst : cur.src;
        } else {
          const b = this.bytes();
          f.client = formatIp(b, clientOff!, version === 6 ? 6 : 4);
          f.server = formatIp(b, serverOff!, version === 6 ? 6 : 4);
        }
        f.clientPort = clientPort!;
        f.serverPort = serverPort!;
        f.proto = isTcp ? 'tcp' : 'udp';
        f.id = id!;
        f.firstTs = this.curTs;
        f.firstPacket = this.curIndex;
        flows[slot!] = f;
        h.onOpen?.(f, this.curIndex, this.curTs);
        return undefined;
      },
      flowData: (slot, dir, ptr, len) => {
        if (!this.inAdd) this.sync();
        const data = ptr! < 0 ? new Uint8Array(len!) : this.bytes().subarray(ptr!, ptr! + len!);
        h.onData!(flows[slot!]!, DIRS[dir!]!, data, this.curIndex, this.curTs);
        return undefined;
      },
      flowDatagram: (slot, dir, ptr, len) => {
        if (!this.inAdd) this.sync();
        h.onDatagram!(
          flows[slot!]!,
          DIRS[dir!]!,
          this.bytes().subarray(ptr!, ptr! + len!),
          this.curIndex,
          this.curTs,
        );
        return undefined;
      },
      flowSize: (slot, dir, n) => {
        if (!this.inAdd) this.sync();
        h.onSize!(flows[slot!]!, DIRS[dir!]!, n!, this.curIndex, this.curTs);
        return undefined;
      },
      flowGap: (slot, dir, n) => {
        if (!this.inAdd) this.sync();
        h.onGap!(flows[slot!]!, DIRS[dir!]!, n!, this.curIndex, this.curTs);
        return undefined;
      },
      flowHello: (slot) => {
        if (!this.inAdd) this.sync();
        h.onHello!(flows[slot!]!, this.hello, this.curIndex, this.curTs);
        return undefined;
      },
      flowClose: (slot, reason) => {
        h.onClose!(flows[slot!]!, REASONS[reason!]!);
        return undefined;
      },
      flowFetch: () => {
        this.fetch();
        return undefined;
      },
      flowDrop: (slot) => {
        flows[slot!]!.detach(this.view());
        flows[slot!] = undefined;
        return undefined;
      },
    };
  }

  get stats(): FlowTableStats {
    const v = this.view();
    const p = this.statsPtr;
    const at = (i: number): number => v.getFloat64(p + i * 8, true);
    return {
      packets: at(0),
      flows: at(1),
      tcpFlows: at(2),
      udpFlows: at(3),
      active: at(4),
      closed: { fin: at(5), rst: at(6), idle: at(7), evicted: at(8), end: at(9) },
      afterClose: at(10),
      retransSegments: at(11),
      oooSegments: at(12),
      overlapBytes: at(13),
      gapBytes: at(14),
      pendingBytes: at(15),
      peakPendingBytes: at(16),
      peakPendingPerDir: at(17),
      capFlushes: at(18),
      peakFlows: at(19),
      evicted: { closed: at(20), halfOpen: at(21), open: at(22), kept: at(23) },
      timedOut: { closed: at(24), halfOpen: at(25), open: at(26), kept: at(27) },
    };
  }

  /** Number of flows currently held (open or closed-but-lingering). */
  get size(): number {
    return this.core.flowCount();
  }

  add(p: DecodedPacket, packetIndex: number, ts: number): void {
    const proto = p.proto;
    if (proto !== IPPROTO_TCP && proto !== IPPROTO_UDP) return;
    const raw = p.raw;
    let src: Uint8Array;
    let off: number;
    let have: number;
    if (raw !== undefined && p.payloadOff !== undefined && p.payloadEnd !== undefined) {
      src = raw;
      off = p.payloadOff;
      have = p.payloadEnd - off;
    } else {
      src = p.payload;
      off = 0;
      have = src.length;
    }
    if (SCRATCH_PAYLOAD + have > this.scratchSize) {
      this.scratch = this.core.flowScratch(SCRATCH_PAYLOAD + have);
      this.scratchSize = SCRATCH_PAYLOAD + have;
    }
    const s = this.scratch;
    // The addresses now (byte by byte: set() would need a subarray, an object per packet); the payload only if the
    // core reads it (flowFetch): copying every packet's bytes in was this path's largest cost on the bench capture.
    const m = this.bytes();
    if (raw !== undefined && p.srcOff !== undefined && p.dstOff !== undefined) {
      const so = p.srcOff;
      const dO = p.dstOff;
      for (let i = 0, n = p.ipVersion === 6 ? 16 : 4; i < n; i++) {
        m[s + i] = raw[so + i]!;
        m[s + 16 + i] = raw[dO + i]!;
      }
    } else {
      parseIp(p.src, p.ipVersion, m, s);
      parseIp(p.dst, p.ipVersion, m, s + 16);
    }
    this.fetchSrc = src;
    this.fetchOff = off;
    this.fetchLen = have;
    this.curIndex = packetIndex;
    this.curTs = ts;
    const tcp = proto === IPPROTO_TCP ? p.tcp : undefined;
    const at = s + SCRATCH_PAYLOAD;
    this.cur = p;
    this.inAdd = true;
    try {
      this.core.flowAddPacket(
        p.ipVersion,
        tcp ? proto : IPPROTO_UDP,
        tcp ? tcp.flags : 0,
        p.srcPort,
        p.dstPort,
        tcp ? tcp.seq : 0,
        tcp ? tcp.ack : 0,
        s,
        s + 16,
        at,
        at + have,
        p.payloadLen ?? have,
        packetIndex,
        ts,
      );
    } finally {
      this.inAdd = false;
      this.cur = null;
      this.fetchSrc = EMPTY;
    }
  }

  /** The current packet's index and ts, from the core (read again only when the packet changed). */
  private sync(): void {
    const v = this.view();
    const p = this.currentPtr;
    const n = v.getFloat64(p + 16, true);
    if (n === this.currentSeen) return;
    this.currentSeen = n;
    this.curIndex = v.getFloat64(p, true);
    this.curTs = v.getFloat64(p + 8, true);
  }

  /** flowFetch: the current packet's payload into the scratch region, where add() told the core it would be. */
  private fetch(): void {
    const m = this.bytes();
    const src = this.fetchSrc;
    const off = this.fetchOff;
    const n = this.fetchLen;
    const at = this.scratch + SCRATCH_PAYLOAD;
    if (n > 64) m.set(src.subarray(off, off + n), at);
    else for (let i = 0; i < n; i++) m[at + i] = src[off + i]!;
  }

  /**
   * Track the packet the core's decoder left in PKT (a fused loop driven from JS). A loop inside the core can call
   * flowAdd() itself instead (no crossing per packet): the events and the Flow objects are the same either way.
   */
  addDecoded(): void {
    this.core.flowAdd();
  }

  /** Flush everything: pending bytes are delivered after their holes, every open flow gets onClose('end'). */
  end(): void {
    this.core.flowEnd();
  }

  /** Flows held now, by class. */
  held(): Record<FlowClass, number> {
    const c = this.core;
    return { closed: c.flowHeld(0), halfOpen: c.flowHeld(1), open: c.flowHeld(2), kept: c.flowHeld(3) };
  }
}
