/**
 * Server-rendered pages: each view arrives as complete HTML (first render needs no API round trip), tables
 * work without JavaScript, and the browser only draws the charts from JSON embedded in the page. Every state
 * carries a text label (severity, verdict, spike) so nothing depends on colour alone.
 */

import { proxyLabel } from '../findings/format.ts';
import type { MinewatchEvent } from '../findings/index.ts';
import type { IntelBase, LookupResult, PoolEntry } from '../intel/index.ts';
import type { CleanupPlan } from '../respond/cleanup/index.ts';
import { VERSION } from '../version.ts';
import type { CampaignView, HostInfo, HostList, HostPage, Overview } from './data.ts';
import { poolName, SORTABLE } from './data.ts';
import { type Filter, link, RANGES } from './filter.ts';
import { esc, fmtDay, fmtInt, fmtTime, type Html, html, jsonBlock, raw } from './html.ts';

export interface Chrome {
  title: string;
  path: string;
  filter: Filter;
  groups: string[];
  coins: string[];
  csrf: string;
  user: string;
  clock: string | null;
  /** Extra query parameters the filter form keeps (the hosts search). */
  keep?: Record<string, string>;
  charts?: boolean;
  pollMs: number;
}

const NAV: [string, string][] = [
  ['/ui/', 'Overview'],
  ['/ui/hosts', 'Hosts'],
  ['/ui/campaigns', 'Campaigns'],
  ['/ui/intel', 'Intel'],
];

const RANGE_LABELS: Record<string, string> = {
  '24h': 'Last 24 hours',
  '7d': 'Last 7 days',
  '30d': 'Last 30 days',
  '90d': 'Last 90 days',
  all: 'All time',
  custom: 'Custom dates',
};

export function layout(c: Chrome, body: Html): string {
  const f = c.filter;
  const section = NAV.find(([p]) => (p === '/ui/' ? c.path === '/ui/' : c.path.startsWith(p)))?.[0];
  const opt = (value: string, label: string, selected: boolean) =>
    html`<option value="${value}"${raw(selected ? ' selected' : '')}>${label}</option>`;
  return `<!doctype html>${html`<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${c.title} · minewatch</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/ui/assets/app.css?v=${VERSION}">
</head>
<body data-poll="${c.pollMs}">
<a class="skip" href="#main">Skip to content</a>
<header class="top">
  <a class="brand" href="${link('/ui/', f)}">minewatch</a>
  <nav aria-label="Sections">${NAV.map(
    ([p, label]) =>
      html`<a href="${link(p, f)}"${raw(section === p ? ' aria-current="page"' : '')}>${label}</a>`,
  )}</nav>
  <form class="logout" method="post" action="/ui/logout">
    <input type="hidden" name="csrf" value="${c.csrf}">
    <span class="who">${c.user}</span> <button type="submit">Log out</button>
  </form>
</header>
<form class="filters" method="get" action="${c.path}" aria-label="Filters">
  ${Object.entries(c.keep ?? {}).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`)}
  <label>Time <select name="range" id="f-range">${[...RANGES, 'custom'].map((r) =>
    opt(r, RANGE_LABELS[r] ?? r, f.range === r),
  )}</select></label>
  <label class="dates">From <input type="date" name="from" value="${f.from ?? ''}"></label>
  <label class="dates">To <input type="date" name="to" value="${f.to ?? ''}"></label>
  <label>Group <select name="group">${opt('', 'All groups', !f.group)}${c.groups.map((g) =>
    opt(g, g, f.group === g),
  )}</select></label>
  <label>Coin <select name="coin" id="f-coin">${opt('', 'All coins', !f.coin)}${c.coins.map((x) =>
    opt(x, x, f.coin === x),
  )}</select></label>
  <button type="submit">Apply</button>
  <a class="clear" href="${c.path}">Clear</a>
</form>
<p id="live" class="live" role="status" aria-live="polite">Data up to ${fmtTime(c.clock)} · updates automatically</p>
<main id="main">
${body}
</main>
<footer>minewatch ${VERSION} · <a href="/ui/api/overview">JSON API</a></footer>
${c.charts ? html`<script src="/ui/assets/echarts.min.js?v=${VERSION}" defer></script>` : ''}
<script src="/ui/assets/app.js?v=${VERSION}" defer></script>
</body>
</html>`}`;
}

export function loginPage(opts: { error?: string; next?: string }): string {
  return `<!doctype html>${html`<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Log in · minewatch</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/ui/assets/app.css?v=${VERSION}">
</head>
<body class="login">
<main id="main">
<h1>minewatch</h1>
<form method="post" action="/ui/login" class="card">
  <p>Log in with an admin token (MINEWATCH_ADMIN_TOKEN or one made with <code>minewatch token create --admin</code>).</p>
  ${opts.error ? html`<p class="error" role="alert">Error: ${opts.error}</p>` : ''}
  <input type="hidden" name="next" value="${opts.next ?? '/ui/'}">
  <label for="token">Admin token</label>
  <input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
  <button type="submit">Log in</button>
</form>
</main>
</body>
</html>`}`;
}

const SEV_MARK: Record<string, string> = { critical: '‼', high: '▲', medium: '◆', low: '▽', info: '·' };

export function sevBadge(s: string | null | undefined): Html {
  if (!s) return html`<span class="badge sev-none">none</span>`;
  return html`<span class="badge sev-${s}">${SEV_MARK[s] ?? ''} ${s.toUpperCase()}</span>`;
}

export function verdictBadge(v: string): Html {
  const mark = v === 'infected' || v === 'mining' ? '✖' : v === 'clean' ? '✔' : '?';
  return html`<span class="badge verdict-${v}">${mark} ${v}</span>`;
}

function rankTable(
  caption: string,
  rows: { key: string; hosts: number; events: number }[],
  keyHead: string,
  keyCell: (k: string) => Html | string,
  eventsHead = 'Events',
): Html {
  if (!rows.length) return html`<p class="empty">${caption}: nothing in this range.</p>`;
  return html`<table><caption>${caption}</caption><thead><tr><th scope="col">${keyHead}</th><th scope="col" class="num">Hosts</th><th scope="col" class="num">${eventsHead}</th></tr></thead><tbody>${rows.map(
    (r) =>
      html`<tr><td>${keyCell(r.key)}</td><td class="num">${fmtInt(r.hosts)}</td><td class="num">${fmtInt(r.events)}</td></tr>`,
  )}</tbody></table>`;
}

export function overviewPage(o: Overview, f: Filter): Html {
  const k = o.kpis;
  const kpi = (label: string, value: number, href?: string) =>
    html`<div class="kpi"><span class="kpi-value">${href ? html`<a href="${href}">${fmtInt(value)}</a>` : fmtInt(value)}</span><span class="kpi-label">${label}</span></div>`;
  const list = (xs: { key: string; n: number }[]) =>
    xs.length ? xs.map((x, i) => html`${i ? ', ' : ''}<code>${x.key}</code> (${fmtInt(x.n)})`) : html`—`;
  const trend = {
    kind: 'lines',
    title: 'Mining hosts per day by coin, and newly flagged hosts',
    axis: 'hosts',
    days: o.days,
    series: o.series,
    spikes: o.spikes.map((s) => ({
      series: s.series,
      date: s.date,
      value: s.value,
      label: `spike ${s.date}`,
    })),
  };
  const coinChart = {
    kind: 'bars',
    title: 'Hosts per coin',
    axis: 'hosts',
    rows: o.coins.slice(0, 10).map((c) => ({ name: c.key, value: c.hosts })),
  };
  return html`<h1>Overview</h1>
<section class="kpis" aria-label="Key numbers">
  ${kpi('hosts mining now (today or yesterday, UTC, in the data)', k.mining_now)}
  ${kpi('hosts flagged for the first time this week', k.new_this_week)}
  ${kpi('hosts reporting', k.hosts, link('/ui/hosts', f))}
  ${kpi('findings in range', k.findings)}
  ${kpi('events in range', k.events)}
</section>
<section aria-labelledby="h-trend"><h2 id="h-trend">Daily trend</h2>
  <div class="chart" data-chart="chart-trend" role="img" aria-label="Line chart: mining hosts per day by coin and newly flagged hosts per day; spikes are pinned with their date"></div>
  ${jsonBlock('chart-trend', trend)}
  <h3>Spikes and what explains them</h3>
  ${
    o.spikes.length
      ? html`<ol class="spikes">${o.spikes.map(
          (
            s,
          ) => html`<li><strong>SPIKE ${s.date}</strong> · ${s.series}: ${fmtInt(s.value)} hosts against a baseline of ${fmtInt(s.baseline)} (score ${s.score}${s.days > 1 ? `, ${s.days} days, peak ${fmtInt(s.peak)}` : ''}).
  <a href="${link('/ui/hosts', { ...f, range: 'custom', from: s.date, to: s.date, ...(s.coin ? { coin: s.coin } : {}) })}">Hosts that day</a>
  <ul>
    <li>${fmtInt(s.findings)} findings on ${fmtInt(s.hosts)} hosts that day; rules: ${list(s.rules)}</li>
    <li>Pools: ${list(s.pools)} · wallets: ${list(s.wallets)}</li>
    <li>Dropper URLs: ${list(s.droppers)}</li>
    <li>Intrusion vectors that day and the 3 days before: ${list(s.vectors)}</li>
  </ul></li>`,
        )}</ol>`
      : html`<p class="empty">No spikes in this range (a day must stand 6 robust deviations above the median of the 14 days before it).</p>`
  }
</section>
<div class="grid">
<section aria-labelledby="h-coins"><h2 id="h-coins">Coins</h2>
  <div class="chart small" data-chart="chart-coins" role="img" aria-label="Bar chart: hosts per coin, values labelled"></div>
  ${jsonBlock('chart-coins', coinChart)}
  ${rankTable('Coins by hosts', o.coins, 'Coin', (c) => html`<a href="${link('/ui/', f, { coin: c })}">${c}</a>`)}
</section>
<section aria-labelledby="h-pools"><h2 id="h-pools">Top pools</h2>
  ${rankTable('Pools by hosts', o.pools, 'Pool', (p) => html`<a href="${link('/ui/intel', f, { q: p })}">${p}</a>`)}
</section>
<section aria-labelledby="h-ports"><h2 id="h-ports">Top ports</h2>
  ${rankTable('Destination ports of mining flows', o.ports, 'Port', (p) => p, 'Flows')}
</section>
<section aria-labelledby="h-new"><h2 id="h-new">New this week</h2>
  ${o.new_hosts.length ? html`<ul class="hostlist">${o.new_hosts.map((h) => html`<li><a href="${link(`/ui/hosts/${encodeURIComponent(h.host)}`, f)}">${h.host}</a> · first finding ${fmtTime(h.first)}</li>`)}</ul>` : html`<p class="empty">No host had its first finding in the last 7 days of data.</p>`}
</section>
</div>`;
}

const COLUMNS: [string, string][] = [
  ['host', 'Host'],
  ['group', 'Group'],
  ['verdict', 'Verdict'],
  ['infection_type', 'Infection type'],
  ['coin', 'Coin'],
  ['pool', 'Pool'],
  ['first', 'First seen'],
  ['last_heartbeat', 'Last heartbeat'],
  ['findings', 'Findings'],
];

export const HOSTS_SHOWN = 500;

export function hostsPage(l: HostList, f: Filter, q: string): Html {
  const head = COLUMNS.map(([key, label]) => {
    const sortable = (SORTABLE as readonly string[]).includes(key);
    const active = l.sort === key;
    const next =
      active && l.dir === 'desc'
        ? 'asc'
        : active
          ? 'desc'
          : key === 'host' || key === 'group'
            ? 'asc'
            : 'desc';
    const aria = active ? raw(` aria-sort="${l.dir === 'asc' ? 'ascending' : 'descending'}"`) : '';
    return html`<th scope="col"${aria}>${sortable ? html`<a href="${link('/ui/hosts', f, { q, sort: key, dir: next })}">${label}${active ? (l.dir === 'asc' ? ' ▲' : ' ▼') : ''}</a>` : label}</th>`;
  });
  return html`<h1>Hosts</h1>
<form class="search" method="get" action="/ui/hosts" role="search">
  ${[
    ...Object.entries({
      range: f.range === 'custom' ? '' : f.range,
      from: f.from,
      to: f.to,
      group: f.group,
      coin: f.coin,
      sort: l.sort,
      dir: l.dir,
    }),
  ]
    .filter(([, v]) => v)
    .map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`)}
  <label for="q">Search hosts</label> <input id="q" name="q" type="search" value="${q}" placeholder="name, group, coin, pool, verdict">
  <button type="submit">Search</button>
</form>
<p class="count">${fmtInt(l.total)} hosts${l.total > HOSTS_SHOWN ? html` (first ${HOSTS_SHOWN} shown; search or filter to narrow)` : ''}.</p>
<div class="scroll"><table class="hosts"><caption class="sr">Hosts, sortable by column</caption>
<thead><tr>${head}</tr></thead>
<tbody>${l.rows.slice(0, HOSTS_SHOWN).map(
    (r) => html`<tr>
<td><a href="${link(`/ui/hosts/${encodeURIComponent(r.host)}`, f)}">${r.host}</a></td>
<td>${r.group}</td><td>${verdictBadge(r.verdict)}</td><td>${r.infection_type || '—'}</td><td>${r.coin || '—'}</td>
<td>${r.pool || '—'}</td><td>${fmtTime(r.first)}</td><td>${fmtTime(r.last_heartbeat)}</td>
<td class="num">${fmtInt(r.findings)} ${r.max_severity ? sevBadge(r.max_severity) : ''}</td></tr>`,
  )}</tbody></table></div>`;
}

function evidenceList(ev: unknown): Html {
  if (!Array.isArray(ev) || !ev.length) return html`—`;
  return html`<ul class="evidence">${ev.slice(0, 8).map((e) => {
    if (!e || typeof e !== 'object') return html`<li>${String(e)}</li>`;
    const o = e as Record<string, unknown>;
    const fields = Object.entries(o).filter(([k]) => k !== 'kind');
    return html`<li><strong>${String(o.kind ?? 'evidence')}</strong>: ${fields.map(([k, v], i) => html`${i ? ' · ' : ''}${k} <code>${typeof v === 'string' ? v.slice(0, 300) : JSON.stringify(v)?.slice(0, 300)}</code>`)}</li>`;
  })}</ul>`;
}

export function eventSummary(e: MinewatchEvent): string {
  const x = e as Record<string, unknown>;
  switch (e.type) {
    case 'process':
      return `pid ${x.pid} ${x.exe ?? ''} ${typeof x.cmdline === 'string' ? x.cmdline.slice(0, 200) : ''}`.trim();
    case 'connection':
      return `${x.dst_ip}:${x.dst_port}${x.domain ? ` (${x.domain})` : ''}${x.exe ? ` by ${x.exe}` : ''}`;
    case 'dns':
      return `${x.query}${Array.isArray(x.answers) ? ` → ${x.answers.join(', ')}` : ''}`;
    case 'file':
      return `${x.path}${x.sha256 ? ` sha256 ${String(x.sha256).slice(0, 16)}…` : ''}`;
    case 'finding': {
      const f = x.finding as Record<string, unknown>;
      return `${f.rule} (${f.severity}): ${f.title ?? ''}`;
    }
    case 'heartbeat':
      return `heartbeat${x.os ? ` ${x.os}` : ''}${x.verdict ? ` verdict ${x.verdict}` : ''}`;
    default:
      return '';
  }
}

/** The kind of evidence a finding is, for the timeline (persistence, files, droppers, processes, connections). */
function findingKind(rule: string): string {
  if (rule.includes('persistence')) return 'persistence';
  if (rule.includes('dropper')) return 'dropper';
  if (rule.startsWith('host.process') || rule.includes('process')) return 'process';
  if (rule.startsWith('host.file')) return 'file';
  if (rule.startsWith('net.') || rule.startsWith('traffic.')) return 'connection';
  return 'finding';
}

export function hostPage(p: HostPage, f: Filter, plan: CleanupPlan | { error: string }): Html {
  const h = p.host;
  const inv = h.inventory ?? {};
  const verdict = p.verdict?.status ?? (h.findings ? 'suspicious' : 'clean');
  const timeline = {
    kind: 'timeline',
    title: 'Evidence over time',
    lanes: ['persistence', 'dropper', 'file', 'process', 'connection', 'dns', 'finding', 'heartbeat'],
    points: p.events
      .filter((e) => e.type !== 'heartbeat')
      .map((e) => {
        const lane =
          e.type === 'finding'
            ? findingKind(String((e as { finding: { rule?: string } }).finding.rule ?? ''))
            : e.type;
        return { t: e.time, lane, label: eventSummary(e).slice(0, 120) };
      }),
  };
  const hostQ = encodeURIComponent(h.host);
  return html`<p class="crumbs"><a href="${link('/ui/hosts', f)}">Hosts</a> › ${h.host}</p>
<h1>${h.host} ${verdictBadge(verdict)}</h1>
<dl class="facts">
  <dt>Group</dt><dd>${h.group}</dd>
  <dt>Infection type</dt><dd>${p.verdict?.infection_type ?? (typeof inv.infection_type === 'string' ? inv.infection_type : '—')}</dd>
  <dt>Coins</dt><dd>${p.verdict?.coins.join(', ') || '—'}</dd>
  <dt>Pools</dt><dd>${p.verdict?.pools.join(', ') || '—'}</dd>
  <dt>Wallets</dt><dd>${p.verdict?.wallets.length ? p.verdict.wallets.map((w, i) => html`${i ? ', ' : ''}<a href="${link('/ui/campaigns/wallet', f, { key: w })}"><code>${w}</code></a>`) : '—'}</dd>
  <dt>First seen</dt><dd>${fmtTime(h.first)}</dd>
  <dt>Last event</dt><dd>${fmtTime(h.last)}</dd>
  <dt>Last heartbeat</dt><dd>${fmtTime(inv.time as string | undefined)}</dd>
  <dt>Inventory</dt><dd>${['os', 'cloud', 'instance_id', 'cpus', 'agent_version'].filter((k) => inv[k] !== undefined).map((k, i) => html`${i ? ' · ' : ''}${k} ${String(inv[k])}`) || '—'}</dd>
</dl>
<section aria-labelledby="h-findings"><h2 id="h-findings">Findings (${fmtInt(p.findings.length)})</h2>
${
  p.findings.length
    ? html`<div class="scroll"><table class="findings"><thead><tr><th scope="col">Time</th><th scope="col">Rule</th><th scope="col">Severity</th><th scope="col">What</th><th scope="col">Evidence</th></tr></thead><tbody>${p.findings.map(
        (x) => {
          const fx = x.finding;
          return html`<tr><td>${fmtTime(x.time)}</td><td><code>${String(fx.rule ?? '')}</code></td><td>${sevBadge(String(fx.severity ?? ''))}</td><td>${String(fx.title ?? '')}${poolName(fx.pool) ? html`<br>pool <code>${poolName(fx.pool)}</code>` : ''}${proxyLabel(fx.proxy) ? html`<br>via proxy <code>${proxyLabel(fx.proxy)}</code>` : ''}${typeof fx.wallet === 'string' ? html`<br>wallet <code>${fx.wallet}</code>` : ''}${typeof fx.dropper_url === 'string' ? html`<br>dropper <code>${fx.dropper_url}</code>` : ''}</td><td>${evidenceList(fx.evidence)}</td></tr>`;
        },
      )}</tbody></table></div>`
    : html`<p class="empty">No findings in this range.</p>`
}
</section>
<section aria-labelledby="h-plan"><h2 id="h-plan">Cleanup plan</h2>
${
  'error' in plan
    ? html`<p class="error">No plan: ${plan.error}</p>`
    : html`<p class="note">Planned from the stored findings (the server cannot read the host's disk): run <code>minewatch clean</code> on ${h.host} for the exact plan, then <code>minewatch clean --apply</code> to carry it out with quarantine (undo with <code>minewatch restore</code>).</p>
${plan.steps.length ? html`<ol class="plan">${plan.steps.map((s) => html`<li><strong>${s.kind}</strong>${s.pid !== undefined ? html` pid ${s.pid}` : ''}${s.path ? html` <code>${s.path}</code>` : ''}: ${s.reason} <span class="muted">(${s.rules.join(', ')})</span></li>`)}</ol>` : html`<p class="empty">No automatic steps.</p>`}
${plan.notes.length ? html`<ul class="notes">${plan.notes.map((n) => html`<li>${n}</li>`)}</ul>` : ''}`
}
</section>
<section aria-labelledby="h-timeline"><h2 id="h-timeline">Timeline of evidence</h2>
  <div class="chart" data-chart="chart-timeline" role="img" aria-label="Timeline: each event as a marked point in its lane (persistence, dropper, file, process, connection, dns)"></div>
  ${jsonBlock('chart-timeline', timeline)}
  ${p.instances.length ? html`<h3>Miner instances</h3><table><thead><tr><th scope="col">Executable</th><th scope="col">SHA-256</th><th scope="col">Family</th><th scope="col">First</th><th scope="col">Last</th></tr></thead><tbody>${p.instances.map((i) => html`<tr><td><code>${i.exe}</code></td><td><code>${i.sha256.slice(0, 16)}${i.sha256.length > 16 ? '…' : ''}</code></td><td>${i.family || '—'}</td><td>${fmtTime(i.first)}</td><td>${fmtTime(i.last)}</td></tr>`)}</tbody></table>` : ''}
  <h3>Latest events (${fmtInt(Math.min(60, p.events.length))} of ${fmtInt(p.events.length)} loaded; the timeline above shows all of them)</h3>
  <div class="scroll"><table class="events"><thead><tr><th scope="col">Time</th><th scope="col">Type</th><th scope="col">Detail</th></tr></thead><tbody>${p.events.slice(0, 60).map((e) => html`<tr><td>${fmtTime(e.time)}</td><td>${e.type === 'finding' ? findingKind(String((e as { finding: { rule?: string } }).finding.rule ?? '')) : e.type}</td><td>${eventSummary(e)}</td></tr>`)}</tbody></table></div>
  <p><a href="/ui/api/hosts/${hostQ}">This host as JSON</a></p>
</section>`;
}

const BY_LABEL: Record<string, string> = {
  wallet: 'Wallets',
  dropper: 'Dropper URLs',
  account: 'Pool accounts',
};

export function campaignsPage(cs: CampaignView[], f: Filter): Html {
  return html`<h1>Campaigns</h1>
<p class="note">Wallets, dropper URLs and pool accounts seen on two or more hosts: one operator behind many machines.</p>
${(['wallet', 'dropper', 'account'] as const).map((by) => {
  const rows = cs.filter((c) => c.by === by);
  return html`<section aria-labelledby="h-${by}"><h2 id="h-${by}">${BY_LABEL[by]} (${rows.length})</h2>
${
  rows.length
    ? html`<div class="scroll"><table><thead><tr><th scope="col">${by === 'dropper' ? 'URL' : by === 'wallet' ? 'Wallet' : 'Account'}</th><th scope="col" class="num">Hosts</th><th scope="col" class="num">Events</th><th scope="col">First</th><th scope="col">Last</th><th scope="col">Hosts behind it</th></tr></thead><tbody>${rows
        .slice(0, 100)
        .map(
          (c) =>
            html`<tr><td><a class="campaign" href="${link(`/ui/campaigns/${by}`, f, { key: c.key })}"><code>${c.key}</code></a></td><td class="num">${fmtInt(c.hosts)}</td><td class="num">${fmtInt(c.events)}</td><td>${fmtDay(c.first)}</td><td>${fmtDay(c.last)}</td><td>${c.host_list.slice(0, 3).map((h, i) => html`${i ? ', ' : ''}<a href="${link(`/ui/hosts/${encodeURIComponent(h)}`, f)}">${h}</a>`)}${c.host_list.length > 3 ? html` and ${fmtInt(c.hosts - 3)} more` : ''}</td></tr>`,
        )}</tbody></table></div>`
    : html`<p class="empty">None in this range.</p>`
}
</section>`;
})}`;
}

export function campaignPage(
  c: CampaignView | undefined,
  by: string,
  key: string,
  hosts: HostInfo[],
  f: Filter,
): Html {
  if (!c)
    return html`<p class="crumbs"><a href="${link('/ui/campaigns', f)}">Campaigns</a></p><h1>Campaign not found</h1><p class="empty">No ${by} <code>${key}</code> links two or more hosts in this range and filter.</p>`;
  const info = new Map(hosts.map((h) => [h.host, h]));
  return html`<p class="crumbs"><a href="${link('/ui/campaigns', f)}">Campaigns</a> › ${BY_LABEL[by] ?? by}</p>
<h1>${by} <code class="break">${key}</code></h1>
<p>${fmtInt(c.hosts)} hosts, ${fmtInt(c.events)} events, from ${fmtTime(c.first)} to ${fmtTime(c.last)}.${c.hosts > c.host_list.length ? ` The first ${c.host_list.length} hosts are listed.` : ''}</p>
<div class="scroll"><table><caption>Hosts behind this ${by}</caption><thead><tr><th scope="col">Host</th><th scope="col">Group</th><th scope="col">Findings</th><th scope="col">Highest severity</th><th scope="col">First seen</th><th scope="col">Last event</th></tr></thead><tbody>${c.host_list.map(
    (h) => {
      const i = info.get(h);
      return html`<tr><td><a href="${link(`/ui/hosts/${encodeURIComponent(h)}`, f)}">${h}</a></td><td>${i?.group ?? '—'}</td><td class="num">${fmtInt(i?.findings ?? 0)}</td><td>${sevBadge(i?.max_severity)}</td><td>${fmtTime(i?.first)}</td><td>${fmtTime(i?.last)}</td></tr>`;
    },
  )}</tbody></table></div>`;
}

export interface IntelView {
  q: string;
  lookup: LookupResult | null;
  pools: PoolEntry[];
  total: number;
  formats: { id: string; description: string }[];
}

export function intelPage(v: IntelView, intel: IntelBase, f: Filter): Html {
  const src = (refs: readonly { id: string }[]) =>
    refs.map(({ id }, i) => {
      const s = intel.source(id);
      return html`${i ? ', ' : ''}${s?.url ? html`<a href="${s.url}" rel="noreferrer noopener">${s.name}</a>` : (s?.name ?? id)}${s ? html` <span class="muted">(${s.licence})</span>` : ''}`;
    });
  const l = v.lookup;
  return html`<h1>Intel</h1>
<form class="search" method="get" action="/ui/intel" role="search">
  ${Object.entries({
    range: f.range === 'custom' ? '' : f.range,
    from: f.from,
    to: f.to,
    group: f.group,
    coin: f.coin,
  })
    .filter(([, x]) => x)
    .map(([k, x]) => html`<input type="hidden" name="${k}" value="${x}">`)}
  <label for="iq">Search the pool base</label> <input id="iq" name="q" type="search" value="${v.q}" placeholder="domain, IP, ip:port or pool name">
  <button type="submit">Search</button>
</form>
${
  l
    ? html`<section aria-labelledby="h-lookup"><h2 id="h-lookup">Lookup: <code>${l.query}</code></h2>
<p>Verdict: <strong>${l.verdict}</strong>${l.pool ? html` · pool <strong>${l.pool.entry.name}</strong> (<code>${l.pool.entry.host}</code>, matched <code>${l.pool.matched}</code>)` : ''}${l.endpoint ? html` · known endpoint of ${l.endpoint.entry.pool ?? 'a pool'}` : ''}${l.portInfo ? html` · port ${l.portInfo.port}: ${l.portInfo.note ?? l.portInfo.weight}` : ''}</p>
${l.pool ? html`<p>Where it came from: ${src(l.pool.entry.sources)}</p>` : ''}
${l.families.length ? html`<p>Malware families: ${l.families.map((x, i) => html`${i ? ', ' : ''}${x.name}`)}</p>` : ''}
</section>`
    : ''
}
<section aria-labelledby="h-pools"><h2 id="h-pools">Pools${v.q ? html` matching “${v.q}”` : ''}${f.coin ? ` for ${f.coin}` : ''} (${fmtInt(v.total)})</h2>
<div class="scroll"><table><thead><tr><th scope="col">Host</th><th scope="col">Name</th><th scope="col">Kind</th><th scope="col">Coins</th><th scope="col">Ports</th><th scope="col">Status</th><th scope="col">Sources</th></tr></thead><tbody>${v.pools.map(
    (p) =>
      html`<tr><td><code>${p.host}</code></td><td>${p.name}</td><td>${p.kind}</td><td>${p.coins.join(' ') || '—'}</td><td>${[...p.ports.plain, ...p.ports.tls.map((x) => `${x} (TLS)`)].slice(0, 6).join(', ') || '—'}</td><td>${p.status}${p.closed ? ` ${p.closed}` : ''}</td><td>${src(p.sources)}</td></tr>`,
  )}</tbody></table></div>
${v.total > v.pools.length ? html`<p class="count">First ${v.pools.length} shown; search to narrow.</p>` : ''}
</section>
<section aria-labelledby="h-block"><h2 id="h-block">Blocklists</h2>
<p>Generated from the pool base${f.coin ? ` for ${f.coin} pools` : ''}; pools, proxies and browser miners, never excluded names.</p>
<ul class="formats">${v.formats.map((x) => html`<li><a download href="${link(`/ui/intel/blocklist/${x.id}`, { range: f.range, ...(f.coin ? { coin: f.coin } : {}) })}">Download ${x.id}</a> <span class="muted">${x.description}</span></li>`)}</ul>
</section>`;
}

export function notFound(what: string): Html {
  return html`<h1>Not found</h1><p class="empty">${what}</p>`;
}

export { esc };
