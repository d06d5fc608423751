import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadIntel } from '../../intel/index.ts';
import { conversation, writePcap } from '../../sensors/pcap/testkit.ts';
import { analyseCapture } from './capture.ts';
import { hostCoin, inferCoin } from './coin.ts';

const intel = loadIntel({ userDir: null });

test('what the traffic says comes before the pool list', () => {
  // A multi-coin pool that also lists ETH: the RandomX algorithm says XMR.
  assert.deepEqual(inferCoin(intel, { algo: 'rx/0', poolCoins: ['XMR', 'ETH'] }), {
    coin: 'XMR',
    basis: 'algorithm',
  });
  // A single-coin pool entry does not overrule the wallet or the dialect.
  assert.deepEqual(inferCoin(intel, { walletCoin: 'XMR', poolCoins: ['ZEC'] }), {
    coin: 'XMR',
    basis: 'wallet format',
  });
  assert.deepEqual(inferCoin(intel, { dialect: 'monero', poolCoins: ['ETH'] }), {
    coin: 'XMR',
    basis: 'stratum dialect',
  });
  assert.deepEqual(inferCoin(intel, { poolCoins: ['ZEC'] }), { coin: 'ZEC', basis: 'pool' });
});

test('host name labels: the coin when nothing else says it, and ETC from an ETH-format wallet', () => {
  assert.equal(hostCoin(intel, 'zec-eu1.nanopool.org'), 'ZEC');
  assert.equal(hostCoin(intel, 'eu1-etc.ethermine.org'), 'ETC');
  assert.equal(hostCoin(intel, 'xmr-us-east1.nanopool.org'), 'XMR');
  assert.equal(hostCoin(intel, 'etc.2miners.com'), 'ETC');
  assert.equal(hostCoin(intel, 'etcetera.example.com'), undefined);
  assert.equal(hostCoin(intel, 'pool.example.xmr'), undefined, 'the top-level label is not a hint');
  assert.equal(hostCoin(intel, 'xmr-etc.example.com'), undefined, 'two coins: no guess');
  assert.deepEqual(inferCoin(intel, { host: 'zec-eu1.nanopool.org' }), { coin: 'ZEC', basis: 'host name' });
  assert.deepEqual(inferCoin(intel, { walletCoin: 'ETH', host: 'etc-eu1.nanopool.org' }), {
    coin: 'ETC',
    basis: 'wallet format and host name',
  });
  assert.deepEqual(inferCoin(intel, { dialect: 'ethereum', host: 'eu1-etc.ethermine.org' }), {
    coin: 'ETC',
    basis: 'stratum dialect and host name',
  });
  assert.deepEqual(inferCoin(intel, { walletCoin: 'ETH', host: 'eth-eu1.nanopool.org' }), {
    coin: 'ETH',
    basis: 'wallet format',
  });
});

test('a connection known only by its pool address gets the pool name and domain from intel', async () => {
  // 15.204.9.209:10300 is listed (maltrail) as an endpoint of community-pools.mysrv.cloud.
  const pk = conversation('10.4.0.2:50500', '15.204.9.209:10300', [
    { from: 'c', data: new Uint8Array(64).fill(0xa5) },
    { from: 's', data: new Uint8Array(64).fill(0x5a) },
  ]);
  const r = await analyseCapture('-', {
    intel,
    stdin: [
      writePcap(
        pk.map((p) => ({ ts: p.ts, data: p.ip })),
        { linkType: 101 },
      ),
    ],
  });
  const f = r.findings[0];
  assert.equal(f?.rule, 'net.pool.known-endpoint');
  const m = intel.matchDomain('community-pools.mysrv.cloud');
  assert.ok(m, 'intel names the pool');
  assert.equal(f?.pool?.name, m.pool.name);
  assert.equal(f?.pool?.domain, m.pool.host);
  assert.equal(f?.pool?.host, undefined, 'no host name was seen: none is claimed');
  assert.ok(((f?.reasons ?? []) as string[]).some((x) => x.includes(m.pool.name)));
});
