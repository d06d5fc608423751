/** A small, hand-made analysis with every section filled: what the report tests render. */
import { type Analysis, analyze, dayRange, parsePrices } from '../../analytics/index.ts';
import type { RankRow, StoredFinding } from '../../store/index.ts';

const rank = (key: string, hosts: number, events: number): RankRow => ({
  key,
  hosts,
  events,
  bytes: 0,
  first: '2018-01-01T00:00:00.000Z',
  last: '2018-01-20T00:00:00.000Z',
});

export function sampleAnalysis(): Analysis {
  const days = dayRange('2018-01-01', '2018-01-20');
  const wave = ['c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'];
  const f = (host: string, time: string, x: Record<string, unknown>): StoredFinding => ({
    id: `${host}${time}${String(x.rule)}`,
    time,
    host,
    source: 't',
    finding: { evidence: [], attack: [], ...x },
  });
  const prices = parsePrices(
    `date,coin,price_usd\n${days.map((d, i) => `${d},ETN,${(0.2 - i * 0.005).toFixed(3)}`).join('\n')}\n`,
  ).table;
  return analyze({
    from: days[0],
    to: days[days.length - 1],
    events: 1234,
    hostCount: 12,
    coinRank: [rank('xmr', 10, 300), rank('etn', 3, 90)],
    poolRank: [
      rank('xmr.pool.minergate.com', 8, 200),
      rank('pool.minexmr.com', 2, 60),
      rank('f2pool.com', 3, 90),
    ],
    portRank: [rank('45700', 8, 150), rank('5555', 2, 60), rank('7777', 3, 90)],
    familyRank: [rank('cpuminer-multi', 8, 100)],
    coinSeries: days.flatMap((day, i) => [
      { day, key: 'xmr', events: 10, hosts: i >= 9 ? 10 : 2 },
      { day, key: 'etn', events: 3, hosts: Math.max(0, 3 - Math.floor(i / 7)) },
    ]),
    poolSeries: days.map((day, i) => ({
      day,
      key: 'xmr.pool.minergate.com',
      events: i >= 9 ? 30 + (i % 3) : 3 + (i % 2),
      hosts: 2,
    })),
    portSeries: days.map((day, i) => ({ day, key: '45700', events: i >= 9 ? 20 : 2 + (i % 2), hosts: 2 })),
    familySeries: days.map((day, i) => ({ day, key: 'cpuminer-multi', events: 1, hosts: i >= 9 ? 8 : 0 })),
    instances: wave.map((host) => ({
      host,
      exe: '/var/tmp/cpuminer-multi.exe',
      sha256: 'ab',
      family: 'cpuminer-multi',
      first: '2018-01-10T03:00:00.000Z',
      last: '2018-01-20T00:00:00.000Z',
      events: 10,
    })),
    findings: wave.flatMap((h) => [
      f(h, '2018-01-10T03:00:00.000Z', { rule: 'host.file.dropper-script', severity: 'medium' }),
      f(h, '2018-01-08T01:00:00.000Z', {
        rule: 'log.auth.ssh-bruteforce',
        severity: 'low',
        attack: [{ technique: 'T1110' }],
      }),
    ]),
    campaigns: {
      wallet: [
        {
          key: '4WaveWallet',
          hosts: 8,
          host_list: wave,
          events: 80,
          first: '2018-01-10T03:00:00.000Z',
          last: '2018-01-20T00:00:00.000Z',
        },
      ],
      dropper: [],
      account: [],
    },
    prices,
  });
}
