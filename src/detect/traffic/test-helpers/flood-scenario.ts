import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Finding } from '../../../findings/index.ts';
import { CaptureReader } from '../../../sensors/pcap/reader.ts';
import type { TimedPacket } from './flood.ts';
import { moneroSession } from './mining.ts';

const XMRIG_TLS = fileURLToPath(
  new URL('../../../../test/captures/tls-no-sni/xmrig-cnpico-job30s-diff20000-120s.pcap', import.meta.url),
);

/** The IP packets of an Ethernet capture, moved to start at t0. */
function replay(path: string, t0: number): TimedPacket[] {
  const out: TimedPacket[] = [];
  const r = new CaptureReader({ source: path });
  let first = Number.NaN;
  r.push(readFileSync(path), (p) => {
    if (Number.isNaN(first)) first = p.tsSec;
    out.push({ ts: t0 + (p.tsSec - first), ip: p.data.slice(14) });
  });
  r.end();
  return out;
}

/**
 * The mining sessions woven into the flood captures (tests and bench alike): two plain stratum sessions and
 * a real XMRig --tls session to a bare address (test/captures/tls-no-sni), which is judged only at its end
 * and so must survive the flood undecided.
 */
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
    replay(XMRIG_TLS, 1_700_000_300),
  ];
}

/**
 * What must not change when a flood surrounds a session. Packet numbers do (the flood's packets come between),
 * and the start may move by the handshake's few tens of milliseconds: a SYN not yet answered by data is
 * half-open, and under a flood of open flows it is what goes first, so the flow then starts at its first
 * data packet. `start` is the first-seen time in whole seconds (to be compared within a second).
 */
export function miningFacts(f: Finding): Record<string, unknown> {
  const { evidence: _e, id: _i, time: _t, first_seen, ...rest } = f;
  return { ...rest, start: Math.floor(Date.parse(String(first_seen)) / 1000) };
}

/** Facts of two finding lists equal, but for starts that may differ by up to a second. */
export function sameMiningFindings(a: readonly Finding[], b: readonly Finding[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((x, i) => {
    const { start: s1, ...f1 } = miningFacts(x);
    const { start: s2, ...f2 } = miningFacts(b[i]!);
    return Math.abs((s1 as number) - (s2 as number)) <= 1 && JSON.stringify(f1) === JSON.stringify(f2);
  });
}
