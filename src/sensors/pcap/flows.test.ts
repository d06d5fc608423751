import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseClientHello } from '../protocols/tls.ts';
import { decodePacket } from './decode.ts';
import { type CloseReason, type Direction, type Flow, FlowTable, type FlowTableOptions } from './flows.ts';
import { readCaptureFlows } from './source.ts';
import { conversation, tcp, udp } from './testkit.ts';

const CORPUS = new URL('../../../test/corpus/pcap/', import.meta.url);

interface Out {
  table: FlowTable;
  streams: Map<number, { c2s: number[]; s2c: number[] }>;
  gaps: Map<number, { c2s: number; s2c: number }>;
  closed: { flow: Flow; reason: CloseReason }[];
  flows: Flow[];
}

function harness(opts: FlowTableOptions = {}): Out & { feed(ip: Uint8Array, ts: number): void } {
  const streams = new Map<number, { c2s: number[]; s2c: number[] }>();
  const gaps = new Map<number, { c2s: number; s2c: number }>();
  const closed: { flow: Flow; reason: CloseReason }[] = [];
  const flows: Flow[] = [];
  const push = (f: Flow, dir: Direction, data: Uint8Array): void => {
    let s = streams.get(f.id);
    if (!s) streams.set(f.id, (s = { c2s: [], s2c: [] }));
    for (const b of data) s[dir].push(b);
  };
  const table = new FlowTable(
    {
      onOpen: (f) => flows.push(f),
      onData: (f, dir, data) => push(f, dir, data),
      onDatagram: (f, dir, data) => push(f, dir, data),
      onGap: (f, dir, n) => {
        let g = gaps.get(f.id);
        if (!g) gaps.set(f.id, (g = { c2s: 0, s2c: 0 }));
        g[dir] += n;
      },
      onClose: (flow, reason) => closed.push({ flow, reason }),
    },
    opts,
  );
  let index = 0;
  return {
    table,
    streams,
    gaps,
    closed,
    flows,
    feed(ip, ts) {
      const d = decodePacket(101, ip);
      assert.ok(d);
      table.add(d, ++index, ts);
    },
  };
}

const text = (b: number[] | undefined): string => new TextDecoder().decode(Uint8Array.from(b ?? []));

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

/** Split a byte stream into TCP segments of pseudo-random sizes. */
function segments(
  data: Uint8Array,
  isn: number,
  r: () => number,
  maxSeg = 50,
): { seq: number; payload: Uint8Array }[] {
  const out: { seq: number; payload: Uint8Array }[] = [];
  for (let off = 0; off < data.length; ) {
    const n = Math.min(data.length - off, 1 + Math.floor(r() * maxSeg));
    out.push({ seq: (isn + off) >>> 0, payload: data.subarray(off, off + n) });
    off += n;
  }
  return out;
}

const C = { src: '10.0.0.1', dst: '10.0.0.2', sport: 40000, dport: 3333 };
const S = { src: '10.0.0.2', dst: '10.0.0.1', sport: 3333, dport: 40000 };

describe('FlowTable: reassembly', () => {
  const msg = new TextEncoder().encode(
    Array.from({ length: 40 }, (_, i) => `{"id":${i},"method":"submit","params":["job${i}"]}\n`).join(''),
  );

  it('a scripted conversation comes out byte for byte, both directions, closed by FIN', () => {
    const h = harness();
    const conv = conversation('10.0.0.1:40000', '10.0.0.2:3333', [
      { from: 'c', data: 'hello ' },
      { from: 'c', data: 'server' },
      { from: 's', data: 'hi client' },
    ]);
    for (const p of conv) h.feed(p.ip, p.ts);
    assert.equal(h.flows.length, 1);
    const f = h.flows[0]!;
    assert.deepEqual(
      [f.client, f.clientPort, f.server, f.serverPort, f.proto],
      ['10.0.0.1', 40000, '10.0.0.2', 3333, 'tcp'],
    );
    assert.equal(f.sawSyn, true);
    assert.equal(f.midstream, false);
    assert.equal(text(h.streams.get(f.id)?.c2s), 'hello server');
    assert.equal(text(h.streams.get(f.id)?.s2c), 'hi client');
    assert.deepEqual(
      h.closed.map((c) => c.reason),
      ['fin'],
    );
    assert.deepEqual(f.packets, { c2s: 6, s2c: 3 });
  });

  for (const seed of [1, 2, 3, 4, 5]) {
    it(`out-of-order, retransmitted and overlapping segments, ISN near wraparound (seed ${seed})`, () => {
      const r = rng(seed);
      const h = harness();
      const isn = 0xffffffff - 700; // the stream crosses 2^32
      h.feed(tcp({ ...C, seq: isn - 1, flags: 0x02 }), 0);
      h.feed(tcp({ ...S, seq: 9, ack: isn, flags: 0x12 }), 0.01);
      const segs = segments(msg, isn, r);
      // retransmissions and overlapping re-segmentations of the same bytes
      const extra: { seq: number; payload: Uint8Array }[] = [];
      for (let i = 0; i < 20; i++) {
        const a = Math.floor(r() * msg.length);
        const n = 1 + Math.floor(r() * 80);
        extra.push({ seq: (isn + a) >>> 0, payload: msg.subarray(a, a + n) });
      }
      const all = [...segs, ...extra];
      // shuffle within a window so the stream can still complete
      for (let i = all.length - 1; i > 0; i--) {
        const j = Math.max(0, i - Math.floor(r() * 8));
        [all[i], all[j]] = [all[j]!, all[i]!];
      }
      let t = 0.02;
      for (const s of all) h.feed(tcp({ ...C, seq: s.seq, ack: 10, payload: s.payload }), (t += 0.001));
      h.table.end();
      const f = h.flows[0]!;
      assert.equal(text(h.streams.get(f.id)?.c2s), text(Array.from(msg)));
      assert.equal(h.gaps.get(f.id), undefined);
      assert.equal(h.table.stats.pendingBytes, 0);
      assert.ok(h.table.stats.oooSegments > 0);
    });
  }

  it('first-seen data wins where overlapping segments disagree', () => {
    const h = harness();
    h.feed(tcp({ ...C, seq: 100, flags: 0x02 }), 0);
    h.feed(tcp({ ...C, seq: 101, payload: 'AAAA' }), 1);
    h.feed(tcp({ ...C, seq: 103, payload: 'XXXXBB' }), 2); // overlaps 2 delivered bytes
    h.feed(tcp({ ...C, seq: 113, payload: 'DD' }), 3); // ooo
    h.feed(tcp({ ...C, seq: 111, payload: 'QQQQ' }), 4); // fills the hole and overlaps the pending DD
    h.table.end();
    assert.equal(text(h.streams.get(1)?.c2s), 'AAAAXXBBQQQQ');
    assert.ok(h.table.stats.overlapBytes >= 4);
  });

  it('a capture that starts mid-session takes the first seen seq as start and picks the server by port', () => {
    const h = harness();
    h.feed(tcp({ ...S, seq: 123456, ack: 999, payload: '{"method":"mining.notify"}\n' }), 1);
    h.feed(tcp({ ...C, seq: 999, ack: 123483, payload: '{"method":"mining.get_transactions"}\n' }), 2);
    h.feed(tcp({ ...S, seq: 123456 + 27, ack: 999, payload: 'more\n' }), 3);
    h.table.end();
    const f = h.flows[0]!;
    assert.equal(f.midstream, true);
    assert.equal(f.sawSyn, false);
    assert.equal(f.server, '10.0.0.2');
    assert.equal(f.serverPort, 3333);
    assert.equal(text(h.streams.get(f.id)?.s2c), '{"method":"mining.notify"}\nmore\n');
    assert.equal(text(h.streams.get(f.id)?.c2s), '{"method":"mining.get_transactions"}\n');
    assert.equal(h.closed[0]!.reason, 'end');
  });

  it('a lost segment, acknowledged by the peer, becomes a gap instead of stalling the stream', () => {
    const h = harness();
    h.feed(tcp({ ...C, seq: 0, flags: 0x02 }), 0);
    h.feed(tcp({ ...C, seq: 1, payload: 'aaaa' }), 1);
    h.feed(tcp({ ...C, seq: 9, payload: 'cccc' }), 2); // bbbb never captured
    assert.equal(text(h.streams.get(1)?.c2s), 'aaaa');
    h.feed(tcp({ ...S, seq: 50, ack: 13, flags: 0x10 }), 3);
    assert.equal(text(h.streams.get(1)?.c2s), 'aaaacccc');
    assert.deepEqual(h.gaps.get(1), { c2s: 4, s2c: 0 });
  });

  it('RST closes the flow; trailing packets are absorbed; a new SYN on the same ports is a new flow', () => {
    const h = harness();
    h.feed(tcp({ ...C, seq: 0, flags: 0x02 }), 0);
    h.feed(tcp({ ...S, seq: 0, flags: 0x14 }), 1);
    h.feed(tcp({ ...C, seq: 1, flags: 0x10, payload: 'late' }), 2);
    assert.equal(h.table.stats.afterClose, 1);
    h.feed(tcp({ ...C, seq: 777, flags: 0x02 }), 3);
    h.table.end();
    assert.deepEqual(
      h.closed.map((c) => [c.flow.id, c.reason]),
      [
        [1, 'rst'],
        [2, 'end'],
      ],
    );
    assert.equal(h.streams.size, 0);
  });
});

describe('FlowTable: bounded memory', () => {
  it('10 MB sent out of order never holds more than the per-direction cap', () => {
    const cap = 256 * 1024;
    const h = harness({ maxPendingPerDir: cap });
    let delivered = 0;
    let gapped = 0;
    const table = new FlowTable(
      {
        onData: (_f, _d, data) => {
          delivered += data.length;
        },
        onGap: (_f, _d, n) => {
          gapped += n;
        },
      },
      { maxPendingPerDir: cap },
    );
    const seg = new Uint8Array(1400).fill(0x61);
    const total = 10 * 1024 * 1024;
    const n = Math.ceil(total / seg.length);
    let idx = 0;
    const add = (seq: number, ts: number) => {
      const d = decodePacket(101, tcp({ ...C, seq, payload: seg }));
      assert.ok(d);
      table.add(d, ++idx, ts);
      assert.ok(table.stats.peakPendingPerDir <= cap);
    };
    add(0, 0); // start
    // every pair swapped, and every 100th segment lost: ooo all the way through
    for (let i = 2; i + 1 < n; i += 2) {
      if (i % 100 !== 0) add((i + 1) * seg.length, i);
      add(i * seg.length, i);
    }
    table.end();
    assert.ok(table.stats.peakPendingPerDir <= cap, `peak ${table.stats.peakPendingPerDir}`);
    assert.equal(table.stats.pendingBytes, 0);
    assert.ok(delivered > total * 0.95);
    assert.equal(delivered + gapped, Math.floor((n - (n % 2 === 0 ? 0 : 1)) * seg.length));
    assert.ok(h.table.stats.peakPendingBytes === 0);
  });

  it('one hole that never fills: held bytes stay under the cap and the rest is still delivered', () => {
    const cap = 64 * 1024;
    let delivered = 0;
    const table = new FlowTable(
      { onData: (_f, _d, b) => (delivered += b.length) },
      { maxPendingPerDir: cap },
    );
    const seg = new Uint8Array(1000);
    let i = 0;
    for (let k = 1; k <= 1000; k++) {
      const d = decodePacket(101, tcp({ ...C, seq: k === 1 ? 0 : k * 1000, payload: seg }));
      table.add(d!, ++i, k);
    }
    assert.ok(table.stats.peakPendingPerDir <= cap);
    assert.ok(delivered >= 1000 * 1000 - cap - 1000);
    assert.ok(table.stats.capFlushes >= 1);
  });

  it('the global pending cap holds across many flows', () => {
    const max = 100_000;
    const table = new FlowTable({}, { maxTotalPending: max });
    const seg = new Uint8Array(1000);
    let i = 0;
    for (let f = 0; f < 50; f++) {
      const src = `10.1.0.${f + 1}`;
      for (let k = 0; k < 10; k++) {
        const seq = k === 0 ? 0 : (k + 1) * 1000; // hole after the first segment
        table.add(
          decodePacket(101, tcp({ src, dst: '10.0.0.2', sport: 40000, dport: 3333, seq, payload: seg }))!,
          ++i,
          f,
        );
        assert.ok(table.stats.pendingBytes <= max);
      }
    }
    assert.ok(table.stats.peakPendingBytes <= max);
  });

  it('maxFlows evicts the least recently used flow; idle flows time out', () => {
    const h = harness({ maxFlows: 3, idleTimeoutSec: 60 });
    for (let k = 0; k < 4; k++)
      h.feed(udp({ src: `10.9.0.${k + 1}`, dst: '8.8.8.8', sport: 5000, dport: 53, payload: 'q' }), k);
    assert.deepEqual(
      h.closed.map((c) => [c.flow.client, c.reason]),
      [['10.9.0.1', 'evicted']],
    );
    assert.equal(h.table.size, 3);
    h.feed(udp({ src: '10.9.0.9', dst: '8.8.8.8', sport: 5000, dport: 53, payload: 'q' }), 1000);
    assert.deepEqual(
      h.closed.slice(1).map((c) => c.reason),
      ['idle', 'idle', 'idle'],
    );
    assert.equal(h.table.size, 1);
  });
});

describe('FlowTable: direction', () => {
  it('SYN+ACK seen first: its sender is the server even on a high port', () => {
    const h = harness();
    h.feed(tcp({ src: '10.0.0.5', dst: '10.0.0.6', sport: 50000, dport: 80, seq: 1, flags: 0x12 }), 0);
    assert.deepEqual([h.flows[0]!.server, h.flows[0]!.serverPort], ['10.0.0.5', 50000]);
  });
  it('port heuristics: well-known or pool port is the server; else the lower; tie: first sender is the client', () => {
    const h = harness();
    h.feed(udp({ src: '10.0.0.1', dst: '10.0.0.2', sport: 53, dport: 999, payload: 'a' }), 0);
    h.feed(tcp({ src: '10.0.0.1', dst: '10.0.0.2', sport: 14444, dport: 50000, seq: 1, payload: 'a' }), 0);
    h.feed(tcp({ src: '10.0.0.1', dst: '10.0.0.2', sport: 40000, dport: 50000, seq: 1, payload: 'a' }), 0);
    h.feed(tcp({ src: '10.0.0.3', dst: '10.0.0.4', sport: 30303, dport: 30303, seq: 1, payload: 'a' }), 0);
    assert.deepEqual(
      h.flows.map((f) => `${f.client}:${f.clientPort}>${f.server}:${f.serverPort}`),
      [
        '10.0.0.2:999>10.0.0.1:53',
        '10.0.0.2:50000>10.0.0.1:14444',
        '10.0.0.2:50000>10.0.0.1:40000',
        '10.0.0.3:30303>10.0.0.4:30303',
      ],
    );
  });
  it('both directions of an IPv6 flow map to one flow', () => {
    const h = harness();
    h.feed(
      tcp({ src: '2001:db8::1', dst: '2001:db8::2', sport: 40000, dport: 443, seq: 1, payload: 'x' }),
      0,
    );
    h.feed(
      tcp({ src: '2001:db8::2', dst: '2001:db8::1', sport: 443, dport: 40000, seq: 1, payload: 'y' }),
      0,
    );
    assert.equal(h.flows.length, 1);
    assert.deepEqual(h.flows[0]!.packets, { c2s: 1, s2c: 1 });
  });
});

describe('FlowTable: sizesOnly', () => {
  const msg = new TextEncoder().encode(
    Array.from({ length: 60 }, (_, i) => `{"id":${i},"method":"submit","params":["job${i}"]}\n`).join(''),
  );
  /** Deliveries (dir, bytes, packet) and gaps of one shuffled stream, with the flow switched to sizesOnly at `after` deliveries. */
  function run(seed: number, after: number, opts: FlowTableOptions = {}) {
    const r = rng(seed);
    const events: string[] = [];
    const table = new FlowTable(
      {
        onData: (f, dir, data, pkt) => {
          events.push(`${dir} ${data.length} @${pkt}`);
          if (events.length >= after) f.sizesOnly = true;
        },
        onSize: (_f, dir, n, pkt) => {
          events.push(`${dir} ${n} @${pkt}`);
        },
        onGap: (_f, dir, n, pkt) => {
          events.push(`gap ${dir} ${n} @${pkt}`);
        },
        onClose: (_f, reason) => {
          events.push(`close ${reason}`);
        },
      },
      opts,
    );
    let index = 0;
    const feed = (ip: Uint8Array, ts: number) => table.add(decodePacket(101, ip)!, ++index, ts);
    feed(tcp({ ...C, seq: 99, flags: 0x02 }), 0);
    feed(tcp({ ...S, seq: 9, ack: 100, flags: 0x12 }), 0.01);
    const all = segments(msg, 100, r);
    for (let i = all.length - 1; i > 0; i--) {
      const j = Math.max(0, i - Math.floor(r() * 8));
      [all[i], all[j]] = [all[j]!, all[i]!];
    }
    all.splice(5, 1); // a lost segment: a hole some bytes wait behind
    let t = 0.02;
    for (const s of all) feed(tcp({ ...C, seq: s.seq, ack: 10, payload: s.payload }), (t += 0.001));
    table.end();
    return { events, stats: table.stats };
  }

  for (const seed of [1, 2, 3]) {
    it(`delivers the same sizes, gaps and closes in the same order as onData would (seed ${seed})`, () => {
      const full = run(seed, Number.POSITIVE_INFINITY);
      assert.ok(full.stats.oooSegments > 0 && full.stats.gapBytes > 0); // segments were held behind a hole
      for (const after of [1, 3, 10]) {
        const sized = run(seed, after);
        assert.deepEqual(sized.events, full.events);
        assert.deepEqual(sized.stats, full.stats); // pending bytes are accounted as if held
      }
      // and under a per-direction cap that forces holes to be skipped
      const capped = { maxPendingPerDir: 120 };
      const cappedFull = run(seed, Number.POSITIVE_INFINITY, capped);
      assert.ok(cappedFull.stats.capFlushes > 0);
      assert.deepEqual(run(seed, 1, capped).events, cappedFull.events);
    });
  }

  it('without onSize a sizesOnly flow still gets its bytes through onData', () => {
    const got: string[] = [];
    const table = new FlowTable({
      onData: (f, _dir, data) => {
        f.sizesOnly = true;
        got.push(new TextDecoder().decode(data));
      },
    });
    for (const p of conversation('10.0.0.1:40000', '10.0.0.2:3333', [
      { from: 'c', data: 'one ' },
      { from: 'c', data: 'two' },
    ]))
      table.add(decodePacket(101, p.ip)!, 1, p.ts);
    assert.equal(got.join(''), 'one two');
  });
});

describe('FlowTable: corpus', () => {
  it('mining.pcapng: the four mining flows with the right client and server', async () => {
    const flows: string[] = [];
    const starts = new Map<string, string>();
    await readCaptureFlows(new URL('ndpi/mining.pcapng', CORPUS).pathname, {
      onData: (f, dir, data) => {
        const k = `${f.client}:${f.clientPort}>${f.server}:${f.serverPort}`;
        if (dir === 'c2s' && !starts.has(k)) starts.set(k, new TextDecoder().decode(data.subarray(0, 300)));
      },
      onClose: (f) => flows.push(`${f.client}:${f.clientPort}>${f.server}:${f.serverPort}`),
    });
    assert.deepEqual(flows.sort(), [
      '147.229.13.222:49307>185.71.66.39:9999',
      '192.168.2.148:46838>94.23.199.191:3333',
      '192.168.2.148:53846>116.211.167.195:3333',
      '192.168.2.92:55190>178.32.196.217:9050',
    ]);
    assert.match(starts.get('147.229.13.222:49307>185.71.66.39:9999')!, /eth_submitLogin/);
    assert.match(starts.get('192.168.2.92:55190>178.32.196.217:9050')!, /login/);
    assert.match(starts.get('192.168.2.148:46838>94.23.199.191:3333')!, /mining.subscribe/);
  });

  it('bitcoin-mining-in-progress.pcap: mid-session stratum flow, server on 3333', async () => {
    let s2c = '';
    let flow: Flow | undefined;
    await readCaptureFlows(new URL('zeek-cryptomining/bitcoin-mining-in-progress.pcap', CORPUS).pathname, {
      onData: (f, dir, data) => {
        if (f.serverPort === 3333 && dir === 's2c') {
          flow = f;
          s2c += new TextDecoder().decode(data);
        }
      },
    });
    assert.ok(flow);
    assert.equal(flow.server, '74.84.128.158');
    assert.equal(flow.midstream, true);
    assert.match(s2c, /mining\.notify/);
  });
});

describe('FlowTable: bounds under floods', () => {
  const syn = (i: number) =>
    tcp({
      src: `100.64.${i >> 8}.${i & 255}`,
      dst: '10.0.0.2',
      sport: 40000,
      dport: 80,
      seq: i,
      flags: 0x02,
    });

  it('half-open flows time out after halfOpenTimeoutSec; flows with payload wait for the idle timeout', () => {
    const h = harness({ halfOpenTimeoutSec: 30, idleTimeoutSec: 600 });
    h.feed(syn(1), 0);
    h.feed(tcp({ src: '10.0.0.9', dst: '10.0.0.2', sport: 40001, dport: 3333, seq: 1, payload: 'x' }), 0);
    h.feed(udp({ src: '10.0.0.9', dst: '10.0.0.3', sport: 5000, dport: 5001, payload: 'q' }), 0);
    h.feed(syn(2), 31);
    assert.deepEqual(
      h.closed.map((c) => [c.flow.client, c.reason]),
      [
        ['100.64.0.1', 'idle'],
        ['10.0.0.3', 'idle'], // an unanswered datagram is half-open too (5000 < 5001: its sender reads as server)
      ],
    );
    assert.deepEqual(h.table.stats.timedOut, { closed: 0, halfOpen: 2, open: 0, kept: 0 });
    assert.deepEqual(h.table.held(), { closed: 0, halfOpen: 1, open: 1, kept: 0 });
  });

  it('a SYN flood evicts only half-open flows: the flow with payload and the kept flow stay', () => {
    const h = harness({ maxFlows: 100, halfOpenTimeoutSec: 3600 });
    h.feed(tcp({ src: '10.0.0.9', dst: '10.0.0.2', sport: 40001, dport: 443, seq: 1, payload: 'x' }), 0);
    h.feed(tcp({ src: '10.0.0.8', dst: '10.0.0.2', sport: 40002, dport: 3333, seq: 1, payload: 'y' }), 0);
    h.flows[1]!.keep = true;
    h.feed(tcp({ src: '10.0.0.8', dst: '10.0.0.2', sport: 40002, dport: 3333, seq: 2, payload: 'z' }), 0);
    for (let i = 0; i < 10_000; i++) h.feed(syn(i), 1 + i / 1000);
    // maxFlows bounds the unkept flows: 99 half-open + 1 open, and the kept one beside them.
    assert.equal(h.table.stats.evicted.halfOpen, 10_000 - 99);
    assert.equal(h.table.stats.evicted.open, 0);
    assert.equal(h.table.size, 101);
    assert.equal(h.table.stats.peakFlows, 101);
    const live = new Set(h.closed.map((c) => c.flow.client));
    assert.ok(!live.has('10.0.0.9') && !live.has('10.0.0.8'), 'the data-carrying flows were not evicted');
    assert.deepEqual(h.table.held(), { closed: 0, halfOpen: 99, open: 1, kept: 1 });
  });

  it('closed flows go first, then half-open, then open; kept flows do not count against maxFlows', () => {
    const h = harness({ maxFlows: 3, maxKeptFlows: 2, halfOpenTimeoutSec: 3600 });
    const data = (k: number) =>
      tcp({ src: `10.1.0.${k}`, dst: '10.0.0.2', sport: 40000, dport: 443, seq: 1, payload: 'x' });
    h.feed(data(1), 0); // open
    h.feed(syn(1), 1); // half-open
    h.feed(tcp({ src: '10.1.0.3', dst: '10.0.0.2', sport: 40000, dport: 443, seq: 1, flags: 0x04 }), 2); // RST: closed
    h.feed(data(4), 3); // full: the closed flow goes
    h.feed(data(5), 4); // then the half-open one
    h.feed(data(6), 5); // then the oldest open one
    assert.deepEqual(h.table.stats.evicted, { closed: 1, halfOpen: 1, open: 1, kept: 0 });
    for (const f of h.flows.slice(-3)) f.keep = true;
    for (const k of [4, 5, 6]) h.feed(data(k), 6); // marked flows move to the kept list at their next packet
    // Three kept, cap two: the least recently used kept flow went.
    assert.equal(h.table.stats.evicted.kept, 1);
    assert.deepEqual(h.table.held(), { closed: 0, halfOpen: 0, open: 0, kept: 2 });
    for (let k = 10; k < 13; k++) h.feed(data(k), 7);
    assert.deepEqual(h.table.held(), { closed: 0, halfOpen: 0, open: 3, kept: 2 });
  });

  it('a flow whose connection ended gives up its reassembly state and lingers as closed', () => {
    const h = harness();
    for (const p of conversation('10.0.0.1:40000', '10.0.0.2:80', [{ from: 'c', data: 'GET /' }]))
      h.feed(p.ip, p.ts);
    assert.deepEqual(h.table.held(), { closed: 1, halfOpen: 0, open: 0, kept: 0 });
    const before = h.table.stats.afterClose;
    h.feed(
      tcp({ src: '10.0.0.1', dst: '10.0.0.2', sport: 40000, dport: 80, seq: 9, flags: 0x10 }),
      1.7e9 + 5,
    );
    assert.equal(h.table.stats.afterClose, before + 1);
    assert.equal(h.table.stats.flows, 1);
  });
});

describe('FlowTable: the core', () => {
  it('held bytes and flows stay right while the core memory grows under them', () => {
    // 300 flows each holding 100 KB out of order: 30 MB held, past the core's initial 4 MB of memory, so views
    // made before and after the growth are both exercised.
    const n = 300;
    const fill = (f: number, k: number) => (f * 7 + k) & 255;
    const got = new Map<number, number[]>(); // by flow id: the fill byte of each 1000-byte chunk delivered, in order
    const flows: Flow[] = [];
    const table = new FlowTable(
      {
        onOpen: (f) => flows.push(f),
        onData: (f, _d, data) => {
          let list = got.get(f.id);
          if (!list) got.set(f.id, (list = []));
          for (let i = 0; i < data.length; i += 1000) {
            assert.ok(data.subarray(i, i + 1000).every((b) => b === data[i]));
            list.push(data[i]!);
          }
        },
      },
      { maxTotalPending: 1 << 30 },
    );
    let index = 0;
    const feed = (f: number, seq: number, flags: number, payload: Uint8Array, ts: number) =>
      table.add(
        decodePacket(
          101,
          tcp({
            src: `10.${f >> 8}.${f & 255}.1`,
            dst: '10.0.0.2',
            sport: 40000,
            dport: 3333,
            seq,
            flags,
            payload,
          }),
        )!,
        ++index,
        ts,
      );
    for (let f = 0; f < n; f++) feed(f, 0, 0x02, new Uint8Array(0), 0);
    for (let k = 1; k <= 100; k++)
      for (let f = 0; f < n; f++) feed(f, 1 + k * 1000, 0x10, new Uint8Array(1000).fill(fill(f, k)), k);
    assert.equal(table.stats.pendingBytes, n * 100_000);
    // the first segment of each flow fills the hole: everything held comes out in order
    for (let f = 0; f < n; f++) feed(f, 1, 0x10, new Uint8Array(1000).fill(fill(f, 0)), 101);
    assert.equal(table.stats.pendingBytes, 0);
    assert.equal(flows.length, n);
    for (const [f, flow] of flows.entries()) {
      assert.deepEqual(
        got.get(flow.id),
        Array.from({ length: 101 }, (_, k) => fill(f, k)),
      );
      assert.deepEqual(flow.packets, { c2s: 102, s2c: 0 });
      assert.deepEqual(flow.bytes, { c2s: 101_000, s2c: 0 });
    }
  });

  it('a Flow keeps its last values once the table has dropped it', () => {
    const h = harness({ maxFlows: 1 });
    h.feed(tcp({ ...C, seq: 1, payload: 'abc' }), 5);
    h.feed(tcp({ ...C, seq: 4, payload: 'de' }), 6);
    h.feed(udp({ src: '10.0.0.7', dst: '10.0.0.8', sport: 5000, dport: 53, payload: 'q' }), 7); // evicts the first
    const f = h.flows[0]!;
    assert.equal(h.closed[0]!.reason, 'evicted');
    h.feed(udp({ src: '10.0.0.9', dst: '10.0.0.8', sport: 5000, dport: 53, payload: 'q' }), 8); // the core reuses memory
    assert.deepEqual(
      [f.lastTs, f.packets, f.bytes, f.closed, f.midstream, f.keep],
      [6, { c2s: 2, s2c: 0 }, { c2s: 5, s2c: 0 }, true, true, false],
    );
    f.keep = true; // no table to tell: only the object remembers
    assert.equal(f.keep, true);
  });

  for (const seed of [11, 12, 13, 14, 15, 16]) {
    it(`random packet streams keep the table's bounds, close every flow once and count every gap (seed ${seed})`, () => {
      const r = rng(seed);
      const maxFlows = 2 + Math.floor(r() * 6);
      const maxKeptFlows = 1 + Math.floor(r() * 3);
      const maxPendingPerDir = 50 + Math.floor(r() * 300);
      const maxTotalPending = 100 + Math.floor(r() * 600);
      let gaps = 0;
      const opened = new Set<number>();
      const closedIds: number[] = [];
      const table = new FlowTable(
        {
          onOpen: (f) => {
            opened.add(f.id);
            if (r() < 0.2) f.keep = true;
          },
          onData: (f) => {
            if (r() < 0.05) f.sizesOnly = true;
          },
          onSize: () => undefined,
          onGap: (_f, _d, n) => {
            gaps += n;
          },
          onClose: (f) => closedIds.push(f.id),
        },
        {
          maxFlows,
          maxKeptFlows,
          maxPendingPerDir,
          maxTotalPending,
          halfOpenTimeoutSec: 5,
          idleTimeoutSec: 20,
        },
      );
      const convs = Array.from({ length: 10 }, (_, i) => ({
        src: i % 3 === 0 ? `2001:db8::${i + 1}` : `10.0.${i}.1`,
        dst: i % 3 === 0 ? '2001:db8::ff' : '10.0.0.254',
        sport: 40000 + i,
        isn: Math.floor(r() * 2 ** 32),
        next: 0,
      }));
      let ts = 0;
      for (let k = 1; k <= 3000; k++) {
        const c = convs[Math.floor(r() * convs.length)]!;
        const len = Math.floor(r() * 50);
        const jitter = r() < 0.7 ? 0 : Math.floor(r() * 200) - 80;
        const x = r();
        const flags = x < 0.02 ? 0x02 : x < 0.03 ? 0x04 : x < 0.05 ? 0x11 : 0x10;
        const p = decodePacket(
          101,
          tcp({
            src: c.src,
            dst: c.dst,
            sport: c.sport,
            dport: 3333,
            seq: (c.isn + c.next + jitter) >>> 0,
            ack: 1,
            flags,
            payload: new Uint8Array(len),
          }),
        )!;
        if (jitter === 0) c.next += len;
        ts += r() < 0.01 ? 30 : r() * 0.2;
        table.add(p, k, ts);
        const st = table.stats;
        assert.ok(st.pendingBytes >= 0 && st.pendingBytes <= maxTotalPending, `pending ${st.pendingBytes}`);
        assert.ok(st.peakPendingPerDir <= maxPendingPerDir, `peak per dir ${st.peakPendingPerDir}`);
        const held = table.held();
        // (a kept flow ended by FIN/RST lingers as closed: past maxFlows, but out of the kept list)
        assert.ok(table.size <= maxFlows + maxKeptFlows, `held ${JSON.stringify(held)}`);
        assert.ok(held.kept <= maxKeptFlows, `kept ${held.kept}`);
        assert.equal(held.closed + held.halfOpen + held.open + held.kept, table.size);
      }
      table.end();
      const st = table.stats;
      assert.equal(st.pendingBytes, 0);
      assert.equal(table.size, 0);
      assert.equal(st.active, 0);
      // every flow opened is closed exactly once (those ended by FIN/RST before being dropped included)
      assert.deepEqual(
        [...closedIds].sort((a, b) => a - b),
        [...opened].sort((a, b) => a - b),
      );
      assert.equal(st.flows, opened.size);
      assert.equal(st.gapBytes, gaps);
      assert.ok(st.oooSegments > 0 && st.gapBytes > 0 && st.closed.rst > 0, JSON.stringify(st));
    });
  }
});

describe('FlowTable: the fused path', () => {
  it('addDecoded tracks the packet left in the core (as the decoder will leave it), with no copy', () => {
    const got: string[] = [];
    const table = new FlowTable({
      onOpen: (f) => got.push(`open ${f.client}:${f.clientPort}>${f.server}:${f.serverPort}`),
      onDatagram: (f, dir, data, index) =>
        got.push(`${f.id} ${dir} ${new TextDecoder().decode(data)} @${index}`),
    });
    table.add(
      decodePacket(
        101,
        udp({ src: '2001:db8::7', dst: '2001:db8::1', sport: 5353, dport: 53, payload: 'query' }),
      )!,
      4,
      1,
    );
    // The same packet again, as a decoder in the core would have left it: PKT and its bytes are still there.
    table.addDecoded();
    table.addDecoded();
    assert.deepEqual(got, [
      'open 2001:db8::7:5353>2001:db8::1:53',
      '1 c2s query @4',
      '1 c2s query @4',
      '1 c2s query @4',
    ]);
    assert.equal(table.stats.packets, 3);
  });
});

describe('FlowTable: datagramPorts', () => {
  function table(ports: ReadonlySet<number> | undefined, opts: FlowTableOptions = {}) {
    const events: string[] = [];
    const open = new Set<number>();
    const t = new FlowTable(
      {
        onOpen: (f) => {
          open.add(f.id);
          events.push(`open ${f.proto} ${f.client}:${f.clientPort}>${f.server}:${f.serverPort}`);
        },
        onDatagram: (f, dir, data) => events.push(`${f.serverPort} ${dir} ${new TextDecoder().decode(data)}`),
        onClose: (f, reason) => {
          assert.ok(open.delete(f.id), `close of a flow never opened: ${f.id}`);
          events.push(`close ${f.proto} ${f.serverPort} ${reason}`);
        },
        ...(ports ? { datagramPorts: ports } : {}),
      },
      opts,
    );
    let index = 0;
    const feed = (ip: Uint8Array, ts: number): void => t.add(decodePacket(101, ip)!, ++index, ts);
    return { t, events, feed };
  }

  const traffic = (feed: (ip: Uint8Array, ts: number) => void): void => {
    feed(udp({ src: '10.0.0.2', dst: '10.0.0.53', sport: 40000, dport: 53, payload: 'query' }), 1);
    feed(udp({ src: '10.0.0.2', dst: '10.0.0.9', sport: 40001, dport: 123, payload: 'ntp' }), 1.1);
    feed(udp({ src: '10.0.0.9', dst: '10.0.0.2', sport: 123, dport: 40001, payload: 'ntp-reply' }), 1.2);
    feed(udp({ src: '10.0.0.53', dst: '10.0.0.2', sport: 53, dport: 40000, payload: 'answer' }), 1.3);
    feed(tcp({ src: '10.0.0.2', dst: '10.0.0.7', sport: 40002, dport: 3333, flags: 0x02, seq: 1 }), 1.4);
    // A DNS server's packet seen first: port 53 is still the server's end.
    feed(udp({ src: '10.0.0.3', dst: '10.0.0.53', sport: 53, dport: 5300, payload: 'zone' }), 1.5);
  };

  it('reports the UDP flows with a listed port at either end and counts the others', () => {
    const { t, events, feed } = table(new Set([53]));
    traffic(feed);
    assert.equal(t.size, 4, 'a silent flow is held (and times out, and is evicted) like any other');
    t.end();
    assert.deepEqual(events, [
      'open udp 10.0.0.2:40000>10.0.0.53:53',
      '53 c2s query',
      '53 s2c answer',
      'open tcp 10.0.0.2:40002>10.0.0.7:3333',
      'open udp 10.0.0.53:5300>10.0.0.3:53',
      '53 s2c zone',
      'close udp 53 end',
      'close tcp 3333 end',
      'close udp 53 end',
    ]);
    const st = t.stats;
    assert.deepEqual([st.flows, st.udpFlows, st.tcpFlows, st.packets], [4, 3, 1, 6]);
    assert.equal(st.closed.end, 4, 'silent flows close in the stats too');
  });

  it('without datagramPorts every UDP flow is reported; an empty set reports none', () => {
    const all = table(undefined);
    traffic(all.feed);
    all.t.end();
    assert.equal(all.events.filter((e) => e.startsWith('open udp')).length, 3);
    const none = table(new Set());
    traffic(none.feed);
    none.t.end();
    assert.deepEqual(none.events, ['open tcp 10.0.0.2:40002>10.0.0.7:3333', 'close tcp 3333 end']);
    assert.equal(none.t.stats.udpFlows, 3);
  });

  it('silent flows evicted and timed out among reported ones leave every reported flow one open and one close', () => {
    const { t, events, feed } = table(new Set([53]), {
      maxFlows: 8,
      idleTimeoutSec: 5,
      halfOpenTimeoutSec: 5,
    });
    let ts = 0;
    for (let i = 0; i < 400; i++) {
      ts += 0.05;
      const host = `10.1.${i % 7}.${1 + (i % 200)}`;
      if (i % 3 === 0)
        feed(udp({ src: host, dst: '10.0.0.53', sport: 20000 + i, dport: 53, payload: `q${i}` }), ts);
      else
        feed(udp({ src: host, dst: '10.0.0.9', sport: 30000 + i, dport: 9000 + (i % 5), payload: 'x' }), ts);
      if (i % 50 === 0) ts += 10; // the sweep times out what is left
    }
    t.end();
    const opens = events.filter((e) => e.startsWith('open'));
    const closes = events.filter((e) => e.startsWith('close'));
    assert.equal(opens.length, 134);
    assert.equal(closes.length, 134);
    assert.ok(opens.every((e) => e.endsWith(':53')));
    const st = t.stats;
    assert.equal(st.udpFlows, 400);
    assert.ok(st.evicted.halfOpen > 0, JSON.stringify(st));
    assert.ok(st.timedOut.halfOpen > 0, JSON.stringify(st.timedOut));
  });
});

describe('FlowTable: onHello (the core reads the ClientHello)', () => {
  const u16 = (v: number): number[] => [(v >> 8) & 255, v & 255];
  /** A ClientHello handshake message naming `sni` (cipher suites, SNI and ALPN extensions). */
  const helloMessage = (sni: string): number[] => {
    const name = [...Buffer.from(sni)];
    const sniExt = [
      ...u16(0),
      ...u16(name.length + 5),
      ...u16(name.length + 3),
      0,
      ...u16(name.length),
      ...name,
    ];
    const alpn = [...u16(16), ...u16(5), ...u16(3), 2, 0x68, 0x32];
    const exts = [...sniExt, ...alpn];
    const body = [
      3,
      3,
      ...new Array(32).fill(7),
      0,
      ...u16(4),
      0x13,
      0x01,
      0xc0,
      0x2f,
      1,
      0,
      ...u16(exts.length),
      ...exts,
    ];
    return [1, 0, ...u16(body.length), ...body];
  };
  const record = (type: number, bytes: number[]): number[] => [type, 3, 1, ...u16(bytes.length), ...bytes];
  const appData = record(23, [1, 2, 3, 4, 5, 6, 7, 8]);

  interface HelloEvent {
    code: number;
    sni: string | undefined;
    tail: number[];
    gap: boolean;
    reason: string;
    at: number;
  }

  function table(take = false) {
    const data: string[] = [];
    const hellos: HelloEvent[] = [];
    const pendingAtClose: boolean[] = [];
    const t = new FlowTable({
      onData: (f, dir, bytes, pkt) => {
        data.push(`${dir} ${bytes.length} @${pkt}`);
        // A handler that finds the hello itself (the core saw server bytes first) hands it to the core.
        if (take && dir === 'c2s' && bytes[0] === 0x16) {
          const a = f.takeHello(bytes);
          if (a)
            hellos.push({ code: a.code, sni: a.sni(), tail: [...a.tail()], gap: a.gap, reason: '', at: -1 });
        }
      },
      onHello: (f, a, pkt) => {
        assert.equal(f.helloPending, false, 'answered: no longer pending');
        hellos.push({
          code: a.code,
          sni: a.sni(),
          tail: [...a.tail()],
          gap: a.gap,
          reason: a.reason(1),
          at: pkt,
        });
      },
      onGap: (_f, dir, n) => data.push(`gap ${dir} ${n}`),
      onClose: (f) => pendingAtClose.push(f.helloPending),
    });
    let index = 0;
    let cseq = 1001;
    let sseq = 5001;
    const c = (payload: number[], opts: { skip?: number } = {}) => {
      cseq += opts.skip ?? 0;
      const ip = tcp({ ...C, flags: 0x18, seq: cseq, ack: sseq, payload: Uint8Array.from(payload) });
      cseq += payload.length;
      t.add(decodePacket(101, ip)!, ++index, index);
    };
    const s = (payload: number[]) => {
      const ip = tcp({ ...S, flags: 0x18, seq: sseq, ack: cseq, payload: Uint8Array.from(payload) });
      sseq += payload.length;
      t.add(decodePacket(101, ip)!, ++index, index);
    };
    const open = () => {
      t.add(decodePacket(101, tcp({ ...C, flags: 0x02, seq: cseq - 1 }))!, ++index, index);
      t.add(decodePacket(101, tcp({ ...S, flags: 0x12, seq: sseq - 1, ack: cseq }))!, ++index, index);
    };
    return { t, data, hellos, pendingAtClose, c, s, open };
  }

  it('a hello across three segments comes once through onHello, never through onData; what followed it is the tail', () => {
    const { t, data, hellos, c, s, open } = table();
    open();
    const stream = [...record(22, helloMessage('Pool.Example.COM')), ...appData];
    c(stream.slice(0, 10));
    s([0x15, 3, 3, 0, 2, 1, 0]); // server bytes while the hello is collected still reach onData
    c(stream.slice(10, 40));
    c(stream.slice(40));
    c([9, 9, 9]);
    t.end();
    assert.deepEqual(data, ['s2c 7 @4', 'c2s 3 @7']);
    assert.equal(hellos.length, 1);
    const [h] = hellos;
    assert.equal(h!.code, 0);
    assert.equal(h!.sni, 'pool.example.com', 'lowercased as the parser always gave it');
    assert.deepEqual(h!.tail, appData);
    assert.equal(h!.at, 6, 'answered at the packet that completed it');
    assert.equal(h!.gap, false);
  });

  it('the same hello as parseClientHello, whatever the segments and their order', () => {
    const r = rng(18);
    const stream = Uint8Array.from([...record(22, helloMessage('us1.bitminter.com')), ...appData]);
    for (let round = 0; round < 60; round++) {
      const hellos: { sni: string | undefined; tail: number[]; fields: string; consumed: number }[] = [];
      const after: number[] = [];
      const t = new FlowTable({
        onData: (_f, dir, b) => {
          assert.equal(hellos.length, 1, 'client bytes reach onData only once the hello is answered');
          if (dir === 'c2s') after.push(...b);
        },
        onHello: (_f, a) =>
          hellos.push({
            sni: a.sni(),
            tail: [...a.tail()],
            fields: JSON.stringify(a.hello()),
            consumed: a.consumed,
          }),
      });
      let index = 0;
      const add = (ip: Uint8Array) => t.add(decodePacket(101, ip)!, ++index, index);
      add(tcp({ ...C, flags: 0x02, seq: 999 }));
      // The first segment holds a record header's first three bytes at least: fewer do not say TLS (the analyzer's
      // looksLikeTlsStart did not either).
      const head = 3 + Math.floor(r() * 20);
      const segs = [
        { seq: 1000, payload: stream.subarray(0, head) },
        ...segments(stream.subarray(head), 1000 + head, r, 1 + Math.floor(r() * 60)),
      ];
      // Out of order: swap a few neighbours (the core holds them and delivers in order).
      for (let i = 0; i + 1 < segs.length; i++)
        if (r() < 0.3) [segs[i], segs[i + 1]] = [segs[i + 1]!, segs[i]!];
      for (const g of segs) add(tcp({ ...C, flags: 0x18, seq: g.seq, payload: g.payload }));
      t.end();
      assert.equal(hellos.length, 1, `round ${round}`);
      const expected = parseClientHello(stream);
      assert.ok(expected);
      assert.equal(hellos[0]!.fields, JSON.stringify(expected));
      assert.equal(hellos[0]!.sni, 'us1.bitminter.com');
      // Nothing lost or doubled: the tail and the later client bytes are the stream after the hello's record.
      assert.deepEqual([...hellos[0]!.tail, ...after], [...stream.subarray(hellos[0]!.consumed)]);
    }
  });

  it("fingerprints remembered by their inputs equal each hello's own, across 600 hellos of 40 stacks", () => {
    const r = rng(4);
    const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)]!;
    const ext = (type: number, data: number[]) => [...u16(type), ...u16(data.length), ...data];
    const list16 = (xs: number[]) => [...u16(xs.length * 2), ...xs.flatMap(u16)];
    // A small space of stacks, so that most hellos repeat one (the cache's hits) and some differ in one input only.
    const ciphers = [[0x1301, 0x1302], [0x0a0a, 0xc02f, 0x1301], [0xc02b], []];
    const groups = [
      [0x001d, 0x0017],
      [0x2a2a, 0x001d],
    ];
    const sigs = [[0x0403, 0x0804], [0x0804, 0x0403], []];
    const alpns = [[], ['h2'], ['http/1.1', 'h2'], ['']];
    const versions = [[0x0304, 0x0303], [0x1a1a, 0x0303], []];
    // Forty stacks, each a choice of every input; each hello is one of them (with its own random bytes).
    const stacks = Array.from({ length: 40 }, () => {
      const exts: number[] = [];
      if (r() < 0.7) exts.push(...ext(0, [...u16(8), 0, ...u16(5), ...Buffer.from('a.b.c')]));
      if (r() < 0.8) exts.push(...ext(10, list16(pick(groups))));
      if (r() < 0.5) exts.push(...ext(11, [1, pick([0, 1])]));
      if (r() < 0.8) exts.push(...ext(13, list16(pick(sigs))));
      const alpn = pick(alpns);
      if (alpn.length) {
        const l = alpn.flatMap((a) => [a.length, ...Buffer.from(a)]);
        exts.push(...ext(16, [...u16(l.length), ...l]));
      }
      const v = pick(versions);
      if (v.length) exts.push(...ext(43, [v.length * 2, ...v.flatMap(u16)]));
      if (r() < 0.3) exts.push(...ext(0xff01, [0]));
      return { exts, version: pick([1, 3]), ciphers: pick(ciphers) };
    });
    let same = 0;
    const seen = new Set<string>();
    for (let i = 0; i < 600; i++) {
      const { exts, version, ciphers: cs } = pick(stacks);
      const body = [3, version, ...new Array(32).fill(i & 255), 0, ...list16(cs), 1, 0];
      body.push(...u16(exts.length), ...exts);
      const stream = record(22, [1, 0, ...u16(body.length), ...body]);
      const got: { fp: string; own: string }[] = [];
      const t = new FlowTable({
        onHello: (_f, a) => {
          const h = a.hello();
          const fp = a.fingerprints();
          got.push({ fp: `${fp.ja3Hash} ${fp.ja4}`, own: `${h.ja3Hash} ${h.ja4}` });
        },
      });
      t.add(decodePacket(101, tcp({ ...C, flags: 0x18, seq: 1, payload: Uint8Array.from(stream) }))!, 1, 1);
      t.end();
      assert.equal(got.length, 1);
      assert.equal(got[0]!.fp, got[0]!.own);
      if (seen.has(got[0]!.own)) same++;
      seen.add(got[0]!.own);
    }
    assert.ok(seen.size > 20 && same > 500, `${seen.size} stacks, ${same} repeats`);
    // Pairs that differ in one input only, each after its base: a key without that input would answer the base's.
    const sniExt = ext(0, [...u16(8), 0, ...u16(5), ...Buffer.from('a.b.c')]);
    const alpnExt = (a: string) => ext(16, [...u16(a.length + 1), a.length, ...Buffer.from(a)]);
    const base = {
      version: 3,
      ciphers: [0x1301, 0x1302],
      exts: [...sniExt, ...ext(13, list16([0x0403, 0x0804]))],
    };
    const variants = [
      { ...base, version: 1 },
      { ...base, ciphers: [0x1302, 0x1301] },
      { ...base, exts: [...ext(13, list16([0x0403, 0x0804]))] },
      { ...base, exts: [...sniExt, ...ext(13, list16([0x0804, 0x0403]))] },
      { ...base, exts: [...base.exts, ...ext(10, list16([0x001d]))] },
      { ...base, exts: [...base.exts, ...ext(11, [1, 0])] },
      { ...base, exts: [...base.exts, ...alpnExt('h2')] },
      { ...base, exts: [...base.exts, ...alpnExt('h3')] },
      { ...base, exts: [...base.exts, ...ext(43, [2, 3, 4])] },
    ];
    for (const v of variants) {
      for (const st of [base, v]) {
        const body = [
          3,
          st.version,
          ...new Array(32).fill(1),
          0,
          ...list16(st.ciphers),
          1,
          0,
          ...u16(st.exts.length),
          ...st.exts,
        ];
        const stream = record(22, [1, 0, ...u16(body.length), ...body]);
        const t = new FlowTable({
          onHello: (_f, a) => {
            const h = a.hello();
            const fp = a.fingerprints();
            assert.equal(`${fp.ja3Hash} ${fp.ja4}`, `${h.ja3Hash} ${h.ja4}`);
          },
        });
        t.add(decodePacket(101, tcp({ ...C, flags: 0x18, seq: 1, payload: Uint8Array.from(stream) }))!, 1, 1);
        t.end();
      }
    }
  });

  it('unfinished hellos of many flows hold at most maxHelloBytes; past it a hello is refused, the others finish', () => {
    // A 2 KB hello (a padding extension, as browsers send): each flow sends its first 600 bytes, then waits.
    const name = [...Buffer.from('pad.example')];
    const exts = [
      ...u16(0),
      ...u16(name.length + 5),
      ...u16(name.length + 3),
      0,
      ...u16(name.length),
      ...name,
    ];
    exts.push(...u16(21), ...u16(1800), ...new Array(1800).fill(0));
    const body = [
      3,
      3,
      ...new Array(32).fill(7),
      0,
      ...u16(2),
      0x13,
      0x01,
      1,
      0,
      ...u16(exts.length),
      ...exts,
    ];
    const stream = record(22, [1, 0, ...u16(body.length), ...body]);
    const answers = new Map<number, string>();
    const t = new FlowTable(
      { onHello: (f, a) => answers.set(f.clientPort, a.code === 0 ? (a.sni() ?? '') : a.reason(1)) },
      { maxHelloBytes: 8192 },
    );
    let index = 0;
    const send = (port: number, from: number, to: number) =>
      t.add(
        decodePacket(
          101,
          tcp({
            ...C,
            sport: port,
            flags: 0x18,
            seq: 1 + from,
            payload: Uint8Array.from(stream.slice(from, to)),
          }),
        )!,
        ++index,
        index,
      );
    for (let i = 0; i < 40; i++) {
      send(41000 + i, 0, 600);
      assert.ok(t.helloBytes <= 8192, `${t.helloBytes} bytes held after ${i + 1} flows`);
    }
    const refused = [...answers.values()].filter((r) => r === 'hellos held over their memory cap').length;
    assert.ok(refused > 20, `${refused} refused`);
    // The flows still collecting finish their hellos, each freeing what it held.
    for (let i = 0; i < 40; i++) if (!answers.has(41000 + i)) send(41000 + i, 600, stream.length);
    const named = [...answers.values()].filter((r) => r === 'pad.example').length;
    // A collector refused while finishing (its buffer grows to the whole hello) counts with the refused.
    const refusedAll = [...answers.values()].filter((r) => r === 'hellos held over their memory cap').length;
    assert.equal(named + refusedAll, 40);
    assert.ok(named >= 4, `${named} finished`);
    assert.equal(t.helloBytes, 0);
    t.end();
  });

  it('a handshake record that is no hello is answered with its reason; the later bytes go to onData', () => {
    const { t, data, hellos, c, open } = table();
    open();
    c([0x16, 3, 1, 0, 4, 2, 0, 0, 0]); // a ServerHello's type from the client
    c([1, 2, 3]);
    t.end();
    assert.equal(hellos.length, 1);
    assert.notEqual(hellos[0]!.code, 0);
    assert.equal(hellos[0]!.reason, 'handshake type 2 is not 1');
    assert.deepEqual(data, ['c2s 3 @4']);
  });

  it('server bytes first: the handler decides, and takeHello hands the core the hello from there on', () => {
    const { t, data, hellos, c, s, open } = table(true);
    open();
    s([0x32, 0x32, 0x30, 0x20]); // a banner
    const stream = record(22, helloMessage('x.example'));
    c(stream.slice(0, 20)); // onData: the handler takes it (need more)
    c(stream.slice(20)); // the core collects, answers through onHello
    t.end();
    assert.deepEqual(data, ['s2c 4 @3', 'c2s 20 @4']);
    assert.equal(hellos.length, 1);
    assert.equal(hellos[0]!.sni, 'x.example');
    assert.equal(hellos[0]!.at, 5);
  });

  it('takeHello answers at once when the bytes hold the whole hello', () => {
    const { t, hellos, c, s, open } = table(true);
    open();
    s([0x32]);
    c(record(22, helloMessage('y.example')));
    t.end();
    assert.deepEqual(
      hellos.map((h) => [h.sni, h.at]),
      [['y.example', -1]],
    );
  });

  it('helloOff: the handler reads the flow itself', () => {
    const data: string[] = [];
    const t = new FlowTable({
      onOpen: (f) => f.helloOff(),
      onData: (_f, dir, b) => data.push(`${dir} ${b.length}`),
      onHello: () => assert.fail('not taken'),
    });
    t.add(
      decodePacket(
        101,
        tcp({ ...C, flags: 0x18, seq: 1, payload: Uint8Array.from(record(22, helloMessage('a.b'))) }),
      )!,
      1,
      1,
    );
    t.end();
    assert.equal(data.length, 1);
  });

  it('without onHello a hello is bytes like any other', () => {
    const data: number[] = [];
    const t = new FlowTable({ onData: (_f, _d, b) => data.push(b.length) });
    const hello = record(22, helloMessage('a.b'));
    t.add(decodePacket(101, tcp({ ...C, flags: 0x18, seq: 1, payload: Uint8Array.from(hello) }))!, 1, 1);
    t.end();
    assert.deepEqual(data, [hello.length]);
  });

  it('a hole while the hello is collected is flagged; a flow that ends mid-hello is pending at its close', () => {
    const { t, data, hellos, c, open } = table();
    open();
    const stream = record(22, helloMessage('gap.example'));
    c(stream.slice(0, 10));
    // The rest of the hello behind a 10-byte hole: given up at the end, and the collector reads on across it (as
    // the parser did), so the hello completes, flagged.
    c(stream.slice(10), { skip: 10 });
    t.end();
    assert.ok(data.includes('gap c2s 10'));
    assert.equal(hellos.length, 1);
    assert.equal(hellos[0]!.gap, true);

    const second = table();
    second.open();
    second.c(stream.slice(0, 10));
    second.t.end();
    assert.deepEqual(second.hellos, []);
    assert.deepEqual(second.pendingAtClose, [true]);
  });
});
