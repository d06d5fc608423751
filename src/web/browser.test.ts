/**
 * The dashboard end to end in real headless Chromium (Debian's, through playwright-core) against `serve`'s
 * server on loopback with a small demo fleet: refused without login, log in, overview with charts, live update
 * when a finding arrives, filter by coin (kept by every link), host page, campaign, intel search, blocklist
 * download, phone width, log out; no console errors. Screenshots go to test-artifacts/ (git-ignored).
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadDemo, planDemo } from '../demo/index.ts';
import { startServer } from '../server/app.ts';
import { openStore } from '../store/index.ts';
import { CHROMIUM, CHROMIUM_ARGS, chromiumSkip } from '../util/test-helpers/chromium.ts';

const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));
const ADMIN = 'dashboard-test-admin-token-0123456789';

/** The page's globals, typed here because the project compiles without the DOM library. */
type Doc = {
  document: {
    getElementById(id: string): { textContent: string | null } | null;
    documentElement: { scrollWidth: number };
  };
  innerWidth: number;
};

const skip = chromiumSkip;

test('dashboard: login, overview, live update, coin filter, host, campaign, intel, blocklist, phone', {
  skip,
  timeout: 180_000,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'minewatch-ui-'));
  mkdirSync(ARTIFACTS, { recursive: true });
  const store = await openStore(join(dir, 'demo.db'));
  await loadDemo(store, { plan: planDemo({ hosts: 200 }) });
  process.env.MINEWATCH_UI_POLL_MS = '400';
  // The demo fleet is dated 2018: no retention horizon, so the live event below (2018 too) is taken.
  const srv = await startServer({
    store,
    listen: '127.0.0.1:0',
    adminToken: ADMIN,
    rateLimit: 0,
    maxAgeMs: Number.POSITIVE_INFINITY,
  });
  delete process.env.MINEWATCH_UI_POLL_MS;
  const { chromium } = await import('playwright-core');
  const ctx = await chromium.launchPersistentContext(join(dir, 'profile'), {
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS,
    viewport: { width: 1366, height: 800 },
    acceptDownloads: true,
  });
  const errors: string[] = [];
  const watch = (p: import('playwright-core').Page) => {
    p.on('console', (m) => {
      if (m.type() === 'error') errors.push(`${p.url()}: ${m.text()}`);
    });
    p.on('pageerror', (e) => errors.push(`${p.url()}: ${e.message}`));
  };
  try {
    const page = ctx.pages()[0] ?? (await ctx.newPage());
    watch(page);
    const u = srv.url;

    // Refused without a session: the API answers 401, the page sends the browser to the login form.
    assert.equal((await page.request.get(`${u}/ui/api/overview`)).status(), 401);
    assert.equal((await page.request.get(`${u}/ui/api/hosts`)).status(), 401);
    await page.goto(`${u}/ui/hosts`);
    assert.match(page.url(), /\/ui\/login\?next=%2Fui%2Fhosts$/);
    await page.fill('#token', 'wrong-token');
    await page.click('button[type=submit]');
    assert.match((await page.textContent('[role=alert]')) ?? '', /not a valid admin token/);

    // Log in: back to where we were going, with an HttpOnly SameSite=Strict cookie.
    await page.fill('#token', ADMIN);
    await Promise.all([page.waitForURL(/\/ui\/hosts$/), page.click('button[type=submit]')]);
    const cookie = (await ctx.cookies()).find((c) => c.name === 'mw_session');
    assert.ok(
      cookie?.httpOnly && cookie.sameSite === 'Strict',
      'session cookie is HttpOnly and SameSite=Strict',
    );

    // Overview: numbers, charts drawn, spikes explained.
    await page.click('nav >> text=Overview');
    await page.waitForSelector('[data-chart="chart-trend"] canvas');
    // The whole demo year: its planted waves show as spikes, each explained by that day's findings.
    await page.selectOption('#f-range', 'all');
    await Promise.all([page.waitForURL(/range=all/), page.click('.filters button[type=submit]')]);
    await page.waitForSelector('[data-chart="chart-trend"] canvas');
    assert.match(
      (await page.textContent('.spikes')) ?? '',
      /SPIKE \d{4}-\d{2}-\d{2}[\s\S]*findings on \d+ hosts/,
    );
    assert.match((await page.textContent('.kpis')) ?? '', /hosts mining now/);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-overview-desktop.png'), fullPage: true });

    // Live: a new finding sent through the API shows up without a reload.
    const before = await page.textContent('#live');
    const res = await fetch(`${u}/api/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/x-ndjson' },
      body: `${JSON.stringify({ id: 'live-1', type: 'finding', host: 'web-eu1-09999', time: '2018-09-30T23:50:00Z', finding: { rule: 'net.pool.connection', title: 'connection to mining pool', severity: 'high', coin: 'XMR', pool: { host: 'pool.live.example', port: 3333 } } })}\n`,
    });
    assert.equal(res.status, 200);
    await page.waitForFunction(
      (b) => (globalThis as unknown as Doc).document.getElementById('live')?.textContent !== b,
      before,
      {
        timeout: 10_000,
      },
    );
    assert.match((await page.textContent('#live')) ?? '', /Updated .* new data arrived/);

    // Filter by coin: the URL carries it and every navigation link keeps it.
    await page.selectOption('#f-coin', 'XMR');
    await Promise.all([page.waitForURL(/coin=XMR/), page.click('.filters button[type=submit]')]);
    for (const href of await page.$$eval('nav a', (as) => as.map((a) => a.getAttribute('href') ?? '')))
      assert.match(href, /coin=XMR/, `nav link ${href} keeps the filter`);

    // Hosts: sortable, searchable; open the first host.
    await page.click('nav >> text=Hosts');
    await page.waitForSelector('table.hosts tbody tr');
    assert.match(page.url(), /coin=XMR/);
    await page.click('th >> text=Findings');
    await page.waitForURL(/sort=findings/);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-hosts-desktop.png') });
    await Promise.all([
      page.waitForURL(/\/ui\/hosts\/[^?]+\?.*coin=XMR/),
      page.click('table.hosts tbody tr:first-child td:first-child a'),
    ]);
    await page.waitForSelector('[data-chart="chart-timeline"] canvas');
    assert.match((await page.textContent('main')) ?? '', /Cleanup plan/);
    assert.match((await page.textContent('main')) ?? '', /Findings \(\d+\)/);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-host-desktop.png') });

    // Campaigns: follow one to the hosts behind it.
    await page.click('nav >> text=Campaigns');
    await page.waitForSelector('a.campaign');
    await Promise.all([page.waitForURL(/\/ui\/campaigns\/\w+\?/), page.click('a.campaign >> nth=0')]);
    assert.match(page.url(), /coin=XMR/);
    const rows = await page.$$('main table tbody tr');
    assert.ok(rows.length >= 2, 'a campaign links two or more hosts');
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-campaign-desktop.png') });

    // Intel: search the pool base, see sources, download a blocklist.
    await page.click('nav >> text=Intel');
    await page.fill('#iq', 'nanopool');
    await Promise.all([page.waitForURL(/q=nanopool/), page.click('form.search button')]);
    assert.match((await page.textContent('main')) ?? '', /nanopool\.org/);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-intel-desktop.png') });
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.click('a[href^="/ui/intel/blocklist/hosts"]'),
    ]);
    const file = join(dir, download.suggestedFilename());
    await download.saveAs(file);
    assert.match(download.suggestedFilename(), /^minewatch-hosts-xmr\.hosts$/);
    assert.match(readFileSync(file, 'utf8'), /^0\.0\.0\.0 \S+/m);

    // Phone width: no sideways scrolling of the page, tables scroll inside their box.
    const phone = await ctx.newPage();
    watch(phone);
    await phone.setViewportSize({ width: 390, height: 844 });
    for (const [name, path] of [
      ['overview', '/ui/'],
      ['hosts', '/ui/hosts'],
    ] as const) {
      await phone.goto(`${u}${path}`);
      await phone.waitForLoadState('load');
      if (name === 'overview') await phone.waitForSelector('[data-chart="chart-trend"] canvas');
      const overflow = await phone.evaluate(
        () =>
          (globalThis as unknown as Doc).document.documentElement.scrollWidth -
          (globalThis as unknown as Doc).innerWidth,
      );
      assert.ok(overflow <= 1, `${name} fits a phone's width (overflow ${overflow}px)`);
      await phone.screenshot({
        path: join(ARTIFACTS, `dashboard-${name}-phone.png`),
        fullPage: name === 'overview',
      });
    }
    await phone.close();

    // Log out: the session is gone, pages send us back to the login form.
    await Promise.all([page.waitForURL(/\/ui\/login$/), page.click('.logout button')]);
    await page.goto(`${u}/ui/campaigns`);
    assert.match(page.url(), /\/ui\/login/);
    assert.equal((await page.request.get(`${u}/ui/api/pulse`)).status(), 401);
    assert.deepEqual(errors, []);
  } finally {
    await ctx.close();
    await srv.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
