/** The demo: a deterministic synthetic fleet with a planted story, and its loader. */
export * from './fleet.ts';
export * from './load.ts';
export * from './truth.ts';
