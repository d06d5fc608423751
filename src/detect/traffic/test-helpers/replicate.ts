import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PacketDecoder } from '../../../sensors/pcap/decode.ts';
import { CaptureReader } from '../../../sensors/pcap/reader.ts';

/** test/corpus/pcap/ in the repository. */
export const CORPUS = fileURLToPath(new URL('../../../../test/corpus/pcap/', import.meta.url));

interface Pkt {
  ts: number;
  data: Uint8Array;
  /** offsets of the address bytes to rewrite, and their length (4 or 16) */
  src: number;
  dst: number;
  alen: number;
}

/** Every corpus capture, in a fixed order. */
export function corpusFiles(): string[] {
  const out: string[] = [];
  for (const sub of readdirSync(CORPUS).sort())
    for (const f of readdirSync(`${CORPUS}${sub}`).sort())
      if (/\.pcap(ng)?$/.test(f)) out.push(`${CORPUS}${sub}/${f}`);
  return out;
}

/** Load every Ethernet packet of the corpus, with where its IP addresses sit. */
function loadCorpus(): Pkt[][] {
  const files: Pkt[][] = [];
  const dec = new PacketDecoder();
  for (const f of corpusFiles()) {
    const pk: Pkt[] = [];
    const r = new CaptureReader({ source: f });
    r.push(readFileSync(f), (p) => {
      if (p.linkType !== 1) return;
      const data = p.data.slice();
      const d = dec.decode(1, data);
      pk.push({
        ts: p.tsSec,
        data,
        src: d ? d.srcOff : -1,
        dst: d ? d.dstOff : -1,
        alen: d?.ipVersion === 6 ? 16 : 4,
      });
    });
    r.end();
    files.push(pk);
  }
  return files;
}

/**
 * Writes every Ethernet packet of the corpus, replicated with rewritten addresses (each replica a new set of
 * hosts and flows) until the file holds at least `target` bytes (pcap, µs, little-endian), streaming.
 * Deterministic: the bench capture and the parallel-analysis test are made by it.
 */
export function writeReplicatedCorpus(path: string, target: number): string {
  mkdirSync(path.replace(/\/[^/]*$/, ''), { recursive: true });
  const files = loadCorpus();
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w');
  const hdr = new Uint8Array(24);
  const hv = new DataView(hdr.buffer);
  hv.setUint32(0, 0xa1b2c3d4, true);
  hv.setUint16(4, 2, true);
  hv.setUint16(6, 4, true);
  hv.setUint32(16, 262144, true);
  hv.setUint32(20, 1, true);
  writeSync(fd, hdr);
  let size = 24;
  const buf = new Uint8Array(4 << 20);
  const bv = new DataView(buf.buffer);
  let used = 0;
  const base = 1_700_000_000;
  for (let rep = 0; size < target; rep++) {
    for (const pk of files) {
      const t0 = pk[0]?.ts ?? 0;
      for (const p of pk) {
        const need = 16 + p.data.length;
        if (used + need > buf.length) {
          writeSync(fd, buf, 0, used);
          used = 0;
        }
        const ts = base + rep * 4000 + (p.ts - t0);
        const sec = Math.floor(ts);
        bv.setUint32(used, sec, true);
        bv.setUint32(used + 4, Math.min(999999, Math.round((ts - sec) * 1e6)), true);
        bv.setUint32(used + 8, p.data.length, true);
        bv.setUint32(used + 12, p.data.length, true);
        buf.set(p.data, used + 16);
        if (p.src >= 0) {
          // Rewrite both addresses so each replica is a new set of flows; the last two bytes carry the replica.
          for (const o of [p.src, p.dst]) {
            const at = used + 16 + o + p.alen - 2;
            buf[at] = buf[at]! ^ ((rep >> 8) & 255);
            buf[at + 1] = buf[at + 1]! ^ (rep & 255);
          }
        }
        used += need;
        size += need;
      }
    }
  }
  writeSync(fd, buf, 0, used);
  closeSync(fd);
  renameSync(tmp, path);
  return path;
}
