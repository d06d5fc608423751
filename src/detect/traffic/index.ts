export { summarise, TrafficAnalyzer, type TrafficOptions, type TrafficSummary } from './analyzer.ts';
export {
  type BehaviourFeatures,
  type BehaviourVerdict,
  judgeBehaviour,
  rhythmFeatures,
} from './behaviour.ts';
export { analyseCapture, type CaptureReport } from './capture.ts';
