import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { InstanceRow, RankRow, SeriesRow, StoredFinding } from '../store/index.ts';
import { type AnalysisInput, analyze, minerName, toDay } from './analyze.ts';
import { parsePrices } from './prices.ts';
import { dayRange } from './series.ts';
import { emptyInput } from './test-helpers/input.ts';

const rank = (key: string, hosts: number, events: number): RankRow => ({
  key,
  hosts,
  events,
  bytes: 0,
  first: '2018-01-01T00:00:00.000Z',
  last: '2018-01-12T00:00:00.000Z',
});

const finding = (host: string, time: string, f: Record<string, unknown>): StoredFinding => ({
  id: `${host}-${time}-${String(f.rule)}`,
  time,
  host,
  source: 't',
  finding: { evidence: [], attack: [], ...f },
});

/** Twelve days, eight hosts: steady xmrig, then six new cpuminer hosts on day 10 after SSH brute force. */
function handInput(): AnalysisInput {
  const days = dayRange('2018-01-01', '2018-01-12');
  const coinSeries: SeriesRow[] = days.flatMap((day, i) => [
    { day, key: 'xmr', events: 10, hosts: i >= 9 ? 8 : 2 },
    { day, key: 'etn', events: 4, hosts: 1 },
  ]);
  const poolSeries: SeriesRow[] = days.map((day, i) => ({
    day,
    key: 'xmr.pool.minergate.com',
    events: i >= 9 ? 40 : 4,
    hosts: 2,
  }));
  const instances: InstanceRow[] = [
    {
      host: 'a',
      exe: '/tmp/xmrig',
      sha256: 's1',
      family: 'xmrig',
      first: '2018-01-01T01:00:00.000Z',
      last: '2018-01-12T00:00:00.000Z',
      events: 12,
    },
    {
      host: 'b',
      exe: '/tmp/xmrig',
      sha256: 's1',
      family: 'xmrig',
      first: '2018-01-01T02:00:00.000Z',
      last: '2018-01-12T00:00:00.000Z',
      events: 12,
    },
    ...['c', 'd', 'e', 'f', 'g', 'h'].map((host) => ({
      host,
      exe: '/var/tmp/cpuminer-multi.exe',
      sha256: 's2',
      family: '',
      first: '2018-01-10T05:00:00.000Z',
      last: '2018-01-12T00:00:00.000Z',
      events: 3,
    })),
  ];
  const findings: StoredFinding[] = [
    finding('a', '2018-01-01T01:00:00.000Z', {
      rule: 'host.file.miner-binary',
      severity: 'high',
      infection_type: 'type1-trojan',
    }),
    finding('b', '2018-01-01T02:00:00.000Z', { rule: 'net.pool.connection', severity: 'high' }),
    ...['c', 'd', 'e', 'f', 'g', 'h'].flatMap((h) => [
      finding(h, '2018-01-10T05:00:00.000Z', { rule: 'host.file.dropper-script', severity: 'medium' }),
      finding(h, '2018-01-08T03:00:00.000Z', {
        rule: 'log.auth.ssh-bruteforce',
        severity: 'low',
        attack: [{ technique: 'T1110' }],
      }),
    ]),
  ];
  return emptyInput({
    from: '2018-01-01',
    to: '2018-01-12',
    events: 500,
    hostCount: 9,
    hosts: ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'z'].map((host) => ({
      host,
      first: '',
      last: '',
      events: 1,
      findings: 0,
      max_severity: null,
      inventory: host === 'z' ? { infection_type: 'unknown' } : null,
    })),
    coinRank: [rank('xmr', 8, 120), rank('etn', 2, 40)],
    poolRank: [
      rank('xmr.pool.minergate.com', 6, 100),
      rank('pool.minexmr.com', 2, 20),
      rank('f2pool.com', 2, 30),
    ],
    portRank: [rank('45700', 6, 75), rank('5555', 2, 25)],
    familyRank: [rank('xmrig', 2, 24)],
    coinSeries,
    poolSeries,
    familySeries: days.map((day) => ({ day, key: 'xmrig', events: 2, hosts: 2 })),
    instances,
    findings,
    campaigns: {
      wallet: [
        {
          key: '4abc',
          hosts: 6,
          host_list: ['c', 'd'],
          events: 9,
          first: '2018-01-10T05:00:00.000Z',
          last: '2018-01-12T00:00:00.000Z',
        },
      ],
      dropper: [
        {
          key: 'http://x/y.sh',
          hosts: 1,
          host_list: ['a'],
          events: 1,
          first: '2018-01-01T00:00:00.000Z',
          last: '2018-01-01T00:00:00.000Z',
        },
      ],
      account: [],
    },
  });
}

test('shares, rankings and series on hand-checked input', () => {
  const a = analyze(handInput());
  assert.deepEqual(a.range, { from: '2018-01-01', to: '2018-01-12', days: 12 });
  assert.deepEqual(
    a.coins.map((c) => [c.coin, c.hosts, c.share, c.events, c.event_share]),
    [
      ['XMR', 8, 0.8, 120, 0.75],
      ['ETN', 2, 0.2, 40, 0.25],
    ],
  );
  assert.deepEqual(
    a.pools.map((p) => [p.pool, p.share]),
    [
      ['xmr.pool.minergate.com', 0.6],
      ['pool.minexmr.com', 0.2],
      ['f2pool.com', 0.2],
    ],
  );
  assert.deepEqual(a.ports, [
    { port: 45700, flows: 75, hosts: 6, share: 0.75 },
    { port: 5555, flows: 25, hosts: 2, share: 0.25 },
  ]);
  const names = a.series.map((s) => s.name);
  for (const n of [
    'coin:XMR',
    'coin:ETN',
    'pool:xmr.pool.minergate.com',
    'port:45700',
    'miner:xmrig',
    'new:xmrig',
    'new:cpuminer-multi',
  ])
    assert.ok(names.includes(n), n);
  const fresh = a.series.find((s) => s.name === 'new:cpuminer-multi')!;
  assert.equal(fresh.points.length, 12);
  assert.equal(fresh.points[9]!.value, 6);
  assert.equal(fresh.points[0]!.value, 0);
  // Days with no rows are zeros, not gaps.
  assert.equal(a.series.find((s) => s.name === 'port:5555')!.points.length, 12);
});

test('spikes, the vector that preceded them, infection types and campaigns', () => {
  const a = analyze(handInput());
  const spikeSeries = a.spikes.map((s) => `${s.series}@${s.date}`).sort();
  // coin:XMR goes 2 → 8: 6 above baseline but only 4.2 × √2, under the threshold of 6.
  assert.deepEqual(spikeSeries, ['new:cpuminer-multi@2018-01-10', 'pool:xmr.pool.minergate.com@2018-01-10']);
  const ssh = a.vectors.find((v) => v.vector === 'ssh-bruteforce')!;
  assert.equal(ssh.hosts, 6);
  assert.deepEqual(ssh.precedes, [
    { series: 'new:cpuminer-multi', date: '2018-01-10', hosts: 6, of: 6, median_lead_days: 2 },
  ]);
  assert.deepEqual(a.infection_types, [
    { type: 'type2-stock-miner-dropper', hosts: 6, share: 0.6667 },
    { type: 'unknown', hosts: 2, share: 0.2222 },
    { type: 'type1-trojan', hosts: 1, share: 0.1111 },
  ]);
  assert.deepEqual(
    a.infected_hosts.find((h) => h.host === 'c'),
    { host: 'c', infection_type: 'type2-stock-miner-dropper', vectors: ['ssh-bruteforce'] },
  );
  // A dropper seen on one host is not a campaign.
  assert.deepEqual(
    a.campaigns.map((c) => [c.kind, c.key, c.hosts, c.first_seen]),
    [['wallet', '4abc', 6, '2018-01-10T05:00:00.000Z']],
  );
});

test('missing prices are listed; a priced coin gets Pearson and Spearman', () => {
  const prices = parsePrices(
    `date,coin,price_usd\n${dayRange('2018-01-01', '2018-01-12')
      .map((d, i) => `${d},ETN,${(0.2 - i * 0.01).toFixed(2)}`)
      .join('\n')}\n`,
  ).table;
  const a = analyze({ ...handInput(), prices });
  assert.deepEqual(a.prices, { coins: ['ETN'], missing: ['XMR'] });
  const etn = a.correlations.filter((c) => c.kind === 'price');
  assert.deepEqual(
    etn.map((c) => [c.a, c.b, c.method]),
    [
      ['price:ETN', 'coin:ETN', 'pearson'],
      ['price:ETN', 'coin:ETN', 'spearman'],
    ],
  );
  // ETN heat is constant here: no correlation, and no NaN.
  for (const c of etn) assert.deepEqual([c.r, c.p], [0, 1]);
  assert.ok(a.series.some((s) => s.name === 'price:ETN'));
  assert.deepEqual(analyze(handInput()).prices, { coins: [], missing: ['XMR', 'ETN'] });
});

test('an empty store and a one-day range give empty answers, not NaN or crashes', () => {
  const empty = analyze(emptyInput());
  assert.deepEqual(empty.range, { from: null, to: null, days: 0 });
  for (const k of [
    'coins',
    'pools',
    'ports',
    'series',
    'spikes',
    'correlations',
    'infection_types',
    'vectors',
    'campaigns',
  ] as const)
    assert.deepEqual(empty[k], [], k);
  const ranged = analyze(emptyInput({ from: '2018-03-01', to: '2018-03-01' }));
  assert.equal(ranged.range.days, 1);
  const one = analyze({
    ...handInput(),
    from: '2018-01-05',
    to: '2018-01-05',
  });
  assert.equal(one.range.days, 1);
  assert.ok(one.series.every((s) => s.points.length === 1));
  assert.deepEqual(one.spikes, []);
  const text = JSON.stringify(one);
  assert.ok(!/NaN|Infinity/.test(text));
});

test('a series of zeros has no spikes and correlates with nothing', () => {
  const days = dayRange('2018-01-01', '2018-02-28');
  const a = analyze(
    emptyInput({
      coinRank: [rank('xmr', 0, 0)],
      poolRank: [rank('p', 0, 0)],
      coinSeries: days.map((day) => ({ day, key: 'xmr', events: 0, hosts: 0 })),
      poolSeries: days.map((day) => ({ day, key: 'p', events: 0, hosts: 0 })),
    }),
  );
  assert.equal(a.range.days, 59);
  assert.deepEqual(a.spikes, []);
  assert.deepEqual(a.correlations, []);
  assert.deepEqual(
    a.coins.map((c) => [c.share, c.trend.direction]),
    [[0, 'flat']],
  );
});

test('helpers: miner names and day parsing', () => {
  assert.equal(minerName({ family: '', exe: 'C:\\Windows\\Temp\\cpuminer-multi.exe' }), 'cpuminer-multi');
  assert.equal(minerName({ family: 'xmrig', exe: '/x' }), 'xmrig');
  assert.equal(toDay('2018-04-15', '--from'), '2018-04-15');
  assert.equal(toDay('2018-04-15T23:00:00Z', '--from'), '2018-04-15');
  assert.throws(() => toDay('yesterday', '--from'), /not a date/);
});
