/**
 * Readers for outside telemetry (`minewatch import`): minewatch NDJSON events, Zeek conn/dns/ssl/http (TSV
 * and JSON), Suricata EVE, Falco alerts, Sysmon 1/3/22 as JSON, and flow records as CSV (VPC flow logs,
 * nfdump). Each reader maps a line to minewatch events; readTelemetry streams a file through the right one.
 */
export { csvFlowParser, mapHeader, splitRow } from './csv.ts';
export { eveParser, type HostOptions } from './eve.ts';
export { falcoParser } from './falco.ts';
export { DEFAULT_MAX_UNIT_BYTES, jsonArrayBatches, lineBatches, type UnitBatch } from './lines.ts';
export { minewatchParser } from './ndjson.ts';
export {
  createParser,
  isLogFormat,
  parseBatch,
  parseText,
  type ReadOptions,
  readTelemetry,
  readTelemetryBatches,
} from './read.ts';
export { jsonFormat, sniffFormat } from './sniff.ts';
export { parseQueryResults, sysmonParser } from './sysmon.ts';
export {
  type LineParser,
  LOG_FORMATS,
  type LogFormat,
  type ReadError,
  type SourceRef,
  type TelemetryRecord,
} from './types.ts';
export { toIso } from './util.ts';
export { zeekJsonParser, zeekPathFromName, zeekTsvParser } from './zeek.ts';
