/**
 * Evidence records the host sensors return. Plain data: detectors (src/detect/host) are pure functions of
 * these, so a record can be built by hand in a test or replayed from a saved scan.
 * All paths are root-relative in the '/etc/crontab' form, i.e. as the scanned host sees them.
 */
import type { ScanWarning } from './fsroot.ts';

export type { ScanWarning };

export interface ProcessRecord {
  pid: number;
  ppid?: number;
  uid?: number;
  /** `status` Name (15 chars at most, may differ from argv[0]). */
  name?: string;
  comm?: string;
  argv: string[];
  /** argv joined with spaces, as `ps` shows it. */
  cmdline: string;
  /** Target of proc/PID/exe without a ' (deleted)' suffix; undefined for kernel threads or when hidden. */
  exe?: string;
  exeDeleted: boolean;
  /** CPU ticks (USER_HZ) in user and kernel mode, and start time in ticks after boot (proc/PID/stat). */
  utime?: number;
  stime?: number;
  starttime?: number;
  /** Average CPU use over the process lifetime, in % of one core (needs proc/uptime). */
  cpuPercent?: number;
  /** Container id from proc/PID/cgroup (docker, containerd, cri-o, kubepods). */
  containerId?: string;
  /** Socket inodes from proc/PID/fd/* links 'socket:[N]'. */
  sockets: number[];
  /** Process has no cmdline and no exe: a kernel thread (its name is shown as [name] by ps). */
  kernelThread: boolean;
}

export interface ConnectionRecord {
  proto: 'tcp' | 'tcp6' | 'udp' | 'udp6';
  localIp: string;
  localPort: number;
  remoteIp: string;
  remotePort: number;
  /** TCP state name (ESTABLISHED, LISTEN, SYN_SENT...); for UDP '07' means unconnected. */
  state: string;
  uid: number;
  inode: number;
  /** Owning process, from the socket inode. */
  pid?: number;
  /** 1-based line in the proc/net file, for evidence. */
  line: number;
  source: string;
}

export type ConfigKind =
  | 'cron'
  | 'systemd'
  | 'rc-local'
  | 'init-script'
  | 'shell-profile'
  | 'ld-preload'
  | 'authorized-keys'
  | 'hosts'
  | 'scheduled-task'
  | 'startup';

/** A persistence or configuration file read whole (bounded) so detectors can look at every line. */
export interface ConfigFileRecord {
  kind: ConfigKind;
  path: string;
  /** Decoded text; binary junk is replaced so lines stay line-numbered. */
  text: string;
  size: number;
  mtimeMs: number;
  truncated: boolean;
  /** The file is not clean text (NUL bytes, invalid UTF-8): e.g. a crontab written by Redis. */
  binaryJunk: boolean;
  /** First bytes are a Redis RDB header ('REDIS0006'...): a crontab planted through unauthenticated Redis. */
  redisHeader?: string;
  /** User the file belongs to when the path says (var/spool/cron/USER, home/USER/...). */
  user?: string;
  encoding?: 'utf8' | 'utf16le';
}

/** State of a download tool (wget/curl) and its renamed copies. */
export interface DownloadToolRecord {
  tool: string;
  /** Where the tool should be ('/usr/bin/wget') and what is there. */
  path: string;
  state: 'present' | 'missing' | 'script' | 'tiny';
  size?: number;
  /** Files that look like the tool moved aside ('/usr/bin/wget1', '/usr/bin/wd1'), with their size. */
  renamed: { path: string; size: number; elf: boolean }[];
}

export type HitKind =
  | 'stratum'
  | 'wallet'
  | 'domain'
  | 'ip-port'
  | 'miner'
  | 'config-key'
  | 'upx'
  | 'family'
  | 'algo';

/** One match of the content scanner in a file (byte offset) or line (1-based). */
export interface ContentHit {
  kind: HitKind;
  value: string;
  offset: number;
  line?: number;
}

export type FileType = 'elf' | 'pe' | 'script' | 'json' | 'xml' | 'lnk' | 'text' | 'data';

export interface FileRecord {
  path: string;
  size: number;
  mtimeMs: number;
  mode: number;
  type: FileType;
  /** Script language guessed from shebang or extension. */
  lang?: 'sh' | 'vbs' | 'ps1' | 'bat' | 'py' | 'js';
  packed?: 'upx';
  hits: ContentHit[];
  /** Text kept for scripts and configs that had hits or look like scripts (bounded). */
  text?: string;
  /** Only the first maxFileBytes were read. */
  truncated: boolean;
}

export interface CpuAccount {
  /** Interval the two samples span, in seconds. */
  seconds: number;
  cores: number;
  /** Busy ticks the kernel counted (user+nice+system) over the interval, all CPUs. */
  kernelBusyTicks: number;
  /** Sum of utime+stime deltas of every visible process. */
  processTicks: number;
  /** kernelBusy − processes, in % of one core. */
  unexplainedPercent: number;
  /** Top visible consumers during the interval (pid, % of one core). */
  top: { pid: number; percent: number }[];
}

export interface HostEvidence {
  root: string;
  live: boolean;
  hostname?: string;
  os: 'linux' | 'windows' | 'unknown';
  processes: ProcessRecord[];
  connections: ConnectionRecord[];
  configs: ConfigFileRecord[];
  tools: DownloadToolRecord[];
  files: FileRecord[];
  cpu?: CpuAccount;
  /**
   * Package that installed a path, from the package manager's database below the root (dpkg), for the paths
   * the detectors may ask about: preloaded libraries, files persistence runs, files the walk kept.
   */
  owners: Record<string, string>;
  /** Files read outside the walked paths because persistence, a miner's -c or a process names them. */
  linked: string[];
  warnings: ScanWarning[];
  warningCount: number;
  stats: ScanStats;
}

export interface ScanStats {
  processes: number;
  files: number;
  bytes: number;
  ms: number;
  /** Package/toolchain trees were walked too (--deep). */
  deep: boolean;
  /** Package/toolchain directories whose entries were listed but not descended into, and the first few. */
  pruned: number;
  prunedDirs: string[];
  /** Compressed or media files typed by their first bytes but not content-matched. */
  compressed: number;
  /** Directories not walked because they were excluded (minewatch's own install on a live scan, --exclude). */
  excluded: number;
}

/**
 * What the file sensor runs over file contents. Built from intel by src/detect/host/content.ts; the sensor
 * only streams bytes through it, so the patterns stay data and the reading stays bounded.
 */
export interface ContentMatcher {
  /** Find hits in raw bytes that start at file offset `base` (values are their latin1 text); push onto `out`. */
  scanBytes(bytes: Buffer, base: number, out: ContentHit[]): void;
  /** The same over decoded text (UTF-16 files), offsets in characters. */
  scan(text: string, base: number, out: ContentHit[]): void;
  /** A script or config worth keeping in full for the detectors even without hits (downloads, kills...). */
  keepText(text: string): boolean;
}
