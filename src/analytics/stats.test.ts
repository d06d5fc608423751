import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  correlationP,
  incompleteBeta,
  mad,
  mean,
  median,
  pearson,
  ranks,
  spearman,
  theilSen,
} from './stats.ts';

const close = (a: number, b: number, eps = 1e-6) => assert.ok(Math.abs(a - b) <= eps, `${a} vs ${b}`);

test('median, MAD and mean on hand-checked data', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(median([]), 0);
  // |x - 2| = [1, 1, 0, 2, 98] → median 1
  assert.equal(mad([1, 3, 2, 4, 100]), 1);
  assert.equal(mean([]), 0);
  assert.equal(mean([1, 2, 3, 6]), 3);
});

test('ranks average ties', () => {
  assert.deepEqual(ranks([10, 20, 20, 5]), [2, 3.5, 3.5, 1]);
});

test('Pearson r and p match the textbook example (scipy: r 0.774597, p 0.124027)', () => {
  const c = pearson([1, 2, 3, 4, 5], [2, 4, 5, 4, 5]);
  close(c.r, 0.7745966692);
  close(c.p, 0.1240270626, 1e-6);
  assert.equal(c.n, 5);
});

test('Spearman uses tied ranks (scipy: rho 0.820783)', () => {
  close(spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]).r, 0.8207826817);
});

test('perfect, absent and degenerate correlations never give NaN', () => {
  assert.deepEqual(pearson([1, 2, 3, 4], [2, 4, 6, 8]), { r: 1, p: 0, n: 4 });
  assert.deepEqual(pearson([1, 2, 3, 4], [5, 5, 5, 5]), { r: 0, p: 1, n: 4 });
  assert.deepEqual(pearson([0, 0, 0], [0, 0, 0]), { r: 0, p: 1, n: 3 });
  assert.deepEqual(pearson([], []), { r: 0, p: 1, n: 0 });
  assert.deepEqual(spearman([1], [2]), { r: 0, p: 1, n: 1 });
  assert.equal(correlationP(0, 10), 1);
});

test('incomplete beta: symmetric case and t-distribution tail', () => {
  close(incompleteBeta(0.5, 2, 2), 0.5);
  // t = 2.228 with 10 df is the two-sided 5% point: r = t/√(t²+df)
  const t = 2.228138852;
  close(correlationP(t / Math.sqrt(t * t + 10), 12), 0.05, 1e-6);
});

test('Theil-Sen slope ignores a wild point', () => {
  close(theilSen([0, 1, 2, 3, 100, 5, 6]), 1);
  assert.equal(theilSen([]), 0);
});
