/**
 * A host's cleanup plan on the dashboard. The planner normally reads the host's disk; the server has only the
 * stored findings, so it plans against a view that takes every path the evidence names as a present file whose
 * content is unknown: the steps are what `minewatch clean` would do, and line-level edits (which need the
 * file's text) show as whole-file steps or notes. The page says so, and names the command to run on the host.
 */
import type { Finding } from '../findings/index.ts';
import { type CleanupPlan, type PlanIO, planCleanup } from '../respond/cleanup/index.ts';

const remoteIO: PlanIO = {
  kind: () => 'file',
  resolve: (rel) => rel,
  read: () => undefined,
  list: () => [],
  readlink: () => undefined,
};

export function remotePlan(host: string, findings: Finding[]): CleanupPlan | { error: string } {
  try {
    return planCleanup(
      { host: { hostname: host, root: '/' }, findings },
      { root: '/', live: true },
      remoteIO,
    );
  } catch (err) {
    return { error: (err as Error).message };
  }
}
