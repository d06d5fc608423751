/**
 * A capture file analysed by several threads at once (`minewatch pcap --threads N`). Packets are split by their
 * address pair (shard.ts), so each thread sees whole conversations and decides their findings alone; DNS answers
 * are read by every thread so each names connections as one pass would. The shards' partial findings are merged
 * by `finishFindings`, which gives the same findings, in the same order, as a single pass (a test holds both to it).
 *
 * Off by default, by measurement: on the 2-core machines this project runs on, two threads took 1.26-1.46 s for
 * the 158 MB bench capture against 0.93-1.31 s for one pass (each thread walks and decodes every record, pays
 * its own JIT warm-up, and competes with the other's GC and compiler threads). It is for hosts with idle cores
 * to spare, which were not available to measure here.
 */
import { Worker } from 'node:worker_threads';
import type { Finding } from '../../findings/index.ts';
import type { IntelBase } from '../../intel/index.ts';
import type { CaptureFlowStats } from '../../sensors/pcap/index.ts';
import { CaptureFormatError } from '../../sensors/pcap/index.ts';
import { finishFindings, type PartialFindings, type TrafficSummary } from './analyzer.ts';

/** Every thread walks the whole file: more than this cannot pay. */
export const MAX_THREADS = 16;
/** The single pass's caps, shared out among the shards so memory stays bounded the same. */
const MAX_FLOWS = 50_000;
const MAX_TOTAL_PENDING = 64 * 1024 * 1024;

export interface ShardJob {
  path: string;
  index: number;
  count: number;
  intel: NonNullable<IntelBase['inputs']>;
  stream: boolean;
  maxFlows: number;
  maxTotalPending: number;
}

export type WorkerMessage =
  | { t: 'finding'; f: Finding }
  | { t: 'update'; f: Finding }
  | { t: 'done'; partial: PartialFindings; stats: CaptureFlowStats }
  | { t: 'error'; message: string; code?: string; format?: { source: string; offset: number } };

const WORKER_URL = new URL(
  `./capture-worker.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`,
  import.meta.url,
);

/** A thread running capture-worker; from the TypeScript sources (tests, no build) it loads through tsx. */
function startWorker(job: ShardJob): Worker {
  if (!WORKER_URL.pathname.endsWith('.ts')) return new Worker(WORKER_URL, { workerData: job });
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(WORKER_URL.href)}); })`;
  return new Worker(boot, { eval: true, workerData: job });
}

/** Threads to use: one pass unless more were asked for (see the top of this file for why). */
export function threadsFor(requested?: number): number {
  return requested !== undefined && requested > 1 ? Math.min(Math.floor(requested), MAX_THREADS) : 1;
}

export interface ParallelResult {
  findings: Finding[];
  summary: TrafficSummary;
  /** Capture and decode stats of the whole file; flow stats summed over the shards. */
  stats: CaptureFlowStats;
}

export async function analyseInShards(
  path: string,
  threads: number,
  opts: { intel: IntelBase; onFinding?: (f: Finding) => void; onUpdate?: (f: Finding) => void },
): Promise<ParallelResult> {
  const inputs = opts.intel.inputs;
  if (!inputs) throw new Error('analyseInShards: this intel base does not say what it was built from');
  const stream = !!(opts.onFinding || opts.onUpdate);
  // A DNS finding can be decided by two shards (a host asking two resolvers): the second is an update.
  const announced = new Set<string>();
  const workers: Worker[] = [];
  const done = new Array<{ partial: PartialFindings; stats: CaptureFlowStats }>(threads);
  try {
    await Promise.all(
      Array.from({ length: threads }, (_, index) => {
        const job: ShardJob = {
          path,
          index,
          count: threads,
          intel: inputs,
          stream,
          maxFlows: Math.ceil(MAX_FLOWS / threads),
          maxTotalPending: Math.ceil(MAX_TOTAL_PENDING / threads),
        };
        const w = startWorker(job);
        workers.push(w);
        return new Promise<void>((resolve, reject) => {
          w.on('message', (m: WorkerMessage) => {
            if (m.t === 'finding') {
              if (announced.has(m.f.id)) opts.onUpdate?.(m.f);
              else {
                announced.add(m.f.id);
                opts.onFinding?.(m.f);
              }
            } else if (m.t === 'update') opts.onUpdate?.(m.f);
            else if (m.t === 'done') {
              done[index] = { partial: m.partial, stats: m.stats };
              resolve();
            } else {
              const err = m.format
                ? Object.assign(new CaptureFormatError(m.format.source, m.format.offset, ''), {
                    message: m.message,
                  })
                : Object.assign(new Error(m.message), m.code ? { code: m.code } : {});
              reject(err);
            }
          });
          w.on('error', reject);
          w.on('exit', (code) => {
            if (!done[index])
              reject(new Error(`capture analysis thread ${index} stopped (exit code ${code})`));
          });
        });
      }),
    );
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  const { findings, summary } = finishFindings(
    done.map((d) => d.partial),
    opts.intel,
  );
  const first = done[0]!.stats;
  const flows = {
    ...first.flows,
    closed: { ...first.flows.closed },
    evicted: { ...first.flows.evicted },
    timedOut: { ...first.flows.timedOut },
  };
  for (const d of done.slice(1)) {
    const f = d.stats.flows;
    for (const k of Object.keys(flows) as (keyof typeof flows)[]) {
      if (k === 'closed')
        for (const r of Object.keys(flows.closed) as (keyof typeof flows.closed)[])
          flows.closed[r] += f.closed[r];
      else if (k === 'evicted' || k === 'timedOut')
        for (const r of Object.keys(flows[k]) as (keyof typeof flows.evicted)[]) flows[k][r] += f[k][r];
      else if (k === 'peakPendingPerDir') flows[k] = Math.max(flows[k], f[k]);
      // Shards hold their flows at the same time: the peaks add up.
      else flows[k] += f[k];
    }
  }
  return { findings, summary, stats: { capture: first.capture, decode: first.decode, flows } };
}
