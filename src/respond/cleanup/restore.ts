/**
 * `restore`: undo a cleanup from its journal, complete or interrupted. Every step that has an `intent` is
 * undone, newest first, by converging on the state the intent recorded (bytes, owner, mode, nanosecond
 * times, link targets, then the directory's times), so a second restore finds everything in place and
 * changes nothing. Killed processes are not restarted; processes only stopped get SIGCONT.
 */
import fs from 'node:fs';
import path from 'node:path';
import { systemctl, writeReplacing } from './apply.ts';
import { type AttrControl, e2fsAttrs } from './attrs.ts';
import {
  applyMeta,
  CleanRoot,
  CleanupError,
  lstatBig,
  moveDurable,
  sameContent,
  setTimes,
  sha256File,
  writeFileDurable,
} from './fsutil.ts';
import { Journal } from './journal.ts';
import { liveProcesses, type ProcessControl } from './procs.ts';
import type { JournalEntry, StepResult, Undo } from './types.ts';

export interface RestoreOptions {
  journalDir: string;
  /** The root as it is mounted now, when not where it was cleaned. */
  root?: string;
  control?: ProcessControl;
  attrs?: AttrControl;
  onStep?(r: StepResult): void;
}

export interface RestoreResult {
  journal: string;
  root: string;
  status: 'complete' | 'partial';
  restored: StepResult[];
}

type Intent = Extract<JournalEntry, { type: 'intent' }>;

export async function restoreJournal(idOrPath: string, opts: RestoreOptions): Promise<RestoreResult> {
  const j = Journal.open(opts.journalDir, idOrPath);
  try {
    const begin = j.entries.find((e) => e.type === 'begin');
    const rootDir = path.resolve(opts.root ?? (begin?.type === 'begin' ? begin.root : j.plan.root));
    const qdir = begin?.type === 'begin' ? begin.quarantine : j.quarantine;
    const live = begin?.type === 'begin' ? begin.live : false;
    const realLive = rootDir === '/';
    let control = opts.control;
    if (control?.real && !realLive)
      throw new CleanupError('refusing to signal real processes for a root other than /');
    if (!control && live && realLive) control = liveProcesses();
    const root = new CleanRoot(rootDir);
    const attrs = opts.attrs ?? e2fsAttrs;
    const intents = j.entries.filter((e): e is Intent => e.type === 'intent').sort((a, b) => b.seq - a.seq);
    j.append({ type: 'restore-begin', root: rootDir });
    const out: StepResult[] = [];
    for (const it of intents) {
      const step = j.plan.steps.find((s) => s.id === it.step);
      const r: StepResult = { id: it.step, kind: it.kind, status: 'done' };
      if (step?.path) r.path = step.path;
      if (step?.pid !== undefined) r.pid = step.pid;
      try {
        const doneEntry = j.entries.find((e) => e.type === 'done' && e.step === it.step);
        const pids = doneEntry?.type === 'done' ? doneEntry.pids : undefined;
        r.detail = undo(it.undo, {
          root,
          qdir,
          attrs,
          control,
          live: live && realLive,
          j,
          kind: it.kind,
          pids,
        });
        for (const p of it.parents) {
          // The directory's own times last: putting its files back changed them.
          const host = root.hostPath(p.path);
          if (lstatBig(host)?.isDirectory()) setTimes(host, p.atime_ns, p.mtime_ns, false);
        }
        j.append({ type: 'restored', step: it.step, ...(r.detail ? { detail: r.detail } : {}) });
      } catch (e) {
        r.status = 'failed';
        r.detail = (e as Error).message;
        j.append({ type: 'restore-failed', step: it.step, error: r.detail });
      }
      out.push(r);
      opts.onStep?.(r);
    }
    const status = out.some((r) => r.status === 'failed') ? 'partial' : 'complete';
    j.append({ type: 'restore-end', status });
    return { journal: j.id, root: rootDir, status, restored: out };
  } finally {
    j.close();
  }
}

interface UndoCtx {
  root: CleanRoot;
  qdir: string;
  attrs: AttrControl;
  control: ProcessControl | undefined;
  live: boolean;
  j: Journal;
  kind: string;
  pids: number[] | undefined;
}

function undo(u: Undo, c: UndoCtx): string {
  switch (u.kind) {
    case 'move': {
      let back = 0;
      for (const item of [...u.items].reverse()) {
        const orig = c.root.hostPath(item.path);
        const stored = path.join(c.qdir, item.stored);
        if (sameContent(orig, item.meta)) {
          applyMeta(orig, item.meta);
          continue;
        }
        if (!lstatBig(stored)) throw new CleanupError(`${item.path}: quarantined copy ${stored} is missing`);
        if (lstatBig(orig)) {
          // Something new took the name since: keep it beside the journal rather than lose it.
          const aside = c.j.backupPath(`${path.basename(item.stored)}.found-at-restore`);
          moveDurable(orig, aside);
        }
        // Moved back (not copied): the stored copy is 0400, applyMeta gives the original mode back.
        moveDurable(stored, orig);
        applyMeta(orig, item.meta);
        back++;
      }
      if (u.unit && c.live) systemctl(['daemon-reload']);
      return back ? `${back} file(s) back from the quarantine` : 'already in place';
    }
    case 'edit': {
      const host = c.root.hostPath(u.path);
      const tmp = path.join(path.dirname(host), u.tmp);
      fs.rmSync(tmp, { force: true });
      const cur = lstatBig(host)?.isFile() ? sha256File(host) : undefined;
      if (cur === u.before_sha) {
        applyMeta(host, u.meta);
        return 'already in place';
      }
      if (cur !== undefined && cur !== u.after_sha)
        writeFileDurable(c.j.backupPath(`${u.backup}.found-at-restore`), fs.readFileSync(host));
      const orig = fs.readFileSync(c.j.backupPath(u.backup));
      writeReplacing(host, tmp, orig, u.meta.mode, u.meta.uid, u.meta.gid);
      applyMeta(host, u.meta);
      return 'original content back';
    }
    case 'rename': {
      const from = c.root.hostPath(u.from);
      const to = c.root.hostPath(u.to);
      if (sameContent(from, u.meta)) {
        applyMeta(from, u.meta);
        return 'already in place';
      }
      if (!sameContent(to, u.meta))
        throw new CleanupError(`${u.to} is not the tool moved there; ${u.from} not restored`);
      moveDurable(to, from);
      applyMeta(from, u.meta);
      return `${u.to} → ${u.from}`;
    }
    case 'flags': {
      const host = c.root.hostPath(u.path);
      const now = c.attrs.read(host);
      if (now.ok && [...u.flags].every((f) => now.flags.includes(f))) return 'already set';
      c.attrs.change(host, '+', u.flags);
      return `set +${u.flags} again`;
    }
    case 'signal': {
      if (c.kind !== 'stop') return 'killed processes are not restarted';
      if (!c.control) return 'no process control';
      const pids = c.pids ?? u.pids;
      let n = 0;
      for (const pid of pids) {
        const i = c.control.info(pid);
        if (i?.state === 'T') {
          c.control.signal(pid, 'SIGCONT');
          n++;
        }
      }
      return n ? `continued ${n} stopped process(es)` : 'nothing stopped';
    }
    case 'none':
      return 'nothing to undo';
  }
}
