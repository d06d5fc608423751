import type { Column } from '../cli/table.ts';
import { renderTable } from '../cli/table.ts';
import type { Finding } from './finding.ts';

export type OutputFormat = 'table' | 'json' | 'ndjson' | 'ocsf' | 'ecs';
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['table', 'json', 'ndjson'];
/** Commands that report findings also speak the SIEMs' shapes (one JSON object a line). */
export const REPORT_FORMATS: readonly OutputFormat[] = ['table', 'json', 'ndjson', 'ocsf', 'ecs'];

export const findingColumns: Column<Finding>[] = [
  { header: 'SEVERITY', value: (f) => f.severity },
  { header: 'RULE', value: (f) => f.rule },
  { header: 'HOST', value: (f) => f.host, max: 24 },
  { header: 'POOL', value: (f) => poolLabel(f), max: 40 },
  { header: 'COIN', value: (f) => f.coin },
  { header: 'WALLET/USER', value: (f) => f.wallet ?? f.account ?? (f.user as string | undefined), max: 24 },
  { header: 'AGENT', value: (f) => f.agent, max: 24 },
  {
    header: 'EVIDENCE',
    value: (f) => {
      const via = proxyLabel(f.proxy);
      const e = evidenceLabel(f);
      return via ? `${e ? `${e} ` : ''}via ${via}` : e;
    },
    max: 60,
  },
];

/** `socks5 10.2.0.1:1080` for a finding's `proxy` (a connection made through one), else ''. */
export function proxyLabel(p: unknown): string {
  if (!p || typeof p !== 'object') return '';
  const x = p as { protocol?: unknown; ip?: unknown; port?: unknown };
  if (typeof x.ip !== 'string') return '';
  const port = typeof x.port === 'number' ? `:${x.port}` : '';
  return `${typeof x.protocol === 'string' ? `${x.protocol} ` : ''}${x.ip.includes(':') ? `[${x.ip}]` : x.ip}${port}`;
}

export function poolLabel(f: Finding): string | undefined {
  const p = f.pool;
  if (!p) return undefined;
  const host = p.host ?? p.ip;
  if (!host) return undefined;
  return p.port ? `${host}:${p.port}` : host;
}

export function evidenceLabel(f: Finding): string | undefined {
  const e = f.evidence[0];
  if (!e) return undefined;
  if (e.packets?.length) return `pkt ${e.packets.slice(0, 4).join(',')}${e.packets.length > 4 ? ',…' : ''}`;
  if (e.path)
    return e.line ? `${e.path}:${e.line}` : e.offset !== undefined ? `${e.path}@${e.offset}` : e.path;
  if (e.pid !== undefined) return `pid ${e.pid}`;
  return e.excerpt;
}

/** One NDJSON line for a finding: streaming consumers (jq, Vector, Filebeat) read these as they come. */
export function findingLine(f: Finding): string {
  return `${JSON.stringify({ type: 'finding', ...f })}\n`;
}

export function renderFindingsTable(findings: readonly Finding[]): string {
  return findings.length ? renderTable(findings, findingColumns) : '(no findings)';
}
