#!/usr/bin/env node
// Runs the bundled CLI (dist/, built by `npm ci` through the prepare script: scripts/build.mjs). In a source checkout
// without dist/ it falls back to the TypeScript sources through tsx, so `npx minewatch` always works.
import { createReadStream, createWriteStream, existsSync, statSync } from 'node:fs';
import { register } from 'node:module';
import { isatty } from 'node:tty';
import { isMainThread, Worker, workerData } from 'node:worker_threads';

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
if (
  isMainThread &&
  process.argv[2] === 'pcap' &&
  mayGrow(process.argv.slice(3)) &&
  !process.execArgv.some((a) => a.startsWith(HEAP_FLAG)) &&
  !(process.env.NODE_OPTIONS ?? '').includes(HEAP_FLAG)
) {
  process.exitCode = await new Promise((resolve) => {
    const w = new Worker(new URL(import.meta.url), {
      argv: process.argv.slice(2),
      resourceLimits: { maxOldGenerationSizeMb: HEAP_CAP_MB },
      workerData: { heapCapped: true },
    });
    let code;
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
  const dist = new URL('../dist/main.js', import.meta.url);
  const io = workerData?.heapCapped ? workerIO() : undefined;
  // `minewatch pcap x | head` closes the pipe early: that is the reader's choice, not an error.
  (io?.stdout ?? process.stdout).on('error', (err) => {
    if (err.code === 'EPIPE') exit(process.exitCode ?? 0);
    throw err;
  });
  let mod;
  if (existsSync(dist)) {
    mod = await import(dist.href);
  } else {
    register('tsx/esm', import.meta.url);
    mod = await import(new URL('../src/cli/main.ts', import.meta.url).href);
  }
  const code = await mod.main(process.argv.slice(2), ...(io ? [io] : []));
  if (!io) {
    process.exitCode = code;
    return;
  }
  // The worker's own streams on the process's descriptors: flushed before the exit code goes to the main thread.
  await Promise.all([io.stdout, io.stderr].map((s) => new Promise((r) => s.end(r))));
  exit(code);
}

/** The process's stdin/stdout/stderr from a worker thread, written in order without a hop through the main thread. */
function workerIO() {
  const out = (fd) =>
    Object.assign(createWriteStream('', { fd, autoClose: false, highWaterMark: 1 << 16 }), {
      isTTY: isatty(fd),
    });
  return { stdout: out(1), stderr: out(2), stdin: createReadStream('', { fd: 0, autoClose: false }) };
}

/** In the worker, ends only the worker: its exit code is the command's (see the main thread's 'exit' handler). */
function exit(code) {
  process.exit(code);
}
