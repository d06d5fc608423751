/**
 * Flow-table bounds at full size: a capture of 1M spoofed SYNs (in two minutes) and one of 1M short
 * connections (each SYN, SYN/ACK, request, reply, RST; over 15 minutes) around the mining sessions of
 * test-helpers/flood-scenario.ts, against the table's defaults (50,000 flows, 10,000 kept, half-open 30 s).
 * For each: peak RSS, time, flows evicted and timed out, and whether the mining findings equal those of the
 * sessions alone. The captures are built by code into a temp dir (not kept). Each analysis runs in its own
 * child process so peak RSS is its own; `minewatch pcap` from dist/ is timed too when dist/ is built.
 *
 *   node --import tsx bench/flood.ts            # 1M each
 *   node --import tsx bench/flood.ts 200000     # a smaller count
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { holdYoungGeneration, PCAP_V8_FLAGS } from '../src/cli/pcap-v8.ts';
import { analyseCapture } from '../src/detect/traffic/capture.ts';
import { type FloodSpec, writeFloodCapture } from '../src/detect/traffic/test-helpers/flood.ts';
import { floodScenario, sameMiningFindings } from '../src/detect/traffic/test-helpers/flood-scenario.ts';
import type { Finding } from '../src/findings/index.ts';
import { loadIntel } from '../src/intel/index.ts';
import type { BenchRow } from './row.ts';

const SELF = fileURLToPath(import.meta.url);
const CLI = fileURLToPath(new URL('../bin/minewatch.js', import.meta.url));
const DIST = fileURLToPath(new URL('../dist/', import.meta.url));
const LIMIT_MB = 256;

interface ChildResult {
  seconds: number;
  maxRssKb: number;
  packets: number;
  flows: number;
  flowTable: unknown;
  evicted: number;
  findings: Finding[];
}

async function analyseHere(file: string): Promise<ChildResult> {
  // The rest of the command's V8 settings (the flags come on this process's command line, see inChild).
  holdYoungGeneration();
  const intel = loadIntel({ userDir: null });
  const t0 = performance.now();
  const r = await analyseCapture(file, { intel });
  return {
    seconds: (performance.now() - t0) / 1000,
    maxRssKb: process.resourceUsage().maxRSS,
    packets: r.summary.packets,
    flows: r.summary.flows,
    flowTable: r.summary.flow_table,
    evicted: r.summary.flow_table.evicted,
    findings: r.findings,
  };
}

function inChild(file: string): ChildResult {
  // The V8 settings `minewatch pcap` runs under (src/cli/pcap-v8.ts), so this number is the command's.
  const out = execFileSync(process.execPath, [...PCAP_V8_FLAGS, '--import', 'tsx', SELF, '--analyse', file], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 1 << 26,
  });
  return JSON.parse(out.trim().split('\n').pop()!) as ChildResult;
}

/** Peak RSS (KB) and wall seconds of the built CLI on a file, via GNU time; null without the bundle, time, or a run. */
function cliRss(file: string): { kb: number; seconds: number } | null {
  // dist/main.js, not dist/: the test step builds dist/core.wasm alone; and a run that failed (exit 2) is no measure.
  if (!existsSync(join(DIST, 'main.js')) || !existsSync('/usr/bin/time')) return null;
  const r = spawnSync(
    '/usr/bin/time',
    ['-f', 'MWTIME %e %M', process.execPath, CLI, 'pcap', file, '--format', 'json'],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  const m = /MWTIME ([\d.]+) (\d+)/.exec(r.stderr ?? '');
  // exit 0 nothing found, 1 mining found, 2 error (docs/commands.md)
  return m && (r.status === 0 || r.status === 1) ? { seconds: Number(m[1]), kb: Number(m[2]) } : null;
}

export async function benchFlood(count = 1_000_000): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'mw-bench-flood-'));
  const rows: BenchRow[] = [];
  try {
    const t0 = 1_700_000_000;
    const quiet = join(dir, 'sessions.pcap');
    writeFloodCapture(quiet, { kind: 'syn', count: 0, t0, durationSec: 900 }, floodScenario());
    const base = inChild(quiet);
    for (const kind of ['syn', 'short'] as FloodSpec['kind'][]) {
      const file = join(dir, `${kind}.pcap`);
      const g0 = performance.now();
      // SYNs as a flood comes, 1M in two minutes (8,300/s: five times the table within the half-open
      // timeout) in the sessions' middle; short connections over the whole 15 minutes (1,100/s).
      const spec =
        kind === 'syn'
          ? { kind, count, t0: t0 + 300, durationSec: 120 }
          : { kind, count, t0, durationSec: 900 };
      const packets = writeFloodCapture(file, spec, floodScenario());
      const built = (performance.now() - g0) / 1000;
      const r = inChild(file);
      const same = sameMiningFindings(r.findings, base.findings) && base.findings.length === 3;
      const label = `${kind === 'syn' ? `${count / 1e6}M SYN` : `${count / 1e6}M short flows`}`;
      rows.push(
        {
          name: `flood ${label}: peak RSS (analysis)`,
          value: r.maxRssKb / 1024,
          unit: 'MB',
          note: `limit ${LIMIT_MB} MB; ${packets} packets built in ${built.toFixed(1)} s; load ${loadavg()[0]!.toFixed(1)}`,
        },
        {
          name: `flood ${label}: packets/s`,
          value: r.packets / r.seconds,
          unit: 'pkt/s',
          note: `${r.seconds.toFixed(1)} s`,
        },
        {
          name: `flood ${label}: flows evicted`,
          value: r.evicted,
          unit: 'flows',
          note: `of ${r.flows}; ${JSON.stringify(r.flowTable)}`,
        },
        {
          name: `flood ${label}: mining findings as without the flood`,
          value: same ? 1 : 0,
          unit: same ? 'yes' : 'NO',
        },
      );
      const cli = cliRss(file);
      if (cli)
        rows.push({
          name: `flood ${label}: peak RSS (minewatch pcap, dist)`,
          value: cli.kb / 1024,
          unit: 'MB',
          note: `${cli.seconds.toFixed(1)} s wall`,
        });
      rmSync(file, { force: true });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  if (args[0] === '--analyse') console.log(JSON.stringify(await analyseHere(args[1]!)));
  else
    for (const r of await benchFlood(args[0] ? Number(args[0]) : undefined))
      console.log(
        `${r.name.padEnd(58)} ${r.value.toFixed(r.value >= 100 ? 0 : 2).padStart(12)} ${r.unit}${r.note ? `  (${r.note})` : ''}`,
      );
}
