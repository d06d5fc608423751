/**
 * The core's rhythm tracker against the TypeScript MessageTracker it replaces, on random segment sequences that
 * reach every branch (pauses, replies, pushes, the 64-gap ring): the features must be identical, bit for bit.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MessageTracker, rhythmFeatures } from '../../../detect/traffic/behaviour.ts';
import { instantiateCore } from './load.ts';
import { type RhythmCore, readRhythm } from './rhythm.ts';

interface TestCore extends RhythmCore {
  rhythmNew(): number;
  rhythmFree(p: number): void;
  rhythmFeed(p: number, dir: number, bytes: number, ts: number): void;
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return s / 2 ** 32;
  };
}

test('core rhythm = MessageTracker on 300 random flows', () => {
  const core = instantiateCore() as TestCore;
  for (let seed = 1; seed <= 300; seed++) {
    const r = rng(seed);
    const js = new MessageTracker();
    const p = core.rhythmNew();
    let ts = 1_700_000_000 + r() * 1000;
    const n = Math.floor(r() * (seed % 10 === 0 ? 3000 : 200));
    for (let i = 0; i < n; i++) {
      ts += r() < 0.3 ? r() * 0.4 : r() < 0.5 ? r() * 2 : r() * 60;
      const dir = r() < 0.5 ? 0 : 1;
      const bytes = r() < 0.2 ? Math.floor(r() * 9000) : 60 + Math.floor(r() * 40);
      js.segment(dir, bytes, ts);
      core.rhythmFeed(p, dir, bytes, ts);
    }
    const want = js.features();
    const got = rhythmFeatures(readRhythm(core, p));
    assert.deepEqual(got, want, `seed ${seed}`);
    core.rhythmFree(p);
  }
});

test('core rhythm of a flow without payload: no messages, duration 0', () => {
  const core = instantiateCore() as TestCore;
  const p = core.rhythmNew();
  assert.deepEqual(rhythmFeatures(readRhythm(core, p)), new MessageTracker().features());
});
