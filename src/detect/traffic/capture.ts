import { stat } from 'node:fs/promises';
import type { Finding } from '../../findings/index.ts';
import type { IntelBase } from '../../intel/index.ts';
import {
  type CaptureFlowStats,
  type FlowClass,
  type FlowTableOptions,
  readCaptureFlows,
} from '../../sensors/pcap/index.ts';
import { TrafficAnalyzer, type TrafficSummary } from './analyzer.ts';
import { analyseInShards, threadsFor } from './parallel.ts';

export interface CaptureReport {
  findings: Finding[];
  summary: TrafficSummary & {
    source: string;
    format: string;
    packets: number;
    damaged_packets: number;
    /** Packets decoded from inside a tunnel (VXLAN, GENEVE, GRE, ERSPAN, IP-in-IP). */
    tunnelled_packets: number;
    bytes: number;
    flows: number;
    /** The flow table's bounds at work: most flows held at once, and flows dropped by class and cause. */
    flow_table: {
      peak_flows: number;
      evicted: number;
      evicted_by_class: Record<FlowClass, number>;
      timed_out: Record<FlowClass, number>;
    };
    undecoded: Record<string, number>;
  };
}

export interface AnalyseOptions {
  intel: IntelBase;
  onFinding?: (f: Finding) => void;
  onUpdate?: (f: Finding) => void;
  stdin?: AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
  /** Threads for a capture file (parallel.ts); default 1, one pass. Stdin is always one pass. */
  threads?: number;
  /** Flow-table bounds for a single pass (defaults in flows.ts); tests shrink them to reach them cheaply. */
  flowTable?: Pick<FlowTableOptions, 'maxFlows' | 'maxKeptFlows' | 'halfOpenTimeoutSec' | 'idleTimeoutSec'>;
}

/** Reads one capture (a path, or '-' for stdin) to the end and returns its findings and summary. */
export async function analyseCapture(pathOrDash: string, opts: AnalyseOptions): Promise<CaptureReport> {
  const source = pathOrDash === '-' ? 'stdin' : pathOrDash;
  const wanted = pathOrDash === '-' || !opts.intel.inputs ? 1 : threadsFor(opts.threads);
  const threads = wanted > 1 && (await isRegularFile(pathOrDash)) ? wanted : 1;
  let findings: Finding[];
  let summary: TrafficSummary;
  let stats: CaptureFlowStats;
  if (threads > 1) {
    ({ findings, summary, stats } = await analyseInShards(pathOrDash, threads, {
      intel: opts.intel,
      ...(opts.onFinding ? { onFinding: opts.onFinding } : {}),
      ...(opts.onUpdate ? { onUpdate: opts.onUpdate } : {}),
    }));
  } else {
    const analyzer = new TrafficAnalyzer({
      intel: opts.intel,
      source,
      ...(opts.onFinding ? { onFinding: opts.onFinding } : {}),
      ...(opts.onUpdate ? { onUpdate: opts.onUpdate } : {}),
    });
    stats = await readCaptureFlows(pathOrDash, analyzer.handlers, {
      ...(opts.stdin ? { stdin: opts.stdin } : {}),
      ...opts.flowTable,
    });
    ({ findings, summary } = analyzer.finish());
  }
  const { ok: _ok, tunnelled, ...undecoded } = stats.decode;
  return {
    findings,
    summary: {
      source,
      format: stats.capture.format,
      packets: stats.capture.packets,
      damaged_packets: stats.capture.damaged,
      tunnelled_packets: tunnelled,
      bytes: stats.capture.bytes,
      flows: stats.flows.flows,
      flow_table: {
        peak_flows: stats.flows.peakFlows,
        evicted: Object.values(stats.flows.evicted).reduce((a, b) => a + b, 0),
        evicted_by_class: stats.flows.evicted,
        timed_out: stats.flows.timedOut,
      },
      undecoded,
      ...summary,
    },
  };
}

/** Threads are for regular files; anything else goes to the one pass, which reports what is wrong with it. */
async function isRegularFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}
