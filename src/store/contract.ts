/**
 * The Store contract: one suite, run against every engine (contract.test.ts), so the embedded store and
 * ClickHouse answer every query the same way.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MinewatchEvent } from '../findings/index.ts';
import type { Store } from './types.ts';

const WALLET =
  '4AdUndXHHZ6cfufTMvppY6JwXNouMBzSkbLYfpAV5Usx3skxNgYeYTRj5UzqtReoS44qo9mtmXCqY45DJ852K5Jv2684Rge';

/** A small fleet: three hosts over two days, every event type. */
export function fleetFixture(): MinewatchEvent[] {
  const conn = (
    id: string,
    time: string,
    host: string,
    ip: string,
    port: number,
    extra: Record<string, unknown> = {},
  ) =>
    ({
      id,
      time,
      host,
      type: 'connection',
      src_ip: '10.0.0.1',
      dst_ip: ip,
      dst_port: port,
      ...extra,
    }) as MinewatchEvent;
  const finding = (id: string, time: string, host: string, f: Record<string, unknown>) =>
    ({
      id,
      time,
      host,
      type: 'finding',
      finding: { id: `fid-${id}`, title: String(f.rule), confidence: 0.9, attack: [], evidence: [], ...f },
    }) as unknown as MinewatchEvent;
  return [
    conn('c1', '2026-03-01T10:00:00Z', 'web-01', '1.2.3.4', 443, {
      pool: 'Pool.SupportXMR.com',
      coin: 'XMR',
      bytes_out: 60,
      bytes_in: 40,
    }),
    conn('c2', '2026-03-01T11:00:00Z', 'web-01', '1.2.3.4', 443, {
      pool: 'pool.supportxmr.com',
      coin: 'xmr',
    }),
    conn('c3', '2026-03-01T12:00:00Z', 'web-02', '1.2.3.5', 3333, {
      pool: 'pool.supportxmr.com',
      coin: 'xmr',
    }),
    conn('c4', '2026-03-02T09:00:00Z', 'db-01', '5.6.7.8', 2020, { pool: 'etc.2miners.com', coin: 'etc' }),
    conn('c5', '2026-03-02T10:00:00Z', 'web-02', '9.9.9.9', 443),
    finding('f1', '2026-03-01T10:05:00Z', 'web-01', {
      rule: 'host.process.miner-exe',
      severity: 'critical',
      coin: 'xmr',
      wallet: WALLET,
      family: 'xmrig',
      dropper_url: 'http://evil.example/x.sh',
      pool: { host: 'pool.supportxmr.com', port: 443 },
      evidence: [{ kind: 'process', path: '/tmp/.x/xmrig', sha256: 'AB12' }],
    }),
    finding('f2', '2026-03-02T08:00:00Z', 'web-02', {
      rule: 'traffic.stratum',
      severity: 'high',
      coin: 'xmr',
      wallet: WALLET,
      account: 'acct1',
    }),
    finding('f3', '2026-03-02T09:30:00Z', 'db-01', {
      rule: 'host.file.miner-config',
      severity: 'medium',
      coin: 'etc',
      wallet: '0xabc',
      dropper_url: 'http://evil.example/x.sh',
    }),
    {
      id: 'p1',
      time: '2026-03-01T10:00:00Z',
      host: 'web-01',
      type: 'process',
      pid: 100,
      exe: '/tmp/.x/xmrig',
      sha256: 'ab12',
      family: 'xmrig',
    } as MinewatchEvent,
    {
      id: 'p2',
      time: '2026-03-02T10:00:00Z',
      host: 'web-01',
      type: 'process',
      pid: 101,
      exe: '/usr/bin/bash',
    },
    { id: 'h1', time: '2026-03-01T00:00:00Z', host: 'web-01', type: 'heartbeat', os: 'Debian 12', cpus: 2 },
    {
      id: 'h2',
      time: '2026-03-02T00:00:00Z',
      host: 'web-01',
      type: 'heartbeat',
      os: 'Debian 12',
      cpus: 4,
      instance_id: 'i-123',
    },
    { id: 'd1', time: '2026-03-01T12:00:00Z', host: 'web-02', type: 'dns', query: 'pool.supportxmr.com' },
  ];
}

const pick = <T extends object, K extends keyof T>(rows: T[], ...keys: K[]) =>
  rows.map((r) => Object.fromEntries(keys.map((k) => [k, r[k]])));

/**
 * Registers the contract tests. `open` gives a fresh, empty store each call; `reopen` the same store again
 * (after `close`), to prove what was acknowledged is still there.
 */
export function storeContract(
  name: string,
  open: () => Promise<Store>,
  reopen: (s: Store) => Promise<Store>,
  skip?: string,
): void {
  const t = (title: string, fn: () => Promise<void>) =>
    test(`${name}: ${title}`, { skip: skip ?? false }, fn);

  t('ingest counts, and a retried batch is counted once', async () => {
    const s = await open();
    try {
      const evs = fleetFixture();
      assert.deepEqual(await s.ingest(evs, { source: 'test' }), { accepted: 13, duplicates: 0 });
      assert.deepEqual(await s.ingest(evs, { source: 'test' }), { accepted: 0, duplicates: 13 });
      // Repeats inside one batch, and events without ids (deduped by content).
      const noId = {
        time: '2026-03-03T00:00:00Z',
        host: 'x',
        type: 'dns',
        query: 'a.example',
      } as MinewatchEvent;
      assert.deepEqual(await s.ingest([noId, { ...noId }, evs[0]!]), { accepted: 1, duplicates: 2 });
      assert.equal(await s.count(), 14);
      assert.equal(await s.count({ host: 'web-01' }), 7);
      assert.equal(await s.count({ type: 'finding' }), 3);
    } finally {
      await s.close();
    }
  });

  t('concurrent ingests are grouped and each learns its own counts', async () => {
    const s = await open();
    try {
      const batch = (k: number) =>
        Array.from({ length: 50 }, (_, i) => ({
          id: `b${k}-${i}`,
          time: new Date(Date.UTC(2026, 0, 1) + k * 1000 + i).toISOString(),
          host: `h${k % 5}`,
          type: 'heartbeat' as const,
        }));
      const results = await Promise.all([
        ...Array.from({ length: 20 }, (_, k) => s.ingest(batch(k))),
        s.ingest(batch(3)),
      ]);
      assert.equal(
        results.reduce((a, r) => a + r.accepted, 0),
        1000,
      );
      assert.equal(
        results.reduce((a, r) => a + r.duplicates, 0),
        50,
      );
      assert.equal(await s.count(), 1000);
    } finally {
      await s.close();
    }
  });

  t('rankings and daily series count events and distinct hosts', async () => {
    const s = await open();
    try {
      await s.ingest(fleetFixture());
      assert.deepEqual(pick(await s.rank('coin'), 'key', 'events', 'hosts'), [
        { key: 'XMR', events: 5, hosts: 2 },
        { key: 'ETC', events: 2, hosts: 1 },
      ]);
      const pools = await s.rank('pool');
      assert.deepEqual(pick(pools, 'key', 'events', 'hosts', 'bytes'), [
        { key: 'pool.supportxmr.com', events: 4, hosts: 2, bytes: 100 },
        { key: 'etc.2miners.com', events: 1, hosts: 1, bytes: 0 },
      ]);
      assert.equal(pools[0]!.first, '2026-03-01T10:00:00.000Z');
      assert.equal(pools[0]!.last, '2026-03-01T12:00:00.000Z');
      assert.deepEqual(pick(await s.rank('port', { type: 'connection' }), 'key', 'events', 'hosts'), [
        { key: '443', events: 3, hosts: 2 },
        { key: '2020', events: 1, hosts: 1 },
        { key: '3333', events: 1, hosts: 1 },
      ]);
      assert.deepEqual(pick(await s.rank('pool', { coin: 'ETC' }), 'key'), [{ key: 'etc.2miners.com' }]);
      assert.deepEqual(await s.series('coin'), [
        { day: '2026-03-01', key: 'XMR', events: 4, hosts: 2 },
        { day: '2026-03-02', key: 'ETC', events: 2, hosts: 1 },
        { day: '2026-03-02', key: 'XMR', events: 1, hosts: 1 },
      ]);
      assert.deepEqual(await s.series('family'), [{ day: '2026-03-01', key: 'xmrig', events: 2, hosts: 1 }]);
      assert.equal((await s.rank('coin', { limit: 1 })).length, 1);
      assert.deepEqual(await s.series('coin', { countHosts: false }), [
        { day: '2026-03-01', key: 'XMR', events: 4, hosts: 0 },
        { day: '2026-03-02', key: 'ETC', events: 2, hosts: 0 },
        { day: '2026-03-02', key: 'XMR', events: 1, hosts: 0 },
      ]);
      // One host's rows: every ranking and series, all time, whole days and inside a day.
      assert.deepEqual(pick(await s.rank('coin', { host: 'web-02' }), 'key', 'events', 'hosts'), [
        { key: 'XMR', events: 2, hosts: 1 },
      ]);
      for (const r of [{}, { from: '2026-03-01', to: '2026-03-03' }, { from: '2026-03-01T09:00:00Z' }])
        assert.deepEqual(pick(await s.rank('coin', { ...r, host: 'web-01' }), 'key', 'events', 'hosts'), [
          { key: 'XMR', events: 3, hosts: 1 },
        ]);
      assert.deepEqual(await s.hostKeys('coin'), [
        { host: 'db-01', key: 'ETC', events: 2 },
        { host: 'web-01', key: 'XMR', events: 3 },
        { host: 'web-02', key: 'XMR', events: 2 },
      ]);
      assert.deepEqual(await s.hostKeys('coin', { from: '2026-03-02', to: '2026-03-03' }), [
        { host: 'db-01', key: 'ETC', events: 2 },
        { host: 'web-02', key: 'XMR', events: 1 },
      ]);
      assert.deepEqual(await s.hostKeys('coin', { from: '2026-03-02T08:30:00Z', type: 'finding' }), [
        { host: 'db-01', key: 'ETC', events: 1 },
      ]);
      assert.deepEqual(await s.series('coin', { host: 'db-01' }), [
        { day: '2026-03-02', key: 'ETC', events: 2, hosts: 1 },
      ]);
      // A host group: the rows of these hosts only, in rankings, series and (host, key) pairs; none for [].
      for (const r of [{}, { from: '2026-03-01', to: '2026-03-03' }]) {
        assert.deepEqual(
          pick(await s.rank('coin', { ...r, hosts: ['web-01', 'db-01'] }), 'key', 'events', 'hosts'),
          [
            { key: 'XMR', events: 3, hosts: 1 },
            { key: 'ETC', events: 2, hosts: 1 },
          ],
        );
      }
      assert.deepEqual(await s.series('coin', { hosts: ['web-02', 'db-01'] }), [
        { day: '2026-03-01', key: 'XMR', events: 1, hosts: 1 },
        { day: '2026-03-02', key: 'ETC', events: 2, hosts: 1 },
        { day: '2026-03-02', key: 'XMR', events: 1, hosts: 1 },
      ]);
      assert.deepEqual(await s.hostKeys('coin', { hosts: ['web-02'] }), [
        { host: 'web-02', key: 'XMR', events: 2 },
      ]);
      assert.deepEqual(await s.rank('coin', { hosts: [] }), []);
      assert.deepEqual(await s.rank('host', { hosts: ["web-01' OR '1'='1"] }), []);
      assert.deepEqual(pick(await s.rank('host', { coin: 'XMR' }), 'key', 'events', 'hosts'), [
        { key: 'web-01', events: 3, hosts: 1 },
        { key: 'web-02', events: 2, hosts: 1 },
      ]);
    } finally {
      await s.close();
    }
  });

  t('ranges on whole days and inside days give the same answers as the raw events', async () => {
    const s = await open();
    try {
      await s.ingest(fleetFixture());
      assert.deepEqual(pick(await s.rank('coin', { from: '2026-03-02' }), 'key', 'events', 'hosts'), [
        { key: 'ETC', events: 2, hosts: 1 },
        { key: 'XMR', events: 1, hosts: 1 },
      ]);
      assert.deepEqual(pick(await s.rank('coin', { to: '2026-03-02T00:00:00Z' }), 'key', 'events', 'hosts'), [
        { key: 'XMR', events: 4, hosts: 2 },
      ]);
      const inside = { from: '2026-03-01T11:30:00Z', to: '2026-03-02T08:30:00Z' };
      assert.deepEqual(pick(await s.rank('coin', inside), 'key', 'events', 'hosts'), [
        { key: 'XMR', events: 2, hosts: 1 },
      ]);
      assert.deepEqual(await s.series('coin', inside), [
        { day: '2026-03-01', key: 'XMR', events: 1, hosts: 1 },
        { day: '2026-03-02', key: 'XMR', events: 1, hosts: 1 },
      ]);
      await assert.rejects(() => s.rank('coin', { from: 'yesterday-ish' }), RangeError);
    } finally {
      await s.close();
    }
  });

  t('miner instances, campaigns, findings and hosts', async () => {
    const s = await open();
    try {
      await s.ingest(fleetFixture(), { source: 'agent-x' });
      assert.deepEqual(await s.instances(), [
        {
          host: 'web-01',
          exe: '/tmp/.x/xmrig',
          sha256: 'ab12',
          family: 'xmrig',
          first: '2026-03-01T10:00:00.000Z',
          last: '2026-03-01T10:05:00.000Z',
          events: 2,
        },
      ]);
      assert.deepEqual(pick(await s.campaigns('wallet'), 'key', 'hosts', 'host_list', 'events'), [
        { key: WALLET, hosts: 2, host_list: ['web-01', 'web-02'], events: 2 },
        { key: '0xabc', hosts: 1, host_list: ['db-01'], events: 1 },
      ]);
      const droppers = await s.campaigns('dropper');
      assert.deepEqual(pick(droppers, 'key', 'hosts', 'host_list'), [
        { key: 'http://evil.example/x.sh', hosts: 2, host_list: ['db-01', 'web-01'] },
      ]);
      assert.equal(droppers[0]!.first, '2026-03-01T10:05:00.000Z');
      assert.equal(droppers[0]!.last, '2026-03-02T09:30:00.000Z');
      assert.deepEqual(pick(await s.campaigns('account'), 'key', 'hosts'), [{ key: 'acct1', hosts: 1 }]);

      const all = await s.findings();
      assert.deepEqual(
        all.map((f) => f.id),
        ['f3', 'f2', 'f1'],
      );
      assert.equal(all[2]!.finding.rule, 'host.process.miner-exe');
      assert.equal(all[2]!.source, 'agent-x');
      assert.equal(all[2]!.time, '2026-03-01T10:05:00.000Z');
      const ids = async (q: Parameters<Store['findings']>[0]) => (await s.findings(q)).map((f) => f.id);
      assert.deepEqual(await ids({ host: 'web-01' }), ['f1']);
      assert.deepEqual(await ids({ severity: 'high' }), ['f2', 'f1']);
      assert.deepEqual(await ids({ coin: 'ETC' }), ['f3']);
      assert.deepEqual(await ids({ rule: 'traffic.stratum' }), ['f2']);
      assert.deepEqual(await ids({ from: '2026-03-02', to: '2026-03-02T09:00:00Z' }), ['f2']);
      assert.deepEqual(await ids({ limit: 1 }), ['f3']);

      const hosts = await s.hosts();
      assert.deepEqual(pick(hosts, 'host', 'events', 'findings', 'max_severity'), [
        { host: 'db-01', events: 2, findings: 1, max_severity: 'medium' },
        { host: 'web-01', events: 7, findings: 1, max_severity: 'critical' },
        { host: 'web-02', events: 4, findings: 1, max_severity: 'high' },
      ]);
      assert.equal(hosts[0]!.inventory, null);
      assert.deepEqual(hosts[1]!.inventory, {
        time: '2026-03-02T00:00:00Z',
        os: 'Debian 12',
        cpus: 4,
        instance_id: 'i-123',
      });
      assert.equal(hosts[1]!.first, '2026-03-01T00:00:00.000Z');
      assert.equal(hosts[1]!.last, '2026-03-02T10:00:00.000Z');

      const evs = await s.events({ host: 'web-02', limit: 2 });
      assert.deepEqual(
        evs.map((e) => e.id),
        ['c5', 'f2'],
      );
    } finally {
      await s.close();
    }
  });

  t('values with quotes, backslashes and control characters are data, never query text', async () => {
    const s = await open();
    try {
      const nasty = [
        "web-01' OR '1'='1",
        "a\\' OR 1=1 --",
        'x\\',
        'line\nbreak\ttab\r\u0000nul',
        "'; DROP TABLE events; --",
        'ünï €',
      ];
      await s.ingest(fleetFixture());
      const evs = nasty.map((host, i) => ({
        // Ids hold the same characters: the dedup lookup must match them exactly (a retry is a duplicate).
        id: `n${i}${host}`,
        time: '2026-03-05T00:00:00Z',
        host: host.replace(/[\u0000-\u001f]/g, '_'),
        type: 'finding' as const,
        finding: { rule: `r'${i}\\`, severity: 'low', coin: host, wallet: host } as never,
      }));
      assert.deepEqual(await s.ingest(evs), { accepted: nasty.length, duplicates: 0 });
      assert.deepEqual(await s.ingest(evs), { accepted: 0, duplicates: nasty.length });
      for (const h of nasty) {
        const clean = h.replace(/[\u0000-\u001f]/g, '_');
        assert.deepEqual(
          (await s.findings({ host: clean })).map((f) => f.host),
          [clean],
          `host ${JSON.stringify(h)}`,
        );
        assert.equal((await s.findings({ coin: h })).length, 1, `coin ${JSON.stringify(h)}`);
      }
      assert.equal((await s.findings({ host: "web-01' OR '1'='1' --" })).length, 0);
      assert.equal((await s.rank('coin', { type: "finding' OR 1=1 --" })).length, 0);
      assert.equal((await s.campaigns('wallet')).filter((c) => nasty.includes(c.key)).length, nasty.length);
      assert.equal(await s.count(), 13 + nasty.length);
    } finally {
      await s.close();
    }
  });

  t('tokens: stored, listed, revoked', async () => {
    const s = await open();
    try {
      const rec = {
        id: 'abc123abc123',
        name: 'web-01',
        admin: false,
        hash: 'f'.repeat(64),
        created: '2026-01-01T00:00:00.000Z',
        revoked: false,
      };
      await s.putToken(rec);
      await s.putToken({
        ...rec,
        id: 'def456def456',
        name: 'ops',
        admin: true,
        created: '2026-01-02T00:00:00.000Z',
      });
      assert.deepEqual(await s.getToken('abc123abc123'), rec);
      assert.equal(await s.getToken("abc' OR '1'='1"), null);
      assert.deepEqual(
        (await s.listTokens()).map((t) => [t.name, t.admin]),
        [
          ['web-01', false],
          ['ops', true],
        ],
      );
      assert.equal((await s.getToken('abc123abc123'))?.host, undefined);
      // A name that equals another token's id revokes by name only: the selector says which it is.
      await s.putToken({
        ...rec,
        id: 'aaa111aaa111',
        name: 'def456def456',
        created: '2026-01-03T00:00:00.000Z',
      });
      assert.equal(await s.revokeToken({ name: 'def456def456' }), 1);
      assert.equal((await s.getToken('def456def456'))?.revoked, false);
      assert.equal(await s.revokeToken({ id: 'def456def456' }), 1);
      assert.equal(await s.revokeToken({ name: 'web-01' }), 1);
      assert.equal(await s.revokeToken({ name: 'web-01' }), 0);
      // The host an agent token is bound to is kept.
      await s.putToken({ ...rec, id: 'bbb222bbb222', name: 'db-01', host: 'db-01' });
      assert.equal((await s.getToken('bbb222bbb222'))?.host, 'db-01');
      await s.putToken({ ...rec, id: 'bbb222bbb222', name: 'db-01', host: 'db-01', revoked: true });
      assert.deepEqual(await s.getToken('bbb222bbb222'), {
        ...rec,
        id: 'bbb222bbb222',
        name: 'db-01',
        host: 'db-01',
        revoked: true,
      });
      assert.equal((await s.getToken('abc123abc123'))?.revoked, true);
    } finally {
      await s.close();
    }
  });

  t('one event per commit, newest heartbeat first: the same answers as one batch', async () => {
    const one = await open();
    const many = await open();
    try {
      await one.ingest(fleetFixture());
      for (const ev of fleetFixture().reverse()) await many.ingest([ev]);
      const answers = (s: Store) =>
        Promise.all([
          s.hosts(),
          s.rank('host'),
          s.rank('coin'),
          s.rank('pool', { type: 'connection' }),
          s.rank('type'),
          s.series('coin'),
          s.series('pool', { countHosts: false }),
          s.findings(),
          s.findings({ host: 'web-01', severity: 'high' }),
          s.instances(),
          s.instances({ host: 'web-01' }),
          s.campaigns('wallet'),
          s.campaigns('dropper'),
          s.campaigns('account'),
          s.hostKeys('pool'),
        ]);
      const a = await answers(one);
      assert.deepEqual(await answers(many), a);
      assert.equal(a[0][1]!.inventory?.instance_id, 'i-123');
      assert.equal(a[9].length, 1);
      assert.deepEqual(a[11][0]!.host_list, ['web-01', 'web-02']);
      assert.deepEqual(
        a[1].map((r) => [r.key, r.events, r.hosts]),
        [
          ['web-01', 7, 1],
          ['web-02', 4, 1],
          ['db-01', 2, 1],
        ],
      );
    } finally {
      await one.close();
      await many.close();
    }
  });

  t('what was acknowledged is there after reopening', async () => {
    let s = await open();
    await s.ingest(fleetFixture());
    s = await reopen(s);
    try {
      assert.equal(await s.count(), 13);
      assert.deepEqual(await s.ingest(fleetFixture()), { accepted: 0, duplicates: 13 });
      assert.equal((await s.rank('coin'))[0]!.events, 5);
    } finally {
      await s.close();
    }
  });
}
