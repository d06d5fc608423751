/**
 * Package ownership below the root, from the package manager's own database: dpkg keeps one
 * var/lib/dpkg/info/PKG[:ARCH].list per installed package, each line a path it installed. Only the paths
 * asked about are kept, so memory stays bounded by the question whatever the database holds; each list is
 * read whole but lists are small (the biggest Debian package lists a few MiB).
 *
 * rpm's database (Berkeley DB or SQLite under var/lib/rpm) is not read: the scan does not run `rpm --root`.
 */
import { joinRel, type RootFs } from './fsroot.ts';

const DPKG_INFO = '/var/lib/dpkg/info';
/** Lists read at most; a real system has a few thousand. */
const MAX_LISTS = 20_000;
const MAX_LIST_BYTES = 16 * 1024 * 1024;

/**
 * The names a path has on a merged-/usr system: /lib/x and /usr/lib/x are one file, and dpkg records the
 * name the package shipped, which may be either.
 */
export function aliasesOf(p: string): string[] {
  const m = /^\/(?:usr\/)?(lib(?:32|64|x32)?|bin|sbin)\/(.*)$/.exec(p);
  if (!m) return [p];
  return [`/${m[1]}/${m[2]}`, `/usr/${m[1]}/${m[2]}`];
}

/** Owner package of each asked path that dpkg lists (by any of its merged-/usr names). */
export function dpkgOwners(rfs: RootFs, paths: Iterable<string>): Map<string, string> {
  const want = new Map<string, string>();
  for (const p of paths) for (const a of aliasesOf(p)) want.set(a, p);
  const out = new Map<string, string>();
  if (want.size === 0) return out;
  const ents = rfs.readdir(DPKG_INFO);
  if (!ents) return out;
  let n = 0;
  for (const e of ents) {
    if (!e.name.endsWith('.list') || !(e.isFile() || e.isSymbolicLink())) continue;
    if (++n > MAX_LISTS) {
      rfs.warn(DPKG_INFO, `more than ${MAX_LISTS} package lists, rest not read`);
      break;
    }
    const r = rfs.readHead(joinRel(DPKG_INFO, e.name), MAX_LIST_BYTES);
    if (!r) continue;
    const pkg = e.name.slice(0, -'.list'.length).replace(/:.*/, '');
    for (const line of r.buf.toString('utf8').split('\n')) {
      const asked = want.get(line);
      if (asked !== undefined && !out.has(asked)) out.set(asked, pkg);
    }
    if (out.size === new Set(want.values()).size) break;
  }
  return out;
}
