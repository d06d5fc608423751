/**
 * Behaviour patterns of droppers and persistence lines: HOW attackers act (download-and-run, kill rivals,
 * remove cloud agents, blind the admin), which changes slowly, unlike pool and miner lists, which live in
 * intel. Each pattern names the ATT&CK technique it evidences.
 */
import { ATTACK, type AttackRef } from '../../findings/index.ts';

export interface Behaviour {
  id: string;
  what: string;
  re: RegExp;
  attack: AttackRef;
}

/** Download tools of every platform, including the names droppers give wget/curl after moving them. */
export const DOWNLOAD_RE =
  /(?:^|[\s;|&(`"'$/])(?:curl|wget|wget1|wge|cur|cd1|wd1|xget|tftp|lwp-download|fetch)\s+[^\n]*?(?:https?|ftp):\/\/|(?:curl|wget)\s+[^\n]*?\d{1,3}(?:\.\d{1,3}){3}|bitsadmin[^\n]*\/transfer|certutil[^\n]*-urlcache|Invoke-WebRequest|\biwr\s|Net\.WebClient|DownloadString|DownloadFile|Start-BitsTransfer|MSXML2\.(?:Server)?XMLHTTP|WinHttp\.WinHttpRequest|Microsoft\.XMLHTTP|urllib(?:2|\.request)?\.(?:urlopen|urlretrieve)|requests\.get\(|\/dev\/tcp\/\d/i;

/** Running what was fetched: pipe to a shell, eval, chmod+exec, IEX, WScript.Shell.Run. A bare `exec(` call
 * counts (Python, PHP, Perl), a method `.exec(` does not: JavaScript's RegExp.prototype.exec is everywhere. */
export const EXEC_RE =
  /\|\s*(?:sudo\s+)?(?:ba|da|z)?sh\b|\|\s*python[23]?\b|(?:ba)?sh\s+-c\s+["']?\$\(|chmod\s+(?:\+x|[0-7]*7[0-7]*)\b|\bnohup\b|\bIEX\b|Invoke-Expression|WScript\.Shell|Shell\.Application|Start-Process|(?<![.\w$])exec\s*\(|\bchild_process\b|\bexecSync\s*\(|os\.system\(|subprocess\./i;

export const BASE64_EXEC_RE =
  /base64\s+(?:-d|--decode)[^\n]*\|\s*(?:ba)?sh|FromBase64String|-enc(?:odedcommand)?\s+[A-Za-z0-9+/=]{20,}/i;

/**
 * A program started from a temporary or hidden directory: the path must stand where a command starts (line
 * start, after a cron schedule, ';', '|', '&&', nohup/sh/exec, ExecStart=), so `rm -rf /tmp/cache` is not one.
 * Hidden tool directories users keep on purpose (.local, .nvm, .cargo ...) are not counted.
 */
export const TEMP_PATH_RE =
  /(?:^|[;&|(`]\s*|\b(?:nohup|exec|sh|bash|setsid|python[23]?|perl|start|cmd\s+\/c)\s+|Exec(?:Start|StartPre|StartPost|Reload)=[-@+!:]*|^(?:[\d*/,-]+\s+){5}(?:[a-z_][\w-]*\s+)?)((?:\/(?:tmp|var\/tmp|dev\/shm|run\/shm)\/|\/(?:[^\s;|&"'/]+\/)*\.(?!local\/|nvm\/|cargo\/|pyenv\/|rbenv\/|sdkman\/|npm\/|config\/|cache\/pip|venv\/|virtualenvs\/|tox\/)[A-Za-z0-9_][^\s;|&"'/]*\/)[^\s;|&"'`)]*)/im;

export const URL_RE = /\b(?:https?|ftp):\/\/[^\s"'<>|;`)\\]+/gi;
/** A URL on a bare public IP; loopback and 0.0.0.0 are the host talking to itself (health checks). */
export const IP_URL_RE = /\b(?:https?|ftp):\/\/(?!(?:127|0)\.)\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?/i;
/** URLs on the host itself: `curl http://127.0.0.1:8080/healthz` in cron fetches nothing from anywhere. */
export const LOOPBACK_URL_RE =
  /\b(?:https?|ftp):\/\/(?:localhost|127(?:\.\d{1,3}){3}|0\.0\.0\.0|\[::1?\])(?::\d+)?(?:\/[^\s"'|;&)<>]*)?/gi;
export const STRATUM_RE = /stratum[12]?\+(?:tcp|ssl|tls|udp):\/\/[^\s"'<>\\|;,]+/gi;
export const SSH_KEY_RE =
  /\b(?:ssh-(?:rsa|dss|ed25519)|ecdsa-sha2-nistp\d+)\s+([A-Za-z0-9+/]{40,}={0,3})(?:\s+([^\n"']*))?/g;

export const BEHAVIOURS: Behaviour[] = [
  {
    id: 'competitor-kill',
    what: 'kills other miners or their connections',
    re: /(?:pkill|killall)\s+(?:-9\s+)?(?:-f\s+)?\S+|kill\s+-9\s+\S|netstat\s+-[a-z]*p[^\n]*grep[^\n]*(?:kill|awk)|ps\s+(?:-?aux|-ef)[^\n]*grep[^\n]*(?:kill|awk[^\n]*xargs)|xargs\s+(?:-[a-zI]+\s+\S*\s*)?kill|crontab\s+-r\b|Stop-Process|taskkill/i,
    attack: ATTACK.impairDefenses,
  },
  {
    id: 'security-agent-removal',
    // Cloud vendors' host agents that report miners: Alibaba Cloud (aegis/AliYunDun, aliyun-service,
    // CloudMonitor), Tencent Cloud (YunJing, barad_agent, sgagent, qcloud), Huawei HostGuard, Baidu BCM.
    what: 'removes or stops cloud security/monitoring agents',
    re: /aegis|aliyun-?service|AliYunDun|AliHids|aliyun\.com\/update|cloudmonitor|YunJing|barad_agent|sgagent|\/usr\/local\/qcloud|qcloud\S*uninstall|hostguard|bcm-agent|uninstall\.sh|stargate|quartz_uninstall|apparmor\s+stop|systemctl\s+(?:stop|disable)\s+(?:aegis|aliyun|cloudmonitor|YDService|falcon-sensor|osqueryd|auditd)|YDService|YDLive/i,
    attack: ATTACK.impairDefenses,
  },
  {
    id: 'firewall-tamper',
    what: 'turns off the firewall or SELinux',
    re: /iptables\s+-(?:F|X)\b|ufw\s+disable|setenforce\s+0|SELINUX=disabled|systemctl\s+(?:stop|disable)\s+firewalld|netsh\s+advfirewall\s+set\s+\S+\s+state\s+off/i,
    attack: ATTACK.disableFirewall,
  },
  {
    id: 'log-tamper',
    what: 'erases history or logs',
    re: /history\s+-c|unset\s+HISTFILE|HISTFILE=\/dev\/null|HISTSIZE=0|(?:echo\s*(?:""|'')?\s*)?>\s*\/var\/log\/\S+|rm\s+-[rf]+\s+\/var\/log|wevtutil\s+cl|Clear-EventLog/i,
    attack: ATTACK.indicatorRemoval,
  },
  {
    id: 'file-lock',
    what: 'makes files immutable (chattr) so they cannot be cleaned',
    re: /chattr\s+[+-][ia]+|\b(?:zzh|zzhh|tntrecht|chatttr)\b/i,
    attack: ATTACK.fileModification,
  },
  {
    id: 'host-tuning',
    what: 'tunes the host for mining (hugepages, MSR, NMI watchdog)',
    re: /nr_hugepages|modprobe\s+msr|wrmsr|\/proc\/sys\/kernel\/nmi_watchdog|kernel\.nmi_watchdog/i,
    attack: ATTACK.resourceHijacking,
  },
  {
    id: 'persistence-install',
    what: 'installs persistence (cron, systemd, rc, ssh key, scheduled task, Run key)',
    re: /crontab\s+(?!-r\b)|\/etc\/cron|\/var\/spool\/cron|systemctl\s+enable|\/etc\/systemd\/system|rc\.local|\/etc\/init\.d|authorized_keys|\.bashrc|\/etc\/profile|ld\.so\.preload|schtasks\s+\/create|Register-ScheduledTask|CurrentVersion\\Run|Start Menu\\Programs\\Startup/i,
    attack: ATTACK.cron,
  },
  {
    id: 'container-escape',
    what: 'drives the Docker API or privileged containers',
    re: /docker\s+run\b[^\n]*--privileged|docker\.sock|\/v1\.\d+\/containers\/create|-H\s+tcp:\/\/[^\s]+:2375|--net(?:work)?=host[^\n]*-v\s+\/:/i,
    attack: ATTACK.exploitPublicApp,
  },
];

/** Kernel-thread and daemon names miners hide behind. A user-space process using one needs a reason. */
export const KERNEL_THREAD_NAME =
  /^\[?(?:kworker|kthreadd|ksoftirqd|kswapd|migration|rcu_\w+|watchdog|kdevtmpfs|khugepaged|kblockd|kauditd|jbd2|ext4-rsv|scsi_eh)/i;
export const DAEMON_NAMES = new Set([
  'sshd',
  'systemd',
  'systemd-journald',
  'crond',
  'cron',
  'dbus-daemon',
  'rsyslogd',
  'nginx',
  'httpd',
  'apache2',
  'mysqld',
  'postgres',
  'redis-server',
  'java',
  'python',
  'node',
  'ntpd',
  'chronyd',
  'init',
  'bash',
  'sh',
  'svchost.exe',
  'explorer.exe',
]);
/** Security/update domains a miner blinds by pointing them at localhost in the hosts file. */
export const SECURITY_DOMAIN_RE =
  /aegis\.aliyun|aliyun\.com$|aliyuncs\.com$|cloudmonitor|tencentyun\.com$|qcloud\.com$|yunjing|update\.\S*(?:microsoft|windowsupdate)\.com|windowsupdate\.com$|virustotal\.com$|sophos|kaspersky|eset\.com$|mcafee|symantec|crowdstrike|sentinelone|bitdefender/i;

/**
 * Directories an executable or script has no business running from: the temp dirs, and hidden directories
 * elsewhere except the ones version managers and toolchains keep binaries in on purpose (~/.pyenv, ~/.cargo,
 * ~/.rustup, ~/.nvm, ~/.local/bin ...); those hold every interpreter a developer box runs. Windows' temp
 * folders (C:\Windows\Temp, a user's AppData\Local\Temp; NTFS ignores case) count as temp too.
 */
export const TEMP_DIR_RE =
  /^\/(?:tmp|var\/tmp|dev\/shm|run\/shm|windows\/temp|users\/[^/]+\/appdata\/local\/temp)(?:\/|$)|\/\.(?!(?:local|nvm|cargo|rustup|pyenv|rbenv|goenv|nodenv|jenv|sdkman|asdf|volta|bun|deno|npm|vscode-server|cursor-server|conda|m2|gradle|git|venv|virtualenvs|tox|nox)\/)[^/]+\//i;

/** An executable mapped from a memfd ('/memfd:NAME (deleted)'): fileless, but also how runc, container
 * runtimes and sandboxes re-exec themselves from a sealed copy, so it is evidence only beside other signs. */
export const MEMFD_EXE_RE = /^\/memfd:/;

/**
 * Names droppers give wget/curl after moving them aside (TeamTNT: wd1/cd1; 8220 and others: wget1/cur).
 * Plain 'cd'/'wd' are left out: RHEL ships /usr/bin/cd as a POSIX wrapper.
 */
export const RENAMED_TOOLS: Record<string, string[]> = {
  wget: ['wget1', 'wget2', 'wge', 'wd1', 'xget', '.wget'],
  curl: ['curl1', 'curl2', 'cur', 'cd1', 'xcurl', '.curl'],
};
