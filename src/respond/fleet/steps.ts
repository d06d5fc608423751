/**
 * What a fleet approval names: a cleanup step by the hash of what it changes. The hash covers the step's
 * target and effect (kind, path, line hashes and replacements, links, flags, pid and process identity, the
 * tool copy restored) and leaves out what only describes it (id, order, reason, finding ids), so the same
 * change planned again on a fresh scan hashes the same, and any change to what would be touched (a line
 * edited, a different file at the path's place, another pid) does not. Pure.
 */
import { createHash } from 'node:crypto';
import type { CleanupPlan, PlanStep } from '../cleanup/types.ts';

/** The part of a step the hash covers, in a fixed key order. */
function canonical(s: PlanStep, content: string | null): unknown[] {
  return [
    'minewatch-step@1',
    content,
    s.kind,
    s.path ?? null,
    s.pid ?? null,
    s.from ?? null,
    s.flags ?? null,
    [...(s.links ?? [])].sort(),
    (s.lines ?? []).map((l) => [l.sha, l.replace ?? null]).sort(),
    s.process ? [s.process.exe ?? null, s.process.cmdline ?? null, s.process.comm ?? null] : null,
  ];
}

/**
 * What a file at a step's path holds now (sha256), so a step is another step when the file behind it
 * changed; undefined when there is no such file. The agent reads it below its root.
 */
export type ContentOf = (rel: string) => string | undefined;

export function stepHash(s: PlanStep, contentOf?: ContentOf): string {
  const content = s.path && contentOf ? (contentOf(s.path) ?? null) : null;
  return createHash('sha256')
    .update(JSON.stringify(canonical(s, content)))
    .digest('hex');
}

/** One step as the server shows and records it: enough for a person to decide, never enough to act on. */
export interface StepSummary {
  hash: string;
  kind: PlanStep['kind'];
  path?: string;
  pid?: number;
  lines?: number[];
  reason: string;
  rules: string[];
  /** Planned but not carried out by the agent, and why. */
  skip?: string;
}

export interface PlanReport {
  host: string;
  time: string;
  verdict: string;
  steps: StepSummary[];
  notes: string[];
}

/** Bounds on a reported plan: a host's plan is a few dozen steps; more is refused rather than stored. */
export const MAX_REPORTED_STEPS = 1000;

export function summarizePlan(
  plan: CleanupPlan,
  host: string,
  verdict: string,
  time: string,
  contentOf?: ContentOf,
): PlanReport {
  return {
    host,
    time,
    verdict,
    steps: plan.steps.slice(0, MAX_REPORTED_STEPS).map((s) => ({
      hash: stepHash(s, contentOf),
      kind: s.kind,
      ...(s.path ? { path: s.path } : {}),
      ...(s.pid !== undefined ? { pid: s.pid } : {}),
      ...(s.lines?.length ? { lines: s.lines.map((l) => l.line) } : {}),
      reason: s.reason.slice(0, 500),
      rules: s.rules.slice(0, 20),
      ...(s.skip ? { skip: s.skip } : {}),
    })),
    notes: plan.notes.slice(0, 50).map((n) => n.slice(0, 500)),
  };
}

export type StepOutcome = 'done' | 'already' | 'skipped' | 'failed' | 'not-run' | 'missing';

/**
 * The approved steps that the agent's own fresh plan still holds, in the fresh plan's order (phases matter:
 * stop before quarantine before kill), and the approved hashes it no longer holds.
 */
export function matchApproved(
  fresh: CleanupPlan,
  approved: readonly string[],
  contentOf?: ContentOf,
): { plan: CleanupPlan; matched: Map<string, PlanStep>; missing: string[] } {
  const want = new Set(approved);
  const matched = new Map<string, PlanStep>();
  const keep = new Set<PlanStep>();
  for (const s of fresh.steps) {
    const h = stepHash(s, contentOf);
    if (want.has(h) && !matched.has(h)) {
      matched.set(h, s);
      keep.add(s);
    }
  }
  return {
    plan: { ...fresh, steps: fresh.steps.filter((s) => keep.has(s)) },
    matched,
    missing: approved.filter((h) => !matched.has(h)),
  };
}
