/**
 * Findings of a script read by analyseScript: one dropper finding naming the campaign's own pools,
 * wallets, accounts, workers, C2 and persistence, with the rivals it removes in a `rivals` field of their
 * own (shown, never counted: the verdict reads `pools`/`wallets`, not `rivals`), plus one finding per kind
 * of defence evasion and rival removal, each pointing at its lines.
 */
import { ATTACK, type AttackRef, type Evidence, type Finding } from '../../../findings/index.ts';
import type { FileRecord } from '../../../sensors/host/types.ts';
import { excerpt, makeFinding, poolCoins, poolField } from '../common.ts';
import type { IntelView } from '../intel-view.ts';
import { SSH_KEY_RE, TEMP_DIR_RE } from '../patterns.ts';
import { analyseScript, type RoleNote, type ScriptAnalysis } from './analyse.ts';
import type { ScriptLang } from './model.ts';
import { base } from './roles.ts';

function fileEv(f: FileRecord, extra: Partial<Evidence> = {}): Evidence {
  return { kind: 'file', path: f.path, size: f.size, mtime: new Date(f.mtimeMs).toISOString(), ...extra };
}

const GENERIC_FAMILIES = new Set(['coinminer-elf', 'generic-miner']);

const LANG_ATTACK: Record<ScriptLang, AttackRef> = {
  sh: ATTACK.unixShell,
  py: ATTACK.unixShell,
  ps1: ATTACK.powershell,
  vbs: ATTACK.visualBasic,
  bat: ATTACK.unixShell,
};

/** The rival section of a finding, or undefined when the script removes no one. */
export function rivalsOf(a: ScriptAnalysis): Record<string, string[]> | undefined {
  const r = a.rivals;
  if (!r.lines.length) return undefined;
  const out: Record<string, string[]> = {
    pools: [...r.pools.keys()].slice(0, 100),
    wallets: [...r.wallets.keys()].slice(0, 100),
    names: [...r.names].slice(0, 100),
    families: [...r.families.keys()],
  };
  for (const k of Object.keys(out)) if (!out[k]!.length) delete out[k];
  return out;
}

export function readScriptFile(
  f: FileRecord,
  lang: ScriptLang,
  iv: IntelView,
  plantedKeys: Map<string, string>,
): Finding[] {
  const text = f.text!;
  const a = analyseScript(text, lang, iv);
  SSH_KEY_RE.lastIndex = 0;
  for (const m of text.matchAll(SSH_KEY_RE)) plantedKeys.set(m[1]!, f.path);
  const own = a.own;
  const by = (kind: RoleNote['role'], how?: string) =>
    a.roles.filter((r) => r.role === kind && (how === undefined || r.how === how));
  const minerNamed = [...own.names].some((n) => {
    const h = iv.minerProcess(base(n)) ?? iv.minerFile(base(n));
    return h !== undefined && h.weight !== 'weak';
  });
  const miningSeen =
    own.pools.size + own.wallets.size + own.accounts.size + own.families.size > 0 || minerNamed;
  const rivalMining =
    a.rivals.pools.size + a.rivals.wallets.size + a.rivals.families.size > 0 ||
    [...a.rivals.names].some((n) => {
      const h = iv.minerProcess(base(n)) ?? iv.minerFile(base(n));
      return (h !== undefined && h.weight !== 'weak') || iv.families(n).length > 0;
    });
  const evasive = new Set(by('evasion').map((r) => r.how));
  const fetchRun = a.downloads.length > 0 && (a.executes || a.layers.length > 0);
  const windows = lang === 'vbs' || lang === 'ps1' || lang === 'bat';
  // Removing other miners is what droppers do, and also what responders' cleanup scripts do: it marks a
  // campaign only beside installing persistence, evading defences or living in a temp/hidden directory.
  const inTemp = TEMP_DIR_RE.test(f.path);
  const campaignLike =
    (rivalMining && (own.persistence.length > 0 || evasive.size > 0 || inTemp)) ||
    (inTemp && (evasive.size >= 2 || (evasive.size >= 1 && own.persistence.length > 0)));
  const started = own.miners.some((m) => m.pool !== undefined || m.user !== undefined);
  const isDropper =
    ((fetchRun || (windows && a.downloads.length > 0)) && (miningSeen || campaignLike)) ||
    started ||
    (miningSeen &&
      own.pools.size + own.wallets.size + own.accounts.size > 0 &&
      (a.executes || a.downloads.length > 0 || minerNamed || own.families.size > 0));
  const out: Finding[] = [];
  const rivals = rivalsOf(a);
  if (!isDropper) {
    if (own.pools.size && own.wallets.size)
      out.push(
        makeFinding({
          rule: 'host.file.mining-reference',
          key: [f.path],
          title: `${f.path} refers to mining (${[...own.pools.keys()][0]})`,
          severity: 'medium',
          confidence: 0.6,
          attack: [ATTACK.resourceHijacking],
          evidence: [fileEv(f)],
          reasons: ['pool and wallet named in a script that does not itself fetch or start anything'],
          extra: { pool: poolField([...own.pools.values()][0]!), wallet: [...own.wallets.keys()][0] },
        }),
      );
    return out;
  }
  const p = [...own.pools.values()][0];
  const w = [...own.wallets.values()][0];
  // A named campaign before the generic buckets (intel's 'coinminer-elf', 'generic-miner' IOC lists).
  const fam = [...own.families.entries()].sort(
    (x, y) => Number(GENERIC_FAMILIES.has(x[0])) - Number(GENERIC_FAMILIES.has(y[0])),
  )[0];
  const attack: AttackRef[] = [ATTACK.resourceHijacking, LANG_ATTACK[lang]];
  if (a.downloads.length) attack.push(ATTACK.ingressToolTransfer);
  if (a.layers.some((l) => !l.via.startsWith('written'))) attack.push(ATTACK.obfuscatedFiles);
  if (rivals) attack.push(ATTACK.impairDefenses);
  for (const x of own.persistence)
    attack.push(
      x.how === 'systemd'
        ? ATTACK.systemdService
        : x.how === 'ssh-key'
          ? ATTACK.sshAuthorizedKeys
          : x.how === 'ld-preload'
            ? ATTACK.ldPreload
            : x.how === 'profile'
              ? ATTACK.shellProfile
              : x.how === 'rc-local' || x.how === 'init.d'
                ? ATTACK.rcScripts
                : x.how === 'scheduled-task'
                  ? ATTACK.scheduledTask
                  : x.how === 'wmi'
                    ? ATTACK.wmiSubscription
                    : ATTACK.cron,
    );
  const ownLines = a.roles.filter(
    (r) => r.role === 'miner' || r.role === 'download' || r.role === 'persistence' || r.role === 'config',
  );
  const ev = dedupe([
    ...ownLines.slice(0, 8).map((r) => fileEv(f, { line: r.line, excerpt: excerpt(r.text), role: r.role })),
    ...a.roles
      .filter((r) => r.role === 'rival')
      .slice(0, 3)
      .map((r) => fileEv(f, { line: r.line, excerpt: excerpt(r.text), role: 'rival', whose: 'rival' })),
  ]);
  if (!ev.length) ev.push(fileEv(f));
  const accounts = [...own.accounts];
  const workers = [...own.workers];
  const c2 = {
    urls: [...own.urls].slice(0, 20),
    onion: own.c2.filter((x) => x.how === 'onion').map((x) => x.value),
    paste: own.c2.filter((x) => x.how === 'paste').map((x) => x.value),
    deaddrops: [...new Set(a.deaddrops)],
  };
  out.push(
    makeFinding({
      rule: 'host.file.dropper-script',
      key: [f.path],
      title: `${lang} script ${f.path} ${miningSeen ? 'installs a miner' : 'behaves like a miner dropper'}${fam ? ` (${iv.familyName(fam[0])})` : ''}`,
      severity: miningSeen ? 'critical' : 'high',
      confidence: miningSeen ? 0.95 : 0.8,
      attack,
      evidence: ev.slice(0, 12),
      reasons: [
        ...(a.downloads.length
          ? [
              `downloads with ${a.downloads.length} command(s)${c2.urls.length ? `: ${c2.urls.slice(0, 3).join(', ')}` : ''}`,
            ]
          : []),
        ...(a.executes ? ['runs what it fetched'] : []),
        ...a.layers
          .slice(0, 3)
          .map((l) => `reads a hidden layer (${l.via}, line ${l.line}, ${l.bytes} bytes)`),
        ...[...own.pools.keys()].slice(0, 3).map((k) => `pool ${k}`),
        ...[...own.wallets.values()].slice(0, 3).map((x) => `${x.coin} wallet ${x.address.slice(0, 12)}…`),
        ...accounts.slice(0, 3).map((x) => `pool account ${x}`),
        ...(workers.length ? [`worker ${workers.slice(0, 3).join(', ')}`] : []),
        ...[...own.families.entries()].map(([id, m]) => `${iv.familyName(id)} marker '${m}'`),
        ...own.persistence
          .slice(0, 4)
          .map((x) => `installs ${x.how} persistence (${x.target}, line ${x.line})`),
        ...(rivals
          ? [
              `removes rivals on ${a.rivals.lines.length} line(s)${rivals.pools ? `: ${rivals.pools.slice(0, 3).join(', ')}` : ''} (not counted as this campaign's)`,
            ]
          : []),
        ...[...evasive].map((x) => `evades defences: ${x}`),
        ...[...new Set(by('spread').map((r) => r.how))].map((x) => `spreads: ${x}`),
        ...(by('revshell').length ? ['opens a reverse shell'] : []),
        ...c2.deaddrops
          .slice(0, 2)
          .map((x) => `looks up C2 through block-explorer address ${x} (not a mining wallet)`),
      ],
      extra: {
        infection_type: 'type2-stock-miner-dropper',
        pool: p ? poolField(p) : undefined,
        coin: w?.coin ?? (p ? poolCoins(p)[0] : undefined),
        wallet: w?.address,
        wallet_valid: w ? w.valid : undefined,
        worker: workers[0],
        algo: [...own.algos][0],
        pools: [...own.pools.keys()],
        wallets: [...own.wallets.keys()],
        // Campaign keys the fleet store reads (src/store/row.ts): account and dropper_url, beside wallet.
        account: accounts[0],
        dropper_url: c2.urls[0],
        accounts: accounts.length ? accounts : undefined,
        workers: workers.length ? workers : undefined,
        urls: c2.urls,
        c2: c2.onion.length || c2.paste.length || c2.deaddrops.length ? c2 : undefined,
        family: fam?.[0],
        persistence_installed: own.persistence.length
          ? own.persistence.slice(0, 20).map((x) => `${x.how}:${x.target}`)
          : undefined,
        rivals,
        script: {
          lang,
          parsed_by: a.parsedBy,
          statements: a.statements,
          layers: a.layers.length,
          roles: countRoles(a.roles),
        },
        behaviours: behaviourIds(a),
      },
    }),
  );
  for (const [id, rule, title, pick, technique] of [
    [
      'competitor-kill',
      'host.file.competitor-kill',
      'kills competing miners',
      (r: RoleNote) => r.role === 'rival',
      ATTACK.impairDefenses,
    ],
    [
      'security-agent-removal',
      'host.file.security-agent-removal',
      'removes cloud security agents',
      (r: RoleNote) => r.role === 'evasion' && (r.how === 'cloud-agent' || r.how === 'antivirus'),
      ATTACK.impairDefenses,
    ],
    [
      'firewall-tamper',
      'host.file.defense-evasion',
      'disables the firewall/SELinux',
      (r: RoleNote) => r.role === 'evasion' && (r.how === 'firewall' || r.how === 'selinux'),
      ATTACK.disableFirewall,
    ],
    [
      'log-tamper',
      'host.file.log-tamper',
      'erases logs or history',
      (r: RoleNote) =>
        r.role === 'evasion' && (r.how === 'history' || r.how === 'logs' || r.how === 'timestomp'),
      ATTACK.indicatorRemoval,
    ],
  ] as const) {
    const hits = a.roles.filter(pick);
    if (!hits.length) continue;
    out.push(
      makeFinding({
        rule,
        key: [f.path],
        title: `${f.path} ${title}`,
        severity: 'high',
        confidence: 0.85,
        attack: [technique],
        evidence: dedupe(hits.slice(0, 8).map((l) => fileEv(f, { line: l.line, excerpt: excerpt(l.text) }))),
        reasons: [
          id === 'competitor-kill'
            ? 'removes other miners (their pools and wallets are listed as rivals)'
            : title,
        ],
        extra: id === 'competitor-kill' ? { rivals, whose: 'rival' } : undefined,
      }),
    );
  }
  return out;
}

function countRoles(roles: RoleNote[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of roles) out[r.role] = (out[r.role] ?? 0) + 1;
  return out;
}

/** The behaviour ids the line rules used, so consumers of `behaviours` see the same vocabulary. */
function behaviourIds(a: ScriptAnalysis): string[] {
  const ids = new Set<string>();
  for (const r of a.roles) {
    if (r.role === 'rival') ids.add('competitor-kill');
    else if (r.role === 'persistence') ids.add('persistence-install');
    else if (r.role === 'spread' && r.how === 'docker-api') ids.add('container-escape');
    else if (r.role === 'evasion')
      ids.add(
        r.how === 'cloud-agent' || r.how === 'antivirus'
          ? 'security-agent-removal'
          : r.how === 'firewall' || r.how === 'selinux'
            ? 'firewall-tamper'
            : r.how === 'chattr'
              ? 'file-lock'
              : 'log-tamper',
      );
  }
  return [...ids];
}

function dedupe(ev: Evidence[]): Evidence[] {
  const seen = new Set<string>();
  return ev.filter((e) => {
    const k = `${e.path}:${e.line}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
