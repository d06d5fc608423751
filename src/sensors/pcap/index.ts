export type { DecodedPacket, DecodeStats, TcpInfo } from './decode.ts';
export {
  decodeInto,
  decodePacket,
  decodeStats,
  formatIp,
  IPPROTO_TCP,
  IPPROTO_UDP,
  LINKTYPE,
  newDecodeStats,
  PacketDecoder,
  PacketView,
  TCP_ACK,
  TCP_FIN,
  TCP_PSH,
  TCP_RST,
  TCP_SYN,
} from './decode.ts';
export type {
  CloseReason,
  Direction,
  Flow,
  FlowClass,
  FlowHandlers,
  FlowKey,
  FlowTableOptions,
  FlowTableStats,
} from './flows.ts';
export { DEFAULT_SERVER_PORTS, FlowTable } from './flows.ts';
export type { CaptureFormat, CaptureReaderOptions, CaptureStats, RawPacket } from './reader.ts';
export { CaptureFormatError, CaptureReader } from './reader.ts';
export { isDns, shardOf } from './shard.ts';
export type { CaptureFlowStats, ReadCaptureOptions, ShardSpec } from './source.ts';
export { readCapture, readCaptureFlows } from './source.ts';
