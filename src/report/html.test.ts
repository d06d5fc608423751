import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Analysis, analyze } from '../analytics/index.ts';
import { emptyInput } from '../analytics/test-helpers/input.ts';
import { renderHtml } from './html.ts';
import { renderMarkdown } from './markdown.ts';
import { summarize } from './summary.ts';
import { sampleAnalysis } from './test-helpers/sample.ts';

const empty: Analysis = analyze(emptyInput());

test('the HTML report is one self-contained file with every section and its charts', () => {
  const a = sampleAnalysis();
  const html = renderHtml(a, { title: 'T <&>' });
  assert.match(html, /^<!doctype html>/);
  assert.ok(html.includes('<title>T &lt;&amp;&gt;</title>'));
  for (const h of [
    'Summary',
    'Coins',
    'Pools',
    'Ports',
    'Daily activity',
    'Spikes',
    'Correlations',
    'Price vs mining',
    'Infection types',
    'Intrusion vectors',
    'Campaigns',
  ])
    assert.ok(html.includes(`>${h}</h2>`), h);
  for (const id of [
    'chart-coins',
    'chart-pools',
    'chart-ports',
    'chart-series-new',
    'chart-corr-0',
    'chart-price-0',
  ])
    assert.ok(html.includes(`id="${id}"`), id);
  // Offline: nothing fetched, nothing run.
  assert.ok(!/<script|<link|src="http|href="http|@import|url\(http/i.test(html));
  // Every chart says what it shows in words.
  const svgs = html.match(/<svg [^>]*>/g) ?? [];
  assert.ok(svgs.length >= 8);
  for (const s of svgs) assert.match(s, /role="img" aria-label="[^"]+"/);
  // Spikes are pinned on the chart with their date.
  assert.ok(html.includes('01-10'));
});

test('data from telemetry is escaped', () => {
  const a = sampleAnalysis();
  a.pools[0]!.pool = '<img src=x onerror=alert(1)>';
  a.campaigns[0]!.key = '"><script>alert(1)</script>';
  const html = renderHtml(a);
  assert.ok(!html.includes('<img src=x'));
  assert.ok(!html.includes('<script>alert'));
});

test('an empty analysis renders a sensible report', () => {
  const html = renderHtml(empty);
  assert.ok(html.includes('No events in the selected range'));
  assert.ok(!/NaN|undefined/.test(html));
  const md = renderMarkdown(empty);
  assert.ok(md.includes('_None in this range._'));
  assert.deepEqual(summarize(empty).changes, []);
});

test('the summary says what changed and what to do', () => {
  const s = summarize(sampleAnalysis());
  assert.match(s.headline, /infected host/);
  assert.ok(
    s.changes.some((c) => /Spike on 2018-01-10/.test(c) && /SSH brute force/.test(c)),
    s.changes.join('\n'),
  );
  assert.ok(s.actions.some((x) => /minewatch block/.test(x)));
  assert.ok(s.actions.some((x) => /SSH password/.test(x)));
});

test('markdown carries the same tables', () => {
  const md = renderMarkdown(sampleAnalysis());
  for (const h of ['## Coins', '## Pools', '## Spikes', '## Campaigns']) assert.ok(md.includes(h), h);
  assert.ok(md.includes('| new:cpuminer-multi | 2018-01-10 |'));
});
