/**
 * Telemetry events: what agents send and `minewatch import` loads, beside findings. This is minewatch's own
 * NDJSON event format (one JSON object a line); README "Data model" documents it. Extra fields are kept.
 */
import type { Finding } from './finding.ts';

export type EventType = 'process' | 'connection' | 'dns' | 'file' | 'finding' | 'heartbeat';
export const EVENT_TYPES: readonly EventType[] = [
  'process',
  'connection',
  'dns',
  'file',
  'finding',
  'heartbeat',
];

interface EventBase {
  /** Assigned by the sender; a retried batch carries the same ids, so nothing is counted twice. */
  id?: string;
  /** ISO 8601. */
  time: string;
  host: string;
  type: EventType;
  [extra: string]: unknown;
}

export interface ProcessEvent extends EventBase {
  type: 'process';
  pid: number;
  ppid?: number;
  user?: string;
  exe?: string;
  cmdline?: string;
  sha256?: string;
}

export interface ConnectionEvent extends EventBase {
  type: 'connection';
  src_ip: string;
  src_port?: number;
  dst_ip: string;
  dst_port: number;
  proto?: 'tcp' | 'udp' | string;
  pid?: number;
  exe?: string;
  domain?: string;
  bytes_out?: number;
  bytes_in?: number;
}

export interface DnsEvent extends EventBase {
  type: 'dns';
  query: string;
  qtype?: string;
  answers?: string[];
}

export interface FileEvent extends EventBase {
  type: 'file';
  path: string;
  sha256?: string;
  size?: number;
  content_b64?: string;
}

export interface FindingEvent extends EventBase {
  type: 'finding';
  finding: Finding;
}

/** Host inventory, sent by agents with every report. */
export interface HeartbeatEvent extends EventBase {
  type: 'heartbeat';
  hostname?: string;
  instance_id?: string;
  cloud?: string;
  os?: string;
  cpus?: number;
  agent_version?: string;
  verdict?: string;
  infection_type?: string | null;
}

export type MinewatchEvent =
  | ProcessEvent
  | ConnectionEvent
  | DnsEvent
  | FileEvent
  | FindingEvent
  | HeartbeatEvent;
