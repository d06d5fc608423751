/**
 * Mutation fuzzing of the whole traffic pipeline (reader → decode → flows → dissectors → detectors):
 * real corpus captures, truncated, bit-flipped, with bogus record lengths and inserted junk, plus a stratum
 * flow carrying one enormous line with no newline. Used by fuzz.test.ts (short) and `npm run fuzz` (long).
 */
import { readFileSync } from 'node:fs';
import type { IntelBase } from '../../../intel/index.ts';
import { CaptureFormatError } from '../../../sensors/pcap/index.ts';
import { conversation, writePcap } from '../../../sensors/pcap/testkit.ts';
import { analyseCapture } from '../capture.ts';

export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

export type Mutation = 'truncate' | 'bitflip' | 'bogus-length' | 'insert-junk' | 'zero-run';
export const MUTATIONS: readonly Mutation[] = [
  'truncate',
  'bitflip',
  'bogus-length',
  'insert-junk',
  'zero-run',
];

export function mutate(input: Uint8Array, kind: Mutation, r: () => number): Uint8Array {
  const b = new Uint8Array(input);
  const at = () => Math.floor(r() * b.length);
  switch (kind) {
    case 'truncate':
      return b.subarray(0, at());
    case 'bitflip':
      for (let i = 0, n = 1 + Math.floor(r() * 64); i < n; i++) b[at()]! ^= 1 << Math.floor(r() * 8);
      return b;
    case 'bogus-length': {
      // Record and block lengths are 32-bit words: overwrite aligned words with huge, zero or odd values.
      const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
      for (let i = 0, n = 1 + Math.floor(r() * 8); i < n; i++) {
        const off = at() & ~3;
        if (off + 4 <= b.length)
          dv.setUint32(off, [0xffffffff, 0, 0x7fffffff, 3, Math.floor(r() * 2 ** 32)][i % 5]!, r() < 0.5);
      }
      return b;
    }
    case 'insert-junk': {
      const junk = new Uint8Array(1 + Math.floor(r() * 4096)).map(() => Math.floor(r() * 256));
      const off = at();
      const out = new Uint8Array(b.length + junk.length);
      out.set(b.subarray(0, off));
      out.set(junk, off);
      out.set(b.subarray(off), off + junk.length);
      return out;
    }
    case 'zero-run': {
      const off = at();
      b.fill(0, off, Math.min(b.length, off + 1 + Math.floor(r() * 2048)));
      return b;
    }
  }
}

export interface FuzzOutcome {
  ok: number;
  formatErrors: number;
  findings: number;
  maxMs: number;
}

/** Runs one mutated input; anything but success or a CaptureFormatError is a bug and is rethrown. */
export async function runOne(bytes: Uint8Array, intel: IntelBase, out: FuzzOutcome): Promise<void> {
  const t0 = performance.now();
  try {
    const r = await analyseCapture('-', { intel, stdin: [bytes] });
    out.ok++;
    out.findings += r.findings.length;
  } catch (e) {
    if (!(e instanceof CaptureFormatError)) throw e;
    out.formatErrors++;
  }
  out.maxMs = Math.max(out.maxMs, performance.now() - t0);
}

export async function fuzzCorpus(
  files: string[],
  intel: IntelBase,
  iterations: number,
  seed = 1,
): Promise<FuzzOutcome> {
  const r = rng(seed);
  const inputs = files.map((f) => readFileSync(f));
  const out: FuzzOutcome = { ok: 0, formatErrors: 0, findings: 0, maxMs: 0 };
  for (let i = 0; i < iterations; i++) {
    const input = inputs[i % inputs.length]!;
    const kind = MUTATIONS[Math.floor(r() * MUTATIONS.length)]!;
    await runOne(mutate(input, kind, r), intel, out);
  }
  return out;
}

/**
 * A stratum-looking flow whose client sends `lineBytes` without a newline, as a pcap streamed in chunks of
 * packets so the test never holds the whole capture.
 */
export function* hugeLineCapture(lineBytes: number, segment = 60_000): Generator<Uint8Array> {
  const chunk = 'A'.repeat(segment);
  const turns: { from: 'c' | 's'; data: string; dt?: number }[] = [
    { from: 'c', data: '{"id":1,"method":"login","params":{"login":"' },
  ];
  let isn = 1000;
  let first = true;
  for (let sent = 0; sent < lineBytes; sent += segment) {
    const pk = conversation(
      '10.9.9.9:40000',
      '10.8.8.8:3333',
      first ? [...turns, { from: 'c', data: chunk }] : [{ from: 'c', data: chunk }],
      {
        handshake: first,
        close: false,
        isnC: isn,
        isnS: 5001,
      },
    );
    isn += (first ? turns[0]!.data.length : 0) + segment;
    first = false;
    // Strip the header after the first batch: later batches are bare records appended to the stream.
    const pcap = writePcap(
      pk.map((p) => ({ ts: p.ts, data: p.ip })),
      { linkType: 101 },
    );
    yield sent === 0 ? pcap : pcap.subarray(24);
  }
}
