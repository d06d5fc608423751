/**
 * Capture builders for tests and fixtures: craft IPv4/IPv6 TCP/UDP packets, wrap them in any supported
 * link layer, and write pcap or pcapng bytes. Pure and deterministic; other modules' tests (protocol
 * dissectors, detectors) can use it to turn a scripted conversation into a capture.
 */

export interface TcpSpec {
  src: string;
  dst: string;
  sport: number;
  dport: number;
  seq: number;
  ack?: number;
  flags?: number;
  window?: number;
  payload?: Uint8Array | string;
}

export interface UdpSpec {
  src: string;
  dst: string;
  sport: number;
  dport: number;
  payload?: Uint8Array | string;
}

const enc = new TextEncoder();
const bytes = (p: Uint8Array | string | undefined): Uint8Array =>
  p === undefined ? new Uint8Array(0) : typeof p === 'string' ? enc.encode(p) : p;

export function parseIp(s: string): Uint8Array {
  if (!s.includes(':')) {
    const parts = s.split('.').map(Number);
    if (parts.length !== 4 || parts.some((x) => !(x >= 0 && x <= 255))) throw new Error(`bad IPv4 ${s}`);
    return Uint8Array.from(parts);
  }
  const [head, tail] = s.includes('::') ? s.split('::') : [s, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const words = [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t].map((x) =>
    Number.parseInt(x, 16),
  );
  if (words.length !== 8) throw new Error(`bad IPv6 ${s}`);
  const out = new Uint8Array(16);
  words.forEach((w, i) => {
    out[i * 2] = w >> 8;
    out[i * 2 + 1] = w & 255;
  });
  return out;
}

function checksum(buf: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i + 1 < buf.length; i += 2) sum += (buf[i]! << 8) | buf[i + 1]!;
  if (buf.length & 1) sum += buf[buf.length - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function tcpSegment(t: TcpSpec): Uint8Array {
  const pl = bytes(t.payload);
  const seg = new Uint8Array(20 + pl.length);
  const dv = new DataView(seg.buffer);
  dv.setUint16(0, t.sport);
  dv.setUint16(2, t.dport);
  dv.setUint32(4, t.seq >>> 0);
  dv.setUint32(8, (t.ack ?? 0) >>> 0);
  seg[12] = 5 << 4;
  seg[13] = t.flags ?? 0x18;
  dv.setUint16(14, t.window ?? 65535);
  seg.set(pl, 20);
  return seg;
}

function udpDatagram(u: UdpSpec): Uint8Array {
  const pl = bytes(u.payload);
  const seg = new Uint8Array(8 + pl.length);
  const dv = new DataView(seg.buffer);
  dv.setUint16(0, u.sport);
  dv.setUint16(2, u.dport);
  dv.setUint16(4, seg.length);
  seg.set(pl, 8);
  return seg;
}

/** IPv4 packet around an L4 segment. `options` are raw option bytes (padded to 4). */
export function ipv4(
  src: string,
  dst: string,
  proto: number,
  l4: Uint8Array,
  o: { options?: Uint8Array; fragOffset?: number; moreFragments?: boolean; id?: number } = {},
): Uint8Array {
  const opt = o.options ?? new Uint8Array(0);
  const optLen = (opt.length + 3) & ~3;
  const ihl = 20 + optLen;
  const p = new Uint8Array(ihl + l4.length);
  const dv = new DataView(p.buffer);
  p[0] = 0x40 | (ihl / 4);
  dv.setUint16(2, p.length);
  dv.setUint16(4, o.id ?? 1);
  dv.setUint16(6, ((o.moreFragments ? 1 : 0) << 13) | ((o.fragOffset ?? 0) >> 3));
  p[8] = 64;
  p[9] = proto;
  p.set(parseIp(src), 12);
  p.set(parseIp(dst), 16);
  p.set(opt, 20);
  dv.setUint16(10, checksum(p.subarray(0, ihl)));
  p.set(l4, ihl);
  return p;
}

export interface V6Ext {
  /** 0 hop-by-hop, 43 routing, 44 fragment, 51 AH, 60 destination options */
  type: 0 | 43 | 44 | 51 | 60;
  fragOffset?: number;
  more?: boolean;
}

/** IPv6 packet with optional extension headers in the given order. */
export function ipv6(
  src: string,
  dst: string,
  proto: number,
  l4: Uint8Array,
  exts: V6Ext[] = [],
): Uint8Array {
  const parts: Uint8Array[] = [];
  for (let i = 0; i < exts.length; i++) {
    const e = exts[i]!;
    const next = i + 1 < exts.length ? exts[i + 1]!.type : proto;
    let h: Uint8Array;
    if (e.type === 44) {
      h = new Uint8Array(8);
      h[0] = next;
      const fo = ((e.fragOffset ?? 0) & ~7) | (e.more ? 1 : 0);
      h[2] = fo >> 8;
      h[3] = fo & 255;
    } else if (e.type === 51) {
      h = new Uint8Array(24); // AH: (len+2)*4 = 24 -> len = 4
      h[0] = next;
      h[1] = 4;
    } else {
      h = new Uint8Array(16); // (len+1)*8 = 16 -> len = 1, padded with PadN
      h[0] = next;
      h[1] = 1;
      h[2] = 1;
      h[3] = 12;
    }
    parts.push(h);
  }
  const extLen = parts.reduce((a, b) => a + b.length, 0);
  const p = new Uint8Array(40 + extLen + l4.length);
  const dv = new DataView(p.buffer);
  p[0] = 0x60;
  dv.setUint16(4, extLen + l4.length);
  p[6] = exts.length ? exts[0]!.type : proto;
  p[7] = 64;
  p.set(parseIp(src), 8);
  p.set(parseIp(dst), 24);
  let off = 40;
  for (const h of parts) {
    p.set(h, off);
    off += h.length;
  }
  p.set(l4, off);
  return p;
}

/** A TCP segment in IPv4 or IPv6 (by address syntax). */
export function tcp(t: TcpSpec, exts?: V6Ext[]): Uint8Array {
  const seg = tcpSegment(t);
  return t.src.includes(':') ? ipv6(t.src, t.dst, 6, seg, exts) : ipv4(t.src, t.dst, 6, seg);
}

export function udp(u: UdpSpec, exts?: V6Ext[]): Uint8Array {
  const seg = udpDatagram(u);
  return u.src.includes(':') ? ipv6(u.src, u.dst, 17, seg, exts) : ipv4(u.src, u.dst, 17, seg);
}

const etherTypeOf = (ip: Uint8Array): number => (ip[0]! >> 4 === 6 ? 0x86dd : 0x0800);

/** Ethernet II frame; `tags` are [tpid, vid] pairs outermost first (0x8100 802.1Q, 0x88a8 802.1ad). */
export function ether(
  ip: Uint8Array,
  tags: [number, number][] = [],
  etherType = etherTypeOf(ip),
): Uint8Array {
  const f = new Uint8Array(14 + tags.length * 4 + ip.length);
  const dv = new DataView(f.buffer);
  f.set([0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1], 0);
  let off = 12;
  for (const [tpid, vid] of tags) {
    dv.setUint16(off, tpid);
    dv.setUint16(off + 2, vid);
    off += 4;
  }
  dv.setUint16(off, etherType);
  f.set(ip, off + 2);
  return f;
}

/** Linux cooked capture v1 (DLT 113). */
export function sll(ip: Uint8Array): Uint8Array {
  const f = new Uint8Array(16 + ip.length);
  const dv = new DataView(f.buffer);
  dv.setUint16(0, 0); // packet to us
  dv.setUint16(2, 1); // ARPHRD_ETHER
  dv.setUint16(4, 6);
  dv.setUint16(14, etherTypeOf(ip));
  f.set(ip, 16);
  return f;
}

/** Linux cooked capture v2 (DLT 276). */
export function sll2(ip: Uint8Array): Uint8Array {
  const f = new Uint8Array(20 + ip.length);
  const dv = new DataView(f.buffer);
  dv.setUint16(0, etherTypeOf(ip));
  dv.setUint32(4, 2); // ifindex
  dv.setUint16(8, 1); // ARPHRD_ETHER
  f[11] = 6;
  f.set(ip, 20);
  return f;
}

/** BSD loopback: NULL (DLT 0, host byte order, here little-endian) or LOOP (DLT 108, network order). */
export function loopback(ip: Uint8Array, kind: 'null' | 'loop'): Uint8Array {
  const f = new Uint8Array(4 + ip.length);
  const af = ip[0]! >> 4 === 6 ? (kind === 'loop' ? 24 : 30) : 2;
  new DataView(f.buffer).setUint32(0, af, kind === 'null');
  f.set(ip, 4);
  return f;
}

export interface PcapRecord {
  ts: number;
  data: Uint8Array;
  origLen?: number;
}

export function writePcap(
  recs: PcapRecord[],
  o: { linkType: number; nano?: boolean; bigEndian?: boolean; snaplen?: number },
): Uint8Array {
  const le = !o.bigEndian;
  const total = 24 + recs.reduce((a, r) => a + 16 + r.data.length, 0);
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, o.nano ? 0xa1b23c4d : 0xa1b2c3d4, le);
  dv.setUint16(4, 2, le);
  dv.setUint16(6, 4, le);
  dv.setUint32(16, o.snaplen ?? 262144, le);
  dv.setUint32(20, o.linkType, le);
  let off = 24;
  const div = o.nano ? 1e9 : 1e6;
  for (const r of recs) {
    const sec = Math.floor(r.ts);
    dv.setUint32(off, sec, le);
    dv.setUint32(off + 4, Math.round((r.ts - sec) * div), le);
    dv.setUint32(off + 8, r.data.length, le);
    dv.setUint32(off + 12, r.origLen ?? r.data.length, le);
    out.set(r.data, off + 16);
    off += 16 + r.data.length;
  }
  return out;
}

export interface NgInterface {
  linkType: number;
  snaplen?: number;
  /** if_tsresol option byte (default: none, meaning microseconds). */
  tsresol?: number;
}

export type NgBlock =
  | { type: 'epb'; iface: number; ts: number; data: Uint8Array; origLen?: number }
  | { type: 'spb'; data: Uint8Array; origLen?: number }
  | { type: 'pb'; iface: number; ts: number; data: Uint8Array }
  | { type: 'raw'; blockType: number; body: Uint8Array };

export interface NgSection {
  bigEndian?: boolean;
  interfaces: NgInterface[];
  blocks: NgBlock[];
}

const pad4 = (n: number): number => (n + 3) & ~3;

function ngBlock(type: number, body: Uint8Array, le: boolean): Uint8Array {
  const len = 12 + pad4(body.length);
  const b = new Uint8Array(len);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, type, le);
  dv.setUint32(4, len, le);
  b.set(body, 8);
  dv.setUint32(len - 4, len, le);
  return b;
}

function tsUnits(ts: number, tsresol: number | undefined): bigint {
  const v = tsresol ?? 6;
  const perSec = v & 0x80 ? 2 ** (v & 0x7f) : 10 ** v;
  // Split to keep nanosecond precision for realistic epoch values.
  const sec = Math.floor(ts);
  return BigInt(sec) * BigInt(perSec) + BigInt(Math.round((ts - sec) * perSec));
}

export function writePcapng(sections: NgSection[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const s of sections) {
    const le = !s.bigEndian;
    const shb = new Uint8Array(16);
    const sdv = new DataView(shb.buffer);
    sdv.setUint32(0, 0x1a2b3c4d, le);
    sdv.setUint16(4, 1, le);
    sdv.setBigInt64(8, -1n, le);
    parts.push(ngBlock(0x0a0d0d0a, shb, le));
    for (const i of s.interfaces) {
      const opts = i.tsresol !== undefined ? 12 : 0;
      const body = new Uint8Array(8 + opts);
      const dv = new DataView(body.buffer);
      dv.setUint16(0, i.linkType, le);
      dv.setUint32(4, i.snaplen ?? 0, le);
      if (i.tsresol !== undefined) {
        dv.setUint16(8, 9, le);
        dv.setUint16(10, 1, le);
        body[12] = i.tsresol;
        // opt_endofopt is the zero bytes at 16..19
      }
      parts.push(ngBlock(1, body, le));
    }
    for (const b of s.blocks) {
      if (b.type === 'raw') {
        parts.push(ngBlock(b.blockType, b.body, le));
      } else if (b.type === 'spb') {
        const body = new Uint8Array(4 + pad4(b.data.length));
        new DataView(body.buffer).setUint32(0, b.origLen ?? b.data.length, le);
        body.set(b.data, 4);
        parts.push(ngBlock(3, body, le));
      } else {
        const body = new Uint8Array(20 + pad4(b.data.length));
        const dv = new DataView(body.buffer);
        const t = tsUnits(b.ts, s.interfaces[b.iface]?.tsresol);
        if (b.type === 'epb') dv.setUint32(0, b.iface, le);
        else dv.setUint16(0, b.iface, le);
        dv.setUint32(4, Number(t >> 32n), le);
        dv.setUint32(8, Number(t & 0xffffffffn), le);
        dv.setUint32(12, b.data.length, le);
        dv.setUint32(16, b.type === 'epb' ? (b.origLen ?? b.data.length) : b.data.length, le);
        body.set(b.data, 20);
        parts.push(ngBlock(b.type === 'epb' ? 6 : 2, body, le));
      }
    }
  }
  const total = parts.reduce((a, p) => a + p.length, 0);
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/**
 * A scripted TCP conversation (handshake, alternating payloads with correct seq/ack, FIN close), as
 * IP packets with timestamps. `client`/`server` are "addr:port" (IPv6 as "[addr]:port").
 */
export function conversation(
  client: string,
  server: string,
  turns: { from: 'c' | 's'; data: string | Uint8Array; dt?: number }[],
  o: { t0?: number; isnC?: number; isnS?: number; handshake?: boolean; close?: boolean } = {},
): { ts: number; ip: Uint8Array }[] {
  const ep = (s: string): [string, number] => {
    const m = /^\[?(.+?)\]?:(\d+)$/.exec(s);
    if (!m) throw new Error(`bad endpoint ${s}`);
    return [m[1]!, Number(m[2])];
  };
  const [ca, cp] = ep(client);
  const [sa, sp] = ep(server);
  let ts = o.t0 ?? 1_700_000_000;
  let cs = o.isnC ?? 1000;
  let ss = o.isnS ?? 5000;
  const out: { ts: number; ip: Uint8Array }[] = [];
  const c = (flags: number, payload?: Uint8Array | string): void => {
    out.push({ ts, ip: tcp({ src: ca, dst: sa, sport: cp, dport: sp, seq: cs, ack: ss, flags, payload }) });
  };
  const s = (flags: number, payload?: Uint8Array | string): void => {
    out.push({ ts, ip: tcp({ src: sa, dst: ca, sport: sp, dport: cp, seq: ss, ack: cs, flags, payload }) });
  };
  if (o.handshake !== false) {
    c(0x02);
    cs = (cs + 1) >>> 0;
    ts += 0.01;
    s(0x12);
    ss = (ss + 1) >>> 0;
    ts += 0.01;
    c(0x10);
  }
  for (const t of turns) {
    ts += t.dt ?? 0.05;
    const len = bytes(t.data).length;
    if (t.from === 'c') {
      c(0x18, t.data);
      cs = (cs + len) >>> 0;
    } else {
      s(0x18, t.data);
      ss = (ss + len) >>> 0;
    }
  }
  if (o.close !== false) {
    ts += 0.01;
    c(0x11);
    cs = (cs + 1) >>> 0;
    ts += 0.01;
    s(0x11);
    ss = (ss + 1) >>> 0;
    ts += 0.01;
    c(0x10);
  }
  return out;
}

/** The parts one after the other, in a new array. */
export const concat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
};

/** A packet as a traffic mirror delivers it: `frame` (Ethernet) in VXLAN (RFC 7348) over UDP 4789. */
export function vxlan(frame: Uint8Array, o: { vni?: number; src?: string; dst?: string } = {}): Uint8Array {
  const vni = o.vni ?? 42;
  const hdr = Uint8Array.from([0x08, 0, 0, 0, (vni >> 16) & 255, (vni >> 8) & 255, vni & 255, 0]);
  return udp({
    src: o.src ?? '172.31.0.10',
    dst: o.dst ?? '172.31.0.20',
    sport: 49152 + (vni & 0x3fff),
    dport: 4789,
    payload: concat(hdr, frame),
  });
}

/** GENEVE (RFC 8926) over UDP 6081 with `optionWords` 4-byte words of options; `ptype` says what `inner` is. */
export function geneve(inner: Uint8Array, o: { ptype?: number; optionWords?: number } = {}): Uint8Array {
  const words = o.optionWords ?? 0;
  const ptype = o.ptype ?? 0x6558;
  const hdr = new Uint8Array(8 + words * 4);
  hdr[0] = words & 0x3f;
  hdr[2] = ptype >> 8;
  hdr[3] = ptype & 255;
  hdr[6] = 7; // VNI 7
  return udp({
    src: '10.200.0.1',
    dst: '10.200.0.2',
    sport: 50000,
    dport: 6081,
    payload: concat(hdr, inner),
  });
}

/**
 * GRE (RFC 2784/2890) over IPv4 with an optional key and sequence number; `ptype` 0x0800/0x86dd for IP,
 * 0x6558 for Ethernet, 0x88be for ERSPAN II (give `erspan: 2`) or 0x22eb for ERSPAN III (`erspan: 3`,
 * `subheader` for its optional 8-byte platform subheader).
 */
export function gre(
  inner: Uint8Array,
  o: {
    ptype: number;
    key?: number;
    seq?: number;
    erspan?: 2 | 3;
    subheader?: boolean;
    flags?: number;
  },
): Uint8Array {
  const extra: number[] = [];
  let flags = o.flags ?? 0;
  const u32be = (x: number) => [(x >>> 24) & 255, (x >>> 16) & 255, (x >>> 8) & 255, x & 255];
  if (o.key !== undefined) {
    flags |= 0x2000;
    extra.push(...u32be(o.key));
  }
  if (o.seq !== undefined) {
    flags |= 0x1000;
    extra.push(...u32be(o.seq));
  }
  const span =
    o.erspan === 2
      ? new Uint8Array(8).fill(0x11)
      : o.erspan === 3
        ? Uint8Array.from([
            0x20,
            0,
            0,
            1,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            o.subheader ? 1 : 0,
            ...(o.subheader ? new Array(8).fill(0x33) : []),
          ])
        : new Uint8Array(0);
  const hdr = Uint8Array.from([flags >> 8, flags & 255, o.ptype >> 8, o.ptype & 255, ...extra]);
  return ipv4('192.0.2.100', '192.0.2.200', 47, concat(hdr, span, inner));
}

/**
 * `ip` inside `depth` random tunnels (r gives numbers in [0, 1)), each one of: VXLAN (its Ethernet frame tagged now
 * and then), GENEVE with or without an Ethernet frame and with 0-3 option words, GRE over IP with or without key and
 * sequence, ERSPAN II, ERSPAN III with or without its subheader, IP-in-IP or 6in4 over IPv4 or over IPv6. For the
 * decoder's hostile-input tests and the fuzzer (bench/fuzz.ts).
 */
export function randomTunnels(ip: Uint8Array, r: () => number, depth: number): Uint8Array {
  let p = ip;
  const ptype = () => (p[0]! >> 4 === 6 ? 0x86dd : 0x0800);
  const inIp = () => (p[0]! >> 4 === 6 ? 41 : 4);
  for (let i = 0; i < depth; i++) {
    const w = Math.floor(r() * 7);
    p =
      w === 0
        ? vxlan(ether(p, r() < 0.3 ? [[0x8100, 7]] : []))
        : w === 1
          ? geneve(r() < 0.5 ? ether(p) : p, {
              ...(r() < 0.5 ? {} : { ptype: ptype() }),
              optionWords: Math.floor(r() * 4),
            })
          : w === 2
            ? gre(p, { ptype: ptype(), ...(r() < 0.5 ? { key: 1, seq: 2 } : {}) })
            : w === 3
              ? gre(ether(p), { ptype: 0x88be, seq: 1, erspan: 2 })
              : w === 4
                ? gre(ether(p), { ptype: 0x22eb, seq: 1, erspan: 3, subheader: r() < 0.5 })
                : w === 5
                  ? ipv4('192.0.2.1', '192.0.2.2', inIp(), p)
                  : ipv6('2001:db8::a', '2001:db8::b', inIp(), p);
  }
  return p;
}
