/**
 * Charts as static SVG strings, drawn by ECharts' server-side renderer (no DOM, no browser): the report is one
 * file that opens offline. Readable without colour: every bar carries its value as a label, every line its name
 * at its end plus its own dash pattern and symbol, spikes are pinned with their date, and bars get ECharts'
 * decal patterns.
 */
import * as echarts from 'echarts';
import type { Analysis } from '../analytics/index.ts';
import type { Series } from '../analytics/series.ts';
import type { Spike } from '../analytics/spikes.ts';

export interface Chart {
  id: string;
  title: string;
  /** One sentence saying what the chart shows, for screen readers and captions. */
  alt: string;
  svg: string;
}

const DASHES = ['solid', 'dashed', 'dotted', [8, 3, 2, 3], [2, 6], [12, 4]] as const;
const SYMBOLS = ['circle', 'rect', 'triangle', 'diamond', 'pin', 'arrow'] as const;
const FONT = { fontFamily: 'system-ui, sans-serif', fontSize: 12 };

function escapeAttr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}

/** Renders one option to SVG and frees the chart (ECharts keeps timers alive otherwise). */
export function renderSvg(option: echarts.EChartsOption, width: number, height: number, alt: string): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width, height });
  try {
    chart.setOption({
      animation: false,
      textStyle: FONT,
      aria: { enabled: true, decal: { show: true } },
      ...option,
    });
    const svg = chart.renderToSVGString();
    return svg.replace('<svg ', `<svg role="img" aria-label="${escapeAttr(alt)}" `);
  } finally {
    chart.dispose();
  }
}

const pct = (x: number) => `${(x * 100).toFixed(x < 0.1 ? 1 : 0)}%`;
const fmt = (n: number) => n.toLocaleString('en-US');

/** A ranked horizontal bar chart with value labels (largest on top). */
function rankBars(
  id: string,
  title: string,
  rows: { name: string; value: number; label: string }[],
  axisName: string,
): Chart {
  const shown = rows.slice(0, 10).reverse();
  const height = 70 + shown.length * 30;
  const alt = `${title}: ${rows
    .slice(0, 5)
    .map((r) => `${r.name} ${r.label}`)
    .join('; ')}`;
  const svg = renderSvg(
    {
      grid: { left: 8, right: 110, top: 30, bottom: 24, containLabel: true },
      xAxis: {
        type: 'value',
        name: axisName,
        nameLocation: 'middle',
        nameGap: 22,
        axisLabel: { hideOverlap: true },
      },
      yAxis: {
        type: 'category',
        data: shown.map((r) => r.name),
        axisLabel: { width: 170, overflow: 'truncate' },
      },
      series: [
        {
          type: 'bar',
          data: shown.map((r) => r.value),
          barMaxWidth: 22,
          label: {
            show: true,
            position: 'right',
            formatter: (p) => shown[p.dataIndex]?.label ?? '',
            color: '#111',
          },
        },
      ],
    },
    720,
    height,
    alt,
  );
  return { id, title, alt, svg };
}

export function coinChart(a: Analysis): Chart | null {
  if (!a.coins.length) return null;
  return rankBars(
    'chart-coins',
    'Coin share of mining hosts',
    a.coins.map((c) => ({ name: c.coin, value: c.hosts, label: `${pct(c.share)} · ${fmt(c.hosts)} hosts` })),
    'hosts',
  );
}

export function poolChart(a: Analysis): Chart | null {
  if (!a.pools.length) return null;
  return rankBars(
    'chart-pools',
    'Pools ranked by affected hosts',
    a.pools.map((p) => ({ name: p.pool, value: p.hosts, label: `${pct(p.share)} · ${fmt(p.hosts)}` })),
    'hosts',
  );
}

export function portChart(a: Analysis): Chart | null {
  if (!a.ports.length) return null;
  return rankBars(
    'chart-ports',
    'Destination ports ranked by flows',
    a.ports.map((p) => ({
      name: String(p.port),
      value: p.flows,
      label: `${pct(p.share)} · ${fmt(p.flows)}`,
    })),
    'flows',
  );
}

export function infectionChart(a: Analysis): Chart | null {
  if (!a.infection_types.length) return null;
  return rankBars(
    'chart-infection',
    'Infection type per infected host',
    a.infection_types.map((t) => ({
      name: t.type,
      value: t.hosts,
      label: `${pct(t.share)} · ${fmt(t.hosts)}`,
    })),
    'hosts',
  );
}

/** Daily lines with a distinct dash and symbol each, named at their end, spikes pinned with their date. */
export function linesChart(
  id: string,
  title: string,
  series: readonly Series[],
  spikes: readonly Spike[],
): Chart | null {
  if (!series.length || !series[0]!.points.length) return null;
  const dates = series[0]!.points.map((p) => p.date);
  const sp = spikes.filter((s) => series.some((x) => x.name === s.series));
  const alt = `${title}, ${dates[0]} to ${dates[dates.length - 1]}: ${series.map((s) => s.name).join(', ')}${
    sp.length ? `; spikes: ${sp.map((s) => `${s.series} on ${s.date}`).join(', ')}` : '; no spikes'
  }`;
  const svg = renderSvg(
    {
      grid: { left: 8, right: 190, top: 36, bottom: 58, containLabel: true },
      legend: { bottom: 0, itemWidth: 28, textStyle: FONT },
      xAxis: { type: 'category', data: dates, axisLabel: { hideOverlap: true } },
      yAxis: { type: 'value', name: series[0]!.unit, axisLabel: { hideOverlap: true } },
      series: series.map((s, i) => ({
        type: 'line',
        name: s.name,
        data: s.points.map((p) => p.value),
        showSymbol: true,
        symbol: SYMBOLS[i % SYMBOLS.length],
        symbolSize: 4,
        // A symbol every few weeks is enough to tell lines apart without colour.
        showAllSymbol: false,
        lineStyle: { width: 1.5, type: DASHES[i % DASHES.length] as 'solid' },
        endLabel: { show: true, formatter: s.name, width: 180, overflow: 'truncate', color: '#111' },
        markPoint: {
          symbol: 'pin',
          symbolSize: 26,
          label: {
            position: 'top',
            formatter: (p: { name?: string }) => `spike ${p.name ?? ''}`,
            fontSize: 11,
            color: '#111',
            backgroundColor: '#fff',
          },
          data: sp
            .filter((x) => x.series === s.name)
            .map((x) => ({ name: x.date.slice(5), coord: [x.date, x.value], value: x.value })),
        },
      })),
    },
    760,
    360,
    alt,
  );
  return { id, title, alt, svg };
}

/** Correlogram: r at each lag, the best one labelled. */
export function lagChart(c: Analysis['correlations'][number], id: string): Chart {
  const title = `${c.a} vs ${c.b}: r by lag on daily ${c.lag_on ?? c.on}`;
  const alt = `${title}: best lag ${c.lag_days} days, r = ${c.r.toFixed(2)}, p = ${c.p.toExponential(1)}`;
  const svg = renderSvg(
    {
      grid: { left: 8, right: 16, top: 30, bottom: 30, containLabel: true },
      xAxis: {
        type: 'category',
        name: 'lag (days, b after a)',
        nameLocation: 'middle',
        nameGap: 22,
        data: c.by_lag.map((x) => String(x.lag)),
        axisLabel: { hideOverlap: true },
      },
      yAxis: { type: 'value', min: -1, max: 1, name: 'r' },
      series: [
        {
          type: 'bar',
          data: c.by_lag.map((x) => ({
            value: x.r,
            label: {
              show: x.lag === c.lag_days,
              position: x.r >= 0 ? 'top' : 'bottom',
              formatter: `best: lag ${c.lag_days}, r ${c.r.toFixed(2)}`,
              color: '#111',
            },
          })),
          barMaxWidth: 16,
        },
      ],
    },
    560,
    240,
    alt,
  );
  return { id, title, alt, svg };
}

/** Price against mining heat on two axes (USD left, hosts right). */
export function priceChart(price: Series, heat: Series, id: string): Chart | null {
  if (!price.points.length) return null;
  const dates = price.points.map((p) => p.date);
  const h = new Map(heat.points.map((p) => [p.date, p.value]));
  const title = `${price.name} vs ${heat.name}`;
  const alt = `${title}: price in USD (solid line, left axis) and hosts mining it (dashed line, right axis)`;
  const svg = renderSvg(
    {
      grid: { left: 8, right: 16, top: 40, bottom: 58, containLabel: true },
      legend: { bottom: 0, itemWidth: 28 },
      xAxis: { type: 'category', data: dates, axisLabel: { hideOverlap: true } },
      yAxis: [
        { type: 'value', name: 'USD', scale: true },
        { type: 'value', name: 'hosts', splitLine: { show: false } },
      ],
      series: [
        {
          type: 'line',
          name: `${price.name} (USD, left axis)`,
          data: price.points.map((p) => p.value),
          symbol: 'none',
          lineStyle: { width: 2, type: 'solid' },
        },
        {
          type: 'line',
          name: `${heat.name} (hosts, right axis)`,
          yAxisIndex: 1,
          data: dates.map((d) => h.get(d) ?? 0),
          symbol: 'none',
          lineStyle: { width: 2, type: 'dashed' },
        },
      ],
    },
    760,
    300,
    alt,
  );
  return { id, title, alt, svg };
}
