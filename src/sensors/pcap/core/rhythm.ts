/**
 * Reads a flow's message rhythm out of the core's memory (assembly/rhythm.ts keeps it, segment by segment) into
 * the plain state the behaviour detector computes its features from (detect/traffic/behaviour.ts).
 */
import { type CoreExports, instantiateCore } from './load.ts';

/** The rhythm's state: Welford running stats of push and client message sizes, the last 64 push gaps (any order). */
export interface CoreRhythm {
  messages: number;
  pushSizes: { n: number; mean: number; m2: number };
  clientSizes: { n: number; mean: number; m2: number };
  pushGaps: number[];
  clientMessages: number;
  acked: number;
  replies: number;
  /** NaN when the flow carried no payload. */
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

/** The rhythm of a flow that delivered no payload (MessageTracker's state before its first segment). */
export function emptyRhythm(): CoreRhythm {
  return {
    messages: 0,
    pushSizes: { n: 0, mean: 0, m2: 0 },
    clientSizes: { n: 0, mean: 0, m2: 0 },
    pushGaps: [],
    clientMessages: 0,
    acked: 0,
    replies: 0,
    firstTs: Number.NaN,
    lastTs: 0,
    totalBytes: 0,
  };
}

/**
 * lastTs - firstTs of a rhythm, without reading the rest (NaN before any payload compares as too short). `v`: a view
 * of the core's current memory the caller already holds (the flow table's), else one is made: asked at the close of
 * every TCP flow, the DataView and memory.buffer per call were ~7 ms self of the 158 MB bench capture's profile.
 */
export function rhythmSpan(
  core: RhythmCore,
  ptr: number,
  v: DataView<ArrayBufferLike> = new DataView(core.memory.buffer),
): number {
  const l = layout(core);
  return v.getFloat64(ptr + l[12]!, true) - v.getFloat64(ptr + l[11]!, true);
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

interface StandaloneRhythmCore extends RhythmCore {
  rhythmNew(): number;
  rhythmFeed(p: number, dir: number, bytes: number, ts: number): void;
}

/**
 * The core's rhythm of one flow fed by hand, segment by segment (in a core instance of its own): what the flow
 * table does for every TCP flow, for the behaviour detector's tests and for tools that have sizes but no packets.
 */
export class RhythmTracker {
  private readonly core = instantiateCore() as StandaloneRhythmCore;
  private readonly ptr = this.core.rhythmNew();

  segment(dir: 0 | 1, bytes: number, ts: number): void {
    this.core.rhythmFeed(this.ptr, dir, bytes, ts);
  }

  /** The state with its last message closed (see readRhythm). */
  state(): CoreRhythm {
    return readRhythm(this.core, this.ptr);
  }
}
