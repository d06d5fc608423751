/**
 * What a flow costs once its handler has decided it (Flow.countOnly, countStratum): no handler call but onClose,
 * while the core goes on counting exactly what the handler would have counted from the bytes it no longer sees.
 * Each test runs the same packets twice, once reading every byte in JavaScript (the reference) and once with the
 * flow switched to counting, and compares.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rhythmFeatures } from '../../detect/traffic/behaviour.ts';
import { RhythmTracker } from './core/rhythm.ts';
import { decodePacket } from './decode.ts';
import { type Flow, type FlowHandlers, FlowTable } from './flows.ts';
import { conversation } from './testkit.ts';

const SHARES = ['"submit"', 'mining.submit', 'eth_submitWork'].map((s) => Buffer.from(s));
const JOBS = ['"job"', 'mining.notify', '"result":["0x'].map((s) => Buffer.from(s));
const count = (d: Uint8Array, needles: Buffer[]): number => {
  const b = Buffer.from(d);
  let n = 0;
  for (const x of needles) for (let i = b.indexOf(x); i !== -1; i = b.indexOf(x, i + x.length)) n++;
  return n;
};

/** A stratum session: login, then jobs pushed and shares submitted, some segments out of order. */
function session(shuffle: boolean): { ts: number; ip: Uint8Array }[] {
  const turns: { from: 'c' | 's'; data: string; dt?: number }[] = [
    {
      from: 'c',
      data: '{"id":1,"method":"login","params":{"login":"wallet","pass":"x","agent":"XMRig/6.21.0"}}\n',
    },
    {
      from: 's',
      data: '{"id":1,"jsonrpc":"2.0","result":{"id":"1","job":{"blob":"07","job_id":"a"},"status":"OK"}}\n',
    },
  ];
  for (let i = 0; i < 40; i++) {
    turns.push({
      from: 's',
      data: `{"jsonrpc":"2.0","method":"job","params":{"blob":"${'0'.repeat(i)}","job_id":"${i}"}}\n`,
      dt: 7,
    });
    turns.push({
      from: 'c',
      data: `{"id":${i + 2},"method":"submit","params":{"job_id":"${i}","nonce":"00"}}\n`,
      dt: 3,
    });
    turns.push({ from: 's', data: `{"id":${i + 2},"jsonrpc":"2.0","result":{"status":"OK"}}\n`, dt: 0.05 });
  }
  const pk = conversation('10.0.0.2:50000', '198.51.100.7:3333', turns);
  if (shuffle) for (let i = 10; i + 1 < pk.length - 3; i += 7) [pk[i], pk[i + 1]] = [pk[i + 1]!, pk[i]!];
  return pk;
}

interface Seen {
  calls: number;
  closes: number;
  shares: number;
  jobs: number;
  lastData: number;
  rhythm: ReturnType<typeof rhythmFeatures> | undefined;
  sizes: Array<[0 | 1, number, number]>;
}

/**
 * Runs the packets; shares and jobs are those of the deliveries after the `after`th, counted here in JavaScript,
 * or, with `core`, by the core once the flow switches to counting at that delivery.
 */
function run(packets: { ts: number; ip: Uint8Array }[], after: number, core = false): Seen {
  const seen: Seen = { calls: 0, closes: 0, shares: 0, jobs: 0, lastData: 0, rhythm: undefined, sizes: [] };
  let delivered = 0;
  const h: FlowHandlers = {
    onData: (f: Flow, dir, data, pkt, ts) => {
      seen.calls++;
      delivered++;
      seen.sizes.push([dir === 'c2s' ? 0 : 1, data.length, ts]);
      seen.lastData = pkt;
      if (delivered > after) {
        if (dir === 'c2s') seen.shares += count(data, SHARES);
        else seen.jobs += count(data, JOBS);
      }
      if (core && delivered === after) {
        f.countStratum = true;
        f.countOnly = true;
      }
    },
    onGap: () => {
      seen.calls++;
    },
    onClose: (f) => {
      seen.closes++;
      seen.shares += f.countStratum ? f.shares : 0;
      seen.jobs += f.countStratum ? f.jobs : 0;
      if (f.countOnly) seen.lastData = f.lastDataPacket;
      seen.rhythm = rhythmFeatures(f.rhythm());
    },
  };
  const table = new FlowTable(h);
  packets.forEach((p, i) => table.add(decodePacket(101, p.ip)!, i + 1, p.ts));
  table.end();
  return seen;
}

describe('FlowTable: a decided flow only counts', () => {
  for (const shuffle of [false, true]) {
    it(`shares, jobs, last data packet and rhythm are what JavaScript counts itself${shuffle ? ' (out-of-order segments)' : ''}`, () => {
      const packets = session(shuffle);
      const js = run(packets, 4);
      const core = run(packets, 4, true);
      assert.ok(js.shares >= 30 && js.jobs >= 30, `${js.shares} shares, ${js.jobs} jobs`);
      assert.equal(core.shares, js.shares);
      assert.equal(core.jobs, js.jobs);
      assert.equal(core.lastData, js.lastData);
      assert.deepEqual(core.rhythm, js.rhythm);
      assert.equal(core.closes, 1);
      // 4 deliveries reached JavaScript, then nothing but the close.
      assert.equal(core.calls, 4);
      assert.ok(js.calls > 100);
    });
  }

  it("rhythm() is the message rhythm of the flow's delivered sizes", () => {
    const seen = run(session(true), 0);
    const t = new RhythmTracker();
    for (const [d, n, ts] of seen.sizes) t.segment(d, n, ts);
    assert.deepEqual(seen.rhythm, rhythmFeatures(t.state()));
    assert.ok((seen.rhythm?.serverPushes ?? 0) > 10);
  });
});
