// The message rhythm of one TCP flow, kept in the core so that a flow whose content is decided costs no call into
// JS per segment: a port of detect/traffic/behaviour.ts's MessageTracker.segment/closeMessage, operation for
// operation (the same f64 arithmetic in the same order, so the features JS reads back are bit-identical). JS
// reads the state (rhythmLayout) and computes the features and the verdict (behaviour.ts), as before.

/** A message: consecutive payload in one direction, ended by the other side speaking or a pause. */
const MESSAGE_PAUSE_SEC: f64 = 0.5;
/** The TLS handshake and the login exchange are not part of the steady rhythm. */
const SKIP_FIRST_MESSAGES: i32 = 4;
/** A server message within this time after a client message is its reply, not a push. */
const REPLY_WINDOW_SEC: f64 = 1.0;
export const PUSH_GAPS: i32 = 64;

@unmanaged
export class Rhythm {
  curDir: i32 = -1; // 0 client→server, 1 server→client, -1 none
  curBytes: f64 = 0;
  curStart: f64 = 0;
  curLast: f64 = 0;
  closed: i32 = 0;
  lastClientEnd: f64 = -Infinity;
  lastClientAwaitingAck: i32 = 0;
  lastPushStart: f64 = NaN;
  // Welford of server push sizes and of client message sizes
  pushN: f64 = 0;
  pushMean: f64 = 0;
  pushM2: f64 = 0;
  clientN: f64 = 0;
  clientMean: f64 = 0;
  clientM2: f64 = 0;
  /** How many push gaps are held (at most PUSH_GAPS) and where the next one goes once the ring is full. */
  gapCount: i32 = 0;
  gapPos: i32 = 0;
  clientMsgs: i32 = 0;
  acked: i32 = 0;
  replies: i32 = 0;
  firstTs: f64 = NaN;
  lastTs: f64 = 0;
  totalBytes: f64 = 0;
  /** The ring of push gaps (PUSH_GAPS f64) follows the struct. */
}

export const RHYTHM_SIZE: usize = offsetof<Rhythm>() + <usize>PUSH_GAPS * 8;

export function rhythmInit(r: Rhythm): void {
  r.curDir = -1;
  r.curBytes = 0;
  r.curStart = 0;
  r.curLast = 0;
  r.closed = 0;
  r.lastClientEnd = -Infinity;
  r.lastClientAwaitingAck = 0;
  r.lastPushStart = NaN;
  r.pushN = 0;
  r.pushMean = 0;
  r.pushM2 = 0;
  r.clientN = 0;
  r.clientMean = 0;
  r.clientM2 = 0;
  r.gapCount = 0;
  r.gapPos = 0;
  r.clientMsgs = 0;
  r.acked = 0;
  r.replies = 0;
  r.firstTs = NaN;
  r.lastTs = 0;
  r.totalBytes = 0;
}

export function rhythmSegment(r: Rhythm, dir: i32, bytes: f64, ts: f64): void {
  if (isNaN(r.firstTs)) r.firstTs = ts;
  r.lastTs = ts;
  r.totalBytes += bytes;
  if (dir === r.curDir && ts - r.curLast < MESSAGE_PAUSE_SEC) {
    r.curBytes += bytes;
    r.curLast = ts;
    return;
  }
  rhythmCloseMessage(r);
  r.curDir = dir;
  r.curBytes = bytes;
  r.curStart = ts;
  r.curLast = ts;
}

export function rhythmCloseMessage(r: Rhythm): void {
  if (r.curDir === -1) return;
  r.closed++;
  if (r.closed <= SKIP_FIRST_MESSAGES) {
    if (r.curDir === 0) r.lastClientEnd = r.curLast;
    return;
  }
  if (r.curDir === 0) {
    r.clientMsgs++;
    r.clientN += 1;
    const d = r.curBytes - r.clientMean;
    r.clientMean += d / r.clientN;
    r.clientM2 += d * (r.curBytes - r.clientMean);
    r.lastClientEnd = r.curLast;
    r.lastClientAwaitingAck = 1;
  } else if (r.curStart - r.lastClientEnd <= REPLY_WINDOW_SEC) {
    r.replies++;
    if (r.lastClientAwaitingAck) r.acked++;
    r.lastClientAwaitingAck = 0;
  } else {
    r.pushN += 1;
    const d = r.curBytes - r.pushMean;
    r.pushMean += d / r.pushN;
    r.pushM2 += d * (r.curBytes - r.pushMean);
    if (!isNaN(r.lastPushStart)) {
      const gap = r.curStart - r.lastPushStart;
      const ring = changetype<usize>(r) + offsetof<Rhythm>();
      if (r.gapCount < PUSH_GAPS) {
        store<f64>(ring + ((<usize>r.gapCount) << 3), gap);
        r.gapCount++;
      } else {
        store<f64>(ring + ((<usize>(r.gapPos % PUSH_GAPS)) << 3), gap);
        r.gapPos++;
      }
    }
    r.lastPushStart = r.curStart;
  }
}
