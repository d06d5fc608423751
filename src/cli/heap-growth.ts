/**
 * How far V8 lets the old space grow past what is live, for `minewatch pcap`.
 *
 * The flow table's bounds fix what is live (~30 MB of JavaScript in a 1M-short-flow flood), but V8 sizes its old
 * space by how cheap collection is, not by what is live: with Node's default heap limit it lets the old space
 * reach four times the live size, and the 1M-SYN and 1M-short-flow floods peaked at 234 and 261 MB RSS. V8 reads
 * this flag at every full collection, so it works when set at run time; growth of 50% holds the floods at 156
 * and 180 MB, as the 160 MB old-space cap of a worker thread did (158 and 179 MB), without that worker's start-up
 * (40-60 ms of the 158 MB bench capture's ~1.05 s on one core) and with no run time lost (bench/flood.ts; the
 * numbers are in docs/traffic.md). Unlike a cap it cannot end the run with "out of memory": what is live stays
 * bounded by the table, and the default limit stays where Node put it.
 */
import { setFlagsFromString } from 'node:v8';

export const PCAP_HEAP_GROWTH_FLAG = '--heap-growing-percent=50';

export function boundHeapGrowth(): void {
  setFlagsFromString(PCAP_HEAP_GROWTH_FLAG);
}
