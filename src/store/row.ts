/**
 * Pure: event validation, the stored row of an event, and batch parsing (NDJSON or a JSON array) with the line
 * of every bad event. The server, `minewatch import` and both engines share these so a batch means the same
 * thing on every path.
 */
import { hash } from 'node:crypto';
import { type MinewatchEvent, SEVERITY_ORDER, type Severity } from '../findings/index.ts';
import { timeMs, type ValidationLimits, validateEvent } from '../findings/validate.ts';
import { remembered } from '../util/remembered.ts';
import type { EventRow } from './types.ts';

export { MAX_HOST_LENGTH, MAX_ID_LENGTH, validateEvent } from '../findings/validate.ts';

/** Dimension values longer than this are cut in the row (the full text stays in `data`). */
const MAX_DIM_LENGTH = 512;

/**
 * Epoch ms of an event time (`timeMs` of findings/validate.ts: RFC 3339 with a zone, a real date), NaN
 * otherwise. Validation and the stored row read a time the same way, so what was checked is what is stored.
 */
export const parseTime: (s: string) => number = timeMs;

function isObj(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function isPort(x: unknown): boolean {
  return Number.isInteger(x) && (x as number) >= 0 && (x as number) <= 65535;
}

/**
 * The id of an event that came without one: a hash of its content, so re-importing a file dedups. SHA-256 of
 * the UTF-8 of `JSON.stringify(ev)`, first 128 bits in hex. One-shot `crypto.hash`: 0.4-0.6 us an event here,
 * `createHash().update().digest()` 2.2-3 us. The packer (pack.ts) computes the same over its own serialisation.
 */
export function contentId(ev: Record<string, unknown>): string {
  return contentIdOf(JSON.stringify(ev));
}

/** `contentId` of the event whose `JSON.stringify` is `json` (text, or its UTF-8 bytes). */
export function contentIdOf(json: string | Uint8Array): string {
  return `h:${hash('sha256', json, 'hex').slice(0, 32)}`;
}

/** Whether an object key is an array index, which JSON.stringify writes before the other keys. */
function isIndexKey(s: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/**
 * Whether `raw` is exactly `JSON.stringify(ev)`, where `ev` is `JSON.parse(raw)` (the `IngestOptions.raw`
 * contract). Then the content id of an event without one is the hash of the text it came from, and the
 * event need not be serialised (~1 us an imported NDJSON event; this check ~0.45 us). Conservative:
 * false unless the text has no whitespace outside strings, only the escapes JSON.stringify writes, integers
 * of at most 15 digits (no fraction, exponent or -0), no surrogate, no object below the top level, no key
 * that is an array index (stringify puts those first) and no repeated key (the event's keys count as many
 * as the text has). `row.test.ts` holds it against JSON.stringify on random and hand-made texts.
 */
export function isCanonicalJson(raw: string, ev: object): boolean {
  const n = raw.length;
  if (n < 2 || raw.charCodeAt(0) !== 0x7b || raw.charCodeAt(n - 1) !== 0x7d) return false;
  let keys = 0;
  let depth = 0;
  /** Inside the top-level object, expecting a key (after '{' or a ',' at depth 1). */
  let wantKey = true;
  for (let i = 1; i < n - 1; i++) {
    const c = raw.charCodeAt(i);
    if (c === 0x22) {
      // A string: up to its closing quote, escapes checked.
      const start = i + 1;
      let j = start;
      for (;;) {
        const d = raw.charCodeAt(j);
        // The usual character first (NaN, past the end, fails it and every test below).
        if (d >= 0x20 && d !== 0x22 && d !== 0x5c && (d < 0xd800 || d > 0xdfff)) {
          j++;
          continue;
        }
        if (d === 0x22) break;
        if (d !== 0x5c) return false; // a control character, a surrogate, or the end
        const e = raw.charCodeAt(j + 1);
        if (e === 0x75) {
          // \u00XX: stringify writes it only for controls without a short form, in lower-case hex.
          if (raw.charCodeAt(j + 2) !== 0x30 || raw.charCodeAt(j + 3) !== 0x30) return false;
          const h = raw.charCodeAt(j + 4);
          const l = raw.charCodeAt(j + 5);
          const lv = l >= 48 && l <= 57 ? l - 48 : l >= 97 && l <= 102 ? l - 87 : -1;
          if ((h !== 0x30 && h !== 0x31) || lv < 0) return false;
          const v = (h - 48) * 16 + lv;
          if (v === 8 || v === 9 || v === 10 || v === 12 || v === 13) return false;
          j += 6;
          continue;
        }
        if (e !== 0x22 && e !== 0x5c && e !== 0x62 && e !== 0x66 && e !== 0x6e && e !== 0x72 && e !== 0x74)
          return false;
        j += 2;
      }
      if (depth === 0 && wantKey) {
        if (raw.charCodeAt(j + 1) !== 0x3a || isIndexKey(raw, start, j)) return false;
        keys++;
        wantKey = false;
        i = j + 1;
      } else i = j;
      continue;
    }
    if (wantKey) return false;
    if (c === 0x2c) {
      if (depth === 0) wantKey = true;
    } else if (c === 0x5b) depth++;
    else if (c === 0x5d) {
      if (--depth < 0) return false;
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      // An integer: -?(0|[1-9][0-9]*), at most 15 digits, not -0.
      const j = c === 0x2d ? i + 1 : i;
      const first = raw.charCodeAt(j);
      if (first < 0x30 || first > 0x39) return false;
      let k = j;
      while (k < n) {
        const d = raw.charCodeAt(k);
        if (d < 0x30 || d > 0x39) break;
        k++;
      }
      if (k - j > 15 || (first === 0x30 && (k - j > 1 || c === 0x2d))) return false;
      const after = raw.charCodeAt(k);
      if (after !== 0x2c && after !== 0x5d && after !== 0x7d) return false;
      i = k - 1;
    } else if (c === 0x74) {
      if (!raw.startsWith('true', i)) return false;
      i += 3;
    } else if (c === 0x66) {
      if (!raw.startsWith('false', i)) return false;
      i += 4;
    } else if (c === 0x6e) {
      if (!raw.startsWith('null', i)) return false;
      i += 3;
    } else return false; // whitespace, a nested object, anything else
  }
  if (depth !== 0 || (wantKey && keys > 0)) return false;
  // Own keys and (were Object.prototype given enumerable ones) more: a repeated key makes fewer.
  let count = 0;
  for (const _k in ev) count++;
  return count === keys;
}

/** A text dimension as stored: strings cut to 512 characters, finite numbers as text, anything else empty. */
export function dimString(x: unknown): string {
  return str(x);
}

function str(x: unknown): string {
  if (typeof x === 'string') return x.length > MAX_DIM_LENGTH ? x.slice(0, MAX_DIM_LENGTH) : x;
  if (typeof x === 'number' && Number.isFinite(x)) return String(x);
  return '';
}

function num(x: unknown): number {
  return typeof x === 'number' && Number.isFinite(x) ? x : 0;
}

function poolKey(p: unknown): { key: string; port: number } {
  if (typeof p === 'string') return { key: p.toLowerCase(), port: 0 };
  if (isObj(p))
    return {
      key: str(p.host ?? p.ip ?? p.name).toLowerCase(),
      port: isPort(p.port) ? (p.port as number) : 0,
    };
  return { key: '', port: 0 };
}

/** YYYY-MM-DD of epoch ms; remembered per day number (toISOString per row showed up in ingest profiles). */
export const dayOf: (ts: number) => string = remembered(
  (ts: number) => new Date(Math.floor(ts / 86_400_000) * 86_400_000).toISOString().slice(0, 10),
  100_000,
  (ts) => Math.floor(ts / 86_400_000),
);

/** The columns of a row that come from the event's fields (all of `EventRow` but id, day, host, type, source, data). */
export type RowDims = Omit<EventRow, 'id' | 'day' | 'host' | 'type' | 'source' | 'data'>;

/** A finding's severity as stored: SEVERITY_ORDER, or -1 (own keys only: 'constructor' is no severity). */
function sevOf(name: string): number {
  return Object.hasOwn(SEVERITY_ORDER, name) ? SEVERITY_ORDER[name as Severity] : -1;
}

/**
 * The dimensions of a valid event, written into `out` (the packer reuses one object; `toRow` makes a new one).
 * Dimensions come from the event's own fields, or for a finding from the finding: pool (host, else ip, else
 * name), port (connection dst_port, finding pool.port), coin, miner family, executable and hash, wallet, pool
 * account (`account`/`login`), dropper URL (`dropper_url`/`url`). One function for both engines' rows, so the
 * embedded store's packed rows and ClickHouse's TSV rows cannot drift apart.
 */
export function rowDims<T extends RowDims>(ev: MinewatchEvent, out: T): T {
  // The event's fields are read in one pass over its keys, not looked up by name: most names are absent from
  // most events, and a lookup of an absent name on an object built with spread ({...base, type}), as the demo
  // and the demo fleet builds them, measured ~0.23 us each (JSON.parse'd objects: ~0.003 us); on such
  // objects the function went from 2.6-4.3 to 0.8-1.1 us an event (parsed objects: ~0.3 us either way). Own
  // enumerable keys are what JSON.stringify stores as `data`, so a dimension never comes from outside it.
  let time: unknown;
  let type: unknown;
  let finding: unknown;
  let pool: unknown;
  let exe: unknown;
  let sha256: unknown;
  let coin: unknown;
  let domain: unknown;
  let query: unknown;
  let dstIp: unknown;
  let dstPort: unknown;
  let family: unknown;
  let wallet: unknown;
  let account: unknown;
  let login: unknown;
  let dropperUrl: unknown;
  let url: unknown;
  let bytesOut: unknown;
  let bytesIn: unknown;
  const e = ev as Record<string, unknown>;
  for (const k in e) {
    switch (k) {
      case 'time':
        time = e[k];
        break;
      case 'type':
        type = e[k];
        break;
      case 'finding':
        finding = e[k];
        break;
      case 'pool':
        pool = e[k];
        break;
      case 'exe':
        exe = e[k];
        break;
      case 'sha256':
        sha256 = e[k];
        break;
      case 'coin':
        coin = e[k];
        break;
      case 'domain':
        domain = e[k];
        break;
      case 'query':
        query = e[k];
        break;
      case 'dst_ip':
        dstIp = e[k];
        break;
      case 'dst_port':
        dstPort = e[k];
        break;
      case 'family':
        family = e[k];
        break;
      case 'wallet':
        wallet = e[k];
        break;
      case 'account':
        account = e[k];
        break;
      case 'login':
        login = e[k];
        break;
      case 'dropper_url':
        dropperUrl = e[k];
        break;
      case 'url':
        url = e[k];
        break;
      case 'bytes_out':
        bytesOut = e[k];
        break;
      case 'bytes_in':
        bytesIn = e[k];
        break;
    }
  }
  out.ts = typeof time === 'string' ? parseTime(time) : Number.NaN;
  if (type !== 'finding' || !isObj(finding)) {
    // Not a finding: every dimension is the event's own field.
    if (typeof pool === 'string') {
      out.pool = pool.toLowerCase();
      out.port = 0;
    } else if (isObj(pool)) {
      out.pool = str(pool.host ?? pool.ip ?? pool.name).toLowerCase();
      out.port = isPort(pool.port) ? (pool.port as number) : 0;
    } else {
      out.pool = '';
      out.port = 0;
    }
    const conn = type === 'connection';
    if (conn) out.port = dstPort as number;
    out.exe = str(exe);
    out.sha256 = str(sha256).toLowerCase();
    out.rule = '';
    out.sev = -1;
    out.coin = str(coin).toUpperCase();
    out.domain = str(domain ?? query).toLowerCase();
    out.dst_ip = str(dstIp ?? (isObj(pool) ? pool.ip : undefined));
    out.family = str(family).toLowerCase();
    out.wallet = str(wallet);
    out.account = str(account ?? login);
    out.dropper = str(dropperUrl ?? url);
    out.bytes = conn ? num(bytesOut) + num(bytesIn) : 0;
    return out;
  }
  // A finding: its own fields first, the event's as the fallback (`f.x ?? e.x`).
  const f = finding;
  const fPool = f.pool;
  const pk = poolKey(fPool ?? pool);
  out.pool = pk.key;
  out.port = pk.port;
  let fexe = str(f.exe ?? exe);
  let fsha = str(f.sha256 ?? sha256);
  const rule = str(f.rule);
  if (!fexe || !fsha) {
    // Host findings name the binary in their first evidence (a process's exe or a scanned file).
    const ev0 =
      Array.isArray(f.evidence) && isObj(f.evidence[0])
        ? (f.evidence[0] as Record<string, unknown>)
        : undefined;
    if (ev0 && (rule.startsWith('host.process.') || rule === 'host.file.miner-binary')) {
      fexe ||= str(ev0.exe ?? ev0.path);
      fsha ||= str(ev0.sha256);
    }
  }
  out.exe = fexe;
  out.sha256 = fsha.toLowerCase();
  out.rule = rule;
  out.sev = sevOf(str(f.severity));
  out.coin = str(f.coin ?? coin).toUpperCase();
  out.domain = str(domain ?? query ?? f.domain).toLowerCase();
  out.dst_ip = str(dstIp ?? (isObj(fPool) ? fPool.ip : undefined));
  out.family = str(f.family ?? family).toLowerCase();
  out.wallet = str(f.wallet ?? wallet);
  out.account = str(f.account ?? f.login ?? account ?? login);
  out.dropper = str(f.dropper_url ?? f.url ?? dropperUrl);
  out.bytes = 0;
  return out;
}

/** The stored row of a valid event (`rowDims` plus id, day, source and the JSON). */
export function toRow(ev: MinewatchEvent, source = '', raw?: string): EventRow {
  const row = rowDims(ev, {} as EventRow);
  row.id =
    typeof ev.id === 'string' && ev.id
      ? ev.id
      : raw !== undefined && isCanonicalJson(raw, ev)
        ? contentIdOf(raw)
        : contentId(ev as Record<string, unknown>);
  row.day = dayOf(row.ts);
  row.host = ev.host;
  row.type = ev.type;
  row.source = str(source);
  // The text the event was parsed from, when the caller has it: it parses to the same event, and
  // re-serialising was a third of toRow's time (1.6 of 5 us per event).
  row.data = raw ?? JSON.stringify(ev);
  return row;
}

export interface Rejected {
  /** 1-based line of an NDJSON body, or 1-based position in a JSON array. */
  line: number;
  reason: string;
}

export interface ParsedBatch {
  /** `raw`: the NDJSON line the event was parsed from (unset for JSON arrays and mapped items). */
  events: { line: number; event: MinewatchEvent; raw?: string }[];
  rejected: Rejected[];
}

/**
 * Splits a request body into valid events and rejected lines. A JSON array (or one object) when the body starts
 * with '[' or the content type says JSON; NDJSON otherwise. One bad line never costs the good ones.
 */
export function parseBatch(
  body: string,
  contentType = '',
  map?: (item: unknown) => unknown,
  limits?: ValidationLimits,
): ParsedBatch {
  const out: ParsedBatch = { events: [], rejected: [] };
  const head = body.trimStart();
  const looksArray = head.startsWith('[');
  if (looksArray || (/json/i.test(contentType) && !/ndjson|jsonl|json-seq/i.test(contentType))) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch (err) {
      if (!looksArray) return parseNdjson(body, out, map, limits);
      out.rejected.push({ line: 1, reason: `body is not valid JSON: ${(err as Error).message}` });
      return out;
    }
    const items = Array.isArray(parsed) ? parsed : [parsed];
    items.forEach((item, i) => {
      accept(item, i + 1, out, map, undefined, limits);
    });
    return out;
  }
  return parseNdjson(body, out, map, limits);
}

function parseNdjson(
  body: string,
  out: ParsedBatch,
  map?: (item: unknown) => unknown,
  limits?: ValidationLimits,
): ParsedBatch {
  let line = 0;
  let start = 0;
  while (start <= body.length) {
    let end = body.indexOf('\n', start);
    if (end < 0) end = body.length;
    line++;
    const text = body.slice(start, end).trim();
    start = end + 1;
    if (!text) continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      out.rejected.push({ line, reason: `not valid JSON: ${(err as Error).message}` });
      continue;
    }
    accept(value, line, out, map, text, limits);
  }
  return out;
}

function accept(
  value: unknown,
  line: number,
  out: ParsedBatch,
  map?: (item: unknown) => unknown,
  raw?: string,
  limits?: ValidationLimits,
): void {
  if (map) {
    try {
      value = map(value);
    } catch (err) {
      out.rejected.push({ line, reason: (err as Error).message });
      return;
    }
  }
  const reason = validateEvent(value, limits);
  if (reason) out.rejected.push({ line, reason });
  else if (raw !== undefined && !map) out.events.push({ line, event: value as MinewatchEvent, raw });
  else out.events.push({ line, event: value as MinewatchEvent });
}

/** Severity name of a stored sev number. */
export function severityName(sev: number): Severity | null {
  for (const [name, n] of Object.entries(SEVERITY_ORDER)) if (n === sev) return name as Severity;
  return null;
}

/**
 * Epoch ms of a range bound (ISO string or ms), or undefined. Throws on garbage so callers answer 400. A bound
 * without a zone ('2026-03-01', '2026-03-01T10:00') is UTC, never the server's local time; a day past the
 * month's end is garbage, not the next month.
 */
export function boundMs(x: string | number | undefined, what: string): number | undefined {
  if (x === undefined || x === '') return undefined;
  let ms: number;
  if (typeof x === 'number') ms = x;
  else if (/^\d+$/.test(x)) ms = Number(x);
  else if (/^\d{4}-\d{2}-\d{2}$/.test(x)) ms = timeMs(`${x}T00:00:00Z`);
  else if (/^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(x)) ms = timeMs(`${x}Z`);
  else ms = timeMs(x);
  if (!Number.isFinite(ms)) throw new RangeError(`${what} '${String(x)}' is not a date`);
  return ms;
}
