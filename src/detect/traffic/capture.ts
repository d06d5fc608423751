import type { Finding } from '../../findings/index.ts';
import type { IntelBase } from '../../intel/index.ts';
import { type CaptureFlowStats, readCaptureFlows } from '../../sensors/pcap/index.ts';
import { TrafficAnalyzer, type TrafficSummary } from './analyzer.ts';

export interface CaptureReport {
  findings: Finding[];
  summary: TrafficSummary & {
    source: string;
    format: string;
    packets: number;
    damaged_packets: number;
    bytes: number;
    flows: number;
    undecoded: Record<string, number>;
  };
}

export interface AnalyseOptions {
  intel: IntelBase;
  onFinding?: (f: Finding) => void;
  onUpdate?: (f: Finding) => void;
  stdin?: AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
}

/** Reads one capture (a path, or '-' for stdin) to the end and returns its findings and summary. */
export async function analyseCapture(pathOrDash: string, opts: AnalyseOptions): Promise<CaptureReport> {
  const source = pathOrDash === '-' ? 'stdin' : pathOrDash;
  const analyzer = new TrafficAnalyzer({
    intel: opts.intel,
    source,
    ...(opts.onFinding ? { onFinding: opts.onFinding } : {}),
    ...(opts.onUpdate ? { onUpdate: opts.onUpdate } : {}),
  });
  const stats: CaptureFlowStats = await readCaptureFlows(pathOrDash, analyzer.handlers, {
    ...(opts.stdin ? { stdin: opts.stdin } : {}),
  });
  const { findings, summary } = analyzer.finish();
  const { ok: _ok, ...undecoded } = stats.decode as unknown as Record<string, number>;
  return {
    findings,
    summary: {
      source,
      format: stats.capture.format,
      packets: stats.capture.packets,
      damaged_packets: stats.capture.damaged,
      bytes: stats.capture.bytes,
      flows: stats.flows.flows,
      undecoded,
      ...summary,
    },
  };
}
