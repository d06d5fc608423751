/**
 * The I/O edge: stream a capture file (or stdin for `tcpdump -w - | minewatch ...`) through the pure
 * CaptureReader with one reused read buffer, so memory stays flat whatever the file size.
 */
import { open } from 'node:fs/promises';
import type { DecodedPacket, DecodeStats } from './decode.ts';
import { PacketDecoder } from './decode.ts';
import type { FlowHandlers, FlowTableOptions, FlowTableStats } from './flows.ts';
import { FlowTable } from './flows.ts';
import type { CaptureStats, RawPacket } from './reader.ts';
import { CaptureReader } from './reader.ts';
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

/** Read a whole capture, calling onPacket for each packet. '-' reads stdin. */
export async function readCapture(
  pathOrDash: string,
  onPacket: (p: RawPacket) => void,
  opts: ReadCaptureOptions = {},
): Promise<CaptureStats> {
  const isStdin = pathOrDash === '-';
  const reader = new CaptureReader({
    source: isStdin ? 'stdin' : pathOrDash,
    ...(opts.maxRecord !== undefined ? { maxRecord: opts.maxRecord } : {}),
    ...(opts.reuse ? { reuse: true } : {}),
  });
  if (isStdin) {
    for await (const chunk of opts.stdin ?? (process.stdin as AsyncIterable<Uint8Array>)) {
      opts.signal?.throwIfAborted();
      reader.push(chunk, onPacket);
    }
  } else {
    const fh = await open(pathOrDash, 'r');
    // Two buffers, reused: the next read runs on the thread pool while this chunk is parsed (the reader
    // copies only a record that straddles two reads, so a buffer is free again once push returns). Reading
    // the 158 MB bench capture alone takes 40-50 ms: that time now overlaps with parsing instead of adding to it.
    const size = opts.chunkSize ?? 1 << 20;
    const bufs = [new Uint8Array(size), new Uint8Array(size)] as const;
    let which = 0;
    let next: Promise<{ bytesRead: number }> | null = fh.read(bufs[0], 0, size, null);
    try {
      for (;;) {
        opts.signal?.throwIfAborted();
        const { bytesRead } = await next;
        next = null;
        if (bytesRead === 0) break;
        const buf = bufs[which]!;
        which ^= 1;
        next = fh.read(bufs[which]!, 0, size, null);
        reader.push(bytesRead === size ? buf : buf.subarray(0, bytesRead), onPacket);
      }
    } finally {
      // A read still in flight (push threw) must finish before the handle closes.
      if (next) await next.catch(() => undefined);
      await fh.close();
    }
  }
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
  const decoder = new PacketDecoder();
  const table = new FlowTable(handlers, opts);
  const onPacket = opts.onPacket;
  const shard = opts.shard && opts.shard.count > 1 ? opts.shard : undefined;
  let add = (d: DecodedPacket, index: number, ts: number) => table.add(d, index, ts);
  let dnsTable: FlowTable | undefined;
  if (shard) {
    const { index: mine, count, dnsHandlers } = shard;
    dnsTable = dnsHandlers ? new FlowTable(dnsHandlers, opts) : undefined;
    add = (d, index, ts) => {
      if (shardOf(d, count) === mine) table.add(d, index, ts);
      else if (dnsTable && isDns(d)) dnsTable.add(d, index, ts);
    };
  }
  // Without an onPacket observer nothing keeps the packet object: reuse it and decode the record in place
  // (no object and no subarray per record).
  const capture = onPacket
    ? await readCapture(
        pathOrDash,
        (p) => {
          onPacket(p);
          const d = decoder.decode(p.linkType, p.data);
          if (d) add(d, p.index, p.tsSec);
        },
        opts,
      )
    : await readCapture(
        pathOrDash,
        (p) => {
          const off = p.offset!;
          const d = decoder.decodeRange(p.linkType, p.buf!, off, off + p.caplen);
          if (d) add(d, p.index, p.tsSec);
        },
        { ...opts, reuse: true },
      );
  dnsTable?.end();
  table.end();
  return { capture, decode: decoder.stats, flows: table.stats };
}
