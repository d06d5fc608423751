/**
 * Shapes of the telemetry readers. A reader turns one line (or one JSON object of an array) into zero or more
 * events; a line it cannot read becomes an error naming the file and line, and reading goes on.
 */
import type { MinewatchEvent } from '../../findings/index.ts';

export type LogFormat =
  | 'minewatch'
  | 'zeek-tsv'
  | 'zeek-json'
  | 'suricata'
  | 'falco'
  | 'sysmon'
  | 'csv-flows';

export const LOG_FORMATS: readonly LogFormat[] = [
  'minewatch',
  'zeek-tsv',
  'zeek-json',
  'suricata',
  'falco',
  'sysmon',
  'csv-flows',
];

export interface ReadError {
  file: string;
  /** 1-based line; for a JSON array, the line its object starts on. */
  line: number;
  reason: string;
}

/**
 * One result of reading. `event` or `error`, never both. `file`/`line`/`format` say where an event came
 * from so detectors can cite it as evidence; they sit beside the event, not in it, so the same record
 * imported from another path is still the same event for the store's de-duplication.
 */
export interface TelemetryRecord {
  event?: MinewatchEvent;
  /**
   * The text `event` was parsed from, when the event is exactly that text (minewatch NDJSON lines): the store
   * keeps it as the event's JSON instead of serialising the event again (`IngestOptions.raw`).
   */
  raw?: string;
  error?: ReadError;
  /**
   * The record was read and deliberately not imported (a log type or event id minewatch does not use, a
   * NODATA flow record): why, as a short cause the import summary counts by. Never with `event` or `error`.
   */
  skipped?: string;
  file?: string;
  line?: number;
  format?: LogFormat;
}

/** Where a piece of telemetry came from. */
export interface SourceRef {
  file?: string;
  line?: number;
  format?: LogFormat;
}

/**
 * A parser returns a reason that starts with this for a record it reads and leaves out on purpose: counted by
 * cause (`TelemetryRecord.skipped`), not reported as a bad line.
 */
export const SKIP = 'skip: ';

/** `SKIP` + cause: what a parser returns for a record it leaves out on purpose. */
export function skip(cause: string): string {
  return SKIP + cause;
}

/**
 * A per-file line parser. Stateful only where the format is (Zeek's `#fields` header, a CSV header row).
 * `parse` pushes the events of one line onto `out` and returns undefined, or returns an error reason.
 */
export interface LineParser {
  readonly format: LogFormat;
  parse(line: string, out: MinewatchEvent[]): string | undefined;
}
