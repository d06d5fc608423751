/** The markdown report: the same summary and tables as the HTML, without charts (for tickets and chat). */
import type { Analysis } from '../analytics/index.ts';
import { summarize } from './summary.ts';

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const cell = (x: unknown) => String(x).replace(/\|/g, '\\|').replace(/\n/g, ' ');

function table(headers: string[], rows: unknown[][]): string {
  if (!rows.length) return '_None in this range._\n';
  return `| ${headers.join(' | ')} |\n|${headers.map(() => ' --- ').join('|')}|\n${rows.map((r) => `| ${r.map(cell).join(' | ')} |`).join('\n')}\n`;
}

export function renderMarkdown(a: Analysis, title = 'minewatch fleet report'): string {
  const s = summarize(a);
  const out: string[] = [];
  out.push(
    `# ${title}\n`,
    `${a.range.from ? `${a.range.from} to ${a.range.to} (${a.range.days} days)` : 'no data'}\n`,
  );
  out.push('## Summary\n', `**${s.headline}**\n`);
  if (s.changes.length) out.push('### What changed\n', `${s.changes.map((x) => `- ${x}`).join('\n')}\n`);
  out.push('### What to do\n', `${s.actions.map((x, i) => `${i + 1}. ${x}`).join('\n')}\n`);
  out.push(
    '## Coins\n',
    table(
      ['coin', 'hosts', 'share', 'events', 'trend'],
      a.coins.map((c) => [
        c.coin,
        c.hosts,
        pct(c.share),
        c.events,
        `${c.trend.direction} (${pct(c.trend.first_share)} → ${pct(c.trend.last_share)})`,
      ]),
    ),
  );
  out.push(
    '## Pools\n',
    table(
      ['pool', 'hosts', 'share', 'events'],
      a.pools.slice(0, 25).map((p) => [p.pool, p.hosts, pct(p.share), p.events]),
    ),
  );
  out.push(
    '## Ports\n',
    table(
      ['port', 'flows', 'share', 'hosts'],
      a.ports.slice(0, 25).map((p) => [p.port, p.flows, pct(p.share), p.hosts]),
    ),
  );
  out.push(
    '## Spikes\n',
    table(
      ['series', 'date', 'value', 'baseline', 'score', 'days'],
      a.spikes.map((x) => [x.series, x.date, x.value, x.baseline, x.score, x.days]),
    ),
  );
  out.push(
    '## Correlations\n',
    table(
      ['a', 'b', 'method', 'on', 'lag (days)', 'r', 'p'],
      a.correlations.map((c) => [c.a, c.b, c.method, c.on, c.lag_days, c.r.toFixed(3), c.p.toExponential(2)]),
    ),
  );
  out.push(
    '## Infection types\n',
    table(
      ['type', 'hosts', 'share'],
      a.infection_types.map((t) => [t.type, t.hosts, pct(t.share)]),
    ),
  );
  out.push(
    '## Intrusion vectors\n',
    table(
      ['vector', 'hosts', 'first seen', 'last seen', 'preceded'],
      a.vectors.map((v) => [
        v.label,
        v.hosts,
        v.first_seen.slice(0, 10),
        v.last_seen.slice(0, 10),
        v.precedes.map((p) => `${p.series} ${p.date} (${p.hosts}/${p.of})`).join('; ') || '-',
      ]),
    ),
  );
  out.push(
    '## Campaigns\n',
    table(
      ['kind', 'key', 'hosts', 'first seen', 'last seen'],
      a.campaigns
        .slice(0, 50)
        .map((c) => [c.kind, c.key, c.hosts, c.first_seen.slice(0, 10), c.last_seen.slice(0, 10)]),
    ),
  );
  return out.join('\n');
}
