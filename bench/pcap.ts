/**
 * Capture-layer benchmark: records/s and MB/s for reader only, reader+decode, reader+decode+flows, the whole
 * analysis in-process (reader+decode+flows+detect, no CLI start-up), and peak RSS of each stage (each runs
 * in its own child process so the numbers do not mix); then the whole `minewatch pcap` command against
 * ndpiReader and tshark, with wall and CPU (user+sys) time: the machine may be shared, and CPU time is the
 * less load-sensitive of the two. The load average is printed with the results.
 *
 * The input is built deterministically: every corpus capture replicated with rewritten IP addresses (so
 * each replica is a distinct set of flows) until the file is >= 150 MB. It lives under /tmp, never in git.
 *
 *   node --import tsx bench/pcap.ts            # build (if needed) and run all stages
 *   node --import tsx bench/pcap.ts FILE       # benchmark an existing capture
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { analyseCapture } from '../src/detect/traffic/capture.ts';
import { corpusFiles, writeReplicatedCorpus } from '../src/detect/traffic/test-helpers/replicate.ts';
import { loadIntel } from '../src/intel/index.ts';
import { readCaptureFlows, scanCapture } from '../src/sensors/pcap/source.ts';
import type { BenchRow as Row } from './row.ts';

const TARGET = 150 * 1024 * 1024;
const DEFAULT_FILE = '/tmp/minewatch-bench/pcap-corpus-x-150m.pcap';

/** The bench capture, built once (deterministic) and kept under /tmp. */
export function buildBenchCapture(path = DEFAULT_FILE, target = TARGET): string {
  if (existsSync(path) && statSync(path).size >= target) return path;
  return writeReplicatedCorpus(path, target);
}

type Stage = 'reader' | 'decode' | 'flows' | 'analyse';

interface StageResult {
  packets: number;
  seconds: number;
  bytes: number;
  maxRssKb: number;
  /** packets decoded (decode stage) / stream+datagram bytes delivered (flows stage): proves the work was done */
  work: number;
  flows?: number;
  /** CPU time (user+sys, all threads) of the stage. */
  cpuSeconds: number;
}

/** Run one stage in this process. */
export async function runStage(stage: Stage, file: string): Promise<StageResult> {
  let payload = 0;
  let n = 0;
  if (stage === 'analyse') {
    // The whole detection pass, as `minewatch pcap` runs it, minus CLI start-up and output (intel is loaded
    // before the clock starts: the CLI's start-up is timed separately).
    const intel = loadIntel({ userDir: null });
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const r = await analyseCapture(file, { intel });
    const seconds = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(c0);
    return {
      packets: r.summary.packets,
      seconds,
      bytes: r.summary.bytes,
      maxRssKb: process.resourceUsage().maxRSS,
      work: r.findings.length,
      flows: r.summary.flows,
      cpuSeconds: (c.user + c.system) / 1e6,
    };
  }
  // The packet core's own loop (source.ts): reader only, reader + decoder, then reader + decoder + flow table with
  // handlers that only count the bytes delivered (as readCaptureFlows runs it for the analyzer, no JS per packet).
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let packets: number;
  let bytes: number;
  let flows = 0;
  if (stage === 'flows') {
    const st = await readCaptureFlows(file, {
      onData: (_f, _d, data) => {
        payload += data.length;
      },
      onDatagram: (_f, _d, data) => {
        payload += data.length;
      },
    });
    packets = st.capture.packets;
    bytes = st.capture.bytes;
    flows = st.flows.flows;
  } else {
    const st = await scanCapture(file, stage === 'reader' ? 'read' : 'decode');
    packets = st.capture.packets;
    bytes = st.capture.bytes;
    n = stage === 'reader' ? st.capture.packets : st.decode.ok;
  }
  const seconds = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  return {
    cpuSeconds: (c.user + c.system) / 1e6,
    packets,
    seconds,
    bytes,
    maxRssKb: process.resourceUsage().maxRSS,
    work: stage === 'flows' ? payload : n,
    ...(stage === 'flows' ? { flows } : {}),
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

export interface Timed {
  seconds: number;
  /** user + sys CPU seconds of the command (all its threads) */
  cpu: number;
  maxRssKb: number;
}

/** Wall time and peak RSS of a whole command, via GNU time (Debian package `time`). */
export function timeCommand(cmd: string, args: string[]): Timed | null {
  if (!existsSync('/usr/bin/time')) return null;
  // spawnSync: the timing line is on stderr whatever the exit code (minewatch exits 1 when it finds mining).
  const r = spawnSync('/usr/bin/time', ['-f', 'MWTIME %e %M %U %S', cmd, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'ignore', 'pipe'],
    maxBuffer: 1 << 26,
  });
  return parseTime(r.stderr ?? '');
}

function parseTime(text: string): Timed | null {
  const m = /MWTIME ([\d.]+) (\d+) ([\d.]+) ([\d.]+)/.exec(text);
  return m ? { seconds: Number(m[1]), maxRssKb: Number(m[2]), cpu: Number(m[3]) + Number(m[4]) } : null;
}

export function which(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Best wall time and best CPU time (each the minimum over the runs), and the highest peak RSS. */
export const best = (runs: Array<Timed | null>): Timed | null => {
  const ok = runs.filter((r): r is Timed => r !== null);
  if (ok.length === 0) return null;
  return {
    seconds: Math.min(...ok.map((r) => r.seconds)),
    cpu: Math.min(...ok.map((r) => r.cpu)),
    maxRssKb: Math.max(...ok.map((r) => r.maxRssKb)),
  };
};

/** The smallest capture of the corpus: a run on it is minewatch's fixed start-up cost. */
export function smallestCorpusCapture(): string | undefined {
  return corpusFiles()
    .map((f) => ({ f, size: statSync(f).size }))
    .sort((a, b) => a.size - b.size)[0]?.f;
}

/** Runs of each whole command (interleaved, so a burst of load from elsewhere hits every tool alike). */
const COMMAND_RUNS = 3;

/**
 * The whole `minewatch pcap` command (compiled, as users run it: start-up, intel load, every detector, JSON
 * report to a discarded stdout; `--no-user-intel` so no user intel directory is read) against ndpiReader
 * (`-q`: full DPI of every flow, no per-flow printout) and tshark (`-q -z io,phs`: full dissection, protocol
 * hierarchy statistics) on the same file; runs interleaved, best wall and best CPU time of COMMAND_RUNS each.
 * Also minewatch's fixed start-up cost (the same command on the smallest corpus capture), which every file pays.
 * dist/ is used as built: run `npm run build` after changing sources (a stale dist is reported).
 */
export function benchPeers(path: string, packets: number, mb: number): Row[] {
  const rows: Row[] = [];
  const root = fileURLToPath(new URL('..', import.meta.url));
  const bin = fileURLToPath(new URL('../bin/minewatch.js', import.meta.url));
  const dist = fileURLToPath(new URL('../dist/main.js', import.meta.url));
  if (!existsSync(dist)) execFileSync('npm', ['run', 'build'], { stdio: 'ignore', cwd: root });
  const built = statSync(dist).mtimeMs;
  const stale = ['src/sensors/pcap', 'src/sensors/protocols', 'src/detect/traffic'].some((d) =>
    readdirSync(`${root}${d}`).some((f) => statSync(`${root}${d}/${f}`).mtimeMs > built),
  );
  if (stale) process.stderr.write('bench/pcap: dist/ is older than the sources: run `npm run build` first\n');
  const tools: Array<[string, string, string[]]> = [
    ['minewatch pcap', process.execPath, [bin, 'pcap', path, '--format', 'json', '--no-user-intel']],
    [
      'minewatch pcap --threads 2',
      process.execPath,
      [bin, 'pcap', path, '--format', 'json', '--no-user-intel', '--threads', '2'],
    ],
    ['ndpiReader -q', 'ndpiReader', ['-i', path, '-q']],
    ['tshark -z io,phs', 'tshark', ['-r', path, '-q', '-z', 'io,phs']],
  ];
  const runs = new Map<string, Array<Timed | null>>();
  for (const [label, cmd] of tools) {
    if (cmd !== process.execPath && !which(cmd)) {
      rows.push({
        name: `${label}`,
        value: Number.NaN,
        unit: 'packets/s',
        note: `${cmd} not installed (apt-get install ${cmd === 'tshark' ? 'tshark' : 'libndpi-bin'} time)`,
      });
      continue;
    }
    runs.set(label, []);
  }
  for (let i = 0; i < COMMAND_RUNS; i++)
    for (const [label, cmd, args] of tools) runs.get(label)?.push(timeCommand(cmd, args));
  const results = new Map<string, Timed>();
  for (const [label, rs] of runs) {
    const r = best(rs);
    if (!r) continue;
    results.set(label, r);
    rows.push({
      name: `${label} packets/s`,
      value: packets / r.seconds,
      unit: 'packets/s',
      note: `${r.seconds.toFixed(2)} s wall, ${r.cpu.toFixed(2)} s CPU`,
    });
    rows.push({ name: `${label} packets/CPU-s`, value: packets / r.cpu, unit: 'packets/s' });
    rows.push({ name: `${label} MB/s`, value: mb / r.seconds, unit: 'MB/s' });
    rows.push({ name: `${label} peak RSS`, value: r.maxRssKb / 1024, unit: 'MB' });
  }
  const tiny = smallestCorpusCapture();
  if (tiny) {
    const args = [bin, 'pcap', tiny, '--format', 'json', '--no-user-intel'];
    const r = best(Array.from({ length: COMMAND_RUNS }, () => timeCommand(process.execPath, args)));
    if (r)
      rows.push({
        name: 'minewatch pcap start-up (smallest capture)',
        value: r.seconds * 1000,
        unit: 'ms',
        note: `${(r.cpu * 1000).toFixed(0)} ms CPU`,
      });
  }
  for (const own of ['minewatch pcap', 'minewatch pcap --threads 2']) {
    const mw = results.get(own);
    for (const peer of ['ndpiReader -q', 'tshark -z io,phs']) {
      const p = results.get(peer);
      if (!mw || !p) continue;
      const who = own.replace('minewatch pcap', 'minewatch');
      rows.push({
        name: `ratio ${who} / ${peer} (packets/s)`,
        value: p.seconds / mw.seconds,
        unit: 'x',
        ...(peer.startsWith('ndpiReader') ? { note: 'target: >= 2' } : {}),
      });
      rows.push({ name: `ratio ${who} / ${peer} (packets/CPU-s)`, value: p.cpu / mw.cpu, unit: 'x' });
    }
  }
  return rows;
}

export async function benchPcap(file?: string): Promise<Row[]> {
  const path = file ?? buildBenchCapture();
  const mb = statSync(path).size / 1e6;
  const rows: Row[] = [];
  rows.push({ name: 'load average (1 min) at start', value: loadavg()[0]!, unit: '', note: 'machine load' });
  for (const stage of ['reader', 'decode', 'flows', 'analyse'] as const) {
    // best of two runs: the machine is shared
    const a = stageInChild(stage, path);
    const b = stageInChild(stage, path);
    const r = a.seconds <= b.seconds ? a : b;
    const label =
      stage === 'reader'
        ? 'reader'
        : stage === 'decode'
          ? 'reader+decode'
          : stage === 'flows'
            ? 'reader+decode+flows'
            : 'analyse (in-process, +detect)';
    const note = `${r.packets.toLocaleString('en-US')} packets, ${mb.toFixed(0)} MB${r.flows ? `, ${r.flows.toLocaleString('en-US')} flows` : ''}`;
    rows.push({
      name: `pcap ${label} records/s`,
      value: r.packets / r.seconds,
      unit: 'records/s',
      note: `${note}, ${r.seconds.toFixed(2)} s wall, ${r.cpuSeconds.toFixed(2)} s CPU`,
    });
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
        // Ratios and load are small numbers: rounding them to integers hid whether a target was met.
        `${r.name.padEnd(48)} ${(Math.abs(r.value) < 100 ? r.value.toFixed(2) : Math.round(r.value).toLocaleString('en-US')).padStart(14)} ${r.unit}${r.note ? `  (${r.note})` : ''}`,
      );
  }
}
