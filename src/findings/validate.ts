/**
 * Pure: the one validation every ingest path applies (HTTP NDJSON and JSON arrays, `minewatch import`, what an
 * agent spools), so an event means the same thing however it arrives and whichever engine stores it. A bad
 * event gets a reason; the caller refuses it with its line and keeps the good ones.
 *
 * What it guards against is a sender that is hostile, not merely buggy (docs/server-security.md): numbers the
 * engines cannot sum or cast, nesting that blows the stack of a later reader, times that are no real instant,
 * and text that is not Unicode (two hosts whose names differ only in invalid bytes would merge).
 */
import { EVENT_TYPES, type EventType } from './event.ts';
import { SEVERITY_ORDER } from './finding.ts';

export const MAX_ID_LENGTH = 128;
export const MAX_HOST_LENGTH = 255;
/** Objects and arrays inside objects and arrays: an event, its finding, evidence, a field of that (~5 deep). */
export const MAX_DEPTH = 32;
/** Keys and array elements of one event, at every depth together. */
export const MAX_FIELDS = 10_000;
/** Byte and packet counts: 0..2^53-1, so a sum of 2^63/2^54 = 512+ of them is still exact in a 64-bit column. */
export const MAX_COUNT = Number.MAX_SAFE_INTEGER;
/**
 * Fields that are counts of bytes or packets, on any event type. Checked in the walk over the event's keys
 * (a Set lookup per key present), not looked up by name: ten lookups of absent names cost ~0.4-0.8 us an
 * event on JSON.parse'd objects, most of what this validation added to ingest.
 */
const COUNT_FIELDS = new Set([
  'bytes',
  'bytes_out',
  'bytes_in',
  'orig_bytes',
  'resp_bytes',
  'packets',
  'packets_out',
  'packets_in',
  'pkts',
  'size',
]);
/** Event times outside this window are typos or clock garbage, not telemetry, whatever the limits say. */
const MIN_TS = Date.UTC(1990, 0, 1);
const MAX_TS = Date.UTC(2200, 0, 1);

const PRINTABLE = /^[^\u0000-\u001f\u007f]*$/;

declare global {
  interface String {
    /** ES2024; Node 20 has it (the project's lib is ES2023). */
    isWellFormed(): boolean;
  }
}

export interface ValidationLimits {
  /** The server's clock (epoch ms) the skew and the horizon are measured from. Default Date.now(). */
  now?: number;
  /** How far into the future an event may be dated (a sender's clock running fast). Default 15 min. */
  maxFutureMs?: number;
  /** How far into the past: the retention horizon. Default: none (an import of old logs is legitimate). */
  maxAgeMs?: number;
  /**
   * The text the event came from had invalid UTF-8, decoded to U+FFFD: a string holding U+FFFD is refused
   * (its bytes cannot be told from a real U+FFFD once decoded, so in such a body both are refused).
   */
  refuseReplacement?: boolean;
}

export const DEFAULT_MAX_FUTURE_MS = 15 * 60_000;

function isObj(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function isPort(x: unknown): boolean {
  return Number.isInteger(x) && (x as number) >= 0 && (x as number) <= 65535;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysIn(y: number, m: number): number {
  return m === 2 && ((y % 4 === 0 && y % 100 !== 0) || y % 400 === 0) ? 29 : DAYS_IN_MONTH[m - 1]!;
}

/**
 * RFC 3339 date-time: a real date, a time of day, and a zone (Z or ±hh:mm). Seconds and fractions optional
 * (`2026-03-01T10:00Z`); 'T' or a space between date and time.
 */
const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(?:([Zz])|([+-])(\d{2}):?(\d{2}))$/;

/** Days from 1970-01-01 to the first of month m (1-12) of year y (proleptic Gregorian; H. Hinnant's days_from_civil). */
function daysFromCivil(y: number, m: number): number {
  if (m <= 2) y--;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5);
  return era * 146097 + yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy - 719468;
}

/** The value of the ASCII digits s[i..i+n), or -1 when one is not a digit. */
function digits(s: string, i: number, n: number): number {
  let v = 0;
  for (let k = i; k < i + n; k++) {
    const c = s.charCodeAt(k) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/**
 * Epoch ms of an RFC 3339 date-time with a zone, or NaN: no zone-less time (it would mean the reader's local
 * time), no day past the month's end (Date.parse rolls 2026-02-31 over to March 3). A fast path for what
 * agents and minewatch write ('2026-03-01T10:00:00Z', '...00.123Z'): V8's Date.parse measured ~0.2-1.3 us a
 * call, and every event's time is read at validation and again for its row.
 */
export function timeMs(s: string): number {
  const n = s.length;
  if (
    (n === 20 || (n === 24 && s.charCodeAt(19) === 46)) &&
    s.charCodeAt(n - 1) === 90 /* Z */ &&
    s.charCodeAt(4) === 45 &&
    s.charCodeAt(7) === 45 &&
    s.charCodeAt(10) === 84 /* T */ &&
    s.charCodeAt(13) === 58 &&
    s.charCodeAt(16) === 58
  ) {
    const y = digits(s, 0, 4);
    const mo = digits(s, 5, 2);
    const d = digits(s, 8, 2);
    const h = digits(s, 11, 2);
    const mi = digits(s, 14, 2);
    const sec = digits(s, 17, 2);
    const ms = n === 24 ? digits(s, 20, 3) : 0;
    if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo) || h < 0 || h > 23 || mi < 0 || mi > 59)
      return Number.NaN;
    if (sec < 0 || sec > 59 || ms < 0) return Number.NaN;
    return (daysFromCivil(y, mo) + d - 1) * 86_400_000 + h * 3_600_000 + mi * 60_000 + sec * 1000 + ms;
  }
  const m = RFC3339.exec(s);
  if (!m) return Number.NaN;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  const h = Number(m[4]);
  const mi = Number(m[5]);
  const sec = m[6] === undefined ? 0 : Number(m[6]);
  if (mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo) || h > 23 || mi > 59 || sec > 59) return Number.NaN;
  let off = 0;
  if (!m[8]) {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 23 || om > 59) return Number.NaN;
    off = (m[9] === '-' ? -1 : 1) * (oh * 60 + om) * 60_000;
  }
  const ms = m[7] ? Math.floor(Number(`0${m[7]}`) * 1000) : 0;
  return (daysFromCivil(y, mo) + d - 1) * 86_400_000 + h * 3_600_000 + mi * 60_000 + sec * 1000 + ms - off;
}

/** Epoch ms of an RFC 3339 time (`timeMs`), or why it is not one. */
export function strictTime(s: string): number | string {
  const t = timeMs(s);
  if (!Number.isNaN(t)) return t;
  const shown = s.slice(0, 40);
  if (/^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(s))
    return `time '${shown}' has no zone (add Z or an offset such as +02:00)`;
  if (/^\d{4}-\d{2}-\d{2}/.test(s)) return `time '${shown}' is not a real date and time with a zone`;
  return `time '${shown}' is not an RFC 3339 date-time`;
}

/** Fields counted so far in one `unsafeValue` walk (a module variable: no object per event). */
let fieldCount = 0;

/**
 * Why the values of an event are unsafe to store, or null: depth, field count, numbers beyond 2^53 (or not
 * finite), strings and keys that are not well-formed Unicode. Recursive, but the depth is checked before each
 * descent, so a hostile nesting stops at MAX_DEPTH frames (a walk with its own stack measured ~2x slower).
 */
function unsafeValue(v: unknown, depth: number, refuseReplacement: boolean): string | null {
  if (typeof v === 'string') {
    if (!v.isWellFormed()) return 'text is not valid Unicode (a lone surrogate)';
    if (refuseReplacement && v.includes('\ufffd')) return 'text is not valid UTF-8';
    return null;
  }
  if (typeof v === 'number') {
    if (v <= Number.MAX_SAFE_INTEGER && v >= -Number.MAX_SAFE_INTEGER) return null;
    return Number.isFinite(v)
      ? `number ${v} is beyond ±2^53 (not exactly representable)`
      : 'a number is not finite';
  }
  if (typeof v !== 'object' || v === null) return null;
  if (depth >= MAX_DEPTH) return `nested deeper than ${MAX_DEPTH} levels`;
  if (Array.isArray(v)) {
    fieldCount += v.length;
    if (fieldCount > MAX_FIELDS) return `more than ${MAX_FIELDS} fields`;
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      if (typeof x === 'boolean' || x === null) continue;
      const why = unsafeValue(x, depth + 1, refuseReplacement);
      if (why) return why;
    }
    return null;
  }
  const o = v as Record<string, unknown>;
  for (const k in o) {
    if (++fieldCount > MAX_FIELDS) return `more than ${MAX_FIELDS} fields`;
    if (!k.isWellFormed()) return 'a key is not valid Unicode (a lone surrogate)';
    if (refuseReplacement && k.includes('\ufffd')) return 'a key is not valid UTF-8';
    const x = o[k];
    if (typeof x === 'boolean' || x === null) continue;
    const why = unsafeValue(x, depth + 1, refuseReplacement);
    if (why) return why;
  }
  return null;
}

/** Why an event is not acceptable, or null when it is. */
export function validateEvent(x: unknown, limits: ValidationLimits = {}): string | null {
  if (!isObj(x)) return 'event must be a JSON object';
  const type = x.type;
  if (typeof type !== 'string' || !(EVENT_TYPES as readonly string[]).includes(type))
    return `type must be one of ${EVENT_TYPES.join(', ')}`;
  if (typeof x.host !== 'string' || !x.host.trim()) return 'host must be a non-empty string';
  if (x.host.length > MAX_HOST_LENGTH || !PRINTABLE.test(x.host))
    return 'host is too long or has control characters';
  if (typeof x.time !== 'string') return 'time must be an RFC 3339 string with a zone';
  const ts = strictTime(x.time);
  if (typeof ts === 'string') return ts;
  if (ts < MIN_TS || ts > MAX_TS) return `time '${x.time.slice(0, 40)}' is outside 1990-2199`;
  const now = limits.now ?? Date.now();
  const future = limits.maxFutureMs ?? DEFAULT_MAX_FUTURE_MS;
  if (ts > now + future)
    return `time '${x.time.slice(0, 40)}' is ahead of the server's clock by more than ${Math.round(future / 1000)} s`;
  if (limits.maxAgeMs !== undefined && ts < now - limits.maxAgeMs)
    return `time '${x.time.slice(0, 40)}' is older than the retention horizon (${Math.round(limits.maxAgeMs / 86_400_000)} days)`;
  if (x.id !== undefined) {
    if (typeof x.id !== 'string' || !x.id || x.id.length > MAX_ID_LENGTH || !PRINTABLE.test(x.id))
      return `id must be a printable string of 1-${MAX_ID_LENGTH} characters`;
  }
  switch (type as EventType) {
    case 'process':
      if (!Number.isInteger(x.pid) || (x.pid as number) < 0 || (x.pid as number) > 0xffffffff)
        return 'process event needs an integer pid';
      break;
    case 'connection':
      if (typeof x.dst_ip !== 'string' || !x.dst_ip) return 'connection event needs dst_ip';
      if (!isPort(x.dst_port)) return 'connection event needs dst_port 0-65535';
      if (x.src_port !== undefined && !isPort(x.src_port)) return 'src_port must be 0-65535';
      break;
    case 'dns':
      if (typeof x.query !== 'string' || !x.query) return 'dns event needs query';
      break;
    case 'file':
      if (typeof x.path !== 'string' || !x.path) return 'file event needs path';
      break;
    case 'finding': {
      const f = x.finding;
      if (!isObj(f)) return 'finding event needs a finding object';
      if (typeof f.rule !== 'string' || !f.rule) return 'finding.rule must be a non-empty string';
      if (typeof f.severity !== 'string' || !Object.hasOwn(SEVERITY_ORDER, f.severity))
        return `finding.severity must be one of ${Object.keys(SEVERITY_ORDER).join(', ')}`;
      break;
    }
    case 'heartbeat':
      break;
  }
  // The top level walked here: keys checked, counts recognised, values walked by unsafeValue.
  const rr = limits.refuseReplacement === true;
  fieldCount = 0;
  for (const k in x) {
    if (++fieldCount > MAX_FIELDS) return `more than ${MAX_FIELDS} fields`;
    if (!k.isWellFormed()) return 'a key is not valid Unicode (a lone surrogate)';
    if (rr && k.includes('\ufffd')) return 'a key is not valid UTF-8';
    const v = x[k];
    if (
      COUNT_FIELDS.has(k) &&
      v !== null &&
      !(Number.isInteger(v) && (v as number) >= 0 && (v as number) <= MAX_COUNT)
    )
      return `${k} must be an integer from 0 to 2^53-1`;
    if (typeof v === 'boolean' || v === null) continue;
    const why = unsafeValue(v, 1, rr);
    if (why) return why;
  }
  return null;
}
