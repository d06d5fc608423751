#!/usr/bin/env node
// Runs the bundled CLI (dist/, built by `npm ci` through the prepare script: scripts/build.mjs). In a source checkout
// without dist/ it falls back to the TypeScript sources through tsx, so `npx minewatch` always works.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { register } from 'node:module';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';

// `pcap` holds its flow table within fixed bounds (docs/traffic.md), but V8 sizes its old space by how fast
// garbage is made, not by what is live: a 1M-SYN capture peaked at 274 MB RSS with ~60 MB live. A 160 MB
// old-space cap keeps it at 170 MB, no slower (bench/flood.ts). Set once, unless the caller chose a size.
// The re-run costs a second start-up (0.24 s -> 0.45 s on a small capture here), so it is paid only where
// memory can grow: a live stream, or a capture file of 16 MiB or more (500k SYNs already reach 300 MB).
const HEAP_FLAG = '--max-old-space-size';
const BIG_CAPTURE = 16 << 20;
const mayGrow = (args) =>
  args.some((a) => {
    if (a === '-') return true;
    try {
      return statSync(a).size >= BIG_CAPTURE;
    } catch {
      return false; // an option or its value, not a file
    }
  });
if (
  process.argv[2] === 'pcap' &&
  mayGrow(process.argv.slice(3)) &&
  !process.env.MINEWATCH_HEAP_SET &&
  !process.execArgv.some((a) => a.startsWith(HEAP_FLAG)) &&
  !(process.env.NODE_OPTIONS ?? '').includes(HEAP_FLAG)
) {
  const r = spawnSync(
    process.execPath,
    [`${HEAP_FLAG}=160`, ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)],
    { stdio: 'inherit', env: { ...process.env, MINEWATCH_HEAP_SET: '1' } },
  );
  // A child ended by a signal exits as a shell reports it: 128 + the signal's number.
  process.exit(r.status ?? (r.signal ? 128 + (constants.signals[r.signal] ?? 15) : 1));
}

const dist = new URL('../dist/main.js', import.meta.url);
// `minewatch pcap x | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});
let mod;
if (existsSync(dist)) {
  mod = await import(dist.href);
} else {
  register('tsx/esm', import.meta.url);
  mod = await import(new URL('../src/cli/main.ts', import.meta.url).href);
}
process.exitCode = await mod.main(process.argv.slice(2));
