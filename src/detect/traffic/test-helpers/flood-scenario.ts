import type { Finding } from '../../../findings/index.ts';
import type { TimedPacket } from './flood.ts';
import { moneroSession } from './mining.ts';

/** The mining sessions woven into the flood captures (tests and bench alike). */
export function floodScenario(): TimedPacket[][] {
  return [
    moneroSession('10.7.0.5:41000', '198.51.100.20:3333', {
      seconds: 900,
      jobSec: 40,
      shareSec: 30,
      seed: 3,
    }),
    moneroSession('10.7.0.6:41001', '198.51.100.21:443', {
      seconds: 600,
      jobSec: 60,
      shareSec: 45,
      seed: 4,
      t0: 1_700_000_100,
    }),
  ];
}

/**
 * What must not change when a flood surrounds a session. Packet numbers do (the flood's packets come between),
 * and the start may move by the handshake's few tens of milliseconds: a SYN not yet answered by data is
 * half-open, and under a flood of open flows it is what goes first, so the flow then starts at its first
 * data packet. Times are compared to the second.
 */
export function miningFacts(f: Finding): Record<string, unknown> {
  const { evidence: _e, id: _i, time, first_seen, ...rest } = f;
  const sec = (t: unknown) => (typeof t === 'string' ? t.slice(0, 19) : t);
  return { ...rest, time: sec(time), first_seen: sec(first_seen) };
}
