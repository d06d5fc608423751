export * from './event.ts';
export * from './finding.ts';
export { findingId } from './id.ts';
