/** Persistence rules over config-file records: cron, systemd, rc/init, profiles, preload, keys, hosts, tasks. */
import { ATTACK, type AttackRef, type Evidence, type Finding } from '../../findings/index.ts';
import type { ConfigFileRecord, ConfigKind, DownloadToolRecord } from '../../sensors/host/types.ts';
import { classifyCommand, excerpt, makeFinding, poolCoins, poolField, poolKey } from './common.ts';
import type { IntelView } from './intel-view.ts';
import { SECURITY_DOMAIN_RE, SSH_KEY_RE, TEMP_DIR_RE } from './patterns.ts';

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
      out.push(...preload(c, iv));
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
    for (const l of commandLines(c)) {
      const sig = classifyCommand(l.text, iv);
      if (!sig.severity) continue;
      evs.push(fileEvidence(c, l.line, l.text));
      if (!best || sig.confidence > best.sig.confidence) best = { sig, line: l.line, text: l.text };
    }
    if (!best) continue;
    const { sig } = best;
    const pool = sig.stratum[0] ?? sig.pools[0];
    const wallet = sig.wallets[0];
    out.push(
      makeFinding({
        rule: r.rule,
        key: [c.path, best.line],
        title: `${r.label[0]!.toUpperCase()}${r.label.slice(1)} ${c.path} ${sig.downloadExec ? 'downloads and runs code' : pool || wallet || sig.miner ? 'starts a miner' : 'runs a suspicious command'}`,
        severity: sig.severity!,
        confidence: sig.confidence,
        attack: [r.attack, ...sig.attack],
        evidence: evs.slice(0, 20),
        reasons: [...new Set(sig.reasons)],
        extra: {
          persistence: `${c.kind}:${c.path}`,
          pool: pool ? poolField(pool) : undefined,
          coin: wallet?.coin ?? (pool ? poolCoins(pool)[0] : undefined),
          wallet: wallet?.address,
          wallet_valid: wallet ? wallet.valid : undefined,
          family: sig.families[0]?.family ?? sig.miner?.family,
          pools: [...sig.stratum, ...sig.pools].map(poolKey),
          wallets: sig.wallets.map((w) => w.address),
        },
      }),
    );
  }
  return out;
}

function preload(c: ConfigFileRecord, iv: IntelView): Finding[] {
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
    if (!planted && !fam) continue;
    out.push(
      makeFinding({
        rule: 'host.persistence.ssh-key',
        key: [c.path, blob.slice(-32)],
        title: `${c.path} holds an attacker's SSH key${comment ? ` ('${comment}')` : ''}`,
        severity: 'high',
        confidence: planted ? 0.9 : 0.8,
        attack: [ATTACK.sshAuthorizedKeys],
        evidence: [
          fileEvidence(c, i + 1, `${t.slice(0, 40)}…${comment}`),
          ...(planted
            ? [{ kind: 'file' as const, path: planted, excerpt: 'script that plants this key' }]
            : []),
        ],
        reasons: [
          ...(planted ? [`the same key is written by the dropper ${planted}`] : []),
          ...(fam ? [`${fam.name} marker '${fam.marker}'`] : []),
        ],
        extra: { persistence: `ssh-key:${c.path}`, family: fam?.family },
      }),
    );
  }
  return out;
}

function hostsFile(c: ConfigFileRecord, iv: IntelView): Finding[] {
  const out: Finding[] = [];
  const lines = c.text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const t = lines[i]!.replace(/#.*/, '').trim();
    if (!t) continue;
    const [ip, ...names] = t.split(/\s+/);
    for (const n of names) {
      const pool = iv.pool(n);
      const fam = iv.families(n)[0];
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
