/** Field helpers shared by the format readers: times, addresses, ports, protocols, names. Pure. */

import { msIso } from '../../util/iso.ts';

export { msIso };

/**
 * A zone-less local time ('YYYY-MM-DD HH:MM:SS[.fff]', as nfdump prints) read in the IANA zone `tz` → ISO 8601
 * UTC; other forms as `toIso`. Undefined `tz` is UTC.
 */
export function toIsoIn(v: unknown, tz: string | undefined): string | undefined {
  if (!tz || typeof v !== 'string') return toIso(v);
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(\.\d+)?$/.exec(v.trim());
  if (!m) return toIso(v);
  const wall = Date.UTC(
    +m[1]!,
    +m[2]! - 1,
    +m[3]!,
    +m[4]!,
    +m[5]!,
    +m[6]!,
    m[7] ? Math.floor(Number(m[7]) * 1000) : 0,
  );
  // The zone's offset at the wall time, then again at the instant found (a DST change in between moves it).
  let t = wall - zoneOffsetMs(tz, wall);
  t = wall - zoneOffsetMs(tz, t);
  return msIso(t);
}

const zoneFormats = new Map<string, Intl.DateTimeFormat>();

/** How far the zone's wall clock is ahead of UTC at instant `ms`. */
export function zoneOffsetMs(tz: string, ms: number): number {
  let f = zoneFormats.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    zoneFormats.set(tz, f);
  }
  const p: Record<string, number> = {};
  for (const x of f.formatToParts(new Date(ms))) if (x.type !== 'literal') p[x.type] = Number(x.value);
  const asUtc = Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!);
  return asUtc - Math.floor(ms / 1000) * 1000;
}

/** Whether `tz` is an IANA zone name this runtime knows ('Europe/Berlin', 'UTC'). */
export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** Epoch seconds or milliseconds, ISO 8601, or 'YYYY-MM-DD HH:MM:SS[.fff]' (taken as UTC) → ISO 8601. */
export function toIso(v: unknown): string | undefined {
  if (typeof v === 'number') return epochIso(v);
  if (typeof v !== 'string') return undefined;
  // Fast path: Zeek and flow logs write epoch seconds, once a line.
  const c0 = v.charCodeAt(0);
  if (c0 >= 48 && c0 <= 57 && v.length <= 20) {
    const n = Number(v);
    if (Number.isFinite(n)) return epochIso(n);
  }
  const s = v.trim();
  if (s === '' || s === '-') return undefined;
  if (/^\d+(?:\.\d+)?$/.test(s)) return epochIso(Number(s));
  // Sysmon UtcTime and nfdump write 'YYYY-MM-DD HH:MM:SS.fff' without a zone: both are UTC. Suricata
  // writes '+0000' and Falco nanoseconds, which Date.parse does not take everywhere: normalise both.
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(\.\d+)?\s*(Z|[+-]\d{2}:?\d{2})?$/i.exec(s);
  let t: number;
  if (m) {
    const frac = m[3] ? m[3].slice(0, 4) : '';
    const z = !m[4] || m[4] === 'z' ? 'Z' : m[4].length === 5 ? `${m[4].slice(0, 3)}:${m[4].slice(3)}` : m[4];
    t = Date.parse(`${m[1]}T${m[2]}${frac}${z}`);
  } else {
    // PowerShell's ConvertTo-Json writes dates as '/Date(1705312800123)/'.
    const d = /^\/Date\((\d+)[^)]*\)\/$/.exec(s);
    t = d ? Number(d[1]) : Date.parse(s);
  }
  return Number.isFinite(t) ? msIso(t) : undefined;
}

/** Seconds since the epoch; values above 1e12 are milliseconds, above 1e15 microseconds, above 1e18 ns. */
export function epochIso(n: number): string | undefined {
  if (!Number.isFinite(n) || n < 0) return undefined;
  const ms = n >= 1e18 ? n / 1e6 : n >= 1e15 ? n / 1e3 : n >= 1e12 ? n : n * 1000;
  return msIso(ms);
}

/** A port from a number or a numeric string; undefined for anything else or out of range. */
export function toPort(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d{1,5}$/.test(v.trim()) ? Number(v) : NaN;
  return Number.isInteger(n) && n >= 0 && n <= 65535 ? n : undefined;
}

/** A non-negative number from a number or numeric string; Zeek's '-' and empty are undefined. */
export function toNum(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? v : undefined;
  if (typeof v !== 'string') return undefined;
  const c0 = v.charCodeAt(0);
  if (c0 >= 48 && c0 <= 57) {
    // Starts with a digit (a log's usual count or duration): Number() ignores surrounding spaces as trim
    // does, and is never negative here.
    const n = Number(v);
    return Number.isFinite(n) ? n : undefined;
  }
  const s = v.trim();
  if (s === '' || s === '-') return undefined;
  const n = Number(s);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

export function toStr(v: unknown): string | undefined {
  if (typeof v === 'string') {
    const s = v.trim();
    return s === '' || s === '-' ? undefined : s;
  }
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

const IPV4_RE = /^\d{1,3}(?:\.\d{1,3}){3}$/;

/** An IP address as written, with IPv4-mapped IPv6 (Sysmon '::ffff:1.2.3.4') and brackets removed. */
export function toIp(v: unknown): string | undefined {
  const s = toStr(v);
  if (!s) return undefined;
  let ip = s.startsWith('[') && s.endsWith(']') ? s.slice(1, -1) : s;
  if (/^::ffff:/i.test(ip) && IPV4_RE.test(ip.slice(7))) ip = ip.slice(7);
  if (IPV4_RE.test(ip)) return ip;
  return ip.includes(':') && /^[0-9a-fA-F:.]+(?:%\w+)?$/.test(ip) ? canonicalIpv6(ip) : undefined;
}

/**
 * The RFC 5952 text of an IPv6 address ('0:0:0:0:0:0:0:2' → '::2', upper case → lower), so the address a
 * DNS answer gave and the one a connection record wrote compare equal whichever way each tool spelled it
 * (Sysmon writes the long form, Zeek and dig the short). A zone ('%eth0') is kept; what is not an address
 * is returned lowercased as it was.
 */
export function canonicalIpv6(ip: string): string {
  const pct = ip.indexOf('%');
  const addr = pct < 0 ? ip : ip.slice(0, pct);
  const zone = pct < 0 ? '' : ip.slice(pct);
  try {
    // The WHATWG URL parser serialises an IPv6 host in RFC 5952 form: one well-tested implementation.
    const h = new URL(`http://[${addr}]/`).hostname;
    return `${h.slice(1, -1)}${zone}`;
  } catch {
    return ip.toLowerCase();
  }
}

const PROTO_NUM: Record<string, string> = {
  '1': 'icmp',
  '6': 'tcp',
  '17': 'udp',
  '58': 'icmp6',
  '132': 'sctp',
  // Suricata writes 'IPv6-ICMP', other tools 'ICMPv6'.
  'ipv6-icmp': 'icmp6',
  icmpv6: 'icmp6',
};

/** 'TCP', 'tcp', '6' → 'tcp'. Unknown names are kept lowercased. */
export function toProto(v: unknown): string | undefined {
  const s = toStr(v)?.toLowerCase();
  if (!s) return undefined;
  return PROTO_NUM[s] ?? s;
}

/** Last path component of a Unix or Windows path. */
export function baseName(p: string): string {
  const i = Math.max(p.lastIndexOf('/'), p.lastIndexOf('\\'));
  return i >= 0 ? p.slice(i + 1) : p;
}

/** A short, printable form of a line for error messages. */
export function clip(s: string, max = 80): string {
  const t = s.replace(/[\u0000-\u001f\u007f]+/g, ' ');
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}

export function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** JSON.parse of one line, with the reason a line is not a JSON object. */
export function parseObject(line: string): Record<string, unknown> | string {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch (e) {
    return `not JSON: ${(e as Error).message}`;
  }
  return isObj(v) ? v : `not a JSON object: ${clip(line, 40)}`;
}

/** Sets `o[k] = v` unless v is undefined: keeps events free of undefined-valued keys. */
export function put(o: Record<string, unknown>, k: string, v: unknown): void {
  if (v !== undefined) o[k] = v;
}
