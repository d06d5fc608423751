/**
 * Flow records as delimited text: AWS VPC flow logs (space-separated, with a header or headerless in the v2
 * default field order as CloudWatch Logs delivers them), nfdump `-o csv` (1.6/1.7: ts,te,td,sa,da,sp,dp,pr,
 * ...,ipkt,ibyt,opkt,obyt,...; local time, `--tz`), and CSV exports of NetFlow/IPFIX collectors. Columns are found by their common names; the host is a
 * host column when there is one, else the flow's source address.
 *
 * Unidirectional records (VPC flow logs, NetFlow v5/v9 and nfpcapd via nfdump, whose opkt/obyt are 0) are
 * turned to the client's view when they run from the server: a reply record from pool:3333 to host:49152, or
 * from a MinerGate address:45700 (intel), becomes the host's connection to the pool, its bytes as bytes_in.
 */
import type { MinewatchEvent } from '../../findings/index.ts';
import type { HostOptions } from './eve.ts';
import { type LineParser, skip } from './types.ts';
import { clip, put, toIp, toIsoIn, toNum, toPort, toProto, toStr } from './util.ts';

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

/**
 * The AWS VPC flow log version 2 default format, the fields in the order AWS writes them when no custom
 * format is given. CloudWatch Logs (and an S3 file read line by line after its header) gives these lines
 * with no header row.
 */
export const VPC_V2_FIELDS =
  'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status';

/**
 * A VPC flow log v2 default-format record without its header: '2 123456789012 eni-… 10.0.0.5 … ACCEPT OK',
 * optionally after the ISO timestamp CloudWatch Logs exports put before each message.
 */
const VPC_V2_RE =
  /^(?:\d{4}-\d{2}-\d{2}T\S+\s+)?2 (?:\d{12}|unknown|-) (?:eni-[0-9a-f]+|-) \S+ \S+ \S+ \S+ \S+ \S+ \S+ \S+ \S+ (?:ACCEPT|REJECT|-) (?:OK|NODATA|SKIPDATA)$/;

export function looksLikeVpcRecord(line: string): boolean {
  return VPC_V2_RE.test(line.trim());
}

/** Distinct rows remembered to number identical ones (bounded; cleared when full). */
const MAX_ROWS_SEEN = 100_000;

export function csvFlowParser(opts: HostOptions = {}): LineParser {
  let delim: string | RegExp | undefined;
  let at: Partial<Record<Col, number>> | undefined;
  let width = 0;
  let summary = false;
  /** nfdump (ibyt/obyt columns): unidirectional unless the exporter filled the reply counts (IPFIX biflow). */
  let nfdump = false;
  /** Headerless VPC records may carry CloudWatch's export timestamp first. */
  let vpc = false;
  /** Times an identical row was seen: identical flow rows are distinct flows, not duplicates. */
  const seen = new Map<string, number>();
  return {
    format: 'csv-flows',
    parse(rawLine, out) {
      if (summary) return undefined;
      let line = rawLine;
      if (!at) {
        if (looksLikeVpcRecord(line)) {
          vpc = true;
          delim = /\s+/;
          at = mapHeader(VPC_V2_FIELDS.split(' '))!;
          width = 14;
        } else {
          delim = delimiterOf(line);
          const cells = splitRow(line, delim);
          at = mapHeader(cells);
          if (!at)
            return `not a flow header (need source, destination and destination port columns): ${clip(line)}`;
          width = cells.length;
          const names = cells.map(norm);
          nfdump = names.includes('ibyt') && names.includes('obyt');
          return undefined;
        }
      }
      // nfdump ends its CSV with a 'Summary' block of totals: not flows.
      if (line.startsWith('Summary')) {
        summary = true;
        return undefined;
      }
      if (vpc && /^\d{4}-\d{2}-\d{2}T/.test(line)) line = line.replace(/^\S+\s+/, '');
      const c = splitRow(line, delim!);
      if (c.length < width) return `has ${c.length} columns, the header names ${width}`;
      const v = (k: Col): string | undefined => (at![k] !== undefined ? c[at![k]!] : undefined);
      // VPC flow logs write '-' everywhere for NODATA/SKIPDATA records: no traffic, nothing to import.
      const status = v('status');
      if (status === 'NODATA' || status === 'SKIPDATA') return skip(`vpc ${status} record (no traffic)`);
      let src = toIp(v('src'));
      let dst = toIp(v('dst'));
      let sport = toPort(v('sport'));
      let dport = toPort(v('dport'));
      if (!src) return `bad source address '${clip(v('src') ?? '', 40)}'`;
      if (!dst) return `bad destination address '${clip(v('dst') ?? '', 40)}'`;
      if (dport === undefined) return `bad destination port '${clip(v('dport') ?? '', 20)}'`;
      const start = toIsoIn(v('start'), opts.tz);
      const end = toIsoIn(v('end'), opts.tz);
      const time = start ?? end;
      if (!time) return `no start or end time ('${clip(v('start') ?? v('end') ?? '', 30)}')`;
      let dur = toNum(v('duration'));
      if (dur === undefined && start && end) dur = (Date.parse(end) - Date.parse(start)) / 1000;
      let bytesOut = toNum(v('bytes_out'));
      let bytesIn = toNum(v('bytes_in'));
      let pktsOut = toNum(v('packets_out'));
      let pktsIn = toNum(v('packets_in'));
      // nfdump prints opkt/obyt for every record; NetFlow v5/v9 and nfpcapd records are one-way and leave
      // them 0: nothing is known about the reply, which is not "nothing came back".
      const oneWay = at.bytes_in === undefined || (nfdump && !bytesIn && !pktsIn);
      if (oneWay && at.bytes_in !== undefined) {
        bytesIn = undefined;
        pktsIn = undefined;
      }
      let reversed = false;
      if (oneWay && sport !== undefined && isReply(src, sport, dst, dport, opts)) {
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
      if (oneWay) ev.one_way = true;
      if (reversed) ev.reversed = true;
      put(ev, 'action', toStr(v('action'))?.toLowerCase());
      if (vpc) put(ev, 'interface_id', toStr(c[2]));
      // Two identical rows are two flows (nfdump prints each record; aggregated exports repeat): number the
      // repeats so the store's content id keeps them apart, while re-importing the file stays idempotent.
      const n = (seen.get(line) ?? 0) + 1;
      if (seen.size >= MAX_ROWS_SEEN && n === 1) seen.clear();
      seen.set(line, n);
      if (n > 1) ev.repeat = n;
      ev.sensor = vpc ? 'flows/vpc' : nfdump ? 'flows/nfdump' : 'flows/csv';
      out.push(ev as MinewatchEvent);
      return undefined;
    },
  };
}

/**
 * Whether a one-way record runs from the server back to the client: its source is a known server (intel: a
 * pool address, a pool port) and its destination is not, or its source port is a service port below the
 * ephemeral line and its destination port above it.
 */
function isReply(src: string, sport: number, dst: string, dport: number, opts: HostOptions): boolean {
  const srcServer = opts.isServer?.(src, sport) === true;
  const dstServer = opts.isServer?.(dst, dport) === true;
  if (srcServer !== dstServer) return srcServer;
  return sport < EPHEMERAL && dport >= EPHEMERAL;
}
