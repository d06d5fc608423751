/** Daily series: one point per UTC day, gaps filled with zeros so every statistic sees the same calendar. */

export interface Point {
  /** YYYY-MM-DD (UTC). */
  date: string;
  value: number;
}

export interface Series {
  /** Says what it counts: `coin:XMR`, `pool:xmr.nanopool.org`, `port:5555`, `miner:xmrig`, `new:xmrig`, `price:ETN`. */
  name: string;
  /** The unit of `value`: 'hosts', 'connections', 'flows', 'instances', 'usd'. */
  unit: string;
  points: Point[];
}

const DAY_MS = 86_400_000;

export function dayMs(date: string): number {
  return Date.parse(`${date}T00:00:00Z`);
}

export function isoDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export function addDays(date: string, n: number): string {
  return isoDay(dayMs(date) + n * DAY_MS);
}

/** Days from `from` to `to`, both inclusive; empty when to < from. */
export function dayRange(from: string, to: string): string[] {
  const out: string[] = [];
  const end = dayMs(to);
  for (let t = dayMs(from); t <= end; t += DAY_MS) out.push(isoDay(t));
  return out;
}

export function daysBetween(a: string, b: string): number {
  return Math.round((dayMs(b) - dayMs(a)) / DAY_MS);
}

/** A series over `days` from sparse values (missing days are 0). */
export function fillSeries(
  name: string,
  unit: string,
  days: readonly string[],
  values: ReadonlyMap<string, number>,
): Series {
  return { name, unit, points: days.map((date) => ({ date, value: values.get(date) ?? 0 })) };
}

export function values(s: Series): number[] {
  return s.points.map((p) => p.value);
}

/** Day-over-day changes (length n−1, dated by the later day). */
export function changes(xs: readonly number[]): number[] {
  const out: number[] = [];
  for (let i = 1; i < xs.length; i++) out.push(xs[i]! - xs[i - 1]!);
  return out;
}
