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
