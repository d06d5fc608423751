/**
 * `minewatch pcap` alone: the entry of the packet command's own bundle, `dist/pcap.cjs`, which bin/minewatch.js
 * loads with a V8 code cache made at build time (scripts/build.mjs, bin/code-cache.js). The same program and
 * command as `main.ts` runs for `pcap`, so its output, help and exit codes are the same.
 */
import { type CliIO, type ExitCode, processIO } from './io.ts';
import { registerPcap } from './pcap.ts';
import { runProgram } from './program.ts';

// For bin/code-cache.js, which writes the cache after a run has set pcap's V8 flags.
export { untunePcapV8 } from './pcap-v8.ts';

export function main(argv: string[], io: CliIO = processIO()): Promise<ExitCode> {
  return runProgram(argv, [registerPcap], io);
}
