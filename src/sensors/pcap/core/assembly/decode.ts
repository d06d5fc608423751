// Link, IP and transport decoding into PKT (packet.ts): a port of what was src/sensors/pcap/decode.ts's
// decodeRangeInto, line for line, so that every packet decodes to the same fields and every refusal counts under
// the same reason. The frame is [start, n) of linear memory (a record in the reader's input region, or a frame the
// JS side copied into a scratch region); every read is checked against n first, so a hostile frame can neither
// trap the core nor read past its record (the checks are the TS decoder's, which read nothing past n either).
//
// Tunnels are opened as Suricata does by default (VXLAN 4789, GENEVE 6081, GRE with ERSPAN I-III, IP-in-IP,
// IPv6-in-IP), nesting bounded by MAX_TUNNEL_DEPTH; the packet is decoded as its innermost conversation.
import { PKT } from './packet';

// Results (one per decoded frame; every refusal is exactly one reason, as DecodeStats counts them).
export const D_OK: i32 = 0;
export const D_NON_IP: i32 = 1;
export const D_UNSUPPORTED_LINK: i32 = 2;
export const D_OTHER_PROTO: i32 = 3;
export const D_FRAGMENT: i32 = 4;
export const D_DAMAGED: i32 = 5;
/** udpTunnel: the payload carries no tunnel header; an ordinary datagram. */
const NOT_TUNNEL: i32 = -1;

const IPPROTO_TCP: u8 = 6;
const IPPROTO_UDP: u8 = 17;
const IPPROTO_IPIP: u32 = 4;
const IPPROTO_IPV6: u32 = 41;
const IPPROTO_GRE: u32 = 47;

const VXLAN_PORT: u16 = 4789;
const GENEVE_PORT: u16 = 6081;
/** Tunnels within tunnels opened at most this deep; deeper packets count as damaged. */
export const MAX_TUNNEL_DEPTH: i32 = 4;

// ---- decode-reason counters, for the core's own loop (the JS decoders count their own) ----

/** ok, nonIp, unsupportedLink, otherProto, fragments, damaged, tunnelled: f64 each (DecodeStats order). */
export const DSTATS: usize = memory.data(7 * 8, 8);

/** Count one decode result as DecodeStats does. */
export function countDecode(r: i32): void {
  const p = DSTATS + ((<usize>r) << 3);
  store<f64>(p, load<f64>(p) + 1);
  if (r === D_OK && PKT.tunnelDepth > 0) store<f64>(DSTATS + 48, load<f64>(DSTATS + 48) + 1);
}

export function decodeStatsReset(): void {
  memory.fill(DSTATS, 0, 7 * 8);
}

// ---- reads (big-endian, network order) ----

function u8at(p: usize): u32 {
  return <u32>load<u8>(p);
}
function u16at(p: usize): u32 {
  return <u32>bswap<u16>(load<u16>(p));
}
function u32at(p: usize): u32 {
  return bswap<u32>(load<u32>(p));
}

/**
 * Decode the frame [start, n) of linkType into PKT. Returns D_OK or the reason it is not usable TCP/UDP. PKT's
 * fields are written where the TS decoder wrote its view's (a refused frame may leave some set).
 */
export function decodeFrame(linkType: u32, start: usize, n: usize): i32 {
  PKT.tunnelDepth = 0;
  let off: usize;
  let etype: u32;
  switch (linkType) {
    case 1: // Ethernet
      if (n - start < 14) return D_DAMAGED;
      etype = u16at(start + 12);
      off = start + 14;
      break;
    case 113: // Linux cooked v1: 16-byte header, protocol at 14
      if (n - start < 16) return D_DAMAGED;
      etype = u16at(start + 14);
      off = start + 16;
      break;
    case 276: // Linux cooked v2: protocol first, 20-byte header
      if (n - start < 20) return D_DAMAGED;
      etype = u16at(start);
      off = start + 20;
      break;
    case 101:
    case 12:
    case 14:
    case 228:
    case 229:
      etype = ipByVersion(start, n);
      off = start;
      break;
    case 239: {
      // Linux NFLOG (`tcpdump -i nflog:N`): a 4-byte header, then TLVs (length and type in the capturing host's
      // byte order, 4-byte aligned); type 9 is the packet.
      const at = nflogPayload(start, n);
      if (at === NFLOG_NONE) return D_NON_IP;
      if (at === NFLOG_DAMAGED) return D_DAMAGED;
      off = nflogOff;
      n = nflogEnd;
      etype = ipByVersion(off, n);
      if (etype === 0) return D_NON_IP;
      break;
    }
    case 0: // BSD NULL: AF in the capturing host's byte order; the IP version nibble is unambiguous
    case 108: // OpenBSD LOOP: AF in network order
      if (n - start < 4) return D_DAMAGED;
      etype = ipByVersion(start + 4, n);
      off = start + 4;
      break;
    default:
      return D_UNSUPPORTED_LINK;
  }
  return fromEtherType(etype, off, n, 0);
}

/** An Ethernet frame at [off, n) (inside VXLAN, GENEVE, GRE or ERSPAN). */
function fromEthernet(off: usize, n: usize, depth: i32): i32 {
  if (off + 14 > n) return D_DAMAGED;
  return fromEtherType(u16at(off + 12), off + 14, n, depth);
}

/** What follows a link header whose EtherType is `etype`, at [off, n). */
function fromEtherType(etype: u32, off: usize, n: usize, depth: i32): i32 {
  // VLAN tags (802.1Q, 802.1ad, old QinQ types), PPPoE session and MPLS in front of IP.
  for (;;) {
    if (etype === 0x0800 || etype === 0x86dd) break;
    if (etype === 0x8100 || etype === 0x88a8 || etype === 0x9100 || etype === 0x9200) {
      if (off + 4 > n) return D_DAMAGED;
      etype = u16at(off + 2);
      off += 4;
    } else if (etype === 0x8864) {
      if (off + 8 > n) return D_DAMAGED;
      const ppp = u16at(off + 6);
      off += 8;
      if (ppp === 0x0021) etype = 0x0800;
      else if (ppp === 0x0057) etype = 0x86dd;
      else return D_NON_IP;
    } else if (etype === 0x8847 || etype === 0x8848) {
      // MPLS: pop labels to bottom of stack, then guess the payload by its version nibble.
      for (;;) {
        if (off + 4 > n) return D_DAMAGED;
        const bos = u8at(off + 2) & 1;
        off += 4;
        if (bos) break;
      }
      etype = ipByVersion(off, n);
      if (etype === 0) return D_NON_IP;
    } else if (etype === 0) {
      return D_DAMAGED;
    } else {
      return D_NON_IP;
    }
  }
  if (etype === 0x0800) return ipv4(off, n, depth);
  return ipv6(off, n, depth);
}

const NFLOG_FOUND: i32 = 0;
const NFLOG_NONE: i32 = 1;
const NFLOG_DAMAGED: i32 = 2;
let nflogOff: usize = 0;
let nflogEnd: usize = 0;

/**
 * Where the packet sits in an NFLOG record (nflogOff, nflogEnd), none when it carries none, damaged when its TLVs
 * are. The byte order of the TLV fields is the capturing host's: little-endian is tried first, then big.
 */
function nflogPayload(start: usize, n: usize): i32 {
  if (n - start < 4) return NFLOG_DAMAGED;
  for (let k = 0; k < 2; k++) {
    const le = k === 0;
    let p = start + 4;
    while (p + 4 <= n) {
      const len: usize = le ? <usize>load<u16>(p) : <usize>bswap<u16>(load<u16>(p));
      const type: u32 = (le ? <u32>load<u16>(p + 2) : <u32>bswap<u16>(load<u16>(p + 2))) & 0x7fff;
      if (len < 4) break;
      // The packet may be cut by the snap length: what was captured of it is still the packet.
      if (type === 9) {
        nflogOff = p + 4;
        nflogEnd = min<usize>(n, p + len);
        return NFLOG_FOUND;
      }
      if (p + len > n) break;
      p += (len + 3) & ~3;
    }
    if (p >= n) return NFLOG_NONE;
  }
  return NFLOG_DAMAGED;
}

function ipByVersion(off: usize, n: usize): u32 {
  if (off >= n) return 0;
  const ver = u8at(off) >> 4;
  return ver === 4 ? 0x0800 : ver === 6 ? 0x86dd : 0;
}

function ipv4(off: usize, n: usize, depth: i32): i32 {
  if (off + 20 > n) return D_DAMAGED;
  const vihl = u8at(off);
  if (vihl >> 4 !== 4) return D_DAMAGED;
  const ihl: usize = (vihl & 15) * 4;
  let total: usize = u16at(off + 2);
  // total 0 happens with TSO offload captures; trust the captured length then.
  if (total === 0) total = n - off;
  if (ihl < 20 || total < ihl || off + ihl > n) return D_DAMAGED;
  const frag = u16at(off + 6);
  if ((frag & 0x1fff) !== 0) return D_FRAGMENT;
  PKT.fragment = (frag & 0x2000) !== 0;
  PKT.ipVersion = 4;
  PKT.srcOff = <u32>(off + 12);
  PKT.dstOff = <u32>(off + 16);
  // Ethernet pads short frames; the IP total length says where the packet really ends.
  return l4proto(u8at(off + 9), off + ihl, off + total, n, depth);
}

function ipv6(off: usize, n: usize, depth: i32): i32 {
  if (off + 40 > n) return D_DAMAGED;
  if (u8at(off) >> 4 !== 6) return D_DAMAGED;
  const plen: usize = u16at(off + 4);
  // plen 0 means a jumbogram (or TSO): use what was captured.
  const ipEnd = plen === 0 ? n : off + 40 + plen;
  let next = u8at(off + 6);
  let p = off + 40;
  PKT.fragment = false;
  // Walk extension headers; each bounded by the captured length.
  for (;;) {
    if (next === IPPROTO_TCP || next === IPPROTO_UDP || isTunnelProto(next)) break;
    if (next === 0 || next === 43 || next === 60 || next === 135 || next === 139 || next === 140) {
      if (p + 8 > n) return D_DAMAGED;
      next = u8at(p);
      p += (<usize>u8at(p + 1) + 1) * 8;
    } else if (next === 44) {
      if (p + 8 > n) return D_DAMAGED;
      const fo = u16at(p + 2);
      if ((fo & 0xfff8) !== 0) return D_FRAGMENT;
      if (fo & 1) PKT.fragment = true;
      next = u8at(p);
      p += 8;
    } else if (next === 51) {
      if (p + 8 > n) return D_DAMAGED;
      next = u8at(p);
      p += (<usize>u8at(p + 1) + 2) * 4;
    } else {
      return D_OTHER_PROTO;
    }
    if (p > ipEnd) return D_DAMAGED;
  }
  PKT.ipVersion = 6;
  PKT.srcOff = <u32>(off + 8);
  PKT.dstOff = <u32>(off + 24);
  return l4proto(next, p, ipEnd, n, depth);
}

function isTunnelProto(proto: u32): bool {
  return proto === IPPROTO_GRE || proto === IPPROTO_IPIP || proto === IPPROTO_IPV6;
}

function l4proto(proto: u32, p: usize, ipEnd: usize, n: usize, depth: i32): i32 {
  const capEnd = min<usize>(ipEnd, n);
  if (proto === IPPROTO_TCP) {
    if (p + 20 > capEnd) return D_DAMAGED;
    const doff: usize = (u8at(p + 12) >> 4) * 4;
    if (doff < 20 || p + doff > ipEnd) return D_DAMAGED;
    PKT.proto = IPPROTO_TCP;
    PKT.srcPort = <u16>u16at(p);
    PKT.dstPort = <u16>u16at(p + 2);
    PKT.seq = u32at(p + 4);
    PKT.ack = u32at(p + 8);
    PKT.tcpFlags = load<u8>(p + 13);
    PKT.window = <u16>u16at(p + 14);
    const start = p + doff;
    PKT.payloadOff = <u32>start;
    PKT.payloadEnd = <u32>max<usize>(start, capEnd);
    PKT.payloadLen = <u32>(ipEnd - start);
    return D_OK;
  }
  if (proto === IPPROTO_UDP) {
    if (p + 8 > capEnd) return D_DAMAGED;
    PKT.proto = IPPROTO_UDP;
    const dport = <u16>u16at(p + 2);
    PKT.srcPort = <u16>u16at(p);
    PKT.dstPort = dport;
    let ulen: usize = u16at(p + 4);
    if (ulen < 8 || p + ulen > ipEnd) ulen = ipEnd - p; // 0 = jumbogram; lies are clamped to the IP length
    const start = p + 8;
    const end = min<usize>(p + ulen, capEnd);
    if (dport === VXLAN_PORT || dport === GENEVE_PORT) {
      const inner = udpTunnel(dport, start, end, depth);
      if (inner !== NOT_TUNNEL) return inner;
    }
    PKT.payloadOff = <u32>start;
    PKT.payloadEnd = <u32>max<usize>(start, end);
    PKT.payloadLen = <u32>(ulen - 8);
    return D_OK;
  }
  if (isTunnelProto(proto)) return ipTunnel(proto, p, capEnd, depth);
  return D_OTHER_PROTO;
}

/** Notes that the packet is being decoded from inside a tunnel (counted once per packet, by the caller). */
function inner(depth: i32): i32 {
  PKT.tunnelDepth = <u8>(depth + 1);
  return depth + 1;
}

/**
 * VXLAN (RFC 7348) or GENEVE (RFC 8926) in the UDP payload [s, end). NOT_TUNNEL when the payload does not carry the
 * tunnel's header (the datagram is then an ordinary one to that port).
 */
function udpTunnel(dport: u16, s: usize, end: usize, depth: i32): i32 {
  if (s + 8 > end) return NOT_TUNNEL;
  if (dport === VXLAN_PORT) {
    // Flags: the I bit (0x08) set, the last reserved byte zero (the group-policy extension uses the others).
    if ((u8at(s) & 0x08) === 0 || u8at(s + 7) !== 0) return NOT_TUNNEL;
    if (depth >= MAX_TUNNEL_DEPTH) return D_DAMAGED;
    return fromEthernet(s + 8, end, inner(depth));
  }
  // GENEVE: version 0, option length in 4-byte words, then the protocol of what follows.
  if (u8at(s) >> 6 !== 0) return NOT_TUNNEL;
  const body = s + 8 + <usize>(u8at(s) & 0x3f) * 4;
  const ptype = u16at(s + 2);
  if (body > end || (ptype !== 0x6558 && ptype !== 0x0800 && ptype !== 0x86dd)) return NOT_TUNNEL;
  if (depth >= MAX_TUNNEL_DEPTH) return D_DAMAGED;
  return ptype === 0x6558
    ? fromEthernet(body, end, inner(depth))
    : fromEtherType(ptype, body, end, inner(depth));
}

/** IP-in-IP, IPv6-in-IP or GRE (RFC 2784/2890, with ERSPAN types I-III) at [p, end). */
function ipTunnel(proto: u32, p: usize, end: usize, depth: i32): i32 {
  if (depth >= MAX_TUNNEL_DEPTH) return D_DAMAGED;
  if (proto === IPPROTO_IPIP) return ipv4(p, end, inner(depth));
  if (proto === IPPROTO_IPV6) return ipv6(p, end, inner(depth));
  if (p + 4 > end) return D_DAMAGED;
  const flags = u16at(p);
  // Version 0 only (1 is PPTP's enhanced GRE, carrying PPP); no source routing (deprecated since RFC 2784).
  if ((flags & 0x7) !== 0 || (flags & 0x4000) !== 0) return D_OTHER_PROTO;
  const ptype = u16at(p + 2);
  let body: usize = p + 4 + (flags & 0x8000 ? 4 : 0) + (flags & 0x2000 ? 4 : 0) + (flags & 0x1000 ? 4 : 0);
  if (body > end) return D_DAMAGED;
  switch (ptype) {
    case 0x0800:
    case 0x86dd:
      return fromEtherType(ptype, body, end, inner(depth));
    case 0x6558: // transparent Ethernet bridging
      return fromEthernet(body, end, inner(depth));
    case 0x88be: // ERSPAN type II: an 8-byte header when GRE carries a sequence number; type I has none
      if (flags & 0x1000) body += 8;
      return fromEthernet(body, end, inner(depth));
    case 0x22eb: // ERSPAN type III: 12 bytes, and an 8-byte platform subheader when the O bit is set
      if (body + 12 > end) return D_DAMAGED;
      body += 12 + (u8at(body + 11) & 1 ? 8 : 0);
      return fromEthernet(body, end, inner(depth));
    default:
      return D_NON_IP;
  }
}
