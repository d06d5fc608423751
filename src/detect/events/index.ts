/** Detection over telemetry events (imports and agents): the host rules via adapters, network and flow rules. */
export { splitArgs, toFileRecord, toProcessRecord } from './adapt.ts';
export {
  detectEvents,
  EventDetector,
  type EventDetectorOptions,
  type EventDetectorStats,
} from './detector.ts';
