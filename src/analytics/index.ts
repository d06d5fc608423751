/** Fleet analytics: statistics are pure functions of series; `collect` is the only part that touches the store. */
export * from './analyze.ts';
export * from './correlate.ts';
export * from './prices.ts';
export * from './series.ts';
export * from './spikes.ts';
export * from './stats.ts';
export * from './vectors.ts';
