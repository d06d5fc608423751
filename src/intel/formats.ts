/**
 * Parsers for the list formats intel arrives in: maltrail trails, hosts files, plain lists (CoinBlockerLists
 * is one of these two) and Falco rule YAML. Pure: text in, typed items out; a bad line throws
 * IntelFormatError naming the file and the 1-based line.
 */
import { isDomain, normalizeDomain, normalizeIp, parseHostPort } from './names.ts';

export class IntelFormatError extends Error {
  readonly file: string;
  readonly line: number;
  constructor(file: string, line: number, message: string) {
    super(`${file}:${line}: ${message}`);
    this.name = 'IntelFormatError';
    this.file = file;
    this.line = line;
  }
}

export type ListItem =
  | { type: 'domain'; value: string; line: number }
  | { type: 'ip'; value: string; port?: number; line: number }
  | { type: 'url'; value: string; line: number }
  | { type: 'port'; value: number; line: number }
  | { type: 'binary'; value: string; line: number };

/** One line of a trail or plain list: domain, ip, ip:port, http(s)://host[/path], /path, domain/path. */
export function classifyEntry(raw: string, line: number): ListItem | undefined {
  const s = raw.trim();
  if (s.startsWith('/')) return { type: 'url', value: s, line };
  const scheme = /^(?:https?|stratum\+(?:tcp|ssl|tls)):\/\//i.exec(s);
  const rest = scheme ? s.slice(scheme[0].length) : s;
  const slash = rest.indexOf('/');
  const hostPart = slash >= 0 ? rest.slice(0, slash) : rest;
  const hp = parseHostPort(hostPart);
  if (!hp) return undefined;
  // A path makes it a URL trail: specific to one resource, not a statement about the whole host.
  if (slash >= 0 && slash < rest.length - 1) return { type: 'url', value: s, line };
  if (hp.kind === 'ip') {
    return hp.port === undefined
      ? { type: 'ip', value: hp.host, line }
      : { type: 'ip', value: hp.host, port: hp.port, line };
  }
  // A domain:port is still a statement about the domain (pools are keyed by host).
  return { type: 'domain', value: hp.host, line };
}

function stripComment(line: string): string {
  const hash = line.indexOf('#');
  return (hash >= 0 ? line.slice(0, hash) : line).trim();
}

export interface TrailSection {
  /** `# Reference:` URLs heading the section. */
  refs: string[];
  /** Other comment lines of the section, e.g. `# TITLE-HOST/IP=HashVault Mining Pool`. */
  markers: string[];
  /** Domains the source lists but has commented out (`# coinhive.com`). */
  commented: string[];
  items: ListItem[];
}

/**
 * Maltrail trail file. Sections start at a run of `# Reference:` lines; entries are one a line.
 * Trailing `# comment` after an entry is allowed.
 */
export function parseTrail(text: string, file: string): TrailSection[] {
  const sections: TrailSection[] = [];
  let cur: TrailSection = { refs: [], markers: [], commented: [], items: [] };
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    const n = i + 1;
    if (line === '') continue;
    if (line.startsWith('#')) {
      const body = line.replace(/^#+\s*/, '');
      const ref = /^Reference:\s*(?:#\s*Reference:\s*)?(\S+)/i.exec(body);
      if (ref) {
        if (cur.items.length > 0 || cur.commented.length > 0) {
          sections.push(cur);
          cur = { refs: [], markers: [], commented: [], items: [] };
        }
        cur.refs.push(ref[1]!);
      } else if (/^[a-z0-9.-]+$/i.test(body) && isDomain(normalizeDomain(body))) {
        cur.commented.push(normalizeDomain(body));
      } else if (body.length > 0) {
        cur.markers.push(body);
      }
      continue;
    }
    const entry = stripComment(line);
    const item = classifyEntry(entry, n);
    if (!item)
      throw new IntelFormatError(file, n, `not a domain, IP, ip:port or URL: ${JSON.stringify(entry)}`);
    cur.items.push(item);
  }
  if (cur.items.length > 0 || cur.commented.length > 0 || cur.refs.length > 0) sections.push(cur);
  return sections;
}

/** One domain, IP or ip:port a line; `#` and `!` (adblock-style) comments. */
export function parsePlain(text: string, file: string): ListItem[] {
  const out: ListItem[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    if (raw.trimStart().startsWith('!')) continue;
    const s = stripComment(raw);
    if (s === '') continue;
    const item = /\s/.test(s) ? undefined : classifyEntry(s, i + 1);
    if (!item || item.type === 'url') {
      throw new IntelFormatError(file, i + 1, `expected a domain, IP or ip:port: ${JSON.stringify(s)}`);
    }
    out.push(item);
  }
  return out;
}

/** Findings below this confidence name no pool for a blocklist (a flow's rhythm alone is not enough). */
export const FINDINGS_MIN_CONFIDENCE = 0.8;

/**
 * Pools that minewatch's own findings observed: the `--format json` document of any command
 * (`{findings: [...]}`), a bare array of findings, or `--format ndjson` lines (`finding` and `update`
 * records). Each finding of confidence >= FINDINGS_MIN_CONFIDENCE gives its pool's name and its address
 * (with the port). A proxied connection's pool is the target the proxy was asked for, never the proxy.
 * `line` is the NDJSON line, or the finding's 1-based position in a document.
 */
export function parseFindings(text: string, file: string): ListItem[] {
  const out: ListItem[] = [];
  const take = (f: unknown, line: number): void => {
    if (!f || typeof f !== 'object') return;
    const x = f as { confidence?: unknown; pool?: { host?: unknown; ip?: unknown; port?: unknown } };
    if (typeof x.confidence === 'number' && x.confidence < FINDINGS_MIN_CONFIDENCE) return;
    const pool = x.pool;
    if (!pool || typeof pool !== 'object') return;
    const port = typeof pool.port === 'number' && pool.port > 0 && pool.port < 65536 ? pool.port : undefined;
    if (typeof pool.host === 'string') {
      const hp = parseHostPort(pool.host);
      if (hp?.kind === 'ip') out.push({ type: 'ip', value: hp.host, ...(port ? { port } : {}), line });
      else if (hp && isDomain(normalizeDomain(hp.host)))
        out.push({ type: 'domain', value: normalizeDomain(hp.host), line });
    }
    const ip = typeof pool.ip === 'string' ? normalizeIp(pool.ip) : undefined;
    if (ip) out.push({ type: 'ip', value: ip, ...(port ? { port } : {}), line });
  };
  const trimmed = text.trimStart();
  if (trimmed.startsWith('[') || (trimmed.startsWith('{') && !/}\s*\n\s*{/.test(trimmed))) {
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (e) {
      throw new IntelFormatError(file, 1, `not minewatch findings JSON: ${(e as Error).message}`);
    }
    const list = Array.isArray(doc) ? doc : (doc as { findings?: unknown }).findings;
    if (!Array.isArray(list)) throw new IntelFormatError(file, 1, 'no findings array');
    for (let i = 0; i < list.length; i++) take(list[i], i + 1);
    return out;
  }
  // A stream announces a finding when it is decided and sends `update`s (a higher confidence, more fields)
  // later under the same id: they are folded before the threshold applies.
  const byId = new Map<string, { f: Record<string, unknown>; line: number }>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!.trim();
    if (!l) continue;
    let rec: Record<string, unknown>;
    try {
      rec = JSON.parse(l);
    } catch (e) {
      throw new IntelFormatError(file, i + 1, `not a JSON line: ${(e as Error).message}`);
    }
    if (!rec || typeof rec !== 'object') continue;
    if (
      rec.type !== 'finding' &&
      rec.type !== 'update' &&
      !(rec.type === undefined && typeof rec.rule === 'string')
    )
      continue;
    if (typeof rec.id !== 'string') {
      take(rec, i + 1);
      continue;
    }
    const had = byId.get(rec.id);
    if (had) Object.assign(had.f, rec);
    else byId.set(rec.id, { f: { ...rec }, line: i + 1 });
  }
  for (const { f, line } of byId.values()) take(f, line);
  return out;
}

const HOSTS_SKIP = new Set([
  'localhost',
  'localhost.localdomain',
  'local',
  'broadcasthost',
  'ip6-localhost',
  'ip6-loopback',
  'ip6-localnet',
  'ip6-mcastprefix',
  'ip6-allnodes',
  'ip6-allrouters',
  'ip6-allhosts',
  '0.0.0.0',
]);

/** hosts(5) lines: `address name [names...]`. The address is a sink (0.0.0.0, 127.0.0.1): only names count. */
export function parseHosts(text: string, file: string): ListItem[] {
  const out: ListItem[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const s = stripComment(lines[i]!);
    if (s === '') continue;
    const fields = s.split(/\s+/);
    const n = i + 1;
    if (fields.length < 2 || !normalizeIp(fields[0]!)) {
      throw new IntelFormatError(file, n, `expected 'address name', got ${JSON.stringify(s)}`);
    }
    for (const f of fields.slice(1)) {
      const name = normalizeDomain(f);
      if (HOSTS_SKIP.has(name)) continue;
      if (!isDomain(name)) throw new IntelFormatError(file, n, `not a domain name: ${JSON.stringify(f)}`);
      out.push({ type: 'domain', value: name, line: n });
    }
  }
  return out;
}

/** Lists whose name says what they hold; anything else (macros, rules, other lists) is ignored. */
function falcoListKind(name: string): 'domain' | 'port' | 'binary' | undefined {
  const n = name.toLowerCase();
  if (n.includes('domain')) return 'domain';
  if (n.includes('port')) return 'port';
  if (n.includes('binar') || n.includes('proc') || n.includes('process')) return 'binary';
  return undefined;
}

function unquote(s: string): string {
  const t = s.trim();
  if (t.length >= 2 && (t[0] === '"' || t[0] === "'") && t[t.length - 1] === t[0]) return t.slice(1, -1);
  return t;
}

const MINING_WORD = /miner|mining|pool|crypto|coin|stratum|xmr|monero/i;

/**
 * The `- list:` items of a Falco rules file, flow (`items: [a, "b"]`, over several lines) or block
 * (`items:` then `- a` lines). Only the YAML Falco rule files use for lists; no YAML dependency.
 * Lists whose name says domains, ports or binaries are taken; when some list names also say mining
 * (miner_domains), only those are, so a whole falco rules file does not import shell_binaries.
 */
export function parseFalcoYaml(text: string, file: string): ListItem[] {
  const lists: Array<{
    name: string;
    kind: 'domain' | 'port' | 'binary';
    values: Array<{ v: string; line: number }>;
  }> = [];
  const lines = text.split(/\r?\n/);
  let i = 0;
  let sawList = false;
  while (i < lines.length) {
    const m = /^\s*-\s+list:\s*(\S+)\s*$/.exec(stripComment(lines[i]!));
    if (!m) {
      i++;
      continue;
    }
    sawList = true;
    const name = unquote(m[1]!);
    const kind = falcoListKind(name);
    const listLine = i + 1;
    i++;
    // Find `items:` among the list's keys (before the next top-level `- `).
    while (i < lines.length && !/^\s*items\s*:/.test(lines[i]!) && !/^\s*-\s+\w+:/.test(lines[i]!)) i++;
    if (i >= lines.length || !/^\s*items\s*:/.test(lines[i]!)) {
      throw new IntelFormatError(file, listLine, 'list without items');
    }
    const itemsLine = i + 1;
    const after = stripComment(lines[i]!.replace(/^\s*items\s*:/, ''));
    const values: Array<{ v: string; line: number }> = [];
    if (after.startsWith('[')) {
      let buf = after.slice(1);
      let lineNo = itemsLine;
      const collect = (chunk: string, ln: number) => {
        for (const part of chunk.split(',')) {
          const v = unquote(part);
          if (v !== '') values.push({ v, line: ln });
        }
      };
      for (;;) {
        const close = buf.indexOf(']');
        if (close >= 0) {
          collect(buf.slice(0, close), lineNo);
          if (buf.slice(close + 1).trim() !== '') {
            throw new IntelFormatError(file, lineNo, 'text after the closing ] of items');
          }
          i++;
          break;
        }
        collect(buf, lineNo);
        i++;
        if (i >= lines.length) throw new IntelFormatError(file, itemsLine, 'items: [ is never closed');
        lineNo = i + 1;
        buf = stripComment(lines[i]!);
      }
    } else if (after === '') {
      i++;
      while (i < lines.length) {
        const t = stripComment(lines[i]!);
        if (t === '') {
          i++;
          continue;
        }
        const bm = /^\s*-\s+(.*)$/.exec(lines[i]!);
        if (!bm || /^\s*-\s+\w+:/.test(lines[i]!)) break;
        values.push({ v: unquote(stripComment(bm[1]!)), line: i + 1 });
        i++;
      }
    } else {
      throw new IntelFormatError(
        file,
        itemsLine,
        `items must be a [flow] or block list, got ${JSON.stringify(after)}`,
      );
    }
    if (kind) lists.push({ name, kind, values });
  }
  if (!sawList) throw new IntelFormatError(file, 1, 'no "- list:" entries: not a Falco rules file');
  const mining = lists.filter((l) => MINING_WORD.test(l.name));
  const out: ListItem[] = [];
  for (const { kind, values } of mining.length > 0 ? mining : lists) {
    for (const { v, line } of values) {
      if (kind === 'port') {
        if (!/^\d{1,5}$/.test(v) || Number(v) < 1 || Number(v) > 65535) {
          throw new IntelFormatError(file, line, `not a port: ${JSON.stringify(v)}`);
        }
        out.push({ type: 'port', value: Number(v), line });
      } else if (kind === 'domain') {
        const d = normalizeDomain(v);
        if (!isDomain(d)) throw new IntelFormatError(file, line, `not a domain name: ${JSON.stringify(v)}`);
        out.push({ type: 'domain', value: d, line });
      } else {
        if (!/^[\w.+-]+$/.test(v))
          throw new IntelFormatError(file, line, `not a binary name: ${JSON.stringify(v)}`);
        out.push({ type: 'binary', value: v, line });
      }
    }
  }
  return out;
}

/** `[section] ...` headed blocks of one value a line, as in the shared falco/linuxcheck extracts. */
export function parseSections(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let cur: string[] | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    const h = /^\[([^\]]+)\]/.exec(line);
    if (h) {
      cur = [];
      out.set(h[1]!, cur);
      continue;
    }
    if (line === '' || line.startsWith('#')) continue;
    cur?.push(line);
  }
  return out;
}
