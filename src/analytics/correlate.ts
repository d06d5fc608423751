/**
 * Lagged cross-correlation between two daily series.
 *
 * Convention: lag k > 0 means b follows a by k days (a[t] is paired with b[t+k]). `on: 'changes'` correlates
 * day-over-day changes, so two series that merely both grow (or both decay) over months don't look related;
 * `on: 'levels'` correlates the values themselves (what a price-vs-heat question asks). The p-value of the
 * best lag is Bonferroni-corrected for the number of lags tried (p × lags, capped at 1): picking the best of
 * many lags would otherwise look more significant than it is. Autocorrelated levels still make p optimistic,
 * which the report says next to level correlations.
 */
import type { Series } from './series.ts';
import { changes, values } from './series.ts';
import { type Correlation, pearson, spearman } from './stats.ts';

export interface LagOptions {
  /** Lags tried: minLag..maxLag (default −7..7). */
  minLag?: number;
  maxLag?: number;
  on?: 'levels' | 'changes';
  method?: 'pearson' | 'spearman';
  /** 'positive' picks the largest r (co-movement), 'absolute' the largest |r|. */
  pick?: 'positive' | 'absolute';
}

export interface LagResult {
  a: string;
  b: string;
  lag_days: number;
  r: number;
  /** Bonferroni-corrected over the lags tried. */
  p: number;
  n: number;
  method: 'pearson' | 'spearman';
  on: 'levels' | 'changes';
  /** r at every lag tried, for the correlogram. */
  by_lag: { lag: number; r: number }[];
}

/** Pairs a[t] with b[t+lag] over the overlap. */
export function atLag(a: readonly number[], b: readonly number[], lag: number): [number[], number[]] {
  const n = Math.min(a.length, b.length);
  const xa: number[] = [];
  const xb: number[] = [];
  for (let t = Math.max(0, -lag); t < n && t + lag < n; t++) {
    xa.push(a[t]!);
    xb.push(b[t + lag]!);
  }
  return [xa, xb];
}

export function corrAtLag(
  a: readonly number[],
  b: readonly number[],
  lag: number,
  method: 'pearson' | 'spearman' = 'pearson',
): Correlation {
  const [xa, xb] = atLag(a, b, lag);
  return method === 'spearman' ? spearman(xa, xb) : pearson(xa, xb);
}

function r4(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}

/** Best lag of b against a. Both series must cover the same days (as the analysis builds them). */
export function laggedCorrelation(a: Series, b: Series, opts: LagOptions = {}): LagResult {
  const minLag = opts.minLag ?? -7;
  const maxLag = Math.max(minLag, opts.maxLag ?? 7);
  const on = opts.on ?? 'changes';
  const method = opts.method ?? 'pearson';
  const pick = opts.pick ?? 'positive';
  const va = on === 'changes' ? changes(values(a)) : values(a);
  const vb = on === 'changes' ? changes(values(b)) : values(b);
  const byLag: { lag: number; r: number }[] = [];
  let best: { lag: number; c: Correlation } | undefined;
  for (let lag = minLag; lag <= maxLag; lag++) {
    const c = corrAtLag(va, vb, lag, method);
    byLag.push({ lag, r: r4(c.r) });
    const key = pick === 'absolute' ? Math.abs(c.r) : c.r;
    const bestKey = best ? (pick === 'absolute' ? Math.abs(best.c.r) : best.c.r) : Number.NEGATIVE_INFINITY;
    // Ties go to the smaller |lag|: the simpler explanation.
    if (
      key > bestKey + 1e-12 ||
      (best && Math.abs(key - bestKey) <= 1e-12 && Math.abs(lag) < Math.abs(best.lag))
    )
      best = { lag, c };
  }
  const tried = maxLag - minLag + 1;
  const c = best?.c ?? { r: 0, p: 1, n: 0 };
  return {
    a: a.name,
    b: b.name,
    lag_days: best?.lag ?? 0,
    r: r4(c.r),
    p: Math.min(1, c.p * tried),
    n: c.n,
    method,
    on,
    by_lag: byLag,
  };
}
