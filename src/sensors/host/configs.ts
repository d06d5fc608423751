/**
 * Persistence and configuration sensor: reads the places miners use to come back (cron, systemd, rc, init,
 * shell profiles, ld.so.preload, authorized_keys, hosts, Windows tasks and Startup folders) and the state of
 * the download tools droppers rename. Returns whole (bounded) texts; deciding what is malicious is the
 * detectors' job.
 */
import path from 'node:path';
import { joinRel, type RootFs } from './fsroot.ts';
import { decodeText, printableStrings } from './text.ts';
import type { ConfigFileRecord, ConfigKind, DownloadToolRecord } from './types.ts';

/** Config files are small; a bigger one is read up to this and flagged truncated. */
const MAX_CONFIG_BYTES = 1024 * 1024;
/** Entries read from one config directory (etc/systemd/system can be large on busy hosts). */
const MAX_DIR_ENTRIES = 5000;
const MAX_DEPTH = 6;

interface Spot {
  kind: ConfigKind;
  /** Root-relative file or directory; '*' in a segment expands to every entry (home/*). */
  path: string;
  dir?: boolean;
  recursive?: boolean;
  /** Only names matching this (directory spots). */
  only?: RegExp;
}

const HOME_FILES = ['.bashrc', '.bash_profile', '.profile', '.bash_login', '.zshrc'];

const SPOTS: Spot[] = [
  { kind: 'cron', path: 'etc/crontab' },
  { kind: 'cron', path: 'etc/anacrontab' },
  { kind: 'cron', path: 'etc/cron.d', dir: true },
  { kind: 'cron', path: 'var/spool/cron', dir: true, recursive: true },
  { kind: 'cron', path: 'etc/cron.hourly', dir: true },
  { kind: 'cron', path: 'etc/cron.daily', dir: true },
  { kind: 'cron', path: 'etc/cron.weekly', dir: true },
  { kind: 'cron', path: 'etc/cron.monthly', dir: true },
  {
    kind: 'systemd',
    path: 'etc/systemd/system',
    dir: true,
    recursive: true,
    only: /\.(service|timer|socket|path)$|\.conf$/,
  },
  { kind: 'systemd', path: 'lib/systemd/system', dir: true, only: /\.(service|timer)$/ },
  { kind: 'systemd', path: 'usr/lib/systemd/system', dir: true, only: /\.(service|timer)$/ },
  {
    kind: 'systemd',
    path: 'root/.config/systemd/user',
    dir: true,
    recursive: true,
    only: /\.(service|timer)$/,
  },
  {
    kind: 'systemd',
    path: 'home/*/.config/systemd/user',
    dir: true,
    recursive: true,
    only: /\.(service|timer)$/,
  },
  { kind: 'rc-local', path: 'etc/rc.local' },
  { kind: 'rc-local', path: 'etc/rc.d/rc.local' },
  { kind: 'init-script', path: 'etc/init.d', dir: true },
  { kind: 'shell-profile', path: 'etc/profile' },
  { kind: 'shell-profile', path: 'etc/profile.d', dir: true },
  { kind: 'shell-profile', path: 'etc/bash.bashrc' },
  { kind: 'shell-profile', path: 'etc/bashrc' },
  ...HOME_FILES.map((f): Spot => ({ kind: 'shell-profile', path: `root/${f}` })),
  ...HOME_FILES.map((f): Spot => ({ kind: 'shell-profile', path: `home/*/${f}` })),
  { kind: 'ld-preload', path: 'etc/ld.so.preload' },
  { kind: 'authorized-keys', path: 'root/.ssh/authorized_keys' },
  { kind: 'authorized-keys', path: 'root/.ssh/authorized_keys2' },
  { kind: 'authorized-keys', path: 'home/*/.ssh/authorized_keys' },
  { kind: 'authorized-keys', path: 'home/*/.ssh/authorized_keys2' },
  { kind: 'hosts', path: 'etc/hosts' },
  { kind: 'hosts', path: 'Windows/System32/drivers/etc/hosts' },
  { kind: 'scheduled-task', path: 'Windows/System32/Tasks', dir: true, recursive: true },
  { kind: 'startup', path: 'ProgramData/Microsoft/Windows/Start Menu/Programs/StartUp', dir: true },
  { kind: 'startup', path: 'ProgramData/Microsoft/Windows/Start Menu/Programs/Startup', dir: true },
  {
    kind: 'startup',
    path: 'Users/*/AppData/Roaming/Microsoft/Windows/Start Menu/Programs/Startup',
    dir: true,
  },
];

/** Expand '*' segments against the tree (home/* → home/alice, home/bob). Links are not expanded. */
export function expandStars(rfs: RootFs, pattern: string): string[] {
  let cur = ['/'];
  for (const seg of pattern.split('/').filter(Boolean)) {
    const next: string[] = [];
    for (const base of cur) {
      if (seg !== '*') {
        next.push(joinRel(base, seg));
        continue;
      }
      for (const e of rfs.readdir(base) ?? []) if (e.isDirectory()) next.push(joinRel(base, e.name));
    }
    cur = next;
  }
  return cur;
}

function userOf(rel: string): string | undefined {
  let m = /^\/var\/spool\/cron\/(?:crontabs\/|tabs\/)?([^/]+)$/.exec(rel);
  if (m) return m[1];
  m = /^\/home\/([^/]+)\//.exec(rel);
  if (m) return m[1];
  if (rel.startsWith('/root/')) return 'root';
  m = /^\/Users\/([^/]+)\//.exec(rel);
  return m?.[1];
}

export function readConfigFile(rfs: RootFs, kind: ConfigKind, rel: string): ConfigFileRecord | undefined {
  const r = rfs.readHead(rel, MAX_CONFIG_BYTES);
  if (!r) return undefined;
  const head = r.buf.subarray(0, 16).toString('latin1');
  const redis = /^REDIS\d{4}/.exec(head)?.[0];
  let decoded = decodeText(r.buf);
  if (kind === 'startup' && /\.lnk$/i.test(rel)) {
    decoded = { text: printableStrings(r.buf), binaryJunk: true, encoding: 'utf8' };
  }
  const rec: ConfigFileRecord = {
    kind,
    path: rel,
    text: decoded.text,
    size: r.size,
    mtimeMs: r.st.mtimeMs,
    truncated: r.truncated,
    binaryJunk: decoded.binaryJunk,
    encoding: decoded.encoding,
  };
  if (redis) rec.redisHeader = redis;
  const user = userOf(rel);
  if (user) rec.user = user;
  if (r.truncated) rfs.warn(rel, `larger than ${MAX_CONFIG_BYTES} bytes, read the start only`);
  if (decoded.binaryJunk && kind === 'cron') rfs.warn(rel, 'crontab contains binary data');
  return rec;
}

function walkSpot(rfs: RootFs, spot: Spot, dir: string, depth: number, out: ConfigFileRecord[]): void {
  const ents = rfs.readdir(dir, true);
  if (!ents) return;
  let n = 0;
  for (const e of ents) {
    if (++n > MAX_DIR_ENTRIES) {
      rfs.warn(dir, `more than ${MAX_DIR_ENTRIES} entries, rest skipped`);
      break;
    }
    const rel = joinRel(dir, e.name);
    if (e.isDirectory()) {
      if (spot.recursive && depth < MAX_DEPTH) walkSpot(rfs, spot, rel, depth + 1, out);
      continue;
    }
    if (spot.only && !spot.only.test(e.name)) continue;
    // Symlinked units (multi-user.target.wants/x.service → ../x.service) are resolved inside the root; the
    // target is read again under its own name when it lies in a scanned directory, so skip links to avoid
    // duplicate findings, unless the link leads somewhere we would not read (e.g. a unit in /tmp).
    if (e.isSymbolicLink()) {
      const res = rfs.resolve(rel);
      if (!res.ok) {
        if (res.reason === 'loop') rfs.warn(rel, 'symlink loop');
        continue;
      }
      if (/^\/(etc|lib|usr\/lib)\/systemd\//.test(res.rel)) continue;
    } else if (!e.isFile()) {
      if (e.isFIFO() || e.isBlockDevice() || e.isCharacterDevice()) rfs.warn(rel, 'special file not opened');
      continue;
    }
    const rec = readConfigFile(rfs, spot.kind, rel);
    if (rec) out.push(rec);
  }
}

export function readConfigs(rfs: RootFs): ConfigFileRecord[] {
  const out: ConfigFileRecord[] = [];
  const seen = new Set<string>();
  for (const spot of SPOTS) {
    for (const rel of expandStars(rfs, spot.path)) {
      if (seen.has(rel)) continue;
      seen.add(rel);
      if (spot.dir) {
        walkSpot(rfs, spot, rel, 0, out);
        continue;
      }
      const st = rfs.lstat(rel);
      if (!st) continue;
      const rec = readConfigFile(rfs, spot.kind, rel);
      if (rec) out.push(rec);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Download tools. Droppers rename wget/curl (so admins and rival droppers cannot use them) and call the
// renamed copy themselves; some replace them with wrapper scripts.

/** Smaller than any real wget/curl build: a stub or wrapper put in its place. */
const TINY_TOOL_BYTES = 8 * 1024;
const BIN_DIRS = ['usr/bin', 'bin', 'usr/local/bin', 'usr/sbin', 'sbin'];

export function readDownloadTools(rfs: RootFs, renamedNames: Record<string, string[]>): DownloadToolRecord[] {
  const out: DownloadToolRecord[] = [];
  for (const [tool, aliases] of Object.entries(renamedNames)) {
    let rec: DownloadToolRecord | undefined;
    const renamed: DownloadToolRecord['renamed'] = [];
    const seenReal = new Set<string>();
    for (const d of BIN_DIRS) {
      const dirRes = rfs.resolve(d);
      if (!dirRes.ok || !dirRes.st.isDirectory() || seenReal.has(dirRes.rel)) continue;
      seenReal.add(dirRes.rel);
      for (const alias of aliases) {
        const r = rfs.resolve(path.posix.join(dirRes.rel, alias));
        if (!r.ok || !r.st.isFile()) continue;
        const head = rfs.readHead(r.rel, 4, false);
        renamed.push({ path: r.rel, size: r.st.size, elf: head?.buf.toString('latin1') === '\x7fELF' });
      }
      const r = rfs.resolve(path.posix.join(dirRes.rel, tool));
      if (!r.ok || !r.st.isFile() || rec) continue;
      const head = rfs.readHead(r.rel, 2, false)?.buf.toString('latin1');
      const state = head === '#!' ? 'script' : r.st.size < TINY_TOOL_BYTES ? 'tiny' : 'present';
      rec = { tool, path: r.rel, state, size: r.st.size, renamed };
    }
    out.push(rec ?? { tool, path: `/usr/bin/${tool}`, state: 'missing', renamed });
  }
  return out;
}

export function readHostname(rfs: RootFs): string | undefined {
  const h = rfs.readSmall('/etc/hostname', 256)?.trim();
  return h || undefined;
}

export function detectOs(rfs: RootFs): 'linux' | 'windows' | 'unknown' {
  if (rfs.lstat('/Windows/System32')?.isDirectory()) return 'windows';
  // A copied-out C: drive or a user profile backup: Windows homes without a Linux /etc.
  if (
    !rfs.lstat('/etc')?.isDirectory() &&
    (rfs.lstat('/Users')?.isDirectory() || rfs.lstat('/ProgramData')?.isDirectory())
  )
    return 'windows';
  if (rfs.lstat('/etc')?.isDirectory() || rfs.lstat('/proc')?.isDirectory() || rfs.lstat('/bin'))
    return 'linux';
  return 'unknown';
}

// ---------------------------------------------------------------------------------------------------------
// Miner configuration files. Three layouts are met on infected hosts besides xmrig 5+'s plain JSON:
// xmrig 2.x's config.json with `//` comments after values, xmr-stak's pools.txt/config.txt (bare
// `"key" : value,` lines with C comments and trailing commas, no outer braces), and cpuminer-multi's flat
// JSON (url/user/pass at the top). Pure: text in, pools/wallet logins/workers out; intel decides what a
// pool or wallet is.

export interface MinerPoolEntry {
  url: string;
  /** Pool login as written: a wallet, a wallet.worker, an e-mail or user name (MinerGate, NiceHash). */
  user?: string;
  pass?: string;
  /** Rig/worker name: rig-id / rig_id, or the part after the wallet ('WALLET.worker'). */
  worker?: string;
}

export interface MinerConfig {
  format: 'xmrig-json' | 'xmr-stak' | 'cpuminer-json';
  pools: MinerPoolEntry[];
  /** Top-level keys present (for the detectors' known-key check). */
  keys: string[];
}

/** Removes // and /* *\/ comments outside strings, and commas before a closing bracket. */
export function stripJsonComments(text: string): string {
  let out = '';
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i]!;
    if (c === '"') {
      let j = i + 1;
      while (j < n && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < n && text[i] !== '\n') i++;
    } else if (c === '/' && text[i + 1] === '*') {
      const e = text.indexOf('*/', i + 2);
      i = e < 0 ? n : e + 2;
    } else {
      out += c;
      i++;
    }
  }
  return out.replace(/,(\s*[\]}])/g, '$1');
}

/** Keys only xmr-stak's files have: a text file holding them is its config whatever its name. */
const XMR_STAK_KEYS =
  /"(?:pool_list|pool_address|wallet_address|call_timeout|use_slow_memory|h_print_time)"\s*:/;

function splitLogin(user: string | undefined): { user?: string; worker?: string } {
  if (!user) return {};
  // 'WALLET.worker' and 'WALLET+difficulty.worker' (xmrig and most Monero pools); e-mail logins keep their dots.
  if (user.includes('@')) return { user };
  const m = /^([^.+]{20,})(?:\+\d+)?(?:\.([\w-]{1,64}))?$/.exec(user);
  if (m) return { user: m[1]!, ...(m[2] ? { worker: m[2] } : {}) };
  return { user };
}

function entry(url: unknown, user: unknown, pass: unknown, rig: unknown): MinerPoolEntry | undefined {
  if (typeof url !== 'string' || !url) return undefined;
  const login = splitLogin(typeof user === 'string' && user ? user : undefined);
  const e: MinerPoolEntry = { url };
  if (login.user) e.user = login.user;
  if (typeof pass === 'string' && pass) e.pass = pass;
  const worker = typeof rig === 'string' && rig ? rig : login.worker;
  if (worker) e.worker = worker;
  return e;
}

/** A miner config in one of the layouts above, or undefined (not parseable, or none of the layouts). */
export function parseMinerConfig(text: string): MinerConfig | undefined {
  if (text.length > MAX_CONFIG_BYTES) return undefined;
  const body = stripJsonComments(text).trim();
  const stak = !body.startsWith('{') && XMR_STAK_KEYS.test(body);
  let doc: unknown;
  try {
    doc = JSON.parse(stak ? `{${body.replace(/,\s*$/, '')}}` : body);
  } catch {
    return undefined;
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) return undefined;
  const o = doc as Record<string, unknown>;
  const pools: MinerPoolEntry[] = [];
  if (Array.isArray(o.pools))
    for (const p of o.pools.slice(0, 50)) {
      if (!p || typeof p !== 'object') continue;
      const q = p as Record<string, unknown>;
      const e = entry(q.url, q.user, q.pass, q['rig-id']);
      if (e) pools.push(e);
    }
  if (Array.isArray(o.pool_list))
    for (const p of o.pool_list.slice(0, 50)) {
      if (!p || typeof p !== 'object') continue;
      const q = p as Record<string, unknown>;
      const e = entry(q.pool_address, q.wallet_address, q.pool_password, q.rig_id);
      if (e) pools.push(e);
    }
  // xmr-stak-cpu 1.x config.txt and cpuminer-multi: one pool at the top.
  const top = entry(
    o.pool_address ?? o.url,
    o.wallet_address ?? o.user ?? o.wallet ?? o.userpass,
    o.pool_password ?? o.pass,
    o.rig_id,
  );
  if (top) pools.push(top);
  const format =
    stak || 'pool_list' in o || 'pool_address' in o
      ? 'xmr-stak'
      : 'url' in o && !('pools' in o)
        ? 'cpuminer-json'
        : 'xmrig-json';
  return { format, pools, keys: Object.keys(o) };
}

/** Whether a text file is worth parsing as a miner config although it is not named or shaped as JSON. */
export function looksLikeMinerConfig(text: string): boolean {
  return XMR_STAK_KEYS.test(text.slice(0, 64 * 1024));
}
