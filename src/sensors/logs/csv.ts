/**
 * Flow records as delimited text with a header row: AWS VPC flow logs (space-separated), nfdump `-o csv`,
 * and CSV exports of NetFlow/IPFIX collectors. Columns are found by their common names; the host is a
 * host column when there is one, else the flow's source address.
 *
 * Unidirectional records (VPC flow logs log each direction separately) are turned to the client's view
 * when the source port is the service side: a reply record from pool:3333 to host:49152 becomes the host's
 * connection to the pool, with its bytes as bytes_in.
 */
import type { MinewatchEvent } from '../../findings/index.ts';
import type { LineParser } from './types.ts';
import { clip, put, toIp, toIso, toNum, toPort, toProto, toStr } from './util.ts';

type Col =
  | 'src'
  | 'dst'
  | 'sport'
  | 'dport'
  | 'proto'
  | 'bytes_out'
  | 'bytes_in'
  | 'packets_out'
  | 'packets_in'
  | 'start'
  | 'end'
  | 'duration'
  | 'host'
  | 'action'
  | 'status';

/** Header names (lowercased, '-' and ' ' as '_') for each column, most specific first. */
const ALIASES: Record<Col, string[]> = {
  src: [
    'src_ip',
    'srcaddr',
    'src',
    'sa',
    'srcip',
    'src_addr',
    'source_ip',
    'source_address',
    'sourceaddress',
    'ipv4_src_addr',
    'saddr',
    'source',
    'id.orig_h',
  ],
  dst: [
    'dst_ip',
    'dstaddr',
    'dst',
    'da',
    'dstip',
    'dst_addr',
    'dest_ip',
    'destination_ip',
    'destination_address',
    'destinationaddress',
    'ipv4_dst_addr',
    'daddr',
    'destination',
    'dest',
    'id.resp_h',
  ],
  sport: ['src_port', 'srcport', 'sport', 'sp', 'source_port', 'l4_src_port', 'id.orig_p'],
  dport: ['dst_port', 'dstport', 'dport', 'dp', 'dest_port', 'destination_port', 'l4_dst_port', 'id.resp_p'],
  proto: ['proto', 'protocol', 'pr', 'prot'],
  bytes_out: [
    'bytes_out',
    'ibyt',
    'bytes',
    'orig_bytes',
    'src_bytes',
    'sbytes',
    'bytes_toserver',
    'in_bytes',
    'octets',
  ],
  bytes_in: ['bytes_in', 'obyt', 'resp_bytes', 'dst_bytes', 'dbytes', 'bytes_toclient', 'out_bytes'],
  packets_out: [
    'packets_out',
    'ipkt',
    'packets',
    'pkts',
    'orig_pkts',
    'src_pkts',
    'spkts',
    'pkts_toserver',
    'in_pkts',
  ],
  packets_in: ['packets_in', 'opkt', 'resp_pkts', 'dst_pkts', 'pkts_toclient', 'out_pkts'],
  start: [
    'start',
    'first',
    'ts',
    'stime',
    'start_time',
    'starttime',
    'first_switched',
    'date_first_seen',
    'timestamp',
    'time',
  ],
  end: ['end', 'last', 'te', 'etime', 'end_time', 'endtime', 'last_switched', 'date_last_seen'],
  duration: ['duration', 'td', 'dur'],
  host: ['host', 'hostname', 'computer', 'instance_id'],
  action: ['action'],
  status: ['log_status'],
};

const norm = (h: string) =>
  h
    .trim()
    .replace(/^"|"$/g, '')
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, '_');

export function splitRow(line: string, delim: string | RegExp): string[] {
  if (typeof delim !== 'string') return line.trim().split(delim);
  if (!line.includes('"')) return line.split(delim);
  const out: string[] = [];
  let cur = '';
  let q = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (q) {
      if (c === '"') {
        if (line[i + 1] === '"') {
          cur += '"';
          i++;
        } else q = false;
      } else cur += c;
    } else if (c === '"') q = true;
    else if (c === delim) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

export function delimiterOf(header: string): string | RegExp {
  if (header.includes(',')) return ',';
  if (header.includes('\t')) return '\t';
  if (header.includes(';')) return ';';
  return /\s+/;
}

/** Column positions from a header row, or undefined when it names no source, destination and port. */
export function mapHeader(cells: string[]): Partial<Record<Col, number>> | undefined {
  const names = cells.map(norm);
  const at: Partial<Record<Col, number>> = {};
  for (const col of Object.keys(ALIASES) as Col[]) {
    for (const a of ALIASES[col]) {
      const i = names.indexOf(a);
      if (i >= 0) {
        at[col] = i;
        break;
      }
    }
  }
  return at.src !== undefined && at.dst !== undefined && at.dport !== undefined ? at : undefined;
}

/** Whether a line is a flow header this reader understands (for format sniffing). */
export function looksLikeFlowHeader(line: string): boolean {
  if (line.startsWith('{') || line.startsWith('#')) return false;
  return mapHeader(splitRow(line, delimiterOf(line))) !== undefined;
}

/** Ports at or above this are ephemeral (Linux 32768-60999, Windows 49152-65535). */
const EPHEMERAL = 32768;

export function csvFlowParser(): LineParser {
  let delim: string | RegExp | undefined;
  let at: Partial<Record<Col, number>> | undefined;
  let width = 0;
  let summary = false;
  return {
    format: 'csv-flows',
    parse(line, out) {
      if (summary) return undefined;
      if (!at) {
        delim = delimiterOf(line);
        const cells = splitRow(line, delim);
        at = mapHeader(cells);
        if (!at)
          return `not a flow header (need source, destination and destination port columns): ${clip(line)}`;
        width = cells.length;
        return undefined;
      }
      // nfdump ends its CSV with a 'Summary' block of totals: not flows.
      if (line.startsWith('Summary')) {
        summary = true;
        return undefined;
      }
      const c = splitRow(line, delim!);
      if (c.length < width) return `has ${c.length} columns, the header names ${width}`;
      const v = (k: Col): string | undefined => (at![k] !== undefined ? c[at![k]!] : undefined);
      // VPC flow logs write '-' everywhere for NODATA/SKIPDATA records: no traffic, nothing to import.
      const status = v('status');
      if (status === 'NODATA' || status === 'SKIPDATA') return undefined;
      let src = toIp(v('src'));
      let dst = toIp(v('dst'));
      let sport = toPort(v('sport'));
      let dport = toPort(v('dport'));
      if (!src) return `bad source address '${clip(v('src') ?? '', 40)}'`;
      if (!dst) return `bad destination address '${clip(v('dst') ?? '', 40)}'`;
      if (dport === undefined) return `bad destination port '${clip(v('dport') ?? '', 20)}'`;
      const start = toIso(v('start'));
      const end = toIso(v('end'));
      const time = start ?? end;
      if (!time) return `no start or end time ('${clip(v('start') ?? v('end') ?? '', 30)}')`;
      let dur = toNum(v('duration'));
      if (dur === undefined && start && end) dur = (Date.parse(end) - Date.parse(start)) / 1000;
      let bytesOut = toNum(v('bytes_out'));
      let bytesIn = toNum(v('bytes_in'));
      let pktsOut = toNum(v('packets_out'));
      let pktsIn = toNum(v('packets_in'));
      let reversed = false;
      if (at.bytes_in === undefined && sport !== undefined && sport < EPHEMERAL && dport >= EPHEMERAL) {
        [src, dst, sport, dport] = [dst, src, dport, sport];
        [bytesOut, bytesIn, pktsOut, pktsIn] = [bytesIn, bytesOut, pktsIn, pktsOut];
        reversed = true;
      }
      const ev: Record<string, unknown> = {
        time,
        host: toStr(v('host')) ?? src,
        type: 'connection',
        src_ip: src,
        dst_ip: dst,
        dst_port: dport,
      };
      put(ev, 'src_port', sport);
      put(ev, 'proto', toProto(v('proto')));
      put(ev, 'duration', dur !== undefined && dur >= 0 ? dur : undefined);
      put(ev, 'bytes_out', bytesOut);
      put(ev, 'bytes_in', bytesIn);
      put(ev, 'packets_out', pktsOut);
      put(ev, 'packets_in', pktsIn);
      // Flow exporters count whole IP packets, not payload.
      ev.bytes_include_headers = true;
      if (at.bytes_in === undefined) ev.one_way = true;
      if (reversed) ev.reversed = true;
      put(ev, 'action', toStr(v('action'))?.toLowerCase());
      ev.sensor = 'flows/csv';
      out.push(ev as MinewatchEvent);
      return undefined;
    },
  };
}
