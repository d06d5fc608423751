import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dayRange } from './series.ts';
import { detectSpikes } from './spikes.ts';

const series = (values: number[], from = '2018-01-01') => {
  const days = dayRange(from, '2100-01-01').slice(0, values.length);
  return { name: 'new:x', unit: 'instances', points: values.map((value, i) => ({ date: days[i]!, value })) };
};

test('a hand-checked spike: baseline is the trailing median, scale floored at √baseline', () => {
  const s = detectSpikes(series([10, 12, 11, 9, 10, 11, 10, 12, 50, 11]));
  // history [10,12,11,9,10,11,10,12]: median 10.5, MAD 0.5 → 1.4826·0.5 < √10.5 = 3.24 → score 39.5 / 3.24
  assert.equal(s.length, 1);
  assert.equal(s[0]!.date, '2018-01-09');
  assert.equal(s[0]!.value, 50);
  assert.equal(s[0]!.baseline, 10.5);
  assert.equal(s[0]!.score, Math.round((39.5 / Math.sqrt(10.5)) * 100) / 100);
  assert.equal(s[0]!.days, 1);
});

test('a level shift is one episode at its onset', () => {
  const v = [...Array(20).fill(5), ...Array(10).fill(60)];
  const s = detectSpikes(series(v));
  assert.equal(s.length, 1);
  assert.equal(s[0]!.date, '2018-01-21');
  assert.ok(s[0]!.days >= 5 && s[0]!.days <= 8, String(s[0]!.days));
});

test('zeros, a one-day range, empty, small wiggles and early days give no spikes', () => {
  assert.deepEqual(detectSpikes(series(Array(60).fill(0))), []);
  assert.deepEqual(detectSpikes(series([500])), []);
  assert.deepEqual(detectSpikes(series([])), []);
  // From all-zero history, +4 is below the minimum excess of 5.
  assert.deepEqual(detectSpikes(series([...Array(30).fill(0), 4])), []);
  // No history yet: a big first week is not judged.
  assert.deepEqual(detectSpikes(series([900, 0, 0, 0, 0, 0, 0])), []);
});

test('a steady trend is not a spike', () => {
  assert.deepEqual(detectSpikes(series(Array.from({ length: 120 }, (_, i) => 100 + 3 * i))), []);
});
