import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { Flow, FlowHandlers } from './flows.ts';
import { CaptureFormatError } from './reader.ts';
import { readCapture, readCaptureFlows, scanCapture } from './source.ts';
import { conversation, ether, gre, vxlan, writePcap, writePcapng } from './testkit.ts';

const CORPUS = new URL('../../../test/corpus/pcap/', import.meta.url);
const file = (p: string): string => new URL(p, CORPUS).pathname;

async function* chunked(buf: Uint8Array, sizes: number[]): AsyncGenerator<Uint8Array> {
  let i = 0;
  for (let off = 0; off < buf.length; i++) {
    const n = sizes[i % sizes.length]!;
    yield buf.subarray(off, off + n);
    off += n;
  }
}

describe('readCapture', () => {
  it('reads a file with a tiny read buffer and gives the same packets as a large one', async () => {
    const a: number[] = [];
    const b: number[] = [];
    const s1 = await readCapture(file('zeek-cryptomining/coinhive.pcap'), (p) => a.push(p.caplen, p.tsSec));
    const s2 = await readCapture(file('zeek-cryptomining/coinhive.pcap'), (p) => b.push(p.caplen, p.tsSec), {
      chunkSize: 97,
    });
    assert.equal(s1.packets, 1912);
    assert.deepEqual(b, a);
    assert.deepEqual(s2, s1);
  });

  it("'-' reads stdin in whatever chunks it arrives", async () => {
    const buf = readFileSync(file('ndpi/mining.pcapng'));
    let n = 0;
    const st = await readCapture('-', () => n++, { stdin: chunked(buf, [1, 5000, 3, 65536, 17]) });
    assert.equal(n, 673);
    assert.equal(st.format, 'pcapng');
  });

  it('a file that is not a capture is a CaptureFormatError naming the file and offset', async () => {
    const path = new URL('../README.md', CORPUS).pathname;
    await assert.rejects(
      readCapture(path, () => {}),
      (e: unknown) =>
        e instanceof CaptureFormatError && e.source === path && e.offset === 0 && e.message.includes(path),
    );
  });

  it('a missing file rejects with the path in the error', async () => {
    await assert.rejects(
      readCapture('/nonexistent/x.pcap', () => {}),
      /x\.pcap/,
    );
  });

  it('readCaptureFlows wires reader, decoder and flow table together', async () => {
    const st = await readCaptureFlows(file('ndpi/ethereum.pcap'), {});
    assert.equal(st.capture.packets, 2000);
    assert.equal(st.decode.ok, 2000);
    assert.equal(st.flows.packets, 2000);
    assert.equal(st.flows.tcpFlows, 56);
    assert.equal(st.flows.udpFlows, 18);
  });

  it('the fused loop and the per-record path (an onPacket observer) give the same events and stats', async () => {
    for (const f of ['ndpi/mining.pcapng', 'zeek-cryptomining/coinhive.pcap', 'ndpi/ethereum.pcap']) {
      const fused = recorder();
      const a = await readCaptureFlows(file(f), fused.handlers);
      const observed = recorder();
      let seen = 0;
      const b = await readCaptureFlows(file(f), observed.handlers, { onPacket: () => seen++ });
      assert.equal(seen, a.capture.packets, f);
      assert.ok(fused.events.length > a.capture.packets / 4, f);
      assert.deepEqual(observed.events, fused.events, f);
      assert.deepEqual(b, a, f);
    }
  });

  it('records cut by every read (a 97-byte read size) and stdin chunks change nothing', async () => {
    const f = file('ndpi/mining.pcapng');
    const whole = recorder();
    const a = await readCaptureFlows(f, whole.handlers);
    const small = recorder();
    const b = await readCaptureFlows(f, small.handlers, { chunkSize: 97 });
    assert.deepEqual(small.events, whole.events);
    assert.deepEqual(b, a);
    const piped = recorder();
    const c = await readCaptureFlows('-', piped.handlers, {
      stdin: chunked(readFileSync(f), [1, 5000, 3, 65536, 17]),
    });
    assert.deepEqual(piped.events, whole.events);
    assert.deepEqual(c, a);
  });

  it('tunnelled packets and damage are counted by the core loop as by the decoder', async () => {
    const pkts = conversation('10.0.0.1:40000', '10.0.0.2:3333', [
      { from: 'c', data: '{"id":1,"method":"login"}\n' },
      { from: 's', data: '{"id":1,"result":{}}\n' },
    ]);
    const recs = pkts.flatMap((p, i) => [
      { ts: p.ts, data: ether(vxlan(ether(p.ip))) },
      { ts: p.ts, data: ether(gre(p.ip, { ptype: 0x0800 })) },
      { ts: p.ts, data: ether(p.ip).subarray(0, 20 + (i % 3)) },
    ]);
    const path = tmpCapture(writePcap(recs, { linkType: 1 }));
    const st = await readCaptureFlows(path, {});
    assert.equal(st.capture.packets, recs.length);
    assert.equal(st.decode.ok, pkts.length * 2);
    assert.equal(st.decode.tunnelled, pkts.length * 2);
    assert.equal(st.decode.damaged, pkts.length);
    // The same packet twice (VXLAN, GRE) is a retransmission of itself: one flow.
    assert.equal(st.flows.flows, 1);
  });

  it('scanCapture reads and decodes in the core alone', async () => {
    const r = await scanCapture(file('ndpi/ethereum.pcap'), 'read');
    const d = await scanCapture(file('ndpi/ethereum.pcap'), 'decode');
    assert.equal(r.capture.packets, 2000);
    assert.equal(r.decode.ok, 0);
    assert.deepEqual(d.capture, r.capture);
    assert.equal(d.decode.ok, 2000);
  });

  it('a pcapng whose first block is not sound is a CaptureFormatError with its offset, in the fused loop too', async () => {
    const buf = writePcapng([{ interfaces: [{ linkType: 1 }], blocks: [] }]);
    new DataView(buf.buffer).setUint32(4, 13, true); // SHB length: not a multiple of 4
    await assert.rejects(
      readCaptureFlows(tmpCapture(buf), {}),
      (e: unknown) =>
        e instanceof CaptureFormatError && e.offset === 4 && /block length 13 is invalid/.test(e.message),
    );
  });
});

/** Handlers that record every event (flow by id, payload as text) for comparing two runs. */
function recorder(): { handlers: FlowHandlers; events: string[] } {
  const events: string[] = [];
  const key = (f: Flow) => `${f.id} ${f.client}:${f.clientPort}>${f.server}:${f.serverPort}/${f.proto}`;
  const text = (d: Uint8Array) => Buffer.from(d).toString('latin1');
  return {
    events,
    handlers: {
      onOpen: (f, i, ts) => events.push(`open ${key(f)} ${i} ${ts}`),
      onData: (f, dir, d, i, ts) => events.push(`data ${f.id} ${dir} ${i} ${ts} ${text(d)}`),
      onDatagram: (f, dir, d, i, ts) => events.push(`dgram ${f.id} ${dir} ${i} ${ts} ${text(d)}`),
      onGap: (f, dir, n, i) => events.push(`gap ${f.id} ${dir} ${n} ${i}`),
      onClose: (f, why) =>
        events.push(`close ${f.id} ${why} ${JSON.stringify([f.packets, f.bytes, f.lastTs, f.sawSyn])}`),
    },
  };
}

const TMP = mkdtempSync(join(tmpdir(), 'mw-source-'));
after(() => rmSync(TMP, { recursive: true, force: true }));
let tmpN = 0;
function tmpCapture(buf: Uint8Array): string {
  const path = join(TMP, `t${tmpN++}.pcap`);
  writeFileSync(path, buf);
  return path;
}
