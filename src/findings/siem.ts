/**
 * Findings in the shapes SIEMs read: OCSF Detection Finding (class 2004, schema 1.3) and Elastic Common
 * Schema 8.x alerts. Pure mappings; minewatch-only fields (coin, wallet, worker…) go where each schema keeps
 * extensions (`unmapped` in OCSF, the `minewatch.*` field set in ECS) so nothing is lost.
 */
import { VERSION } from '../version.ts';
import type { Evidence, Finding, Severity } from './finding.ts';

const OCSF_SEVERITY: Record<Severity, number> = { info: 1, low: 2, medium: 3, high: 4, critical: 5 };
/** ECS event.severity is numeric and vendor-defined; risk_score is 0-100 (Elastic's 21/47/73/99 bands). */
const ECS_RISK: Record<Severity, number> = { info: 0, low: 21, medium: 47, high: 73, critical: 99 };

const ms = (iso?: string): number | undefined => (iso ? Date.parse(iso) : undefined);
const defined = <T extends object>(o: T): T =>
  Object.fromEntries(
    Object.entries(o).filter(([, v]) => v !== undefined && !(Array.isArray(v) && v.length === 0)),
  ) as T;

/** The fields that have no home in either schema, kept whole. */
function extensions(f: Finding): Record<string, unknown> {
  const skip = new Set([
    'id',
    'rule',
    'title',
    'severity',
    'confidence',
    'attack',
    'host',
    'time',
    'first_seen',
    'last_seen',
    'evidence',
    'reasons',
  ]);
  return Object.fromEntries(Object.entries(f).filter(([k, v]) => !skip.has(k) && v !== undefined));
}

function ocsfEvidence(e: Evidence, f: Finding): Record<string, unknown> {
  return defined({
    src_endpoint: f.host && e.kind !== 'process' && e.kind !== 'file' ? { ip: f.host } : undefined,
    dst_endpoint:
      f.pool && (e.kind === 'flow' || e.kind === 'packet' || e.kind === 'tls' || e.kind === 'connection')
        ? defined({ ip: f.pool.ip, port: f.pool.port, hostname: f.pool.host })
        : undefined,
    process: e.pid !== undefined || e.cmdline ? defined({ pid: e.pid, cmd_line: e.cmdline }) : undefined,
    file: e.path ? defined({ path: e.path }) : undefined,
    data: defined({
      kind: e.kind,
      source: e.source,
      packets: e.packets,
      line: e.line,
      offset: e.offset,
      excerpt: e.excerpt,
    }),
  });
}

export function toOcsf(f: Finding): Record<string, unknown> {
  const time = ms(f.time ?? f.first_seen) ?? Date.now();
  const observables = [
    f.pool?.ip ? { name: 'pool.ip', type_id: 2, type: 'IP Address', value: f.pool.ip } : undefined,
    f.pool?.host ? { name: 'pool.host', type_id: 1, type: 'Hostname', value: f.pool.host } : undefined,
    f.wallet ? { name: 'wallet', type_id: 99, type: 'Other', value: f.wallet } : undefined,
  ].filter(Boolean);
  return defined({
    activity_id: 1,
    activity_name: 'Create',
    category_uid: 2,
    category_name: 'Findings',
    class_uid: 2004,
    class_name: 'Detection Finding',
    type_uid: 200401,
    type_name: 'Detection Finding: Create',
    time,
    severity_id: OCSF_SEVERITY[f.severity],
    severity: f.severity === 'info' ? 'Informational' : f.severity[0]!.toUpperCase() + f.severity.slice(1),
    status_id: 1,
    status: 'New',
    confidence_score: Math.round(f.confidence * 100),
    message: f.title,
    metadata: {
      version: '1.3.0',
      product: { name: 'minewatch', vendor_name: 'minewatch', version: VERSION },
      uid: f.id,
    },
    finding_info: defined({
      uid: f.id,
      title: f.title,
      desc: f.reasons?.join('; '),
      types: [f.rule],
      analytic: { uid: f.rule, name: f.rule, type_id: 1, type: 'Rule' },
      attacks: f.attack.map((a) => ({ technique: { uid: a.technique, name: a.name }, version: '14' })),
      first_seen_time: ms(f.first_seen),
      last_seen_time: ms(f.last_seen),
    }),
    device: f.host
      ? defined({ hostname: f.host, ip: /^[\d.:a-f]+$/i.test(f.host) ? f.host : undefined })
      : undefined,
    evidences: f.evidence.map((e) => ocsfEvidence(e, f)),
    observables,
    unmapped: extensions(f),
  });
}

export function toEcs(f: Finding): Record<string, unknown> {
  const e0 = f.evidence.find((e) => e.pid !== undefined || e.cmdline);
  const file = f.evidence.find((e) => e.path);
  const network = f.pool?.ip || f.pool?.port;
  const hostIsIp = f.host !== undefined && /^[\d.:a-f]+$/i.test(f.host);
  return defined({
    '@timestamp': f.time ?? f.first_seen ?? new Date().toISOString(),
    message: f.title,
    event: defined({
      kind: 'alert',
      id: f.id,
      module: 'minewatch',
      dataset: 'minewatch.findings',
      category: [
        network ? 'network' : undefined,
        e0 ? 'process' : undefined,
        file ? 'file' : undefined,
        'malware',
      ].filter(Boolean),
      type: ['indicator'],
      severity: OCSF_SEVERITY[f.severity],
      risk_score: ECS_RISK[f.severity],
      start: f.first_seen,
      end: f.last_seen,
      reason: f.reasons?.join('; '),
    }),
    rule: { id: f.rule, name: f.rule, description: f.title, ruleset: 'minewatch' },
    threat: {
      framework: 'MITRE ATT&CK',
      technique: { id: f.attack.map((a) => a.technique), name: f.attack.map((a) => a.name) },
    },
    host: f.host ? (hostIsIp ? { ip: [f.host] } : { name: f.host }) : undefined,
    source: network && hostIsIp ? { ip: f.host } : undefined,
    destination: network ? defined({ ip: f.pool?.ip, port: f.pool?.port, domain: f.pool?.host }) : undefined,
    tls:
      f.sni || f.ja3
        ? defined({
            client: defined({ server_name: f.sni as string | undefined, ja3: f.ja3 as string | undefined }),
          })
        : undefined,
    user_agent: f.agent ? { original: f.agent } : undefined,
    process: e0 ? defined({ pid: e0.pid, command_line: e0.cmdline }) : undefined,
    file: file ? { path: file.path } : undefined,
    minewatch: defined({ confidence: f.confidence, evidence: f.evidence, ...extensions(f) }),
  });
}
