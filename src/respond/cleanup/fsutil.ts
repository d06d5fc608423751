/**
 * File-system edge of the cleanup: root-confined paths, exact metadata (owner, mode, nanosecond times),
 * hashes and durable writes. Everything that changes a file below the root goes through here.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { RootFs } from '../../sensors/host/fsroot.ts';
import type { DirTimes, FileMeta } from './types.ts';

/** Thrown when a step cannot be carried out as planned; the message says what to look at. */
export class CleanupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CleanupError';
  }
}

/**
 * Host paths for root-relative ones. The parent directory is resolved like the kernel would inside a chroot
 * at the root (a link in a mounted image can never lead out of it); the last component is NOT followed, so a
 * malicious symlink is moved as a link and its target is never touched.
 */
export class CleanRoot {
  readonly fs: RootFs;
  constructor(readonly root: string) {
    this.fs = new RootFs(root);
  }
  get real(): string {
    return this.fs.root;
  }
  hostPath(rel: string): string {
    const clean = path.posix.normalize(`/${rel}`);
    if (clean === '/') return this.fs.root;
    const dir = this.fs.resolve(path.posix.dirname(clean));
    if (!dir.ok)
      throw new CleanupError(`${path.posix.dirname(clean)}: directory ${dir.reason} below the root`);
    if (!dir.st.isDirectory()) throw new CleanupError(`${path.posix.dirname(clean)} is not a directory`);
    return path.join(dir.real, path.posix.basename(clean));
  }
  /** The root-relative path a link (or chain of links) ends at, inside the root. */
  resolveRel(rel: string): string | undefined {
    const r = this.fs.resolve(rel);
    return r.ok ? r.rel : undefined;
  }
}

export function lstatBig(p: string): fs.BigIntStats | undefined {
  try {
    return fs.lstatSync(p, { bigint: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR')
      return undefined;
    throw e;
  }
}

export function sha256File(p: string): string {
  const h = createHash('sha256');
  const fd = fs.openSync(p, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n <= 0) break;
      h.update(buf.subarray(0, n));
    }
  } finally {
    fs.closeSync(fd);
  }
  return h.digest('hex');
}

export function sha256(b: Uint8Array | string): string {
  return createHash('sha256').update(b).digest('hex');
}

export function metaOf(p: string, withHash = true): FileMeta | undefined {
  const st = lstatBig(p);
  if (!st) return undefined;
  const type = st.isFile() ? 'file' : st.isSymbolicLink() ? 'symlink' : st.isDirectory() ? 'dir' : 'other';
  const m: FileMeta = {
    type,
    mode: Number(st.mode & 0o7777n),
    uid: Number(st.uid),
    gid: Number(st.gid),
    size: Number(st.size),
    atime_ns: st.atimeNs.toString(),
    mtime_ns: st.mtimeNs.toString(),
  };
  if (type === 'file' && withHash) m.sha256 = sha256File(p);
  if (type === 'symlink') m.link_target = fs.readlinkSync(p);
  return m;
}

/** Same content: hash for files, target for links. */
export function sameContent(p: string, meta: FileMeta): boolean {
  const st = lstatBig(p);
  if (!st) return false;
  if (meta.type === 'symlink') return st.isSymbolicLink() && fs.readlinkSync(p) === meta.link_target;
  if (meta.type === 'file')
    return st.isFile() && st.size === BigInt(meta.size) && sha256File(p) === meta.sha256;
  return false;
}

export function dirTimes(hostDir: string, rel: string): DirTimes | undefined {
  const st = lstatBig(hostDir);
  if (!st?.isDirectory()) return undefined;
  return { path: rel, atime_ns: st.atimeNs.toString(), mtime_ns: st.mtimeNs.toString() };
}

let touchWorks: boolean | undefined;

function nsArg(ns: bigint): string {
  const s = ns / 1_000_000_000n;
  const frac = ns % 1_000_000_000n;
  return `@${s}.${frac.toString().padStart(9, '0')}`;
}

/**
 * Sets atime and mtime to the nanosecond. Node's utimes takes seconds as a double (about 240 ns of
 * precision today), so when that is not exact GNU touch (utimensat with a timespec) finishes the job.
 */
export function setTimes(p: string, atimeNs: string, mtimeNs: string, isLink: boolean): void {
  const want = { a: BigInt(atimeNs), m: BigInt(mtimeNs) };
  let st = lstatBig(p);
  if (!st || (st.atimeNs === want.a && st.mtimeNs === want.m)) return;
  const toSec = (ns: bigint) => Number(ns) / 1e9;
  if (isLink) fs.lutimesSync(p, toSec(want.a), toSec(want.m));
  else fs.utimesSync(p, toSec(want.a), toSec(want.m));
  st = lstatBig(p);
  if (!st || (st.atimeNs === want.a && st.mtimeNs === want.m) || touchWorks === false) return;
  for (const [flag, ns, now] of [
    ['-m', want.m, st.mtimeNs],
    ['-a', want.a, st.atimeNs],
  ] as const) {
    if (ns === now) continue;
    const r = spawnSync('touch', ['-h', '-c', flag, '-d', nsArg(ns), '--', p], { encoding: 'utf8' });
    if (r.error) {
      touchWorks = false;
      return;
    }
    touchWorks = true;
  }
}

/** Owner, then mode (chown clears set-id bits), then times. */
export function applyMeta(p: string, meta: FileMeta): void {
  const isLink = meta.type === 'symlink';
  try {
    fs.lchownSync(p, meta.uid, meta.gid);
  } catch (e) {
    // Not root: owner cannot be given away; the content, mode and times still come back.
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') throw e;
  }
  if (!isLink) fs.chmodSync(p, meta.mode);
  setTimes(p, meta.atime_ns, meta.mtime_ns, isLink);
}

export function fsyncPath(p: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(p, 'r');
    fs.fsyncSync(fd);
  } catch {
    // Some file systems refuse fsync on directories; durability is then the kernel's.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** Write + fsync + rename + fsync the directory: the file is either the old one or the new one. */
export function writeFileDurable(p: string, data: string | Uint8Array, mode = 0o600): void {
  const tmp = `${p}.tmp-${process.pid}`;
  const fd = fs.openSync(tmp, 'w', mode);
  try {
    fs.writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, p);
  fsyncPath(path.dirname(p));
}

/**
 * Moves a file or link: rename when on the same file system (keeps inode, times, owner), otherwise copy to
 * `dest.part`, fsync, rename to `dest`, then unlink the source — never a state where neither exists.
 */
export function moveDurable(src: string, dest: string, forceCopy = false): 'rename' | 'copy' {
  if (!forceCopy) {
    try {
      fs.renameSync(src, dest);
      fsyncPath(path.dirname(dest));
      fsyncPath(path.dirname(src));
      return 'rename';
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EXDEV') throw e;
    }
  }
  const st = fs.lstatSync(src);
  const part = `${dest}.part`;
  fs.rmSync(part, { force: true });
  if (st.isSymbolicLink()) fs.symlinkSync(fs.readlinkSync(src), part);
  else {
    fs.copyFileSync(src, part);
    fsyncPath(part);
  }
  fs.renameSync(part, dest);
  fsyncPath(path.dirname(dest));
  fs.unlinkSync(src);
  fsyncPath(path.dirname(src));
  return 'copy';
}
