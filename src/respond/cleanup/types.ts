/**
 * The cleanup plan and journal shapes. Plain data: a plan is printed, saved in the journal directory as
 * plan.json and read back by `clean --resume`; journal entries are NDJSON lines that `restore` replays.
 */

/**
 * What a step does. Phases run in this order: processes are stopped first so nothing can react or respawn
 * while persistence and files go away, and killed last.
 */
export const STEP_KINDS = [
  'stop',
  'clear-immutable',
  'disable-unit',
  'remove-line',
  'remove-hosts-entry',
  'quarantine',
  'restore-tool',
  'kill',
  'note',
] as const;
export type StepKind = (typeof STEP_KINDS)[number];

/** One line of a text file to drop (or, for hosts entries, to rewrite as `replace`). */
export interface LineEdit {
  /** 1-based line number when planned. */
  line: number;
  /** The line as planned, printable (for people; matching uses `sha`). */
  text: string;
  /** sha256 (hex, first 32) of the exact line bytes without the '\n': finds the line again if it moved. */
  sha: string;
  /** New content of the line instead of removing it (hosts file: only some names go). */
  replace?: string;
}

export interface ProcessIdentity {
  exe?: string;
  cmdline?: string;
  comm?: string;
}

export interface PlanStep {
  /** '03-quarantine': order and kind, stable for one plan. */
  id: string;
  kind: StepKind;
  /** Root-relative path ('/etc/cron.d/apache') the step changes. */
  path?: string;
  line?: number;
  pid?: number;
  reason: string;
  /** The first finding that asked for the step, and all of them (dedup'd steps merge findings). */
  finding_id: string;
  finding_ids: string[];
  rules: string[];
  /** remove-line / remove-hosts-entry. */
  lines?: LineEdit[];
  /** restore-tool: the renamed copy that goes back to `path`. */
  from?: string;
  /** disable-unit: enablement links (`*.wants/UNIT`, `rc?.d/S..NAME`) moved aside with the unit. */
  links?: string[];
  /** clear-immutable: flags found set ('i', 'a', 'ia'). */
  flags?: string;
  /** stop / kill: what the process was when scanned; re-checked before any signal (pid reuse). */
  process?: ProcessIdentity;
  /** Planned but not carried out here, and why (not the live system, needs a person...). */
  skip?: string;
}

export interface CleanupPlan {
  root: string;
  /** Processes may be signalled: the root is this running system. */
  live: boolean;
  steps: PlanStep[];
  /** Things a person should know or do (nothing automatic). */
  notes: string[];
  /** Findings considered (at or above the threshold) and ignored (below it). */
  findings: { considered: number; ignored: number };
}

export interface RootInfo {
  root: string;
  live: boolean;
}

/** Metadata kept for anything moved or edited so restore can put it back exactly. */
export interface FileMeta {
  type: 'file' | 'symlink' | 'dir' | 'other';
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Nanoseconds since the epoch as decimal strings (JSON has no bigint). */
  atime_ns: string;
  mtime_ns: string;
  sha256?: string;
  link_target?: string;
}

/** A file or link moved into the quarantine by a step. */
export interface MovedItem {
  path: string;
  /** Name under the quarantine directory of this journal ('files/03-quarantine-0-kdevtmpfsi'). */
  stored: string;
  meta: FileMeta;
}

export interface DirTimes {
  path: string;
  atime_ns: string;
  mtime_ns: string;
}

/** What `restore` needs to undo one step, written before the change. */
export type Undo =
  | { kind: 'move'; items: MovedItem[]; unit?: string }
  | {
      kind: 'edit';
      path: string;
      /** Original bytes, under the journal's backup/. */
      backup: string;
      before_sha: string;
      after_sha: string;
      meta: FileMeta;
      /** Temp name in the file's directory while the new content is written (removed by resume/restore). */
      tmp: string;
    }
  | { kind: 'rename'; from: string; to: string; meta: FileMeta }
  | { kind: 'flags'; path: string; flags: string }
  | { kind: 'signal'; pids: number[] }
  | { kind: 'none' };

export type JournalEntry =
  | {
      type: 'begin';
      seq: number;
      time: string;
      id: string;
      root: string;
      live: boolean;
      quarantine: string;
      steps: number;
      version: string;
    }
  | {
      type: 'intent';
      seq: number;
      time: string;
      step: string;
      kind: StepKind;
      undo: Undo;
      parents: DirTimes[];
    }
  | { type: 'done'; seq: number; time: string; step: string; detail?: string; pids?: number[] }
  | { type: 'failed'; seq: number; time: string; step: string; error: string }
  | { type: 'skipped'; seq: number; time: string; step: string; reason: string }
  | { type: 'end'; seq: number; time: string; status: 'complete' | 'partial' }
  | { type: 'restore-begin'; seq: number; time: string; root: string }
  | { type: 'restored'; seq: number; time: string; step: string; detail?: string }
  | { type: 'restore-failed'; seq: number; time: string; step: string; error: string }
  | { type: 'restore-end'; seq: number; time: string; status: 'complete' | 'partial' };

export type StepStatus = 'done' | 'already' | 'skipped' | 'failed';

export interface StepResult {
  id: string;
  kind: StepKind;
  path?: string;
  pid?: number;
  status: StepStatus;
  detail?: string;
}
