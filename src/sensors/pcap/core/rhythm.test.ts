/**
 * The core's rhythm tracker against the specification it was ported from (the TypeScript MessageTracker that
 * behaviour.ts kept before the core took the rhythm over, reproduced here as the reference), on random segment
 * sequences that reach every branch (pauses, replies, pushes, the 64-gap ring): features identical, bit for bit.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type BehaviourFeatures, rhythmFeatures } from '../../../detect/traffic/behaviour.ts';
import { type Welford, welford, welfordAdd } from '../../../detect/traffic/welford.ts';
import { RhythmTracker } from './rhythm.ts';

/** The reference: MessageTracker as it was in TypeScript. */
class Reference {
  private curDir: 0 | 1 | -1 = -1;
  private curBytes = 0;
  private curStart = 0;
  private curLast = 0;
  private closed = 0;
  private lastClientEnd = Number.NEGATIVE_INFINITY;
  private lastClientAwaitingAck = false;
  private lastPushStart = Number.NaN;
  private readonly pushSizes: Welford = welford();
  private readonly clientSizes: Welford = welford();
  private readonly pushGaps: number[] = [];
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
    if (dir === this.curDir && ts - this.curLast < 0.5) {
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
    if (this.closed <= 4) {
      if (this.curDir === 0) this.lastClientEnd = this.curLast;
      return;
    }
    if (this.curDir === 0) {
      this.clientMsgs++;
      welfordAdd(this.clientSizes, this.curBytes);
      this.lastClientEnd = this.curLast;
      this.lastClientAwaitingAck = true;
    } else if (this.curStart - this.lastClientEnd <= 1.0) {
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

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return s / 2 ** 32;
  };
}

test('core rhythm = the reference MessageTracker on 300 random flows', () => {
  for (let seed = 1; seed <= 300; seed++) {
    const r = rng(seed);
    const ref = new Reference();
    const core = new RhythmTracker();
    let ts = 1_700_000_000 + r() * 1000;
    const n = Math.floor(r() * (seed % 10 === 0 ? 3000 : 200));
    for (let i = 0; i < n; i++) {
      ts += r() < 0.3 ? r() * 0.4 : r() < 0.5 ? r() * 2 : r() * 60;
      const dir = r() < 0.5 ? 0 : 1;
      const bytes = r() < 0.2 ? Math.floor(r() * 9000) : 60 + Math.floor(r() * 40);
      ref.segment(dir, bytes, ts);
      core.segment(dir, bytes, ts);
    }
    assert.deepEqual(rhythmFeatures(core.state()), ref.features(), `seed ${seed}`);
  }
});

test('core rhythm of a flow without payload: no messages, duration 0', () => {
  assert.deepEqual(rhythmFeatures(new RhythmTracker().state()), new Reference().features());
});
