/**
 * Stopping miner processes: SIGSTOP the process and every descendant (parents first, so none can fork or
 * respawn a child while the rest is handled), then after persistence and files are gone SIGKILL them all.
 *
 * Only the live system is ever signalled: `liveProcesses` reads this machine's /proc and refuses to be used
 * for any other root. A pid is re-identified before each signal (its exe or command line must still be
 * what the scan saw), so a pid reused by an innocent process is left alone.
 */
import fs from 'node:fs';
import type { ProcessIdentity } from './types.ts';

export interface ProcInfo {
  pid: number;
  ppid?: number;
  exe?: string;
  cmdline: string;
  comm?: string;
  /** Stopped (T) or zombie (Z) as /proc/PID/stat says. */
  state?: string;
}

export interface ProcessControl {
  /** Whether this control acts on real processes of this machine. */
  readonly real: boolean;
  info(pid: number): ProcInfo | undefined;
  /** Direct children of pid. */
  children(pid: number): number[];
  signal(pid: number, sig: 'SIGSTOP' | 'SIGCONT' | 'SIGKILL'): void;
  /** Gone or a zombie (already dead, waiting for its parent). */
  gone(pid: number): boolean;
}

function readText(p: string): string | undefined {
  try {
    return fs.readFileSync(p, 'latin1');
  } catch {
    return undefined;
  }
}

/** State and ppid from /proc/PID/stat: the comm field may hold spaces and ')' so parse from the last ')'. */
export function parseStat(stat: string): { state: string; ppid: number } | undefined {
  const i = stat.lastIndexOf(')');
  if (i < 0) return undefined;
  const f = stat.slice(i + 2).split(' ');
  const ppid = Number(f[1]);
  return f[0] && Number.isInteger(ppid) ? { state: f[0], ppid } : undefined;
}

/** Processes of a /proc directory (this machine's, or a fake one in tests). */
export function procfsControl(
  procDir: string,
  real: boolean,
  send?: ProcessControl['signal'],
): ProcessControl {
  const info = (pid: number): ProcInfo | undefined => {
    const stat = readText(`${procDir}/${pid}/stat`);
    if (stat === undefined) return undefined;
    const s = parseStat(stat);
    const cmd = readText(`${procDir}/${pid}/cmdline`) ?? '';
    const p: ProcInfo = { pid, cmdline: cmd.replace(/\0+$/, '').split('\0').join(' ') };
    if (s) {
      p.ppid = s.ppid;
      p.state = s.state;
    }
    try {
      p.exe = fs.readlinkSync(`${procDir}/${pid}/exe`).replace(/ \(deleted\)$/, '');
    } catch {
      // Kernel thread, gone, or not ours to read.
    }
    const comm = readText(`${procDir}/${pid}/comm`);
    if (comm) p.comm = comm.trim();
    return p;
  };
  return {
    real,
    info,
    children(pid) {
      const out: number[] = [];
      let names: string[];
      try {
        names = fs.readdirSync(procDir);
      } catch {
        return out;
      }
      for (const n of names) {
        if (!/^\d+$/.test(n)) continue;
        const st = readText(`${procDir}/${n}/stat`);
        const s = st ? parseStat(st) : undefined;
        if (s?.ppid === pid) out.push(Number(n));
      }
      return out;
    },
    signal(pid, sig) {
      if (send) return send(pid, sig);
      try {
        process.kill(pid, sig);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
      }
    },
    gone(pid) {
      const i = info(pid);
      return !i || i.state === 'Z' || i.state === 'X';
    },
  };
}

/** This machine's processes. */
export function liveProcesses(): ProcessControl {
  return procfsControl('/proc', true);
}

/** Pids that must never be signalled whatever a scan says. */
function protectedPid(pid: number): boolean {
  return pid <= 1 || pid === process.pid || pid === process.ppid;
}

/** The process is still the one the scan saw (exe or command line), not a reused pid. */
export function sameProcess(now: ProcInfo, want: ProcessIdentity | undefined): boolean {
  if (!want) return false;
  if (!now.exe && !now.cmdline) return false; // kernel thread
  if (want.exe && now.exe === want.exe.replace(/ \(deleted\)$/, '')) return true;
  const squash = (s: string) =>
    s
      .replace(/[\u0000-\u001f\u007f]+/g, ' ')
      .replace(/\s+/g, ' ')
      .trim();
  if (want.cmdline) {
    const w = squash(want.cmdline).replace(/…$/, '');
    const n = squash(now.cmdline);
    if (w && (n === w || (want.cmdline.endsWith('…') && n.startsWith(w)))) return true;
  }
  return false;
}

/** The process and all its descendants, parents before children. */
export function processTree(ctl: ProcessControl, pid: number, limit = 4096): number[] {
  const out: number[] = [];
  const seen = new Set<number>();
  const queue = [pid];
  while (queue.length && out.length < limit) {
    const p = queue.shift()!;
    if (seen.has(p)) continue;
    seen.add(p);
    out.push(p);
    queue.push(...ctl.children(p));
  }
  return out;
}

/**
 * SIGSTOP pid and its descendants. A child forked between listing and stopping is caught by listing again
 * until the tree is stable (a stopped parent cannot fork). Returns every pid stopped.
 */
export function stopTree(ctl: ProcessControl, pid: number, want: ProcessIdentity | undefined): number[] {
  if (protectedPid(pid)) throw new Error(`pid ${pid} is protected (init, minewatch itself or its parent)`);
  const now = ctl.info(pid);
  if (!now || ctl.gone(pid)) return [];
  if (!sameProcess(now, want))
    throw new Error(
      `pid ${pid} is now '${now.cmdline || now.comm || '?'}' (${now.exe ?? 'no exe'}), not the process scanned: left alone`,
    );
  const stopped = new Set<number>();
  for (let round = 0; round < 8; round++) {
    const tree = processTree(ctl, pid).filter((p) => !protectedPid(p));
    const fresh = tree.filter((p) => !stopped.has(p));
    if (!fresh.length) break;
    for (const p of fresh) {
      ctl.signal(p, 'SIGSTOP');
      stopped.add(p);
    }
  }
  return [...stopped];
}

/** SIGKILL the given pids (and any descendant that appeared), then wait until they are gone. */
export async function killTree(
  ctl: ProcessControl,
  pid: number,
  known: number[],
  want: ProcessIdentity | undefined,
  waitMs = 3000,
): Promise<number[]> {
  if (protectedPid(pid)) throw new Error(`pid ${pid} is protected (init, minewatch itself or its parent)`);
  const now = ctl.info(pid);
  const root = now && !ctl.gone(pid) ? pid : undefined;
  if (root !== undefined && !sameProcess(now!, want))
    throw new Error(`pid ${pid} is no longer the process scanned: left alone`);
  const all = new Set(known);
  if (root !== undefined) for (const p of processTree(ctl, root)) all.add(p);
  const targets = [...all].filter((p) => !protectedPid(p) && !ctl.gone(p));
  for (const p of targets) ctl.signal(p, 'SIGKILL');
  const t0 = Date.now();
  while (targets.some((p) => !ctl.gone(p)) && Date.now() - t0 < waitMs)
    await new Promise((r) => setTimeout(r, 25));
  const left = targets.filter((p) => !ctl.gone(p));
  if (left.length) throw new Error(`still running after SIGKILL: ${left.join(', ')}`);
  return targets;
}
