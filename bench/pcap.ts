/**
 * Capture-layer benchmark: records/s and MB/s for reader only, reader+decode, reader+decode+flows, and
 * peak RSS of each stage (each runs in its own child process so the numbers do not mix).
 *
 * The input is built deterministically: every corpus capture replicated with rewritten IP addresses (so
 * each replica is a distinct set of flows) until the file is >= 150 MB. It lives under /tmp, never in git.
 *
 *   node --import tsx bench/pcap.ts            # build (if needed) and run all stages
 *   node --import tsx bench/pcap.ts FILE       # benchmark an existing capture
 */
import { execFileSync, spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  writeSync,
} from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PacketDecoder } from '../src/sensors/pcap/decode.ts';
import { FlowTable } from '../src/sensors/pcap/flows.ts';
import { CaptureReader } from '../src/sensors/pcap/reader.ts';
import { readCapture } from '../src/sensors/pcap/source.ts';

interface Row {
  name: string;
  value: number;
  unit: string;
  note?: string;
}

const CORPUS = fileURLToPath(new URL('../../shared/corpus/pcap/', import.meta.url));
const TARGET = 150 * 1024 * 1024;
const DEFAULT_FILE = '/tmp/minewatch-bench/pcap-corpus-x-150m.pcap';

interface Pkt {
  ts: number;
  data: Uint8Array;
  /** offsets of the address bytes to rewrite, and their length (4 or 16) */
  src: number;
  dst: number;
  alen: number;
}

function corpusFiles(): string[] {
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

/** Write the replicated capture (pcap, µs, little-endian, Ethernet) in a streaming way. */
export function buildBenchCapture(path = DEFAULT_FILE, target = TARGET): string {
  if (existsSync(path) && statSync(path).size >= target) return path;
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

type Stage = 'reader' | 'decode' | 'flows';

interface StageResult {
  packets: number;
  seconds: number;
  bytes: number;
  maxRssKb: number;
  /** packets decoded (decode stage) / stream+datagram bytes delivered (flows stage): proves the work was done */
  work: number;
  flows?: number;
}

/** Run one stage in this process. */
export async function runStage(stage: Stage, file: string): Promise<StageResult> {
  const dec = new PacketDecoder();
  let payload = 0;
  const table = new FlowTable({
    onData: (_f, _d, data) => {
      payload += data.length;
    },
    onDatagram: (_f, _d, data) => {
      payload += data.length;
    },
  });
  let n = 0;
  const t0 = performance.now();
  const st =
    stage === 'reader'
      ? await readCapture(file, (p) => {
          n += p.caplen > 0 ? 1 : 0;
        })
      : stage === 'decode'
        ? await readCapture(file, (p) => {
            if (dec.decode(p.linkType, p.data)) n++;
          })
        : await readCapture(file, (p) => {
            const d = dec.decode(p.linkType, p.data);
            if (d) table.add(d, p.index, p.tsSec);
          });
  if (stage === 'flows') table.end();
  const seconds = (performance.now() - t0) / 1000;
  return {
    packets: st.packets,
    seconds,
    bytes: st.bytes,
    maxRssKb: process.resourceUsage().maxRSS,
    work: stage === 'flows' ? payload : n,
    ...(stage === 'flows' ? { flows: table.stats.flows } : {}),
  };
}

const SELF = fileURLToPath(import.meta.url);

function stageInChild(stage: Stage, file: string): StageResult {
  const out = execFileSync(process.execPath, ['--import', 'tsx', SELF, '--stage', stage, file], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return JSON.parse(out.trim().split('\n').pop()!) as StageResult;
}

interface Timed {
  seconds: number;
  maxRssKb: number;
}

/** Wall time and peak RSS of a whole command, via GNU time (Debian package `time`). */
function timeCommand(cmd: string, args: string[]): Timed | null {
  if (!existsSync('/usr/bin/time')) return null;
  // spawnSync: the timing line is on stderr whatever the exit code (minewatch exits 1 when it finds mining).
  const r = spawnSync('/usr/bin/time', ['-f', 'MWTIME %e %M', cmd, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'ignore', 'pipe'],
    maxBuffer: 1 << 26,
  });
  return parseTime(r.stderr ?? '');
}

function parseTime(text: string): Timed | null {
  const m = /MWTIME ([\d.]+) (\d+)/.exec(text);
  return m ? { seconds: Number(m[1]), maxRssKb: Number(m[2]) } : null;
}

function which(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const best = (runs: Array<Timed | null>): Timed | null =>
  runs
    .filter((r): r is Timed => r !== null)
    .reduce<Timed | null>(
      (a, b) =>
        !a || b.seconds < a.seconds
          ? { seconds: b.seconds, maxRssKb: Math.max(b.maxRssKb, a?.maxRssKb ?? 0) }
          : { ...a, maxRssKb: Math.max(a.maxRssKb, b.maxRssKb) },
      null,
    );

/**
 * The whole `minewatch pcap` command (compiled, as users run it: start-up, intel load, every detector, JSON
 * out) against ndpiReader (full DPI, quiet) and tshark (full dissection: protocol hierarchy statistics) on the
 * same file, best of two runs each.
 */
export function benchPeers(path: string, packets: number, mb: number): Row[] {
  const rows: Row[] = [];
  const bin = fileURLToPath(new URL('../bin/minewatch.js', import.meta.url));
  const dist = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
  if (!existsSync(dist))
    execFileSync('npm', ['run', 'build'], {
      stdio: 'ignore',
      cwd: fileURLToPath(new URL('..', import.meta.url)),
    });
  const tools: Array<[string, string, string[]]> = [
    ['minewatch pcap', process.execPath, [bin, 'pcap', path, '--format', 'json', '--no-user-intel']],
    ['ndpiReader -q', 'ndpiReader', ['-i', path, '-q']],
    ['tshark -z io,phs', 'tshark', ['-r', path, '-q', '-z', 'io,phs']],
  ];
  const results = new Map<string, Timed>();
  for (const [label, cmd, args] of tools) {
    if (cmd !== process.execPath && !which(cmd)) {
      rows.push({
        name: `${label}`,
        value: Number.NaN,
        unit: 'packets/s',
        note: `${cmd} not installed (apt-get install ${cmd === 'tshark' ? 'tshark' : 'libndpi-bin'} time)`,
      });
      continue;
    }
    const r = best([timeCommand(cmd, args), timeCommand(cmd, args)]);
    if (!r) continue;
    results.set(label, r);
    rows.push({
      name: `${label} packets/s`,
      value: packets / r.seconds,
      unit: 'packets/s',
      note: `${r.seconds.toFixed(2)} s wall`,
    });
    rows.push({ name: `${label} MB/s`, value: mb / r.seconds, unit: 'MB/s' });
    rows.push({ name: `${label} peak RSS`, value: r.maxRssKb / 1024, unit: 'MB' });
  }
  const mw = results.get('minewatch pcap');
  for (const peer of ['ndpiReader -q', 'tshark -z io,phs']) {
    const p = results.get(peer);
    if (mw && p)
      rows.push({
        name: `ratio minewatch / ${peer} (packets/s)`,
        value: p.seconds / mw.seconds,
        unit: 'x',
        note: 'target vs ndpiReader: >= 2',
      });
  }
  return rows;
}

export async function benchPcap(file?: string): Promise<Row[]> {
  const path = file ?? buildBenchCapture();
  const mb = statSync(path).size / 1e6;
  const rows: Row[] = [];
  for (const stage of ['reader', 'decode', 'flows'] as const) {
    // best of two runs: the machine is shared
    const a = stageInChild(stage, path);
    const b = stageInChild(stage, path);
    const r = a.seconds <= b.seconds ? a : b;
    const label =
      stage === 'reader' ? 'reader' : stage === 'decode' ? 'reader+decode' : 'reader+decode+flows';
    const note = `${r.packets.toLocaleString('en-US')} packets, ${mb.toFixed(0)} MB${r.flows ? `, ${r.flows.toLocaleString('en-US')} flows` : ''}`;
    rows.push({ name: `pcap ${label} records/s`, value: r.packets / r.seconds, unit: 'records/s', note });
    rows.push({ name: `pcap ${label} MB/s`, value: mb / r.seconds, unit: 'MB/s' });
    rows.push({ name: `pcap ${label} peak RSS`, value: Math.max(a.maxRssKb, b.maxRssKb) / 1024, unit: 'MB' });
  }
  const packets = stageInChild('reader', path).packets;
  rows.push(...benchPeers(path, packets, mb));
  return rows;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  if (args[0] === '--stage') {
    const res = await runStage(args[1] as Stage, args[2]!);
    process.stdout.write(`${JSON.stringify(res)}\n`);
  } else {
    const rows = await benchPcap(args[0]);
    for (const r of rows)
      console.log(
        `${r.name.padEnd(44)} ${Math.round(r.value).toLocaleString('en-US').padStart(14)} ${r.unit}${r.note ? `  (${r.note})` : ''}`,
      );
  }
}
