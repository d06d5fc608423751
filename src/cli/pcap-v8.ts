/**
 * The V8 settings `minewatch pcap` runs under, set at run time (V8 reads them as it goes) when the command starts.
 * Each was measured on the bench captures on one core (`taskset -c 0`), the floods, and reports that stay
 * byte-identical (the numbers are in docs/packet-core.md, "Start-up and the optimizing compiler" and "Page faults
 * and the young generation", and docs/traffic.md, "Memory").
 *
 * `--heap-growing-percent=50`: the flow table's bounds fix what is live (~30 MB of JavaScript in a 1M-short-flow
 * flood), but V8 sizes its old space by how cheap collection is, not by what is live: with Node's default heap
 * limit it lets the old space reach four times the live size, and the 1M-SYN and 1M-short-flow floods peaked at
 * 234 and 261 MB RSS. Growth of 50% past the last full collection holds them at 152 and 175 MB, as the 160 MB
 * old-space cap of a worker thread did (155-158 and 174-179 MB), without that worker's start-up (40-60 ms of the
 * 158 MB bench capture's ~1.05 s) and no slower. Unlike a cap it cannot end a run with "out of memory": what is
 * live stays bounded by the table.
 *
 * `--interrupt-budget=1000000` (V8's own: 67,584): how much a function must run before V8 sends it to its
 * optimizing compiler. A capture's analysis calls hundreds of parser and detector functions a few thousand times
 * each; at V8's budget most are optimized early, and on one core that compile work (~0.2 s on the 158 MB capture)
 * competes with the analysis itself. With 15 times the budget only the functions that stay hot are optimized:
 * 158 MB capture 0.74-0.76 s against 0.94-0.95 s, 500 MB 1.67-1.69 s against 1.76-1.79 s, floods unchanged
 * (2.7 s and 7.6-7.8 s), where switching the optimizer off (`--no-opt`) gained as much on 158 MB but lost 3-4% on
 * 500 MB. 600,000 gave 0.79 s and 1.66 s, 2,000,000 0.74 s; 300,000 0.83-0.85 s.
 *
 * The young generation held at 4 MB semi-spaces (`--semi-space-growth-factor=1` once it has grown to them; V8's
 * own growth doubles it towards 16 MB). On the bench machine a page touched for the first time costs ~11 us (a
 * fault in a paravirtualized guest: 100 MB of fresh pages took 280 ms), and every page the young generation grew
 * into was one: the 500 MB capture took 20,700 minor faults (bare Node 2,240). Semi-spaces fixed from the command
 * line (V8 then refuses the code cache, so each run equally without it), three runs each, 500 MB: 1 MB 1.66-1.69 s
 * (306 collections, 12,100-12,300 faults), 2 MB 1.63-1.73 s, 4 MB 1.58-1.63 s (79, 13,300-13,500), 8 MB 1.61-1.65 s
 * (39), 16 MB 1.67-1.75 s (19,700 faults); 158 MB: 2 MB 0.74-0.77 s, 1 and 4 MB 0.77-0.80 s, 8 MB 0.79-0.81 s. Fewer
 * collections pay until the young generation no longer fits the cache and its pages are fresh. V8 sizes the young
 * generation when the process starts and only grows it after, so the command lets it grow and stops it there
 * (holdYoungGeneration); stopped where start-up left it, it stayed at 1 MB on some runs and 2 MB on others.
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';

export const PCAP_V8_FLAGS = ['--heap-growing-percent=50', '--interrupt-budget=1000000'] as const;
/** V8's own values for the same flags (Node 20's V8 11.3), and for the growth factor holdYoungGeneration sets. */
const V8_DEFAULTS = [
  '--heap-growing-percent=0',
  '--interrupt-budget=67584',
  '--semi-space-growth-factor=2',
] as const;

/** Semi-space size the young generation is held at (see above). */
export const YOUNG_SEMI_SPACE = 4 << 20;

function newSpaceSize(): number {
  for (const s of getHeapSpaceStatistics()) if (s.space_name === 'new_space') return s.space_size;
  return 0;
}

/**
 * Lets V8 grow the young generation until its two semi-spaces are `semi` bytes each, then stops its growth. Checked
 * after each collection (a 'gc' performance entry), as V8 grows it only in a collection.
 */
export function holdYoungGeneration(semi = YOUNG_SEMI_SPACE): void {
  const hold = () => {
    if (newSpaceSize() < 2 * semi) return false;
    setFlagsFromString('--semi-space-growth-factor=1');
    return true;
  };
  if (hold()) return;
  const observer = new PerformanceObserver(() => {
    if (hold()) observer.disconnect();
  });
  observer.observe({ entryTypes: ['gc'] });
}

export function tunePcapV8(): void {
  for (const flag of PCAP_V8_FLAGS) setFlagsFromString(flag);
  holdYoungGeneration();
}

/**
 * Puts V8's own values back. The bundle's code cache is written after a run (bin/code-cache.js) and read before
 * the next run has set these, and V8 refuses a cache made under other flags (the bundle test holds it to that).
 */
export function untunePcapV8(): void {
  for (const flag of V8_DEFAULTS) setFlagsFromString(flag);
}
