/** Coin prices from a user's CSV (`date,coin,price_usd`), forward-filled onto the report's days. */
import type { Series } from './series.ts';

export interface PriceTable {
  /** Upper-case coin → date → USD. */
  byCoin: Map<string, Map<string, number>>;
}

export interface PriceParse {
  table: PriceTable;
  errors: { line: number; reason: string }[];
}

/**
 * Parses `date,coin,price_usd` (header optional, columns in any order when a header names them; extra columns
 * ignored). Dates may carry a time; the day is what counts. Bad lines are reported, good ones kept.
 */
export function parsePrices(text: string): PriceParse {
  const byCoin = new Map<string, Map<string, number>>();
  const errors: { line: number; reason: string }[] = [];
  let cols = { date: 0, coin: 1, price: 2 };
  const lines = text.split(/\r?\n/);
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const f = line.split(',').map((s) => s.trim().replace(/^"|"$/g, ''));
    if (i === 0 || (f.some((x) => /^date$/i.test(x)) && f.some((x) => /^coin$/i.test(x)))) {
      const lower = f.map((x) => x.toLowerCase());
      const d = lower.indexOf('date');
      const c = lower.indexOf('coin');
      const p = lower.findIndex((x) => x === 'price_usd' || x === 'price' || x === 'usd');
      if (d >= 0 && c >= 0 && p >= 0) {
        cols = { date: d, coin: c, price: p };
        continue;
      }
    }
    const date = f[cols.date] ?? '';
    const coin = (f[cols.coin] ?? '').toUpperCase();
    const price = Number(f[cols.price]);
    const day =
      /^\d{4}-\d{2}-\d{2}/.test(date) && Number.isFinite(Date.parse(date.slice(0, 10)))
        ? date.slice(0, 10)
        : '';
    if (!day) {
      errors.push({ line: i + 1, reason: `date '${date}' is not YYYY-MM-DD` });
      continue;
    }
    if (!coin) {
      errors.push({ line: i + 1, reason: 'coin is empty' });
      continue;
    }
    if (!f[cols.price] || !Number.isFinite(price) || price < 0) {
      errors.push({ line: i + 1, reason: `price_usd '${f[cols.price] ?? ''}' is not a number` });
      continue;
    }
    let m = byCoin.get(coin);
    if (!m) byCoin.set(coin, (m = new Map()));
    m.set(day, price);
  }
  return { table: { byCoin }, errors };
}

/**
 * The price series of a coin over `days`, carried forward over gaps; days before the first known price are
 * left out (returned `start` is the index of the first priced day, or -1 when none is).
 */
export function priceSeries(
  table: PriceTable,
  coin: string,
  days: readonly string[],
): { series: Series; start: number } {
  const m = table.byCoin.get(coin.toUpperCase());
  const points: { date: string; value: number }[] = [];
  let last: number | undefined;
  let start = -1;
  if (m) {
    // A price dated before the report's range still tells the first day's price.
    const earlier = [...m.keys()].filter((d) => d < (days[0] ?? '')).sort();
    const prev = earlier[earlier.length - 1];
    if (prev !== undefined) last = m.get(prev);
  }
  days.forEach((date, i) => {
    const v = m?.get(date);
    if (v !== undefined) last = v;
    if (last !== undefined) {
      if (start < 0) start = i;
      points.push({ date, value: last });
    }
  });
  return { series: { name: `price:${coin.toUpperCase()}`, unit: 'usd', points }, start };
}
