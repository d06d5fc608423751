/**
 * Process sensor: reads proc/PID/* below the scanned root. Works on the live /proc and on fixture trees where
 * `exe` and `fd/N` may be symlinks (never followed: only readlink) or regular files holding the link text.
 */
import type { RootFs } from './fsroot.ts';
import type { CpuAccount, ProcessRecord } from './types.ts';

/** USER_HZ is 100 on every Linux ABI that matters here; /proc reports times in these ticks. */
export const CLK_TCK = 100;
/** Upper bound on processes read, so a hostile or broken proc/ cannot make the scan unbounded. */
const MAX_PROCESSES = 65536;
/** fd links read per process (a miner holds a handful; a database may hold thousands). */
const MAX_FDS = 4096;

export function listPids(rfs: RootFs): number[] {
  const ents = rfs.readdir('/proc') ?? [];
  const pids: number[] = [];
  for (const e of ents) {
    if (!/^\d+$/.test(e.name)) continue;
    pids.push(Number(e.name));
    if (pids.length >= MAX_PROCESSES) break;
  }
  return pids.sort((a, b) => a - b);
}

/** Parse proc/PID/stat; comm is in parentheses and may itself contain spaces and ')'. */
export function parseStat(text: string):
  | {
      comm: string;
      ppid: number;
      utime: number;
      stime: number;
      cutime: number;
      cstime: number;
      starttime: number;
    }
  | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const rest = text
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  // rest[0] is field 3 (state); utime is field 14, stime 15, cutime 16, cstime 17, starttime 22.
  const f = (n: number) => Number(rest[n - 3]);
  const r = {
    comm: text.slice(open + 1, close),
    ppid: f(4),
    utime: f(14),
    stime: f(15),
    cutime: f(16) || 0,
    cstime: f(17) || 0,
    starttime: f(22),
  };
  return Number.isFinite(r.utime) ? r : undefined;
}

export function parseStatus(text: string): { name?: string; ppid?: number; uid?: number } {
  const out: { name?: string; ppid?: number; uid?: number } = {};
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    if (i < 0) continue;
    const k = line.slice(0, i);
    const v = line.slice(i + 1).trim();
    if (k === 'Name') out.name = v;
    else if (k === 'PPid') out.ppid = Number(v);
    else if (k === 'Uid') out.uid = Number(v.split(/\s+/)[0]);
  }
  return out;
}

const CONTAINER_RE =
  /(?:docker|cri-containerd|containerd|crio|libpod)[-/:]([0-9a-f]{64})|kubepods[^\n]*?[/-]([0-9a-f]{64})(?:\.scope)?\s*$/m;

/** Container id from proc/PID/cgroup (v1 or v2 lines) or undefined for host processes. */
export function containerIdFromCgroup(text: string): string | undefined {
  const m = CONTAINER_RE.exec(text);
  return m ? (m[1] ?? m[2]) : undefined;
}

/** Link text of proc/PID/<name>: a real symlink (readlink, not followed) or, in fixtures, a file holding it. */
function linkText(rfs: RootFs, rel: string): string | undefined {
  const t = rfs.readlink(rel);
  if (t !== undefined) return t;
  const st = rfs.lstat(rel);
  if (!st?.isFile()) return undefined;
  return rfs.readSmall(rel, 4096)?.trim();
}

export function readUptime(rfs: RootFs): number | undefined {
  const t = rfs.readSmall('/proc/uptime', 256);
  const n = t ? Number(t.split(/\s+/)[0]) : Number.NaN;
  return Number.isFinite(n) ? n : undefined;
}

export function readProcess(rfs: RootFs, pid: number, uptime?: number): ProcessRecord | undefined {
  const dir = `/proc/${pid}`;
  const rawCmd = rfs.readSmall(`${dir}/cmdline`, 128 * 1024);
  const statText = rfs.readSmall(`${dir}/stat`, 4096);
  const statusText = rfs.readSmall(`${dir}/status`, 16 * 1024);
  if (rawCmd === undefined && statText === undefined && statusText === undefined) return undefined; // exited
  let argv = (rawCmd ?? '').split('\0');
  while (argv.length > 0 && argv[argv.length - 1] === '') argv.pop();
  // Some processes rewrite their argv as one space-separated string (setproctitle); keep it as is.
  if (argv.length === 1 && rawCmd && !rawCmd.includes('\0') && rawCmd.includes(' '))
    argv = rawCmd.trim().split(/\s+/);
  const comm = rfs.readSmall(`${dir}/comm`, 256)?.replace(/\n$/, '');
  let exe = linkText(rfs, `${dir}/exe`);
  let exeDeleted = false;
  if (exe?.endsWith(' (deleted)')) {
    exeDeleted = true;
    exe = exe.slice(0, -' (deleted)'.length);
  }
  const stat = statText ? parseStat(statText) : undefined;
  const status = statusText ? parseStatus(statusText) : {};
  const cgroup = rfs.readSmall(`${dir}/cgroup`, 16 * 1024);
  const sockets: number[] = [];
  const fds = rfs.readdir(`${dir}/fd`) ?? [];
  for (let i = 0; i < fds.length && i < MAX_FDS; i++) {
    const t = linkText(rfs, `${dir}/fd/${fds[i]!.name}`);
    const m = t ? /^socket:\[(\d+)\]$/.exec(t) : null;
    if (m) sockets.push(Number(m[1]));
  }
  const rec: ProcessRecord = {
    pid,
    argv,
    cmdline: argv.join(' '),
    exeDeleted,
    sockets,
    kernelThread: argv.length === 0 && exe === undefined,
  };
  const name = status.name ?? comm ?? stat?.comm;
  if (name !== undefined) rec.name = name;
  if (comm !== undefined) rec.comm = comm;
  else if (stat) rec.comm = stat.comm;
  if (exe !== undefined && exe !== '') rec.exe = exe;
  const ppid = status.ppid ?? stat?.ppid;
  if (ppid !== undefined && Number.isFinite(ppid)) rec.ppid = ppid;
  if (status.uid !== undefined && Number.isFinite(status.uid)) rec.uid = status.uid;
  if (stat) {
    rec.utime = stat.utime;
    rec.stime = stat.stime;
    rec.starttime = stat.starttime;
    if (uptime !== undefined) {
      const alive = uptime - stat.starttime / CLK_TCK;
      if (alive > 0) rec.cpuPercent = round1((((stat.utime + stat.stime) / CLK_TCK) * 100) / alive);
    }
  }
  const cid = cgroup ? containerIdFromCgroup(cgroup) : undefined;
  if (cid) rec.containerId = cid;
  return rec;
}

export function readProcesses(rfs: RootFs): ProcessRecord[] {
  const uptime = readUptime(rfs);
  const out: ProcessRecord[] = [];
  for (const pid of listPids(rfs)) {
    const p = readProcess(rfs, pid, uptime);
    if (p) out.push(p);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// CPU accounting: the kernel's busy time that no visible process explains (a hidden miner).

export interface CpuSample {
  atMs: number;
  /** user+nice+system ticks summed over all CPUs (proc/stat 'cpu' line). */
  busy: number;
  cores: number;
  /** utime+stime per visible pid. */
  perPid: Map<number, number>;
  /** cutime+cstime per pid: CPU of children it has reaped, so short-lived commands are not 'hidden'. */
  children?: Map<number, number>;
  /** starttime per pid, to tell a reused pid from the same process. */
  starts?: Map<number, number>;
}

export function parseProcStat(text: string): { busy: number; cores: number } | undefined {
  let busy: number | undefined;
  let cores = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('cpu ')) {
      const f = line.trim().split(/\s+/).map(Number);
      // user nice system idle iowait irq softirq steal guest guest_nice: guest is already inside user.
      busy = (f[1] ?? 0) + (f[2] ?? 0) + (f[3] ?? 0);
    } else if (/^cpu\d+ /.test(line)) cores++;
  }
  return busy === undefined ? undefined : { busy, cores: Math.max(1, cores) };
}

export function sampleCpu(rfs: RootFs): CpuSample | undefined {
  const st = rfs.readSmall('/proc/stat', 256 * 1024);
  const k = st ? parseProcStat(st) : undefined;
  if (!k) return undefined;
  const perPid = new Map<number, number>();
  const children = new Map<number, number>();
  const starts = new Map<number, number>();
  for (const pid of listPids(rfs)) {
    const s = rfs.readSmall(`/proc/${pid}/stat`, 4096);
    const p = s ? parseStat(s) : undefined;
    if (!p) continue;
    perPid.set(pid, p.utime + p.stime);
    children.set(pid, p.cutime + p.cstime);
    starts.set(pid, p.starttime);
  }
  return { atMs: Date.now(), busy: k.busy, cores: k.cores, perPid, children, starts };
}

/**
 * Pure: compare two samples. A process seen in both contributes its own and its reaped children's CPU
 * (cutime/cstime: every command a shell or build ran and waited for between the samples); one that started
 * between them contributes all it used. Only processes that both started and exited unreaped by a visible
 * parent between the samples are missed, so callers still use a threshold, not zero.
 */
export function accountCpu(a: CpuSample, b: CpuSample): CpuAccount {
  const seconds = Math.max(0.001, (b.atMs - a.atMs) / 1000);
  const kernelBusyTicks = Math.max(0, b.busy - a.busy);
  let processTicks = 0;
  const top: { pid: number; percent: number }[] = [];
  for (const [pid, t2] of b.perPid) {
    const c2 = b.children?.get(pid) ?? 0;
    const same = a.perPid.has(pid) && a.starts?.get(pid) === b.starts?.get(pid);
    const t1 = same ? a.perPid.get(pid)! : 0;
    const c1 = same ? (a.children?.get(pid) ?? 0) : 0;
    const d = Math.max(0, t2 - t1) + Math.max(0, c2 - c1);
    processTicks += d;
    if (d > 0) top.push({ pid, percent: round1((d / CLK_TCK / seconds) * 100) });
  }
  top.sort((x, y) => y.percent - x.percent);
  const unexplained = Math.max(0, kernelBusyTicks - processTicks);
  return {
    seconds: round1(seconds),
    cores: b.cores,
    kernelBusyTicks,
    processTicks,
    unexplainedPercent: round1((unexplained / CLK_TCK / seconds) * 100),
    top: top.slice(0, 5),
  };
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}
