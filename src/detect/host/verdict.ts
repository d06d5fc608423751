/** The host verdict: clean or infected, which infection type, and the coins/pools/wallets/persistence seen. */
import { type Finding, MINING_SEVERITY_THRESHOLD, severityAtLeast } from '../../findings/index.ts';

export interface HostVerdict {
  status: 'clean' | 'infected';
  infection_type: 'type1-trojan' | 'type2-stock-miner-dropper' | 'unknown' | null;
  coins: string[];
  pools: string[];
  wallets: string[];
  persistence: string[];
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
  for (const f of serious) {
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
  if (!serious.length)
    return { status: 'clean', infection_type: null, coins: [], pools: [], wallets: [], persistence: [] };
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
    persistence: [...persistence].sort(),
  };
}
