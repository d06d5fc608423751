/**
 * Read-only, chroot-like access to a directory tree that stands for a host's `/`.
 *
 * Every host sensor reads through this so that the same code can scan the live host (root '/'), a mounted
 * image or a container rootfs without ever escaping it: symlinks are resolved here, component by component,
 * against the scanned root (an absolute target restarts at the root, `..` stops at the root), never by the OS.
 * Special files (FIFOs, sockets, devices) are never opened, reads are bounded, files are opened read-only with
 * O_NOATIME where the kernel allows it, and every problem becomes a counted warning instead of an exception.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface ScanWarning {
  path: string;
  reason: string;
}

/** Linux allows 40 symlinks in one lookup (MAXSYMLINKS); more is treated as a loop. */
const MAX_LINK_HOPS = 40;
/** Warnings kept verbatim; past this they are only counted so a hostile tree cannot exhaust memory. */
const MAX_WARNINGS = 2000;

const { O_RDONLY, O_NOFOLLOW, O_NONBLOCK } = fs.constants;
const O_NOATIME: number = (fs.constants as Record<string, number>).O_NOATIME ?? 0;

export type Resolved =
  | { ok: true; real: string; rel: string; st: fs.Stats }
  | { ok: false; reason: 'missing' | 'loop' | 'error'; rel: string; detail?: string };

export class RootFs {
  readonly root: string;
  readonly warnings: ScanWarning[] = [];
  warningCount = 0;
  /** Bytes read from file contents (not metadata), for stats. */
  bytesRead = 0;
  /** Whether O_NOATIME is still worth trying (EPERM once as non-owner ⇒ keep trying per file; EINVAL ⇒ never). */
  private noatime = O_NOATIME !== 0;

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  private warned = new Set<string>();

  warn(rel: string, reason: string): void {
    // The same file can be met by two sensors (a FIFO in etc/cron.d): one warning per path and reason.
    const k = `${rel}\0${reason}`;
    if (this.warned.has(k)) return;
    if (this.warned.size < MAX_WARNINGS * 4) this.warned.add(k);
    this.warningCount++;
    if (this.warnings.length < MAX_WARNINGS) this.warnings.push({ path: rel, reason });
  }

  /** Host path of a root-relative path WITHOUT resolving links (for lstat/readdir of a known non-link). */
  hostPath(rel: string): string {
    const clean = path.posix.normalize(`/${rel}`);
    return clean === '/' ? this.root : path.join(this.root, clean);
  }

  /** lstat a root-relative path; undefined when absent or unreadable (no warning: absence is normal). */
  lstat(rel: string): fs.Stats | undefined {
    try {
      return fs.lstatSync(this.hostPath(rel));
    } catch {
      return undefined;
    }
  }

  /**
   * Resolve a root-relative path like the kernel would inside a chroot at `root`: each symlink's target is
   * read with readlink and re-interpreted against the root, so no link can point outside it.
   */
  resolve(rel: string): Resolved {
    const pending = path.posix.normalize(`/${rel}`).split('/').filter(Boolean);
    const done: string[] = [];
    let hops = 0;
    while (pending.length > 0) {
      const part = pending.shift()!;
      if (part === '.') continue;
      if (part === '..') {
        done.pop(); // clamps at the root, as chroot does
        continue;
      }
      done.push(part);
      const host = path.join(this.root, ...done);
      let st: fs.Stats;
      try {
        st = fs.lstatSync(host);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTDIR') return { ok: false, reason: 'missing', rel };
        return { ok: false, reason: 'error', rel, detail: code ?? String(e) };
      }
      if (st.isSymbolicLink()) {
        if (++hops > MAX_LINK_HOPS) return { ok: false, reason: 'loop', rel };
        let target: string;
        try {
          target = fs.readlinkSync(host);
        } catch (e) {
          return { ok: false, reason: 'error', rel, detail: (e as NodeJS.ErrnoException).code };
        }
        done.pop();
        if (target.startsWith('/')) done.length = 0;
        pending.unshift(...target.split('/').filter(Boolean));
        continue;
      }
      if (pending.length > 0 && !st.isDirectory()) return { ok: false, reason: 'missing', rel };
      if (pending.length === 0) return { ok: true, real: host, rel: `/${done.join('/')}`, st };
    }
    try {
      return { ok: true, real: this.root, rel: '/', st: fs.lstatSync(this.root) };
    } catch (e) {
      return { ok: false, reason: 'error', rel, detail: (e as NodeJS.ErrnoException).code };
    }
  }

  /** readlink of a root-relative path, without following it (for proc/PID/exe and fd links). */
  readlink(rel: string): string | undefined {
    try {
      return fs.readlinkSync(this.hostPath(rel));
    } catch {
      return undefined;
    }
  }

  /** Directory entries (lstat types, links not followed); undefined if not a readable directory. */
  readdir(rel: string, warnIfUnreadable = false): fs.Dirent[] | undefined {
    try {
      return fs.readdirSync(this.hostPath(rel), { withFileTypes: true });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (warnIfUnreadable && code !== 'ENOENT' && code !== 'ENOTDIR')
        this.warn(rel, `unreadable directory (${code})`);
      return undefined;
    }
  }

  /**
   * Open a regular file read-only for content reading. Links are resolved inside the root first; anything
   * but a regular file is refused before open (O_NONBLOCK guards the race where a FIFO replaces the file).
   */
  openRegular(
    rel: string,
    resolveLinks = true,
    /** Follow a final symlink as the kernel does: only for /proc/PID/exe, whose target may not exist. */
    followFinal = false,
  ): { fd: number; size: number; rel: string; st: fs.Stats } | undefined {
    let real: string;
    let shown = rel;
    if (resolveLinks) {
      const r = this.resolve(rel);
      if (!r.ok) {
        if (r.reason === 'loop') this.warn(rel, 'symlink loop');
        else if (r.reason === 'error') this.warn(rel, `unreadable (${r.detail ?? 'error'})`);
        else if (this.lstat(rel)?.isSymbolicLink()) this.warn(rel, 'broken symlink');
        return undefined;
      }
      real = r.real;
      shown = r.rel;
      if (!r.st.isFile()) {
        if (!r.st.isDirectory()) this.warn(rel, `not a regular file (${kindOf(r.st)}), not opened`);
        return undefined;
      }
    } else {
      real = this.hostPath(rel);
    }
    const flags = O_RDONLY | (followFinal ? 0 : O_NOFOLLOW) | O_NONBLOCK;
    let fd: number;
    try {
      fd = this.tryOpen(real, flags);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      this.warn(rel, code === 'ELOOP' ? 'symlink (not followed)' : `unreadable (${code ?? String(e)})`);
      return undefined;
    }
    const st = fs.fstatSync(fd);
    if (!st.isFile()) {
      fs.closeSync(fd);
      this.warn(rel, `not a regular file (${kindOf(st)}), not opened`);
      return undefined;
    }
    return { fd, size: st.size, rel: shown, st };
  }

  private tryOpen(real: string, flags: number): number {
    if (this.noatime) {
      try {
        return fs.openSync(real, flags | O_NOATIME);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        // EPERM: not the owner and not privileged; the read then may touch atime, which we cannot avoid.
        if (code === 'EINVAL') this.noatime = false;
        if (code !== 'EPERM' && code !== 'EINVAL') throw e;
      }
    }
    return fs.openSync(real, flags);
  }

  /**
   * Read at most `max` bytes from the start of a regular file. Returns undefined (with a warning where it
   * is abnormal) when the file cannot be read; `truncated` tells the caller the cap was hit.
   */
  readHead(
    rel: string,
    max: number,
    resolveLinks = true,
  ): { buf: Buffer; size: number; truncated: boolean; rel: string; st: fs.Stats } | undefined {
    const h = this.openRegular(rel, resolveLinks);
    if (!h) return undefined;
    try {
      // Pseudo-files under /proc report size 0 yet have content: read until EOF up to max.
      const want = h.size > 0 ? Math.min(h.size, max) : max;
      const buf = Buffer.allocUnsafe(Math.max(1, Math.min(want, max)));
      let got = 0;
      while (got < buf.length) {
        const n = fs.readSync(h.fd, buf, got, buf.length - got, null);
        if (n === 0) break;
        got += n;
      }
      this.bytesRead += got;
      return { buf: buf.subarray(0, got), size: h.size, truncated: h.size > max, rel: h.rel, st: h.st };
    } catch (e) {
      this.warn(rel, `read failed (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
      return undefined;
    } finally {
      fs.closeSync(h.fd);
    }
  }

  /** Small pseudo/text file as UTF-8 (proc entries, configs); undefined when absent. No warnings. */
  readSmall(rel: string, max = 64 * 1024): string | undefined {
    let fd: number;
    try {
      fd = this.tryOpen(this.hostPath(rel), O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
    } catch {
      return undefined;
    }
    try {
      if (!fs.fstatSync(fd).isFile()) return undefined;
      // proc files report size 0, so grow as we go instead of allocating max up front.
      const parts: Buffer[] = [];
      let total = 0;
      while (total < max) {
        const buf = Buffer.allocUnsafe(Math.min(64 * 1024, max - total));
        const n = fs.readSync(fd, buf, 0, buf.length, null);
        if (n === 0) break;
        parts.push(n === buf.length ? buf : buf.subarray(0, n));
        total += n;
      }
      return parts.length === 1 ? parts[0]!.toString('utf8') : Buffer.concat(parts, total).toString('utf8');
    } catch {
      return undefined;
    } finally {
      fs.closeSync(fd);
    }
  }
}

export function kindOf(st: fs.Stats): string {
  if (st.isFIFO()) return 'fifo';
  if (st.isSocket()) return 'socket';
  if (st.isCharacterDevice()) return 'character device';
  if (st.isBlockDevice()) return 'block device';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isDirectory()) return 'directory';
  return 'file';
}

/** Join root-relative paths ('/etc' + 'cron.d') into the '/etc/cron.d' form used in evidence. */
export function joinRel(dir: string, name: string): string {
  return dir === '/' || dir === '' ? `/${name}` : `${dir}/${name}`;
}
