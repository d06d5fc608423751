/**
 * Link, IP and transport decoding. The decoder itself is in the packet core (core/assembly/decode.ts, WebAssembly):
 * the capture pipeline decodes each record where the reader left it in the core's memory and never crosses into
 * JavaScript per packet (source.ts). This module is its JS face for frames held in JavaScript (tests, benchmark
 * helpers, the corpus replicator): the frame is copied into a scratch region of a core instance shared by this
 * thread's decoders, decoded there, and the result reported as offsets into the caller's buffer (the payload is a
 * view of the caller's bytes, not of the copy). IP addresses are only formatted to strings when someone reads
 * `src`/`dst`, the payload only made a view when someone reads `payload`.
 *
 * Tunnels are opened, as Suricata does by default: cloud traffic mirroring hands sensors VXLAN (AWS VPC
 * Traffic Mirroring, UDP 4789) or GENEVE (GCP/Azure appliances, UDP 6081), switches mirror through GRE and
 * ERSPAN, and IP-in-IP carries site links. The packet is decoded as its innermost conversation (a miner's
 * stratum session inside a mirror session is still one stratum flow); `tunnelled` counts such packets.
 * Nesting is bounded (MAX_TUNNEL_DEPTH) so a hostile packet of tunnels in tunnels costs a few header reads.
 */
import { type CoreExports, instantiateCore } from './core/load.ts';

export const LINKTYPE = {
  NULL: 0,
  ETHERNET: 1,
  RAW_BSD12: 12,
  RAW_BSD14: 14,
  RAW: 101,
  LOOP: 108,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
  NFLOG: 239,
} as const;

export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;

/** UDP ports of the tunnels opened (IANA): VXLAN and GENEVE. */
export const VXLAN_PORT = 4789;
export const GENEVE_PORT = 6081;
/** Tunnels within tunnels opened at most this deep; deeper packets count as damaged. */
export const MAX_TUNNEL_DEPTH = 4;

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;

export interface TcpInfo {
  seq: number;
  ack: number;
  flags: number;
  window: number;
}

export interface DecodedPacket {
  ipVersion: 4 | 6;
  src: string;
  dst: string;
  proto: number;
  srcPort: number;
  dstPort: number;
  tcp?: TcpInfo;
  /** L4 payload: a subarray of the packet (no copy). May be shorter than payloadLen if the capture was snapped. */
  payload: Uint8Array;
  /** Payload length according to the IP/TCP/UDP headers (what the sender sent). Defaults to payload.length. */
  payloadLen?: number;
  /** A first IPv4/IPv6 fragment: ports are real, the payload is partial. */
  fragment?: boolean;
  /** The buffer holding the frame and where the raw addresses sit in it (4 or 16 bytes); lets the flow table key flows without strings. */
  raw?: Uint8Array;
  srcOff?: number;
  dstOff?: number;
  /** Where the captured payload sits in `raw` (payload = raw[payloadOff, payloadEnd)). */
  payloadOff?: number;
  payloadEnd?: number;
}

/** Why packets were not decoded to TCP/UDP. */
export interface DecodeStats {
  ok: number;
  /** ARP, LLDP, STP, 802.3/LLC and other non-IP frames. */
  nonIp: number;
  /** Link types we do not decode. */
  unsupportedLink: number;
  /** IP packets that are neither TCP nor UDP (ICMP, GRE, ESP, ...). */
  otherProto: number;
  /** Non-first fragments: their L4 header is in another packet. */
  fragments: number;
  /** Truncated or inconsistent headers. */
  damaged: number;
  /** Decoded from inside a tunnel (VXLAN, GENEVE, GRE, ERSPAN, IP-in-IP); also counted in `ok`. */
  tunnelled: number;
}

export function newDecodeStats(): DecodeStats {
  return { ok: 0, nonIp: 0, unsupportedLink: 0, otherProto: 0, fragments: 0, damaged: 0, tunnelled: 0 };
}

const EMPTY = new Uint8Array(0);

/** Concrete DecodedPacket; `src`/`dst` and `payload` are made lazily and cached. */
export class PacketView implements DecodedPacket {
  ipVersion: 4 | 6 = 4;
  proto = 0;
  srcPort = 0;
  dstPort = 0;
  tcp: TcpInfo | undefined = undefined;
  payloadLen = 0;
  fragment = false;
  /** How many tunnels the packet was found in (0: none). */
  tunnelDepth = 0;
  raw: Uint8Array = EMPTY;
  srcOff = 0;
  dstOff = 0;
  payloadOff = 0;
  payloadEnd = 0;
  private _src: string | undefined = undefined;
  private _dst: string | undefined = undefined;
  private _payload: Uint8Array | undefined = undefined;

  /** The captured L4 payload as a view of `raw` (made on first read: the flow table works on offsets). */
  get payload(): Uint8Array {
    if (this._payload === undefined)
      this._payload =
        this.payloadOff < this.payloadEnd ? this.raw.subarray(this.payloadOff, this.payloadEnd) : EMPTY;
    return this._payload;
  }

  get src(): string {
    if (this._src === undefined) this._src = formatIp(this.raw, this.srcOff, this.ipVersion);
    return this._src;
  }
  get dst(): string {
    if (this._dst === undefined) this._dst = formatIp(this.raw, this.dstOff, this.ipVersion);
    return this._dst;
  }
  /** @internal reset cached strings when the view is reused */
  clearCache(): void {
    this._src = undefined;
    this._dst = undefined;
    this._payload = undefined;
  }
}

/** Decode one frame into a fresh object. For a hot loop prefer PacketDecoder, which reuses one view. */
export function decodePacket(linkType: number, data: Uint8Array): DecodedPacket | null {
  const v = new PacketView();
  return decodeInto(v, linkType, data, decodeStats) ? v : null;
}

/** Module-wide reason counters for decodePacket(). */
export const decodeStats: DecodeStats = newDecodeStats();

/**
 * Reusing decoder: `decode()` returns the same PacketView each time (valid until the next call) and
 * counts reasons in its own `stats`.
 */
export class PacketDecoder {
  readonly stats: DecodeStats = newDecodeStats();
  private readonly view = new PacketView();
  private readonly tcpInfo: TcpInfo = { seq: 0, ack: 0, flags: 0, window: 0 };

  decode(linkType: number, data: Uint8Array): PacketView | null {
    return this.decodeRange(linkType, data, 0, data.length);
  }

  /** Decode the frame buf[start, end) without making a view of it (offsets in the result are into buf). */
  decodeRange(linkType: number, buf: Uint8Array, start: number, end: number): PacketView | null {
    const v = this.view;
    v.tcp = this.tcpInfo;
    return decodeRangeInto(v, linkType, buf, start, end, this.stats) ? v : null;
  }
}

/** Fill v from a frame. Returns false (and bumps one reason counter) when it is not usable TCP/UDP. */
export function decodeInto(v: PacketView, linkType: number, d: Uint8Array, st: DecodeStats): boolean {
  return decodeRangeInto(v, linkType, d, 0, d.length, st);
}

/** decodeInto for the frame d[start, n): every offset (and every bound check) is into d. */
export function decodeRangeInto(
  v: PacketView,
  linkType: number,
  d: Uint8Array,
  start: number,
  n: number,
  st: DecodeStats,
): boolean {
  const c = sharedDecoder();
  const len = Math.max(0, n - start);
  const at = c.scratch(len);
  const m = c.bytes();
  // Byte by byte for the common short frame: set() would need a subarray (an object per packet).
  if (len > 64) m.set(d.subarray(start, n), at);
  else for (let i = 0; i < len; i++) m[at + i] = d[start + i]!;
  const r = c.core.decode(linkType >>> 0, at, len);
  return c.result(r, v, d, at - start, st);
}

/** The core's decode exports (core/assembly/index.ts). */
export interface DecodeCore extends CoreExports {
  decode(linkType: number, start: number, len: number): number;
  decodeStatsPtr(): number;
  decodeScratchPtr(n: number): number;
  decodeStatsReset(): void;
}

/** The decode results' order (core/assembly/decode.ts D_*): the DecodeStats counter each one bumps. */
const REASONS = ['ok', 'nonIp', 'unsupportedLink', 'otherProto', 'fragments', 'damaged'] as const;

/** PKT's field offsets (packetLayout), the same for every instance of the one module. */
let P: Int32Array | undefined;
const P_IP_VERSION = 6;
const P_PROTO = 7;
const P_TUNNEL_DEPTH = 8;
const P_FRAGMENT = 9;
const P_TCP_FLAGS = 10;
const P_SRC_PORT = 11;
const P_DST_PORT = 12;
const P_WINDOW = 13;
const P_SEQ = 14;
const P_ACK = 15;
const P_SRC_OFF = 16;
const P_DST_OFF = 17;
const P_PAYLOAD_OFF = 18;
const P_PAYLOAD_END = 19;
const P_PAYLOAD_LEN = 20;

/**
 * A core instance's decoded packet (PKT) as JavaScript reads it: views of its memory (made again when the memory has
 * grown) and PKT's address and field offsets. Used for frames given from JavaScript (one instance per thread) and,
 * by source.ts, for records the reader left in a pipeline's own core.
 */
export class CorePacket {
  readonly core: DecodeCore;
  private u8: Uint8Array;
  private dv: DataView;
  private readonly pkt: number;
  private readonly at: Int32Array;
  private scratchAt = 0;
  private scratchSize = 0;

  constructor(core: CoreExports) {
    this.core = core as DecodeCore;
    this.u8 = new Uint8Array(core.memory.buffer);
    this.dv = new DataView(core.memory.buffer);
    this.pkt = core.packetPtr();
    if (!P) {
      P = new Int32Array(21);
      for (let i = 0; i < 21; i++) P[i] = core.packetLayout(i);
    }
    this.at = P;
  }

  /** The core's memory (the current view: growing the memory detaches the old one, whose length then reads 0). */
  bytes(): Uint8Array {
    if (this.u8.byteLength === 0) this.refresh();
    return this.u8;
  }

  private refresh(): void {
    const buf = this.core.memory.buffer;
    this.u8 = new Uint8Array(buf);
    this.dv = new DataView(buf);
  }

  /** A region of at least n bytes to copy a frame into. */
  scratch(n: number): number {
    if (n > this.scratchSize) {
      this.scratchAt = this.core.decodeScratchPtr(n);
      this.scratchSize = Math.max(n, 2048);
    }
    return this.scratchAt;
  }

  /**
   * Count decode result r in st and, when it is a TCP/UDP packet, fill v from PKT: addresses and payload as offsets
   * into `raw`, which holds the core's byte at address a at a - delta.
   */
  result(r: number, v: PacketView, raw: Uint8Array, delta: number, st: DecodeStats): boolean {
    st[REASONS[r]!]++;
    if (r !== 0) {
      // Not TCP/UDP: only how deep in tunnels the decoder got is kept.
      v.clearCache();
      if (this.u8.byteLength === 0) this.refresh();
      v.tunnelDepth = this.dv.getUint8(this.pkt + this.at[P_TUNNEL_DEPTH]!);
      return false;
    }
    this.fill(v, raw, delta);
    if (v.tunnelDepth > 0) st.tunnelled++;
    return true;
  }

  /** Fill v from a TCP/UDP packet in PKT (see result). */
  fill(v: PacketView, raw: Uint8Array, delta: number): void {
    v.clearCache();
    if (this.u8.byteLength === 0) this.refresh();
    const dv = this.dv;
    const p = this.pkt;
    const at = this.at;
    v.tunnelDepth = dv.getUint8(p + at[P_TUNNEL_DEPTH]!);
    v.ipVersion = dv.getUint8(p + at[P_IP_VERSION]!) === 6 ? 6 : 4;
    const proto = dv.getUint8(p + at[P_PROTO]!);
    v.proto = proto;
    v.fragment = dv.getUint8(p + at[P_FRAGMENT]!) !== 0;
    v.srcPort = dv.getUint16(p + at[P_SRC_PORT]!, true);
    v.dstPort = dv.getUint16(p + at[P_DST_PORT]!, true);
    if (proto === IPPROTO_TCP) {
      let t = v.tcp;
      if (!t) t = v.tcp = { seq: 0, ack: 0, flags: 0, window: 0 };
      t.seq = dv.getUint32(p + at[P_SEQ]!, true);
      t.ack = dv.getUint32(p + at[P_ACK]!, true);
      t.flags = dv.getUint8(p + at[P_TCP_FLAGS]!);
      t.window = dv.getUint16(p + at[P_WINDOW]!, true);
    } else v.tcp = undefined;
    v.raw = raw;
    v.srcOff = dv.getUint32(p + at[P_SRC_OFF]!, true) - delta;
    v.dstOff = dv.getUint32(p + at[P_DST_OFF]!, true) - delta;
    v.payloadOff = dv.getUint32(p + at[P_PAYLOAD_OFF]!, true) - delta;
    v.payloadEnd = dv.getUint32(p + at[P_PAYLOAD_END]!, true) - delta;
    v.payloadLen = dv.getUint32(p + at[P_PAYLOAD_LEN]!, true);
  }

  /** The core loop's decode counters (assembly/decode.ts DSTATS). */
  loopStats(): DecodeStats {
    if (this.u8.byteLength === 0) this.refresh();
    const p = this.core.decodeStatsPtr();
    const at = (i: number): number => this.dv.getFloat64(p + i * 8, true);
    return {
      ok: at(0),
      nonIp: at(1),
      unsupportedLink: at(2),
      otherProto: at(3),
      fragments: at(4),
      damaged: at(5),
      tunnelled: at(6),
    };
  }
}

let shared: CorePacket | undefined;

/** This thread's decoder core for frames given from JavaScript (made on first use). */
function sharedDecoder(): CorePacket {
  shared ??= new CorePacket(instantiateCore());
  return shared;
}

const u16 = (d: Uint8Array, i: number): number => (d[i]! << 8) | d[i + 1]!;

/** Format 4 or 16 address bytes: dotted quad, or RFC 5952 IPv6 (lower case, longest zero run compressed). */
export function formatIp(d: Uint8Array, off: number, version: 4 | 6): string {
  if (version === 4) return `${d[off]}.${d[off + 1]}.${d[off + 2]}.${d[off + 3]}`;
  const w: number[] = [];
  for (let i = 0; i < 8; i++) w.push(u16(d, off + i * 2));
  // IPv4-mapped ::ffff:a.b.c.d
  if (w[0] === 0 && w[1] === 0 && w[2] === 0 && w[3] === 0 && w[4] === 0 && w[5] === 0xffff) {
    return `::ffff:${d[off + 12]}.${d[off + 13]}.${d[off + 14]}.${d[off + 15]}`;
  }
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (a: number, b: number): string =>
    w
      .slice(a, b)
      .map((x) => x.toString(16))
      .join(':');
  if (bestStart < 0) return hex(0, 8);
  return `${hex(0, bestStart)}::${hex(bestStart + bestLen, 8)}`;
}
