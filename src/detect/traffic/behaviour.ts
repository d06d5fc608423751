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
import { type Welford, welford, welfordAdd, welfordCv } from './welford.ts';

/** A message: consecutive payload in one direction, ended by the other side speaking or a pause. */
const MESSAGE_PAUSE_SEC = 0.5;
/** The TLS handshake and the login exchange are not part of the steady rhythm. */
const SKIP_FIRST_MESSAGES = 4;
/** A server message within this time after a client message is its reply, not a push. */
const REPLY_WINDOW_SEC = 1.0;

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

/** Per-flow message tracker, fed with every payload-bearing segment. O(1) per segment, bounded state. */
export class MessageTracker {
  private curDir: 0 | 1 | -1 = -1; // 0 client→server, 1 server→client
  private curBytes = 0;
  private curStart = 0;
  private curLast = 0;
  private closed = 0;
  private lastClientEnd = Number.NEGATIVE_INFINITY;
  private lastClientAwaitingAck = false;
  private lastPushStart = Number.NaN;
  private readonly pushSizes: Welford = welford();
  private readonly clientSizes: Welford = welford();
  private readonly pushGaps: number[] = []; // ring, for a median
  private pushGapPos = 0;
  private clientMsgs = 0;
  private acked = 0;
  private replies = 0;
  private firstTs = Number.NaN;
  private lastTs = 0;
  private totalBytes = 0;

  segment(dir: 0 | 1, bytes: number, ts: number): void {
    if (Number.isNaN(this.firstTs)) this.firstTs = ts;
    this.lastTs = ts;
    this.totalBytes += bytes;
    if (dir === this.curDir && ts - this.curLast < MESSAGE_PAUSE_SEC) {
      this.curBytes += bytes;
      this.curLast = ts;
      return;
    }
    this.closeMessage();
    this.curDir = dir;
    this.curBytes = bytes;
    this.curStart = ts;
    this.curLast = ts;
  }

  private closeMessage(): void {
    if (this.curDir === -1) return;
    this.closed++;
    if (this.closed <= SKIP_FIRST_MESSAGES) {
      if (this.curDir === 0) this.lastClientEnd = this.curLast;
      return;
    }
    if (this.curDir === 0) {
      this.clientMsgs++;
      welfordAdd(this.clientSizes, this.curBytes);
      this.lastClientEnd = this.curLast;
      this.lastClientAwaitingAck = true;
    } else if (this.curStart - this.lastClientEnd <= REPLY_WINDOW_SEC) {
      this.replies++;
      if (this.lastClientAwaitingAck) this.acked++;
      this.lastClientAwaitingAck = false;
    } else {
      welfordAdd(this.pushSizes, this.curBytes);
      if (!Number.isNaN(this.lastPushStart)) {
        const gap = this.curStart - this.lastPushStart;
        if (this.pushGaps.length < 64) this.pushGaps.push(gap);
        else this.pushGaps[this.pushGapPos++ % 64] = gap;
      }
      this.lastPushStart = this.curStart;
    }
  }

  /** Cheap pre-check: false when the flow is too short for hasMiningRhythm (then features() need not be built). */
  longEnough(): boolean {
    return this.lastTs - this.firstTs >= MIN_RHYTHM_SEC;
  }

  features(): BehaviourFeatures {
    this.closeMessage();
    this.curDir = -1;
    return rhythmFeatures({
      messages: this.closed,
      pushSizes: this.pushSizes,
      clientSizes: this.clientSizes,
      pushGaps: this.pushGaps,
      clientMessages: this.clientMsgs,
      acked: this.acked,
      replies: this.replies,
      firstTs: this.firstTs,
      lastTs: this.lastTs,
      totalBytes: this.totalBytes,
    });
  }
}

/** A flow's message rhythm once its last message is closed: what the features are computed from. */
export interface RhythmState {
  messages: number;
  pushSizes: Welford;
  clientSizes: Welford;
  /** Gaps between server pushes (the last 64, in any order). */
  pushGaps: readonly number[];
  clientMessages: number;
  acked: number;
  replies: number;
  /** NaN when the flow carried no payload. */
  firstTs: number;
  lastTs: number;
  totalBytes: number;
}

export function rhythmFeatures(r: RhythmState): BehaviourFeatures {
  const durationSec = Number.isNaN(r.firstTs) ? 0 : r.lastTs - r.firstTs;
  const gaps = [...r.pushGaps].sort((a, b) => a - b);
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
