/**
 * Runs every host sensor below one root and returns the evidence. The only module here that sequences I/O;
 * the rest are readers of one kind of place each.
 */
import { detectOs, readConfigs, readDownloadTools, readHostname } from './configs.ts';
import { DEFAULT_LINUX_PATHS, DEFAULT_WINDOWS_PATHS, type FileScanResult, scanFiles } from './files.ts';
import { RootFs } from './fsroot.ts';
import { readConnections } from './net.ts';
import { dpkgOwners } from './packages.ts';
import { accountCpu, readProcesses, sampleCpu } from './proc.ts';
import { commandPaths, userOfPath } from './refs.ts';
import type { ConfigFileRecord, ContentMatcher, CpuAccount, HostEvidence, ProcessRecord } from './types.ts';

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

/** Files read because something names them, at most; top-level files of the root, at most. */
const MAX_LINKED = 512;
const MAX_TOP_LEVEL = 256;
/** Persistence kinds whose lines are commands (hosts, keys and preload lists name no program to run). */
const COMMAND_KINDS = new Set([
  'cron',
  'systemd',
  'rc-local',
  'init-script',
  'shell-profile',
  'scheduled-task',
  'startup',
]);
/** A miner's config flag: the file after it is read too (xmrig -c, --config=, xmr-stak -C/--cpu). */
const CONFIG_FLAG = /(?:^|\s)(?:-c|-C|--config|--cpu|--pools?)(?:=|\s+)["']?([^\s"';|&]+)/g;

/**
 * What persistence and running processes name: the programs they run, the scripts they hand to a shell,
 * the configs passed with -c. Read even when no walked path holds them, so a unit running /usr/sbin/x
 * with a config under /usr is judged with both. Files the package manager owns are not worth the read
 * unless a process or a config flag names them; that keeps a unit directory of hundreds of packaged
 * services from reading every daemon binary.
 */
function linkedFiles(
  rfs: RootFs,
  configs: readonly ConfigFileRecord[],
  processes: readonly ProcessRecord[],
): { paths: string[]; owners: Map<string, string> } {
  const named = new Map<string, boolean>();
  const note = (p: string, strong: boolean) => {
    if (named.size >= MAX_LINKED * 4 && !named.has(p)) return;
    named.set(p, (named.get(p) ?? false) || strong);
  };
  for (const c of configs) {
    if (!COMMAND_KINDS.has(c.kind)) continue;
    const user = c.user ?? userOfPath(c.path);
    for (const line of c.text.split('\n')) {
      const t = line.trim();
      if (!t || t.startsWith('#')) continue;
      for (const p of commandPaths(t, user)) note(p, false);
      for (const m of t.matchAll(CONFIG_FLAG)) for (const p of commandPaths(` ${m[1]}`, user)) note(p, true);
    }
  }
  // A process's own executable is read by the walk or through /proc/PID/exe (unreachedImages); what it is
  // handed is read here, packaged or not when it is a config passed with -c.
  for (const p of processes) {
    if (p.kernelThread) continue;
    const args = p.argv.slice(1).join(' ');
    for (const x of commandPaths(args)) note(x, false);
    for (const m of args.matchAll(CONFIG_FLAG)) for (const x of commandPaths(` ${m[1]}`)) note(x, true);
  }
  const existing = [...named.keys()].filter((p) => rfs.resolve(p).ok);
  const owners = dpkgOwners(rfs, existing);
  const paths = existing
    .filter((p) => named.get(p) || !owners.has(p))
    .filter((p) => {
      const r = rfs.resolve(p);
      return r.ok && r.st.isFile();
    })
    .slice(0, MAX_LINKED);
  return { paths, owners };
}

/** Swap files and disk images sit at the top of real roots; they hold memory and other disks, not droppers. */
const TOP_LEVEL_SKIP = /^(?:swapfile\d*|swap\.img|\.swap)$|\.(?:img|iso|qcow2|vmdk|vdi|raw)$/i;
const MAX_TOP_LEVEL_BYTES = 128 * 1024 * 1024;

/** Regular files at the top of the root: a container image keeps its entrypoint and configs there. */
function topLevelFiles(rfs: RootFs): string[] {
  const out: string[] = [];
  for (const e of rfs.readdir('/') ?? []) {
    if (!e.isFile() || TOP_LEVEL_SKIP.test(e.name)) continue;
    const st = rfs.lstat(`/${e.name}`);
    if (!st || st.size > MAX_TOP_LEVEL_BYTES) continue;
    out.push(`/${e.name}`);
    if (out.length >= MAX_TOP_LEVEL) break;
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
  const linked = linkedFiles(rfs, configs, processes);
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
    const paths =
      opts.paths ??
      (os === 'windows'
        ? DEFAULT_WINDOWS_PATHS
        : os === 'unknown'
          ? [...DEFAULT_LINUX_PATHS, ...DEFAULT_WINDOWS_PATHS]
          : DEFAULT_LINUX_PATHS);
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
    // Explicit --paths mean exactly those; the defaults add what persistence names and the root's top level.
    if (!opts.paths) fsOpts.extraFiles = [...linked.paths, ...topLevelFiles(rfs)];
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
  // Who installed the files the detectors may excuse: preloaded libraries and the kept records.
  const asked = new Set<string>(files.map((f) => f.path));
  for (const c of configs)
    if (c.kind === 'ld-preload') for (const l of c.text.split(/[\s:]+/)) if (l.startsWith('/')) asked.add(l);
  for (const p of linked.owners.keys()) asked.delete(p);
  const owners: Record<string, string> = Object.fromEntries(linked.owners);
  for (const [p, pkg] of dpkgOwners(rfs, asked)) owners[p] = pkg;
  const ev: HostEvidence = {
    root: rfs.root,
    live,
    os,
    processes,
    connections,
    configs,
    tools,
    files,
    owners,
    linked: linked.paths,
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
