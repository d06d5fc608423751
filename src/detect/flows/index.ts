/** Flow-record detection: judging flow logs (no payload, only sizes and times) for mining sessions. */
export {
  FLOW_THRESHOLD,
  type FlowContext,
  type FlowRecord,
  FlowRepeats,
  type FlowVerdict,
  judgeFlow,
  MAX_BYTES_PER_SEC,
  MAX_MEAN_PACKET,
  MIN_DURATION_SEC,
} from './judge.ts';
