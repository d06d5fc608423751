#!/usr/bin/env node
import { type CliIO, type ExitCode, processIO } from './io.ts';
import { type Register, runProgram } from './program.ts';

/**
 * Each command lives in its own file and registers itself; order is the order in --help. Modules load lazily
 * and only the command being run is loaded (every one only for the top-level help): start-up matters for a
 * tool run from cron and scripts (all at once: ~0.3 s; one: ~0.1 s).
 */
const COMMANDS: Record<string, () => Promise<Register>> = {
  scan: async () => (await import('./scan.ts')).registerScan,
  pcap: async () => (await import('./pcap.ts')).registerPcap,
  clean: async () => (await import('./clean.ts')).registerClean,
  restore: async () => (await import('./restore.ts')).registerRestore,
  block: async () => (await import('./block.ts')).registerBlock,
  intel: async () => (await import('./intel.ts')).registerIntel,
  serve: async () => (await import('./serve.ts')).registerServe,
  agent: async () => (await import('./agent.ts')).registerAgent,
  import: async () => (await import('./import.ts')).registerImport,
  report: async () => (await import('./report.ts')).registerReport,
  demo: async () => (await import('./demo.ts')).registerDemo,
  token: async () => (await import('./token.ts')).registerToken,
  fleet: async () => (await import('./fleet.ts')).registerFleet,
};

async function commandsFor(argv: readonly string[]): Promise<Register[]> {
  const name = argv.find((a) => !a.startsWith('-'));
  const one = name !== undefined ? COMMANDS[name] : undefined;
  // `minewatch --version` alone needs no command (loading them all took 0.8 s of its 0.9 s).
  if (!one && argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) return [];
  return Promise.all((one ? [one] : Object.values(COMMANDS)).map((load) => load()));
}

/** Runs the CLI; returns the exit code instead of exiting so tests can call it in-process. */
export async function main(argv: string[], io: CliIO = processIO()): Promise<ExitCode> {
  return runProgram(argv, await commandsFor(argv), io);
}

const isEntry = process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isEntry) {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
