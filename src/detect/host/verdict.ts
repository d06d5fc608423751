/** The host verdict: clean or infected, which infection type, and the coins/pools/wallets/persistence seen. */
import { type Finding, MINING_SEVERITY_THRESHOLD, severityAtLeast } from '../../findings/index.ts';

export interface HostVerdict {
  status: 'clean' | 'infected';
  infection_type: 'type1-trojan' | 'type2-stock-miner-dropper' | 'unknown' | null;
  coins: string[];
  pools: string[];
  wallets: string[];
  /** Pool logins that are not addresses (MinerGate e-mail, user names): campaign keys like wallets. */
  accounts: string[];
  workers: string[];
  /** Campaign families named by the attacker's own markers (never by the rivals a script removes). */
  families: string[];
  /** Where the campaign's scripts fetch from and report to (hosts of their own URLs, onion, paste, dead drops). */
  c2: string[];
  persistence: string[];
  /** What the scripts remove or kill: the competitors', shown apart and never counted as the attacker's. */
  rivals: { pools: string[]; wallets: string[] };
}

/** Findings that show a stock miner being installed or run with its pool/wallet given from outside. */
const STOCK_RULES = new Set([
  'host.file.miner-config',
  'host.file.dropper-script',
  'host.process.stratum-cmdline',
  'host.persistence.redis-crontab',
]);

export function verdictOf(findings: Finding[]): HostVerdict {
  const serious = findings.filter((f) => severityAtLeast(f.severity, MINING_SEVERITY_THRESHOLD));
  const coins = new Set<string>();
  const pools = new Set<string>();
  const wallets = new Set<string>();
  const persistence = new Set<string>();
  const accounts = new Set<string>();
  const workers = new Set<string>();
  const families = new Set<string>();
  const c2 = new Set<string>();
  const rivalPools = new Set<string>();
  const rivalWallets = new Set<string>();
  for (const f of findings) {
    const r = f.rivals as { pools?: string[]; wallets?: string[] } | undefined;
    for (const p of r?.pools ?? []) rivalPools.add(p);
    for (const w of r?.wallets ?? []) rivalWallets.add(w);
  }
  for (const f of serious) {
    for (const a of (f.accounts as string[] | undefined) ?? []) accounts.add(a);
    for (const w of (f.workers as string[] | undefined) ?? []) workers.add(w);
    if (typeof f.worker === 'string') workers.add(f.worker);
    if (typeof f.family === 'string') families.add(f.family);
    for (const u of (f.urls as string[] | undefined) ?? []) {
      const h = /^[a-z]+:\/\/(?:[^@/]*@)?([^/:?#]+)/i.exec(u)?.[1];
      if (h) c2.add(h.toLowerCase());
    }
    const drops = (f.c2 as { deaddrops?: string[] } | undefined)?.deaddrops ?? [];
    for (const d of drops) c2.add(`deaddrop:${d}`);
    if (typeof f.coin === 'string') coins.add(f.coin);
    if (f.pool?.host || f.pool?.ip)
      pools.add(`${f.pool.host ?? f.pool.ip}${f.pool.port ? `:${f.pool.port}` : ''}`);
    for (const p of (f.pools as string[] | undefined) ?? []) pools.add(p);
    if (f.wallet && f.wallet_valid !== false) wallets.add(f.wallet);
    for (const w of (f.wallets as string[] | undefined) ?? []) wallets.add(w);
    if (typeof f.persistence === 'string') persistence.add(f.persistence);
    else if (f.rule.startsWith('host.persistence.'))
      persistence.add(`${f.rule.slice('host.persistence.'.length)}:${f.evidence[0]?.path ?? ''}`);
  }
  // A pool listed both bare and with its port keeps only the more precise form.
  for (const p of [...pools])
    if (!p.includes(':') && [...pools].some((q) => q.startsWith(`${p}:`))) pools.delete(p);
  // A rival named by one script but used as its own by another finding stays the attacker's.
  for (const p of pools) rivalPools.delete(p);
  for (const w of wallets) rivalWallets.delete(w);
  const rivals = { pools: [...rivalPools].sort(), wallets: [...rivalWallets].sort() };
  if (!serious.length)
    return {
      status: 'clean',
      infection_type: null,
      coins: [],
      pools: [],
      wallets: [],
      accounts: [],
      workers: [],
      families: [],
      c2: [],
      persistence: [],
      rivals,
    };
  const trojan = serious.some((f) => f.infection_type === 'type1-trojan');
  const stock =
    serious.some(
      (f) =>
        STOCK_RULES.has(f.rule) ||
        (f.rule === 'host.file.miner-binary' && f.infection_type !== 'type1-trojan'),
    ) || persistence.size > 0;
  const type =
    trojan && !serious.some((f) => STOCK_RULES.has(f.rule))
      ? 'type1-trojan'
      : stock
        ? 'type2-stock-miner-dropper'
        : trojan
          ? 'type1-trojan'
          : 'unknown';
  return {
    status: 'infected',
    infection_type: type,
    coins: [...coins].sort(),
    pools: [...pools].sort(),
    wallets: [...wallets].sort(),
    accounts: [...accounts].sort(),
    workers: [...workers].sort(),
    families: [...families].sort(),
    c2: [...c2].sort().slice(0, 50),
    persistence: [...persistence].sort(),
    rivals,
  };
}
