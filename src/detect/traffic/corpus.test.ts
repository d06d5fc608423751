/**
 * `minewatch pcap` on every real capture in test/corpus/pcap against its ground truth
 * (test/corpus/README.md), plus expected outputs kept beside in test/corpus/expected/ as nDPI's
 * suite does: `UPDATE_EXPECTED=1` rewrites them, and a reviewer reads the diff.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Finding } from '../../findings/index.ts';
import { loadIntel } from '../../intel/index.ts';
import { analyseCapture, type CaptureReport } from './capture.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const CORPUS = join(ROOT, 'test/corpus/pcap');
const EXPECTED = join(ROOT, 'test/corpus/expected');
const intel = loadIntel({ userDir: null });

const cache = new Map<string, Promise<CaptureReport>>();
function analyse(rel: string): Promise<CaptureReport> {
  let p = cache.get(rel);
  if (!p) {
    p = analyseCapture(join(CORPUS, rel), { intel });
    cache.set(rel, p);
  }
  return p;
}

const mining = (r: CaptureReport) => r.findings.filter((f) => f.severity !== 'info' && f.severity !== 'low');
const to = (r: CaptureReport, ip: string, port: number): Finding => {
  const f = r.findings.find((x) => x.pool?.ip === ip && x.pool?.port === port);
  assert.ok(
    f,
    `no finding for ${ip}:${port}; have ${r.findings.map((x) => `${x.pool?.ip}:${x.pool?.port}`).join(', ')}`,
  );
  return f;
};

test('ndpi/mining.pcapng: all four mining flows with wallet, worker, agent and pool', async () => {
  const r = await analyse('ndpi/mining.pcapng');
  assert.equal(mining(r).length, 4);
  const eth = to(r, '185.71.66.39', 9999);
  assert.equal(eth.host, '147.229.13.222');
  assert.equal(eth.rule, 'net.stratum.session');
  assert.equal(eth.wallet, '0x9c99d212f7e5daa18ab50810e0fd255d1f04303b');
  assert.equal(eth.wallet_valid, null); // lower case: EIP-55 carries no checksum
  assert.equal(eth.worker, 'tester.worker1');
  assert.equal(eth.coin, 'ETH');
  const xmr = to(r, '178.32.196.217', 9050);
  assert.equal(xmr.host, '192.168.2.92');
  assert.match(xmr.wallet as string, /^4BCeEPhod/);
  assert.equal(xmr.wallet_valid, true);
  assert.equal(xmr.agent, 'xmr-stak-cpu/1.3.0-1.5.0');
  assert.equal(xmr.coin, 'XMR');
  const zec1 = to(r, '94.23.199.191', 3333);
  assert.equal(zec1.pool?.host, 'eu1-zcash.flypool.org');
  assert.equal(zec1.wallet, 't1fAhZF5aUJdY7CikGULHmeYk7id8qmvbAd');
  assert.equal(zec1.wallet_valid, true);
  assert.equal(zec1.worker, 'rig4');
  assert.equal(zec1.coin, 'ZEC');
  assert.ok(zec1.agent, 'the subscribe names the miner');
  const zec2 = to(r, '116.211.167.195', 3333);
  assert.equal(zec2.pool?.host, 'cn1-zcash.flypool.org');
  assert.equal(zec2.wallet, 't1fJuHWrfcWnYMYyP9VAF96vRnvND2NziMG');
  assert.equal(zec2.worker, 'c1');
  for (const f of mining(r)) {
    assert.ok(f.evidence[0]?.packets?.length, 'evidence names packets');
    assert.ok(f.attack.some((a) => a.technique === 'T1496'));
    assert.ok(f.confidence >= 0.9);
    assert.ok((f.jobs as number) > 0 || (f.shares as number) > 0, `${f.pool?.ip}: counts jobs or shares`);
  }
});

test('ndpi/monero-mining.pcap and zcash.pcap hold the flows the README says', async () => {
  const a = await analyse('ndpi/monero-mining.pcap');
  assert.deepEqual(
    mining(a)
      .map((f) => f.pool?.host)
      .sort(),
    ['cn1-zcash.flypool.org', 'eu1-zcash.flypool.org'],
  );
  const b = await analyse('ndpi/zcash.pcap');
  assert.equal(mining(b).length, 1);
  assert.equal(mining(b)[0]!.agent, 'xmr-stak-cpu/1.3.0-1.5.0');
});

for (const neg of [
  'ndpi/monero-p2p.pcap',
  'ndpi/bitcoin-p2p.pcap',
  'ndpi/ethereum.pcap',
  'ndpi/jsonrpc-negative.pcap',
]) {
  test(`${neg}: look-alike traffic is not mining`, async () => {
    const r = await analyse(neg);
    assert.deepEqual(
      r.findings.map((f) => `${f.rule} ${f.pool?.ip}:${f.pool?.port}`),
      [],
    );
    assert.ok(r.summary.packets > 0);
  });
}

test('zeek/bitcoin-mining.pcap: bfgminer over HTTP, TLS and stratum with both users', async () => {
  const r = await analyse('zeek-cryptomining/bitcoin-mining.pcap');
  const m = mining(r);
  assert.ok(m.length >= 1);
  for (const f of m) {
    assert.equal(f.pool?.host, 'us1.bitminter.com');
    assert.equal(f.pool?.port, 3333);
    assert.equal(f.agent, 'bfgminer/5.2.0');
    assert.equal(f.coin, 'BTC');
  }
  const users = new Set(m.flatMap((f) => f.accounts as string[]));
  assert.ok(users.has('Bigsky') && users.has('broatcast'), [...users].join(','));
  const signals = new Set(m.flatMap((f) => f.signals as string[]));
  for (const s of ['net.stratum.session', 'net.http.mining', 'net.tls.pool-sni'])
    assert.ok(signals.has(s), s);
});

test('zeek/bitcoin-mining-in-progress.pcap: a session seen from the middle is still mining', async () => {
  const r = await analyse('zeek-cryptomining/bitcoin-mining-in-progress.pcap');
  const f = to(r, '74.84.128.158', 3333);
  assert.equal(f.rule, 'net.stratum.session');
  assert.equal(f.coin, 'BTC');
  assert.equal(f.pool?.host, 'bitminter.com');
  assert.equal(f.pool_host_basis, 'dns-query-same-host');
});

test('zeek/coinhive-stratum.pcap: the proxy login, and the pool named by the DNS answer', async () => {
  const r = await analyse('zeek-cryptomining/coinhive-stratum.pcap');
  const f = to(r, '192.110.160.114', 3333);
  assert.match(f.wallet as string, /^46WNbm/);
  assert.equal(f.wallet_valid, true);
  assert.equal(f.pool?.host, 'la01.supportxmr.com');
  assert.equal(f.coin, 'XMR');
  assert.ok(r.findings.some((x) => x.pool?.host === 'coinhive.com' && x.rule === 'net.tls.pool-sni'));
});

test('zeek/coinhive.pcap: browser mining found by its pool names, Firefox traffic left alone', async () => {
  const r = await analyse('zeek-cryptomining/coinhive.pcap');
  const hosts = mining(r)
    .map((f) => f.pool?.host)
    .sort();
  assert.deepEqual(hosts, ['authedmine.com', 'ws027.authedmine.com']);
  const long = to(r, '37.187.167.83', 443);
  assert.equal(long.tls, true);
  assert.ok(long.ja3 && long.ja4, 'fingerprints recorded');
});

/** The stable part of a report, for the expected files. */
function project(r: CaptureReport) {
  const keys = [
    'rule',
    'severity',
    'host',
    'pool',
    'tls',
    'coin',
    'wallet',
    'wallet_valid',
    'user',
    'worker',
    'agent',
    'algo',
    'signals',
    'accounts',
    'sni',
    'ja3',
    'ja4',
    'jobs',
    'shares',
  ];
  return {
    findings: r.findings
      .map((f) => Object.fromEntries(keys.filter((k) => f[k] !== undefined).map((k) => [k, f[k]])))
      .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    summary: {
      packets: r.summary.packets,
      flows: r.summary.flows,
      hosts_mining: r.summary.hosts_mining,
      coins: r.summary.coins,
      pools: r.summary.pools,
      ports: r.summary.ports,
    },
  };
}

const captures = readdirSync(CORPUS).flatMap((d) =>
  readdirSync(join(CORPUS, d))
    .filter((f) => /\.pcap(ng)?$/.test(f))
    .map((f) => `${d}/${f}`),
);

test('the corpus holds every capture its README lists', () => {
  assert.equal(captures.length, 11);
});
for (const rel of captures) {
  test(`${rel}: output matches test/corpus/expected/${rel}.json`, async () => {
    const got = project(await analyse(rel));
    const file = join(EXPECTED, `${rel}.json`);
    if (process.env.UPDATE_EXPECTED === '1') {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, `${JSON.stringify(got, null, 2)}\n`);
    }
    assert.ok(existsSync(file), `missing ${file}: run with UPDATE_EXPECTED=1 and review it`);
    assert.deepEqual(got, JSON.parse(readFileSync(file, 'utf8')));
  });
}
