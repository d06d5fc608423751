/** What "restored exactly" is checked against: every entry below a root with content hash and metadata. */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export interface Entry {
  type: string;
  mode: number;
  uid: number;
  gid: number;
  /** Nanoseconds; atime is left out (reading a file may change it). */
  mtime: string;
  size?: number;
  sha?: string;
  link?: string;
}

/** Files above this are compared by size and mtime only (the safety fixture's 200 MB sparse file). */
const HASH_MAX = 16 * 1024 * 1024;

export function snapshot(root: string, exclude: RegExp = /^\/proc(?:\/|$)/): Map<string, Entry> {
  const out = new Map<string, Entry>();
  const walk = (rel: string) => {
    const host = rel === '/' ? root : path.join(root, rel);
    const st = fs.lstatSync(host, { bigint: true });
    const e: Entry = {
      type: st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'link' : 'other',
      mode: Number(st.mode),
      uid: Number(st.uid),
      gid: Number(st.gid),
      mtime: st.mtimeNs.toString(),
    };
    if (st.isFile()) {
      e.size = Number(st.size);
      if (st.size <= HASH_MAX && (Number(st.mode) & 0o444) !== 0)
        e.sha = createHash('sha256').update(fs.readFileSync(host)).digest('hex');
    }
    if (st.isSymbolicLink()) e.link = fs.readlinkSync(host);
    out.set(rel, e);
    if (st.isDirectory())
      for (const n of fs.readdirSync(host).sort()) {
        const child = rel === '/' ? `/${n}` : `${rel}/${n}`;
        if (!exclude.test(child)) walk(child);
      }
  };
  walk('/');
  return out;
}

/** Differences, one line each ('' when identical). */
export function diff(a: Map<string, Entry>, b: Map<string, Entry>): string {
  const out: string[] = [];
  for (const [k, v] of a) {
    const w = b.get(k);
    if (!w) out.push(`missing ${k}`);
    else if (JSON.stringify(v) !== JSON.stringify(w))
      out.push(`changed ${k}: ${JSON.stringify(v)} → ${JSON.stringify(w)}`);
  }
  for (const k of b.keys()) if (!a.has(k)) out.push(`extra ${k}`);
  return out.join('\n');
}
