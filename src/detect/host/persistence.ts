/**
 * Persistence rules over config-file records: cron, systemd, rc/init, profiles, preload, keys, hosts, tasks.
 * A persistence line is judged by what it says and by what the rest of the scan found in the files it runs:
 * `sh /etc/x.sh` says nothing, but if the scan calls /etc/x.sh a dropper the line is that dropper's
 * persistence and says so.
 */
import {
  ATTACK,
  type AttackRef,
  type Evidence,
  type Finding,
  SEVERITY_ORDER,
  type Severity,
} from '../../findings/index.ts';
import { commandPaths, userOfPath } from '../../sensors/host/refs.ts';
import type {
  ConfigFileRecord,
  ConfigKind,
  DownloadToolRecord,
  FileRecord,
} from '../../sensors/host/types.ts';
import { classifyCommand, excerpt, makeFinding, poolCoins, poolField, poolKey } from './common.ts';
import type { IntelView } from './intel-view.ts';
import { SECURITY_DOMAIN_RE, SSH_KEY_RE, TEMP_DIR_RE } from './patterns.ts';

/** The markers minewatch's own `block --format hosts --apply` puts around its section (respond/blocklist). */
const OWN_HOSTS_BEGIN = '# BEGIN minewatch';
const OWN_HOSTS_END = '# END minewatch';
/** Addresses that make a hosts entry a block, not a pin. */
const SINKHOLE_IP = /^(?:0\.0\.0\.0|127\.\d+\.\d+\.\d+|::1?|0:0:0:0:0:0:0:[01])$/;

const RULE: Record<ConfigKind, { rule: string; attack: AttackRef; label: string }> = {
  cron: { rule: 'host.persistence.cron', attack: ATTACK.cron, label: 'cron job' },
  systemd: { rule: 'host.persistence.systemd', attack: ATTACK.systemdService, label: 'systemd unit' },
  'rc-local': { rule: 'host.persistence.rc-local', attack: ATTACK.rcScripts, label: 'rc.local' },
  'init-script': { rule: 'host.persistence.init-script', attack: ATTACK.rcScripts, label: 'init script' },
  'shell-profile': {
    rule: 'host.persistence.shell-profile',
    attack: ATTACK.shellProfile,
    label: 'shell profile',
  },
  'ld-preload': { rule: 'host.persistence.ld-preload', attack: ATTACK.ldPreload, label: 'ld.so.preload' },
  'authorized-keys': {
    rule: 'host.persistence.ssh-key',
    attack: ATTACK.sshAuthorizedKeys,
    label: 'authorized_keys',
  },
  hosts: { rule: 'host.hosts-file.pool', attack: ATTACK.dnsResolution, label: 'hosts file' },
  'scheduled-task': {
    rule: 'host.persistence.scheduled-task',
    attack: ATTACK.scheduledTask,
    label: 'scheduled task',
  },
  startup: { rule: 'host.persistence.startup', attack: ATTACK.scheduledTask, label: 'Startup entry' },
};

export interface PersistenceContext {
  /** SSH key blobs that droppers in the scanned files try to plant, with the script path. */
  plantedKeys: Map<string, string>;
  /** File findings of medium or higher, by path (see linkKey): what a persistence line may be running. */
  flagged?: Map<string, Finding>;
  /** Package owning a path (dpkg database under the root). */
  owners?: Record<string, string>;
  /** Comments of SSH keys attackers plant, from public reports (data/intel/host-context.json). */
  keyComments?: { comment: string; family: string; source: { name: string; url: string } }[];
}

/** Windows paths compare without case (NTFS); Unix paths as they are. */
export function linkKey(p: string): string {
  return /^\/(?:users|programdata|windows|program files)\//i.test(p) ? p.toLowerCase() : p;
}

/** File findings worth linking persistence to, by path. */
export function flaggedFiles(findings: readonly Finding[]): Map<string, Finding> {
  const out = new Map<string, Finding>();
  for (const f of findings) {
    const p = f.evidence[0]?.path;
    if (!p || !f.rule.startsWith('host.file.') || SEVERITY_ORDER[f.severity] < SEVERITY_ORDER.medium)
      continue;
    const k = linkKey(p);
    const cur = out.get(k);
    if (!cur || SEVERITY_ORDER[f.severity] > SEVERITY_ORDER[cur.severity]) out.set(k, f);
  }
  return out;
}

/** Flagged files a command line runs or hands a config to. */
function linksOf(
  text: string,
  user: string | undefined,
  flagged: Map<string, Finding> | undefined,
): Finding[] {
  if (!flagged?.size) return [];
  const out: Finding[] = [];
  for (const p of commandPaths(text, user)) {
    const f = flagged.get(linkKey(p));
    if (f && !out.includes(f)) out.push(f);
  }
  return out;
}

/** Severity of persistence for a flagged file: as serious as what it keeps alive, and at least high. */
function linkedSeverity(targets: Finding[]): Severity {
  const top = targets.reduce<Severity>(
    (a, t) => (SEVERITY_ORDER[t.severity] > SEVERITY_ORDER[a] ? t.severity : a),
    'medium',
  );
  return SEVERITY_ORDER[top] >= SEVERITY_ORDER.high ? top : 'high';
}

/** Lines of a config worth classifying as commands, with 1-based numbers. */
function commandLines(c: ConfigFileRecord): { line: number; text: string }[] {
  const lines = c.text.split('\n');
  const out: { line: number; text: string }[] = [];
  if (c.kind === 'scheduled-task') {
    // Task XML: the action is <Command> + <Arguments>; report the Command's line.
    const cmd = /<Command>([^<]*)<\/Command>/i.exec(c.text);
    const args = /<Arguments>([^<]*)<\/Arguments>/i.exec(c.text);
    if (cmd) {
      const line = c.text.slice(0, cmd.index).split('\n').length;
      out.push({ line, text: decodeXml(`${cmd[1]} ${args?.[1] ?? ''}`) });
    }
    return out;
  }
  for (let i = 0; i < lines.length; i++) {
    const t = lines[i]!.trim();
    if (!t || t.startsWith('#') || t.startsWith(';')) continue;
    if (c.kind === 'systemd' && !/^Exec|^Environment/i.test(t)) continue;
    out.push({ line: i + 1, text: t });
  }
  return out;
}

function decodeXml(s: string): string {
  return s
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

function fileEvidence(c: ConfigFileRecord, line?: number, text?: string): Evidence {
  const e: Evidence = { kind: 'file', path: c.path };
  if (line !== undefined) e.line = line;
  if (text !== undefined) e.excerpt = excerpt(text);
  if (c.user) e.user = c.user;
  return e;
}

export function detectConfigs(
  configs: ConfigFileRecord[],
  iv: IntelView,
  ctx: PersistenceContext,
): Finding[] {
  const out: Finding[] = [];
  for (const c of configs) {
    const r = RULE[c.kind];
    if (c.kind === 'ld-preload') {
      out.push(...preload(c, iv, ctx.owners ?? {}));
      continue;
    }
    if (c.kind === 'authorized-keys') {
      out.push(...sshKeys(c, iv, ctx));
      continue;
    }
    if (c.kind === 'hosts') {
      out.push(...hostsFile(c, iv));
      continue;
    }
    // Redis-planted crontab: the RDB header and binary junk around a cron line.
    if (c.kind === 'cron' && c.redisHeader) {
      const cronLine = commandLines(c).find((l) =>
        /^(?:[\d*/,-]+\s+){5}\S|^@\w+\s/.test(l.text.replace(/^[^\d*@]*/, '')),
      );
      out.push(
        makeFinding({
          rule: 'host.persistence.redis-crontab',
          key: [c.path],
          title: `Crontab ${c.path} was written by Redis (${c.redisHeader} dump header)`,
          severity: 'critical',
          confidence: 0.95,
          attack: [ATTACK.cron, ATTACK.exploitPublicApp],
          evidence: [fileEvidence(c, cronLine?.line, cronLine?.text ?? c.text.slice(0, 120))],
          reasons: [
            `file starts with the Redis RDB header '${c.redisHeader}': an unauthenticated Redis was told to save its database as a crontab (CONFIG SET dir/dbfilename)`,
            ...(c.binaryJunk ? ['binary data around the cron line'] : []),
          ],
        }),
      );
    }
    let best: { sig: ReturnType<typeof classifyCommand>; line: number; text: string } | undefined;
    const evs: Evidence[] = [];
    const user = c.user ?? userOfPath(c.path);
    let linked: { line: number; text: string; targets: Finding[] } | undefined;
    const windows = c.kind === 'scheduled-task' || c.kind === 'startup';
    for (const l of commandLines(c)) {
      const sig = classifyCommand(l.text, iv);
      // A task or Startup entry starting a program from a Windows temp folder: what droppers install.
      if (windows && !sig.severity && WIN_TEMP_CMD.test(l.text)) {
        sig.severity = 'medium';
        sig.confidence = Math.max(sig.confidence, 0.55);
        sig.reasons.push('starts a program from a Windows temp folder');
        sig.attack.push(ATTACK.masquerading);
      }
      const targets = linksOf(l.text, user, ctx.flagged);
      if (targets.length && !linked) linked = { line: l.line, text: l.text, targets };
      if (!sig.severity && !targets.length) continue;
      evs.push(fileEvidence(c, l.line, l.text));
      if (sig.severity && (!best || sig.confidence > best.sig.confidence))
        best = { sig, line: l.line, text: l.text };
    }
    if (!best && !linked) continue;
    const sig = best?.sig;
    const pool = sig ? (sig.stratum[0] ?? sig.pools[0]) : undefined;
    const wallet = sig?.wallets[0];
    const targets = linked?.targets ?? [];
    const t0 = targets[0];
    let severity: Severity = sig?.severity ?? 'info';
    if (targets.length && SEVERITY_ORDER[linkedSeverity(targets)] > SEVERITY_ORDER[severity])
      severity = linkedSeverity(targets);
    const runsFlagged = targets.map((t) => t.evidence[0]!.path!);
    out.push(
      makeFinding({
        rule: r.rule,
        key: [c.path, best?.line ?? linked!.line],
        title: `${r.label[0]!.toUpperCase()}${r.label.slice(1)} ${c.path} ${sig?.downloadExec ? 'downloads and runs code' : pool || wallet || sig?.miner ? 'starts a miner' : targets.length ? `runs ${runsFlagged[0]}, which the scan flags` : 'runs a suspicious command'}`,
        severity,
        confidence: Math.max(sig?.confidence ?? 0, targets.length ? Math.min(0.95, t0!.confidence) : 0),
        attack: [r.attack, ...(sig?.attack ?? []), ...targets.flatMap((t) => t.attack)],
        evidence: [
          ...evs.slice(0, 20),
          ...targets
            .slice(0, 3)
            .map((t): Evidence => ({ ...t.evidence[0]!, excerpt: excerpt(`${t.rule}: ${t.title}`) })),
        ],
        reasons: [
          ...new Set([
            ...(sig?.reasons ?? []),
            ...targets.map((t) => `runs ${t.evidence[0]!.path} (${t.severity}: ${t.title})`),
          ]),
        ],
        extra: {
          persistence: `${c.kind}:${c.path}`,
          pool: pool ? poolField(pool) : t0?.pool,
          coin: wallet?.coin ?? (pool ? poolCoins(pool)[0] : t0?.coin),
          wallet: wallet?.address ?? t0?.wallet,
          wallet_valid: wallet ? wallet.valid : t0?.wallet_valid,
          family: sig?.families[0]?.family ?? sig?.miner?.family ?? t0?.family,
          pools: sig ? [...sig.stratum, ...sig.pools].map(poolKey) : undefined,
          wallets: sig ? sig.wallets.map((w) => w.address) : undefined,
          runs: runsFlagged.length ? runsFlagged : undefined,
        },
      }),
    );
  }
  return out;
}

function preload(c: ConfigFileRecord, iv: IntelView, owners: Record<string, string>): Finding[] {
  const libs = commandLines(c).flatMap((l) =>
    l.text
      .split(/[\s:]+/)
      .map((lib) => ({ lib, line: l.line }))
      .filter((x) => x.lib),
  );
  if (!libs.length) return [];
  const odd = libs.filter(
    (x) =>
      TEMP_DIR_RE.test(x.lib) ||
      !/^\/(?:usr\/)?lib(?:32|64|x32)?\//.test(x.lib) ||
      /processhider|hide/i.test(x.lib) ||
      iv.families(x.lib).length,
  );
  // Every library installed by a package (snoopy's exec logger, jemalloc): the admin's choice, recorded
  // as info so the preload stays visible. A rootkit's library is not in the package database.
  if (!odd.length && libs.every((x) => owners[x.lib])) {
    return [
      makeFinding({
        rule: 'host.persistence.ld-preload',
        key: [c.path, libs.map((l) => l.lib).join(',')],
        title: `${c.path} preloads packaged libraries: ${libs.map((l) => `${l.lib} (${owners[l.lib]})`).join(', ')}`,
        severity: 'info',
        confidence: 0.3,
        attack: [ATTACK.ldPreload],
        evidence: libs.map((l) => fileEvidence(c, l.line, l.lib)),
        reasons: libs.map((l) => `${l.lib} is installed by the package ${owners[l.lib]} (dpkg database)`),
      }),
    ];
  }
  return [
    makeFinding({
      rule: 'host.persistence.ld-preload',
      key: [c.path, libs.map((l) => l.lib).join(',')],
      title: `${c.path} preloads ${libs.map((l) => l.lib).join(', ')} into every process`,
      severity: odd.length ? 'high' : 'medium',
      confidence: odd.length ? 0.85 : 0.6,
      attack: [ATTACK.ldPreload, ATTACK.rootkit, ATTACK.hideArtifacts],
      evidence: libs.map((l) => fileEvidence(c, l.line, l.lib)),
      reasons: [
        'a library in ld.so.preload loads into every dynamically linked program; miners use it to hide their processes (libprocesshider)',
        ...odd.map((o) => `${o.lib} is outside the system library directories`),
      ],
      extra: { persistence: `ld-preload:${c.path}` },
    }),
  ];
}

function sshKeys(c: ConfigFileRecord, iv: IntelView, ctx: PersistenceContext): Finding[] {
  const out: Finding[] = [];
  const lines = c.text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const t = lines[i]!;
    SSH_KEY_RE.lastIndex = 0;
    const m = SSH_KEY_RE.exec(t);
    if (!m) continue;
    const blob = m[1]!;
    const comment = (m[2] ?? '').trim();
    const planted = ctx.plantedKeys.get(blob);
    const fam = iv.families(t)[0];
    const known = ctx.keyComments?.find((k) => comment.split(/\s+/).includes(k.comment));
    // Redis told to save its database as authorized_keys leaves the dump's header and records around the
    // key: no admin writes a key file that way.
    const redis = c.redisHeader !== undefined || (c.binaryJunk && /REDIS\d{4}/.test(c.text));
    if (!planted && !fam && !known && !redis) continue;
    out.push(
      makeFinding({
        rule: 'host.persistence.ssh-key',
        key: [c.path, blob.slice(-32)],
        title: `${c.path} holds an attacker's SSH key${comment ? ` ('${comment}')` : ''}`,
        severity: 'high',
        confidence: planted || redis ? 0.9 : 0.8,
        attack: redis ? [ATTACK.sshAuthorizedKeys, ATTACK.exploitPublicApp] : [ATTACK.sshAuthorizedKeys],
        evidence: [
          fileEvidence(c, i + 1, `${t.slice(0, 40)}…${comment}`),
          ...(planted
            ? [{ kind: 'file' as const, path: planted, excerpt: 'script that plants this key' }]
            : []),
        ],
        reasons: [
          ...(planted ? [`the same key is written by the dropper ${planted}`] : []),
          ...(fam ? [`${fam.name} marker '${fam.marker}'`] : []),
          ...(known ? [`key comment '${known.comment}' is ${known.family}'s (${known.source.name})`] : []),
          ...(redis
            ? [
                'the file is a Redis database dump (RDB header around the key): written through an unauthenticated Redis (CONFIG SET dir/dbfilename)',
              ]
            : []),
        ],
        extra: { persistence: `ssh-key:${c.path}`, family: fam?.family ?? known?.family },
      }),
    );
  }
  return out;
}

/**
 * Hosts entries naming pools: pointed at a real address they pin the pool (survives DNS blocking), pointed
 * at 0.0.0.0, loopback or :: they block it, which admins do and droppers do to their rivals' pools. Blocks
 * are one info finding per file; minewatch's own block section is not looked at.
 */
function hostsFile(c: ConfigFileRecord, iv: IntelView): Finding[] {
  const out: Finding[] = [];
  const lines = c.text.split('\n');
  const blocked: { name: string; line: number }[] = [];
  let own = false;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.replace(/\r$/, '');
    if (!own && raw.startsWith(OWN_HOSTS_BEGIN)) {
      own = true;
      continue;
    }
    if (own) {
      if (raw.startsWith(OWN_HOSTS_END)) own = false;
      continue;
    }
    const t = raw.replace(/#.*/, '').trim();
    if (!t) continue;
    const [ip, ...names] = t.split(/\s+/);
    const sink = SINKHOLE_IP.test(ip ?? '');
    for (const n of names) {
      const pool = iv.pool(n);
      const fam = iv.families(n)[0];
      if ((pool || fam) && sink) {
        blocked.push({ name: n, line: i + 1 });
        continue;
      }
      if (pool || fam) {
        out.push(
          makeFinding({
            rule: 'host.hosts-file.pool',
            key: [c.path, n],
            title: `Hosts file points pool name ${n} at ${ip}`,
            severity: 'high',
            confidence: 0.8,
            attack: [ATTACK.resourceHijacking, ATTACK.dnsResolution],
            evidence: [fileEvidence(c, i + 1, lines[i])],
            reasons: [
              pool
                ? `${n} is ${pool.name} (${pool.coins.join(', ') || 'pool'}); a pinned address survives DNS blocking`
                : `${n} is ${fam!.name} infrastructure`,
            ],
            extra: {
              pool: { host: n, ip, ...(pool ? { name: pool.name } : {}) },
              coin: pool?.coins[0],
              persistence: `hosts:${c.path}`,
            },
          }),
        );
      } else if (SECURITY_DOMAIN_RE.test(n) && /^(?:0\.0\.0\.0|127\.\d+\.\d+\.\d+|::1?)$/.test(ip ?? '')) {
        out.push(
          makeFinding({
            rule: 'host.hosts-file.security-block',
            key: [c.path, n],
            title: `Hosts file blackholes security/update domain ${n}`,
            severity: 'medium',
            confidence: 0.7,
            attack: [ATTACK.impairDefenses],
            evidence: [fileEvidence(c, i + 1, lines[i])],
            reasons: [`${n} → ${ip}: the host can no longer reach its security agent or updates`],
          }),
        );
      }
    }
  }
  if (blocked.length)
    out.push(
      makeFinding({
        rule: 'host.hosts-file.pool-blocked',
        key: [c.path],
        title: `Hosts file ${c.path} blocks ${blocked.length} pool name(s) (${blocked
          .slice(0, 3)
          .map((b) => b.name)
          .join(', ')}${blocked.length > 3 ? ', …' : ''})`,
        severity: 'info',
        confidence: 0.9,
        attack: [ATTACK.resourceHijacking],
        evidence: blocked.slice(0, 10).map((b) => fileEvidence(c, b.line, lines[b.line - 1])),
        reasons: [
          "entries pointing a pool at 0.0.0.0, loopback or :: stop the host from reaching it: an admin's block, or a dropper shutting out its rivals",
        ],
        extra: { blocked: blocked.map((b) => b.name) },
      }),
    );
  return out;
}

export function detectTools(tools: DownloadToolRecord[]): Finding[] {
  const out: Finding[] = [];
  for (const t of tools) {
    const renamedElf = t.renamed.filter((r) => r.elf || r.size > 8192);
    if (
      (t.state === 'missing' && renamedElf.length) ||
      t.state === 'script' ||
      (t.state === 'tiny' && renamedElf.length)
    ) {
      const sev = t.state === 'missing' || t.state === 'tiny' ? 'high' : 'medium';
      out.push(
        makeFinding({
          rule: 'host.tamper.download-tool',
          key: [t.tool, t.path],
          title: `${t.tool} was ${t.state === 'missing' ? `moved aside to ${renamedElf.map((r) => r.path).join(', ')}` : `replaced by a ${t.state === 'script' ? 'script' : 'tiny file'}`}`,
          severity: sev,
          confidence: sev === 'high' ? 0.8 : 0.55,
          attack: [ATTACK.hideArtifacts, ATTACK.ingressToolTransfer],
          evidence: [
            {
              kind: 'file',
              path: t.path,
              excerpt: `${t.state}${t.size !== undefined ? `, ${t.size} bytes` : ''}`,
            },
            ...t.renamed.map(
              (r): Evidence => ({
                kind: 'file',
                path: r.path,
                excerpt: `${r.size} bytes${r.elf ? ', ELF' : ''}`,
              }),
            ),
          ],
          reasons: [
            'droppers rename wget/curl so admins and rival droppers cannot download, then call the renamed copy themselves',
          ],
        }),
      );
    }
  }
  return out;
}

/**
 * Persistence a script installs on Windows: `schtasks /create ... /tr CMD`, `reg add ...\CurrentVersion\Run
 * ... /d CMD`, PowerShell's Register-ScheduledTask/New-ScheduledTaskAction and Set-/New-ItemProperty on a Run
 * key. The registry and the task store may be gone or unreadable from an image; the installing line is still
 * in the script. Reported when what it runs is flagged by the scan, is itself mining, or sits in a temp folder,
 * or when the installing script is itself flagged.
 */
const INSTALLERS: { re: RegExp; rule: string; attack: AttackRef; what: string }[] = [
  {
    re: /\bschtasks(?:\.exe)?\s+\/create\b[^\n]*?\/tr\s+(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+))/i,
    rule: 'host.persistence.scheduled-task',
    attack: ATTACK.scheduledTask,
    what: 'creates a scheduled task',
  },
  {
    re: /\bNew-ScheduledTaskAction\b[^\n]*?-Execute\s+(?:"([^"]*)"|'([^']*)'|(\S+))/i,
    rule: 'host.persistence.scheduled-task',
    attack: ATTACK.scheduledTask,
    what: 'creates a scheduled task',
  },
  {
    re: /\breg(?:\.exe)?\s+add\s+"?HK[^"\s]*\\CurrentVersion\\Run(?:Once)?\b[^\n]*?\/d\s+(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+))/i,
    rule: 'host.persistence.run-key',
    attack: ATTACK.runKey,
    what: 'adds a Run key',
  },
  {
    re: /\b(?:New|Set)-ItemProperty\b[^\n]*?CurrentVersion\\Run(?:Once)?\b[^\n]*?-Value\s+(?:"([^"]*)"|'([^']*)'|(\S+))/i,
    rule: 'host.persistence.run-key',
    attack: ATTACK.runKey,
    what: 'adds a Run key',
  },
];

/** A Windows command starting something from a temp folder (%TEMP%, AppData\Local\Temp, Windows\Temp). */
const WIN_TEMP_CMD = /%te?mp%|\$env:te?mp|\\AppData\\Local\\Temp\\|\\Windows\\Temp\\/i;

export function detectInstalledPersistence(
  files: readonly FileRecord[],
  iv: IntelView,
  flagged: Map<string, Finding>,
): Finding[] {
  const out: Finding[] = [];
  for (const f of files) {
    if (f.text === undefined || f.type === 'elf' || f.type === 'pe') continue;
    if (!/schtasks|ScheduledTask|CurrentVersion\\Run/i.test(f.text)) continue;
    const user = userOfPath(f.path);
    const self = flagged.get(linkKey(f.path));
    const lines = f.text.split('\n');
    for (let i = 0; i < lines.length && i < 50_000; i++) {
      const line = lines[i]!;
      for (const inst of INSTALLERS) {
        const m = inst.re.exec(line);
        if (!m) continue;
        const cmd = (m[1] ?? m[2] ?? m[3] ?? '').replace(/\\"/g, '"');
        const sig = classifyCommand(cmd, iv);
        const targets = linksOf(cmd, user, flagged);
        const temp = WIN_TEMP_CMD.test(cmd);
        let severity: Severity | undefined = sig.severity;
        if (targets.length) severity = linkedSeverity(targets);
        else if (temp || (self && SEVERITY_ORDER[self.severity] >= SEVERITY_ORDER.high))
          severity = SEVERITY_ORDER[severity ?? 'info'] >= SEVERITY_ORDER.high ? severity : 'high';
        if (!severity) continue;
        out.push(
          makeFinding({
            rule: inst.rule,
            key: [f.path, i + 1],
            title: `${f.path} ${inst.what} that runs ${excerpt(cmd, 80)}`,
            severity,
            confidence: targets.length ? 0.9 : 0.75,
            attack: [inst.attack, ...sig.attack],
            evidence: [
              { kind: 'file', path: f.path, line: i + 1, excerpt: excerpt(line) },
              ...targets.slice(0, 3).map((t): Evidence => ({ ...t.evidence[0]!, excerpt: excerpt(t.title) })),
            ],
            reasons: [
              `line ${i + 1} ${inst.what}: ${excerpt(cmd, 120)}`,
              ...targets.map((t) => `it runs ${t.evidence[0]!.path} (${t.severity}: ${t.title})`),
              ...(temp ? ['the command starts a program from a temp folder'] : []),
              ...(self ? [`the installing script is flagged: ${self.title}`] : []),
              ...sig.reasons,
            ],
            extra: {
              persistence: `${inst.rule.slice('host.persistence.'.length)}:${f.path}`,
              pool: targets[0]?.pool,
              wallet: targets[0]?.wallet,
              wallet_valid: targets[0]?.wallet_valid,
              coin: targets[0]?.coin,
              family: targets[0]?.family,
              runs: targets.length ? targets.map((t) => t.evidence[0]!.path) : undefined,
            },
          }),
        );
      }
    }
  }
  return out;
}

/**
 * Scripts that start a miner the scan flagged (a container image's /start.sh exec'ing /xmr-stak with its
 * pools.txt): the entrypoint of that infection, reported with it. Only scripts the file rules left alone.
 */
export function detectLaunchers(files: readonly FileRecord[], flagged: Map<string, Finding>): Finding[] {
  const out: Finding[] = [];
  for (const f of files) {
    if (f.type !== 'script' || f.text === undefined || flagged.has(linkKey(f.path))) continue;
    const user = userOfPath(f.path);
    const lines = f.text.split('\n');
    for (let i = 0; i < lines.length && i < 50_000; i++) {
      const t = lines[i]!.trim();
      if (!t || t.startsWith('#')) continue;
      const targets = linksOf(t, user, flagged).filter(
        (x) => x.rule === 'host.file.miner-binary' || x.rule === 'host.file.miner-config',
      );
      if (!targets.length) continue;
      const t0 = targets[0]!;
      out.push(
        makeFinding({
          rule: 'host.file.miner-launcher',
          key: [f.path],
          title: `${f.path} starts the miner ${t0.evidence[0]!.path}`,
          severity: linkedSeverity(targets),
          confidence: 0.85,
          attack: [ATTACK.resourceHijacking, f.lang === 'ps1' ? ATTACK.powershell : ATTACK.unixShell],
          evidence: [
            { kind: 'file', path: f.path, line: i + 1, excerpt: excerpt(t) },
            ...targets.slice(0, 3).map((x): Evidence => ({ ...x.evidence[0]!, excerpt: excerpt(x.title) })),
          ],
          reasons: targets.map(
            (x) => `line ${i + 1} runs ${x.evidence[0]!.path} (${x.severity}: ${x.title})`,
          ),
          extra: {
            infection_type: 'type2-stock-miner-dropper',
            pool: targets.find((x) => x.pool)?.pool,
            wallet: targets.find((x) => x.wallet)?.wallet,
            wallet_valid: targets.find((x) => x.wallet)?.wallet_valid,
            coin: targets.find((x) => x.coin)?.coin,
            runs: targets.map((x) => x.evidence[0]!.path),
          },
        }),
      );
      break;
    }
  }
  return out;
}
