/** Loads the demo fleet into a store through its bulk ingest, keeping two batches in flight. */
import type { MinewatchEvent } from '../findings/index.ts';
import type { Store } from '../store/index.ts';
import { type DemoOptions, type DemoPlan, demoDays, planDemo } from './fleet.ts';

export interface LoadResult {
  plan: DemoPlan;
  events: number;
  accepted: number;
  duplicates: number;
  ms: number;
}

/** Events per ingest call: big enough to amortise a commit, small enough to bound memory. */
const BATCH = 50_000;

export async function loadDemo(
  store: Store,
  opts: DemoOptions & { plan?: DemoPlan; onProgress?: (events: number, day: string) => void } = {},
): Promise<LoadResult> {
  const t0 = performance.now();
  const plan = opts.plan ?? planDemo(opts);
  let events = 0;
  let accepted = 0;
  let duplicates = 0;
  const inflight: Promise<void>[] = [];
  let batch: MinewatchEvent[] = [];
  const flush = async () => {
    if (!batch.length) return;
    const b = batch;
    batch = [];
    events += b.length;
    // Generating the next batch overlaps the engine's commit of this one; two in flight bound memory.
    inflight.push(
      store.ingest(b, { source: 'demo' }).then((r) => {
        accepted += r.accepted;
        duplicates += r.duplicates;
      }),
    );
    if (inflight.length >= 2) await inflight.shift();
  };
  let d = 0;
  for (const day of demoDays(plan)) {
    for (const ev of day) batch.push(ev);
    if (batch.length >= BATCH) await flush();
    opts.onProgress?.(events + batch.length, plan.days[d++]!);
  }
  await flush();
  await Promise.all(inflight);
  return { plan, events, accepted, duplicates, ms: performance.now() - t0 };
}
