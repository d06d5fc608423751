/**
 * Pure statistics over plain number arrays: robust location/scale, Pearson and Spearman correlation with a
 * two-sided p-value from Student's t. No NaN ever leaves this file: degenerate input (too short, constant)
 * gives r = 0 and p = 1, i.e. "no evidence of association", which is what a reader should conclude.
 */

export function mean(xs: readonly number[]): number {
  if (!xs.length) return 0;
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

/** Median; 0 for an empty array. */
export function median(xs: readonly number[]): number {
  if (!xs.length) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Median absolute deviation from the median (unscaled). */
export function mad(xs: readonly number[], med = median(xs)): number {
  return median(xs.map((x) => Math.abs(x - med)));
}

/** 1.4826 × MAD estimates the standard deviation of normal data while ignoring outliers. */
export const MAD_TO_SD = 1.4826;

/** Ranks 1..n, ties get the average of the ranks they span (what Spearman needs). */
export function ranks(xs: readonly number[]): number[] {
  const idx = xs.map((x, i) => [x, i] as const).sort((a, b) => a[0] - b[0]);
  const out = new Array<number>(xs.length);
  let i = 0;
  while (i < idx.length) {
    let j = i;
    while (j + 1 < idx.length && idx[j + 1]![0] === idx[i]![0]) j++;
    const r = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) out[idx[k]![1]] = r;
    i = j + 1;
  }
  return out;
}

export interface Correlation {
  r: number;
  /** Two-sided p-value of H0: no correlation (t-test with n-2 degrees of freedom). */
  p: number;
  n: number;
}

const NONE = (n: number): Correlation => ({ r: 0, p: 1, n });

export function pearson(a: readonly number[], b: readonly number[]): Correlation {
  const n = Math.min(a.length, b.length);
  if (n < 3) return NONE(n);
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i]!;
    mb += b[i]!;
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = a[i]! - ma;
    const db = b[i]! - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  // A constant series has no variance to correlate: no association, not NaN.
  if (saa <= 1e-12 * n || sbb <= 1e-12 * n) return NONE(n);
  const r = Math.max(-1, Math.min(1, sab / Math.sqrt(saa * sbb)));
  return { r, p: correlationP(r, n), n };
}

export function spearman(a: readonly number[], b: readonly number[]): Correlation {
  const n = Math.min(a.length, b.length);
  if (n < 3) return NONE(n);
  return pearson(ranks(a.slice(0, n)), ranks(b.slice(0, n)));
}

/** Two-sided p of a correlation r over n pairs: t = r·√((n−2)/(1−r²)) with n−2 degrees of freedom. */
export function correlationP(r: number, n: number): number {
  const df = n - 2;
  if (df < 1) return 1;
  if (Math.abs(r) >= 1) return 0;
  const t2 = (r * r * df) / (1 - r * r);
  return clamp01(incompleteBeta(df / (df + t2), df / 2, 0.5));
}

function clamp01(x: number): number {
  return Number.isFinite(x) ? Math.max(0, Math.min(1, x)) : 1;
}

/** ln Γ(x), Lanczos approximation (|error| < 2e-10 for x > 0). */
export function lnGamma(x: number): number {
  const c = [
    76.18009172947146, -86.50532032941678, 24.01409824083091, -1.231739572450155, 0.1208650973866179e-2,
    -0.5395239384953e-5,
  ];
  let y = x;
  const tmp = x + 5.5 - (x + 0.5) * Math.log(x + 5.5);
  let ser = 1.000000000190015;
  for (const ci of c) ser += ci / ++y;
  return -tmp + Math.log((2.5066282746310007 * ser) / x);
}

/** Regularised incomplete beta I_x(a, b) by its continued fraction (Numerical Recipes §6.4). */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(lnGamma(a + b) - lnGamma(a) - lnGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  if (x < (a + 1) / (a + b + 2)) return (front * betaCf(x, a, b)) / a;
  return 1 - (front * betaCf(1 - x, b, a)) / b;
}

function betaCf(x: number, a: number, b: number): number {
  const TINY = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < TINY) d = TINY;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 3e-14) break;
  }
  return h;
}

/** Theil-Sen slope: median of pairwise slopes, robust to a few wild days. O(n²), fine for n ≤ a few hundred. */
export function theilSen(ys: readonly number[]): number {
  const slopes: number[] = [];
  const step = Math.max(1, Math.floor(ys.length / 200));
  for (let i = 0; i < ys.length; i += step)
    for (let j = i + step; j < ys.length; j += step) slopes.push((ys[j]! - ys[i]!) / (j - i));
  return median(slopes);
}
