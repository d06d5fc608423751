/**
 * Intel matching speed: 10,000 mixed names (pool hosts, unseen subdomains of pools, look-alikes such
 * as nanopool.org.evil.com, ordinary web names) against the whole built-in base, and against a
 * synthetic 50,000-entry base to compare with the issue's 2.5-6.6 ms per 10k figure.
 * `node --import tsx bench/intel.ts` prints the table.
 */
import { loadIntel, readIntelFiles } from '../src/intel/load.ts';
import { ExclusionIndex, PoolMatcher } from '../src/intel/match.ts';
import type { PoolEntry } from '../src/intel/schema.ts';
import { mulberry32 } from '../src/util/random.ts';
import type { BenchRow } from './row.ts';

const rng = mulberry32;

const WORDS = ['shop', 'news', 'cdn', 'api', 'mail', 'static', 'img', 'app', 'cloud', 'data', 'web', 'blog'];
const TLDS = ['com', 'net', 'org', 'io', 'de', 'ru', 'cn', 'co.uk'];

function word(r: () => number): string {
  return `${WORDS[Math.floor(r() * WORDS.length)]}${Math.floor(r() * 1000)}`;
}

function randomName(r: () => number): string {
  const labels = 1 + Math.floor(r() * 3);
  const parts: string[] = [];
  for (let i = 0; i < labels; i++) parts.push(word(r));
  return `${parts.join('.')}.${TLDS[Math.floor(r() * TLDS.length)]}`;
}

/** A quarter each: exact pool hosts, new subdomains of pools, look-alikes, unrelated names. */
export function mixedQueries(hosts: string[], n: number, seed = 1): string[] {
  const r = rng(seed);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const h = hosts[Math.floor(r() * hosts.length)]!;
    switch (i % 4) {
      case 0:
        out.push(r() < 0.5 ? h : `${h.toUpperCase()}.`);
        break;
      case 1:
        out.push(`${word(r)}.${h}`);
        break;
      case 2:
        out.push(`${h}.${word(r)}.com`);
        break;
      default:
        out.push(randomName(r));
    }
  }
  return out;
}

/** Median and best of `runs` timed runs: the median is robust to a GC pause, the best to a busy machine. */
function time(fn: () => void, runs: number): { median: number; best: number } {
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    fn();
    ms.push(performance.now() - t);
  }
  ms.sort((a, b) => a - b);
  return { median: ms[Math.floor(ms.length / 2)]!, best: ms[0]! };
}

/** Like a real blocklist: mostly distinct registered names, some with one or two sub-labels. */
function syntheticHost(r: () => number): string {
  const letters = 'abcdefghijklmnopqrstuvwxyz0123456789';
  let reg = '';
  const len = 5 + Math.floor(r() * 8);
  for (let i = 0; i < len; i++) reg += letters[Math.floor(r() * (i === 0 ? 26 : letters.length))];
  const sub = Math.floor(r() * 3);
  const parts: string[] = [];
  for (let i = 0; i < sub; i++) parts.push(word(r));
  return [...parts, reg, TLDS[Math.floor(r() * TLDS.length)]].join('.');
}

function syntheticPools(n: number, seed: number): PoolEntry[] {
  const r = rng(seed);
  const seen = new Set<string>();
  const out: PoolEntry[] = [];
  while (out.length < n) {
    const host = syntheticHost(r);
    if (seen.has(host)) continue;
    seen.add(host);
    out.push({
      host,
      name: host,
      kind: 'pool',
      coins: [],
      algos: [],
      ports: { plain: [], tls: [] },
      status: 'active',
      sources: [{ id: 'minewatch' }],
    });
  }
  return out;
}

export async function benchIntel(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const N = 10_000;
  const RUNS = 31;

  const t0 = performance.now();
  const base = loadIntel({ userDir: null });
  rows.push({ name: 'intel: first load (read, validate, build)', value: performance.now() - t0, unit: 'ms' });
  const files = readIntelFiles();

  const hosts = base.pools.map((p) => p.host);
  const queries = mixedQueries(hosts, N);
  let hits = 0;
  const run = () => {
    hits = 0;
    for (const q of queries) if (base.matchDomain(q)) hits++;
  };
  for (let i = 0; i < 3; i++) run(); // warm-up: let the JIT settle
  const t = time(run, RUNS);
  rows.push({
    name: `intel: matchDomain, ${N.toLocaleString('en-US')} mixed vs built-in ${hosts.length} pools`,
    value: t.median,
    unit: 'ms/10k',
    note: `median of ${RUNS}, best ${t.best.toFixed(2)} ms; ${hits} hits`,
  });
  rows.push({ name: 'intel: matchDomain rate (built-in)', value: (N / t.median) * 1000, unit: 'lookups/s' });

  const synth = syntheticPools(50_000, 7);
  const matcher = new PoolMatcher(synth, new ExclusionIndex(files.exclusions));
  const q50 = mixedQueries(
    synth.map((p) => p.host),
    N,
    2,
  );
  let hits50 = 0;
  const run50 = () => {
    hits50 = 0;
    for (const q of q50) if (matcher.match(q)) hits50++;
  };
  for (let i = 0; i < 3; i++) run50();
  const t50 = time(run50, RUNS);
  rows.push({
    name: `intel: matchDomain, ${N.toLocaleString('en-US')} mixed vs synthetic 50,000 pools`,
    value: t50.median,
    unit: 'ms/10k',
    note: `median of ${RUNS}, best ${t50.best.toFixed(2)} ms; ${hits50} hits; issue measured 2.5-6.6 ms`,
  });
  rows.push({
    name: 'intel: matchDomain rate (50k base)',
    value: (N / t50.median) * 1000,
    unit: 'lookups/s',
  });

  const ips = base.endpoints.map((e) => [e.ip, e.port] as const);
  const rr = rng(3);
  const ipq = Array.from({ length: N }, (_, i) =>
    i % 2 === 0
      ? ips[Math.floor(rr() * ips.length)]!
      : ([
          `${Math.floor(rr() * 223) + 1}.${Math.floor(rr() * 256)}.${Math.floor(rr() * 256)}.${Math.floor(rr() * 256)}`,
          3333,
        ] as const),
  );
  const runIp = () => {
    for (const [ip, port] of ipq) base.matchEndpoint(ip, port);
  };
  for (let i = 0; i < 3; i++) runIp();
  const tip = time(runIp, RUNS);
  rows.push({
    name: `intel: matchEndpoint, ${N.toLocaleString('en-US')} ip:port (half known)`,
    value: tip.median,
    unit: 'ms/10k',
    note: `best ${tip.best.toFixed(2)} ms`,
  });
  return rows;
}

function printTable(rows: BenchRow[]): void {
  const w = Math.max(...rows.map((r) => r.name.length));
  for (const r of rows) {
    const v = r.value >= 1000 ? Math.round(r.value).toLocaleString('en-US') : r.value.toFixed(2);
    console.log(`${r.name.padEnd(w)}  ${v.padStart(12)} ${r.unit}${r.note ? `  (${r.note})` : ''}`);
  }
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  benchIntel().then(printTable, (e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
}
