/**
 * `minewatch scan`: run the host sensors below a root, then the pure host rules, then the verdict.
 */
import { ATTACK, type Finding, SEVERITY_ORDER } from '../../findings/index.ts';
import { loadIntel } from '../../intel/index.ts';
import { PACKAGE_ROOT } from '../../package-root.ts';
import { collectHost, type ScanOptions } from '../../sensors/host/collect.ts';
import type { HostEvidence, ScanStats } from '../../sensors/host/types.ts';
import { makeFinding } from './common.ts';
import { contentMatcher } from './content.ts';
import { detectFiles } from './files.ts';
import { type IntelLike, type IntelView, intelView } from './intel-view.ts';
import { RENAMED_TOOLS } from './patterns.ts';
import {
  detectConfigs,
  detectInstalledPersistence,
  detectLaunchers,
  detectTools,
  flaggedFiles,
} from './persistence.ts';
import { detectConnections, detectHiddenCpu, detectProcesses, procEvidence } from './process.ts';
import { applyProvenance, type HostContext, loadHostContext } from './provenance.ts';
import { type HostVerdict, verdictOf } from './verdict.ts';

export interface ScanResult {
  host: { hostname?: string; os?: 'linux' | 'windows' | 'unknown'; root: string };
  findings: Finding[];
  verdict: HostVerdict;
  warnings: { path: string; reason: string }[];
  /**
   * What was read. `pruned`/`prunedDirs`: package and toolchain trees listed but not walked (only their
   * entries' names were checked; `deep` turns this off); `compressed`: archives and media not content-matched.
   */
  stats: ScanStats & { warnings?: number };
}

export interface ScanHostOptions extends ScanOptions {
  /** Intel to use (tests, user dirs); default: the built-in base plus the user's imports. */
  intel?: IntelView;
  cpuSampleMs?: number;
}

/** This package's directory, as a root-relative path of the live host. */
const OWN_PACKAGE_DIR = PACKAGE_ROOT.replace(/\/+$/, '');

let defaultView: IntelView | undefined;
export function defaultIntelView(): IntelView {
  defaultView ??= intelView(loadIntel() as unknown as IntelLike);
  return defaultView;
}

/**
 * Pure: every host rule over collected evidence. File findings come first: files of known provenance
 * (security content, official installers) are set aside, and what remains flagged is what persistence is
 * linked to.
 */
export function detectHost(
  ev: HostEvidence,
  iv: IntelView,
  hctx: HostContext = loadHostContext(),
): Finding[] {
  const files = detectFiles(
    ev.files,
    iv,
    new Set(ev.configs.filter((c) => c.kind !== 'startup').map((c) => c.path)),
  );
  const fileFindings = applyProvenance(files.findings, ev.files, hctx);
  const flagged = flaggedFiles(fileFindings);
  const findings = [
    ...detectProcesses(ev.processes, iv),
    ...detectConnections(ev.connections, ev.processes, iv),
    ...detectConfigs(ev.configs, iv, {
      plantedKeys: files.plantedKeys,
      flagged,
      owners: ev.owners ?? {},
      keyComments: hctx.ssh_key_comments,
    }),
    ...detectInstalledPersistence(ev.files, iv, flagged),
    ...detectLaunchers(ev.files, flagged),
    ...detectTools(ev.tools),
    ...fileFindings,
  ];
  findings.push(...minerExeProcesses(ev, fileFindings));
  const preload = findings.some((f) => f.rule === 'host.persistence.ld-preload');
  findings.push(...detectHiddenCpu(ev.cpu, preload));
  const seen = new Set<string>();
  const out: Finding[] = [];
  for (const f of findings) {
    if (seen.has(f.id)) continue;
    seen.add(f.id);
    if (ev.hostname) f.host = ev.hostname;
    out.push(f);
  }
  return out.sort(
    (a, b) => SEVERITY_ORDER[b.severity] - SEVERITY_ORDER[a.severity] || a.rule.localeCompare(b.rule),
  );
}

/** A running process whose executable is a file judged a miner binary: ties the file to the process. */
function minerExeProcesses(ev: HostEvidence, fileFindings: Finding[]): Finding[] {
  const bins = new Map<string, Finding>();
  for (const f of fileFindings)
    if (f.rule === 'host.file.miner-binary' && f.evidence[0]?.path) bins.set(f.evidence[0].path, f);
  const out: Finding[] = [];
  for (const p of ev.processes) {
    const b = p.exe ? bins.get(p.exe) : undefined;
    if (!b) continue;
    out.push(
      makeFinding({
        rule: 'host.process.miner-exe',
        key: [p.pid, p.exe],
        title: `Process ${p.pid} runs the miner binary ${p.exe}${p.exeDeleted ? ' (deleted)' : ''}`,
        severity: b.severity === 'critical' ? 'critical' : 'high',
        confidence: b.confidence,
        attack: [ATTACK.resourceHijacking],
        evidence: [procEvidence(p), b.evidence[0]!],
        reasons: [`its executable is judged a miner: ${b.title}`],
        extra: {
          pool: b.pool,
          coin: b.coin,
          wallet: b.wallet,
          wallet_valid: b.wallet_valid,
          infection_type: b.infection_type,
        },
      }),
    );
  }
  return out;
}

export async function scanHost(opts: ScanHostOptions): Promise<ScanResult> {
  const t0 = performance.now();
  const iv = opts.intel ?? defaultIntelView();
  const root = opts.root || '/';
  // On the live host the scanner leaves its own install alone: its intel, rules and tests are full of the
  // pools, wallets and dropper lines it looks for (a clone in /opt would otherwise report itself).
  const live = opts.live ?? root === '/';
  const exclude = [...(opts.exclude ?? []), ...(live ? [OWN_PACKAGE_DIR] : [])];
  const ev = await collectHost({
    ...opts,
    exclude,
    root,
    matcher: contentMatcher(iv),
    interestingName: (n) => {
      const h = iv.minerFile(n);
      return h !== undefined && h.weight !== 'weak';
    },
    renamedTools: RENAMED_TOOLS,
  });
  const findings = detectHost(ev, iv);
  const host: ScanResult['host'] = { os: ev.os, root: ev.root };
  if (ev.hostname) host.hostname = ev.hostname;
  return {
    host,
    findings,
    verdict: verdictOf(findings),
    warnings: ev.warnings,
    stats: { ...ev.stats, ms: Math.round(performance.now() - t0), warnings: ev.warningCount },
  };
}
