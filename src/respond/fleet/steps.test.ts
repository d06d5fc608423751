import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CleanupPlan, PlanStep } from '../cleanup/types.ts';
import { matchApproved, stepHash, summarizePlan } from './steps.ts';

const step = (over: Partial<PlanStep> = {}): PlanStep => ({
  id: '03-quarantine',
  kind: 'quarantine',
  path: '/tmp/kdevtmpfsi',
  reason: 'ELF /tmp/kdevtmpfsi is a miner',
  finding_id: 'f1',
  finding_ids: ['f1'],
  rules: ['host.file.miner-binary'],
  ...over,
});
const plan = (steps: PlanStep[]): CleanupPlan => ({
  root: '/srv/root',
  live: false,
  steps,
  notes: [],
  findings: { considered: steps.length, ignored: 0 },
});

test('a step hash covers what it changes, not how it is described or numbered', () => {
  const h = stepHash(step());
  assert.match(h, /^[0-9a-f]{64}$/);
  assert.equal(stepHash(step({ id: '07-quarantine', reason: 'other words', finding_ids: ['f9'] })), h);
  assert.notEqual(stepHash(step({ path: '/tmp/kinsing' })), h);
  assert.notEqual(stepHash(step({ kind: 'disable-unit' })), h);
  const line = (sha: string) =>
    step({ kind: 'remove-line', path: '/etc/crontab', lines: [{ line: 3, text: 'x', sha }] });
  assert.notEqual(stepHash(line('a'.repeat(32))), stepHash(line('b'.repeat(32))));
  // A line that moved keeps its hash (found again by its content).
  assert.equal(
    stepHash(
      step({
        kind: 'remove-line',
        path: '/etc/crontab',
        lines: [{ line: 9, text: 'x', sha: 'a'.repeat(32) }],
      }),
    ),
    stepHash(line('a'.repeat(32))),
  );
  // The file behind the path changed: another step.
  assert.notEqual(
    stepHash(step(), () => 'c1'),
    stepHash(step(), () => 'c2'),
  );
  assert.notEqual(
    stepHash(step({ kind: 'stop', path: undefined, pid: 1001 })),
    stepHash(step({ kind: 'stop', path: undefined, pid: 1002 })),
  );
});

test('only approved steps the fresh plan still holds are kept, in the fresh plan’s order', () => {
  const a = step({ id: '01-stop', kind: 'stop', path: undefined, pid: 1001 });
  const b = step();
  const c = step({ id: '04-quarantine', path: '/tmp/d.sh' });
  const gone = stepHash(step({ path: '/tmp/removed-meanwhile' }));
  const m = matchApproved(plan([a, b, c]), [stepHash(c), stepHash(a), gone]);
  assert.deepEqual(
    m.plan.steps.map((s) => s.id),
    ['01-stop', '04-quarantine'],
  );
  assert.deepEqual(m.missing, [gone]);
  const r = summarizePlan(
    plan([a, b, step({ id: '05-note', kind: 'note', path: undefined, skip: 'needs a person' })]),
    'web01',
    'infected',
    'T',
  );
  assert.deepEqual(
    r.steps.map((s) => [s.kind, s.skip ?? '']),
    [
      ['stop', ''],
      ['quarantine', ''],
      ['note', 'needs a person'],
    ],
  );
});
