import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FlowRepeats, judgeFlow } from './judge.ts';

// A stratum session as Zeek conn.log records it: an hour, ~40 B/s, small packets, both ways.
const MINING = {
  durationSec: 3602,
  bytesOut: 52310,
  bytesIn: 97804,
  packetsOut: 912,
  packetsIn: 1104,
  proto: 'tcp',
};

describe('judgeFlow', () => {
  it('long, quiet, two-way flow to a pool port is mining, with its reasons', () => {
    const v = judgeFlow(MINING, { portWeight: 'strong' });
    assert.equal(v.mining, true);
    assert.ok(v.confidence >= 0.6 && v.confidence <= 0.95, String(v.confidence));
    assert.ok(v.reasons.some((r) => /long-lived flow \(3602 s\)/.test(r)));
    assert.ok(v.reasons.some((r) => /typical pool port/.test(r)));
  });

  it('the same shape to 443 with nothing pointing at a pool stays quiet (chat WebSocket)', () => {
    const v = judgeFlow(
      { durationSec: 3600, bytesOut: 41200, bytesIn: 63900, packetsOut: 820, packetsIn: 905 },
      { portWeight: 'weak' },
    );
    assert.equal(v.mining, false);
    assert.equal(v.shape, true);
    assert.ok(v.confidence <= 0.3);
    assert.ok(v.reasons.some((r) => /shape alone is not enough/.test(r)));
  });

  it('a known pool address or a pool name convicts even on an ordinary port', () => {
    const flow = { ...MINING };
    assert.equal(
      judgeFlow(flow, { portWeight: 'weak', knownPool: { portMatched: true, pool: 'C3Pool' } }).mining,
      true,
    );
    assert.equal(judgeFlow(flow, { poolName: 'gulf.moneroocean.stream' }).mining, true);
  });

  it('short flows, bulk transfers, one-sided and UDP flows are not mining', () => {
    const ctx = { portWeight: 'strong' as const, knownPool: { portMatched: true } };
    assert.match(judgeFlow({ ...MINING, durationSec: 40 }, ctx).reasons[0]!, /short flow/);
    assert.match(
      judgeFlow({ ...MINING, bytesIn: 160_000_000, packetsIn: 120_000 }, ctx).reasons[0]!,
      /too much data/,
    );
    assert.match(judgeFlow({ ...MINING, bytesIn: 0 }, ctx).reasons[0]!, /one side/);
    assert.match(judgeFlow({ ...MINING, proto: 'udp' }, ctx).reasons[0]!, /not a TCP/);
    assert.match(judgeFlow({ durationSec: 3600 }, ctx).reasons[0]!, /no byte counts/);
    assert.match(
      judgeFlow(
        {
          durationSec: 3600,
          bytesOut: 500_000,
          bytesIn: 6_000_000,
          packetsOut: 800,
          packetsIn: 4000,
          bytesIncludeHeaders: true,
        },
        ctx,
      ).reasons[0]!,
      /large packets/,
    );
  });

  it('one-way records (VPC flow logs) are judged on what they have', () => {
    const v = judgeFlow(
      { durationSec: 600, bytesOut: 17630, packetsOut: 232, oneWay: true, bytesIncludeHeaders: true },
      { portWeight: 'strong' },
    );
    assert.equal(v.mining, true);
    assert.ok(!v.reasons.some((r) => /both sides/.test(r)));
  });

  it('a medium port needs the full shape', () => {
    assert.equal(judgeFlow(MINING, { portWeight: 'medium' }).mining, true);
    assert.equal(
      judgeFlow({ durationSec: 200, bytesOut: 100_000, bytesIn: 200_000 }, { portWeight: 'medium' }).mining,
      false,
    );
  });

  it('repeated long flows to the same endpoint add a reason', () => {
    const v = judgeFlow(MINING, { portWeight: 'strong', repeats: 3, repeatSec: 10800 });
    assert.ok(
      v.reasons.some((r) => /3 earlier long flows to the same endpoint \(10800 s together\)/.test(r)),
    );
    assert.ok(v.score > judgeFlow(MINING, { portWeight: 'strong' }).score);
  });
});

describe('FlowRepeats', () => {
  it('counts per key and stays bounded', () => {
    const r = new FlowRepeats(2);
    assert.deepEqual(r.add('a', 10), { repeats: 0, repeatSec: 0 });
    assert.deepEqual(r.add('a', 20), { repeats: 1, repeatSec: 10 });
    assert.deepEqual(r.peek('a'), { repeats: 2, repeatSec: 30 });
    r.add('b', 1);
    r.add('c', 1);
    assert.equal(r.size, 2);
    assert.deepEqual(r.peek('a'), { repeats: 0, repeatSec: 0 }, 'the oldest key went first');
  });
});
