/**
 * Link, IP and transport decoding. Pure, allocation-free on the hot path: bytes are read straight from the
 * Uint8Array (no DataView per packet), the frame may be a range of a larger buffer (decodeRange: no subarray
 * per record), the payload is only materialised as a subarray when someone reads `payload` (the flow table
 * uses payloadOff/payloadEnd into `raw` instead), and IP addresses are only formatted to strings when
 * someone reads `src`/`dst` (the flow table does that once per new flow).
 *
 * Tunnels are opened, as Suricata does by default: cloud traffic mirroring hands sensors VXLAN (AWS VPC
 * Traffic Mirroring, UDP 4789) or GENEVE (GCP/Azure appliances, UDP 6081), switches mirror through GRE and
 * ERSPAN, and IP-in-IP carries site links. The packet is decoded as its innermost conversation (a miner's
 * stratum session inside a mirror session is still one stratum flow); `tunnelled` counts such packets.
 * Nesting is bounded (MAX_TUNNEL_DEPTH) so a hostile packet of tunnels in tunnels costs a few header reads.
 */

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
const IPPROTO_IPIP = 4;
const IPPROTO_IPV6 = 41;
const IPPROTO_GRE = 47;

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
    v.clearCache();
    v.tcp = this.tcpInfo;
    return decodeRangeInto(v, linkType, buf, start, end, this.stats) ? v : null;
  }
}

const u16 = (d: Uint8Array, i: number): number => (d[i]! << 8) | d[i + 1]!;
const u32 = (d: Uint8Array, i: number): number =>
  ((d[i]! << 24) | (d[i + 1]! << 16) | (d[i + 2]! << 8) | d[i + 3]!) >>> 0;

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
  v.clearCache();
  v.tunnelDepth = 0;
  let off: number;
  let etype: number;
  switch (linkType) {
    case 1: // Ethernet
      if (n - start < 14) return bad(st);
      etype = u16(d, start + 12);
      off = start + 14;
      break;
    case 113: // Linux cooked v1: 16-byte header, protocol at 14
      if (n - start < 16) return bad(st);
      etype = u16(d, start + 14);
      off = start + 16;
      break;
    case 276: // Linux cooked v2: protocol first, 20-byte header
      if (n - start < 20) return bad(st);
      etype = u16(d, start);
      off = start + 20;
      break;
    case 101:
    case 12:
    case 14:
    case 228:
    case 229:
      etype = ipByVersion(d, start, n);
      off = start;
      break;
    case 239: {
      // Linux NFLOG (`tcpdump -i nflog:N`: what an iptables NFLOG rule copied): a 4-byte header, then
      // TLVs (length and type in the capturing host's byte order, 4-byte aligned); type 9 is the packet.
      const at = nflogPayload(d, start, n);
      if (at === 'none') return nonIp(st);
      if (at === 'damaged') return bad(st);
      off = at.off;
      n = at.end;
      etype = ipByVersion(d, off, n);
      if (etype === 0) return nonIp(st);
      break;
    }
    case 0: // BSD NULL: AF in the capturing host's byte order; the IP version nibble is unambiguous
    case 108: // OpenBSD LOOP: AF in network order
      if (n - start < 4) return bad(st);
      etype = ipByVersion(d, start + 4, n);
      off = start + 4;
      break;
    default:
      st.unsupportedLink++;
      return false;
  }
  const ok = fromEtherType(v, d, etype, off, n, st, 0);
  if (ok && v.tunnelDepth > 0) st.tunnelled++;
  return ok;
}

/** An Ethernet frame at d[off, n) (inside VXLAN, GENEVE, GRE or ERSPAN). */
function fromEthernet(
  v: PacketView,
  d: Uint8Array,
  off: number,
  n: number,
  st: DecodeStats,
  depth: number,
): boolean {
  if (off + 14 > n) return bad(st);
  return fromEtherType(v, d, u16(d, off + 12), off + 14, n, st, depth);
}

/** What follows a link header whose EtherType is `etype`, at d[off, n). */
function fromEtherType(
  v: PacketView,
  d: Uint8Array,
  etype: number,
  off: number,
  n: number,
  st: DecodeStats,
  depth: number,
): boolean {
  // VLAN tags (802.1Q, 802.1ad, old QinQ types), PPPoE session and MPLS in front of IP.
  for (;;) {
    if (etype === 0x0800 || etype === 0x86dd) break;
    if (etype === 0x8100 || etype === 0x88a8 || etype === 0x9100 || etype === 0x9200) {
      if (off + 4 > n) return bad(st);
      etype = u16(d, off + 2);
      off += 4;
    } else if (etype === 0x8864) {
      if (off + 8 > n) return bad(st);
      const ppp = u16(d, off + 6);
      off += 8;
      if (ppp === 0x0021) etype = 0x0800;
      else if (ppp === 0x0057) etype = 0x86dd;
      else return nonIp(st);
    } else if (etype === 0x8847 || etype === 0x8848) {
      // MPLS: pop labels to bottom of stack, then guess the payload by its version nibble.
      for (;;) {
        if (off + 4 > n) return bad(st);
        const bos = d[off + 2]! & 1;
        off += 4;
        if (bos) break;
      }
      etype = ipByVersion(d, off, n);
      if (etype === 0) return nonIp(st);
    } else if (etype === 0) {
      return bad(st);
    } else {
      return nonIp(st);
    }
  }
  if (etype === 0x0800) return ipv4(v, d, off, n, st, depth);
  return ipv6(v, d, off, n, st, depth);
}

/**
 * Where the packet sits in an NFLOG record (an object only for this rare link type), 'none' when it carries
 * none, 'damaged' when its TLVs are. The byte order of the TLV fields is the capturing host's: little-endian
 * is tried first (x86, arm64), then big.
 */
function nflogPayload(
  d: Uint8Array,
  start: number,
  n: number,
): { off: number; end: number } | 'none' | 'damaged' {
  if (n - start < 4) return 'damaged';
  for (const le of [true, false]) {
    let p = start + 4;
    while (p + 4 <= n) {
      const len = le ? d[p]! | (d[p + 1]! << 8) : (d[p]! << 8) | d[p + 1]!;
      const type = (le ? d[p + 2]! | (d[p + 3]! << 8) : (d[p + 2]! << 8) | d[p + 3]!) & 0x7fff;
      if (len < 4) break;
      // The packet may be cut by the snap length: what was captured of it is still the packet.
      if (type === 9) return { off: p + 4, end: Math.min(n, p + len) };
      if (p + len > n) break;
      p += (len + 3) & ~3;
    }
    if (p >= n) return 'none';
  }
  return 'damaged';
}

function ipByVersion(d: Uint8Array, off: number, n: number): number {
  if (off >= n) return 0;
  const ver = d[off]! >> 4;
  return ver === 4 ? 0x0800 : ver === 6 ? 0x86dd : 0;
}

function bad(st: DecodeStats): false {
  st.damaged++;
  return false;
}
function nonIp(st: DecodeStats): false {
  st.nonIp++;
  return false;
}

function ipv4(v: PacketView, d: Uint8Array, off: number, n: number, st: DecodeStats, depth: number): boolean {
  if (off + 20 > n) return bad(st);
  const vihl = d[off]!;
  if (vihl >> 4 !== 4) return bad(st);
  const ihl = (vihl & 15) * 4;
  let total = u16(d, off + 2);
  // total 0 happens with TSO offload captures; trust the captured length then.
  if (total === 0) total = n - off;
  if (ihl < 20 || total < ihl || off + ihl > n) return bad(st);
  const frag = u16(d, off + 6);
  if ((frag & 0x1fff) !== 0) {
    st.fragments++;
    return false;
  }
  v.fragment = (frag & 0x2000) !== 0;
  v.ipVersion = 4;
  v.raw = d;
  v.srcOff = off + 12;
  v.dstOff = off + 16;
  // Ethernet pads short frames; the IP total length says where the packet really ends.
  const l4 = off + ihl;
  return l4proto(v, d, d[off + 9]!, l4, off + total, n, st, depth);
}

function ipv6(v: PacketView, d: Uint8Array, off: number, n: number, st: DecodeStats, depth: number): boolean {
  if (off + 40 > n) return bad(st);
  if (d[off]! >> 4 !== 6) return bad(st);
  const plen = u16(d, off + 4);
  // plen 0 means a jumbogram (or TSO): use what was captured.
  const ipEnd = plen === 0 ? n : off + 40 + plen;
  let next = d[off + 6]!;
  let p = off + 40;
  v.fragment = false;
  // Walk extension headers; each bounded by the captured length.
  for (;;) {
    if (next === IPPROTO_TCP || next === IPPROTO_UDP || isTunnelProto(next)) break;
    if (next === 0 || next === 43 || next === 60 || next === 135 || next === 139 || next === 140) {
      if (p + 8 > n) return bad(st);
      next = d[p]!;
      p += (d[p + 1]! + 1) * 8;
    } else if (next === 44) {
      if (p + 8 > n) return bad(st);
      const fo = u16(d, p + 2);
      if ((fo & 0xfff8) !== 0) {
        st.fragments++;
        return false;
      }
      if (fo & 1) v.fragment = true;
      next = d[p]!;
      p += 8;
    } else if (next === 51) {
      if (p + 8 > n) return bad(st);
      next = d[p]!;
      p += (d[p + 1]! + 2) * 4;
    } else {
      st.otherProto++;
      return false;
    }
    if (p > ipEnd) return bad(st);
  }
  v.ipVersion = 6;
  v.raw = d;
  v.srcOff = off + 8;
  v.dstOff = off + 24;
  return l4proto(v, d, next, p, ipEnd, n, st, depth);
}

function isTunnelProto(proto: number): boolean {
  return proto === IPPROTO_GRE || proto === IPPROTO_IPIP || proto === IPPROTO_IPV6;
}

function l4proto(
  v: PacketView,
  d: Uint8Array,
  proto: number,
  p: number,
  ipEnd: number,
  n: number,
  st: DecodeStats,
  depth: number,
): boolean {
  const capEnd = Math.min(ipEnd, n);
  if (proto === IPPROTO_TCP) {
    if (p + 20 > capEnd) return bad(st);
    const doff = (d[p + 12]! >> 4) * 4;
    if (doff < 20 || p + doff > ipEnd) return bad(st);
    v.proto = IPPROTO_TCP;
    v.srcPort = u16(d, p);
    v.dstPort = u16(d, p + 2);
    let t = v.tcp;
    if (!t) t = v.tcp = { seq: 0, ack: 0, flags: 0, window: 0 };
    t.seq = u32(d, p + 4);
    t.ack = u32(d, p + 8);
    t.flags = d[p + 13]!;
    t.window = u16(d, p + 14);
    const start = p + doff;
    v.payloadOff = start;
    v.payloadEnd = Math.max(start, capEnd);
    v.payloadLen = ipEnd - start;
    st.ok++;
    return true;
  }
  if (proto === IPPROTO_UDP) {
    if (p + 8 > capEnd) return bad(st);
    v.proto = IPPROTO_UDP;
    v.srcPort = u16(d, p);
    v.dstPort = u16(d, p + 2);
    v.tcp = undefined;
    let ulen = u16(d, p + 4);
    if (ulen < 8 || p + ulen > ipEnd) ulen = ipEnd - p; // 0 = jumbogram; lies are clamped to the IP length
    const start = p + 8;
    const end = Math.min(p + ulen, capEnd);
    if (v.dstPort === VXLAN_PORT || v.dstPort === GENEVE_PORT) {
      const inner = udpTunnel(v, d, start, end, st, depth);
      if (inner !== undefined) return inner;
    }
    v.payloadOff = start;
    v.payloadEnd = Math.max(start, end);
    v.payloadLen = ulen - 8;
    st.ok++;
    return true;
  }
  if (isTunnelProto(proto)) return ipTunnel(v, d, proto, p, capEnd, st, depth);
  st.otherProto++;
  return false;
}

/** Notes that the packet is being decoded from inside a tunnel (counted once, in decodeRangeInto). */
function inner(v: PacketView, depth: number): number {
  v.tunnelDepth = depth + 1;
  return depth + 1;
}

/**
 * VXLAN (RFC 7348) or GENEVE (RFC 8926) in the UDP payload d[s, end). undefined when the payload does not
 * carry the tunnel's header (the datagram is then an ordinary one to that port).
 */
function udpTunnel(
  v: PacketView,
  d: Uint8Array,
  s: number,
  end: number,
  st: DecodeStats,
  depth: number,
): boolean | undefined {
  if (s + 8 > end) return undefined;
  if (v.dstPort === VXLAN_PORT) {
    // Flags: the I bit (0x08) set, the reserved bits and bytes zero (the group-policy extension uses some
    // of them, so only the I bit and the last reserved byte are insisted on).
    if ((d[s]! & 0x08) === 0 || d[s + 7] !== 0) return undefined;
    if (depth >= MAX_TUNNEL_DEPTH) return bad(st);
    return fromEthernet(v, d, s + 8, end, st, inner(v, depth));
  }
  // GENEVE: version 0, option length in 4-byte words, then the protocol of what follows.
  if (d[s]! >> 6 !== 0) return undefined;
  const body = s + 8 + (d[s]! & 0x3f) * 4;
  const ptype = u16(d, s + 2);
  if (body > end || (ptype !== 0x6558 && ptype !== 0x0800 && ptype !== 0x86dd)) return undefined;
  if (depth >= MAX_TUNNEL_DEPTH) return bad(st);
  return ptype === 0x6558
    ? fromEthernet(v, d, body, end, st, inner(v, depth))
    : fromEtherType(v, d, ptype, body, end, st, inner(v, depth));
}

/** IP-in-IP, IPv6-in-IP or GRE (RFC 2784/2890, with ERSPAN types I-III) at d[p, end). */
function ipTunnel(
  v: PacketView,
  d: Uint8Array,
  proto: number,
  p: number,
  end: number,
  st: DecodeStats,
  depth: number,
): boolean {
  if (depth >= MAX_TUNNEL_DEPTH) return bad(st);
  if (proto === IPPROTO_IPIP) return ipv4(v, d, p, end, st, inner(v, depth));
  if (proto === IPPROTO_IPV6) return ipv6(v, d, p, end, st, inner(v, depth));
  if (p + 4 > end) return bad(st);
  const flags = u16(d, p);
  // Version 0 only (1 is PPTP's enhanced GRE, carrying PPP); no source routing (deprecated since RFC 2784).
  if ((flags & 0x7) !== 0 || (flags & 0x4000) !== 0) {
    st.otherProto++;
    return false;
  }
  const ptype = u16(d, p + 2);
  let body = p + 4 + (flags & 0x8000 ? 4 : 0) + (flags & 0x2000 ? 4 : 0) + (flags & 0x1000 ? 4 : 0);
  if (body > end) return bad(st);
  switch (ptype) {
    case 0x0800:
    case 0x86dd:
      return fromEtherType(v, d, ptype, body, end, st, inner(v, depth));
    case 0x6558: // transparent Ethernet bridging
      return fromEthernet(v, d, body, end, st, inner(v, depth));
    case 0x88be: // ERSPAN type II: an 8-byte header when GRE carries a sequence number; type I has none
      if (flags & 0x1000) body += 8;
      return fromEthernet(v, d, body, end, st, inner(v, depth));
    case 0x22eb: // ERSPAN type III: 12 bytes, and an 8-byte platform subheader when the O bit is set
      if (body + 12 > end) return bad(st);
      body += 12 + (d[body + 11]! & 1 ? 8 : 0);
      return fromEthernet(v, d, body, end, st, inner(v, depth));
    default:
      st.nonIp++;
      return false;
  }
}

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
