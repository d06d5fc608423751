/**
 * Immutable and append-only flags (chattr +i / +a): miners set them so their crontab, binary or the
 * authorized_keys they planted cannot be removed. Node cannot reach the FS_IOC_GETFLAGS ioctl, so this runs
 * lsattr/chattr (e2fsprogs). File systems without the flags (tmpfs, overlay, vfat) answer "not supported":
 * that is reported as such and the step is skipped with a note.
 */
import { spawnSync } from 'node:child_process';

/** The flags cleanup cares about: they make rename/unlink/write fail even for root. */
const BLOCKING = /[ia]/g;

export type FlagsRead = { ok: true; flags: string } | { ok: false; reason: string };

export interface AttrControl {
  /** Blocking flags set on a file or directory ('' when none). */
  read(hostPath: string): FlagsRead;
  /** Set ('+') or clear ('-') the given flags. */
  change(hostPath: string, op: '+' | '-', flags: string): void;
}

let lsattrMissing = false;

export const e2fsAttrs: AttrControl = {
  read(p) {
    if (lsattrMissing) return { ok: false, reason: 'lsattr not installed (e2fsprogs)' };
    const r = spawnSync('lsattr', ['-d', '--', p], { encoding: 'utf8' });
    if (r.error) {
      lsattrMissing = (r.error as NodeJS.ErrnoException).code === 'ENOENT';
      return { ok: false, reason: lsattrMissing ? 'lsattr not installed (e2fsprogs)' : String(r.error) };
    }
    if (r.status !== 0) {
      const msg = r.stderr.trim().split('\n').pop() ?? 'lsattr failed';
      return { ok: false, reason: msg.replace(/^lsattr:\s*/, '') };
    }
    const field = r.stdout.trim().split(/\s+/)[0] ?? '';
    return { ok: true, flags: [...new Set(field.match(BLOCKING) ?? [])].sort().join('') };
  },
  change(p, op, flags) {
    if (!flags) return;
    const r = spawnSync('chattr', [`${op}${flags}`, '--', p], { encoding: 'utf8' });
    if (r.error) throw new Error(`chattr: ${String(r.error)}`);
    if (r.status !== 0) throw new Error(`chattr ${op}${flags} ${p}: ${r.stderr.trim()}`);
  },
};
