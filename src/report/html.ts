/**
 * The HTML report: one self-contained file (inline CSS, inline SVG charts, no scripts, no fonts or images
 * fetched), so it opens offline, mails as an attachment and prints. Pure: a function of the analysis.
 * Phone-width: charts scale to the column (SVG viewBox), tables scroll sideways inside their own box.
 */
import type { Analysis } from '../analytics/index.ts';
import { VECTOR_ADVICE } from '../analytics/vectors.ts';
import {
  type Chart,
  coinChart,
  infectionChart,
  lagChart,
  linesChart,
  poolChart,
  portChart,
  priceChart,
} from './charts.ts';
import { summarize } from './summary.ts';

export interface HtmlOptions {
  title?: string;
  /** Shown in the header; left out for reproducible output when not given. */
  generatedAt?: string;
  /** How many lines a daily chart holds at most. */
  linesPerChart?: number;
}

export function esc(s: unknown): string {
  return String(s)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const fmt = (n: number) => n.toLocaleString('en-US');

function figure(c: Chart | null): string {
  if (!c) return '';
  return `<figure id="${esc(c.id)}" class="chart"><figcaption>${esc(c.title)}</figcaption>${c.svg}</figure>`;
}

function table(headers: string[], rows: (string | number)[][], cls = ''): string {
  if (!rows.length) return '<p class="empty">None in this range.</p>';
  const head = headers.map((h) => `<th scope="col">${esc(h)}</th>`).join('');
  const body = rows
    .map(
      (r) =>
        `<tr>${r.map((c) => `<td${typeof c === 'number' ? ' class="num"' : ''}>${esc(typeof c === 'number' ? fmt(c) : c)}</td>`).join('')}</tr>`,
    )
    .join('');
  return `<div class="scroll"><table class="${cls}"><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table></div>`;
}

const CSS = `
:root{color-scheme:light;--ink:#111;--muted:#555;--rule:#ccc;--bg:#fff;--soft:#f4f4f4}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);background:var(--bg)}
main{max-width:980px;margin:0 auto;padding:16px}
h1{font-size:1.6em;margin:.2em 0}
h2{font-size:1.25em;margin:1.6em 0 .4em;padding-top:.4em;border-top:2px solid var(--ink)}
h3{font-size:1.05em;margin:1em 0 .3em}
.meta{color:var(--muted)}
nav ul{display:flex;flex-wrap:wrap;gap:.3em .9em;list-style:none;padding:0;margin:.6em 0}
nav a{color:var(--ink)}
figure{margin:1em 0}
figcaption{font-weight:600;margin-bottom:.3em}
figure svg{max-width:100%;height:auto;display:block;border:1px solid var(--rule)}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch;margin:.5em 0}
table{border-collapse:collapse;width:100%;font-size:.92em}
th,td{padding:.3em .6em;border-bottom:1px solid var(--rule);text-align:left;vertical-align:top}
th{background:var(--soft)}
td.num{text-align:right;font-variant-numeric:tabular-nums}
td{overflow-wrap:anywhere}
.headline{font-size:1.1em;font-weight:600}
.empty{color:var(--muted);font-style:italic}
.note{color:var(--muted);font-size:.9em}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(300px,1fr));gap:0 16px}
@media (max-width:480px){body{font-size:14px}main{padding:10px}h1{font-size:1.3em}}
@media print{h2{break-after:avoid}figure{break-inside:avoid}}
`;

export function renderHtml(a: Analysis, opts: HtmlOptions = {}): string {
  const title = opts.title ?? 'minewatch fleet report';
  const s = summarize(a);
  const perChart = opts.linesPerChart ?? 5;
  const spikes = a.spikes;
  const pick = (prefix: string) => a.series.filter((x) => x.name.startsWith(prefix)).slice(0, perChart);
  const daily = [
    linesChart('chart-series-coins', 'Hosts mining each coin per day', pick('coin:'), spikes),
    linesChart('chart-series-pools', 'Connections to each pool per day', pick('pool:'), spikes),
    linesChart('chart-series-ports', 'Flows to each port per day', pick('port:'), spikes),
    linesChart('chart-series-miners', 'Hosts running each miner per day', pick('miner:'), spikes),
    linesChart('chart-series-new', 'New miner instances per day', pick('new:'), spikes),
  ];
  const corr = a.correlations.map((c, i) => lagChart(c, `chart-corr-${i}`));
  const prices = a.correlations
    .filter((c) => c.kind === 'price' && c.method === 'pearson')
    .map((c, i) => {
      const price = a.series.find((x) => x.name === c.a);
      const heat = a.series.find((x) => x.name === c.b);
      return price && heat ? priceChart(price, heat, `chart-price-${i}`) : null;
    });

  const sections: [string, string, string][] = [
    [
      'summary',
      'Summary',
      `<p class="headline">${esc(s.headline)}</p>
       <h3>What changed</h3>${s.changes.length ? `<ul>${s.changes.map((x) => `<li>${esc(x)}</li>`).join('')}</ul>` : '<p class="empty">Nothing.</p>'}
       <h3>What to do</h3><ol>${s.actions.map((x) => `<li>${esc(x)}</li>`).join('')}</ol>`,
    ],
    [
      'coins',
      'Coins',
      figure(coinChart(a)) +
        table(
          [
            'coin',
            'hosts',
            'share of hosts',
            'events',
            'share of events',
            'trend',
            'share first → last weeks',
          ],
          a.coins.map((c) => [
            c.coin,
            c.hosts,
            pct(c.share),
            c.events,
            pct(c.event_share),
            `${c.trend.direction} (${c.trend.hosts_per_30d >= 0 ? '+' : ''}${c.trend.hosts_per_30d} hosts/30 d)`,
            `${pct(c.trend.first_share)} → ${pct(c.trend.last_share)}`,
          ]),
        ),
    ],
    [
      'pools',
      'Pools',
      figure(poolChart(a)) +
        table(
          ['pool', 'hosts', 'share', 'events'],
          a.pools.slice(0, 25).map((p) => [p.pool, p.hosts, pct(p.share), p.events]),
        ),
    ],
    [
      'ports',
      'Ports',
      figure(portChart(a)) +
        table(
          ['port', 'flows', 'share', 'hosts'],
          a.ports.slice(0, 25).map((p) => [String(p.port), p.flows, pct(p.share), p.hosts]),
        ),
    ],
    [
      'series',
      'Daily activity',
      `<p class="note">Pins mark spike onsets (date as MM-DD).</p>${daily.map(figure).join('')}`,
    ],
    [
      'spikes',
      'Spikes',
      `<p class="note">A day is a spike when its value is at least 6 robust standard deviations (1.4826 × MAD of the
       14 days before, at least √baseline and 1) above the median of those days, and at least 5 above it. Runs of
       spike days are one episode, shown at its onset.</p>` +
        table(
          ['series', 'date', 'value', 'baseline', 'score', 'days', 'peak'],
          spikes.map((x) => [
            x.series,
            x.date,
            x.value,
            x.baseline,
            x.score,
            x.days,
            `${fmt(x.peak)} on ${x.peak_date}`,
          ]),
        ),
    ],
    [
      'correlations',
      'Correlations',
      `<p class="note">Lag k &gt; 0: the second series follows the first by k days. Event series are correlated on
       day-over-day changes (so shared growth doesn't count); p is Bonferroni-corrected for the lags (and pools) tried.
       Price correlations use levels, where autocorrelation makes p optimistic.</p>` +
        table(
          ['a', 'b', 'method', 'on', 'best lag (days)', 'r', 'p', 'n'],
          a.correlations.map((c) => [
            c.a,
            c.b,
            c.method,
            c.on,
            c.lag_days,
            c.r.toFixed(3),
            c.p.toExponential(2),
            c.n,
          ]),
        ) +
        `<div class="grid">${corr.map(figure).join('')}</div>`,
    ],
    [
      'prices',
      'Price vs mining',
      (a.prices.coins.length
        ? prices.map(figure).join('')
        : '<p class="empty">No price file given (--prices FILE.csv with date,coin,price_usd).</p>') +
        (a.prices.missing.length
          ? `<p class="note">No price for: ${esc(a.prices.missing.join(', '))}.</p>`
          : ''),
    ],
    [
      'infection',
      'Infection types',
      `<p class="note">type1-trojan: a trojan with a miner built in; type2-stock-miner-dropper: a stock miner placed
       and configured by a dropper; unknown: mining seen on the network with no host evidence of how.</p>` +
        figure(infectionChart(a)) +
        table(
          ['type', 'hosts', 'share'],
          a.infection_types.map((t) => [t.type, t.hosts, pct(t.share)]),
        ),
    ],
    [
      'vectors',
      'Intrusion vectors',
      table(
        ['vector', 'hosts', 'findings', 'first seen', 'last seen', 'preceded', 'what to do'],
        a.vectors.map((v) => [
          v.label,
          v.hosts,
          v.findings,
          v.first_seen.slice(0, 10),
          v.last_seen.slice(0, 10),
          v.precedes.length
            ? v.precedes
                .map(
                  (p) =>
                    `${p.series} spike on ${p.date}: ${p.hosts} of ${p.of} hosts, median ${p.median_lead_days} d before`,
                )
                .join('; ')
            : '-',
          VECTOR_ADVICE[v.vector],
        ]),
      ),
    ],
    [
      'campaigns',
      'Campaigns',
      `<p class="note">Hosts linked by the same wallet, dropper URL or pool account.</p>` +
        table(
          ['kind', 'key', 'hosts', 'first seen', 'last seen', 'some hosts'],
          a.campaigns
            .slice(0, 50)
            .map((c) => [
              c.kind,
              c.key,
              c.hosts,
              c.first_seen.slice(0, 10),
              c.last_seen.slice(0, 10),
              c.host_list.slice(0, 5).join(', ') + (c.hosts > 5 ? ', …' : ''),
            ]),
        ),
    ],
  ];
  const nav = sections.map(([id, h]) => `<li><a href="#${id}">${esc(h)}</a></li>`).join('');
  const body = sections
    .map(([id, h, html]) => `<section id="${id}"><h2>${esc(h)}</h2>${html}</section>`)
    .join('\n');
  const range = a.range.from ? `${a.range.from} to ${a.range.to} (${a.range.days} days)` : 'no data';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${esc(title)}</title><style>${CSS}</style></head>
<body><main>
<header><h1>${esc(title)}</h1><p class="meta">${esc(range)}${opts.generatedAt ? ` · generated ${esc(opts.generatedAt)}` : ''}</p>
<nav aria-label="sections"><ul>${nav}</ul></nav></header>
${body}
</main></body></html>
`;
}
