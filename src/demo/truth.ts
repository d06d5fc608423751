/**
 * What the demo fleet plants, in one place: the generator reads it and the tests check that the analysis
 * finds exactly this. The story follows published measurements of cryptojacking in 2018: Monero dominant,
 * Electroneum and Cryptonite (XCN) behind; xmr.nanopool.org with over a fifth of the hashrate,
 * pool.minexmr.com the pool intruders used most; ports 5555, 7777 and 3333 dominating.
 */

export const DEMO_START = '2018-01-01';
export const DEMO_END = '2018-09-30';
export const DEMO_SEED = 2018;
/** Hosts at scale 1. */
export const DEMO_HOSTS = 6000;

export interface PoolSpec {
  pool: string;
  /** Destination ports and their weights. */
  ports: readonly (readonly [number, number])[];
  ip: string;
}

export const POOLS: Record<string, PoolSpec> = {
  'pool.minexmr.com': {
    pool: 'pool.minexmr.com',
    ip: '94.130.12.27',
    ports: [
      [5555, 6],
      [7777, 2.5],
      [4444, 1.5],
    ],
  },
  'xmr.nanopool.org': {
    pool: 'xmr.nanopool.org',
    ip: '51.255.34.118',
    ports: [
      [7777, 5],
      [14444, 3],
      [5555, 2],
    ],
  },
  'ppxxmr.com': {
    pool: 'ppxxmr.com',
    ip: '104.28.8.51',
    ports: [
      [3333, 7],
      [7777, 3],
    ],
  },
  'xmr.pool.minergate.com': {
    pool: 'xmr.pool.minergate.com',
    ip: '94.130.48.154',
    ports: [
      [45700, 6],
      [45560, 4],
    ],
  },
  'yiluzhuanqian.com': {
    pool: 'yiluzhuanqian.com',
    ip: '47.90.203.12',
    ports: [
      [3333, 6],
      [5555, 4],
    ],
  },
  'f2pool.com': {
    pool: 'f2pool.com',
    ip: '47.74.41.19',
    ports: [
      [7777, 7],
      [3333, 3],
    ],
  },
};

/** Monero pools the background infections use, by weight (minexmr first: the intruders' favourite). */
export const XMR_POOLS: readonly (readonly [string, number])[] = [
  ['pool.minexmr.com', 40],
  ['xmr.nanopool.org', 33],
  ['ppxxmr.com', 9],
  ['xmr.pool.minergate.com', 4],
  ['yiluzhuanqian.com', 7],
  ['f2pool.com', 7],
];

/** The two planted mass-intrusion waves: new cpuminer-multi instances jump with minergate connections. */
export const WAVES = [
  { date: '2018-04-15', hosts: 260, vector: 'ssh-bruteforce', share_with_vector: 0.9 },
  { date: '2018-06-18', hosts: 220, vector: 'redis-crontab', share_with_vector: 0.85 },
] as const;
export const WAVE_FAMILY = 'cpuminer-multi';
export const WAVE_EXE = '/var/tmp/.sysd/cpuminer-multi.exe';
export const WAVE_POOL = 'xmr.pool.minergate.com';

/** Electroneum mining follows ETN's price, this many days later. */
export const ETN_LAG_DAYS = 7;

/** Campaign keys the generator shares between hosts (each at scale 1; `hosts` scales with the fleet). */
export const CAMPAIGNS = {
  wave1Wallet:
    '4WaveOneBruteSSH8Kq3tYvX1pZr9mN2cLd7eFg5hJk4sTuVw6xYz1aB3cD5eF7gH9iJ2kL4mN6pQ8rS1tU3vW5xY7zA9bC',
  wave1Dropper: 'http://185.234.218.40/cpu/m.sh',
  wave1Account: 'wave1.miner@protonmail.com',
  wave2Wallet:
    '4WaveTwoRedisCron7Lm2nBvC4xZ6aS8dF1gH3jK5lP7oI9uY2tR4eW6qA8sD1fG3hJ5kL7zX9cV2bN4mQ6wE8rT1yU3iO',
  wave2Dropper: 'http://107.174.47.156/mr.sh',
  wave2Account: 'wave2.miner@yandex.com',
  bgWallet: '47CampaignOne5tRn8Wq2Ey4Ui6Op8As1Df3Gh5Jk7Lz9Xc2Vb4Nm6Qw8Er1Ty3Ui5Op7As9Df2Gh4Jk6Lz8Xc1Vb3Nm5Q',
  bgWalletHosts: 120,
  bgDropper: 'http://update.dns-resolve.xyz/x.sh',
  bgDropperHosts: 50,
  etnWallet: 'etnkCampaignElectroneum3Hq5Wr7Ty9Ui2Op4As6Df8Gh1Jk3Lz5Xc7Vb9Nm2Qw4Er6Ty8Ui1Op3As5Df7Gh9Jk2Lz4X',
  etnWalletHosts: 200,
} as const;
