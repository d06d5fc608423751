import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mulberry32 } from '../../util/random.ts';
import { decodePacket, formatIp, MAX_TUNNEL_DEPTH, PacketDecoder, type PacketView } from './decode.ts';
import {
  concat,
  ether,
  geneve,
  gre,
  ipv4,
  ipv6,
  loopback,
  parseIp,
  randomTunnels,
  sll,
  sll2,
  tcp,
  udp,
  vxlan,
} from './testkit.ts';

const v4 = tcp({
  src: '192.0.2.1',
  dst: '198.51.100.7',
  sport: 40001,
  dport: 3333,
  seq: 77,
  ack: 9,
  flags: 0x18,
  payload: 'mining.subscribe',
});
const v6 = tcp({
  src: '2001:db8::1',
  dst: '2001:db8:0:1::ff',
  sport: 40002,
  dport: 443,
  seq: 5,
  payload: 'hi',
});

function check(
  linkType: number,
  frame: Uint8Array,
  want: { src: string; dst: string; payload: string },
): void {
  const d = decodePacket(linkType, frame);
  assert.ok(d, `link ${linkType} decodes`);
  assert.equal(d.src, want.src);
  assert.equal(d.dst, want.dst);
  assert.equal(new TextDecoder().decode(d.payload), want.payload);
}

const W4 = { src: '192.0.2.1', dst: '198.51.100.7', payload: 'mining.subscribe' };
const W6 = { src: '2001:db8::1', dst: '2001:db8:0:1::ff', payload: 'hi' };

describe('decodePacket: link types', () => {
  it('Ethernet, IPv4 TCP with all header fields', () => {
    const d = decodePacket(1, ether(v4));
    assert.ok(d);
    assert.equal(d.ipVersion, 4);
    assert.equal(d.proto, 6);
    assert.equal(d.srcPort, 40001);
    assert.equal(d.dstPort, 3333);
    assert.deepEqual(d.tcp, { seq: 77, ack: 9, flags: 0x18, window: 65535 });
    assert.equal(new TextDecoder().decode(d.payload), 'mining.subscribe');
  });
  it('Ethernet with 802.1Q, 802.1ad and QinQ (0x9100) tags', () => {
    check(1, ether(v4, [[0x8100, 10]]), W4);
    check(
      1,
      ether(v4, [
        [0x88a8, 100],
        [0x8100, 10],
      ]),
      W4,
    );
    check(
      1,
      ether(v6, [
        [0x9100, 100],
        [0x8100, 10],
      ]),
      W6,
    );
  });
  it('Linux cooked SLL and SLL2', () => {
    check(113, sll(v4), W4);
    check(113, sll(v6), W6);
    check(276, sll2(v4), W4);
    check(276, sll2(v6), W6);
  });
  it('raw IP under every link type that means raw', () => {
    for (const lt of [101, 12, 14, 228]) check(lt, v4, W4);
    for (const lt of [101, 12, 14, 229]) check(lt, v6, W6);
  });
  it('BSD loopback NULL and LOOP', () => {
    check(0, loopback(v4, 'null'), W4);
    check(0, loopback(v6, 'null'), W6);
    check(108, loopback(v4, 'loop'), W4);
    check(108, loopback(v6, 'loop'), W6);
  });
  it('ignores Ethernet padding after a short IP packet', () => {
    const small = tcp({ src: '10.0.0.1', dst: '10.0.0.2', sport: 1, dport: 2, seq: 1, payload: 'x' });
    const padded = new Uint8Array(14 + small.length + 5);
    padded.set(ether(small));
    assert.equal(decodePacket(1, padded)?.payload.length, 1);
  });
});

describe('decodePacket: IP details', () => {
  it('IPv4 options', () => {
    const seg = v4.subarray(20);
    const withOpts = ipv4('192.0.2.1', '198.51.100.7', 6, seg, {
      options: Uint8Array.from([0x94, 4, 0, 0, 1, 1, 1, 0]),
    });
    check(101, withOpts, W4);
  });
  it('IPv4 fragments: first one usable and flagged, later ones counted and skipped', () => {
    const dec = new PacketDecoder();
    const seg = udp({
      src: '10.0.0.1',
      dst: '10.0.0.2',
      sport: 53,
      dport: 5353,
      payload: 'abcdefgh',
    }).subarray(20);
    const first = dec.decode(101, ipv4('10.0.0.1', '10.0.0.2', 17, seg, { moreFragments: true }));
    assert.ok(first);
    assert.equal(first.fragment, true);
    assert.equal(first.srcPort, 53);
    assert.equal(dec.decode(101, ipv4('10.0.0.1', '10.0.0.2', 17, seg, { fragOffset: 1480 })), null);
    assert.equal(dec.stats.fragments, 1);
  });
  it('IPv6 extension headers: hop-by-hop, routing, destination options, AH, fragment', () => {
    const seg = v6.subarray(40);
    const pkt = ipv6('2001:db8::1', '2001:db8:0:1::ff', 6, seg, [
      { type: 0 },
      { type: 43 },
      { type: 60 },
      { type: 51 },
      { type: 44, more: true },
    ]);
    check(101, pkt, W6);
    const dec = new PacketDecoder();
    assert.equal(
      dec.decode(101, ipv6('2001:db8::1', '2001:db8::2', 6, seg, [{ type: 44, fragOffset: 8 }])),
      null,
    );
    assert.equal(dec.stats.fragments, 1);
  });
  it('UDP payload and reason counters for non-IP, other protocols, damage, unknown links', () => {
    const dec = new PacketDecoder();
    const u = dec.decode(
      1,
      ether(udp({ src: '10.1.1.1', dst: '8.8.8.8', sport: 5000, dport: 53, payload: 'q' })),
    );
    assert.ok(u);
    assert.equal(u.proto, 17);
    assert.equal(u.tcp, undefined);
    assert.equal(u.payload.length, 1);
    assert.equal(dec.decode(1, ether(new Uint8Array(28), [], 0x0806)), null); // ARP
    assert.equal(dec.decode(101, ipv4('10.0.0.1', '10.0.0.2', 1, new Uint8Array(8))), null); // ICMP
    assert.equal(dec.decode(1, ether(v4).subarray(0, 30)), null); // truncated IP header
    assert.equal(dec.decode(147, v4), null);
    assert.deepEqual(dec.stats, {
      ok: 1,
      nonIp: 1,
      unsupportedLink: 1,
      otherProto: 1,
      fragments: 0,
      damaged: 1,
      tunnelled: 0,
    });
  });
  it('snapped packets keep the header payload length', () => {
    const f = ether(v4);
    const d = decodePacket(1, f.subarray(0, f.length - 6));
    assert.ok(d);
    assert.equal(d.payload.length, 'mining.subscribe'.length - 6);
    assert.equal(d.payloadLen, 'mining.subscribe'.length);
  });
  it('the payload is a view, not a copy', () => {
    const f = ether(v4);
    const d = decodePacket(1, f);
    assert.equal(d?.payload.buffer, f.buffer);
  });
});

describe('PacketDecoder.decodeRange', () => {
  it('decodes a frame lying inside a larger buffer like the frame on its own, offsets into the buffer', () => {
    for (const [link, frame] of [
      [
        1,
        ether(
          tcp({
            src: '10.0.0.1',
            dst: '10.0.0.2',
            sport: 40000,
            dport: 3333,
            seq: 5,
            payload: 'mining.subscribe',
          }),
        ),
      ],
      [1, ether(udp({ src: '2001:db8::1', dst: '2001:db8::53', sport: 5353, dport: 53, payload: 'q' }))],
      [113, sll(tcp({ src: '10.0.0.1', dst: '10.0.0.2', sport: 1, dport: 2, seq: 5, payload: '' }))],
    ] as const) {
      const pad = 37;
      const big = new Uint8Array(pad + frame.length + 11).fill(0xee);
      big.set(frame, pad);
      const alone = new PacketDecoder().decode(link, frame);
      const inside = new PacketDecoder().decodeRange(link, big, pad, pad + frame.length);
      assert.ok(alone && inside);
      for (const k of [
        'ipVersion',
        'src',
        'dst',
        'proto',
        'srcPort',
        'dstPort',
        'payloadLen',
        'fragment',
      ] as const)
        assert.deepEqual(inside[k], alone[k], k);
      assert.deepEqual([...inside.payload], [...alone.payload]);
      assert.equal(inside.raw, big);
      assert.equal(inside.srcOff, alone.srcOff + pad);
      assert.equal(inside.payloadOff, alone.payloadOff + pad);
      assert.equal(inside.payloadEnd - inside.payloadOff, alone.payload.length);
    }
  });
  it('bounds checks stop at the end of the range, not of the buffer', () => {
    const frame = ether(
      tcp({ src: '10.0.0.1', dst: '10.0.0.2', sport: 1, dport: 2, seq: 5, payload: 'abcdef' }),
    );
    const big = new Uint8Array(frame.length + 100);
    big.set(frame, 0);
    const d = new PacketDecoder();
    assert.equal(d.decodeRange(1, big, 0, 30), null); // cut inside the IP header
    assert.equal(d.stats.damaged, 1);
    const snapped = d.decodeRange(1, big, 0, frame.length - 2);
    assert.ok(snapped);
    assert.equal(snapped.payload.length, 4);
    assert.equal(snapped.payloadLen, 6);
  });
});

describe('Linux NFLOG (tcpdump -i nflog:N)', () => {
  /** An NFLOG record: header, a packet-header TLV, then the packet TLV, fields in `le` byte order. */
  const nflog = (ip: Uint8Array, le = true) => {
    const tlv = (type: number, body: Uint8Array) => {
      const len = 4 + body.length;
      const out = new Uint8Array((len + 3) & ~3);
      const dv = new DataView(out.buffer);
      dv.setUint16(0, len, le);
      dv.setUint16(2, type, le);
      out.set(body, 4);
      return out;
    };
    return concat(
      Uint8Array.from([2, 0, 0, 5]),
      tlv(1, Uint8Array.from([8, 0, 3, 0])),
      tlv(10, new Uint8Array(5)),
      tlv(9, ip),
    );
  };
  it('finds the packet among the TLVs, in either byte order', () => {
    check(239, nflog(v4), W4);
    check(239, nflog(v6), W6);
    check(239, nflog(v4, false), W4);
  });
  it('a record without a packet is not IP; cut TLVs are damage', () => {
    const dec = new PacketDecoder();
    assert.equal(dec.decode(239, Uint8Array.from([2, 0, 0, 5, 8, 0, 1, 0, 8, 0, 3, 0])), null);
    assert.equal(dec.stats.nonIp, 1);
    assert.equal(dec.decode(239, nflog(v4).subarray(0, 30)), null); // cut inside the packet TLV
    assert.equal(dec.stats.damaged, 1);
  });
});

describe('tunnels: the innermost conversation is decoded', () => {
  /** Decodes with a fresh decoder: the packet, and how many packets the decoder counted as tunnelled. */
  const open = (linkType: number, frame: Uint8Array) => {
    const dec = new PacketDecoder();
    const d = dec.decode(linkType, frame);
    return { d, stats: dec.stats };
  };
  const expectInner = (linkType: number, frame: Uint8Array, want: typeof W4) => {
    const { d, stats } = open(linkType, frame);
    assert.ok(d, 'decodes');
    assert.equal(d.src, want.src);
    assert.equal(d.dst, want.dst);
    assert.equal(new TextDecoder().decode(d.payload), want.payload);
    assert.equal(stats.tunnelled, 1);
    assert.equal(stats.ok, 1);
    return d;
  };
  it('VXLAN (a VPC traffic mirror session), with a VLAN tag inside', () => {
    const d = expectInner(1, ether(vxlan(ether(v4))), W4);
    assert.equal(d.dstPort, 3333);
    assert.equal(d.tcp?.seq, 77);
    expectInner(1, ether(vxlan(ether(v6, [[0x8100, 5]]))), W6);
  });
  it('GENEVE with options, carrying Ethernet or IP', () => {
    expectInner(1, ether(geneve(ether(v4), { optionWords: 3 })), W4);
    expectInner(101, geneve(v6, { ptype: 0x86dd }), W6);
  });
  it('GRE with key and sequence, transparent Ethernet bridging, ERSPAN II and III', () => {
    expectInner(1, ether(gre(v4, { ptype: 0x0800, key: 9, seq: 1 })), W4);
    expectInner(101, gre(v6, { ptype: 0x86dd }), W6);
    expectInner(101, gre(ether(v4), { ptype: 0x6558 }), W4);
    expectInner(101, gre(ether(v4), { ptype: 0x88be, seq: 3, erspan: 2 }), W4);
    expectInner(101, gre(ether(v4), { ptype: 0x88be }), W4); // ERSPAN I: no header of its own
    expectInner(101, gre(ether(v4), { ptype: 0x22eb, seq: 3, erspan: 3 }), W4);
    expectInner(101, gre(ether(v6), { ptype: 0x22eb, seq: 3, erspan: 3, subheader: true }), W6);
  });
  it('IPv4 in IPv4, IPv6 in IPv4 (6in4), IPv4 in IPv6', () => {
    expectInner(101, ipv4('192.0.2.100', '192.0.2.200', 4, v4), W4);
    expectInner(1, ether(ipv4('192.0.2.100', '192.0.2.200', 41, v6)), W6);
    expectInner(101, ipv6('2001:db8::a', '2001:db8::b', 4, v4), W4);
  });
  it('tunnels in tunnels up to the depth bound; deeper is damage, not recursion', () => {
    let p = v4;
    for (let i = 0; i < MAX_TUNNEL_DEPTH; i++) p = i % 2 ? vxlan(ether(p)) : gre(p, { ptype: 0x0800 });
    expectInner(101, p, W4);
    const deeper = gre(p, { ptype: 0x0800 });
    const { d, stats } = open(101, deeper);
    assert.equal(d, null);
    assert.equal(stats.damaged, 1);
    assert.equal(stats.tunnelled, 0);
  });
  it('port 4789 without a VXLAN header is an ordinary datagram; GRE v1 (PPTP) and damage are counted', () => {
    const plain = open(
      1,
      ether(udp({ src: '10.0.0.1', dst: '10.0.0.2', sport: 1, dport: 4789, payload: 'hello, world' })),
    );
    assert.ok(plain.d);
    assert.equal(plain.d.dstPort, 4789);
    assert.equal(new TextDecoder().decode(plain.d.payload), 'hello, world');
    assert.equal(plain.stats.tunnelled, 0);
    const pptp = open(101, gre(v4, { ptype: 0x880b, flags: 0x0001 }));
    assert.equal(pptp.d, null);
    assert.equal(pptp.stats.otherProto, 1);
    const cut = gre(v4, { ptype: 0x0800, key: 1 });
    const short = open(101, cut.subarray(0, 20 + 6));
    assert.equal(short.d, null);
    assert.equal(short.stats.damaged, 1);
    const arp = open(1, ether(vxlan(ether(new Uint8Array(28), [], 0x0806))));
    assert.equal(arp.d, null);
    assert.equal(arp.stats.nonIp, 1);
  });
});

describe('tunnels on hostile input', () => {
  it('random payloads in random tunnel stacks, mutated: never a throw, never deeper than the bound', () => {
    const r = mulberry32(11);
    const dec = new PacketDecoder();
    const rnd = (n: number) => Uint8Array.from({ length: n }, () => Math.floor(r() * 256));
    for (let k = 0; k < 5000; k++) {
      let p: Uint8Array = r() < 0.5 ? v4 : rnd(Math.floor(r() * 80));
      p = randomTunnels(p, r, Math.floor(r() * 7));
      const f = ether(p).slice();
      // Flip a few bytes past the outer Ethernet header.
      for (let i = 0; i < 3; i++)
        if (f.length > 14) f[14 + Math.floor(r() * (f.length - 14))] = Math.floor(r() * 256);
      const d = dec.decode(1, r() < 0.3 ? f.subarray(0, Math.floor(r() * f.length)) : f);
      if (d) {
        assert.ok((d as PacketView).tunnelDepth <= MAX_TUNNEL_DEPTH);
        assert.ok(d.payloadOff! <= d.payloadEnd! && d.payloadEnd! <= f.length);
      }
    }
    const s = dec.stats;
    assert.ok(s.tunnelled > 0 && s.damaged > 0, JSON.stringify(s));
  });
});

describe('decoding in the core on hostile input', () => {
  it('random bytes under every link type: one reason per frame, offsets inside the frame, the bytes after it unread', () => {
    const r = mulberry32(5);
    const dec = new PacketDecoder();
    let ok = 0;
    for (let k = 0; k < 20000; k++) {
      const lt = [0, 1, 12, 14, 101, 108, 113, 228, 229, 239, 276, 147][k % 12]!;
      const n = Math.floor(r() * 120);
      const f = Uint8Array.from({ length: n }, () => Math.floor(r() * 256));
      // A plausible IP header now and then, so that decoding gets past it.
      if (n > 40 && r() < 0.5) {
        const at = [0, 4, 14, 16, 20][Math.floor(r() * 5)]!;
        f[at] = r() < 0.5 ? 0x45 : 0x60;
        f[at + 9] = r() < 0.5 ? 6 : 17;
        f[at + 6] = 0x40;
        f[at + 7] = 0;
        if (lt === 1) f.set([8, 0], 12);
      }
      const before = Object.values(dec.stats).reduce((a, b) => a + b, 0) - dec.stats.tunnelled;
      // The same frame followed by different bytes decodes the same: nothing past the frame is read.
      const tail = (fill: number) => {
        const b = new Uint8Array(n + 64).fill(fill);
        b.set(f);
        return b;
      };
      const a = dec.decodeRange(lt, tail(0x00), 0, n);
      const snapA =
        a && JSON.stringify([a.src, a.dst, a.srcPort, a.dstPort, a.payloadOff, a.payloadEnd, a.payloadLen]);
      const b = dec.decodeRange(lt, tail(0xff), 0, n);
      const snapB =
        b && JSON.stringify([b.src, b.dst, b.srcPort, b.dstPort, b.payloadOff, b.payloadEnd, b.payloadLen]);
      assert.equal(snapB, snapA);
      const after = Object.values(dec.stats).reduce((x, y) => x + y, 0) - dec.stats.tunnelled;
      assert.equal(after - before, 2);
      if (b) {
        ok++;
        assert.ok(b.payloadOff <= b.payloadEnd);
        assert.ok(
          b.srcOff + (b.ipVersion === 4 ? 4 : 16) <= n && b.dstOff + (b.ipVersion === 4 ? 4 : 16) <= n,
        );
        if (b.payloadEnd > b.payloadOff) assert.ok(b.payloadEnd <= n);
      }
    }
    assert.ok(ok > 100, `${ok} decoded`);
  });
});

describe('formatIp', () => {
  it('formats IPv4 and RFC 5952 IPv6', () => {
    const f = (s: string) => {
      const b = parseIp(s);
      return formatIp(b, 0, b.length === 4 ? 4 : 6);
    };
    assert.equal(f('10.20.30.40'), '10.20.30.40');
    assert.equal(f('2001:db8:0:0:1:0:0:1'), '2001:db8::1:0:0:1');
    assert.equal(f('::1'), '::1');
    assert.equal(f('::'), '::');
    assert.equal(f('fe80::'), 'fe80::');
    assert.equal(f('2001:db8:0:1:1:1:1:1'), '2001:db8:0:1:1:1:1:1');
    assert.equal(f('::ffff:192.0.2.1'.replace('192.0.2.1', 'c000:201')), '::ffff:192.0.2.1');
  });
});
