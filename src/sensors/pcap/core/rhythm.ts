/**
 * Reads a flow's message rhythm out of the core's memory (assembly/rhythm.ts keeps it, segment by segment) into
 * the plain state the behaviour detector computes its features from (detect/traffic/behaviour.ts).
 */
import type { CoreExports } from './load.ts';

export interface CoreRhythm {
  messages: number;
  pushSizes: { n: number; mean: number; m2: number };
  clientSizes: { n: number; mean: number; m2: number };
  pushGaps: number[];
  clientMessages: number;
  acked: number;
  replies: number;
  firstTs: number;
  lastTs: number;
  totalBytes: number;
}

export interface RhythmCore extends CoreExports {
  rhythmLayout(field: number): number;
  rhythmEnd(ptr: number): void;
}

/** Field offsets, asked of the core once per instance (the compiler lays the struct out). */
const layouts = new WeakMap<RhythmCore, Int32Array>();
function layout(core: RhythmCore): Int32Array {
  let l = layouts.get(core);
  if (!l) {
    l = new Int32Array(15);
    for (let i = 0; i < 15; i++) l[i] = core.rhythmLayout(i);
    layouts.set(core, l);
  }
  return l;
}

/** Closes the flow's last message (as MessageTracker.features did) and reads the state. */
export function readRhythm(core: RhythmCore, ptr: number): CoreRhythm {
  core.rhythmEnd(ptr);
  const l = layout(core);
  const v = new DataView(core.memory.buffer);
  const f64 = (i: number) => v.getFloat64(ptr + l[i]!, true);
  const i32 = (i: number) => v.getInt32(ptr + l[i]!, true);
  const gaps: number[] = [];
  const ring = ptr + l[14]!;
  for (let i = 0, n = i32(7); i < n; i++) gaps.push(v.getFloat64(ring + i * 8, true));
  return {
    messages: i32(0),
    pushSizes: { n: f64(1), mean: f64(2), m2: f64(3) },
    clientSizes: { n: f64(4), mean: f64(5), m2: f64(6) },
    pushGaps: gaps,
    clientMessages: i32(8),
    acked: i32(9),
    replies: i32(10),
    firstTs: f64(11),
    lastTs: f64(12),
    totalBytes: f64(13),
  };
}
