/** Shared pieces of the host rules: finding construction and the command-line/script-line classifier. */

import {
  ATTACK,
  type AttackRef,
  type Evidence,
  type Finding,
  findingId,
  type Severity,
} from '../../findings/index.ts';
import { extractWallets, validateWallet, type WalletInfo } from '../../wallets/index.ts';
import { accountKey, parseLogin } from '../../wallets/login.ts';
import type { IntelView, PoolHit } from './intel-view.ts';
import {
  BASE64_EXEC_RE,
  DOWNLOAD_RE,
  EXEC_RE,
  IP_URL_RE,
  LOOPBACK_URL_RE,
  STRATUM_RE,
  TEMP_PATH_RE,
} from './patterns.ts';

export interface FindingInit {
  rule: string;
  key: Array<string | number | undefined>;
  title: string;
  severity: Severity;
  confidence: number;
  attack: AttackRef[];
  evidence: Evidence[];
  reasons?: string[];
  extra?: Record<string, unknown>;
}

export function makeFinding(f: FindingInit): Finding {
  const out: Finding = {
    id: findingId(f.rule, ...f.key),
    rule: f.rule,
    title: f.title,
    severity: f.severity,
    confidence: Math.round(f.confidence * 100) / 100,
    attack: dedupeAttack(f.attack),
    evidence: f.evidence,
  };
  if (f.reasons?.length) out.reasons = f.reasons;
  if (f.extra) for (const [k, v] of Object.entries(f.extra)) if (v !== undefined) out[k] = v;
  return out;
}

function dedupeAttack(a: AttackRef[]): AttackRef[] {
  const seen = new Set<string>();
  return a.filter((x) => !seen.has(x.technique) && seen.add(x.technique));
}

export function excerpt(s: string, max = 200): string {
  const t = s.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}

export interface PoolRefFound {
  host?: string;
  ip?: string;
  port?: number;
  url?: string;
  tls?: boolean;
  /** Intel knows this pool or endpoint (otherwise it came from a stratum URL only). */
  intel?: PoolHit | { pool?: string; coins: string[] };
}

/** Host[:port] of a stratum URL or 'host:port' token; intel lookup for pool name and coins. */
export function poolFromToken(token: string, iv: IntelView): PoolRefFound | undefined {
  const m =
    /^(?:(stratum[12]?\+(?:tcp|ssl|tls|udp)|https?|wss?):\/\/)?(?:[^@/\s]*@)?(\[[0-9a-f:]+\]|[A-Za-z0-9_.-]+)(?::(\d{1,5}))?/i.exec(
      token.trim(),
    );
  if (!m) return undefined;
  const host = m[2]!.toLowerCase();
  const port = m[3] ? Number(m[3]) : undefined;
  const r: PoolRefFound = { url: token };
  if (m[1]) r.tls = /ssl|tls/i.test(m[1]);
  if (port !== undefined) r.port = port;
  if (/^\d{1,3}(?:\.\d{1,3}){3}$/.test(host)) {
    r.ip = host;
    const e = iv.endpoint(host, port);
    if (e) r.intel = e;
  } else {
    if (!host.includes('.')) return undefined;
    r.host = host;
    const p = iv.pool(host);
    if (p) r.intel = p;
  }
  return r;
}

export function poolKey(p: PoolRefFound): string {
  return `${p.host ?? p.ip ?? ''}${p.port ? `:${p.port}` : ''}`;
}

export function poolField(p: PoolRefFound): Finding['pool'] {
  const out: NonNullable<Finding['pool']> = {};
  if (p.host) out.host = p.host;
  if (p.ip) out.ip = p.ip;
  if (p.port) out.port = p.port;
  const name =
    p.intel && 'name' in p.intel ? p.intel.name : p.intel && 'pool' in p.intel ? p.intel.pool : undefined;
  if (name) out.name = name;
  return out;
}

export function poolCoins(p: PoolRefFound): string[] {
  return p.intel?.coins ?? [];
}

/** Wallets in a text, keeping only those whose checksum verified (or that sit in a login position). */
export function walletsIn(text: string, loginContext = false): WalletInfo[] {
  const out: WalletInfo[] = [];
  const seen = new Set<string>();
  for (const w of extractWallets(text, { maxHits: 50 })) {
    if (seen.has(w.address)) continue;
    seen.add(w.address);
    if (w.valid === true || (loginContext && w.valid === null)) out.push(w);
  }
  return out;
}

export function checkWallet(s: string): WalletInfo | null {
  return validateWallet(s);
}

/** What a command line (cron line, ExecStart, task action, argv) says about mining and dropping. */
export interface CommandSignals {
  stratum: PoolRefFound[];
  pools: PoolRefFound[];
  wallets: WalletInfo[];
  miner?: { value: string; family?: string };
  markers: string[];
  families: { family: string; marker: string }[];
  download: boolean;
  downloadExec: boolean;
  base64Exec: boolean;
  ipUrl: boolean;
  tempPath?: string;
  /** Strongest conclusion and why. */
  severity: Severity | undefined;
  confidence: number;
  reasons: string[];
  attack: AttackRef[];
}

const POOL_ARG_RE =
  /(?:^|\s)(?:-o|--url(?:=|\s)|-url(?:=|\s)|--pool(?:=|\s)|-p\s+pool)\s*["']?([A-Za-z0-9_.+:/[\]-]+)/g;

export function classifyCommand(line: string, iv: IntelView): CommandSignals {
  const s: CommandSignals = {
    stratum: [],
    pools: [],
    wallets: [],
    markers: [],
    families: [],
    download: DOWNLOAD_RE.test(line.replace(LOOPBACK_URL_RE, ' ')),
    downloadExec: false,
    base64Exec: BASE64_EXEC_RE.test(line),
    ipUrl: IP_URL_RE.test(line),
    severity: undefined,
    confidence: 0,
    reasons: [],
    attack: [],
  };
  s.downloadExec = s.download && EXEC_RE.test(line);
  for (const m of line.matchAll(STRATUM_RE)) {
    const p = poolFromToken(m[0], iv);
    if (p) s.stratum.push(p);
  }
  for (const m of line.matchAll(POOL_ARG_RE)) {
    const p = poolFromToken(m[1]!, iv);
    if (p?.intel && !s.stratum.some((x) => poolKey(x) === poolKey(p))) s.pools.push(p);
  }
  // Bare host:port or host tokens that intel knows as pools.
  for (const m of line.matchAll(/[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+(?::\d{2,5})?/g)) {
    const p = poolFromToken(m[0], iv);
    if (p?.intel && !s.stratum.concat(s.pools).some((x) => poolKey(x) === poolKey(p))) s.pools.push(p);
  }
  s.wallets = walletsIn(line, s.stratum.length + s.pools.length > 0);
  for (const tok of line.split(/[\s"'`;|&()=]+/)) {
    if (!tok) continue;
    const base = tok.split(/[\\/]/).pop() ?? tok;
    const hit = iv.minerProcess(base) ?? iv.minerFile(tok);
    if (hit && hit.weight !== 'weak') {
      s.miner = hit.family ? { value: hit.value, family: hit.family } : { value: hit.value };
      break;
    }
  }
  s.markers = iv
    .cmdlineMarkers(line)
    .filter((m) => m.weight !== 'weak')
    .map((m) => m.value);
  s.families = iv.families(line).map((f) => ({ family: f.family, marker: f.marker }));
  const tp = TEMP_PATH_RE.exec(line);
  if (tp) s.tempPath = tp[1];

  let score = 0;
  const add = (w: number, reason: string, a?: AttackRef) => {
    score = Math.max(score, w) + (score > 0 ? 0.03 : 0);
    s.reasons.push(reason);
    if (a) s.attack.push(a);
  };
  for (const p of s.stratum) add(0.95, `stratum URL ${p.url}`, ATTACK.resourceHijacking);
  for (const p of s.pools)
    add(
      0.85,
      `pool ${poolKey(p)}${p.intel && 'name' in p.intel ? ` (${p.intel.name})` : ''}`,
      ATTACK.resourceHijacking,
    );
  for (const w of s.wallets)
    add(0.85, `${w.coin} wallet ${w.address.slice(0, 12)}…`, ATTACK.resourceHijacking);
  if (s.miner) add(s.miner.family ? 0.85 : 0.8, `miner name '${s.miner.value}'`, ATTACK.resourceHijacking);
  for (const f of s.families) add(0.85, `${iv.familyName(f.family)} marker '${f.marker}'`);
  if (s.markers.length)
    add(0.75, `miner options ${s.markers.slice(0, 3).join(', ')}`, ATTACK.resourceHijacking);
  if (s.downloadExec)
    add(
      s.ipUrl ? 0.8 : 0.7,
      `downloads and runs code${s.ipUrl ? ' from a bare IP' : ''}`,
      ATTACK.ingressToolTransfer,
    );
  if (s.base64Exec) add(0.75, 'runs base64-decoded code', ATTACK.obfuscatedFiles);
  if (s.tempPath) add(0.55, `runs from ${s.tempPath}`, ATTACK.masquerading);
  if (s.download && !s.downloadExec && s.ipUrl) add(0.5, 'downloads from a bare IP');
  s.confidence = Math.min(0.99, score);
  s.severity = score >= 0.9 ? 'critical' : score >= 0.7 ? 'high' : score >= 0.5 ? 'medium' : undefined;
  return s;
}

const USER_ARG_RE = /(?:^|\s)(?:-u|--user|-O|--userpass)(?:=|\s+)["']?([^\s"']+)/;
const PASS_ARG_RE = /(?:^|\s)(?:-p|--pass)(?:=|\s+)["']?([^\s"']+)/;
const RIGID_ARG_RE = /(?:^|\s)--rig-id(?:=|\s+)["']?([^\s"']+)/;

/**
 * The pool login a miner's command line gives (`-u`/`--user`, cpuminer's `-O user:pass`, `-p`, `--rig-id`):
 * the account (e-mail, user name, distinctive worker at the pool) that ties hosts into one campaign.
 */
export function commandAccount(line: string, pool?: string): { account?: string; worker?: string } {
  const u = USER_ARG_RE.exec(line)?.[1];
  if (!u) return {};
  const p = parseLogin(u, PASS_ARG_RE.exec(line)?.[1]);
  const rig = RIGID_ARG_RE.exec(line)?.[1];
  if (rig && !p.worker) p.worker = rig;
  const account = accountKey(p, pool);
  return { ...(account ? { account } : {}), ...(p.worker ? { worker: p.worker } : {}) };
}
