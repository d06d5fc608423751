import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MinewatchEvent } from '../findings/index.ts';
import { StoreUnavailableError } from './errors.ts';
import { GroupCommitter, type Submission } from './group.ts';

const ev = (i: number): MinewatchEvent => ({
  id: `e${i}`,
  time: '2026-03-01T00:00:00Z',
  host: `h${i % 3}`,
  type: 'heartbeat',
});

/** A committer whose commits are recorded (sizes of each group) and take `ms` each. */
function recorder(ms: number, linger = 0) {
  const groups: number[][] = [];
  const c = new GroupCommitter(
    async (subs: readonly Submission[]) => {
      groups.push(subs.map((s) => s.count));
      await new Promise((r) => setTimeout(r, ms));
      return subs.map((s) => s.count);
    },
    10,
    undefined,
    linger,
  );
  return { c, groups };
}

test('submissions made while a commit runs go together into the next; groups stop at maxEvents', async () => {
  const { c, groups } = recorder(20);
  const all = [c.submit([ev(1)], 's')];
  for (let i = 0; i < 4; i++) all.push(c.submit([ev(2 + 3 * i), ev(3 + 3 * i), ev(4 + 3 * i)], 's'));
  const r = await Promise.all(all);
  // The first starts alone at once; the rest wait, and 3+3+3 fit a group of 10 but a fourth 3 does not.
  assert.deepEqual(groups, [[1], [3, 3, 3], [3]]);
  assert.deepEqual(r[1], { accepted: 3, duplicates: 0 });
  await c.close();
});

test('with a linger, a submission made just after the first joins its group', async () => {
  const { c, groups } = recorder(1, 200);
  const a = c.submit([ev(1)], 's');
  const b = c.submit([ev(2), ev(3)], 's');
  await Promise.all([a, b]);
  assert.deepEqual(groups, [[1, 2]]);
  await c.close();
});

test('a full group does not linger', { timeout: 30_000 }, async () => {
  // With a linger of a minute, only a group that starts at once ends within the test's timeout.
  const { c, groups } = recorder(1, 60_000);
  await c.submit(
    Array.from({ length: 10 }, (_, i) => ev(i)),
    's',
  );
  assert.deepEqual(groups, [[10]]);
  await c.close();
});

test('a store error on one batch fails that batch alone, not the others sharing its commit group', async () => {
  const groups: string[][] = [];
  const c = new GroupCommitter(async (subs: readonly Submission[]) => {
    groups.push(subs.map((s) => s.source));
    await new Promise((r) => setTimeout(r, 10));
    // What a value the engine cannot cast does to a whole INSERT.
    if (subs.some((s) => s.source === 'poison')) throw new Error('Conversion Error: 1e19 out of range');
    return subs.map((s) => s.count);
  }, 100);
  const first = c.submit([ev(0)], 'a');
  const rest = [c.submit([ev(1), ev(2)], 'b'), c.submit([ev(3)], 'poison'), c.submit([ev(4)], 'd')];
  const r = await Promise.allSettled([first, ...rest]);
  assert.deepEqual(
    r.map((x) => x.status),
    ['fulfilled', 'fulfilled', 'rejected', 'fulfilled'],
  );
  assert.deepEqual((r[1] as PromiseFulfilledResult<unknown>).value, { accepted: 2, duplicates: 0 });
  // The group of three failed, then each was committed on its own.
  assert.deepEqual(groups, [['a'], ['b', 'poison', 'd'], ['b'], ['poison'], ['d']]);
  await c.close();
});

test('an unreachable engine refuses the whole group at once (no retry per batch)', async () => {
  let commits = 0;
  const c = new GroupCommitter(async () => {
    commits++;
    await new Promise((r) => setTimeout(r, 10));
    throw new StoreUnavailableError('ClickHouse unreachable');
  }, 100);
  const all = [c.submit([ev(0)], 'a'), c.submit([ev(1)], 'b'), c.submit([ev(2)], 'c')];
  const r = await Promise.allSettled(all);
  assert.ok(r.every((x) => x.status === 'rejected' && x.reason instanceof StoreUnavailableError));
  assert.equal(commits, 2);
  await c.close();
});
