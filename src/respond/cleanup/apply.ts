/**
 * Carrying out a cleanup plan, journal first: for every step an `intent` entry (with everything restore
 * needs: original metadata, hashes, backup names) is fsync'd before the change, and a `done` entry after.
 * Each step converges on its end state instead of assuming where it starts, so `resume` after a kill -9
 * finishes a half-done step (a file already moved, an edit already renamed into place) and `restore`
 * undoes one from either side.
 *
 * Decisions:
 * - Quarantine moves (rename; copy + fsync + unlink across file systems), never deletes; the stored copy is
 *   made read-only and non-executable (0400) and described in the quarantine manifest with its hash, owner,
 *   mode, times and original path.
 * - A line edit writes the new content to a temp file beside the original, gives it the original's owner and
 *   mode, fsyncs and renames it over: a crash leaves the old or the new file, never half of one. The edited
 *   file gets a fresh mtime on purpose (cron reloads a crontab when its mtime changes); the original bytes
 *   and times are in the journal's backup/ and come back with restore. Extended attributes and ACLs of an
 *   edited file are not copied (a new file takes its directory's defaults).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { VERSION } from '../../version.ts';
import { type AttrControl, e2fsAttrs } from './attrs.ts';
import {
  applyMeta,
  CleanRoot,
  CleanupError,
  dirTimes,
  fsyncPath,
  lstatBig,
  metaOf,
  moveDurable,
  sameContent,
  sha256,
  sha256File,
  writeFileDurable,
} from './fsutil.ts';
import { Journal, newJournalId } from './journal.ts';
import { lineSha, splitLines } from './plan.ts';
import { killTree, liveProcesses, type ProcessControl, stopTree } from './procs.ts';
import type {
  CleanupPlan,
  DirTimes,
  JournalEntry,
  LineEdit,
  MovedItem,
  PlanStep,
  StepResult,
  Undo,
} from './types.ts';

export interface ApplyOptions {
  journalDir: string;
  quarantineDir: string;
  /** Signals processes; default: this machine's, and only when the plan's root is '/'. */
  control?: ProcessControl;
  attrs?: AttrControl;
  /** Quarantine by copy + unlink even on one file system (exercises the cross-device path). */
  forceCopy?: boolean;
  /** Crash hook for tests: 'N' = SIGKILL self after journal entry N, 'N:changed' = after the change entry N announced. */
  crashAfter?: string;
  journalId?: string;
  /**
   * Stop at the first failed step (the fleet agent's remote clean): the journal ends 'partial' and holds
   * everything done so far, so `restore` undoes it; later steps are not tried.
   */
  stopOnFailure?: boolean;
  /** Progress, one line per step. */
  onStep?(r: StepResult): void;
}

export interface ApplyResult {
  journal: string;
  journal_dir: string;
  quarantine: string;
  status: 'complete' | 'partial';
  applied: StepResult[];
}

export const CRASH_ENV = 'MINEWATCH_CLEAN_CRASH_AFTER';

/** Carries out a plan under a new journal. */
export async function applyPlan(plan: CleanupPlan, opts: ApplyOptions): Promise<ApplyResult> {
  fs.mkdirSync(opts.journalDir, { recursive: true, mode: 0o700 });
  const id = opts.journalId ?? newJournalId();
  const qdir = path.join(path.resolve(opts.quarantineDir), id);
  const j = Journal.create(opts.journalDir, plan, qdir, id);
  armCrash(j, opts);
  j.append({
    type: 'begin',
    id: j.id,
    root: path.resolve(plan.root),
    live: plan.live,
    quarantine: qdir,
    steps: plan.steps.length,
    version: VERSION,
  });
  return run(j, plan, qdir, opts);
}

/** Finishes an interrupted cleanup from its journal. */
export async function resumeCleanup(
  idOrPath: string,
  opts: Omit<ApplyOptions, 'quarantineDir' | 'journalId'>,
): Promise<ApplyResult> {
  const j = Journal.open(opts.journalDir, idOrPath);
  const plan = j.plan;
  if (j.entries.some((e) => e.type === 'restore-begin'))
    throw new CleanupError(`journal ${j.id} was restored; plan the cleanup again instead of resuming it`);
  let begin = j.entries.find((e): e is Extract<JournalEntry, { type: 'begin' }> => e.type === 'begin');
  armCrash(j, opts);
  if (!begin) {
    // Interrupted before its first entry: nothing was changed, start it properly.
    const qd = j.quarantine;
    begin = j.append<Extract<JournalEntry, { type: 'begin' }>>({
      type: 'begin',
      id: j.id,
      root: path.resolve(plan.root),
      live: plan.live,
      quarantine: qd,
      steps: plan.steps.length,
      version: VERSION,
    });
  }
  return run(j, plan, begin.quarantine, opts);
}

function armCrash(j: Journal, opts: Pick<ApplyOptions, 'crashAfter'>): void {
  crashAfterChange = undefined;
  const spec = opts.crashAfter ?? process.env[CRASH_ENV];
  if (!spec) return;
  const m = /^(\d+)(:changed)?$/.exec(spec);
  if (!m) return;
  const n = Number(m[1]);
  if (!m[2])
    j.onAppend = (seq) => {
      if (seq === n) process.kill(process.pid, 'SIGKILL');
    };
  else crashAfterChange = n;
}

let crashAfterChange: number | undefined;
function changed(intentSeq: number): void {
  if (crashAfterChange === intentSeq) process.kill(process.pid, 'SIGKILL');
}

interface Ctx {
  j: Journal;
  plan: CleanupPlan;
  root: CleanRoot;
  qdir: string;
  control: ProcessControl | undefined;
  attrs: AttrControl;
  forceCopy: boolean;
  realLive: boolean;
}

async function run(
  j: Journal,
  plan: CleanupPlan,
  qdir: string,
  opts: ApplyOptions | Omit<ApplyOptions, 'quarantineDir' | 'journalId'>,
): Promise<ApplyResult> {
  const realLive = path.resolve(plan.root) === '/';
  let control = opts.control;
  if (control?.real && !realLive)
    throw new CleanupError('refusing to signal real processes for a root other than /');
  if (!control && plan.live && realLive) control = liveProcesses();
  const ctx: Ctx = {
    j,
    plan,
    root: new CleanRoot(plan.root),
    qdir,
    control,
    attrs: opts.attrs ?? e2fsAttrs,
    forceCopy: opts.forceCopy ?? false,
    realLive,
  };
  const results: StepResult[] = [];
  try {
    for (const step of plan.steps) {
      const r = await runStep(ctx, step);
      results.push(r);
      opts.onStep?.(r);
      if (r.status === 'failed' && 'stopOnFailure' in opts && opts.stopOnFailure) break;
    }
    const status = results.some((r) => r.status === 'failed') ? 'partial' : 'complete';
    j.append({ type: 'end', status });
    return { journal: j.id, journal_dir: j.dir, quarantine: qdir, status, applied: results };
  } finally {
    j.close();
  }
}

function base(step: PlanStep): Pick<StepResult, 'id' | 'kind' | 'path' | 'pid'> {
  const r: Pick<StepResult, 'id' | 'kind' | 'path' | 'pid'> = { id: step.id, kind: step.kind };
  if (step.path) r.path = step.path;
  if (step.pid !== undefined) r.pid = step.pid;
  return r;
}

function entriesOf(j: Journal, step: string): JournalEntry[] {
  return j.entries.filter((e) => 'step' in e && e.step === step);
}

async function runStep(ctx: Ctx, step: PlanStep): Promise<StepResult> {
  const prior = entriesOf(ctx.j, step.id);
  const done = prior.find((e) => e.type === 'done');
  if (done && done.type === 'done')
    return { ...base(step), status: 'already', ...(done.detail ? { detail: done.detail } : {}) };
  const skipReason =
    step.skip ??
    ((step.kind === 'stop' || step.kind === 'kill') && !ctx.control
      ? 'no process control for this root'
      : undefined);
  if (skipReason) {
    if (!prior.some((e) => e.type === 'skipped'))
      ctx.j.append({ type: 'skipped', step: step.id, reason: skipReason });
    return { ...base(step), status: 'skipped', detail: skipReason };
  }
  const intent = prior.find((e) => e.type === 'intent');
  try {
    const out = await execute(ctx, step, intent?.type === 'intent' ? intent : undefined);
    ctx.j.append({
      type: 'done',
      step: step.id,
      ...(out.detail ? { detail: out.detail } : {}),
      ...(out.pids ? { pids: out.pids } : {}),
    });
    return { ...base(step), status: 'done', ...(out.detail ? { detail: out.detail } : {}) };
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    let msg = err.message ?? String(e);
    if (err.code === 'EPERM' || err.code === 'EACCES')
      msg += ' (an immutable or append-only flag? see lsattr; or not enough privilege)';
    ctx.j.append({ type: 'failed', step: step.id, error: msg });
    return { ...base(step), status: 'failed', detail: msg };
  }
}

interface Out {
  detail?: string;
  pids?: number[];
}

function parentsOf(ctx: Ctx, rels: string[]): DirTimes[] {
  const out: DirTimes[] = [];
  for (const d of [...new Set(rels.map((r) => path.posix.dirname(r)))]) {
    const t = dirTimes(ctx.root.hostPath(d), d);
    if (t) out.push(t);
  }
  return out;
}

type Intent = Extract<JournalEntry, { type: 'intent' }>;

async function execute(ctx: Ctx, step: PlanStep, intent: Intent | undefined): Promise<Out> {
  switch (step.kind) {
    case 'stop': {
      const it = intent ?? announce(ctx, step, { kind: 'signal', pids: [step.pid!] }, []);
      const pids = stopTree(ctx.control!, step.pid!, step.process);
      changed(it.seq);
      return pids.length ? { detail: `stopped ${pids.join(', ')}`, pids } : { detail: 'not running', pids };
    }
    case 'kill': {
      const stopStep = ctx.plan.steps.find((s) => s.kind === 'stop' && s.pid === step.pid);
      const stopped = stopStep
        ? entriesOf(ctx.j, stopStep.id).flatMap((e) => (e.type === 'done' ? (e.pids ?? []) : []))
        : [];
      const it =
        intent ?? announce(ctx, step, { kind: 'signal', pids: stopped.length ? stopped : [step.pid!] }, []);
      const pids = await killTree(ctx.control!, step.pid!, stopped, step.process);
      changed(it.seq);
      return pids.length ? { detail: `killed ${pids.join(', ')}`, pids } : { detail: 'not running', pids };
    }
    case 'clear-immutable': {
      const host = ctx.root.hostPath(step.path!);
      const now = ctx.attrs.read(host);
      if (!now.ok) throw new Error(`cannot read flags: ${now.reason}`);
      const recorded = intent?.undo.kind === 'flags' ? intent.undo.flags : undefined;
      if (!now.flags) return { detail: recorded ? `cleared ${recorded}` : 'already clear' };
      const it = intent ?? announce(ctx, step, { kind: 'flags', path: step.path!, flags: now.flags }, []);
      ctx.attrs.change(host, '-', now.flags);
      changed(it.seq);
      return { detail: `cleared ${now.flags}` };
    }
    case 'quarantine':
      return moveItems(ctx, step, intent, [step.path!]);
    case 'disable-unit': {
      const isSystemd = !/\/init\.d\//.test(step.path!);
      const unit = path.posix.basename(step.path!);
      if (ctx.realLive && ctx.plan.live && isSystemd) systemctl(['stop', unit]);
      const out = await moveItems(
        ctx,
        step,
        intent,
        [...(step.links ?? []), step.path!],
        isSystemd ? unit : undefined,
      );
      if (ctx.realLive && ctx.plan.live && isSystemd) systemctl(['daemon-reload']);
      return out;
    }
    case 'remove-line':
    case 'remove-hosts-entry':
      return editLines(ctx, step, intent);
    case 'restore-tool':
      return restoreTool(ctx, step, intent);
    case 'note':
      return { detail: 'nothing to do' };
  }
}

function announce(ctx: Ctx, step: PlanStep, undo: Undo, parents: DirTimes[]): Intent {
  return ctx.j.append<Intent>({ type: 'intent', step: step.id, kind: step.kind, undo, parents });
}

export function systemctl(args: string[]): void {
  // Best effort: without systemd (a container, an old init) moving the unit aside is what counts.
  spawnSync('systemctl', args, { stdio: 'ignore', timeout: 30_000 });
}

function storedName(step: PlanStep, i: number, rel: string): string {
  const b =
    path.posix
      .basename(rel)
      .replace(/[^A-Za-z0-9._-]/g, '_')
      .slice(0, 80) || 'file';
  return `files/${step.id}-${i}-${b}`;
}

async function moveItems(
  ctx: Ctx,
  step: PlanStep,
  intent: Intent | undefined,
  rels: string[],
  unit?: string,
): Promise<Out> {
  fs.mkdirSync(path.join(ctx.qdir, 'files'), { recursive: true, mode: 0o700 });
  let items: MovedItem[];
  let it: Intent;
  if (intent?.undo.kind === 'move') {
    items = intent.undo.items;
    it = intent;
  } else {
    items = rels.map((rel, i) => {
      const meta = metaOf(ctx.root.hostPath(rel));
      if (!meta) throw new CleanupError(`${rel} is gone`);
      if (meta.type !== 'file' && meta.type !== 'symlink')
        throw new CleanupError(`${rel} is a ${meta.type}, not moved`);
      return { path: rel, stored: storedName(step, i, rel), meta };
    });
    it = announce(ctx, step, { kind: 'move', items, ...(unit ? { unit } : {}) }, parentsOf(ctx, rels));
  }
  let moved = 0;
  for (const item of items) {
    const orig = ctx.root.hostPath(item.path);
    const dest = path.join(ctx.qdir, item.stored);
    const origHere = lstatBig(orig) !== undefined;
    const destOk = sameContent(dest, item.meta);
    if (origHere) {
      if (!sameContent(orig, item.meta))
        throw new CleanupError(`${item.path} changed since it was planned (hash differs); left in place`);
      if (destOk) {
        // A copy finished before the crash: only the unlink was missing.
        fs.unlinkSync(orig);
        fsyncPath(path.dirname(orig));
      } else moveDurable(orig, dest, ctx.forceCopy);
      moved++;
    } else if (!destOk) throw new CleanupError(`${item.path} is gone and not in the quarantine either`);
    if (item.meta.type === 'file') fs.chmodSync(dest, 0o400);
    addManifest(ctx, step, item);
  }
  changed(it.seq);
  return {
    detail: `${moved ? 'moved' : 'already moved'} ${items.length === 1 ? 'it' : `${items.length} files`} to ${ctx.qdir}`,
  };
}

function addManifest(ctx: Ctx, step: PlanStep, item: MovedItem): void {
  const mf = path.join(ctx.qdir, 'manifest.ndjson');
  let have = '';
  try {
    have = fs.readFileSync(mf, 'utf8');
  } catch {
    // First item.
  }
  if (have.includes(`"stored":${JSON.stringify(item.stored)}`)) return;
  const m = item.meta;
  const rec = {
    journal: ctx.j.id,
    step: step.id,
    root: path.resolve(ctx.plan.root),
    path: item.path,
    stored: item.stored,
    type: m.type,
    sha256: m.sha256,
    size: m.size,
    uid: m.uid,
    gid: m.gid,
    mode: m.mode.toString(8).padStart(4, '0'),
    mtime: new Date(Number(BigInt(m.mtime_ns) / 1_000_000n)).toISOString(),
    mtime_ns: m.mtime_ns,
    atime_ns: m.atime_ns,
    ...(m.link_target !== undefined ? { link_target: m.link_target } : {}),
    reason: step.reason,
    findings: step.finding_ids,
    time: new Date().toISOString(),
  };
  const fd = fs.openSync(mf, 'a', 0o600);
  try {
    fs.writeSync(fd, `${JSON.stringify(rec)}\n`);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** The file's bytes with the planned lines removed or rewritten; a line that moved is found by its hash. */
export function editedBytes(buf: Buffer, edits: LineEdit[]): Buffer {
  const segs = splitLines(buf);
  const hashes = segs.map((s) => lineSha(s));
  const plan = new Map<number, LineEdit>();
  for (const e of edits) {
    let i = e.line - 1;
    if (hashes[i] !== e.sha) {
      const cands = hashes.flatMap((h, k) => (h === e.sha && !plan.has(k) ? [k] : []));
      if (!cands.length)
        throw new CleanupError(`line ${e.line} ('${e.text.slice(0, 60)}') is no longer in the file`);
      i = cands.reduce((a, b) => (Math.abs(b - (e.line - 1)) < Math.abs(a - (e.line - 1)) ? b : a));
    }
    plan.set(i, e);
  }
  const out: Buffer[] = [];
  segs.forEach((s, i) => {
    const e = plan.get(i);
    if (!e) out.push(s);
    else if (e.replace !== undefined) out.push(Buffer.from(e.replace, 'latin1'));
  });
  // Removing the last line of a file without a final newline must not leave the previous '\n' dangling.
  const joined: Buffer[] = [];
  out.forEach((s, i) => {
    if (i > 0) joined.push(Buffer.from('\n'));
    joined.push(s);
  });
  return Buffer.concat(joined);
}

async function editLines(ctx: Ctx, step: PlanStep, intent: Intent | undefined): Promise<Out> {
  const host = ctx.root.hostPath(step.path!);
  let u: Extract<Undo, { kind: 'edit' }>;
  let it: Intent;
  if (intent?.undo.kind === 'edit') {
    u = intent.undo;
    it = intent;
  } else {
    const meta = metaOf(host);
    if (meta?.type !== 'file') throw new CleanupError(`${step.path} is not a regular file now`);
    const before = fs.readFileSync(host);
    const after = editedBytes(before, step.lines ?? []);
    const backup = `${step.id}.orig`;
    writeFileDurable(ctx.j.backupPath(backup), before);
    u = {
      kind: 'edit',
      path: step.path!,
      backup,
      before_sha: sha256(before),
      after_sha: sha256(after),
      meta,
      tmp: `.minewatch-${ctx.j.id}-${step.id}.tmp`,
    };
    it = announce(ctx, step, u, parentsOf(ctx, [step.path!]));
  }
  const tmp = path.join(path.dirname(host), u.tmp);
  const cur = lstatBig(host)?.isFile() ? sha256File(host) : undefined;
  let detail: string;
  if (cur === u.after_sha) detail = 'already edited';
  else if (cur === u.before_sha) {
    const after = editedBytes(fs.readFileSync(ctx.j.backupPath(u.backup)), step.lines ?? []);
    writeReplacing(host, tmp, after, u.meta.mode, u.meta.uid, u.meta.gid);
    detail = `${step.kind === 'remove-hosts-entry' ? 'edited' : 'removed'} ${step.lines?.length ?? 0} line(s)`;
  } else throw new CleanupError(`${step.path} changed since it was planned; not edited`);
  fs.rmSync(tmp, { force: true });
  changed(it.seq);
  return { detail };
}

/** New content beside the file, owner and mode as the original's, fsync'd, renamed over it. */
export function writeReplacing(
  host: string,
  tmp: string,
  data: Buffer,
  mode: number,
  uid: number,
  gid: number,
): void {
  fs.rmSync(tmp, { force: true });
  const fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600);
  try {
    fs.writeSync(fd, data);
    try {
      fs.fchownSync(fd, uid, gid);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EPERM') throw e;
    }
    fs.fchmodSync(fd, mode);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, host);
  fsyncPath(path.dirname(host));
}

async function restoreTool(ctx: Ctx, step: PlanStep, intent: Intent | undefined): Promise<Out> {
  const from = ctx.root.hostPath(step.from!);
  const to = ctx.root.hostPath(step.path!);
  let u: Extract<Undo, { kind: 'rename' }>;
  let it: Intent;
  if (intent?.undo.kind === 'rename') {
    u = intent.undo;
    it = intent;
  } else {
    const meta = metaOf(from);
    if (meta?.type !== 'file') throw new CleanupError(`${step.from} is gone`);
    if (lstatBig(to)) throw new CleanupError(`${step.path} exists; not overwritten`);
    u = { kind: 'rename', from: step.from!, to: step.path!, meta };
    it = announce(ctx, step, u, parentsOf(ctx, [step.from!, step.path!]));
  }
  let detail = `${step.from} → ${step.path}`;
  if (sameContent(to, u.meta) && !lstatBig(from)) detail += ' (already)';
  else if (lstatBig(to)) throw new CleanupError(`${step.path} exists; not overwritten`);
  else if (!sameContent(from, u.meta)) throw new CleanupError(`${step.from} changed since it was planned`);
  else if (moveDurable(from, to, ctx.forceCopy) === 'copy') applyMeta(to, u.meta);
  changed(it.seq);
  return { detail };
}
