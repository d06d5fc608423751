/**
 * File sensor: walks the drop zones below the root (links not followed, special files never opened) and
 * streams each regular file's bytes through the content matcher in bounded chunks with an overlap, so a
 * token cut by a chunk border is still found and memory stays at one chunk buffer whatever the file size.
 */
import fs from 'node:fs';
import path from 'node:path';
import { joinRel, type RootFs } from './fsroot.ts';
import { decodeText, looksUtf16le } from './text.ts';
import type { ContentHit, ContentMatcher, FileRecord, FileType } from './types.ts';

export const DEFAULT_LINUX_PATHS = [
  'tmp',
  'var/tmp',
  'dev/shm',
  'root',
  'home',
  'etc',
  'opt',
  'usr/local',
  'var/spool',
];
export const DEFAULT_WINDOWS_PATHS = [
  'ProgramData',
  'Users/*/AppData',
  // Where users' downloads land and where droppers put copies in plain sight (C:\Users\Public).
  'Users/*/Downloads',
  'Users/*/Desktop',
  'Users/Public',
  'Windows/Temp',
  'Windows/System32/Tasks',
  // The WMI repository: event subscriptions (WannaMine, LemonDuck) keep their command lines in OBJECTS.DATA.
  'Windows/System32/wbem/Repository',
];

/** Read size per step; 4 MiB amortises syscalls and the latin1 decode without holding much memory. */
const CHUNK = 4 * 1024 * 1024;
/** First read of a file: enough to type it and to recognise an archive or media file by its magic. */
const PROBE = 64 * 1024;
/** Longer than any token the matcher looks for (a 106-char wallet, a stratum URL with user and pass). */
const OVERLAP = 1024;
const MAX_HITS_PER_FILE = 256;
/** Scripts/configs kept whole for the detectors: each at most this, all together at most MAX_KEPT_TOTAL. */
const MAX_KEPT_TEXT = 1024 * 1024;
const MAX_KEPT_TOTAL = 64 * 1024 * 1024;
const MAX_DEPTH = 40;
/**
 * Directories where an executable has no business (drop zones): temp dirs and hidden directories, except
 * the ones toolchains keep binaries in (same list as the detectors' TEMP_DIR_RE), so a --deep walk of
 * ~/.pyenv or ~/.rustup does not keep a record per interpreter.
 */
const TEMP_DIR =
  /^\/(?:tmp|var\/tmp|dev\/shm|run\/shm|Windows\/Temp|Users\/[^/]+\/AppData\/Local\/Temp)(?:\/|$)|\/\.(?!(?:local|nvm|cargo|rustup|pyenv|rbenv|goenv|nodenv|jenv|sdkman|asdf|volta|bun|deno|npm|vscode-server|cursor-server|conda|m2|gradle|git|venv|virtualenvs|tox|nox)\/)[^/]+\//i;

/**
 * Package, toolchain and cache trees: hundreds of thousands of files written by package managers, each
 * verified by them, none a place a dropper writes to. The walk reads such a directory's own entries (so a
 * miner dropped there under a miner's name is still met) but does not descend; running processes whose
 * executable lives inside one are still scanned, and --deep walks everything. Matched as the last
 * components of a directory's path. Never applied inside the temp drop zones.
 */
export const PRUNED_DIRS: readonly string[] = [
  'node_modules',
  'site-packages',
  'dist-packages',
  '__pycache__',
  '.git/objects',
  '.pyenv/versions',
  '.rbenv/versions',
  '.nvm/versions',
  '.rustup/toolchains',
  '.cargo/registry',
  '.cargo/git',
  '.npm/_cacache',
  '.cache/pip',
  '.cache/go-build',
  '.cache/yarn',
  '.m2/repository',
  '.gradle/caches',
  '.conda/pkgs',
  'go/pkg/mod',
];
const PRUNED_RE = new RegExp(
  `(?:^|/)(?:${PRUNED_DIRS.map((d) => d.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})$`,
);
/** Drop zones are walked whole whatever lives there: they are where droppers write. */
const NEVER_PRUNE = /^\/(?:tmp|var\/tmp|dev\/shm|run\/shm)(?:\/|$)/;
/** Pruned directories listed by path in the stats (all are counted). */
const MAX_PRUNED_LISTED = 20;

/**
 * Magic numbers of archives and entropy-coded formats (zip and its kin: wheels, jars, docx; gzip, bzip2,
 * xz, zstd, 7z, rar, PNG, JPEG, GIF, WebP, ISO media, Ogg, FLAC, MP3). A pool, wallet or stratum URL can
 * appear in compressed bytes only by coincidence, and what an archive stores uncompressed cannot run until
 * it is unpacked, where the scan meets it; so only the first 64 KiB are read (to know what the file is) and
 * nothing is matched. The name still counts (a 'xmrig.tar.gz' is still reported).
 */
export function compressedMagic(b: Uint8Array): boolean {
  if (b.length < 12) return false;
  const s = Buffer.from(b.buffer, b.byteOffset, 12).toString('latin1');
  return (
    s.startsWith('PK\x03\x04') ||
    s.startsWith('\x1f\x8b') ||
    /^BZh[1-9]1AY&SY/.test(s) ||
    s.startsWith('\xfd7zXZ\0') ||
    s.startsWith('\x28\xb5\x2f\xfd') ||
    s.startsWith('7z\xbc\xaf\x27\x1c') ||
    s.startsWith('Rar!\x1a\x07') ||
    s.startsWith('\x89PNG\r\n\x1a\n') ||
    s.startsWith('\xff\xd8\xff') ||
    s.startsWith('GIF8') ||
    (s.startsWith('RIFF') && s.slice(8, 12) === 'WEBP') ||
    s.slice(4, 8) === 'ftyp' ||
    s.startsWith('OggS') ||
    s.startsWith('fLaC') ||
    s.startsWith('ID3')
  );
}

export interface FileScanOptions {
  paths: string[];
  maxFileBytes: number;
  matcher: ContentMatcher;
  /** Walk package/toolchain trees too (default: prune them, see PRUNED_DIRS). */
  deep?: boolean;
  /** Root-relative directories not walked at all (minewatch's own install; --exclude). */
  exclude?: readonly string[];
  /**
   * Executables of running processes (root-relative): those inside a pruned directory are scanned anyway,
   * so pruning never hides a running miner's binary.
   */
  processExes?: string[];
  /**
   * Running programs whose file the walk cannot reach (deleted after start, run from memory, in another
   * mount namespace such as a container's, or outside the walked paths and the system directories): read
   * through /proc/PID/exe, which the kernel keeps pointing at the running image (live host only).
   */
  processImages?: Array<{ pid: number; exe: string }>;
  /** Basenames worth a record even without content hits (miner names from intel). */
  interestingName?: (base: string) => boolean;
  /**
   * Single files read whether or not a walked path holds them (what persistence or a process names, the
   * files at the top of a container image); each at most once, links resolved inside the root.
   */
  extraFiles?: string[];
  onProgress?: (p: { files: number; bytes: number; path: string }) => void;
}

/** Running images read through /proc at most (each is bounded by maxFileBytes too). */
const MAX_PROCESS_IMAGES = 256;

export interface FileScanResult {
  files: FileRecord[];
  count: number;
  bytes: number;
  /** Directories not descended into (package/toolchain trees), and the first few of them. */
  pruned: number;
  prunedDirs: string[];
  /** Files whose content was not matched because it is compressed or media (see compressedMagic). */
  compressed: number;
  /** Directories skipped because they were excluded. */
  excluded: number;
}

const SCRIPT_EXT: Record<string, FileRecord['lang']> = {
  '.sh': 'sh',
  '.bash': 'sh',
  '.vbs': 'vbs',
  '.vbe': 'vbs',
  '.ps1': 'ps1',
  '.psm1': 'ps1',
  '.bat': 'bat',
  '.cmd': 'bat',
  '.py': 'py',
  '.js': 'js',
};

export function classify(head: Buffer, name: string): { type: FileType; lang?: FileRecord['lang'] } {
  const h = head.toString('latin1', 0, Math.min(head.length, 64));
  if (h.startsWith('\x7fELF')) return { type: 'elf' };
  if (h.startsWith('MZ')) return { type: 'pe' };
  if (h.startsWith('L\0\0\0\x01\x14\x02\0')) return { type: 'lnk' };
  const ext = path.extname(name).toLowerCase();
  if (h.startsWith('#!')) {
    const first = h.split('\n')[0] ?? '';
    const lang = /python/.test(first) ? 'py' : /node/.test(first) ? 'js' : 'sh';
    return { type: 'script', lang };
  }
  const byExt = SCRIPT_EXT[ext];
  if (byExt) return { type: 'script', lang: byExt };
  const utf16 = looksUtf16le(head);
  const t = utf16 ? head.toString('utf16le', head[0] === 0xff ? 2 : 0, Math.min(head.length, 256) & ~1) : h;
  const lead = t.trimStart();
  if (ext === '.json' || lead.startsWith('{')) return { type: 'json' };
  if (ext === '.xml' || lead.startsWith('<?xml') || lead.startsWith('<Task')) return { type: 'xml' };
  let printable = 0;
  const n = Math.min(head.length, 512);
  for (let i = 0; i < n; i++) {
    const c = head[i]!;
    if ((c >= 0x20 && c < 0x7f) || c === 9 || c === 10 || c === 13 || c >= 0x80) printable++;
  }
  return { type: utf16 || printable >= n * 0.95 ? 'text' : 'data' };
}

export function scanFiles(rfs: RootFs, opts: FileScanOptions): FileScanResult {
  const buf = Buffer.allocUnsafe(CHUNK);
  const files: FileRecord[] = [];
  const seenDirs = new Set<string>();
  let count = 0;
  let bytes = 0;
  let kept = 0;
  let lastProgress = 0;
  let pruned = 0;
  let excludedCount = 0;
  const excluded = (opts.exclude ?? []).map((d) => `/${d.replace(/^\/+|\/+$/g, '')}`);
  // The directory or anything below it (a walk may start inside an excluded tree: --paths work/minewatch/src).
  const isExcluded = (dir: string) => excluded.some((x) => dir === x || dir.startsWith(`${x}/`));
  let compressed = 0;
  const prunedDirs: string[] = [];
  const prunedRoots: string[] = [];
  const scanned = new Set<string>();
  const extras = new Set(opts.extraFiles ?? []);

  const scanOne = (rel: string, name: string, lst: fs.Stats | undefined, images?: Set<string>): void => {
    const h = rfs.openRegular(rel, false, images !== undefined);
    if (!h) return;
    const st = lst ?? h.st;
    if (images) {
      // One read per distinct image (device and inode), however many processes run it.
      const key = `${h.st.dev}:${h.st.ino}`;
      if (images.has(key) || images.size >= MAX_PROCESS_IMAGES) {
        fs.closeSync(h.fd);
        return;
      }
      images.add(key);
    }
    count++;
    if (prunedRoots.length > 0 || extras.has(rel)) scanned.add(rel);
    const hits: ContentHit[] = [];
    let type: FileType = 'data';
    let lang: FileRecord['lang'];
    let text: string | undefined;
    let packed: FileRecord['packed'];
    const limit = Math.min(h.size, opts.maxFileBytes);
    try {
      let pos = 0;
      let prevEnd = 0;
      while (pos < limit) {
        const want = Math.min(CHUNK, limit - pos);
        let n = 0;
        // The first read is a small probe: an archive or media file stops there.
        let step = pos === 0 ? Math.min(want, PROBE) : want;
        while (n < want) {
          const r = fs.readSync(h.fd, buf, n, step - n, pos + n);
          if (r === 0) break;
          n += r;
          if (n === step && pos === 0 && step < want) {
            if (compressedMagic(buf.subarray(0, n))) break;
            step = want;
          }
        }
        if (n === 0) break;
        bytes += n;
        const chunk = buf.subarray(0, n);
        if (pos === 0) {
          if (compressedMagic(chunk)) {
            compressed++;
            break;
          }
          ({ type, lang } = classify(chunk, name));
          const textual = type === 'script' || type === 'json' || type === 'xml' || type === 'text';
          if (textual && looksUtf16le(chunk)) {
            // Wide text (task XML, some PowerShell): decode it so patterns match characters, not bytes.
            const d = decodeText(chunk.subarray(0, Math.min(n, MAX_KEPT_TEXT)));
            opts.matcher.scan(d.text, 0, hits);
            if (type !== 'text' || hits.length > 0) text = d.text;
            break;
          }
          if (type === 'elf' || type === 'pe') {
            const probe = chunk.toString('latin1', 0, Math.min(n, 4096));
            if (probe.includes('UPX!') || probe.includes('UPX0')) packed = 'upx';
          }
        }
        const before = hits.length;
        opts.matcher.scanBytes(chunk, pos, hits);
        if (prevEnd > 0) {
          // Drop hits wholly inside the overlap: the previous chunk already reported them.
          let w = before;
          for (let i = before; i < hits.length; i++) {
            const x = hits[i]!;
            if (x.offset + x.value.length > prevEnd) hits[w++] = x;
          }
          hits.length = w;
        }
        if (
          pos === 0 &&
          n <= MAX_KEPT_TEXT &&
          (type === 'script' || type === 'json' || type === 'xml' || type === 'text')
        ) {
          // Files something names (persistence, a process, the root's top level) are few: their text is
          // kept whole so the detectors can link what they run.
          const named = extras.has(rel);
          if (hits.length > 0 || type !== 'text' || named) {
            const d = decodeText(chunk);
            if (hits.length > 0 || named || opts.matcher.keepText(d.text)) text = d.text;
          }
        }
        if (hits.length >= MAX_HITS_PER_FILE) break;
        if (n < want || pos + n >= limit) break;
        prevEnd = pos + n;
        pos = prevEnd - OVERLAP;
      }
    } catch (e) {
      rfs.warn(rel, `read failed (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
    } finally {
      fs.closeSync(h.fd);
    }
    if (h.size > opts.maxFileBytes)
      rfs.warn(rel, `file of ${h.size} bytes, scanned the first ${opts.maxFileBytes}`);
    if (hits.length > MAX_HITS_PER_FILE) hits.length = MAX_HITS_PER_FILE;
    const executable = type === 'elf' || type === 'pe';
    const interesting =
      hits.length > 0 ||
      text !== undefined ||
      packed !== undefined ||
      (executable && TEMP_DIR.test(rel)) ||
      (opts.interestingName?.(name) ?? false);
    if (!interesting) return;
    if (text !== undefined) {
      if (kept + text.length > MAX_KEPT_TOTAL) {
        rfs.warn(rel, 'text not kept: scan already holds the maximum of script text');
        text = undefined;
      } else kept += text.length;
    }
    const rec: FileRecord = {
      path: rel,
      size: h.size,
      mtimeMs: st.mtimeMs,
      mode: st.mode,
      type,
      hits,
      truncated: h.size > limit,
    };
    if (lang) rec.lang = lang;
    if (packed) rec.packed = packed;
    if (text !== undefined) rec.text = text;
    files.push(rec);
  };

  const walk = (start: string): void => {
    const res = rfs.resolve(start);
    if (!res.ok) {
      if (res.reason === 'loop') rfs.warn(start, 'symlink loop');
      return;
    }
    if (res.st.isFile()) {
      scanOne(res.rel, path.posix.basename(res.rel), res.st);
      return;
    }
    if (!res.st.isDirectory()) return;
    const stack: { rel: string; depth: number }[] = [{ rel: res.rel, depth: 0 }];
    while (stack.length > 0) {
      const { rel: dir, depth } = stack.pop()!;
      const dst = rfs.lstat(dir);
      if (!dst) continue;
      const key = `${dst.dev}:${dst.ino}`;
      if (seenDirs.has(key)) continue;
      seenDirs.add(key);
      const ents = rfs.readdir(dir, true);
      if (!ents) continue;
      if (isExcluded(dir)) {
        excludedCount++;
        continue;
      }
      const prune = !opts.deep && depth > 0 && PRUNED_RE.test(dir) && !NEVER_PRUNE.test(dir);
      if (prune) {
        pruned++;
        prunedRoots.push(`${dir}/`);
        if (prunedDirs.length < MAX_PRUNED_LISTED) prunedDirs.push(dir);
      }
      for (const e of ents) {
        const rel = joinRel(dir, e.name);
        if (prune) {
          // Only the entries' names: a file named like a miner is still read, nothing else.
          if (e.isFile() && opts.interestingName?.(e.name)) {
            const st = rfs.lstat(rel);
            if (st?.isFile()) scanOne(rel, e.name, st);
          }
          continue;
        }
        if (e.isDirectory()) {
          if (depth < MAX_DEPTH) stack.push({ rel, depth: depth + 1 });
          else rfs.warn(rel, 'directory nesting too deep, not entered');
          continue;
        }
        if (e.isSymbolicLink()) {
          // Not followed (like find -P): the target is scanned where it lives if it is in a scanned path.
          const r = rfs.resolve(rel);
          if (!r.ok && r.reason === 'loop') rfs.warn(rel, 'symlink loop');
          else if (!r.ok && r.reason === 'missing') rfs.warn(rel, 'broken symlink');
          continue;
        }
        if (!e.isFile()) {
          if (e.isFIFO() || e.isBlockDevice() || e.isCharacterDevice())
            rfs.warn(rel, 'special file not opened');
          continue;
        }
        const st = rfs.lstat(rel);
        if (!st?.isFile()) continue;
        scanOne(rel, e.name, st);
        if (opts.onProgress && count - lastProgress >= 500) {
          lastProgress = count;
          opts.onProgress({ files: count, bytes, path: rel });
        }
      }
    }
  };

  for (const p of opts.paths) {
    const starts = p.includes('*') ? expandGlobDirs(rfs, p) : [`/${p.replace(/^\/+/, '')}`];
    for (const s of starts) walk(s);
  }
  // A running program inside a pruned tree is read like any scanned file.
  for (const exe of new Set(opts.processExes ?? [])) {
    if (scanned.has(exe) || !prunedRoots.some((r) => exe.startsWith(r))) continue;
    const st = rfs.lstat(exe);
    if (st?.isFile()) scanOne(exe, path.posix.basename(exe), st);
  }
  for (const rel of extras) {
    if (scanned.has(rel) || isExcluded(rel)) continue;
    const r = rfs.resolve(rel);
    if (!r.ok || !r.st.isFile() || scanned.has(r.rel)) continue;
    scanned.add(r.rel);
    scanOne(r.rel, path.posix.basename(r.rel), r.st);
  }
  const images = new Set<string>();
  for (const p of opts.processImages ?? []) {
    const base = path.posix.basename(p.exe.replace(/ \(deleted\)$/, ''));
    scanOne(`/proc/${p.pid}/exe`, base, undefined, images);
  }
  opts.onProgress?.({ files: count, bytes, path: '' });
  return { files, count, bytes, pruned, prunedDirs, compressed, excluded: excludedCount };
}

function expandGlobDirs(rfs: RootFs, pattern: string): string[] {
  let cur = ['/'];
  for (const seg of pattern.split('/').filter(Boolean)) {
    const next: string[] = [];
    for (const base of cur) {
      if (seg !== '*') next.push(joinRel(base, seg));
      else for (const e of rfs.readdir(base) ?? []) if (e.isDirectory()) next.push(joinRel(base, e.name));
    }
    cur = next;
  }
  return cur;
}
