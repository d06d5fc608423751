/**
 * The HTML report in a real browser (Debian's Chromium through playwright-core): it loads from a file with the
 * network cut off, logs no console errors, shows its headings and charts, and fits a phone's width.
 * Screenshots go to test-artifacts/ (git-ignored) for a human to look at.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { analyze, collect, parsePrices } from '../analytics/index.ts';
import { loadDemo, planDemo, pricesCsv } from '../demo/index.ts';
import { openStore } from '../store/index.ts';
import { CHROMIUM, CHROMIUM_ARGS, chromiumSkip } from '../util/test-helpers/chromium.ts';
import { renderHtml } from './html.ts';

const ARTIFACTS = new URL('../../test-artifacts/', import.meta.url);

const skip = chromiumSkip;

test('the report opens offline in headless Chromium without console errors, on desktop and phone widths', {
  skip,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'minewatch-browser-'));
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS,
  });
  try {
    // A small demo fleet: every section of the report has real content.
    const store = await openStore(join(dir, 'demo.db'));
    const plan = planDemo({ hosts: 400 });
    let html: string;
    try {
      await loadDemo(store, { plan });
      html = renderHtml(analyze(await collect(store, { prices: parsePrices(pricesCsv(plan)).table })), {
        title: 'minewatch demo report',
      });
    } finally {
      await store.close();
    }
    mkdirSync(ARTIFACTS, { recursive: true });
    const file = new URL('report.html', ARTIFACTS);
    writeFileSync(file, html);

    for (const [name, width, height] of [
      ['desktop', 1280, 900],
      ['phone', 390, 844],
    ] as const) {
      const page = await browser.newPage({ viewport: { width, height } });
      const problems: string[] = [];
      const requests: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
      });
      page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
      await page.route('**/*', (route) => {
        const url = route.request().url();
        if (url.startsWith('file:')) return route.continue();
        requests.push(url);
        return route.abort();
      });
      await page.goto(pathToFileURL(file.pathname).href, { waitUntil: 'load' });
      for (const h of [
        'Summary',
        'Coins',
        'Pools',
        'Ports',
        'Daily activity',
        'Spikes',
        'Correlations',
        'Campaigns',
      ])
        assert.ok(
          await page.getByRole('heading', { name: h, exact: true }).isVisible(),
          `${name}: heading ${h}`,
        );
      const charts = await page.locator('figure.chart svg').evaluateAll((els) =>
        els.map((e) => {
          const r = e.getBoundingClientRect();
          return { w: r.width, h: r.height, label: e.getAttribute('aria-label') ?? '' };
        }),
      );
      assert.ok(charts.length >= 10, `${name}: ${charts.length} charts`);
      for (const c of charts) {
        assert.ok(c.w > 100 && c.h > 50, `${name}: chart ${c.label} is ${c.w}x${c.h}`);
        assert.ok(c.w <= width, `${name}: chart ${c.label} wider than the screen`);
      }
      // Nothing sticks out sideways on a phone: only tables scroll, inside their own box.
      // Runs in the page: globals reached through globalThis, since this file is type-checked without the DOM lib.
      const overflow = await page.evaluate(() => {
        const g = globalThis as unknown as {
          document: { documentElement: { scrollWidth: number } };
          innerWidth: number;
        };
        return g.document.documentElement.scrollWidth - g.innerWidth;
      });
      assert.ok(overflow <= 1, `${name}: page is ${overflow}px wider than the viewport`);
      assert.match((await page.locator('#summary .headline').textContent()) ?? '', /infected host/);
      await page.screenshot({
        path: new URL(`report-${name}.png`, ARTIFACTS).pathname,
        fullPage: name !== 'phone',
      });
      assert.deepEqual(problems, [], `${name}: console problems`);
      assert.deepEqual(requests, [], `${name}: network requests`);
      await page.close();
    }
  } finally {
    await browser.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
