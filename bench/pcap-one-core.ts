/**
 * #18's measure: `minewatch pcap` against ndpiReader pinned to one core (`taskset -c 0`), on the 158 MB bench
 * capture (552k packets) and on a 500 MB one built the same way (the corpus replicated with rewritten addresses).
 * Whole commands, as users run them (start-up, intel, every detector, JSON to a discarded stdout), interleaved
 * minewatch / ndpiReader so a burst of load from elsewhere hits both; best wall time of RUNS each, CPU time and
 * peak RSS beside it. The target is a ratio >= 2 (minewatch's packets/s over ndpiReader's) on both files, with
 * minewatch's peak RSS <= 256 MB.
 *
 * Beside the ratio, what it is made of: each tool's start-up (the smallest corpus capture; bare `node -e 0` for
 * Node's own share), and minewatch's analysis run five times in one pinned process (bench/pcap-warm.ts): its first
 * run, and its steady state (best of the later ones), when the intel is loaded, the code compiled and warm. The
 * steady state against ndpiReader's time less its own start-up is the per-packet ratio; the whole command's ratio
 * is lower by the fixed costs a short capture cannot spread (docs/packet-core.md, "Where #18 stops").
 *
 *   node --import tsx bench/pcap-one-core.ts      (also `npm run bench -- pcap1`)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { best, buildBenchCapture, smallestCorpusCapture, type Timed, timeCommand, which } from './pcap.ts';
import type { warmRuns } from './pcap-warm.ts';
import type { BenchRow as Row } from './row.ts';

const RUNS = 3;
const BIN = fileURLToPath(new URL('../bin/minewatch.js', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const WARM = fileURLToPath(new URL('./pcap-warm.ts', import.meta.url));
/** Runs of the analysis in one process; the first is the cold one. */
const WARM_RUNS = 5;

/** One pinned run under GNU time (the exit code is ignored: minewatch exits 1 when it finds mining). */
const pinned = (cmd: string, args: string[]): Timed | null =>
  timeCommand('taskset', ['-c', '0', cmd, ...args]);

/** Best of RUNS pinned runs. */
const bestOf = (cmd: string, args: string[]): Timed | null =>
  best(Array.from({ length: RUNS }, () => pinned(cmd, args)));

/**
 * The analysis run WARM_RUNS times in one pinned process: the first run's seconds, the best later one's, and whether
 * V8 took the bundle's code cache (as it does for the whole command); or why there are none.
 */
function warm(file: string): { first: number; steady: number; cache: string } | { error: string } {
  const r = spawnSync(
    'taskset',
    ['-c', '0', process.execPath, '--import', 'tsx', WARM, file, String(WARM_RUNS)],
    { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 20 },
  );
  try {
    const { seconds, cache } = JSON.parse(r.stdout) as Awaited<ReturnType<typeof warmRuns>>;
    return { first: seconds[0]!, steady: Math.min(...seconds.slice(1)), cache };
  } catch {
    return { error: (r.stderr || r.error?.message || `exit ${r.status}`).trim().split('\n').slice(-1)[0]! };
  }
}

/** Packets in a capture, counted by minewatch's own summary (the same number both tools read). */
function packetsOf(file: string): number {
  const r = spawnSync(process.execPath, [BIN, 'pcap', file, '--format', 'json', '--no-user-intel'], {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  const out = JSON.parse(r.stdout) as { summary: { captures: Array<{ packets: number }> } };
  return out.summary.captures[0]!.packets;
}

export async function benchPcapOneCore(): Promise<Row[]> {
  const rows: Row[] = [];
  if (!existsSync('/usr/bin/time') || !which('taskset')) {
    return [{ name: 'pcap one core', value: Number.NaN, unit: '', note: 'needs /usr/bin/time and taskset' }];
  }
  if (!existsSync(`${ROOT}dist/main.js`))
    execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' });
  rows.push({ name: 'load average (1 min) at start', value: loadavg()[0]!, unit: '' });
  const smallest = smallestCorpusCapture();
  const startNode = bestOf(process.execPath, ['-e', '0']);
  const startMw = smallest
    ? bestOf(process.execPath, [BIN, 'pcap', smallest, '--format', 'json', '--no-user-intel'])
    : null;
  const startNd = smallest && which('ndpiReader') ? bestOf('ndpiReader', ['-i', smallest, '-q']) : null;
  for (const [t, r] of [
    ['bare node -e 0', startNode],
    ['minewatch pcap', startMw],
    ['ndpiReader -q', startNd],
  ] as const)
    if (r)
      rows.push({
        name: `start-up, 1 core: ${t}`,
        value: r.seconds,
        unit: 's',
        note:
          t === 'bare node -e 0'
            ? "Node's own share of minewatch's"
            : `smallest corpus capture (${smallest})`,
      });
  const files: Array<[string, string]> = [
    ['158 MB', buildBenchCapture()],
    ['500 MB', buildBenchCapture('/tmp/minewatch-bench/pcap-corpus-x-500m.pcap', 500 * 1024 * 1024)],
  ];
  for (const [label, file] of files) {
    const packets = packetsOf(file);
    const tools: Array<[string, string, string[]]> = [
      ['minewatch pcap', process.execPath, [BIN, 'pcap', file, '--format', 'json', '--no-user-intel']],
      ...(which('ndpiReader')
        ? [['ndpiReader -q', 'ndpiReader', ['-i', file, '-q']] as [string, string, string[]]]
        : []),
    ];
    const runs = new Map<string, Array<Timed | null>>(tools.map(([t]) => [t, []]));
    for (let i = 0; i < RUNS; i++) for (const [t, cmd, args] of tools) runs.get(t)!.push(pinned(cmd, args));
    const bests = new Map<string, Timed>();
    for (const [t, rs] of runs) {
      const b = best(rs);
      if (!b) continue;
      bests.set(t, b);
      rows.push({
        name: `${label}, 1 core: ${t} packets/s`,
        value: packets / b.seconds,
        unit: 'packets/s',
        note: `${packets.toLocaleString('en-US')} packets, ${b.seconds.toFixed(2)} s wall, ${b.cpu.toFixed(2)} s CPU, ${(b.maxRssKb / 1024).toFixed(0)} MB peak RSS`,
      });
    }
    const mw = bests.get('minewatch pcap');
    const nd = bests.get('ndpiReader -q');
    if (mw && nd)
      rows.push({
        name: `${label}, 1 core: ratio minewatch / ndpiReader`,
        value: nd.seconds / mw.seconds,
        unit: 'x',
        note: 'target: >= 2',
      });
    const w = warm(file);
    if ('error' in w)
      rows.push({
        name: `${label}, 1 core: minewatch analysis in one process`,
        value: Number.NaN,
        unit: '',
        note: w.error,
      });
    else {
      rows.push({
        name: `${label}, 1 core: minewatch analysis, first run in a process`,
        value: w.first,
        unit: 's',
        note: `the bundle already loaded (code cache ${w.cache}): intel, cold code, compilers, heap growth`,
      });
      rows.push({
        name: `${label}, 1 core: minewatch analysis, steady state packets/s`,
        value: packets / w.steady,
        unit: 'packets/s',
        note: `${w.steady.toFixed(2)} s, best of runs 2-${WARM_RUNS} in one process`,
      });
      if (nd && startNd)
        rows.push({
          name: `${label}, 1 core: per-packet ratio (steady state)`,
          value: (nd.seconds - startNd.seconds) / w.steady,
          unit: 'x',
          note: "ndpiReader's wall less its start-up, over minewatch's steady state; not the target, what the target's ratio loses to fixed costs",
        });
    }
    if (!nd)
      rows.push({
        name: `${label}: ndpiReader`,
        value: Number.NaN,
        unit: '',
        note: 'apt-get install libndpi-bin',
      });
  }
  return rows;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const r of await benchPcapOneCore())
    console.log(
      `${r.name.padEnd(52)} ${Number.isFinite(r.value) ? (r.value < 100 ? r.value.toFixed(2) : Math.round(r.value).toLocaleString('en-US')) : '-'} ${r.unit}${r.note ? `  (${r.note})` : ''}`,
    );
}
