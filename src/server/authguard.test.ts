import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AuthGuard, adminTokenWeakness, clientKey, tokenPrefix } from './authguard.ts';

test('a guess spread over many addresses stops too: past the prefix burst, each failing client is locked out', () => {
  let now = 0;
  const logs: string[] = [];
  const g = new AuthGuard({ now: () => now, log: (m) => logs.push(m) });
  const guess = (i: number) => `mwt_0123456789ab_${String(i).padStart(43, 'x')}`;
  for (let i = 0; i < 50; i++) {
    g.failed(`10.0.${i}.1`, guess(i), 'bearer token');
    assert.equal(g.blocked(`10.0.${i}.1`), 0, 'one failure per address is within its own burst');
  }
  g.failed('10.9.9.9', guess(51), 'bearer token');
  assert.ok(g.blocked('10.9.9.9') > 0, 'the prefix is spent: this client is locked out at once');
  assert.match(logs.at(-1)!, /too many failures for mwt_0123456789ab from all clients, client locked out/);
  // A client that presents nothing wrong is never blocked: the right credential still gets through.
  assert.equal(g.blocked('10.8.8.8'), 0);
  // Other prefixes are unaffected.
  g.failed('10.7.7.7', 'wrong-admin-guess', 'bearer token');
  assert.equal(g.blocked('10.7.7.7'), 0);
  // The lockout ends: 10 failures a minute refill.
  now += 7_000;
  assert.equal(g.blocked('10.9.9.9'), 0);
});

test('one client: 20 failures, then locked out until its bucket refills; each failure logged within the burst', () => {
  let now = 0;
  const logs: string[] = [];
  const g = new AuthGuard({ now: () => now, log: (m) => logs.push(m) });
  for (let i = 0; i < 20; i++) g.failed('192.0.2.7', `demo${i}`, 'dashboard login');
  assert.ok(g.blocked('192.0.2.7') > 0);
  assert.equal(logs.filter((l) => /failed dashboard login from 192\.0\.2\.7/.test(l)).length, 20);
  assert.match(logs.at(-1)!, /locked out for \d+ s/);
  now += 6_000;
  assert.equal(g.blocked('192.0.2.7'), 0);
});

test('client keys: IPv4 as it is, IPv4-mapped IPv6 as IPv4, IPv6 by /64', () => {
  assert.equal(clientKey('192.0.2.1'), '192.0.2.1');
  assert.equal(clientKey('::ffff:192.0.2.1'), '192.0.2.1');
  assert.equal(clientKey('2001:db8:1:2:3:4:5:6'), '2001:db8:1:2::/64');
  assert.equal(clientKey('2001:db8::1'), '2001:db8:0:0::/64');
  assert.equal(clientKey('2001:db8::2'), clientKey('2001:db8::ffff'));
  assert.equal(clientKey(undefined), 'unknown');
  assert.equal(tokenPrefix('mwt_0123456789ab_secret'), 'mwt_0123456789ab');
  assert.equal(tokenPrefix('demo'), 'other');
});

test('admin token strength: short refused, weak warned, random accepted', () => {
  assert.equal(adminTokenWeakness('demo')?.refuse, true);
  assert.equal(adminTokenWeakness('0123456789abcdef')?.refuse, false);
  assert.equal(adminTokenWeakness('a'.repeat(40))?.refuse, false);
  assert.equal(adminTokenWeakness('3f9a0c1e7b5d2a8c4e6f0b1d3a5c7e9f2b4d6f8a0c2e4a6b'), null);
});
