/**
 * The dashboard's own CSS and browser script, embedded as strings so they ship inside the compiled package
 * (tsc copies no other files) and no CDN is ever needed; ECharts comes from the installed `echarts` package.
 * The script is plain ES2020 without template literals, so it can live in a template string unchanged.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

let echartsCache: Buffer | undefined;

/** ECharts' browser bundle from node_modules (a runtime dependency), read once. */
export function echartsBundle(): Buffer {
  echartsCache ??= readFileSync(createRequire(import.meta.url).resolve('echarts/dist/echarts.min.js'));
  return echartsCache;
}

export const APP_CSS = `
:root { --fg:#111; --bg:#fff; --muted:#555; --line:#ccc; --accent:#0b57d0; --panel:#f5f6f8; font-family: system-ui, sans-serif; }
* { box-sizing: border-box; }
body { margin:0; color:var(--fg); background:var(--bg); font-size:15px; line-height:1.45; }
a { color:var(--accent); }
a:focus, button:focus, input:focus, select:focus { outline:3px solid #f0b400; outline-offset:1px; }
.skip { position:absolute; left:-999px; } .skip:focus { left:8px; top:8px; background:#fff; padding:4px; z-index:9; }
.top { display:flex; flex-wrap:wrap; gap:8px 18px; align-items:center; padding:8px 16px; background:#1d2733; color:#fff; }
.top a { color:#fff; text-decoration:none; }
.brand { font-weight:700; font-size:18px; }
.top nav { display:flex; gap:4px; flex-wrap:wrap; }
.top nav a { padding:6px 10px; border-radius:4px; }
.top nav a[aria-current=page] { background:#fff; color:#1d2733; font-weight:600; text-decoration:underline; }
.logout { margin-left:auto; display:flex; gap:8px; align-items:center; }
.who { color:#cfd6df; font-size:13px; }
button { font:inherit; padding:5px 12px; border:1px solid #555; border-radius:4px; background:#fff; color:#111; cursor:pointer; }
.filters, .search { display:flex; flex-wrap:wrap; gap:8px 14px; align-items:end; padding:10px 16px; background:var(--panel); border-bottom:1px solid var(--line); }
.search { background:none; border:0; padding:8px 0; }
.filters label, .search label { display:flex; flex-direction:column; font-size:12px; color:var(--muted); gap:2px; }
.search label { display:inline; font-size:14px; color:var(--fg); }
select, input { font:inherit; padding:4px 6px; border:1px solid #888; border-radius:4px; max-width:100%; }
.filters [hidden] { display:none; }
.live { margin:0; padding:4px 16px; font-size:12px; color:var(--muted); }
main { padding:8px 16px 24px; max-width:1400px; }
h1 { font-size:24px; margin:8px 0 12px; } h2 { font-size:19px; margin:22px 0 8px; } h3 { font-size:16px; }
.kpis { display:grid; grid-template-columns:repeat(auto-fit, minmax(160px, 1fr)); gap:10px; }
.kpi { border:1px solid var(--line); border-radius:6px; padding:10px 12px; background:var(--panel); }
.kpi-value { display:block; font-size:28px; font-weight:700; }
.kpi-label { font-size:13px; color:var(--muted); }
.grid { display:grid; grid-template-columns:repeat(auto-fit, minmax(320px, 1fr)); gap:4px 24px; }
.chart { width:100%; height:340px; border:1px solid var(--line); border-radius:6px; }
.chart.small { height:260px; }
table { border-collapse:collapse; width:100%; margin:6px 0 12px; font-size:14px; }
caption { text-align:left; font-weight:600; padding:4px 0; }
.sr { position:absolute; left:-9999px; }
th, td { border-bottom:1px solid var(--line); padding:5px 8px; text-align:left; vertical-align:top; }
th { background:var(--panel); white-space:nowrap; }
th a { color:var(--fg); }
td.num, th.num { text-align:right; font-variant-numeric:tabular-nums; }
.scroll { overflow-x:auto; }
code { font-family: ui-monospace, monospace; font-size:13px; word-break:break-all; }
.badge { display:inline-block; padding:0 6px; border-radius:3px; border:1px solid #444; font-size:12px; font-weight:600; white-space:nowrap; }
.sev-critical { background:#7a0010; color:#fff; } .sev-high { background:#fde2e1; } .sev-medium { background:#fff1c2; }
.sev-low, .sev-info, .sev-none { background:#eef; }
.verdict-infected, .verdict-mining { background:#fde2e1; border-width:2px; } .verdict-clean { background:#e3f5e1; } .verdict-suspicious { background:#fff1c2; border-style:dashed; }
.note { background:#eef4ff; border-left:4px solid var(--accent); padding:6px 10px; }
.empty, .muted, .count { color:var(--muted); }
.error { background:#fde2e1; border-left:4px solid #a00; padding:6px 10px; }
.spikes li { margin-bottom:8px; }
.facts { display:grid; grid-template-columns:max-content 1fr; gap:4px 14px; }
.facts dt { font-weight:600; } .facts dd { margin:0; word-break:break-word; }
.evidence { margin:0; padding-left:16px; }
.crumbs { margin:4px 0; font-size:13px; }
.break { word-break:break-all; }
.formats li { margin:4px 0; }
footer { padding:12px 16px; color:var(--muted); font-size:12px; border-top:1px solid var(--line); }
body.login main { max-width:420px; margin:8vh auto; }
body.login .card { display:flex; flex-direction:column; gap:8px; border:1px solid var(--line); border-radius:8px; padding:18px; }
@media (max-width: 640px) {
  body { font-size:14px; }
  .top { padding:8px; } .logout { margin-left:0; }
  .filters { padding:8px; } .filters label { flex:1 1 40%; }
  main { padding:6px 8px 16px; }
  .chart { height:280px; }
  table.hosts th:nth-child(2), table.hosts td:nth-child(2), table.hosts th:nth-child(6), table.hosts td:nth-child(6),
  table.hosts th:nth-child(7), table.hosts td:nth-child(7) { display:none; }
  .facts { grid-template-columns:1fr; } .facts dd { margin-bottom:6px; }
}
`;

export const APP_JS = `'use strict';
(function () {
  var DASHES = ['solid', 'dashed', 'dotted', [8, 3, 2, 3], [2, 6], [12, 4]];
  var SYMBOLS = ['circle', 'rect', 'triangle', 'diamond', 'pin', 'arrow', 'roundRect', 'emptyCircle'];
  var charts = [];

  function data(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent || 'null') : null;
  }

  function optionOf(spec) {
    var base = { animation: false, aria: { enabled: true, decal: { show: true } }, textStyle: { fontFamily: 'system-ui, sans-serif' } };
    if (spec.kind === 'bars') {
      var rows = spec.rows.slice().reverse();
      base.grid = { left: 8, right: 60, top: 10, bottom: 24, containLabel: true };
      base.tooltip = { trigger: 'axis' };
      base.xAxis = { type: 'value', name: spec.axis, nameLocation: 'middle', nameGap: 22 };
      base.yAxis = { type: 'category', data: rows.map(function (r) { return r.name; }) };
      base.series = [{ type: 'bar', data: rows.map(function (r) { return r.value; }), barMaxWidth: 22,
        label: { show: true, position: 'right', formatter: function (p) { return p.value.toLocaleString('en-US'); } } }];
      return base;
    }
    if (spec.kind === 'lines') {
      base.grid = { left: 8, right: 120, top: 36, bottom: 30, containLabel: true };
      base.tooltip = { trigger: 'axis' };
      base.legend = { top: 4, type: 'scroll' };
      base.xAxis = { type: 'category', data: spec.days, axisLabel: { hideOverlap: true } };
      base.yAxis = { type: 'value', name: spec.axis };
      base.series = spec.series.map(function (s, i) {
        var marks = spec.spikes.filter(function (k) { return k.series === s.name; }).map(function (k) {
          return { name: k.label, coord: [k.date, k.value], value: k.value,
            label: { show: true, formatter: 'SPIKE\\n' + k.date, fontSize: 11 } };
        });
        return { type: 'line', name: s.name, data: s.values, showSymbol: false, symbol: SYMBOLS[i % SYMBOLS.length],
          lineStyle: { type: DASHES[i % DASHES.length], width: 2 }, endLabel: { show: true, formatter: '{a}' },
          markPoint: { symbol: 'pin', symbolSize: 44, data: marks } };
      });
      return base;
    }
    if (spec.kind === 'timeline') {
      var lanes = spec.lanes;
      base.grid = { left: 8, right: 20, top: 16, bottom: 30, containLabel: true };
      base.tooltip = { trigger: 'item', formatter: function (p) { return p.data[2]; } };
      base.xAxis = { type: 'time' };
      base.yAxis = { type: 'category', data: lanes };
      base.series = lanes.map(function (lane, i) {
        return { type: 'scatter', name: lane, symbol: SYMBOLS[i % SYMBOLS.length], symbolSize: 9,
          data: spec.points.filter(function (p) { return p.lane === lane; }).map(function (p) { return [p.t, lane, p.label]; }) };
      });
      return base;
    }
    return base;
  }

  function drawCharts() {
    charts.forEach(function (c) { c.dispose(); });
    charts = [];
    if (!window.echarts) return;
    document.querySelectorAll('[data-chart]').forEach(function (el) {
      var spec = data(el.getAttribute('data-chart'));
      if (!spec) return;
      var c = window.echarts.init(el, null, { renderer: 'canvas' });
      c.setOption(optionOf(spec));
      charts.push(c);
    });
  }

  function wireFilters() {
    var range = document.getElementById('f-range');
    if (!range) return;
    var dates = document.querySelectorAll('.filters .dates');
    function sync() {
      var custom = range.value === 'custom';
      dates.forEach(function (d) { d.hidden = !custom; d.querySelector('input').disabled = !custom; });
    }
    range.addEventListener('change', sync);
    sync();
    // Empty fields stay out of the URL, so shared links carry only the filter that is set.
    range.form.addEventListener('submit', function () {
      range.form.querySelectorAll('select, input').forEach(function (el) { if (!el.value) el.disabled = true; });
    });
  }

  // Live updates: a cheap poll of the store's counters; when findings arrive, the page's main content is
  // fetched again (same URL, same filter) and swapped in, so the view stays current without a reload.
  // Once the page is leaving (a form such as logout submitted, a link followed), polling stops: a poll
  // answered 401 after logout would otherwise start a second navigation and abort the first.
  var last = null;
  var leaving = false;
  document.addEventListener('submit', function (e) { if (!e.defaultPrevented) leaving = true; });
  window.addEventListener('pagehide', function () { leaving = true; });
  function poll() {
    if (leaving) return;
    fetch('/ui/api/pulse', { credentials: 'same-origin', headers: { accept: 'application/json' } })
      .then(function (r) {
        if (leaving) return null;
        if (r.status === 401) { location.href = '/ui/login?next=' + encodeURIComponent(location.pathname + location.search); return null; }
        return r.ok ? r.json() : null;
      })
      .then(function (p) {
        if (!p) return;
        var key = p.events + '/' + p.findings + '/' + p.last;
        if (last !== null && key !== last) refresh(p);
        last = key;
      })
      .catch(function () {});
  }

  function refresh(p) {
    fetch(location.href, { credentials: 'same-origin' })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (text) {
        if (!text) return;
        var doc = new DOMParser().parseFromString(text, 'text/html');
        var next = doc.getElementById('main');
        var cur = document.getElementById('main');
        if (!next || !cur) return;
        cur.innerHTML = next.innerHTML;
        var live = document.getElementById('live');
        if (live) live.textContent = 'Updated ' + new Date().toISOString().slice(11, 19) + ' UTC: new data arrived (' +
          p.findings.toLocaleString('en-US') + ' findings in the store) · updates automatically';
        drawCharts();
      })
      .catch(function () {});
  }

  document.addEventListener('DOMContentLoaded', function () {
    drawCharts();
    wireFilters();
    window.addEventListener('resize', function () { charts.forEach(function (c) { c.resize(); }); });
    var ms = Number(document.body.getAttribute('data-poll') || '0');
    if (ms > 0) { poll(); setInterval(poll, ms); }
  });
})();
`;
