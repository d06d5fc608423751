import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadIntel } from './load.ts';
import { EndpointMatcher, ExclusionIndex, PoolMatcher, SuffixIndex } from './match.ts';
import type { EndpointEntry, PoolEntry } from './schema.ts';

const base = loadIntel({ userDir: null });

function pool(host: string, name = host): PoolEntry {
  return {
    host,
    name,
    kind: 'pool',
    coins: [],
    algos: [],
    ports: { plain: [], tls: [] },
    status: 'active',
    sources: [{ id: 'minewatch' }],
  };
}

describe('matchDomain on the built-in base', () => {
  it('matches a pool host and its subdomains', () => {
    assert.equal(base.matchDomain('xmr-eu1.nanopool.org')?.pool.name, 'Nanopool');
    assert.equal(base.matchDomain('some-new-host.nanopool.org')?.matched, 'nanopool.org');
    assert.equal(base.matchDomain('a.b.c.supportxmr.com')?.pool.name, 'SupportXMR');
  });

  it('does not match a pool name used as a label of another domain', () => {
    assert.equal(base.matchDomain('nanopool.org.evil.com'), undefined);
    assert.equal(base.matchDomain('xmr-eu1.nanopool.org.example.net'), undefined);
    assert.equal(base.matchDomain('notnanopool.org'), undefined);
    assert.equal(base.matchDomain('org'), undefined);
  });

  it('ignores case and a trailing dot', () => {
    const hit = base.matchDomain('XMR-EU1.NanoPool.ORG.');
    assert.equal(hit?.matched, 'xmr-eu1.nanopool.org');
    assert.deepEqual(hit?.pool.coins, ['XMR']);
    assert.equal(base.matchDomain('  pool.supportxmr.com.  ')?.pool.host, 'pool.supportxmr.com');
  });

  it('returns the most specific entry', () => {
    // both xmr.pool.minergate.com and minergate.com are listed
    assert.equal(base.matchDomain('xmr.pool.minergate.com')?.matched, 'xmr.pool.minergate.com');
    assert.equal(base.matchDomain('eu.xmr.pool.minergate.com')?.matched, 'xmr.pool.minergate.com');
    assert.equal(base.matchDomain('bcn.pool.minergate.com')?.matched, 'bcn.pool.minergate.com');
    assert.equal(base.matchDomain('other.minergate.com')?.matched, 'minergate.com');
  });

  it('never matches the shared DNS zone itself, but does match a listed name inside it', () => {
    assert.equal(base.matchDomain('ddns.net'), undefined);
    assert.equal(base.matchDomain('d1pool.ddns.net')?.pool.host, 'd1pool.ddns.net');
    assert.equal(base.matchDomain('someone-else.ddns.net'), undefined);
  });
});

describe('matchers in isolation', () => {
  it('SuffixIndex walks labels, not characters', () => {
    const idx = new SuffixIndex<number>();
    idx.set('b.c', 1);
    idx.set('a.b.c', 2);
    assert.deepEqual(idx.lookup('x.a.b.c'), { value: 2, matched: 'a.b.c' });
    assert.deepEqual(idx.lookup('y.b.c'), { value: 1, matched: 'b.c' });
    assert.equal(idx.lookup('ab.c'), undefined);
    assert.equal(idx.lookup('b.c.d'), undefined);
  });

  it('exclusions win over a pool listed under them', () => {
    const ex = new ExclusionIndex([
      { domain: 'binance.com', category: 'exchange', scope: 'subtree', sources: [{ id: 'minewatch' }] },
      { domain: 'ddns.net', category: 'shared-dns', scope: 'exact', sources: [{ id: 'minewatch' }] },
    ]);
    const m = new PoolMatcher(
      [pool('pool.binance.com'), pool('binance.com'), pool('ddns.net'), pool('x.ddns.net')],
      ex,
    );
    assert.equal(m.match('pool.binance.com'), undefined);
    assert.equal(m.match('binance.com'), undefined);
    assert.equal(m.match('ddns.net'), undefined);
    assert.equal(m.match('x.ddns.net')?.pool.host, 'x.ddns.net');
    assert.deepEqual([...ex.sharedZones()], ['ddns.net']);
  });

  it('EndpointMatcher prefers the exact port, then says the port did not match', () => {
    const e = (ip: string, port?: number): EndpointEntry => ({
      ip,
      ...(port ? { port } : {}),
      sources: [{ id: 'maltrail' }],
    });
    const m = new EndpointMatcher([e('1.2.3.4', 3333), e('1.2.3.4', 5555), e('2001:db8::1', 443)]);
    assert.deepEqual(m.match('1.2.3.4', 5555)?.endpoint.port, 5555);
    assert.equal(m.match('1.2.3.4', 5555)?.portMatched, true);
    assert.equal(m.match('1.2.3.4', 80)?.portMatched, false);
    assert.equal(m.match('1.2.3.4')?.portMatched, false);
    assert.equal(m.match('1.2.3.5'), undefined);
    assert.equal(m.match('2001:DB8:0:0::1', 443)?.portMatched, true);
    assert.equal(m.match('not-an-ip'), undefined);
  });
});

describe('matchEndpoint and portInfo on the built-in base', () => {
  it('knows maltrail endpoints and MinerGate ports', () => {
    const hit = base.matchEndpoint('94.130.143.162', 45700);
    assert.equal(hit?.portMatched, true);
    assert.equal(hit?.endpoint.pool, 'MinerGate');
    assert.equal(hit?.endpoint.pool_inferred, true);
    assert.equal(base.matchEndpoint('94.130.143.162', 3333)?.portMatched, false);
    assert.equal(base.matchEndpoint('192.0.2.1', 3333), undefined);
  });

  it('weighs ports: typical pool ports strong, web and mail ports weak', () => {
    for (const p of [3333, 5555, 7777, 14444, 14433, 45700, 45560])
      assert.equal(base.portInfo(p)?.weight, 'strong', String(p));
    for (const p of [80, 443, 25, 8080]) assert.equal(base.portInfo(p)?.weight, 'weak', String(p));
    assert.deepEqual(base.portInfo(45700)?.pools, ['MinerGate']);
    assert.deepEqual(base.portInfo(45560)?.pools, ['MinerGate']);
    assert.equal(base.portInfo(22), undefined);
  });
});
