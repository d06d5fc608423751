/**
 * What an approval is, shared by the server (which keeps them) and the agent (which acts on them): plain data
 * with step hashes and a journal id, never a command or a path to act on.
 */
import type { StepOutcome } from './steps.ts';

/** The journal ids `newJournalId` makes: a name, never a path. */
export const JOURNAL_ID_RE = /^\d{8}T\d{6}Z-[0-9a-f]{6}$/;

export type ApprovalState =
  | 'pending'
  | 'complete'
  | 'partial'
  | 'failed'
  | 'skipped'
  | 'refused'
  | 'cancelled'
  | 'expired';

export interface ApprovedStep {
  hash: string;
  kind: string;
  path?: string;
  pid?: number;
  lines?: number[];
  reason: string;
}

export interface ApprovalResult {
  time: string;
  status: 'complete' | 'partial' | 'failed' | 'skipped' | 'refused';
  journal?: string;
  steps: Array<{ hash: string; status: StepOutcome; detail?: string }>;
  verdict?: string;
  error?: string;
}

export interface Approval {
  id: string;
  host: string;
  kind: 'clean' | 'restore';
  state: ApprovalState;
  by: string;
  created: string;
  expires: string;
  /** clean: the steps approved, as the host reported them. */
  steps?: ApprovedStep[];
  /** clean: when the plan approved was reported. */
  plan_time?: string;
  /** restore: the journal to restore. */
  journal?: string;
  result?: ApprovalResult;
  cancelled_by?: string;
}
