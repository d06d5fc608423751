/**
 * Child process for the kill -9 tests: scans a fixture root, plans and applies with the fake process
 * control. The crash point comes from MINEWATCH_CLEAN_CRASH_AFTER. argv: root journalDir quarantineDir id.
 */
import { scanHost } from '../../../detect/host/index.ts';
import { applyPlan } from '../apply.ts';
import { planCleanup, rootPlanIO } from '../plan.ts';
import { fakeProcesses } from './fakeproc.ts';

const [root, journalDir, quarantineDir, id] = process.argv.slice(2) as [string, string, string, string];
const scan = await scanHost({ root, live: false });
const plan = planCleanup(scan, { root, live: true }, rootPlanIO(root));
const r = await applyPlan(plan, { journalDir, quarantineDir, journalId: id, control: fakeProcesses(root) });
process.stdout.write(`${JSON.stringify({ status: r.status })}\n`);
