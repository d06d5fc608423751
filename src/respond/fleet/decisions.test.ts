import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type Decision,
  DecisionBook,
  desiredDecisions,
  exceptionValue,
  type FleetFinding,
} from './decisions.ts';

const f = (host: string, time: string, finding: Record<string, unknown>): FleetFinding => ({
  host,
  time,
  finding: {
    id: `${host}-${time}`,
    rule: 'net.stratum.session',
    title: 'Stratum mining session',
    ...finding,
  },
});

test('fleet findings become decisions at confidence >= 0.8; a proxied connection blocks the target', () => {
  const want = desiredDecisions(
    null,
    [
      f('web01', '2026-03-01T10:00:00Z', {
        confidence: 0.95,
        pool: { host: 'xmr.pool.example', ip: '198.51.100.7', port: 3333 },
      }),
      f('web02', '2026-03-01T09:00:00Z', { confidence: 0.9, pool: { host: '198.51.100.7', port: 3333 } }),
      f('web03', '2026-03-01T11:00:00Z', { confidence: 0.6, pool: { ip: '198.51.100.99', port: 3333 } }),
      // Through a SOCKS proxy: the pool is the target the proxy was asked for; the proxy is never blocked.
      f('web04', '2026-03-01T12:00:00Z', {
        confidence: 0.9,
        pool: { host: 'pool.behind-proxy.example', port: 443 },
        proxy: { protocol: 'socks5', ip: '10.2.0.1', port: 1080 },
        dst_ip: '10.2.0.1',
      }),
    ],
    [],
  );
  assert.deepEqual([...want.keys()].sort(), [
    'domain:pool.behind-proxy.example',
    'domain:xmr.pool.example',
    'ip:198.51.100.7',
  ]);
  // The first host to see it is the source.
  assert.equal(want.get('ip:198.51.100.7')?.source?.host, 'web02');
  assert.match(want.get('ip:198.51.100.7')!.reason, /seen by web02: net\.stratum\.session/);
});

test('internal addresses never become fleet decisions (private, CGNAT, loopback, link-local, ULA)', () => {
  const want = desiredDecisions(
    null,
    [
      '10.1.2.3',
      '172.20.0.5',
      '192.168.1.9',
      '100.64.0.1',
      '127.0.0.1',
      '169.254.169.254',
      'fd00:ec2::254',
      'fe80::1',
      '198.51.100.7',
      '2001:db8::7',
    ].map((ip, i) => f(`h${i}`, `2026-03-01T10:0${i}:00Z`, { confidence: 0.95, pool: { ip, port: 3333 } })),
    [],
  );
  assert.deepEqual([...want.keys()].sort(), ['ip:198.51.100.7', 'ip:2001:db8::7']);
});

test('exceptions: an address, or a domain with its subdomains and the addresses seen for it', () => {
  const findings = [
    f('web01', '2026-03-01T10:00:00Z', {
      confidence: 0.95,
      pool: { host: 'xmr.pool.example', ip: '198.51.100.7' },
    }),
    f('web01', '2026-03-01T10:01:00Z', { confidence: 0.95, pool: { ip: '198.51.100.8' } }),
  ];
  const ex = (value: string) => [{ value, reason: '', by: 'ops', time: '' }];
  assert.deepEqual([...desiredDecisions(null, findings, ex('pool.example')).keys()], ['ip:198.51.100.8']);
  assert.deepEqual([...desiredDecisions(null, findings, ex('198.51.100.8')).keys()].sort(), [
    'domain:xmr.pool.example',
    'ip:198.51.100.7',
  ]);
  assert.equal(exceptionValue(' Pool.Example.NET '), 'pool.example.net');
  assert.equal(exceptionValue('2001:DB8::1'), '2001:db8::1');
  assert.equal(exceptionValue('not a name!'), undefined);
});

test('the book: versions, full answers at start, additions and removals since N, tombstones bounded', () => {
  const w = (...ips: string[]) =>
    new Map(
      ips.map((ip) => [
        `ip:${ip}`,
        { type: 'ip' as const, value: ip, origin: 'fleet' as const, reason: 'r' },
      ]),
    );
  const book = new DecisionBook([], {}, 2);
  assert.equal(book.update(w('192.0.2.1', '192.0.2.2')).length, 2);
  assert.equal(book.version, 1);
  assert.equal(book.update(w('192.0.2.1', '192.0.2.2')).length, 0, 'nothing changed: same version');
  assert.equal(book.version, 1);
  book.update(w('192.0.2.1', '192.0.2.3'));
  assert.equal(book.version, 2);
  const start = book.stream();
  assert.equal(start.full, true);
  assert.deepEqual(start.new.map((d) => d.value).sort(), ['192.0.2.1', '192.0.2.3']);
  const since1 = book.stream(1);
  assert.equal(since1.full, false);
  assert.deepEqual(
    since1.new.map((d) => d.value),
    ['192.0.2.3'],
  );
  assert.deepEqual(
    since1.deleted.map((d) => d.value),
    ['192.0.2.2'],
  );
  assert.deepEqual(book.stream(2), { version: 2, full: false, new: [], deleted: [] });
  // Added and removed between two pulls: the agent never hears of it.
  book.update(w('192.0.2.1', '192.0.2.3', '192.0.2.4'));
  book.update(w('192.0.2.1', '192.0.2.3'));
  assert.deepEqual(book.stream(2).new, []);
  assert.deepEqual(book.stream(2).deleted, []);
  // More tombstones than kept: an agent older than the floor gets everything again.
  book.update(w('192.0.2.9'));
  assert.ok(book.floor > 0);
  assert.equal(book.stream(1).full, true);
  // A version from the future (a server restored from backup) also gets everything.
  assert.equal(book.stream(99).full, true);
  // Reloaded from its records, the book answers the same.
  const again = new DecisionBook([...book.active(), ...(book.stream(book.floor).deleted as Decision[])], {
    version: book.version,
    floor: book.floor,
  });
  assert.deepEqual(
    again.stream().new.map((d) => d.value),
    book.stream().new.map((d) => d.value),
  );
});
