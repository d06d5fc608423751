/**
 * Flow-record behaviour: is this flow (Zeek conn.log, Suricata flow, VPC flow log, nfdump, a CSV export)
 * shaped like a mining session? A flow record has no messages, only duration, bytes and packets each way,
 * so this is the record-level cousin of ../traffic/behaviour.ts (which needs the push rhythm of the
 * packets) and more cautious for it.
 *
 * What a stratum session looks like in a flow record: it lives for minutes to hours; it moves little data
 * and steadily, both ways (a job every 10-120 s from the pool, a share every so often from the miner, each a
 * few hundred bytes), so its byte rate is tens of bytes a second and its mean packet small; and a miner
 * reconnects to the same pool, so the same host shows long flows to the same endpoint again and again.
 *
 * A long, quiet, two-way flow is also what a chat WebSocket, an SSH session or a message-queue client looks
 * like. So the shape alone never convicts: a flow is called mining only when the shape holds AND something
 * points at mining (a pool port, a known pool address or a name that resolved to a pool). Every step of
 * the score is a reason in the verdict.
 */

export interface FlowRecord {
  durationSec?: number;
  bytesOut?: number;
  bytesIn?: number;
  packetsOut?: number;
  packetsIn?: number;
  /** Byte counts include IP/TCP headers (flow exporters, Suricata), not payload only (Zeek orig_bytes). */
  bytesIncludeHeaders?: boolean;
  /** The record covers one direction only (VPC flow logs): the other side's counts are unknown, not zero. */
  oneWay?: boolean;
  proto?: string;
}

export interface FlowContext {
  /** Port weight from intel: strong for 3333/5555/7777/14444..., weak for 80/443/8080. */
  portWeight?: 'strong' | 'medium' | 'weak';
  /** The server address is a known pool endpoint (portMatched: with this very port). */
  knownPool?: { portMatched: boolean; pool?: string };
  /** The server address was resolved (DNS seen earlier) from a pool host name. */
  poolName?: string;
  /** Earlier long, quiet flows from the same host to the same endpoint (this one not counted). */
  repeats?: number;
  /** Seconds those earlier flows lasted together. */
  repeatSec?: number;
}

export interface FlowVerdict {
  mining: boolean;
  /** The shape test alone (long, low-rate, small packets): used to count repeats. */
  shape: boolean;
  score: number;
  confidence: number;
  reasons: string[];
}

/** Below this a flow is not "long-lived". Pool connections last minutes to hours; VPC cuts at 60 s or 600 s. */
export const MIN_DURATION_SEC = 120;
/** Above this (both ways together) a flow moves too much for a stratum session. */
export const MAX_BYTES_PER_SEC = 2000;
/** Mean bytes per packet above this is bulk transfer, not small job/share messages and ACKs. */
export const MAX_MEAN_PACKET = 400;
export const FLOW_THRESHOLD = 4;

const r1 = (x: number) => Math.round(x * 10) / 10;

/** Pure: a flow record and what intel and earlier flows say about its endpoint, in; verdict with reasons out. */
export function judgeFlow(f: FlowRecord, ctx: FlowContext = {}): FlowVerdict {
  const quiet = (reason: string): FlowVerdict => ({
    mining: false,
    shape: false,
    score: 0,
    confidence: 0,
    reasons: [reason],
  });
  if (f.proto && f.proto !== 'tcp') return quiet(`${f.proto}, not a TCP session`);
  const d = f.durationSec;
  if (d === undefined) return quiet('no duration in the record');
  if (d < MIN_DURATION_SEC) return quiet(`short flow (${r1(d)} s)`);
  const out = f.bytesOut;
  const inn = f.bytesIn;
  if (out === undefined && inn === undefined) return quiet('no byte counts in the record');
  const total = (out ?? 0) + (inn ?? 0);
  const rate = total / d;
  if (rate > MAX_BYTES_PER_SEC) return quiet(`too much data for mining (${Math.round(rate)} B/s)`);
  const twoWay = !f.oneWay && out !== undefined && inn !== undefined;
  if (twoWay && (out === 0 || inn === 0)) return quiet('one side never sent anything');
  const pkts = (f.packetsOut ?? 0) + (f.packetsIn ?? 0);
  const meanPkt = pkts > 0 ? total / pkts : undefined;
  // Payload-only counts (Zeek orig_bytes) make packets look smaller than header-inclusive ones.
  const maxMean = f.bytesIncludeHeaders ? MAX_MEAN_PACKET : MAX_MEAN_PACKET - 60;
  if (meanPkt !== undefined && meanPkt > maxMean)
    return quiet(`large packets (mean ${Math.round(meanPkt)} B): bulk transfer`);

  const reasons: string[] = [];
  let score = 1;
  reasons.push(`long-lived flow (${Math.round(d)} s)`);
  if (d >= 600) score += 0.5;
  if (rate < 200) {
    score += 1;
    reasons.push(`low steady volume (${r1(rate)} B/s over the flow)`);
  } else {
    score += 0.5;
    reasons.push(`modest volume (${Math.round(rate)} B/s over the flow)`);
  }
  if (meanPkt !== undefined) {
    score += 0.5;
    reasons.push(`small packets (mean ${Math.round(meanPkt)} B)`);
  }
  if (twoWay) {
    const ratio = out! / inn!;
    if (ratio >= 0.1 && ratio <= 10) {
      score += 0.5;
      reasons.push(`both sides talk (client/server bytes ${out}/${inn})`);
    }
  }
  if ((ctx.repeats ?? 0) >= 2) {
    score += 0.5;
    reasons.push(
      `${ctx.repeats} earlier long flows to the same endpoint${ctx.repeatSec ? ` (${Math.round(ctx.repeatSec)} s together)` : ''}`,
    );
  }
  const shapeScore = score;
  let pointer = false;
  if (ctx.portWeight === 'strong') {
    score += 1.5;
    pointer = true;
    reasons.push('server port is a typical pool port');
  } else if (ctx.portWeight === 'medium') {
    score += 0.75;
    pointer = true;
    reasons.push('server port is sometimes used by pools');
  }
  if (ctx.knownPool) {
    score += ctx.knownPool.portMatched ? 2.5 : 2;
    pointer = true;
    reasons.push(
      `server address is a known pool endpoint${ctx.knownPool.pool ? ` (${ctx.knownPool.pool})` : ''}`,
    );
  }
  if (ctx.poolName) {
    score += 2.5;
    pointer = true;
    reasons.push(`server address was resolved from the pool name ${ctx.poolName}`);
  }
  if (!pointer)
    reasons.push('nothing points at a pool (port, address or name): the shape alone is not enough');
  const mining = pointer && score >= FLOW_THRESHOLD;
  const confidence = mining ? Math.min(0.95, 0.3 + 0.08 * score) : Math.min(0.3, 0.05 * shapeScore);
  return { mining, shape: true, score: r1(score), confidence: Math.round(confidence * 100) / 100, reasons };
}

/**
 * Counts long, quiet flows per (host, server, port), so a miner's reconnections add up. Bounded: past
 * `max` keys the oldest key is dropped (a Map iterates in insertion order).
 */
export class FlowRepeats {
  private readonly seen = new Map<string, { n: number; sec: number }>();
  constructor(private readonly max = 100_000) {}

  /** What came before this flow, then counts it. */
  add(key: string, durationSec: number): { repeats: number; repeatSec: number } {
    const e = this.seen.get(key);
    if (e) {
      const before = { repeats: e.n, repeatSec: e.sec };
      e.n++;
      e.sec += durationSec;
      return before;
    }
    if (this.seen.size >= this.max) {
      const oldest = this.seen.keys().next();
      if (!oldest.done) this.seen.delete(oldest.value);
    }
    this.seen.set(key, { n: 1, sec: durationSec });
    return { repeats: 0, repeatSec: 0 };
  }

  /** Looks without counting. */
  peek(key: string): { repeats: number; repeatSec: number } {
    const e = this.seen.get(key);
    return e ? { repeats: e.n, repeatSec: e.sec } : { repeats: 0, repeatSec: 0 };
  }

  get size(): number {
    return this.seen.size;
  }
}
