import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RhythmTracker } from '../../sensors/pcap/core/rhythm.ts';
import { judgeBehaviour, rhythmFeatures } from './behaviour.ts';

/** Deterministic pseudo-random numbers so the synthetic flows are the same on every run. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

type Seg = [dir: 0 | 1, bytes: number, ts: number];

function track(segs: Seg[]) {
  const t = new RhythmTracker();
  for (const [d, b, ts] of segs.sort((a, b) => a[2] - b[2])) t.segment(d, b, ts);
  return rhythmFeatures(t.state());
}

function handshake(): Seg[] {
  return [
    [0, 517, 0],
    [1, 2900, 0.05],
    [0, 126, 0.1],
    [1, 51, 0.15],
    [0, 380, 0.2], // login
    [1, 620, 0.3], // first job in the login reply
  ];
}

/** TLS stratum: a job every ~30 s, a share every ~12 s answered by a small status at once. */
function miningFlow(seconds: number, seed = 1): Seg[] {
  const r = rng(seed);
  const segs = handshake();
  for (let t = 30; t < seconds; t += 25 + r() * 10) segs.push([1, 560 + Math.floor(r() * 12), t]);
  for (let t = 12; t < seconds; t += 8 + r() * 8) {
    segs.push([0, 290 + Math.floor(r() * 6), t]);
    segs.push([1, 70, t + 0.08]);
  }
  return segs;
}

test('a TLS mining session is recognised with its reasons', () => {
  const v = judgeBehaviour(track(miningFlow(900)), { portWeight: 'strong', tls: true });
  assert.equal(v.mining, true, v.reasons.join('; '));
  assert.ok(v.confidence >= 0.8);
  assert.ok(v.reasons.some((x) => x.includes('unprompted server pushes')));
  assert.ok(v.reasons.some((x) => x.includes('typical pool port')));
});

test('the same rhythm on port 443 with no other hint is still found, with less confidence', () => {
  const v = judgeBehaviour(track(miningFlow(900, 7)), { portWeight: 'weak', tls: true });
  assert.equal(v.mining, true, v.reasons.join('; '));
  const strong = judgeBehaviour(track(miningFlow(900, 7)), { portWeight: 'strong', tls: true });
  assert.ok(v.confidence < strong.confidence);
});

test('a short mining flow is not judged on rhythm alone', () => {
  const v = judgeBehaviour(track(miningFlow(60)), { portWeight: 'strong' });
  assert.equal(v.mining, false);
});

test('an HTTPS download is not mining', () => {
  const segs = handshake();
  for (let i = 0; i < 4000; i++) segs.push([1, 1448, 1 + i * 0.05]);
  const v = judgeBehaviour(track(segs), { portWeight: 'weak', tls: true });
  assert.equal(v.mining, false);
});

test('a chat WebSocket with heartbeats is not mining', () => {
  const r = rng(3);
  const segs = handshake();
  for (let t = 5; t < 1800; t += 2 + r() * 60) segs.push([1, 80 + Math.floor(r() * 3000), t]); // messages of all sizes
  for (let t = 30; t < 1800; t += 30) {
    segs.push([0, 40, t]);
    segs.push([1, 40, t + 0.05]);
  }
  const v = judgeBehaviour(track(segs), { portWeight: 'weak', tls: true });
  assert.equal(v.mining, false, v.reasons.join('; '));
});

test('a price ticker pushing constant-size quotes every second is not mining', () => {
  const segs = handshake();
  for (let t = 1; t < 1200; t += 1) segs.push([1, 210, t + 0.6]);
  for (let t = 30; t < 1200; t += 30) {
    segs.push([0, 40, t + 0.1]);
    segs.push([1, 40, t + 0.15]);
  }
  const v = judgeBehaviour(track(segs), { portWeight: 'weak', tls: true });
  assert.equal(v.mining, false, v.reasons.join('; '));
});

test('an idle keep-alive connection is not mining', () => {
  const segs = handshake();
  for (let t = 60; t < 3600; t += 60) {
    segs.push([0, 40, t]);
    segs.push([1, 40, t + 0.05]);
  }
  const v = judgeBehaviour(track(segs), { portWeight: 'strong', knownPoolIp: false });
  assert.equal(v.mining, false);
});

test('a known pool address alone does not make a flow mining', () => {
  const v = judgeBehaviour(track(handshake()), { knownPoolIp: true, portWeight: 'strong' });
  assert.equal(v.mining, false);
});
