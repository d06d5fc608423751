/**
 * Cleanup: turn a host scan into a plan (`planCleanup`), carry it out under a journal (`applyPlan`,
 * `resumeCleanup`) and undo it exactly (`restoreJournal`). See apply.ts for the decisions on moves and edits.
 */
export {
  type ApplyOptions,
  type ApplyResult,
  applyPlan,
  CRASH_ENV,
  editedBytes,
  resumeCleanup,
} from './apply.ts';
export { type AttrControl, e2fsAttrs, type FlagsRead } from './attrs.ts';
export { CleanupError } from './fsutil.ts';
export { defaultJournalDir, defaultQuarantineDir, Journal, listJournals, readEntries } from './journal.ts';
export { hostsLineWithout, type PlanIO, type PlanOptions, planCleanup, rootPlanIO } from './plan.ts';
export {
  killTree,
  liveProcesses,
  type ProcessControl,
  type ProcInfo,
  processTree,
  procfsControl,
  stopTree,
} from './procs.ts';
export { type RestoreOptions, type RestoreResult, restoreJournal } from './restore.ts';
export type * from './types.ts';
export { STEP_KINDS } from './types.ts';
