/** Telling a file's format from its first units (and its name when the content leaves a choice). */
import { EVENT_TYPES } from '../../findings/index.ts';
import { looksLikeFlowHeader, looksLikeVpcRecord } from './csv.ts';
import type { LogFormat } from './types.ts';
import { isObj } from './util.ts';

/** The format of one parsed JSON object, from the keys only that format writes. */
export function jsonFormat(o: Record<string, unknown>): LogFormat | undefined {
  if ('event_type' in o && ('src_ip' in o || 'timestamp' in o)) return 'suricata';
  if ('output_fields' in o || ('rule' in o && 'priority' in o && 'output' in o)) return 'falco';
  if (
    (isObj(o.Event) && isObj(o.Event.System)) ||
    isObj(o.winlog) ||
    'EventID' in o ||
    'EventId' in o ||
    ('Id' in o && ('ProviderName' in o || 'MachineName' in o))
  )
    return 'sysmon';
  if (
    typeof o.type === 'string' &&
    (EVENT_TYPES as readonly string[]).includes(o.type) &&
    'host' in o &&
    'time' in o
  )
    return 'minewatch';
  if ('_path' in o || 'id.orig_h' in o || 'id_orig_h' in o || ('uid' in o && 'ts' in o)) return 'zeek-json';
  return undefined;
}

/** The first of `units` (lines or array objects) that tells the format decides it. */
export function sniffFormat(units: Iterable<string>, _file = ''): LogFormat | undefined {
  for (const raw of units) {
    const u = raw.trim();
    if (!u) continue;
    if (u.startsWith('#separator') || u.startsWith('#fields') || u.startsWith('#path')) return 'zeek-tsv';
    if (u.startsWith('{')) {
      let o: unknown;
      try {
        o = JSON.parse(u);
      } catch {
        continue; // a malformed first record must not hide the format of the rest
      }
      if (isObj(o)) {
        const f = jsonFormat(o);
        if (f) return f;
      }
      continue;
    }
    if (u.startsWith('#')) continue;
    if (looksLikeFlowHeader(u) || looksLikeVpcRecord(u)) return 'csv-flows';
    // The first non-comment, non-JSON line is the header of a delimited file or nothing we know.
    return undefined;
  }
  return undefined;
}
