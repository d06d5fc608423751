/**
 * Spike detection: a day is a spike when it stands far above what the days just before it would predict.
 *
 * Method (documented in README "Report"): for each day t with at least `minHistory` earlier days, the baseline
 * is the median of the trailing `window` days (t−window .. t−1) and the scale is 1.4826 × their MAD (a robust
 * standard deviation), floored at √baseline (the Poisson noise of a count) and at 1, so a flat or all-zero
 * history does not make every wiggle infinite. score = (value − baseline) / scale. A day is flagged when
 * score ≥ `threshold` (default 6: a 6-sigma excursion by a yardstick outliers can't inflate) and the excess
 * value − baseline ≥ `minDelta` (default 5: a handful of events is never a campaign). A trailing window
 * follows trends and weekly rhythm without a seasonal model, and it only looks back, so a spike can't hide
 * itself by raising its own baseline.
 *
 * A level shift (a wave of hosts that keep mining) keeps the following days above the still-low baseline;
 * consecutive flagged days form one episode, reported once at its onset with its length and peak: the date
 * a responder needs is when it started.
 */

import type { Series } from './series.ts';
import { MAD_TO_SD, mad, median } from './stats.ts';

export interface SpikeOptions {
  window?: number;
  minHistory?: number;
  threshold?: number;
  minDelta?: number;
}

export const SPIKE_DEFAULTS: Required<SpikeOptions> = {
  window: 14,
  minHistory: 7,
  threshold: 6,
  minDelta: 5,
};

export interface Spike {
  series: string;
  /** Onset day of the episode. */
  date: string;
  value: number;
  baseline: number;
  score: number;
  /** Consecutive flagged days from the onset. */
  days: number;
  /** Highest value in the episode. */
  peak: number;
  peak_date: string;
}

function round(x: number, d = 2): number {
  const f = 10 ** d;
  return Math.round(x * f) / f;
}

/** Per-day baseline, scale and score (null where there is too little history). */
export function spikeScores(
  xs: readonly number[],
  opts: SpikeOptions = {},
): ({ baseline: number; scale: number; score: number } | null)[] {
  const o = { ...SPIKE_DEFAULTS, ...opts };
  return xs.map((x, t) => {
    if (t < o.minHistory) return null;
    const hist = xs.slice(Math.max(0, t - o.window), t);
    const baseline = median(hist);
    const scale = Math.max(MAD_TO_SD * mad(hist, baseline), Math.sqrt(Math.max(baseline, 0)), 1);
    return { baseline, scale, score: (x - baseline) / scale };
  });
}

export function detectSpikes(s: Series, opts: SpikeOptions = {}): Spike[] {
  const o = { ...SPIKE_DEFAULTS, ...opts };
  const xs = s.points.map((p) => p.value);
  const sc = spikeScores(xs, o);
  const out: Spike[] = [];
  let open: Spike | undefined;
  xs.forEach((x, t) => {
    const v = sc[t];
    const flagged = v !== null && v !== undefined && v.score >= o.threshold && x - v.baseline >= o.minDelta;
    if (!flagged) {
      open = undefined;
      return;
    }
    const date = s.points[t]!.date;
    if (open) {
      open.days++;
      if (x > open.peak) {
        open.peak = x;
        open.peak_date = date;
      }
      return;
    }
    open = {
      series: s.name,
      date,
      value: x,
      baseline: round(v.baseline),
      score: round(v.score),
      days: 1,
      peak: x,
      peak_date: date,
    };
    out.push(open);
  });
  return out;
}
