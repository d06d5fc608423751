/**
 * Stratum inside TLS to a bare address: the case where the wire names nothing (no SNI, no DNS name, no
 * readable content). What is left is what the client's TLS stack says in its ClientHello and the shape of
 * the conversation, read from TLS record headers (5 clear bytes each, so record sizes are exact whatever
 * the TCP segmentation):
 *
 *  - the login: the first application record the client sends (a JSON login with wallet, agent and algorithm
 *    list, a few hundred bytes) is answered at once by a larger one (the login result carries the first job);
 *  - share submission: client records of near-constant size (job id, nonce, 32-byte hash in hex), each
 *    answered within a second by a small record of near-constant size ({"status":"OK"});
 *  - job push: server records nobody asked for, of near-constant size (blob, target, seed hash), every few
 *    seconds to minutes;
 *  - long life with little data.
 *
 * Look-alikes and why they fail: an MQTT client's CONNECT is answered by a 4-byte CONNACK and its pings are
 * tiny; a WebSocket's upgrade is answered by a short 101 and a ticker pushes faster than any pool; a database
 * client asks and is answered but is never pushed to; a VPN moves bulk data of every size. Each threshold is
 * named in the reasons a finding prints. Record sizes below are TLS record lengths (ciphertext), measured on
 * XMRig 6.26 (OpenSSL 3.0) against a loopback pool: see docs/traffic.md.
 */
import { welford, welfordAdd, welfordCv } from './welford.ts';

const TLS_APPDATA = 23;
/** Client records shorter than this are protocol chatter (TLS 1.3 Finished is 53 or 69 bytes), not requests. */
const MIN_REQUEST = 80;
/**
 * Client records below this after the login are keepalives (XMRig's `keepalived` is 99 bytes in TLS 1.3),
 * not shares: their answers are not pushes, but they do not enter the share statistics.
 */
const MIN_SUBMIT = 120;
/** A server record this soon after a client request answers it; later, it was pushed. */
const REPLY_WINDOW_SEC = 1.0;
const MAX_GAPS = 64;
/** Server records shorter than this are alerts and control messages (a TLS 1.3 close_notify is 19 bytes), not jobs. */
const MIN_PUSH = 64;

/** Reads TLS record headers from one direction of a stream; calls back with each record's type and length. */
class RecordHeaders {
  private readonly head = new Uint8Array(5);
  private have = 0;
  private skip = 0;
  broken = false;

  push(data: Uint8Array, onRecord: (type: number, len: number) => void): void {
    let i = 0;
    while (i < data.length && !this.broken) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, data.length - i);
        this.skip -= n;
        i += n;
        continue;
      }
      this.head[this.have++] = data[i++]!;
      if (this.have < 5) continue;
      this.have = 0;
      const type = this.head[0]!;
      const len = (this.head[3]! << 8) | this.head[4]!;
      // Not a TLS record header any more (a lost segment put us mid-record): stop reading this direction.
      if (type < 20 || type > 24 || this.head[1] !== 3 || len > 18432) {
        this.broken = true;
        return;
      }
      this.skip = len;
      onRecord(type, len);
    }
  }

  /** Bytes of a stream we cannot read (a capture gap): the record boundaries are lost. */
  gap(): void {
    this.broken = true;
  }
}

export interface TlsRhythmFeatures {
  durationSec: number;
  /** Size of the first client request (the login) and of the largest record answering it. */
  loginSize: number;
  loginReplySize: number;
  requests: number;
  requestSizeCv: number;
  requestSizeMean: number;
  /**
   * Spread of the gaps between requests (CV). Shares come when a hash meets the target, so their gaps are
   * irregular (exponential: CV near 1); a heartbeat or poll on a timer has CV near 0.
   */
  requestGapCv: number;
  /** Requests after the login answered within REPLY_WINDOW_SEC. */
  ackedShare: number;
  replySizeMean: number;
  replySizeCv: number;
  pushes: number;
  pushSizeMean: number;
  pushSizeCv: number;
  medianPushGapSec: number;
  bytesPerSec: number;
  appBytes: number;
}

/** Per-flow record-level rhythm of a TLS connection. Bounded state; O(1) per record. */
export class TlsRhythm {
  private readonly dirs = [new RecordHeaders(), new RecordHeaders()];
  private firstTs = Number.NaN;
  private lastTs = 0;
  private appBytes = 0;
  private loginSize = 0;
  private loginTs = 0;
  private loginReply = 0;
  private lastReqTs = Number.NEGATIVE_INFINITY;
  private awaiting = false;
  private readonly req = welford();
  private readonly reqGap = welford();
  private lastSubmitTs = Number.NaN;
  private acked = 0;
  private readonly reply = welford();
  private readonly push = welford();
  private lastPushTs = Number.NaN;
  private readonly gaps: number[] = [];
  private gapPos = 0;

  /** Stream bytes of one direction (0 client → server, 1 server → client). */
  feed(dir: 0 | 1, data: Uint8Array, ts: number): void {
    this.dirs[dir]!.push(data, (type, len) => this.record(dir, type, len, ts));
  }

  gap(dir: 0 | 1): void {
    this.dirs[dir]!.gap();
  }

  get readable(): boolean {
    return !this.dirs[0]!.broken && !this.dirs[1]!.broken;
  }

  private record(dir: 0 | 1, type: number, len: number, ts: number): void {
    if (type !== TLS_APPDATA) return;
    if (Number.isNaN(this.firstTs)) this.firstTs = ts;
    this.lastTs = ts;
    this.appBytes += len;
    if (dir === 0) {
      if (len < MIN_REQUEST) return;
      if (this.loginSize === 0) {
        this.loginSize = len;
        this.loginTs = ts;
        this.awaiting = false;
      } else if (len >= MIN_SUBMIT) {
        welfordAdd(this.req, len);
        if (!Number.isNaN(this.lastSubmitTs)) welfordAdd(this.reqGap, ts - this.lastSubmitTs);
        this.lastSubmitTs = ts;
        this.awaiting = true;
      } else this.awaiting = false;
      this.lastReqTs = ts;
      return;
    }
    // Before the login, server records are the rest of the handshake (TLS 1.3 hides it in application records).
    if (this.loginSize === 0) return;
    if (ts - this.lastReqTs <= REPLY_WINDOW_SEC) {
      if (this.lastReqTs === this.loginTs) this.loginReply = Math.max(this.loginReply, len);
      else if (this.awaiting) {
        this.acked++;
        welfordAdd(this.reply, len);
        this.awaiting = false;
      }
      return;
    }
    if (len < MIN_PUSH) return;
    welfordAdd(this.push, len);
    if (!Number.isNaN(this.lastPushTs)) {
      const g = ts - this.lastPushTs;
      if (this.gaps.length < MAX_GAPS) this.gaps.push(g);
      else this.gaps[this.gapPos++ % MAX_GAPS] = g;
    }
    this.lastPushTs = ts;
  }

  features(): TlsRhythmFeatures {
    const durationSec = Number.isNaN(this.firstTs) ? 0 : this.lastTs - this.firstTs;
    const gaps = [...this.gaps].sort((a, b) => a - b);
    return {
      durationSec,
      loginSize: this.loginSize,
      loginReplySize: this.loginReply,
      requests: this.req.n,
      requestSizeCv: welfordCv(this.req),
      requestSizeMean: this.req.mean,
      requestGapCv: welfordCv(this.reqGap),
      ackedShare: this.req.n ? this.acked / this.req.n : 0,
      replySizeMean: this.reply.mean,
      replySizeCv: welfordCv(this.reply),
      pushes: this.push.n,
      pushSizeMean: this.push.mean,
      pushSizeCv: welfordCv(this.push),
      medianPushGapSec: gaps.length ? gaps[gaps.length >> 1]! : 0,
      bytesPerSec: durationSec > 0 ? this.appBytes / durationSec : this.appBytes,
      appBytes: this.appBytes,
    };
  }
}

export interface TlsMinerContext {
  /** No server_name and no ALPN in the ClientHello. */
  noSni: boolean;
  noAlpn: boolean;
  /** The server address was not named by any DNS answer in the capture. */
  bareIp: boolean;
  /** A miner TLS stack's fingerprint from intel that the ClientHello matched (note says which). */
  fingerprint?: { value: string; note?: string };
  portWeight?: 'strong' | 'medium' | 'weak';
  port: number;
}

export interface TlsMinerVerdict {
  mining: boolean;
  score: number;
  confidence: number;
  reasons: string[];
}

/** Score needed for a finding; the fingerprint and the behaviour must both contribute (see judgeTlsMiner). */
export const TLS_MINER_THRESHOLD = 5;

/**
 * Pure: ClientHello context and record rhythm in, verdict out. Behaviour is necessary (a stratum-shaped
 * login and either acknowledged submits or pushed jobs); the ClientHello alone never decides.
 */
export function judgeTlsMiner(f: TlsRhythmFeatures, ctx: TlsMinerContext): TlsMinerVerdict {
  const reasons: string[] = [];
  const r0 = (x: number) => Math.round(x);
  const r2 = (x: number) => Math.round(x * 100) / 100;
  const no = (why: string): TlsMinerVerdict => ({ mining: false, score: 0, confidence: 0, reasons: [why] });
  if (!ctx.noSni || !ctx.bareIp) return no('the client named its server');
  // Login shape: a request of a few hundred bytes answered at once by a larger record (the first job).
  const loginShaped =
    f.loginSize >= 150 && f.loginSize <= 2000 && f.loginReplySize >= 250 && f.loginReplySize <= 3000;
  if (!loginShaped) return no('no stratum-shaped login exchange');
  // A request on a timer (WebSocket heartbeat, a poll) is not a share, however constant its size.
  const onTimer = f.requests >= 4 && f.requestGapCv < 0.1;
  const submits =
    !onTimer &&
    f.requests >= 2 &&
    f.ackedShare >= 0.8 &&
    f.requestSizeCv < 0.15 &&
    f.requestSizeMean >= 120 &&
    f.requestSizeMean <= 800 &&
    f.replySizeMean < 250 &&
    f.replySizeCv < 0.25;
  const pushes =
    f.pushes >= 1 &&
    f.pushSizeMean >= 200 &&
    f.pushSizeMean <= 3000 &&
    (f.pushes < 2 || (f.pushSizeCv < 0.2 && f.medianPushGapSec >= 2));
  if (!submits && !pushes)
    return no(
      onTimer ? 'client requests come on a timer, not as shares' : 'no share submissions or job pushes',
    );
  if (f.durationSec < 20) return no('too short to judge');
  if (f.bytesPerSec > 5000) return no('too much data for a mining session');

  let score = 0;
  let behaviour = 0;
  let stack = 0;
  reasons.push(
    `login-shaped first exchange (${f.loginSize} B request answered at once by ${f.loginReplySize} B)`,
  );
  behaviour += 1;
  if (submits) {
    behaviour += f.requests >= 4 ? 1.5 : 1;
    reasons.push(
      `${f.requests} client records of near-constant size (${r0(f.requestSizeMean)} B, CV ${r2(f.requestSizeCv)}), ${Math.round(f.ackedShare * 100)}% answered within ${REPLY_WINDOW_SEC} s by ~${r0(f.replySizeMean)} B: share submission`,
    );
  }
  if (pushes) {
    behaviour += f.pushes >= 2 ? 1.5 : 0.5;
    reasons.push(
      `${f.pushes} unprompted server records of ~${r0(f.pushSizeMean)} B${f.pushes >= 2 ? ` (CV ${r2(f.pushSizeCv)}, median gap ${r2(f.medianPushGapSec)} s)` : ''}: job push`,
    );
  }
  if (f.bytesPerSec < 1000) {
    behaviour += 0.5;
    reasons.push(`long-lived with little data (${r0(f.durationSec)} s, ${r0(f.bytesPerSec)} B/s)`);
  }
  stack += 1;
  reasons.push(`TLS to a bare address: no SNI${ctx.noAlpn ? ', no ALPN' : ''}, no DNS name in the capture`);
  if (ctx.noAlpn) stack += 0.5;
  if (ctx.fingerprint) {
    stack += 1.5;
    reasons.push(
      `ClientHello fingerprint ${ctx.fingerprint.value} is a miner's TLS stack${ctx.fingerprint.note ? ` (${ctx.fingerprint.note})` : ''}`,
    );
  }
  if (ctx.portWeight === 'strong') {
    score += 1;
    reasons.push(`port ${ctx.port} is a typical pool port`);
  } else if (ctx.portWeight === 'medium') {
    score += 0.5;
    reasons.push(`port ${ctx.port} is sometimes used by pools`);
  } else if (ctx.port === 443) reasons.push('port 443 (pools offer it to pass egress filters)');
  score += behaviour + stack;
  // Both halves must speak: behaviour alone is the behaviour detector's job; a fingerprint alone is a library.
  const mining = score >= TLS_MINER_THRESHOLD && behaviour >= 2.5 && stack >= 1.5;
  const confidence = mining ? Math.min(0.9, 0.2 + 0.07 * score) : 0;
  return { mining, score: r2(score), confidence: r2(confidence), reasons };
}
