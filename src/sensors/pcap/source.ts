/**
 * The I/O edge: stream a capture file (or stdin for `tcpdump -w - | minewatch ...`) through the pure
 * CaptureReader with one reused read buffer, so memory stays flat whatever the file size.
 */
import { open } from 'node:fs/promises';
import type { DecodeStats } from './decode.ts';
import { PacketDecoder } from './decode.ts';
import type { FlowHandlers, FlowTableOptions, FlowTableStats } from './flows.ts';
import { FlowTable } from './flows.ts';
import type { CaptureStats, RawPacket } from './reader.ts';
import { CaptureReader } from './reader.ts';

export interface ReadCaptureOptions {
  /** Read size in bytes (default 1 MiB). */
  chunkSize?: number;
  maxRecord?: number;
  signal?: AbortSignal;
  /** Stream to read when pathOrDash is '-' (default process.stdin); for tests. */
  stdin?: AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
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
  });
  if (isStdin) {
    for await (const chunk of opts.stdin ?? (process.stdin as AsyncIterable<Uint8Array>)) {
      opts.signal?.throwIfAborted();
      reader.push(chunk, onPacket);
    }
  } else {
    const fh = await open(pathOrDash, 'r');
    try {
      // One buffer, reused: the reader copies only a record that straddles two reads.
      const buf = new Uint8Array(opts.chunkSize ?? 1 << 20);
      for (;;) {
        opts.signal?.throwIfAborted();
        const { bytesRead } = await fh.read(buf, 0, buf.length, null);
        if (bytesRead === 0) break;
        reader.push(bytesRead === buf.length ? buf : buf.subarray(0, bytesRead), onPacket);
      }
    } finally {
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

/**
 * The usual pipeline in one call: read, decode, track flows. Handlers see reassembled TCP streams and
 * UDP datagrams; onPacket (optional) sees every raw packet first.
 */
export async function readCaptureFlows(
  pathOrDash: string,
  handlers: FlowHandlers,
  opts: ReadCaptureOptions & FlowTableOptions & { onPacket?: (p: RawPacket) => void } = {},
): Promise<CaptureFlowStats> {
  const decoder = new PacketDecoder();
  const table = new FlowTable(handlers, opts);
  const onPacket = opts.onPacket;
  const capture = await readCapture(
    pathOrDash,
    (p) => {
      if (onPacket) onPacket(p);
      const d = decoder.decode(p.linkType, p.data);
      if (d) table.add(d, p.index, p.tsSec);
    },
    opts,
  );
  table.end();
  return { capture, decode: decoder.stats, flows: table.stats };
}
