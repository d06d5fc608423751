/**
 * Thread entry of a parallel capture analysis (parallel.ts): one shard of one capture file. Reads the whole
 * file (every shard walks every record; the page cache serves the copies), analyses the packets its shard
 * owns, and posts findings as they are decided and its partial findings and statistics at the end.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { buildIntel } from '../../intel/index.ts';
import { CaptureFormatError, readCaptureFlows } from '../../sensors/pcap/index.ts';
import { TrafficAnalyzer } from './analyzer.ts';
import type { ShardJob, WorkerMessage } from './parallel.ts';

const job = workerData as ShardJob;
const post = (m: WorkerMessage) => parentPort!.postMessage(m);

try {
  const intel = buildIntel(job.intel.files, job.intel.user);
  const analyzer = new TrafficAnalyzer({
    intel,
    source: job.path,
    ...(job.stream
      ? { onFinding: (f) => post({ t: 'finding', f }), onUpdate: (f) => post({ t: 'update', f }) }
      : {}),
  });
  const stats = await readCaptureFlows(job.path, analyzer.handlers, {
    shard: { index: job.index, count: job.count, dnsHandlers: analyzer.dnsHandlers },
    maxFlows: job.maxFlows,
    maxTotalPending: job.maxTotalPending,
  });
  post({ t: 'done', partial: analyzer.partial(), stats });
} catch (err) {
  const e = err as NodeJS.ErrnoException;
  post({
    t: 'error',
    message: e.message,
    ...(e.code ? { code: e.code } : {}),
    ...(err instanceof CaptureFormatError ? { format: { source: err.source, offset: err.offset } } : {}),
  });
}
