import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { CaptureFormatError } from './reader.ts';
import { readCapture, readCaptureFlows } from './source.ts';

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
});
