/**
 * Whose a file is, before what it says counts: a security tool's rule or blocklist names pools and wallets
 * because it blocks them, an official installer fetches and runs code because that is its job, documentation
 * describes mining. Findings on such files become one info finding that says why; a file that also carries
 * campaign material (a stratum URL with a wallet, a download from a bare IP, base64 run through a shell) keeps
 * its findings, so planting a miner inside a rule file or a patched installer does not hide it.
 */
import { readFileSync } from 'node:fs';
import { ATTACK, type Finding, SEVERITY_ORDER } from '../../findings/index.ts';
import { packagePath } from '../../package-root.ts';
import type { FileRecord } from '../../sensors/host/types.ts';
import { makeFinding } from './common.ts';
import { BASE64_EXEC_RE, IP_URL_RE } from './patterns.ts';

interface SourceRef {
  name: string;
  url: string;
}
export interface HostContext {
  installers: { id: string; name: string; markers: string[]; source: SourceRef }[];
  security_dirs: { path: string; tool: string; source: SourceRef }[];
  ssh_key_comments: { comment: string; family: string; source: SourceRef }[];
}

const SCHEMA = 'minewatch-intel/host-context@1';

export function parseHostContext(text: string, where: string): HostContext {
  const doc = JSON.parse(text) as Partial<HostContext> & { schema?: string };
  if (doc.schema !== SCHEMA) throw new Error(`${where}: schema is not ${SCHEMA}`);
  for (const k of ['installers', 'security_dirs', 'ssh_key_comments'] as const)
    if (!Array.isArray(doc[k])) throw new Error(`${where}: '${k}' is not a list`);
  for (const i of doc.installers!)
    if (!i.id || !Array.isArray(i.markers) || !i.markers.length || !i.source?.url)
      throw new Error(`${where}: installer '${i.id ?? '?'}' needs markers and a source`);
  for (const d of doc.security_dirs!)
    if (!d.path?.startsWith('/') || !d.source?.url)
      throw new Error(`${where}: security dir '${d.path}' invalid`);
  for (const c of doc.ssh_key_comments!)
    if (!c.comment || !c.source?.url) throw new Error(`${where}: ssh key comment needs a source`);
  return doc as HostContext;
}

let builtin: HostContext | undefined;
export function loadHostContext(): HostContext {
  const p = packagePath('data', 'intel', 'host-context.json');
  builtin ??= parseHostContext(readFileSync(p, 'utf8'), p);
  return builtin;
}

export type Provenance =
  | { kind: 'security-content'; format: string; tool?: string }
  | { kind: 'official-installer'; name: string; url: string }
  | { kind: 'documentation' };

/**
 * Line shapes of security content. A file is one of these formats when such lines make up most of what is
 * not blank or a comment; a shell line among them (a download, a pipe to a shell) is never of the format.
 */
const FORMATS: { id: string; line: RegExp; file?: RegExp }[] = [
  // Suricata/Snort: `alert dns $HOME_NET any -> any any (msg:"..."; ...; sid:N; rev:N;)`, commented or not.
  {
    id: 'ids-rules',
    line: /^#?\s*(?:alert|drop|reject|pass|log|rejectsrc|rejectdst|rejectboth)\s+\w+\s+\S+\s+\S+\s+(?:->|<>)\s+\S+\s+\S+\s+\(.*\bsid\s*:\s*\d+/,
  },
  // YARA: every line of a rule block is one of these.
  {
    id: 'yara',
    file: /^\s*(?:(?:private|global)\s+)*rule\s+\w+[^\n]*\n?\s*\{?[\s\S]*?\bcondition\s*:/m,
    line: /^\s*(?:(?:private|global)\s+)*rule\s+\w+|^\s*[{}]\s*$|^\s*(?:meta|strings|condition)\s*:|^\s*\$\w*\s*=|^\s*\w+\s*=\s*(?:"|\d|true|false)|^\s*import\s+"|^\s*(?:uint\d+|any of|all of|\d+ of|filesize|\(|\$|and\b|or\b|not\b)/,
  },
  // Falco: `- rule:` / `- macro:` / `- list:` documents with their keys.
  {
    id: 'falco',
    file: /^- (?:rule|macro|list):/m,
    line: /^- (?:rule|macro|list|required_engine_version|required_plugin_versions):|^\s+(?:desc|condition|output|priority|tags|items|source|enabled|exceptions|override|append|fields|values|comps|name|[a-z_]+):|^\s+-\s|^\s+[\]"'\w(]/,
  },
  // Sigma: YAML with title/logsource/detection.
  {
    id: 'sigma',
    file: /^logsource:\s*$[\s\S]*^detection:\s*$/m,
    line: /^[a-z_]+:|^\s+[\w|.-]+:|^\s+-\s/,
  },
  // hosts(5) blocklists (Pi-hole, StevenBlack): every entry points at a sinkhole address.
  {
    id: 'hosts-blocklist',
    line: /^(?:0\.0\.0\.0|127\.0\.0\.1|::1?|0:0:0:0:0:0:0:[01])\s+[\w.-]+(?:\s+[\w.-]+)*$/,
  },
  // dnsmasq: address=/name/0.0.0.0, server=/name/ (no upstream: NXDOMAIN), local=/name/.
  {
    id: 'dnsmasq-blocklist',
    line: /^(?:address|server|local)=\/[\w.-]+\/(?:0\.0\.0\.0|::|127\.0\.0\.1|#)?$|^(?:bogus-nxdomain|conf-dir|no-resolv|domain-needed)\b/,
  },
  // Unbound local-zone/local-data blocks, RPZ zones answering NXDOMAIN (CNAME .) or a sinkhole.
  {
    id: 'unbound-blocklist',
    line: /^server:\s*$|^\s*local-zone:\s*"[^"]+"\s+(?:always_nxdomain|always_refuse|always_null|refuse|static|deny|redirect)\s*$|^\s*local-data:\s*"/,
  },
  {
    id: 'rpz',
    line: /^[\w*.-]+\s+(?:\d+\s+)?(?:IN\s+)?CNAME\s+(?:\.|rpz-drop\.|rpz-passthru\.)$|^\$(?:TTL|ORIGIN)\b|^@?\s+(?:IN\s+)?(?:SOA|NS)\b/,
  },
  // Plain domain lists (Pi-hole adlists, blacklist.txt): one name a line.
  {
    id: 'domain-list',
    line: /^(?:\*\.)?[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+\.?$/i,
  },
];

/** A command that runs something: never part of a rule or a list. */
const SHELL_LINE =
  /(?:^|[;&|]\s*)(?:curl|wget|nohup|chmod|bash|sh|python[23]?|perl|powershell|crontab|setsid)\s|\|\s*(?:ba)?sh\b|base64\s+-d/;

const COMMENT = /^\s*(?:#(?!\s*(?:alert|drop|reject|pass|log)\s)|\/\/|;|\/\*|\*)/;

/** The security format most lines of `text` are in, and that share; undefined when none reaches `min`. */
export function securityFormat(text: string, min = 0.8): { format: string; share: number } | undefined {
  const lines = text.split('\n').slice(0, 20_000);
  const sig = lines.map((l) => l.replace(/\r$/, '')).filter((l) => l.trim() && !COMMENT.test(l));
  if (sig.length === 0) return undefined;
  let best: { format: string; share: number } | undefined;
  for (const f of FORMATS) {
    if (f.file && !f.file.test(text)) continue;
    let n = 0;
    let shell = false;
    for (const l of sig) {
      if (f.line.test(l)) n++;
      else if (SHELL_LINE.test(l)) shell = true;
    }
    if (shell) continue;
    const share = n / sig.length;
    if (share >= min && (!best || share > best.share)) best = { format: f.id, share };
  }
  return best;
}

const DOC_EXT = /\.(?:md|markdown|rst|adoc|txt|html?)$/i;

export function provenanceOf(f: FileRecord, ctx: HostContext): Provenance | undefined {
  const text = f.text;
  if (text === undefined || f.type === 'elf' || f.type === 'pe') return undefined;
  const dir = ctx.security_dirs.find((d) => f.path === d.path || f.path.startsWith(`${d.path}/`));
  // Inside a security tool's own directory half the lines in its format suffice (its configs mix in
  // settings); elsewhere the format must dominate.
  const fmt = securityFormat(text, dir ? 0.5 : 0.8);
  if (fmt) return { kind: 'security-content', format: fmt.format, ...(dir ? { tool: dir.tool } : {}) };
  if (f.type === 'script' && (f.lang === 'sh' || f.lang === undefined)) {
    for (const i of ctx.installers)
      if (i.markers.every((m) => text.includes(m)))
        return { kind: 'official-installer', name: i.name, url: i.source.url };
  }
  if (DOC_EXT.test(f.path) && !SHELL_LINE.test(text.replace(/^\s*(?:\$|#)\s.*$/gm, '')))
    return { kind: 'documentation' };
  return undefined;
}

/** Campaign material a trusted-looking file must not carry to keep its trust. */
function carriesCampaign(f: FileRecord, findings: Finding[], kind: Provenance['kind']): boolean {
  const text = f.text ?? '';
  if (kind !== 'official-installer') return false;
  if (IP_URL_RE.test(text) || BASE64_EXEC_RE.test(text)) return true;
  return findings.some((x) => x.wallet !== undefined || x.pool !== undefined || x.family !== undefined);
}

/**
 * Replaces the findings on files of known provenance by one info finding each. `files` are the scanned
 * records; findings are matched to a file by their first evidence path.
 */
export function applyProvenance(findings: Finding[], files: FileRecord[], ctx: HostContext): Finding[] {
  const byPath = new Map<string, Finding[]>();
  for (const x of findings) {
    const p = x.evidence[0]?.path;
    if (p && x.rule.startsWith('host.file.')) byPath.set(p, [...(byPath.get(p) ?? []), x]);
  }
  if (byPath.size === 0) return findings;
  const drop = new Set<Finding>();
  const add: Finding[] = [];
  for (const f of files) {
    const on = byPath.get(f.path);
    if (!on) continue;
    const prov = provenanceOf(f, ctx);
    if (!prov) continue;
    // Documentation (incident notes, READMEs) may name a pool and a wallet; what it says stays a low note.
    if (prov.kind === 'documentation') {
      for (const x of on)
        if (x.rule === 'host.file.mining-reference' && SEVERITY_ORDER[x.severity] > SEVERITY_ORDER.low)
          x.severity = 'low';
      continue;
    }
    if (carriesCampaign(f, on, prov.kind)) continue;
    for (const x of on) drop.add(x);
    const what =
      prov.kind === 'security-content'
        ? `security content (${prov.format}${prov.tool ? `, ${prov.tool}` : ''})`
        : `the official installer '${prov.name}'`;
    add.push(
      makeFinding({
        rule:
          prov.kind === 'security-content' ? 'host.file.security-content' : 'host.file.official-installer',
        key: [f.path],
        title: `${f.path} is ${what}`,
        severity: 'info',
        confidence: 0.9,
        attack: [ATTACK.resourceHijacking],
        evidence: [{ kind: 'file', path: f.path, size: f.size }],
        reasons: [
          prov.kind === 'security-content'
            ? 'rules and blocklists name pools and wallets to detect or block them'
            : `recognised by the project markers of ${prov.url}; it fetches and runs code because that is its job`,
          `set aside: ${[...new Set(on.map((x) => x.rule))].join(', ')}`,
        ],
      }),
    );
  }
  if (!drop.size) return findings;
  return [...findings.filter((x) => !drop.has(x)), ...add];
}
