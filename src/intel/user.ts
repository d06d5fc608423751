/**
 * The user's intel dir: importing lists into it (atomically: a failed import changes nothing) and
 * exporting the merged base with every entry's sources and licences resolved.
 */
import { mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import {
  IntelFormatError,
  type ListItem,
  parseFalcoYaml,
  parseFindings,
  parseHosts,
  parsePlain,
  parseTrail,
} from './formats.ts';
import { builtinIntelFiles, defaultUserIntelDir, type IntelBase, itemsToUserFile } from './load.ts';
import { ExclusionIndex } from './match.ts';
import type { SourceRef } from './schema.ts';

export type ImportFormat = 'falco' | 'maltrail' | 'hosts' | 'plain' | 'findings';

export interface ImportResult {
  file: string;
  format: ImportFormat;
  /** Source id the entries carry: `user:<filename>`. */
  source: string;
  /** The JSON file written in the user dir. */
  written: string;
  added: { pools: number; endpoints: number; ports: number; processes: number };
  /** Names dropped because an exclusion covers them (exchanges, wallets...), with the reason. */
  dropped: Array<{ value: string; line: number; reason: string }>;
  /** Entries kept out because they are not host-level (URL trails). */
  skipped: number;
}

export function parseListFile(text: string, file: string, format: ImportFormat): ListItem[] {
  switch (format) {
    case 'falco':
      return parseFalcoYaml(text, file);
    case 'maltrail':
      return parseTrail(text, file).flatMap((s) => s.items);
    case 'hosts':
      return parseHosts(text, file);
    case 'plain':
      return parsePlain(text, file);
    case 'findings':
      return parseFindings(text, file);
  }
}

/** The user-dir file an import of `name` writes; re-importing the same list replaces it. */
export function userFileName(name: string): string {
  return `${name.replace(/[^A-Za-z0-9._-]/g, '_')}.json`;
}

/**
 * Parses `file` and merges it into the user dir as `<name>.json`. All parsing happens before anything
 * is written, and the write is temp-file-then-rename, so on any error the dir is exactly as before
 * (other imports untouched).
 */
export function importIntel(
  file: string,
  format: ImportFormat,
  userDir: string = defaultUserIntelDir(),
  now: Date = new Date(),
): ImportResult {
  const name = basename(file);
  const text = readFileSync(file, 'utf8');
  const items = parseListFile(text, file, format);
  const exclusions = new ExclusionIndex(builtinIntelFiles().exclusions);
  const { file: uf, dropped, skipped } = itemsToUserFile(items, name, format, exclusions, now.toISOString());
  if (
    uf.pools.length + uf.endpoints.length + uf.ports.length + uf.processes.length === 0 &&
    dropped.length === 0
  ) {
    throw new IntelFormatError(file, 1, 'no entries found');
  }
  mkdirSync(userDir, { recursive: true });
  const target = join(userDir, userFileName(name));
  const tmp = join(userDir, `.${userFileName(name)}.${process.pid}.tmp`);
  try {
    writeFileSync(tmp, `${JSON.stringify(uf, null, 1)}\n`);
    renameSync(tmp, target);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // the temp file may not exist; the original error is what matters
    }
    throw e;
  }
  return {
    file,
    format,
    source: uf.source.id,
    written: target,
    added: {
      pools: uf.pools.length,
      endpoints: uf.endpoints.length,
      ports: uf.ports.length,
      processes: uf.processes.length,
    },
    dropped,
    skipped,
  };
}

// ---------- export ----------

export interface ResolvedSource {
  id: string;
  ref?: string;
  name: string;
  licence: string;
}

function resolve(base: IntelBase, refs: SourceRef[]): ResolvedSource[] {
  return refs.map((r) => {
    const s = base.source(r.id);
    return {
      id: r.id,
      ...(r.ref !== undefined ? { ref: r.ref } : {}),
      name: s?.name ?? r.id,
      licence: s?.licence ?? 'unknown',
    };
  });
}

function withResolved<T extends { sources: SourceRef[] }>(base: IntelBase, xs: T[]) {
  return xs.map((x) => ({ ...x, sources: resolve(base, x.sources) }));
}

const CSV_HEADER = [
  'type',
  'value',
  'name',
  'kind',
  'coins',
  'status',
  'weight',
  'sources',
  'licences',
] as const;

function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** RFC 4180 reader for what exportIntel writes (quoted fields, doubled quotes, CRLF or LF). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += ch;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

/**
 * json: the merged base, each entry's sources resolved to name and licence.
 * csv: one row per pool, endpoint and port: type,value,name,kind,coins,status,weight,sources,licences
 * (lists joined with ';').
 */
export function exportIntel(base: IntelBase, format: 'json' | 'csv'): string {
  if (format === 'json') {
    const miners = Object.fromEntries(
      Object.entries(base.miners).map(([k, v]) => [
        k,
        withResolved(base, v as Array<{ sources: SourceRef[] }>),
      ]),
    );
    const doc = {
      schema: 'minewatch-intel/export@1',
      generated: base.generated,
      sources: base.sources,
      pools: withResolved(base, base.pools),
      endpoints: withResolved(base, base.endpoints),
      ports: withResolved(base, base.ports),
      coins: withResolved(base, base.coins),
      miners,
      families: withResolved(base, base.families),
      exclusions: withResolved(base, base.exclusionEntries),
    };
    return `${JSON.stringify(doc, null, 1)}\n`;
  }
  const lines: string[] = [CSV_HEADER.join(',')];
  const row = (cells: string[]) => lines.push(cells.map(csvField).join(','));
  const srcCells = (refs: SourceRef[]) => {
    const r = resolve(base, refs);
    return [
      r.map((s) => (s.ref ? `${s.id}:${s.ref}` : s.id)).join(';'),
      [...new Set(r.map((s) => s.licence))].join(';'),
    ];
  };
  for (const p of base.pools) {
    row(['pool', p.host, p.name, p.kind, p.coins.join(';'), p.status, '', ...srcCells(p.sources)]);
  }
  for (const e of base.endpoints) {
    const value =
      e.port === undefined ? e.ip : e.ip.includes(':') ? `[${e.ip}]:${e.port}` : `${e.ip}:${e.port}`;
    row(['endpoint', value, e.pool ?? '', '', (e.coins ?? []).join(';'), '', '', ...srcCells(e.sources)]);
  }
  for (const p of base.ports) {
    row([
      'port',
      String(p.port),
      p.pools.join(';'),
      p.tls ? 'tls' : '',
      '',
      '',
      p.weight,
      ...srcCells(p.sources),
    ]);
  }
  return `${lines.join('\n')}\n`;
}
