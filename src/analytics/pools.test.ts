import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { MinewatchEvent } from '../findings/index.ts';
import { openStore, type StoredFinding } from '../store/index.ts';
import { analyze, collect } from './analyze.ts';
import { foldPools, latestFindings, nameFindings, poolNames, poolPorts } from './pools.ts';

const stored = (host: string, time: string, finding: Record<string, unknown>): StoredFinding => ({
  id: `f:${String(finding.id)}:${time}`,
  time,
  host,
  source: 'agent',
  finding,
});

test('one copy per finding (the named one); an address named by a DNS pool query in another batch', () => {
  const flow = stored('h1', '2024-05-14T09:00:00Z', {
    id: 'c1',
    rule: 'net.flow.mining-behaviour',
    severity: 'medium',
    pool: { ip: '198.51.100.23', port: 3333 },
    events: 12,
  });
  const dns = stored('h1', '2024-05-14T09:30:00Z', {
    id: 'd1',
    rule: 'net.dns.pool-query',
    severity: 'medium',
    pool: { host: 'pool.supportxmr.com' },
    evidence: [{ kind: 'dns', answers: ['198.51.100.23', '198.51.100.24'] }],
  });
  const upgraded = stored('h1', '2024-05-14T08:00:00Z', {
    id: 'c1',
    rule: 'net.pool.connection',
    severity: 'high',
    pool: { ip: '198.51.100.23', port: 3333, host: 'pool.supportxmr.com' },
    events: 12,
  });
  const latest = latestFindings([flow, dns, upgraded]);
  assert.equal(latest.length, 2);
  assert.equal(latest.find((s) => s.finding.id === 'c1')!.finding.rule, 'net.pool.connection');
  // An agent's flow finding alone, and the DNS answer from another batch: named in the report.
  const names = poolNames([flow, dns]);
  assert.equal(names.get('198.51.100.24'), 'pool.supportxmr.com');
  const named = nameFindings([flow, dns], names);
  assert.equal((named[0]!.finding.pool as { host: string }).host, 'pool.supportxmr.com');
  assert.equal((flow.finding.pool as { host?: string }).host, undefined, 'stored findings are not changed');
  const pools = foldPools(
    [
      { host: 'h1', key: '198.51.100.23', events: 3 },
      { host: 'h1', key: 'pool.supportxmr.com', events: 2 },
      { host: 'h2', key: 'pool.supportxmr.com', events: 1 },
    ],
    names,
  );
  assert.deepEqual(
    pools.map((p) => [p.key, p.hosts, p.events]),
    [['pool.supportxmr.com', 2, 6]],
  );
});

test('pool ports: a flow finding and an IDS alert on the same connections count once; DNS has no port', () => {
  const f = (id: string, rule: string, events: number, port = 45700) =>
    stored('h1', '2024-05-14T09:00:00Z', {
      id,
      rule,
      severity: 'high',
      pool: { ip: '94.130.9.194', port },
      events,
    });
  const ports = poolPorts(
    [{ host: 'h2', key: '45700', events: 4 }],
    [
      f('a', 'net.pool.known-endpoint', 30),
      f('b', 'ids.mining-alert', 2),
      f('c', 'host.process.stratum-cmdline', 9),
    ],
  );
  assert.deepEqual(
    ports.map((p) => [p.key, p.events, p.hosts]),
    [['45700', 34, 2]],
  );
});

test('report over a fleet with heavy clean traffic: pool ports first, 443 not at all; a pool account across waves is one campaign', async () => {
  const db = join(mkdtempSync(join(tmpdir(), 'mw-fleet-')), 'fleet.db');
  const store = await openStore(db);
  try {
    const evs: MinewatchEvent[] = [];
    const t0 = Date.UTC(2026, 2, 2, 8);
    const at = (d: number, h: number) => new Date(t0 + d * 86_400_000 + h * 3_600_000).toISOString();
    // 1,500 clean hosts talking HTTPS (and some DNS), every day for a week.
    for (let h = 0; h < 1500; h++)
      for (let d = 0; d < 7; d++)
        evs.push({
          time: at(d, h % 10),
          host: `web-${h}`,
          type: 'connection',
          src_ip: `10.1.${h >> 8}.${h & 255}`,
          dst_ip: '151.101.2.132',
          dst_port: 443,
          proto: 'tcp',
          bytes_out: 3000,
          bytes_in: 900_000,
        } as MinewatchEvent);
    // Two intrusion waves (day 1 and day 5) mining at MinerGate with one e-mail login; agents attribute the
    // pool on their connection events and send the miner's process finding.
    const account = 'kim.h4x@mail.ru';
    const waves = [
      { day: 1, hosts: ['app-1', 'app-2', 'app-3'] },
      { day: 5, hosts: ['db-7', 'db-8'] },
    ];
    for (const w of waves)
      for (const host of w.hosts) {
        for (let k = 0; k < 6; k++)
          evs.push({
            time: at(w.day, k),
            host,
            type: 'connection',
            src_ip: '10.9.0.1',
            dst_ip: '94.130.9.194',
            dst_port: 45700,
            proto: 'tcp',
            pool: { host: 'xmr.pool.minergate.com', ip: '94.130.9.194', port: 45700 },
            coin: 'XMR',
          } as MinewatchEvent);
        evs.push({
          time: at(w.day, 0),
          host,
          type: 'finding',
          id: `f:${host}`,
          finding: {
            id: `p-${host}`,
            rule: 'host.process.stratum-cmdline',
            title: 'Process runs a miner',
            severity: 'critical',
            confidence: 0.95,
            attack: [],
            reasons: [],
            evidence: [],
            pool: { host: 'xmr.pool.minergate.com', port: 45700 },
            coin: 'XMR',
            account,
          },
        } as MinewatchEvent);
      }
    // One host mining at SupportXMR on 3333, seen as a flow finding only (an import).
    evs.push({
      time: at(3, 2),
      host: 'ci-runner',
      type: 'finding',
      finding: {
        id: 'c-ci',
        rule: 'net.pool.connection',
        title: 'Connection to a mining pool (DNS name)',
        severity: 'high',
        confidence: 0.85,
        attack: [],
        reasons: [],
        evidence: [],
        pool: { ip: '198.51.100.23', port: 3333, host: 'pool.supportxmr.com' },
        coin: 'XMR',
        events: 40,
      },
    } as MinewatchEvent);
    for (let i = 0; i < evs.length; i += 20_000) await store.ingest(evs.slice(i, i + 20_000));
    const a = analyze(await collect(store));
    assert.deepEqual(
      a.ports.map((p) => [p.port, p.flows, p.hosts]),
      [
        [45700, 30, 5],
        [3333, 40, 1],
      ].sort((x, y) => y[1]! - x[1]!),
    );
    assert.ok(!a.ports.some((p) => p.port === 443));
    assert.ok(a.series.some((s) => s.name === 'port:45700'));
    assert.ok(!a.series.some((s) => s.name === 'port:443'));
    const c = a.campaigns.find((x) => x.kind === 'account' && x.key === account)!;
    assert.ok(c, JSON.stringify(a.campaigns));
    assert.equal(c.hosts, 5);
    assert.deepEqual(c.host_list, ['app-1', 'app-2', 'app-3', 'db-7', 'db-8']);
  } finally {
    await store.close();
  }
});
