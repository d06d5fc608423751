import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadIntel } from '../../intel/index.ts';
import { conversation, writePcap } from '../../sensors/pcap/testkit.ts';
import { analyseCapture } from './capture.ts';
import { GETWORK_WALLET, getworkSession, nodeRpcSession } from './test-helpers/getwork.ts';

const intel = loadIntel({ userDir: null });

function capture(packets: { ts: number; ip: Uint8Array }[]): Uint8Array {
  return writePcap(
    packets.map((p) => ({ ts: p.ts, data: p.ip })),
    { linkType: 101 },
  );
}

test('HTTP getwork without miner headers is found with wallet, rig and coin', async () => {
  const pk = conversation('10.3.0.7:51200', '203.0.113.40:8888', getworkSession({ polls: 6, shares: 2 }));
  const r = await analyseCapture('-', { intel, stdin: [capture(pk)] });
  assert.equal(r.findings.length, 1);
  const f = r.findings[0]!;
  assert.equal(f.rule, 'net.http.mining');
  assert.equal(f.severity, 'high');
  assert.equal(f.wallet, GETWORK_WALLET);
  assert.equal(f.worker, 'rig07');
  assert.equal(f.coin, 'ETH');
  assert.equal(f.dialect, 'eth-getwork');
  assert.ok(
    (f.reasons as string[]).some((x) => x.includes('eth_getWork answered with header, seed and boundary')),
  );
  assert.ok(f.evidence[0]?.packets?.length);
});

test('getwork with a Content-Length answer and a path-style URL too', async () => {
  const pk = conversation(
    '10.3.0.8:51201',
    '203.0.113.41:80',
    getworkSession({ chunked: false, path: `/${GETWORK_WALLET}/farm2` }),
  );
  const r = await analyseCapture('-', { intel, stdin: [capture(pk)] });
  assert.equal(r.findings[0]?.worker, 'farm2');
});

test("a dapp's JSON-RPC to its own Ethereum node stays quiet", async () => {
  const pk = conversation('10.3.0.9:51202', '10.0.0.8:8545', nodeRpcSession());
  const r = await analyseCapture('-', { intel, stdin: [capture(pk)] });
  assert.deepEqual(r.findings, []);
});

/**
 * Each turn cut into `pieces` segments at pseudo-random points (a needle may then straddle two, and the parser
 * starts segments later); few enough that the analyzer's packet limit is not what is tested.
 */
function cut(
  turns: { from: 'c' | 's'; data: string | Uint8Array; dt?: number }[],
  pieces: number,
  seed: number,
) {
  let s = seed;
  const r = (n: number) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s % n;
  };
  const out: { from: 'c' | 's'; data: Uint8Array; dt?: number }[] = [];
  for (const t of turns) {
    const b = typeof t.data === 'string' ? new TextEncoder().encode(t.data) : t.data;
    const points = [...new Set(Array.from({ length: pieces - 1 }, () => 1 + r(b.length - 1)))].sort(
      (x, y) => x - y,
    );
    let from = 0;
    for (const p of [...points, b.length]) {
      out.push({ from: t.from, data: b.subarray(from, p), ...(from === 0 && t.dt ? { dt: t.dt } : {}) });
      from = p;
    }
  }
  return out;
}

test('HTTP mining is found the same whatever the segments: the parser starts at the first telling bytes', async () => {
  // The analyzer only keeps an HTTP flow's segments until one could decide it (HTTP_DECISIVE_NEEDLES), then parses
  // them all: cut, the telling bytes straddle segments and come a segment or more after the first.
  const sessions = [
    getworkSession({ polls: 3, shares: 1 }),
    getworkSession({ chunked: false, path: `/${GETWORK_WALLET}/farm2` }),
  ];
  const strip = (f: Record<string, unknown>) =>
    JSON.stringify({ ...f, evidence: undefined, id: undefined, last_seen: undefined });
  for (const [i, turns] of sessions.entries()) {
    const whole = await analyseCapture('-', {
      intel,
      stdin: [capture(conversation('10.3.1.7:51200', '203.0.113.40:8888', turns))],
    });
    assert.equal(whole.findings.length, 1);
    for (let seed = 1; seed <= 12; seed++) {
      const pieces = 2 + (seed % 2);
      const r = await analyseCapture('-', {
        intel,
        stdin: [
          capture(conversation('10.3.1.7:51200', '203.0.113.40:8888', cut(turns, pieces, seed * 7 + i))),
        ],
      });
      assert.equal(r.findings.length, 1, `session ${i}, seed ${seed}`);
      // Packet numbers and the last packet's time move with the cut; everything else is the same finding.
      assert.equal(strip(r.findings[0]!), strip(whole.findings[0]!), `session ${i}, seed ${seed}`);
    }
  }
});

test('a miner named only in a later request, its User-Agent split between two segments, is still found', async () => {
  const request = (ua: string, path: string) =>
    `GET ${path} HTTP/1.1\r\nHost: pool.example:8332\r\nUser-Agent: ${ua}\r\nContent-Length: 0\r\n\r\n`;
  const answer = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok';
  const late = request('cgminer/4.10.0', '/work');
  const at = late.indexOf('cgminer') + 3;
  const turns = [
    { from: 'c' as const, data: request('Mozilla/5.0', '/') },
    { from: 's' as const, data: answer },
    { from: 'c' as const, data: late.slice(0, at) },
    { from: 'c' as const, data: late.slice(at) },
    { from: 's' as const, data: answer },
  ];
  const r = await analyseCapture('-', {
    intel,
    stdin: [capture(conversation('10.3.1.8:51300', '203.0.113.42:8332', turns))],
  });
  assert.equal(r.findings.length, 1);
  assert.ok((r.findings[0]!.reasons as string[]).some((x) => x.includes('mining software User-Agent')));
  const clean = await analyseCapture('-', {
    intel,
    stdin: [capture(conversation('10.3.1.8:51300', '203.0.113.42:8332', [turns[0]!, turns[1]!]))],
  });
  assert.deepEqual(clean.findings, []);
});
