/**
 * `npm run bench`: every benchmark in one run, so a peer's numbers and ours come from the same machine state.
 * Each bench/<area>.ts exports `bench<Area>(): Promise<BenchRow[]>`. `npm run bench -- pcap scan` runs a subset.
 * Results also go to bench/out/results.json for the README table.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import type { BenchRow } from './row.ts';

const SUITES: Record<string, () => Promise<BenchRow[]>> = {
  intel: async () => (await import('./intel.ts')).benchIntel(),
  wallets: async () => (await import('./wallets.ts')).benchWallets(),
  pcap: async () => (await import('./pcap.ts')).benchPcap(),
  pcap1: async () => (await import('./pcap-one-core.ts')).benchPcapOneCore(),
  flood: async () => (await import('./flood.ts')).benchFlood(),
  scan: async () => (await import('./scan.ts')).benchScan(),
  import: async () => (await import('./import.ts')).benchImport(),
  fleet: async () => (await import('./fleet.ts')).benchFleet(),
  report: async () => (await import('./report.ts')).benchReport(),
  dashboard: async () => (await import('./dashboard.ts')).benchDashboard(),
  response: async () => (await import('./response.ts')).benchResponse(),
};

function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString('en-US');
  return v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 2);
}

async function run(): Promise<void> {
  const wanted = process.argv.slice(2);
  const names = wanted.length ? wanted : Object.keys(SUITES);
  const all: Record<string, BenchRow[] | { error: string }> = {};
  for (const name of names) {
    const suite = SUITES[name];
    if (!suite) {
      console.error(`unknown benchmark '${name}' (have: ${Object.keys(SUITES).join(', ')})`);
      process.exitCode = 2;
      continue;
    }
    process.stderr.write(`running ${name}...\n`);
    try {
      const rows = await suite();
      all[name] = rows;
      console.log(`\n## ${name}`);
      for (const r of rows)
        console.log(
          `${r.name.padEnd(56)} ${fmt(r.value).padStart(14)} ${r.unit}${r.note ? `  (${r.note})` : ''}`,
        );
    } catch (err) {
      all[name] = { error: String((err as Error)?.message ?? err) };
      console.log(`\n## ${name}\nFAILED: ${(err as Error)?.message ?? err}`);
      process.exitCode = 1;
    }
  }
  mkdirSync(new URL('./out/', import.meta.url), { recursive: true });
  writeFileSync(
    new URL('./out/results.json', import.meta.url),
    `${JSON.stringify({ date: new Date().toISOString(), node: process.version, results: all }, null, 2)}\n`,
  );
}

await run();
