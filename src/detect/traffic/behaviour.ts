/**
 * Flow-behaviour detector for mining whose content we cannot read (TLS, proxies, obfuscated stratum).
 *
 * A mining session has a shape that ordinary HTTPS and WebSockets lack, and each part of it is a reason we
 * can print: it lives for minutes to hours; the pool pushes new jobs unprompted, every few seconds to minutes,
 * in messages of almost constant size (a job is a fixed-size blob plus target and id); the miner sends
 * shares, also of near-constant size, each answered at once by a small acknowledgement; and the whole
 * exchange moves little data. Pool ports and known pool addresses add weight but are never enough alone.
 *
 * Thresholds were set on the mining and look-alike captures in test/corpus and on synthetic HTTPS,
 * chat-WebSocket, ticker and heartbeat flows (see behaviour.test.ts); every one is named in the reasons.
 */
import type { CoreRhythm } from '../../sensors/pcap/core/rhythm.ts';
import { welfordCv } from './welford.ts';

/**
 * The rhythm's thresholds live with the code that applies them, in the packet core
 * (src/sensors/pcap/core/assembly/rhythm.ts): a message is consecutive payload in one direction, ended by the
 * other side speaking or a pause of 0.5 s; the first 4 messages (TLS handshake, login) are skipped; a server
 * message within 1 s of a client message is its reply, not a push. The core feeds every delivered segment of
 * every TCP flow to it, so a decided flow costs no call into JavaScript; this module judges the state at close.
 */

export interface BehaviourFeatures {
  durationSec: number;
  messages: number;
  clientMessages: number;
  serverPushes: number;
  serverReplies: number;
  pushSizeCv: number;
  clientSizeCv: number;
  medianPushGapSec: number;
  ackedClientShare: number;
  bytesPerSec: number;
  totalBytes: number;
}

/**
 * A flow's message rhythm once its last message is closed, as the packet core keeps it for every TCP flow
 * (src/sensors/pcap/core/rhythm.ts reads it out): what the features are computed from.
 */
export type RhythmState = CoreRhythm;

/** Cheap pre-check: false when the flow is too short for hasMiningRhythm (then the features need not be built). */
export function longEnough(r: RhythmState): boolean {
  return longEnoughSpan(r.lastTs - r.firstTs);
}

/** The same check on the span alone (Flow.rhythmSpan), before the state is read. */
export function longEnoughSpan(seconds: number): boolean {
  return seconds >= MIN_RHYTHM_SEC;
}

/**
 * The gaps in ascending order: `[...gaps].sort((a, b) => a - b)`, by a typed array's numeric sort (no comparator
 * called per pair; read at the close of every long flow). The two differ only in where -0 goes against 0,
 * which no median read from them tells apart; with a NaN the comparator's order is kept.
 */
function sortedGaps(gaps: readonly number[]): ArrayLike<number> {
  if (gaps.some(Number.isNaN)) return [...gaps].sort((a, b) => a - b);
  return Float64Array.from(gaps).sort();
}

export function rhythmFeatures(r: RhythmState): BehaviourFeatures {
  const durationSec = Number.isNaN(r.firstTs) ? 0 : r.lastTs - r.firstTs;
  const gaps = sortedGaps(r.pushGaps);
  return {
    durationSec,
    messages: r.messages,
    clientMessages: r.clientMessages,
    serverPushes: r.pushSizes.n,
    serverReplies: r.replies,
    pushSizeCv: welfordCv(r.pushSizes),
    clientSizeCv: welfordCv(r.clientSizes),
    medianPushGapSec: gaps.length ? gaps[gaps.length >> 1]! : 0,
    ackedClientShare: r.clientMessages ? r.acked / r.clientMessages : 0,
    bytesPerSec: durationSec > 0 ? r.totalBytes / durationSec : r.totalBytes,
    totalBytes: r.totalBytes,
  };
}

export interface BehaviourContext {
  /** Port weight from intel: strong for 3333/5555/7777/14444..., weak for 80/443/8080. */
  portWeight?: 'strong' | 'medium' | 'weak';
  knownPoolIp?: boolean;
  tls?: boolean;
}

export interface BehaviourVerdict {
  mining: boolean;
  score: number;
  confidence: number;
  reasons: string[];
  features: BehaviourFeatures;
}

export const BEHAVIOUR_THRESHOLD = 4;
const MIN_RHYTHM_SEC = 120;

/**
 * Necessary conditions: without a steady push rhythm and acknowledged client messages it is not a mining
 * session, whatever the port or address says.
 */
export function hasMiningRhythm(f: BehaviourFeatures): boolean {
  return (
    f.durationSec >= MIN_RHYTHM_SEC &&
    f.serverPushes >= 4 &&
    f.clientMessages >= 2 &&
    f.ackedClientShare >= 0.5 &&
    f.medianPushGapSec >= 5 &&
    f.totalBytes < 5_000_000
  );
}

/** Pure: features and context in, verdict with its reasons out. */
export function judgeBehaviour(f: BehaviourFeatures, ctx: BehaviourContext = {}): BehaviourVerdict {
  const reasons: string[] = [];
  let score = 0;
  const r2 = (x: number) => Math.round(x * 100) / 100;
  if (!hasMiningRhythm(f))
    return { mining: false, score: 0, confidence: 0, reasons: ['no mining rhythm'], features: f };

  score += 1;
  reasons.push(`long-lived flow (${Math.round(f.durationSec)} s)`);
  if (f.durationSec >= 600) score += 0.5;
  score += 1;
  reasons.push(
    `${f.serverPushes} unprompted server pushes, median gap ${r2(f.medianPushGapSec)} s; ${f.clientMessages} client messages, ${Math.round(f.ackedClientShare * 100)}% acknowledged at once`,
  );
  if (f.pushSizeCv < 0.2) {
    score += 1;
    reasons.push(`server pushes of near-constant size (CV ${r2(f.pushSizeCv)})`);
  }
  if (f.clientSizeCv < 0.25) {
    score += 0.5;
    reasons.push(`client messages of near-constant size (CV ${r2(f.clientSizeCv)})`);
  }
  if (f.bytesPerSec < 1000) {
    score += 0.5;
    reasons.push(`low volume (${Math.round(f.bytesPerSec)} B/s)`);
  }
  if (ctx.portWeight === 'strong') {
    score += 1;
    reasons.push('server port is a typical pool port');
  } else if (ctx.portWeight === 'medium') {
    score += 0.5;
    reasons.push('server port is sometimes used by pools');
  }
  if (ctx.knownPoolIp) {
    score += 2;
    reasons.push('server address is a known pool endpoint');
  }
  const mining = score >= BEHAVIOUR_THRESHOLD;
  const confidence = mining ? Math.min(0.95, 0.35 + 0.1 * score) : Math.min(0.3, 0.05 * score);
  return { mining, score, confidence: r2(confidence), reasons, features: f };
}
