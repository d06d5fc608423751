/** Host detection: rules over host evidence, the verdict, and `scanHost` that runs sensors + rules. */
export type { ScanOptions } from '../../sensors/host/collect.ts';
export { contentMatcher } from './content.ts';
export { type IntelLike, type IntelView, intelView } from './intel-view.ts';
export { defaultIntelView, detectHost, type ScanHostOptions, type ScanResult, scanHost } from './scan.ts';
export { type HostVerdict, verdictOf } from './verdict.ts';
