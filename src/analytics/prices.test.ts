import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parsePrices, priceSeries } from './prices.ts';
import { dayRange } from './series.ts';

test('parses date,coin,price_usd with a header, reports bad lines by number', () => {
  const { table, errors } = parsePrices(
    'date,coin,price_usd\n2018-01-01,etn,0.17\n2018-01-03T00:00:00Z,ETN,0.15\nnot-a-date,ETN,1\n2018-01-02,XMR,abc\n\n2018-01-02,XMR,350\n',
  );
  assert.deepEqual([...table.byCoin.keys()].sort(), ['ETN', 'XMR']);
  assert.equal(table.byCoin.get('ETN')!.get('2018-01-03'), 0.15);
  assert.deepEqual(
    errors.map((e) => e.line),
    [4, 5],
  );
});

test('header columns in another order', () => {
  const { table } = parsePrices('coin,price_usd,date\nXMR,300,2018-02-01\n');
  assert.equal(table.byCoin.get('XMR')!.get('2018-02-01'), 300);
});

test('forward fill over gaps; days before the first price are left out; unknown coin is empty', () => {
  const { table } = parsePrices('date,coin,price_usd\n2018-01-02,ETN,2\n2018-01-04,ETN,4\n');
  const days = dayRange('2018-01-01', '2018-01-05');
  const { series, start } = priceSeries(table, 'etn', days);
  assert.equal(start, 1);
  assert.deepEqual(
    series.points.map((p) => [p.date, p.value]),
    [
      ['2018-01-02', 2],
      ['2018-01-03', 2],
      ['2018-01-04', 4],
      ['2018-01-05', 4],
    ],
  );
  assert.equal(series.name, 'price:ETN');
  assert.equal(priceSeries(table, 'XCN', days).start, -1);
  // A price from before the range carries into its first day.
  assert.equal(priceSeries(table, 'ETN', dayRange('2018-01-03', '2018-01-03')).series.points[0]!.value, 2);
});
