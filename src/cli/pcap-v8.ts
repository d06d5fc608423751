/**
 * The V8 settings `minewatch pcap` runs under, set at run time (V8 reads all three as it goes) when the command
 * starts. Each was measured on the bench captures on one core (`taskset -c 0`), the floods, and reports that stay
 * byte-identical (the numbers are in docs/packet-core.md, "Start-up and the optimizing compiler", and docs/traffic.md, "Memory").
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
 * `--semi-space-growth-factor=1` (V8's own: 2): the young generation stays at the size start-up left it (semi-spaces
 * of ~2 MB) instead of doubling towards 16 MB. On the bench machine a page touched for the first time costs ~11 us
 * (a fault in a paravirtualized guest: 100 MB of fresh pages took 280 ms), and every page the young generation grew
 * into was one: the 158 MB capture took 11,200 minor faults (bare Node 2,240), 8,650 with the young generation held,
 * the 500 MB one 20,700 against 16,000. Collections are more frequent (50 against 19 on 158 MB) but each is cheaper
 * (~0.8 against ~2.5 ms, as little dies young but fits the cache): 158 MB 0.70 s against 0.74 s, 500 MB 1.60-1.65 s
 * against 1.68 s, interleaved (docs/packet-core.md, "Page faults"). Set when the command starts: set before the
 * bundle loads it held the semi-spaces at 1 MB through start-up, more collections of the intel, no faster.
 */
import { setFlagsFromString } from 'node:v8';

export const PCAP_V8_FLAGS = [
  '--heap-growing-percent=50',
  '--interrupt-budget=1000000',
  '--semi-space-growth-factor=1',
] as const;
/** V8's own values for the same flags (Node 20's V8 11.3). */
const V8_DEFAULTS = [
  '--heap-growing-percent=0',
  '--interrupt-budget=67584',
  '--semi-space-growth-factor=2',
] as const;

export function tunePcapV8(): void {
  for (const flag of PCAP_V8_FLAGS) setFlagsFromString(flag);
}

/**
 * Puts V8's own values back. The bundle's code cache is written after a run (bin/code-cache.js) and read before
 * the next run has set these, and V8 refuses a cache made under other flags (the bundle test holds it to that).
 */
export function untunePcapV8(): void {
  for (const flag of V8_DEFAULTS) setFlagsFromString(flag);
}
