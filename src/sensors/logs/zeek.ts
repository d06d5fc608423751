/**
 * Zeek logs: conn.log, dns.log, ssl.log, http.log and socks.log as TSV with `#fields`/`#types` headers, or as JSON
 * lines (LogAscii::use_json, with or without `_path`; a record without one is routed by the fields only its
 * log writes, or refused). Field names with `_` for `.` (`id_orig_h`) are read too. Zeek logs carry no host name: the host is the
 * originator (`id.orig_h`), the machine that opened the connection or asked the question.
 */
import type { MinewatchEvent } from '../../findings/index.ts';
import { type LineParser, skip } from './types.ts';
import { baseName, parseObject, put, toIp, toIso, toNum, toPort, toProto, toStr } from './util.ts';

export type ZeekPath = 'conn' | 'dns' | 'ssl' | 'http' | 'socks';
const PATHS = new Set<string>(['conn', 'dns', 'ssl', 'http', 'socks']);

type Get = (field: string) => unknown;

/** The log a file holds from its name ('conn.log', 'dns.20240115.log.gz', 'ssl_20240115.log'). */
export function zeekPathFromName(file: string): ZeekPath | undefined {
  const m = /^(conn|dns|ssl|http|socks)(?:[._-]|$)/.exec(baseName(file).toLowerCase());
  return m ? (m[1] as ZeekPath) : undefined;
}

/**
 * The log a JSON record without `_path` belongs to (Zeek's default JSON output writes none), from fields that
 * log always writes and no other does; undefined when the set matches none. Never a guess from one common
 * field: files.log (5.1+) has `uid`, `id.*` and `duration` like conn.log, kerberos.log has `cipher` like
 * ssl.log, sip.log has `trans_depth`, `method` and `uri` like http.log.
 */
export function pathFromFields(o: Record<string, unknown>): ZeekPath | undefined {
  const has = (k: string) => k in o || k.replace(/\./g, '_') in o;
  if ('fuid' in o || 'request_type' in o || 'call_id' in o) return undefined; // files, kerberos, sip
  if (!has('id.orig_h')) return undefined;
  if (has('conn_state') && 'proto' in o && ('missed_bytes' in o || 'history' in o || 'orig_pkts' in o))
    return 'conn';
  if ('trans_id' in o && ('rejected' in o || 'qtype_name' in o || 'rcode' in o)) return 'dns';
  if ('ssl_history' in o || ('resumed' in o && 'established' in o)) return 'ssl';
  if ('trans_depth' in o && ('request_body_len' in o || 'response_body_len' in o)) return 'http';
  if ('version' in o && (has('request_p') || has('bound_p'))) return 'socks';
  return undefined;
}

function list(v: unknown, setSep: string): string[] | undefined {
  if (Array.isArray(v)) return v.map(String);
  const s = toStr(v);
  if (s === undefined || s === '(empty)') return undefined;
  return s.split(setSep).filter((x) => x !== '' && x !== '-');
}

/** Maps one Zeek record (through `get`) to an event; returns an error reason for a record it cannot use. */
function mapRecord(path: ZeekPath, getField: Get, setSep: string, out: MinewatchEvent[]): string | undefined {
  // Logs written with `Log::default_scope_sep = "_"` (and shippers that rename dots) say id_orig_h.
  const get: Get = (f) => {
    const v = getField(f);
    return v === undefined && f.includes('.') ? getField(f.replace(/\./g, '_')) : v;
  };
  const time = toIso(get('ts'));
  if (!time) return `bad or missing ts '${String(get('ts'))}'`;
  const src = toIp(get('id.orig_h'));
  const dst = toIp(get('id.resp_h'));
  if (!src) return `bad or missing id.orig_h '${String(get('id.orig_h'))}'`;
  const dport = toPort(get('id.resp_p'));
  if (path === 'dns') {
    const query = toStr(get('query'));
    // A dns.log record without a query (a malformed or non-query packet) is nothing to import, not an error.
    if (!query) return undefined;
    const ev: Record<string, unknown> = { time, host: src, type: 'dns', query };
    put(ev, 'qtype', toStr(get('qtype_name')) ?? toStr(get('qtype')));
    put(ev, 'answers', list(get('answers'), setSep));
    // How long the resolver said the answers hold: widens the window they attribute connections in.
    const ttls = list(get('TTLs'), setSep)
      ?.map((x) => toNum(x))
      .filter((x): x is number => x !== undefined);
    if (ttls?.length) ev.ttls = ttls;
    put(ev, 'rcode', toStr(get('rcode_name')));
    put(ev, 'server', dst);
    put(ev, 'uid', toStr(get('uid')));
    ev.sensor = 'zeek/dns';
    out.push(ev as MinewatchEvent);
    return undefined;
  }
  if (!dst) return `bad or missing id.resp_h '${String(get('id.resp_h'))}'`;
  if (dport === undefined) return `bad or missing id.resp_p '${String(get('id.resp_p'))}'`;
  // Built as one literal (no spread): this is the hot path of a conn.log import.
  const ev: Record<string, unknown> = {
    time,
    host: src,
    type: 'connection',
    src_ip: src,
    dst_ip: dst,
    dst_port: dport,
  };
  put(ev, 'src_port', toPort(get('id.orig_p')));
  put(ev, 'proto', toProto(get('proto')) ?? (path === 'conn' ? undefined : 'tcp'));
  put(ev, 'uid', toStr(get('uid')));
  if (path === 'conn') {
    put(ev, 'service', toStr(get('service')));
    put(ev, 'duration', toNum(get('duration')));
    put(ev, 'bytes_out', toNum(get('orig_bytes')));
    put(ev, 'bytes_in', toNum(get('resp_bytes')));
    put(ev, 'packets_out', toNum(get('orig_pkts')));
    put(ev, 'packets_in', toNum(get('resp_pkts')));
    put(ev, 'ip_bytes_out', toNum(get('orig_ip_bytes')));
    put(ev, 'ip_bytes_in', toNum(get('resp_ip_bytes')));
    put(ev, 'conn_state', toStr(get('conn_state')));
  } else if (path === 'ssl') {
    ev.tls = true;
    const sni = toStr(get('server_name'));
    put(ev, 'domain', sni?.toLowerCase());
    put(ev, 'sni', sni);
    put(ev, 'tls_version', toStr(get('version')));
    put(ev, 'ja3', toStr(get('ja3')));
    put(ev, 'established', boolOf(get('established')));
  } else if (path === 'socks') {
    // A connection to the SOCKS proxy; what it was asked for is kept beside it (the detector judges that).
    put(ev, 'socks_version', toNum(get('version')));
    put(ev, 'socks_host', toStr(get('request.name'))?.toLowerCase());
    put(ev, 'socks_ip', toIp(get('request.host')));
    put(ev, 'socks_port', toPort(get('request_p')));
    put(ev, 'socks_status', toStr(get('status')));
  } else {
    const h = toStr(get('host'));
    put(ev, 'domain', h?.replace(/:\d+$/, '').toLowerCase());
    put(ev, 'http_method', toStr(get('method')));
    put(ev, 'http_uri', toStr(get('uri')));
    // Pipelined requests share uid and often ts: the depth keeps them distinct records.
    put(ev, 'trans_depth', toNum(get('trans_depth')));
    put(ev, 'status_code', toNum(get('status_code')));
    put(ev, 'user_agent', toStr(get('user_agent')));
  }
  ev.sensor = `zeek/${path}`;
  out.push(ev as MinewatchEvent);
  return undefined;
}

function boolOf(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  return v === 'T' ? true : v === 'F' ? false : undefined;
}

/** Zeek escapes separators and non-printables in values as \xHH. */
function unescapeZeek(s: string): string {
  return s.includes('\\x')
    ? s.replace(/\\x([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(Number.parseInt(h, 16)))
    : s;
}

/** Zeek TSV: header lines set the separator, path and columns; data lines are mapped by column name. */
export function zeekTsvParser(file = ''): LineParser {
  let sep = '\t';
  let setSep = ',';
  let empty = '(empty)';
  let path: ZeekPath | undefined = zeekPathFromName(file);
  let unsupported: string | undefined;
  /** Column of each #fields name (a null-prototype object: field names are data). */
  let idx: Record<string, number> = Object.create(null);
  let width = 0;
  let cols: string[] = [];
  /** The line holds a \xHH escape somewhere (rare): values are unescaped one by one. */
  let escaped = false;
  const get: Get = (f) => {
    const i = idx[f];
    if (i === undefined) return undefined;
    const v = cols[i];
    return v === undefined || v === empty ? undefined : escaped && v.includes('\\x') ? unescapeZeek(v) : v;
  };
  return {
    format: 'zeek-tsv',
    parse(line, out) {
      if (line.charCodeAt(0) === 35 /* # */) {
        const sp = line.search(/[\s]/);
        const key = sp < 0 ? line : line.slice(0, sp);
        const rest = sp < 0 ? '' : line.slice(sp + 1);
        switch (key) {
          case '#separator':
            sep = unescapeZeek(rest.trim()) || '\t';
            break;
          case '#set_separator':
            setSep = rest.split(sep)[0] ?? ',';
            break;
          case '#empty_field':
            empty = rest.split(sep)[0] ?? '(empty)';
            break;
          case '#path': {
            const p = (rest.split(sep)[0] ?? '').trim();
            if (PATHS.has(p)) {
              path = p as ZeekPath;
              unsupported = undefined;
            } else {
              path = undefined;
              unsupported = p;
            }
            break;
          }
          case '#fields':
            idx = Object.create(null);
            rest.split(sep).forEach((f, i) => {
              idx[f] = i;
            });
            width = rest.split(sep).length;
            break;
        }
        return undefined;
      }
      if (unsupported !== undefined) return skip(`zeek ${unsupported}.log is not read`);
      if (width === 0) return 'data line before the #fields header';
      if (!path) return 'unknown zeek log: no #path header and the file name does not say';
      cols = line.split(sep);
      if (cols.length !== width) return `has ${cols.length} columns, #fields names ${width}`;
      escaped = line.includes('\\x');
      return mapRecord(path, get, setSep, out);
    },
  };
}

/** Zeek JSON lines: the log is `_path` when present, else the file name, else the fields present. */
export function zeekJsonParser(file = ''): LineParser {
  const fromName = zeekPathFromName(file);
  return {
    format: 'zeek-json',
    parse(line, out) {
      const o = parseObject(line);
      if (typeof o === 'string') return o;
      const p = typeof o._path === 'string' ? o._path : (fromName ?? pathFromFields(o));
      if (!p) return skip('zeek JSON record of no log minewatch reads (no _path; fields match none)');
      if (!PATHS.has(p)) return skip(`zeek ${p}.log is not read`);
      return mapRecord(p as ZeekPath, (f) => o[f], ',', out);
    },
  };
}
