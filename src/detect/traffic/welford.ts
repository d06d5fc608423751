/** Running mean and variance in one pass (Welford), for the flow-rhythm detectors: constant memory per flow. */
export interface Welford {
  n: number;
  mean: number;
  m2: number;
}

export const welford = (): Welford => ({ n: 0, mean: 0, m2: 0 });

export function welfordAdd(w: Welford, x: number): void {
  w.n++;
  const d = x - w.mean;
  w.mean += d / w.n;
  w.m2 += d * (x - w.mean);
}

/** Coefficient of variation (sample sd / mean); infinite until two values, or when the mean is 0. */
export function welfordCv(w: Welford): number {
  return w.n < 2 || w.mean === 0 ? Number.POSITIVE_INFINITY : Math.sqrt(w.m2 / (w.n - 1)) / w.mean;
}
