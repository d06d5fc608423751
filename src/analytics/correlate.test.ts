import assert from 'node:assert/strict';
import { test } from 'node:test';
import { atLag, laggedCorrelation } from './correlate.ts';
import { dayRange } from './series.ts';

const days = dayRange('2018-01-01', '2018-03-31');
const mk = (name: string, f: (i: number) => number) => ({
  name,
  unit: 'x',
  points: days.map((date, i) => ({ date, value: f(i) })),
});
// A deterministic bumpy signal.
const sig = (i: number) => Math.round(50 + 20 * Math.sin(i * 1.7) + 10 * Math.cos(i * 0.61) + (i % 7) * 3);

test('atLag pairs a[t] with b[t+lag]', () => {
  assert.deepEqual(atLag([1, 2, 3, 4], [10, 20, 30, 40], 1), [
    [1, 2, 3],
    [20, 30, 40],
  ]);
  assert.deepEqual(atLag([1, 2, 3, 4], [10, 20, 30, 40], -2), [
    [3, 4],
    [10, 20],
  ]);
});

test('b = a three days later: best lag 3, r 1, tiny p', () => {
  const a = mk('a', sig);
  const b = mk('b', (i) => (i >= 3 ? sig(i - 3) : 0));
  for (const on of ['levels', 'changes'] as const) {
    const c = laggedCorrelation(a, b, { minLag: -7, maxLag: 7, on });
    assert.equal(c.lag_days, 3, on);
    assert.ok(c.r > 0.999, `${on} ${c.r}`);
    assert.ok(c.p < 1e-20, `${on} ${c.p}`);
    assert.equal(c.by_lag.length, 15);
  }
  // The other way round the lag is negative.
  assert.equal(laggedCorrelation(b, a, { on: 'levels' }).lag_days, -3);
});

test('shared growth alone correlates on levels but not on changes', () => {
  const a = mk('a', (i) => i * 2 + (i % 3));
  const b = mk('b', (i) => i * 5 + ((i * 7) % 5));
  assert.ok(laggedCorrelation(a, b, { on: 'levels', minLag: 0, maxLag: 0 }).r > 0.99);
  assert.ok(Math.abs(laggedCorrelation(a, b, { on: 'changes', minLag: 0, maxLag: 0 }).r) < 0.3);
});

test('constant, empty and one-day series: r 0, p 1, no NaN', () => {
  const z = mk('z', () => 0);
  const c = laggedCorrelation(z, mk('a', sig));
  assert.equal(c.r, 0);
  assert.equal(c.p, 1);
  const empty = { name: 'e', unit: 'x', points: [] };
  const e = laggedCorrelation(empty, empty);
  assert.deepEqual([e.r, e.p, e.n], [0, 1, 0]);
  const one = { name: 'o', unit: 'x', points: [{ date: '2018-01-01', value: 3 }] };
  assert.deepEqual([laggedCorrelation(one, one).r, laggedCorrelation(one, one).p], [0, 1]);
  assert.ok(!JSON.stringify(c).includes('null'));
});
