/**
 * readTelemetry: a log file in, events (or errors naming file and line) out, streaming. The format is told
 * from the content (overridable); gzip is undone on the fly; a file that is one JSON array is read object
 * by object. Memory is bounded by the largest unit (line or object), not the file.
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { MinewatchEvent } from '../../findings/index.ts';
import { csvFlowParser } from './csv.ts';
import { eveParser, type HostOptions } from './eve.ts';
import { falcoParser } from './falco.ts';
import {
  DEFAULT_MAX_UNIT_BYTES,
  jsonArrayBatches,
  lineBatches,
  peekFraming,
  type UnitBatch,
} from './lines.ts';
import { minewatchParser } from './ndjson.ts';
import { sniffFormat } from './sniff.ts';
import { sysmonParser } from './sysmon.ts';
import { type LineParser, LOG_FORMATS, type LogFormat, SKIP, type TelemetryRecord } from './types.ts';
import { baseName } from './util.ts';
import { zeekJsonParser, zeekTsvParser } from './zeek.ts';

export interface ReadOptions extends HostOptions {
  /** Skip sniffing: read the file as this format. */
  format?: LogFormat;
  /** A line (or JSON array object) longer than this is an error and is skipped. Default 16 MiB. */
  maxUnitBytes?: number;
  /** Units looked at to tell the format. Default 64. */
  sniffUnits?: number;
}

export function isLogFormat(s: string): s is LogFormat {
  return (LOG_FORMATS as readonly string[]).includes(s);
}

export function createParser(format: LogFormat, file = '', opts: HostOptions = {}): LineParser {
  switch (format) {
    case 'minewatch':
      return minewatchParser();
    case 'zeek-tsv':
      return zeekTsvParser(file);
    case 'zeek-json':
      return zeekJsonParser(file);
    case 'suricata':
      return eveParser(opts);
    case 'falco':
      return falcoParser({ ...opts, ...(opts.host ? {} : { fileHost: hostOfFile(file) }) });
    case 'sysmon':
      return sysmonParser();
    case 'csv-flows':
      return csvFlowParser(opts);
  }
}

/** Pure core: the records of a batch of units, through `parser`. */
export function parseBatch(
  parser: LineParser,
  b: UnitBatch,
  file: string,
  maxUnitBytes: number,
): TelemetryRecord[] {
  const out: TelemetryRecord[] = [];
  const evs: MinewatchEvent[] = [];
  const format = parser.format;
  for (let i = 0; i < b.units.length; i++) {
    const u = b.units[i];
    const line = b.nos[i]!;
    if (u === null || u === undefined) {
      out.push({
        error: { file, line, reason: `longer than ${maxUnitBytes} bytes: skipped` },
        file,
        line,
        format,
      });
      continue;
    }
    if (b.invalid?.includes(i)) {
      out.push({ error: { file, line, reason: 'not valid UTF-8: skipped' }, file, line, format });
      continue;
    }
    if (u.length === 0 || (u.charCodeAt(0) <= 32 && u.trim() === '')) continue;
    evs.length = 0;
    let reason: string | undefined;
    try {
      reason = parser.parse(u, evs);
    } catch (e) {
      // A reader bug on one odd line must not lose the rest of the file.
      reason = `unreadable: ${(e as Error).message}`;
    }
    if (reason !== undefined) {
      if (reason.startsWith(SKIP)) out.push({ skipped: reason.slice(SKIP.length), file, line, format });
      else out.push({ error: { file, line, reason }, file, line, format });
    }
    // A minewatch line is one event, parsed and not changed: its text is the event's JSON.
    if (format === 'minewatch' && evs.length === 1) out.push({ event: evs[0]!, raw: u, file, line, format });
    else for (const event of evs) out.push({ event, file, line, format });
  }
  return out;
}

/** Pure: a whole text (tests, small inputs) → records. */
export function parseText(text: string, opts: ReadOptions & { file?: string } = {}): TelemetryRecord[] {
  const file = opts.file ?? '';
  const max = opts.maxUnitBytes ?? DEFAULT_MAX_UNIT_BYTES;
  const lines = text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  const batch: UnitBatch = { units: lines, nos: lines.map((_, i) => i + 1) };
  const format = opts.format ?? sniffFormat(lines.slice(0, opts.sniffUnits ?? 64), file);
  if (!format) return [unknownFormat(file, 1)];
  return parseBatch(createParser(format, file, opts), batch, file, max);
}

function unknownFormat(file: string, line: number): TelemetryRecord {
  return {
    error: {
      file,
      line,
      reason: `cannot tell the log format (one of ${LOG_FORMATS.join(', ')}); name it with --log-format`,
    },
    file,
    line,
  };
}

async function decode(src: AsyncIterable<Uint8Array>): Promise<AsyncIterable<Uint8Array>> {
  const it = src[Symbol.asyncIterator]();
  const first = await it.next();
  async function* chained(): AsyncGenerator<Uint8Array> {
    if (!first.done) yield first.value;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield r.value;
    }
  }
  if (!first.done && first.value[0] === 0x1f && first.value[1] === 0x8b) {
    const gunzip = createGunzip();
    const rs = Readable.from(chained());
    rs.on('error', (e) => gunzip.destroy(e));
    return utf16ToUtf8(rs.pipe(gunzip));
  }
  return utf16ToUtf8(chained());
}

/**
 * UTF-16 text (a byte-order mark first: what Windows PowerShell 5.1's `Out-File` and `>` write, e.g. a
 * `Get-WinEvent | ConvertTo-Json` export) as UTF-8; anything else unchanged. Decoded as a stream, so a
 * character split across chunks is safe and memory stays bounded.
 */
export async function utf16ToUtf8(src: AsyncIterable<Uint8Array>): Promise<AsyncIterable<Uint8Array>> {
  const it = src[Symbol.asyncIterator]();
  const head: Uint8Array[] = [];
  let len = 0;
  while (len < 2) {
    const r = await it.next();
    if (r.done) break;
    head.push(r.value);
    len += r.value.length;
  }
  const h = head.length === 1 ? head[0]! : Buffer.concat(head);
  const enc = h[0] === 0xff && h[1] === 0xfe ? 'utf-16le' : h[0] === 0xfe && h[1] === 0xff ? 'utf-16be' : '';
  async function* rest(): AsyncGenerator<Uint8Array> {
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield r.value;
    }
  }
  if (!enc) {
    return (async function* () {
      if (h.length) yield h;
      yield* rest();
    })();
  }
  return (async function* () {
    // TextDecoder drops the BOM itself.
    const dec = new TextDecoder(enc);
    yield Buffer.from(dec.decode(h, { stream: true }), 'utf8');
    for await (const c of rest()) yield Buffer.from(dec.decode(c, { stream: true }), 'utf8');
    const tail = dec.decode();
    if (tail) yield Buffer.from(tail, 'utf8');
  })();
}

/** A host name from a log file's name ('web-01.falco.json.gz' → 'web-01'): for records that name no host. */
export function hostOfFile(file: string): string | undefined {
  if (!file || file === '-') return undefined;
  const b = baseName(file).replace(/\.gz$/i, '');
  const stem = b.split('.')[0] ?? '';
  return stem || undefined;
}

/** Records in batches (one per chunk read): the fast path for `minewatch import`. */
export async function* readTelemetryBatches(
  input: string | AsyncIterable<Uint8Array>,
  opts: ReadOptions & { file?: string } = {},
): AsyncGenerator<TelemetryRecord[]> {
  const file = opts.file ?? (typeof input === 'string' ? input : '-');
  const max = opts.maxUnitBytes ?? DEFAULT_MAX_UNIT_BYTES;
  const raw =
    typeof input === 'string'
      ? input === '-'
        ? (process.stdin as AsyncIterable<Uint8Array>)
        : createReadStream(input, { highWaterMark: 1 << 20 })
      : input;
  const peeked = await peekFraming(await decode(raw));
  const batches =
    peeked.framing === 'array'
      ? jsonArrayBatches(peeked.stream, max, 2)
      : peeked.framing === 'objects'
        ? jsonArrayBatches(peeked.stream, max, 1)
        : lineBatches(peeked.stream, max);
  let parser: LineParser | undefined = opts.format ? createParser(opts.format, file, opts) : undefined;
  const held: UnitBatch[] = [];
  let sample: string[] = [];
  const want = opts.sniffUnits ?? 64;
  for await (const b of batches) {
    if (!parser) {
      held.push(b);
      for (const u of b.units) if (u && sample.length < want) sample.push(u);
      if (sample.length < want) continue;
      const format = sniffFormat(sample, file);
      if (!format) {
        yield [unknownFormat(file, firstLine(held))];
        return;
      }
      parser = createParser(format, file, opts);
      sample = [];
      for (const h of held.splice(0)) yield parseBatch(parser, h, file, max);
      continue;
    }
    yield parseBatch(parser, b, file, max);
  }
  if (!parser) {
    if (!held.some((h) => h.units.some((u) => u?.trim()))) return; // empty file: nothing, not an error
    const format = sniffFormat(sample, file);
    if (!format) {
      yield [unknownFormat(file, firstLine(held))];
      return;
    }
    parser = createParser(format, file, opts);
    for (const h of held) yield parseBatch(parser, h, file, max);
  }
}

function firstLine(held: UnitBatch[]): number {
  for (const h of held) for (let i = 0; i < h.units.length; i++) if (h.units[i]?.trim()) return h.nos[i]!;
  return 1;
}

/**
 * The contract `minewatch import` is built on: every event of a file, or an error naming the file and line
 * for each line that could not be read. A file that cannot be opened throws.
 */
export async function* readTelemetry(
  input: string | AsyncIterable<Uint8Array>,
  opts: ReadOptions & { file?: string } = {},
): AsyncGenerator<TelemetryRecord> {
  for await (const batch of readTelemetryBatches(input, opts)) yield* batch;
}
