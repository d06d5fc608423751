/**
 * The I/O edge: stream a capture file (or stdin for `tcpdump -w - | minewatch ...`) through the packet core's
 * reader. A file is read straight into the core's input region (no buffer of its own, no copy); stdin's chunks are
 * copied in. Memory stays flat whatever the file size: the region holds one read and one cut record.
 *
 * readCaptureFlows is the fused loop: the core reads each record, decodes it where it lies and hands it to its own
 * flow table, so nothing crosses into JavaScript per packet but the flow table's events. An onPacket observer or a
 * shard filter takes a slower path: the records come to JS in batches, each is decoded in the core on request and
 * read through views of the decoded packet.
 */
import { open } from 'node:fs/promises';
import { instantiateCore } from './core/load.ts';
import type { DecodeStats } from './decode.ts';
import { CorePacket, PacketView } from './decode.ts';
import type { FlowHandlers, FlowTableOptions, FlowTableStats } from './flows.ts';
import { FlowTable } from './flows.ts';
import type { CaptureStats, RawPacket } from './reader.ts';
import { CaptureReader, MODE_BATCH, MODE_DECODE, MODE_FLOWS, MODE_READ } from './reader.ts';
import { isDns, shardOf } from './shard.ts';

export interface ReadCaptureOptions {
  /** Read size in bytes (default 1 MiB). */
  chunkSize?: number;
  maxRecord?: number;
  signal?: AbortSignal;
  /** Stream to read when pathOrDash is '-' (default process.stdin); for tests. */
  stdin?: AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
  /** One RawPacket object for every record (see CaptureReaderOptions.reuse). */
  reuse?: boolean;
}

const DEFAULT_CHUNK = 1 << 20;
const chunkSize = (opts: ReadCaptureOptions): number => Math.max(1, opts.chunkSize ?? DEFAULT_CHUNK);

/**
 * Feed the whole input to the reader: a file read by read straight into its region, stdin copied in chunk by
 * chunk. Each record goes to onPacket (MODE_BATCH) or into the core's own pipeline (mode).
 */
async function feed(
  reader: CaptureReader,
  pathOrDash: string,
  opts: ReadCaptureOptions,
  onPacket: (p: RawPacket) => void,
  mode: number,
): Promise<void> {
  if (pathOrDash === '-') {
    for await (const chunk of opts.stdin ?? (process.stdin as AsyncIterable<Uint8Array>)) {
      opts.signal?.throwIfAborted();
      reader.push(chunk, onPacket, mode);
    }
    return;
  }
  const fh = await open(pathOrDash, 'r');
  const size = chunkSize(opts);
  try {
    for (;;) {
      opts.signal?.throwIfAborted();
      // The core is idle while the read runs (it never runs between calls), so its memory cannot grow under the view.
      const { bytesRead } = await fh.read(reader.space(size), 0, undefined, null);
      if (bytesRead === 0) break;
      reader.written(bytesRead, onPacket, mode);
    }
  } finally {
    await fh.close();
  }
}

function newReader(pathOrDash: string, opts: ReadCaptureOptions, core?: FlowTable['core']): CaptureReader {
  return new CaptureReader(
    {
      source: pathOrDash === '-' ? 'stdin' : pathOrDash,
      ...(opts.maxRecord !== undefined ? { maxRecord: opts.maxRecord } : {}),
      ...(opts.reuse ? { reuse: true } : {}),
    },
    core,
    chunkSize(opts),
  );
}

/** Read a whole capture, calling onPacket for each packet. '-' reads stdin. */
export async function readCapture(
  pathOrDash: string,
  onPacket: (p: RawPacket) => void,
  opts: ReadCaptureOptions = {},
): Promise<CaptureStats> {
  const reader = newReader(pathOrDash, opts);
  await feed(reader, pathOrDash, opts, onPacket, MODE_BATCH);
  reader.end();
  return reader.stats;
}

export interface CaptureFlowStats {
  capture: CaptureStats;
  decode: DecodeStats;
  flows: FlowTableStats;
}

/** One shard of a parallel analysis: this reader handles the packets `shardOf` gives it (see shard.ts). */
export interface ShardSpec {
  index: number;
  count: number;
  /** Handlers for the DNS packets of other shards' flows (answers only; they get a flow table of their own). */
  dnsHandlers?: FlowHandlers;
}

/**
 * The usual pipeline in one call: read, decode, track flows. Handlers see reassembled TCP streams and
 * UDP datagrams; onPacket (optional) sees every raw packet first. With `shard`, only that shard's packets
 * reach the flow table (and its stats); the capture and decode stats still count every packet.
 */
export async function readCaptureFlows(
  pathOrDash: string,
  handlers: FlowHandlers,
  opts: ReadCaptureOptions & FlowTableOptions & { onPacket?: (p: RawPacket) => void; shard?: ShardSpec } = {},
): Promise<CaptureFlowStats> {
  // The reader and decoder run in the flow table's core instance: records, decoded packets and flows share memory.
  const table = new FlowTable(handlers, opts);
  const onPacket = opts.onPacket;
  const shard = opts.shard && opts.shard.count > 1 ? opts.shard : undefined;
  // Without an observer nothing keeps the packet object: one is reused (the shard path reads it, the fused loop makes
  // none); an observer gets a fresh one per record unless it asked for reuse.
  const reader = newReader(
    pathOrDash,
    { ...opts, reuse: onPacket === undefined || opts.reuse === true },
    table.core,
  );
  const pkt = new CorePacket(table.core);
  pkt.core.decodeStatsReset();
  let dnsTable: FlowTable | undefined;
  if (!onPacket && !shard) {
    // The fused loop: no JavaScript per packet.
    await feed(reader, pathOrDash, opts, () => {}, MODE_FLOWS);
    reader.end(MODE_FLOWS);
  } else {
    const core = reader.core;
    let each: (p: RawPacket) => void;
    if (shard) {
      const { index: mine, count, dnsHandlers } = shard;
      dnsTable = dnsHandlers ? new FlowTable(dnsHandlers, opts) : undefined;
      const view = new PacketView();
      each = (p) => {
        onPacket?.(p);
        if (core.readerDecode(p.batch!) !== 0) return;
        pkt.fill(view, reader.views(), 0);
        if (shardOf(view, count) === mine) table.addDecoded();
        // Another shard's DNS goes to a table of its own (another core): through its copying add().
        else if (dnsTable && isDns(view)) dnsTable.add(view, p.index, p.tsSec);
      };
    } else
      each = (p) => {
        onPacket!(p);
        if (core.readerDecode(p.batch!) === 0) table.addDecoded();
      };
    await feed(reader, pathOrDash, opts, each, MODE_BATCH);
    reader.end(MODE_BATCH);
  }
  dnsTable?.end();
  table.end();
  return { capture: reader.stats, decode: pkt.loopStats(), flows: table.stats };
}

/**
 * Read every record in the core and only count it ('read') or decode it too ('decode'), nothing per record in
 * JavaScript: the benchmark's first two stages (bench/pcap.ts), the cost of the core's reader and decoder alone.
 */
export async function scanCapture(
  pathOrDash: string,
  stage: 'read' | 'decode',
  opts: ReadCaptureOptions = {},
): Promise<{ capture: CaptureStats; decode: DecodeStats }> {
  const reader = newReader(pathOrDash, opts, instantiateCore() as FlowTable['core']);
  const mode = stage === 'read' ? MODE_READ : MODE_DECODE;
  await feed(reader, pathOrDash, opts, () => {}, mode);
  reader.end(mode);
  return { capture: reader.stats, decode: new CorePacket(reader.core).loopStats() };
}
