/**
 * Runs every host sensor below one root and returns the evidence. The only module here that sequences I/O;
 * the rest are readers of one kind of place each.
 */
import { detectOs, readConfigs, readDownloadTools, readHostname } from './configs.ts';
import { DEFAULT_LINUX_PATHS, DEFAULT_WINDOWS_PATHS, type FileScanResult, scanFiles } from './files.ts';
import { RootFs } from './fsroot.ts';
import { readConnections } from './net.ts';
import { accountCpu, readProcesses, sampleCpu } from './proc.ts';
import type { ContentMatcher, CpuAccount, HostEvidence, ProcessRecord } from './types.ts';

export interface ScanOptions {
  /** Directory standing for the host's '/' (default '/'). */
  root: string;
  /** Paths relative to root to content-scan; default: the drop zones for the detected OS. */
  paths?: string[];
  /** false (--no-files): skip content scanning of files; processes, sockets and persistence still run. */
  files?: boolean;
  /** Bytes read from one file at most (default 64 MiB). */
  maxFileBytes?: number;
  onProgress?(p: { files: number; bytes: number; path: string }): void;
  /** Scanning the running host (default: root === '/'): enables the two-sample CPU accounting. */
  live?: boolean;
  /** Root-relative directories not walked at all. */
  exclude?: string[];
  /** Walk package/toolchain trees (node_modules, site-packages, ~/.pyenv/versions ...) too; see PRUNED_DIRS. */
  deep?: boolean;
}

export interface CollectOptions extends ScanOptions {
  matcher: ContentMatcher;
  interestingName?: (base: string) => boolean;
  renamedTools: Record<string, string[]>;
  /** Interval between the two CPU samples on a live host (default 1000 ms). */
  cpuSampleMs?: number;
}

export const DEFAULT_MAX_FILE_BYTES = 64 * 1024 * 1024;

/** Where the distribution's own programs live: a running program there is read only if it is missing. */
const SYSTEM_DIR = /^\/(?:usr\/(?:s?bin|libexec|lib(?:32|64)?|share)|s?bin|lib(?:32|64)?|snap)\//;

/**
 * Running programs the file walk will not read: deleted after start (a dropper's habit), run from memory
 * (memfd), absent from this root at their path (another mount namespace: a container's), or outside both
 * the walked paths and the system directories. scanFiles reads them through /proc/PID/exe.
 */
function unreachedImages(
  rfs: RootFs,
  processes: readonly ProcessRecord[],
  paths: readonly string[],
): Array<{ pid: number; exe: string }> {
  const walked = paths.map((p) => `/${p.replace(/^\/+|\/+$/g, '')}/`);
  const out: Array<{ pid: number; exe: string }> = [];
  for (const p of processes) {
    const exe = p.exe;
    if (!exe) continue;
    const away =
      p.exeDeleted ||
      exe.startsWith('/memfd:') ||
      !rfs.lstat(exe)?.isFile() ||
      (!SYSTEM_DIR.test(exe) && !walked.some((w) => !w.includes('*') && exe.startsWith(w)));
    if (away) out.push({ pid: p.pid, exe });
  }
  return out;
}

export async function collectHost(opts: CollectOptions): Promise<HostEvidence> {
  const t0 = performance.now();
  const rfs = new RootFs(opts.root || '/');
  const live = opts.live ?? rfs.root === '/';
  const os = detectOs(rfs);
  // The first CPU sample is taken before the (slow) file scan so the interval costs no extra time.
  const cpu0 = live ? sampleCpu(rfs) : undefined;
  const processes = readProcesses(rfs);
  const connections = readConnections(rfs, processes);
  const configs = readConfigs(rfs);
  const tools = os === 'windows' ? [] : readDownloadTools(rfs, opts.renamedTools);
  let files: HostEvidence['files'] = [];
  let fileCount = 0;
  let bytes = 0;
  let walk: Pick<FileScanResult, 'pruned' | 'prunedDirs' | 'compressed' | 'excluded'> = {
    pruned: 0,
    excluded: 0,
    prunedDirs: [],
    compressed: 0,
  };
  if (opts.files !== false) {
    const paths = opts.paths ?? (os === 'windows' ? DEFAULT_WINDOWS_PATHS : DEFAULT_LINUX_PATHS);
    const fsOpts: Parameters<typeof scanFiles>[1] = {
      paths,
      maxFileBytes: opts.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES,
      matcher: opts.matcher,
      deep: opts.deep ?? false,
      ...(opts.exclude ? { exclude: opts.exclude } : {}),
      processExes: processes.flatMap((p) => (p.exe && !p.exeDeleted ? [p.exe] : [])),
      ...(live ? { processImages: unreachedImages(rfs, processes, paths) } : {}),
    };
    if (opts.interestingName) fsOpts.interestingName = opts.interestingName;
    if (opts.onProgress) fsOpts.onProgress = opts.onProgress;
    const r = scanFiles(rfs, fsOpts);
    files = r.files;
    fileCount = r.count;
    bytes = r.bytes;
    walk = { pruned: r.pruned, prunedDirs: r.prunedDirs, compressed: r.compressed, excluded: r.excluded };
  }
  let cpu: CpuAccount | undefined;
  if (cpu0) {
    const wait = Math.max(0, (opts.cpuSampleMs ?? 1000) - (Date.now() - cpu0.atMs));
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const cpu1 = sampleCpu(rfs);
    if (cpu1) cpu = accountCpu(cpu0, cpu1);
  }
  const ev: HostEvidence = {
    root: rfs.root,
    live,
    os,
    processes,
    connections,
    configs,
    tools,
    files,
    warnings: rfs.warnings,
    warningCount: rfs.warningCount,
    stats: {
      processes: processes.length,
      files: fileCount,
      bytes: bytes + rfs.bytesRead,
      ms: Math.round(performance.now() - t0),
      deep: opts.deep ?? false,
      ...walk,
    },
  };
  const hostname = readHostname(rfs);
  if (hostname) ev.hostname = hostname;
  if (cpu) ev.cpu = cpu;
  return ev;
}
