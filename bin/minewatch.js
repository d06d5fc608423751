#!/usr/bin/env node
// Runs the bundled CLI (dist/, built by `npm ci` through the prepare script: scripts/build.mjs). In a source checkout
// without dist/ it falls back to the TypeScript sources through tsx, so `npx minewatch` always works.
import { existsSync, statSync } from 'node:fs';
import { isMainThread, parentPort, Worker } from 'node:worker_threads';

// `pcap` holds its flow table within fixed bounds (docs/traffic.md), but V8 sizes its old space by how fast
// garbage is made, not by what is live: a 1M-SYN capture peaked at 274 MB RSS with ~60 MB live. A 160 MB
// old-space cap keeps it at 170 MB, no slower (bench/flood.ts). The cap is the heap limit of a worker thread
// that runs the command: a flag can only be given to a new process, and re-running the process cost a second
// start-up (0.20 s on the bench capture, one core), the worker ~0.05 s. Paid only where memory can grow: a live
// stream, or a capture file of 16 MiB or more (500k SYNs already reach 300 MB); not when the caller set a size.
const HEAP_FLAG = '--max-old-space-size';
const HEAP_CAP_MB = 160;
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
const dist = new URL('../dist/main.js', import.meta.url);
if (
  isMainThread &&
  process.argv[2] === 'pcap' &&
  // From the sources (no dist/), tsx cannot be registered inside a worker: the command runs uncapped there.
  existsSync(dist) &&
  mayGrow(process.argv.slice(3)) &&
  !process.execArgv.some((a) => a.startsWith(HEAP_FLAG)) &&
  !(process.env.NODE_OPTIONS ?? '').includes(HEAP_FLAG)
) {
  // `minewatch pcap x | head` closes the pipe early: that is the reader's choice, not an error.
  process.stdout.on('error', (err) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
  const fromStdin = process.argv.includes('-');
  process.exitCode = await new Promise((resolve) => {
    // The worker's stdout and stderr come through this thread (Node pipes them in order); stdin only when read.
    const w = new Worker(new URL(import.meta.url), {
      argv: process.argv.slice(2),
      resourceLimits: { maxOldGenerationSizeMb: HEAP_CAP_MB },
      stdin: fromStdin,
    });
    if (fromStdin && w.stdin) process.stdin.pipe(w.stdin);
    let code;
    w.on('message', (m) => {
      code = m.exitCode;
    });
    w.on('error', (err) => {
      process.stderr.write(
        err.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? `minewatch: out of memory (heap cap ${HEAP_CAP_MB} MB; set ${HEAP_FLAG} to raise it)\n`
          : `minewatch: ${err.stack ?? err}\n`,
      );
      code = 2;
    });
    w.on('exit', (exitCode) => resolve(code ?? exitCode));
  });
} else {
  await run();
}

async function run() {
  if (isMainThread)
    process.stdout.on('error', (err) => {
      if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw err;
    });
  let mod;
  if (existsSync(dist)) {
    mod = await import(dist.href);
  } else {
    // tsx 4 refuses module.register('tsx/esm'): its own API registers the loader.
    (await import('tsx/esm/api')).register();
    mod = await import(new URL('../src/cli/main.ts', import.meta.url).href);
  }
  const code = await mod.main(process.argv.slice(2));
  if (isMainThread) process.exitCode = code;
  else {
    // The code reaches the main thread before the worker ends; the worker ends on its own, once its output has gone.
    parentPort.postMessage({ exitCode: code });
    process.stdin.destroy();
  }
}
