import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodePacket, formatIp, PacketDecoder } from './decode.ts';
import { ether, ipv4, ipv6, loopback, parseIp, sll, sll2, tcp, udp } from './testkit.ts';

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
