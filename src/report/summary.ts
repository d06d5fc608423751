/** The written summary: what changed and what to do, as plain sentences. A pure function of the analysis. */
import type { Analysis } from '../analytics/index.ts';
import { VECTOR_ADVICE, VECTOR_LABELS } from '../analytics/vectors.ts';

export interface Summary {
  headline: string;
  changes: string[];
  actions: string[];
}

const pct = (x: number) => `${Math.round(x * 100)}%`;
const fmt = (n: number) => n.toLocaleString('en-US');
const short = (k: string) => (k.length > 24 ? `${k.slice(0, 12)}…${k.slice(-6)}` : k);

function lagWords(lag: number): string {
  if (lag === 0) return 'on the same day';
  return lag > 0 ? `${lag} day${lag === 1 ? '' : 's'} later` : `${-lag} day${lag === -1 ? '' : 's'} earlier`;
}

export function summarize(a: Analysis): Summary {
  if (!a.range.days || (!a.totals.events && !a.coins.length)) {
    return {
      headline: 'No events in the selected range: nothing to report.',
      changes: [],
      actions: ['Check the range (--from/--to) and that agents or imports are sending events to this store.'],
    };
  }
  const headline =
    `${fmt(a.totals.infected_hosts)} infected host${a.totals.infected_hosts === 1 ? '' : 's'} and ` +
    `${fmt(a.totals.mining_hosts)} mining out of ${fmt(a.totals.hosts)} reporting, ` +
    `${fmt(a.totals.events)} events from ${a.range.from} to ${a.range.to} (${a.range.days} day${a.range.days === 1 ? '' : 's'}).`;
  const changes: string[] = [];
  const top = a.coins[0];
  if (top)
    changes.push(
      `${top.coin} is the most mined coin: ${pct(top.share)} of mining hosts (${fmt(top.hosts)}).`,
    );
  for (const c of a.coins) {
    if (c.trend.direction === 'flat') continue;
    changes.push(
      `${c.coin}'s share of mining hosts ${c.trend.direction === 'rising' ? 'rose' : 'fell'} from ` +
        `${pct(c.trend.first_share)} to ${pct(c.trend.last_share)} (${c.trend.hosts_per_30d >= 0 ? '+' : ''}${c.trend.hosts_per_30d} hosts a month).`,
    );
  }
  const p = a.pools[0];
  if (p)
    changes.push(`Most used pool: ${p.pool} (${pct(p.share)} of pool-host pairs, ${fmt(p.hosts)} hosts).`);
  // Spikes on the same day (or the next) are one event seen in several series.
  const byDate = new Map<string, typeof a.spikes>();
  for (const s of [...a.spikes].sort((x, y) => x.date.localeCompare(y.date))) {
    const near = [...byDate.keys()].find((d) => Math.abs(Date.parse(d) - Date.parse(s.date)) <= 86_400_000);
    const key = near ?? s.date;
    byDate.set(key, [...(byDate.get(key) ?? []), s]);
  }
  for (const [date, ss] of byDate) {
    const lead = [...ss].sort((x, y) => y.score - x.score).slice(0, 3);
    const vec = a.vectors.flatMap((v) =>
      v.precedes
        .filter((x) => Math.abs(Date.parse(x.date) - Date.parse(date)) <= 86_400_000)
        .map((x) => ({ v, x })),
    );
    changes.push(
      `Spike on ${date}: ${lead.map((s) => `${s.series} ${fmt(s.value)} (baseline ${fmt(s.baseline)})`).join(', ')}` +
        (ss.length > lead.length ? ` and ${ss.length - lead.length} more series` : '') +
        (vec.length
          ? `; preceded by ${vec.map(({ v, x }) => `${VECTOR_LABELS[v.vector]} on ${x.hosts} of its ${x.of} new hosts (median ${x.median_lead_days} d before)`).join('; ')}`
          : '') +
        '.',
    );
  }
  for (const c of a.correlations.filter((x) => x.kind === 'event'))
    changes.push(
      `${c.a} moves with ${c.b} ${lagWords(c.lag_days)} (r = ${c.r.toFixed(2)} on daily changes, p = ${c.p.toExponential(1)}).`,
    );
  for (const c of a.correlations.filter((x) => x.kind === 'price' && x.method === 'pearson')) {
    const sp = a.correlations.find((x) => x.kind === 'price' && x.method === 'spearman' && x.a === c.a);
    const dir = c.r >= 0 ? 'follows' : 'runs against';
    changes.push(
      `${c.b.replace('coin:', '')} mining ${dir} its price: Pearson r = ${c.r.toFixed(2)} with mining ${lagWords(c.lag_days)}` +
        (sp ? `, Spearman ρ = ${sp.r.toFixed(2)}` : '') +
        '.',
    );
  }
  if (a.prices.missing.length)
    changes.push(
      `No price given for ${a.prices.missing.join(', ')}: no price correlation for ${a.prices.missing.length === 1 ? 'it' : 'them'}.`,
    );
  const big = a.campaigns.slice(0, 3);
  if (big.length)
    changes.push(
      `${a.campaigns.length} campaign${a.campaigns.length === 1 ? '' : 's'} link hosts; largest: ${big
        .map(
          (c) =>
            `${c.kind} ${short(c.key)} on ${fmt(c.hosts)} hosts (${c.first_seen.slice(0, 10)} to ${c.last_seen.slice(0, 10)})`,
        )
        .join('; ')}.`,
    );

  const actions: string[] = [];
  const pools = a.pools.slice(0, 5).map((x) => x.pool);
  if (pools.length)
    actions.push(
      `Block the pools in use (${pools.join(', ')}) and egress to mining ports ${a.ports
        .slice(0, 3)
        .map((x) => x.port)
        .join(', ')}: \`minewatch block\` writes the rules.`,
    );
  const preceding = a.vectors.filter((v) => v.precedes.length);
  for (const v of [...preceding, ...a.vectors.filter((x) => !x.precedes.length)].slice(0, 4))
    actions.push(
      `${VECTOR_LABELS[v.vector]} (${fmt(v.hosts)} hosts${v.precedes.length ? ', before a wave' : ''}): ${VECTOR_ADVICE[v.vector]}.`,
    );
  const t2 = a.infection_types.find((t) => t.type === 'type2-stock-miner-dropper');
  if (t2)
    actions.push(
      `${fmt(t2.hosts)} hosts run a stock miner placed by a dropper: remove the miner, its dropper and persistence (cron, systemd), then rotate credentials.`,
    );
  const t1 = a.infection_types.find((t) => t.type === 'type1-trojan');
  if (t1)
    actions.push(
      `${fmt(t1.hosts)} hosts carry a trojan with a built-in miner: reimage them rather than clean in place.`,
    );
  if (big[0])
    actions.push(
      `Hunt the rest of each campaign: search other fleets and logs for ${big.map((c) => short(c.key)).join(', ')}.`,
    );
  if (!actions.length) actions.push('Nothing needs action in this range.');
  return { headline, changes, actions };
}
