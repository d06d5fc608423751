import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { CaptureFormatError, CaptureReader, type RawPacket } from './reader.ts';
import { conversation, ether, sll, tcp, udp, writePcap, writePcapng } from './testkit.ts';

/** What a test compares of a packet: its header fields and a checksum of its bytes. */
function snapshot(p: RawPacket, sum: number) {
  return {
    index: p.index,
    ts: p.tsSec,
    linkType: p.linkType,
    caplen: p.caplen,
    origLen: p.origLen,
    iface: p.iface,
    sum,
  };
}

const CORPUS = new URL('../../../test/corpus/pcap/', import.meta.url);
export const CORPUS_COUNTS: Record<string, number> = {
  'ndpi/mining.pcapng': 673,
  'ndpi/monero-mining.pcap': 319,
  'ndpi/zcash.pcap': 145,
  'ndpi/monero-p2p.pcap': 60,
  'ndpi/bitcoin-p2p.pcap': 529,
  'ndpi/ethereum.pcap': 2000,
  'ndpi/jsonrpc-negative.pcap': 16,
  'zeek-cryptomining/bitcoin-mining.pcap': 188,
  'zeek-cryptomining/bitcoin-mining-in-progress.pcap': 111,
  'zeek-cryptomining/coinhive-stratum.pcap': 320,
  'zeek-cryptomining/coinhive.pcap': 1912,
};

interface Seen {
  index: number;
  ts: number;
  linkType: number;
  caplen: number;
  origLen: number;
  iface: number;
  sum: number;
}

/** Parse bytes fed in the given chunk sizes; summarise packets (data is only valid in the callback). */
function parse(buf: Uint8Array, chunks?: (i: number) => number, maxRecord?: number) {
  const r = new CaptureReader({ source: 'test', ...(maxRecord ? { maxRecord } : {}) });
  const seen: Seen[] = [];
  const cb = (p: RawPacket): void => {
    let sum = 0;
    for (let i = 0; i < p.data.length; i++) sum = (sum * 31 + p.data[i]!) >>> 0;
    seen.push(snapshot(p, sum));
  };
  if (!chunks) r.push(buf, cb);
  else {
    let off = 0;
    for (let i = 0; off < buf.length; i++) {
      const n = Math.max(1, chunks(i));
      r.push(buf.subarray(off, off + n), cb);
      off += n;
    }
  }
  r.end();
  return { seen, stats: r.stats };
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

const samplePackets = () =>
  conversation('10.0.0.1:40000', '10.0.0.2:3333', [
    { from: 'c', data: '{"id":1,"method":"login"}\n' },
    { from: 's', data: '{"id":1,"result":{}}\n' },
  ]);

describe('CaptureReader: corpus', () => {
  for (const [file, count] of Object.entries(CORPUS_COUNTS)) {
    it(`${file} has ${count} packets, whole and in random chunks`, () => {
      const buf = readFileSync(new URL(file, CORPUS));
      const whole = parse(buf);
      assert.equal(whole.stats.packets, count);
      assert.equal(whole.seen.length, count);
      assert.equal(whole.stats.damaged, 0);
      assert.equal(whole.stats.bytes, buf.length);
      assert.equal(whole.stats.format, file.endsWith('.pcapng') ? 'pcapng' : 'pcap');
      const r = rng(count);
      const chunked = parse(buf, () => 1 + Math.floor(r() * 3000));
      assert.deepEqual(chunked.seen, whole.seen);
    });
  }

  it('mining.pcapng fed one byte at a time gives the same packets', () => {
    const buf = readFileSync(new URL('ndpi/mining.pcapng', CORPUS));
    assert.deepEqual(parse(buf, () => 1).seen, parse(buf).seen);
  });
});

describe('CaptureReader: reuse mode', () => {
  for (const file of ['ndpi/mining.pcapng', 'zeek-cryptomining/coinhive.pcap']) {
    it(`${file}: one packet object, same packets as the default mode, whole and in chunks`, () => {
      const buf = readFileSync(new URL(file, CORPUS));
      const want = parse(buf).seen;
      for (const chunk of [undefined, 1500, 7]) {
        const r = new CaptureReader({ source: 'test', reuse: true });
        const seen: Seen[] = [];
        let first: RawPacket | undefined;
        const cb = (p: RawPacket): void => {
          first ??= p;
          assert.equal(p, first); // the same object every time
          // buf/offset give the record without a view; data (made on demand) agrees
          let sum = 0;
          for (let i = 0; i < p.caplen; i++) sum = (sum * 31 + p.buf![p.offset! + i]!) >>> 0;
          assert.equal(p.data.length, p.caplen);
          assert.equal(p.data[0], p.buf![p.offset!]);
          seen.push(snapshot(p, sum));
        };
        if (chunk === undefined) r.push(buf, cb);
        else for (let off = 0; off < buf.length; off += chunk) r.push(buf.subarray(off, off + chunk), cb);
        r.end();
        assert.deepEqual(seen, want);
      }
    });
  }
});

describe('CaptureReader: pcap variants', () => {
  const pkts = samplePackets();
  const recs = pkts.map((p) => ({ ts: p.ts, data: ether(p.ip) }));
  for (const nano of [false, true]) {
    for (const bigEndian of [false, true]) {
      it(`pcap ${nano ? 'ns' : 'µs'} ${bigEndian ? 'BE' : 'LE'}`, () => {
        const buf = writePcap(recs, { linkType: 1, nano, bigEndian });
        const { seen, stats } = parse(buf);
        assert.equal(stats.format, 'pcap');
        assert.equal(seen.length, recs.length);
        seen.forEach((s, i) => {
          assert.equal(s.index, i + 1);
          assert.equal(s.linkType, 1);
          assert.equal(s.caplen, recs[i]!.data.length);
          assert.ok(Math.abs(s.ts - recs[i]!.ts) < 2e-6, `ts ${s.ts} vs ${recs[i]!.ts}`);
        });
        assert.deepEqual(parse(buf, () => 1).seen, seen);
      });
    }
  }

  it('keeps nanosecond precision', () => {
    const buf = writePcap([{ ts: 1_700_000_000 + 0.123456789, data: ether(pkts[0]!.ip) }], {
      linkType: 1,
      nano: true,
    });
    const { seen } = parse(buf);
    assert.ok(Math.abs(seen[0]!.ts - (1_700_000_000 + 0.123456789)) < 1e-6);
  });

  it('reports snapped packets (caplen < origLen)', () => {
    const data = ether(pkts[3]!.ip);
    const buf = writePcap([{ ts: 1, data: data.subarray(0, 40), origLen: data.length }], { linkType: 1 });
    const { seen, stats } = parse(buf);
    assert.equal(seen[0]!.caplen, 40);
    assert.equal(seen[0]!.origLen, data.length);
    assert.equal(stats.snapped, 1);
  });
});

describe('CaptureReader: pcapng variants', () => {
  const a = ether(tcp({ src: '10.0.0.1', dst: '10.0.0.2', sport: 1, dport: 2, seq: 1, payload: 'hello' }));
  const b = sll(udp({ src: '10.0.0.3', dst: '10.0.0.4', sport: 53, dport: 999, payload: 'dns' }));

  it('two interfaces with different link types, snaplens and tsresol', () => {
    const buf = writePcapng([
      {
        interfaces: [
          { linkType: 1, snaplen: 65535 },
          { linkType: 113, snaplen: 128, tsresol: 9 },
        ],
        blocks: [
          { type: 'epb', iface: 0, ts: 1_700_000_000.5, data: a },
          { type: 'raw', blockType: 0x0777, body: new Uint8Array(20) }, // unknown block: skipped
          { type: 'epb', iface: 1, ts: 1_700_000_001 + 0.000000123, data: b },
          { type: 'raw', blockType: 5, body: new Uint8Array(28) }, // interface statistics: skipped
        ],
      },
    ]);
    const { seen, stats } = parse(buf);
    assert.equal(stats.format, 'pcapng');
    assert.equal(stats.interfaces, 2);
    assert.deepEqual(
      seen.map((s) => [s.index, s.linkType, s.iface, s.caplen]),
      [
        [1, 1, 0, a.length],
        [2, 113, 1, b.length],
      ],
    );
    assert.ok(Math.abs(seen[0]!.ts - 1_700_000_000.5) < 1e-6);
    assert.ok(Math.abs(seen[1]!.ts - (1_700_000_001 + 0.000000123)) < 1e-6);
  });

  it('binary (2^-n) timestamp resolution', () => {
    const buf = writePcapng([
      {
        interfaces: [{ linkType: 1, tsresol: 0x80 | 10 }],
        blocks: [{ type: 'epb', iface: 0, ts: 1000.5, data: a }],
      },
    ]);
    assert.ok(Math.abs(parse(buf).seen[0]!.ts - 1000.5) < 1e-3);
  });

  it('big-endian section, SPB, obsolete PB and multiple sections with different byte orders', () => {
    const buf = writePcapng([
      {
        bigEndian: true,
        interfaces: [{ linkType: 1, snaplen: 0 }],
        blocks: [
          { type: 'epb', iface: 0, ts: 10, data: a },
          { type: 'spb', data: a },
          { type: 'pb', iface: 0, ts: 12, data: a },
        ],
      },
      {
        interfaces: [{ linkType: 113 }, { linkType: 1 }],
        blocks: [
          { type: 'pb', iface: 1, ts: 20, data: a },
          { type: 'epb', iface: 0, ts: 21, data: b },
          { type: 'spb', data: b },
        ],
      },
    ]);
    const { seen, stats } = parse(buf);
    assert.equal(stats.sections, 2);
    assert.equal(stats.damaged, 0);
    assert.deepEqual(
      seen.map((s) => [s.linkType, s.caplen, s.ts]),
      [
        [1, a.length, 10],
        [1, a.length, 10], // SPB: no timestamp of its own, inherits the previous one
        [1, a.length, 12],
        [1, a.length, 20],
        [113, b.length, 21],
        [113, b.length, 21],
      ],
    );
    assert.deepEqual(parse(buf, () => 1).seen, seen);
    const r = rng(7);
    assert.deepEqual(parse(buf, () => 1 + Math.floor(r() * 40)).seen, seen);
  });

  it('SPB caplen is limited by the interface snaplen', () => {
    const buf = writePcapng([
      { interfaces: [{ linkType: 1, snaplen: 20 }], blocks: [{ type: 'spb', data: a }] },
    ]);
    const { seen } = parse(buf);
    assert.equal(seen[0]!.caplen, 20);
    assert.equal(seen[0]!.origLen, a.length);
  });

  it('a packet on an undefined interface is damaged, not fatal', () => {
    const buf = writePcapng([
      {
        interfaces: [{ linkType: 1 }],
        blocks: [
          { type: 'epb', iface: 3, ts: 1, data: a },
          { type: 'epb', iface: 0, ts: 2, data: a },
        ],
      },
    ]);
    const { seen, stats } = parse(buf);
    assert.equal(stats.damaged, 1);
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.index, 1);
  });
});

describe('CaptureReader: damage', () => {
  const pkts = samplePackets();
  const recs = pkts.map((p) => ({ ts: p.ts, data: ether(p.ip) }));
  const good = writePcap(recs, { linkType: 1 });

  it('a truncated file counts the partial last record as damaged', () => {
    const { seen, stats } = parse(good.subarray(0, good.length - 10));
    assert.equal(seen.length, recs.length - 1);
    assert.equal(stats.damaged, 1);
    assert.equal(stats.bytes, good.length - 10);
  });

  it('a bogus record length is counted and the reader resyncs on the next record', () => {
    const buf = good.slice();
    // third record's caplen := 0x7fffffff
    let off = 24;
    for (let i = 0; i < 2; i++) off += 16 + recs[i]!.data.length;
    new DataView(buf.buffer).setUint32(off + 8, 0x7fffffff, true);
    for (const chunks of [undefined, () => 1, () => 7]) {
      const { seen, stats } = parse(buf, chunks);
      assert.equal(stats.damaged, 1);
      assert.equal(seen.length, recs.length - 1);
      assert.ok(stats.skippedBytes >= 16 + recs[2]!.data.length);
      assert.equal(seen[2]!.caplen, recs[3]!.data.length);
    }
  });

  it('a bogus pcapng block length is counted and the reader resyncs', () => {
    const e = ether(pkts[3]!.ip);
    const buf = writePcapng([
      {
        interfaces: [{ linkType: 1 }],
        blocks: [1, 2, 3, 4].map((t) => ({ type: 'epb' as const, iface: 0, ts: t, data: e })),
      },
    ]);
    const blockLen = 32 + ((e.length + 3) & ~3);
    const second = 28 + 20 + blockLen; // SHB 28, IDB 20
    const bad = buf.slice();
    new DataView(bad.buffer).setUint32(second + 4, 0x00ffff00, true);
    const { seen, stats } = parse(bad);
    assert.equal(stats.damaged, 1);
    assert.deepEqual(
      seen.map((s) => s.ts),
      [1, 3, 4],
    );
    assert.deepEqual(parse(bad, () => 3).seen, seen);
  });

  it('garbage that is not a capture throws CaptureFormatError with the offset', () => {
    const text = new TextEncoder().encode('GET / HTTP/1.1\r\nHost: example\r\n\r\n');
    assert.throws(
      () => parse(text),
      (e: unknown) =>
        e instanceof CaptureFormatError &&
        e.offset === 0 &&
        e.source === 'test' &&
        /not a pcap/.test(e.message),
    );
    assert.throws(() => parse(new Uint8Array(0)), CaptureFormatError);
    assert.throws(
      () => parse(good.subarray(0, 10)),
      (e: unknown) => e instanceof CaptureFormatError && e.offset === 10,
    );
  });

  it('caps the carry buffer at maxRecord', () => {
    const big = writePcap([{ ts: 1, data: new Uint8Array(5000) }, ...recs], { linkType: 1 });
    const { seen, stats } = parse(big, () => 100, 1024);
    assert.equal(stats.damaged, 1);
    assert.equal(seen.length, recs.length);
  });
});

describe('CaptureReader: hostile input (the core reads linear memory: it must never trap or read past a record)', () => {
  it('random bytes behind pcap and pcapng headers, in random chunks: only CaptureFormatError, every byte counted', () => {
    const r = rng(99);
    const e = ether(tcp({ src: '10.0.0.1', dst: '10.0.0.2', sport: 1, dport: 2, seq: 1, payload: 'x' }));
    const heads = [
      writePcap([{ ts: 1, data: e }], { linkType: 1 }),
      writePcap([{ ts: 1, data: e }], { linkType: 1, nano: true, bigEndian: true }),
      writePcapng([{ interfaces: [{ linkType: 1 }], blocks: [{ type: 'epb', iface: 0, ts: 1, data: e }] }]),
      writePcapng([
        { bigEndian: true, interfaces: [{ linkType: 113, tsresol: 9 }], blocks: [{ type: 'spb', data: e }] },
      ]),
    ];
    let packets = 0;
    for (let k = 0; k < 400; k++) {
      const head = heads[k % heads.length]!;
      const body = Uint8Array.from({ length: Math.floor(r() * 6000) }, () => Math.floor(r() * 256));
      // Sprinkle copies of the real records so resyncing has something to find.
      for (let i = 0; i < 4 && body.length > head.length; i++)
        body.set(head, Math.floor(r() * (body.length - head.length)));
      const buf = new Uint8Array(head.length + body.length);
      buf.set(head);
      buf.set(body, head.length);
      const max = r() < 0.3 ? 64 + Math.floor(r() * 500) : undefined;
      const sizes = r() < 0.5 ? undefined : () => 1 + Math.floor(r() * 300);
      try {
        const { seen, stats } = parse(buf, sizes, max);
        packets += seen.length;
        assert.equal(stats.bytes, buf.length);
        for (const s of seen) assert.ok(s.caplen <= buf.length);
      } catch (err) {
        assert.ok(err instanceof CaptureFormatError, String(err));
      }
    }
    assert.ok(packets > 400, `${packets} packets found`);
  });
});
