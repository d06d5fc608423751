import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  BUILTIN_DATA_DIR,
  defaultUserIntelDir,
  IntelSchemaError,
  loadIntel,
  readIntelFiles,
  validateIntelFile,
} from './load.ts';
import { INTEL_KINDS, type SourceRef } from './schema.ts';

const base = loadIntel({ userDir: null });

describe('the pools from the cloud-mining analysis', () => {
  it('xmr.nanopool.org carries its network share', () => {
    const p = base.matchDomain('xmr.nanopool.org')?.pool;
    assert.equal(p?.host, 'xmr.nanopool.org');
    assert.deepEqual(p?.coins, ['XMR']);
    assert.match(p?.hashrate_share ?? '', /99\.79 MH\/s/);
    assert.ok(p?.sources.some((s) => s.id === 'analysis'));
  });

  it('pool.minexmr.com is closed since 2022-08, with its share', () => {
    const p = base.matchDomain('pool.minexmr.com')?.pool;
    assert.equal(p?.status, 'closed');
    assert.equal(p?.closed, '2022-08');
    assert.match(p?.hashrate_share ?? '', /62\.78 MH\/s.*13\.6%/);
    // every MineXMR host is closed, not just the one the analysis named
    assert.equal(base.matchDomain('fr.minexmr.com')?.pool.status, 'closed');
  });

  it('xmr.pool.minergate.com uses ports 45700 and 45560', () => {
    const p = base.matchDomain('xmr.pool.minergate.com')?.pool;
    assert.deepEqual(p?.ports.plain, [45560, 45700]);
    assert.match(p?.hashrate_share ?? '', /26\.50 MH\/s/);
  });

  it('has the Chinese pools Falco misses, ranked as in the analysis', () => {
    for (const [host, rank] of [
      ['ppxxmr.com', 3],
      ['yiluzhuanqian.com', 4],
      ['f2pool.com', 9],
    ] as const) {
      const p = base.matchDomain(host)?.pool;
      assert.equal(p?.host, host);
      assert.equal(p?.popularity_rank, rank);
      assert.ok(!p?.sources.some((s) => s.id === 'falco'), `${host} should not claim a falco source`);
      assert.ok(base.matchDomain(`xmr.${host}`), `subdomain of ${host}`);
    }
  });
});

describe('exclusions', () => {
  const neverPools = [
    'coinbase.com',
    'pro.coinbase.com',
    'binance.com',
    'api.binance.com',
    'kraken.com',
    'bitfinex.com',
    'bitstamp.net',
    'gemini.com',
    'huobi.com',
    'okx.com',
    'kucoin.com',
    'bybit.com',
    'gate.io',
    'getmonero.org',
    'downloads.getmonero.org',
    'blockchain.com',
    'blockchain.info',
    'mymonero.com',
    'localmonero.co',
    'xmrchain.net',
    'etherscan.io',
    'coinmarketcap.com',
    'xmrig.com',
  ];

  it('no exchange or wallet site is a pool', () => {
    for (const d of neverPools) {
      assert.equal(base.matchDomain(d), undefined, d);
      assert.equal(base.isExcluded(d), true, d);
    }
    assert.equal(base.isExcluded('xmr.nanopool.org'), false);
  });

  it('no pool entry sits under a subtree exclusion', () => {
    for (const p of base.pools) assert.equal(base.isExcluded(p.host), false, p.host);
  });

  it('lookup says excluded, not unknown', () => {
    assert.equal(base.lookup('www.coinbase.com').verdict, 'excluded');
    assert.equal(base.lookup('www.coinbase.com').exclusion?.category, 'exchange');
  });
});

describe('the data', () => {
  it('has at least 300 pool domains', () => {
    assert.ok(base.pools.length >= 300, String(base.pools.length));
    assert.ok(base.pools.filter((p) => p.kind === 'pool').length >= 300);
  });

  it('every entry has sources that resolve to a licence', () => {
    const check = (what: string, refs: SourceRef[]) => {
      assert.ok(refs.length > 0, `${what} has no source`);
      for (const r of refs) assert.ok(base.source(r.id)?.licence, `${what}: source ${r.id} has no licence`);
    };
    for (const p of base.pools) check(p.host, p.sources);
    for (const e of base.endpoints) check(e.ip, e.sources);
    for (const p of base.ports) check(String(p.port), p.sources);
    for (const c of base.coins) check(c.symbol, c.sources);
    for (const f of base.families) check(f.id, f.sources);
    for (const x of base.exclusionEntries) check(x.domain, x.sources);
    for (const list of Object.values(base.miners)) for (const m of list) check(m.value, m.sources);
  });

  it('the schema validates every file, and rejects a broken one with its path', () => {
    for (const kind of INTEL_KINDS) {
      const doc = JSON.parse(readFileSync(join(BUILTIN_DATA_DIR, `${kind}.json`), 'utf8'));
      validateIntelFile(kind, kind, doc);
    }
    const doc = JSON.parse(readFileSync(join(BUILTIN_DATA_DIR, 'pools.json'), 'utf8'));
    doc.entries[3].status = 'maybe';
    assert.throws(
      () => validateIntelFile('pools', 'pools.json', doc),
      (e: unknown) => {
        assert.ok(e instanceof IntelSchemaError);
        assert.match(e.path, /^\/entries\/3\/status/);
        return true;
      },
    );
  });

  it('refuses a data dir whose entries name an unknown source', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mw-intel-'));
    try {
      cpSync(BUILTIN_DATA_DIR, dir, { recursive: true });
      const f = join(dir, 'ports.json');
      writeFileSync(f, readFileSync(f, 'utf8').replace('"id":"analysis"', '"id":"nobody"'));
      assert.throws(() => readIntelFiles(dir), /unknown source id 'nobody'/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('coins include the CryptoNight family and the majors', () => {
    for (const s of [
      'XMR',
      'XCN',
      'ETN',
      'BTC',
      'LTC',
      'ETH',
      'ETC',
      'ZEC',
      'AEON',
      'TRTL',
      'SUMO',
      'WOW',
      'RVN',
      'DOGE',
      'DASH',
      'BCH',
    ]) {
      assert.ok(base.coin(s), s);
    }
    assert.equal(base.coin('xmr')?.algos[0], 'randomx');
    assert.deepEqual(base.coin('XMR')?.former_algos, ['cryptonight']);
    assert.equal(base.coin('ETN')?.family, 'cryptonote');
    assert.equal(base.coin('XCN')?.family, 'cryptonote');
    assert.equal(base.coin('ETH')?.mineable, false);
    // every coin a pool names is in the coin table
    for (const p of base.pools) for (const c of p.coins) assert.ok(base.coin(c), `${p.host}: ${c}`);
  });

  it('browser miners are their own kind; coinhive closed', () => {
    for (const h of ['coinhive.com', 'authedmine.com', 'crypto-loot.com']) {
      assert.equal(base.matchDomain(h)?.pool.kind, 'browser-miner', h);
    }
    assert.equal(base.matchDomain('coinhive.com')?.pool.status, 'closed');
  });

  it('miner knowledge has names, markers, keys and user agents with weights', () => {
    const has = (list: Array<{ value: string }>, v: string) => list.some((m) => m.value === v);
    assert.ok(has(base.miners.processes, 'xmrig'));
    assert.ok(has(base.miners.processes, 'kdevtmpfsi'));
    assert.ok(has(base.miners.cmdline, 'stratum+tcp://'));
    assert.ok(has(base.miners.cmdline, '--donate-level'));
    assert.ok(has(base.miners.config_keys, 'donate-level'));
    assert.ok(has(base.miners.user_agents, 'XMRig/'));
    for (const list of Object.values(base.miners)) {
      for (const m of list) if (m.match === 'regex') assert.doesNotThrow(() => new RegExp(m.value), m.value);
    }
  });

  it('families carry the maltrail IOCs minus exclusions', () => {
    const kinsing = base.families.find((f) => f.id === 'kinsing');
    assert.ok(kinsing);
    assert.ok(kinsing.aliases.includes('H2Miner'));
    assert.ok(kinsing.ips.length > 10);
    const generic = base.families.find((f) => f.id === 'generic-miner');
    assert.ok(generic);
    assert.ok(generic.domains.length > 100);
    assert.ok(!generic.domains.includes('update.aegis.aliyun.com'));
    assert.equal(base.lookup('teamtnt.red').verdict, 'family');
  });
});

describe('stats and lookup', () => {
  it('stats count pools by kind and coin consistently', () => {
    const s = base.stats();
    assert.equal(s.pools, base.pools.length);
    assert.equal(
      Object.values(s.poolsByKind).reduce((a, b) => a + b, 0),
      base.pools.length,
    );
    assert.equal(s.poolsByCoin.XMR, base.pools.filter((p) => p.coins.includes('XMR')).length);
    assert.ok((s.poolsByStatus.closed ?? 0) >= 1);
    assert.equal(s.endpoints, base.endpoints.length);
  });

  it('lookup accepts domain, ip, ip:port and pasted stratum URLs', () => {
    const d = base.lookup('stratum+tcp://pool.minexmr.com:4444');
    assert.equal(d.type, 'domain');
    assert.equal(d.port, 4444);
    assert.equal(d.pool?.entry.name, 'MineXMR');
    assert.equal(d.portInfo?.port, 4444);
    assert.ok(d.licences.includes('MIT'));
    const ip = base.lookup('94.130.143.162:45700');
    assert.equal(ip.verdict, 'endpoint');
    assert.equal(ip.endpoint?.portMatched, true);
    assert.equal(base.lookup('example.org').verdict, 'unknown');
    assert.equal(base.lookup('not a thing').type, 'invalid');
  });
});

describe('user dir location', () => {
  it('MINEWATCH_HOME, then XDG_CONFIG_HOME, then ~/.config', () => {
    assert.equal(defaultUserIntelDir({ MINEWATCH_HOME: '/m', XDG_CONFIG_HOME: '/x' }), '/m/intel');
    assert.equal(defaultUserIntelDir({ XDG_CONFIG_HOME: '/x' }), '/x/minewatch/intel');
    assert.match(defaultUserIntelDir({}), /\.config\/minewatch\/intel$/);
  });
});
