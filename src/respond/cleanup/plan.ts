/**
 * The cleanup plan: a pure function of a host scan and what the files below the root hold now (read through
 * `PlanIO`, so tests can hand in anything). Each finding at or above the threshold becomes steps; steps are
 * merged per pid and per path, so a file three findings point at is quarantined once, a crontab loses only
 * the flagged lines, and a crontab that is nothing but malicious lines (a Redis dump, a dropper's cron.d
 * file) is quarantined whole.
 */
import path from 'node:path';
import type { ScanResult } from '../../detect/host/index.ts';
import { type Evidence, type Finding, type Severity, severityAtLeast } from '../../findings/index.ts';
import { HOSTS_BEGIN, HOSTS_END } from '../blocklist/apply.ts';
import type { AttrControl, FlagsRead } from './attrs.ts';
import { CleanRoot, sha256 } from './fsutil.ts';
import {
  type CleanupPlan,
  type LineEdit,
  type PlanStep,
  type ProcessIdentity,
  type RootInfo,
  STEP_KINDS,
  type StepKind,
} from './types.ts';

/** What the planner may look at below the root. All paths root-relative ('/etc/hosts'). */
export interface PlanIO {
  /** Type of the path itself (links not followed). */
  kind(rel: string): 'file' | 'symlink' | 'dir' | 'other' | undefined;
  /** Where the path ends after following links inside the root. */
  resolve(rel: string): string | undefined;
  /** Bytes of a regular file (links followed inside the root), bounded. */
  read(rel: string): Buffer | undefined;
  list(rel: string): string[];
  readlink(rel: string): string | undefined;
  /** Blocking chattr flags; absent = not checked. */
  flags?(rel: string): FlagsRead;
}

/** Line edits are only planned for files this small: persistence files are a few KiB. */
const MAX_EDIT_BYTES = 8 * 1024 * 1024;

export function rootPlanIO(root: string, attrs?: AttrControl): PlanIO {
  const cr = new CleanRoot(root);
  const host = (rel: string) => {
    try {
      return cr.hostPath(rel);
    } catch {
      return undefined;
    }
  };
  const io: PlanIO = {
    kind(rel) {
      const st = cr.fs.lstat(rel);
      const h = host(rel);
      if (!st || !h) return undefined;
      return st.isFile() ? 'file' : st.isSymbolicLink() ? 'symlink' : st.isDirectory() ? 'dir' : 'other';
    },
    resolve: (rel) => cr.resolveRel(rel),
    read(rel) {
      const r = cr.fs.resolve(rel);
      if (!r.ok || !r.st.isFile() || r.st.size > MAX_EDIT_BYTES) return undefined;
      try {
        return cr.fs.readHead(rel, MAX_EDIT_BYTES)?.buf;
      } catch {
        return undefined;
      }
    },
    list(rel) {
      return (cr.fs.readdir(rel) ?? []).map((d) => d.name);
    },
    readlink: (rel) => cr.fs.readlink(rel),
  };
  if (attrs)
    io.flags = (rel) => {
      const h = host(rel);
      return h ? attrs.read(h) : { ok: false, reason: 'not found' };
    };
  return io;
}

export interface PlanOptions {
  /** Findings below this are left alone (default: the "mining found" threshold, medium). */
  threshold?: Severity;
}

const TEMP_DIR_RE = /^\/(?:tmp|var\/tmp|dev\/shm|run\/shm)(?:\/|$)|\/\.[^/]+\//;
/** Executables here are the system's (and interpreters a miner script may run in): never quarantined by pid. */
const SYSTEM_BIN_RE = /^\/(?:usr\/)?(?:s?bin|lib(?:32|64|x32|exec)?)\//;
const SYSTEM_LIB_RE = /^\/(?:usr\/)?lib(?:32|64|x32)?\//;
/** Process rules that convict the executable itself, not only the process's behaviour. */
const CONVICTING = new Set([
  'host.process.miner-name',
  'host.process.stratum-cmdline',
  'host.process.miner-exe',
  'host.process.masquerade',
  'host.process.campaign-marker',
]);
/** Persistence kept in files of their own: when every command in one is malicious the file goes whole. */
const WHOLE_CRON_RE = /^\/(?:etc\/cron\.(?:d|hourly|daily|weekly|monthly)|var\/spool\/cron)\//;
const INIT_DIR_RE = /^\/etc\/(?:rc\.d\/)?init\.d\//;
const SINKHOLE_RE = /^(?:0\.0\.0\.0|127\.\d+\.\d+\.\d+|::1?|0:0:0:0:0:0:0:[01])$/;
const LINE_RULES: Record<string, string> = {
  'host.persistence.cron': 'cron line',
  'host.persistence.rc-local': 'rc.local line',
  'host.persistence.init-script': 'init script line',
  'host.persistence.shell-profile': 'shell profile line',
  'host.persistence.ld-preload': 'ld.so.preload entry',
  'host.persistence.ssh-key': 'authorized key',
};

interface Want {
  findings: Finding[];
  reasons: string[];
}

function want<W extends Want>(map: Map<string, W>, key: string, f: Finding, reason: string): W {
  let w = map.get(key);
  if (!w) {
    w = { findings: [], reasons: [] } as Want as W;
    map.set(key, w);
  }
  if (!w.findings.includes(f)) w.findings.push(f);
  if (!w.reasons.includes(reason)) w.reasons.push(reason);
  return w;
}

interface ProcWant extends Want {
  identity: ProcessIdentity;
}

interface EditWant extends Want {
  kind: 'remove-line' | 'remove-hosts-entry';
  /** line → names to drop (hosts) or null (whole line). */
  lines: Map<number, Set<string> | null>;
  rule: string;
}

/** Path a persistence finding is about ('cron:/etc/crontab' → '/etc/crontab'). */
function persistencePath(f: Finding): string | undefined {
  if (typeof f.persistence === 'string') {
    const i = f.persistence.indexOf(':');
    if (i > 0) return f.persistence.slice(i + 1);
  }
  return f.evidence.find((e) => e.kind === 'file' && e.path)?.path;
}

function lineEvidence(f: Finding, p: string): Evidence[] {
  return f.evidence.filter((e) => e.path === p && typeof e.line === 'number' && e.line > 0);
}

/** Bytes of each line (split on '\n', '\r' kept with its line). */
export function splitLines(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  for (;;) {
    const i = buf.indexOf(0x0a, start);
    if (i < 0) {
      out.push(buf.subarray(start));
      return out;
    }
    out.push(buf.subarray(start, i));
    start = i + 1;
  }
}

export function lineSha(b: Uint8Array): string {
  return sha256(b).slice(0, 32);
}

function printable(b: Buffer, max = 200): string {
  const t = b
    .toString('latin1')
    .replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ')
    .trim();
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}

/** A command line of a cron/init file: not blank, not a comment, not a VAR=value setting. */
function isCommand(b: Buffer): boolean {
  const t = b.toString('latin1').trim();
  return t !== '' && !t.startsWith('#') && !/^[A-Za-z_][A-Za-z0-9_]*\s*=/.test(t);
}

/** Rewrites a hosts line without `drop` names; null when no name is left (the line goes). */
export function hostsLineWithout(line: string, drop: ReadonlySet<string>): string | null {
  const cr = line.endsWith('\r') ? '\r' : '';
  const body = cr ? line.slice(0, -1) : line;
  const hash = body.indexOf('#');
  const data = hash >= 0 ? body.slice(0, hash) : body;
  const comment = hash >= 0 ? body.slice(hash) : '';
  const [ip, ...names] = data.trim().split(/\s+/);
  const kept = names.filter((n) => !drop.has(n.toLowerCase()));
  if (!ip || kept.length === 0) return null;
  if (kept.length === names.length) return line;
  return `${ip}\t${kept.join(' ')}${comment ? ` ${comment}` : ''}${cr}`;
}

function titleOf(f: Finding): string {
  return f.title;
}

export function planCleanup(
  scan: Pick<ScanResult, 'findings' | 'host'>,
  root: RootInfo,
  io: PlanIO,
  opts: PlanOptions = {},
): CleanupPlan {
  const threshold = opts.threshold ?? 'medium';
  const procs = new Map<string, ProcWant>();
  const quarantine = new Map<string, Want>();
  const edits = new Map<string, EditWant>();
  const units = new Map<string, Want>();
  const tools = new Map<string, Want & { from: string }>();
  const notes: { f: Finding; text: string }[] = [];
  const planNotes: string[] = [];
  let considered = 0;
  let ignored = 0;

  const addProc = (ev: Evidence, f: Finding) => {
    if (typeof ev.pid !== 'number') return false;
    const w = want(procs, String(ev.pid), f, titleOf(f)) as ProcWant;
    w.identity ??= {};
    if (ev.path && !w.identity.exe) w.identity.exe = ev.path;
    if (ev.cmdline && !w.identity.cmdline) w.identity.cmdline = ev.cmdline;
    if (typeof ev.comm === 'string' && !w.identity.comm) w.identity.comm = ev.comm;
    return true;
  };
  const addEdit = (
    p: string,
    kind: EditWant['kind'],
    line: number,
    name: string | null,
    f: Finding,
    reason: string,
  ) => {
    const w = want(edits, p, f, reason) as EditWant;
    w.kind ??= kind;
    w.rule ??= f.rule;
    w.lines ??= new Map();
    const cur = w.lines.get(line);
    if (name === null || cur === null) w.lines.set(line, null);
    else w.lines.set(line, new Set([...(cur ?? []), name.toLowerCase()]));
  };

  for (const f of scan.findings) {
    if (!severityAtLeast(f.severity, threshold)) {
      ignored++;
      continue;
    }
    considered++;
    const r = f.rule;
    if (r === 'host.process.hidden-cpu') {
      notes.push({
        f,
        text: `${f.title}: look for a rootkit hiding the process (ld.so.preload, kernel module)`,
      });
      continue;
    }
    if (r.startsWith('host.process.') || r.startsWith('host.net.')) {
      const pev = f.evidence.find((e) => e.kind === 'process' && typeof e.pid === 'number');
      const ev = pev ?? f.evidence.find((e) => typeof e.pid === 'number');
      if (!ev) {
        notes.push({
          f,
          text: `${f.title}: no process owns it here; block the endpoint (minewatch block) and look further`,
        });
        continue;
      }
      const exe = pev?.path;
      const deleted = pev?.exe_deleted === true;
      if (
        r === 'host.process.suspicious-exe' &&
        f.severity === 'medium' &&
        deleted &&
        !(exe && TEMP_DIR_RE.test(exe))
      ) {
        notes.push({
          f,
          text: `${f.title}: a deleted executable is common after a package upgrade; check pid ${ev.pid} and stop it by hand if it is not`,
        });
        continue;
      }
      addProc(pev ?? ev, f);
      if (
        exe &&
        !deleted &&
        severityAtLeast(f.severity, 'high') &&
        (CONVICTING.has(r) || TEMP_DIR_RE.test(exe)) &&
        !SYSTEM_BIN_RE.test(exe)
      )
        want(quarantine, exe, f, `executable of process ${ev.pid}: ${f.title}`);
      continue;
    }
    if (r === 'host.persistence.redis-crontab') {
      const p = persistencePath(f);
      if (p) want(quarantine, p, f, f.title);
      continue;
    }
    if (r === 'host.persistence.systemd') {
      const p = persistencePath(f);
      if (p) want(units, p, f, f.title);
      continue;
    }
    if (r === 'host.persistence.scheduled-task' || r === 'host.persistence.startup') {
      const p = persistencePath(f);
      if (p) want(quarantine, p, f, f.title);
      continue;
    }
    if (r === 'host.persistence.wmi-subscription') {
      // The repository is WMI's own database: quarantining it would break Windows management, and its
      // records cannot be cut out of it offline. The subscription is removed on the running system.
      notes.push({
        f,
        text:
          `${f.title}: remove the subscription on the running system, as administrator: ` +
          'Get-WmiObject -Namespace root\\subscription -Class __FilterToConsumerBinding | Remove-WmiObject, then ' +
          'the __EventConsumer and __EventFilter it bound (list them first: Get-WmiObject -Namespace root\\subscription -Class __EventConsumer)',
      });
      continue;
    }
    if (r === 'host.persistence.ld-preload') {
      const p = persistencePath(f);
      if (!p) continue;
      const evs = lineEvidence(f, p);
      const odd = evs.filter(
        (e) =>
          typeof e.excerpt === 'string' &&
          (!SYSTEM_LIB_RE.test(e.excerpt) ||
            TEMP_DIR_RE.test(e.excerpt) ||
            /processhider|hide/i.test(e.excerpt)),
      );
      if (!severityAtLeast(f.severity, 'high')) {
        notes.push({ f, text: `${f.title}: libraries from system directories; check them by hand` });
        continue;
      }
      for (const e of odd.length ? odd : evs) {
        addEdit(p, 'remove-line', e.line!, null, f, `${LINE_RULES[r]}: ${e.excerpt ?? ''}`);
        const lib = typeof e.excerpt === 'string' ? e.excerpt : '';
        if (lib.startsWith('/') && odd.includes(e)) want(quarantine, lib, f, `library preloaded by ${p}`);
      }
      continue;
    }
    if (LINE_RULES[r]) {
      const p = persistencePath(f);
      if (!p) continue;
      for (const e of lineEvidence(f, p)) addEdit(p, 'remove-line', e.line!, null, f, f.title);
      continue;
    }
    if (r === 'host.hosts-file.pool' || r === 'host.hosts-file.security-block') {
      const ev = f.evidence.find((e) => e.path && typeof e.line === 'number');
      if (!ev) continue;
      const ip = f.pool?.ip;
      if (r === 'host.hosts-file.pool' && ip && SINKHOLE_RE.test(ip)) {
        notes.push({ f, text: `${f.title}: kept, the entry blocks the pool` });
        continue;
      }
      const name =
        r === 'host.hosts-file.pool' ? (f.pool?.host ?? null) : (/domain (\S+)$/.exec(f.title)?.[1] ?? null);
      addEdit(ev.path!, 'remove-hosts-entry', ev.line!, name, f, f.title);
      continue;
    }
    if (r === 'host.tamper.download-tool') {
      const [target, ...renamed] = f.evidence.filter((e) => e.path);
      if (!target?.path) continue;
      const copy =
        renamed.find((e) => typeof e.excerpt === 'string' && /ELF/.test(e.excerpt)) ??
        renamed.sort(
          (a, b) =>
            (Number.parseInt(String(b.excerpt), 10) || 0) - (Number.parseInt(String(a.excerpt), 10) || 0),
        )[0];
      if (!copy?.path) {
        notes.push({
          f,
          text: `${f.title}: no renamed copy to put back; reinstall it from the package manager`,
        });
        continue;
      }
      const w = want(tools, target.path, f, f.title) as Want & { from: string };
      w.from ??= copy.path;
      continue;
    }
    if (r === 'host.file.mining-reference') {
      notes.push({
        f,
        text: `${f.title}: it runs nothing; review and remove it by hand if it is the miner's`,
      });
      continue;
    }
    if (r.startsWith('host.file.')) {
      const p = f.evidence.find((e) => e.kind === 'file' && e.path)?.path;
      if (p) want(quarantine, p, f, f.title);
      continue;
    }
    notes.push({ f, text: `${f.title}: no automatic action for ${r}` });
  }

  // Tools: a script or stub sitting at the tool's path is quarantined first, then the real tool moves back.
  for (const [p, w] of tools) {
    const k = io.kind(p);
    if (k === 'file' || k === 'symlink')
      for (const f of w.findings) want(quarantine, p, f, `replaced ${path.posix.basename(p)} (${f.title})`);
    if (io.kind(w.from) !== 'file') {
      tools.delete(p);
      planNotes.push(`${p}: the renamed copy ${w.from} is gone; reinstall ${path.posix.basename(p)}`);
    }
  }

  // Line edits: resolve links, read the file, promote all-malicious crontabs / init scripts to whole files.
  const editSteps: { p: string; w: EditWant; lines: LineEdit[] }[] = [];
  for (const [p0, w] of edits) {
    const p = io.resolve(p0) ?? p0;
    const whole = quarantine.has(p0) ? p0 : quarantine.has(p) ? p : units.has(p) ? p : undefined;
    if (whole) {
      // The file goes whole anyway: its line findings join that step.
      for (const f of w.findings) want(quarantine.has(whole) ? quarantine : units, whole, f, f.title);
      continue;
    }
    const buf = io.read(p);
    if (!buf) {
      planNotes.push(`${p0}: not a readable regular file now; nothing removed`);
      continue;
    }
    const segs = splitLines(buf);
    const flagged = [...w.lines.keys()].filter((n) => n >= 1 && n <= segs.length);
    const commands = segs.map((s, i) => (isCommand(s) ? i + 1 : 0)).filter((n) => n > 0);
    const allBad = commands.length > 0 && commands.every((n) => w.lines.has(n));
    if (w.kind === 'remove-line' && allBad && WHOLE_CRON_RE.test(p) && w.rule === 'host.persistence.cron') {
      for (const f of w.findings) want(quarantine, p, f, `every command in it is malicious: ${f.title}`);
      continue;
    }
    if (
      w.kind === 'remove-line' &&
      allBad &&
      INIT_DIR_RE.test(p) &&
      w.rule === 'host.persistence.init-script'
    ) {
      for (const f of w.findings) want(units, p, f, `every command in it is malicious: ${f.title}`);
      continue;
    }
    // Entries minewatch's own blocklist wrote (between its markers) are never taken out.
    let inBlock = false;
    const ours = new Set<number>();
    segs.forEach((s, i) => {
      const t = s.toString('latin1');
      if (t.startsWith(HOSTS_BEGIN)) inBlock = true;
      if (inBlock) ours.add(i + 1);
      if (t.startsWith(HOSTS_END)) inBlock = false;
    });
    const lines: LineEdit[] = [];
    for (const n of flagged.sort((a, b) => a - b)) {
      if (w.kind === 'remove-hosts-entry' && ours.has(n)) continue;
      const seg = segs[n - 1]!;
      const le: LineEdit = { line: n, text: printable(seg), sha: lineSha(seg) };
      const names = w.lines.get(n);
      if (w.kind === 'remove-hosts-entry' && names) {
        const rep = hostsLineWithout(seg.toString('latin1'), names);
        if (rep === seg.toString('latin1')) continue;
        if (rep !== null) le.replace = rep;
      }
      lines.push(le);
    }
    if (lines.length) editSteps.push({ p, w, lines });
  }

  // Units (and init scripts) go with their enablement links; a unit's file is not also quarantined.
  const unitSteps: { p: string; w: Want; links: string[] }[] = [];
  for (const [p, w] of units) {
    quarantine.delete(p);
    const k = io.kind(p);
    if (k !== 'file' && k !== 'symlink') {
      planNotes.push(`${p}: gone already`);
      continue;
    }
    unitSteps.push({ p, w, links: enablementLinks(io, p) });
  }

  const quarantineSteps: { p: string; w: Want }[] = [];
  for (const [p, w] of quarantine) {
    const k = io.kind(p);
    if (k === 'file' || k === 'symlink') quarantineSteps.push({ p, w });
    else if (k === 'dir') planNotes.push(`${p}: a directory; quarantine moves files only, review it by hand`);
    else if (k === undefined) planNotes.push(`${p}: gone already (or below a missing directory)`);
    else planNotes.push(`${p}: not a regular file (${k}); left alone`);
  }

  // Immutable / append-only flags on anything touched, or on its directory, must be cleared first.
  const flagSteps: { p: string; flags: string; w: Want }[] = [];
  if (io.flags) {
    const touched = new Map<string, Want>();
    const touch = (p: string, w: Want, self: boolean) => {
      if (self && io.kind(p) === 'file' && !touched.has(p)) touched.set(p, w);
      const d = path.posix.dirname(p);
      if (!touched.has(d)) touched.set(d, w);
    };
    for (const s of quarantineSteps) touch(s.p, s.w, true);
    for (const s of editSteps) touch(s.p, s.w, true);
    for (const s of unitSteps) {
      touch(s.p, s.w, true);
      for (const l of s.links) touch(l, s.w, false);
    }
    for (const [p, w] of tools) {
      touch(p, w, true);
      touch(w.from, w, true);
    }
    const unsupported = new Set<string>();
    for (const [p, w] of touched) {
      const r = io.flags(p);
      if (r.ok) {
        if (r.flags) flagSteps.push({ p, flags: r.flags, w });
      } else if (!unsupported.has(r.reason)) {
        unsupported.add(r.reason);
        planNotes.push(`immutable flags not checked (${p}: ${r.reason}); skipped`);
      }
    }
  }

  // Emit in phase order.
  const steps: PlanStep[] = [];
  const emit = (kind: StepKind, w: Want, extra: Partial<PlanStep>, reason?: string) => {
    const ids = w.findings.map((f) => f.id);
    const s: PlanStep = {
      id: '',
      kind,
      ...extra,
      reason: reason ?? w.reasons.join('; '),
      finding_id: ids[0] ?? '',
      finding_ids: [...new Set(ids)],
      rules: [...new Set(w.findings.map((f) => f.rule))],
    };
    steps.push(s);
  };
  const notLive = root.live ? undefined : 'not the live system';
  const pids = [...procs.keys()].map(Number).sort((a, b) => a - b);
  if (notLive && pids.length)
    planNotes.unshift(
      `${root.root} is not the live system: its proc/ is a record, so no process of this machine is signalled (stop and kill steps are skipped)`,
    );
  for (const pid of pids) {
    const w = procs.get(String(pid))!;
    emit('stop', w, { pid, process: w.identity, ...(notLive ? { skip: notLive } : {}) });
  }
  for (const s of flagSteps.sort((a, b) => a.p.localeCompare(b.p)))
    emit('clear-immutable', s.w, { path: s.p, flags: s.flags }, `chattr +${s.flags} set on ${s.p}`);
  for (const s of unitSteps) emit('disable-unit', s.w, { path: s.p, links: s.links });
  for (const s of editSteps.filter((e) => e.w.kind === 'remove-line'))
    emit('remove-line', s.w, { path: s.p, line: s.lines[0]!.line, lines: s.lines });
  for (const s of editSteps.filter((e) => e.w.kind === 'remove-hosts-entry'))
    emit('remove-hosts-entry', s.w, { path: s.p, line: s.lines[0]!.line, lines: s.lines });
  for (const s of quarantineSteps.sort((a, b) => a.p.localeCompare(b.p)))
    emit('quarantine', s.w, { path: s.p });
  for (const [p, w] of tools)
    emit('restore-tool', w, { path: p, from: w.from }, `put ${w.from} back as ${p}`);
  for (const pid of pids) {
    const w = procs.get(String(pid))!;
    emit('kill', w, { pid, process: w.identity, ...(notLive ? { skip: notLive } : {}) });
  }
  for (const n of notes) emit('note', { findings: [n.f], reasons: [] }, { skip: 'needs a person' }, n.text);
  steps.sort((a, b) => STEP_KINDS.indexOf(a.kind) - STEP_KINDS.indexOf(b.kind));
  steps.forEach((s, i) => {
    s.id = `${String(i + 1).padStart(2, '0')}-${s.kind}`;
  });
  return {
    root: root.root,
    live: root.live,
    steps,
    notes: planNotes,
    findings: { considered, ignored },
  };
}

/** `*.wants/UNIT` and `*.requires/UNIT` links of a systemd unit, `rc?.d/[SK]NNname` links of an init script. */
function enablementLinks(io: PlanIO, p: string): string[] {
  const base = path.posix.basename(p);
  const out: string[] = [];
  if (INIT_DIR_RE.test(p)) {
    const etc = p.startsWith('/etc/rc.d/') ? '/etc/rc.d' : '/etc';
    for (const d of io.list(etc).filter((n) => /^rc[0-6S]\.d$/.test(n)))
      for (const n of io.list(`${etc}/${d}`))
        if (n.replace(/^[SK]\d\d/, '') === base && io.kind(`${etc}/${d}/${n}`) === 'symlink')
          out.push(`${etc}/${d}/${n}`);
    return out.sort();
  }
  for (const dir of [
    '/etc/systemd/system',
    '/lib/systemd/system',
    '/usr/lib/systemd/system',
    '/run/systemd/system',
  ])
    for (const sub of io.list(dir).filter((n) => /\.(?:wants|requires)$/.test(n)))
      for (const n of io.list(`${dir}/${sub}`)) {
        const l = `${dir}/${sub}/${n}`;
        if (n === base && io.kind(l) === 'symlink' && path.posix.basename(io.readlink(l) ?? '') === base)
          out.push(l);
      }
  // A unit linked under another name (alias) into /etc/systemd/system.
  for (const n of io.list('/etc/systemd/system')) {
    const l = `/etc/systemd/system/${n}`;
    if (l !== p && io.kind(l) === 'symlink' && io.readlink(l) === p) out.push(l);
  }
  return [...new Set(out)].sort();
}
