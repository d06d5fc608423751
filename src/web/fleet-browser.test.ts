/**
 * The fleet-response part of the host page in real headless Chromium against the server on loopback: an
 * agent on a fixture root (fake processes) reports its plan; the admin approves it on the host page, watches
 * the outcome arrive without reloading, and requests the restore; a form posted without the session's CSRF
 * token is refused. Screenshots go to test-artifacts/ (git-ignored).
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { buildCase } from '../../test/fixtures/hosts/build.ts';
import { fleetAgent } from '../agent/fleet-hooks.ts';
import { runAgent } from '../agent/index.ts';
import { fakeProcesses } from '../respond/cleanup/test-helpers/fakeproc.ts';
import { diff, snapshot } from '../respond/cleanup/test-helpers/snapshot.ts';
import { startServer } from '../server/app.ts';
import { newToken } from '../server/tokens.ts';
import { DuckDBStore } from '../store/duckdb.ts';
import { CHROMIUM, CHROMIUM_ARGS, chromiumSkip } from '../util/test-helpers/chromium.ts';

const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));
const ADMIN = 'fleet-ui-test-admin-token-0123456789';

test('host page: approve the agent’s plan, watch the outcome, restore', {
  skip: chromiumSkip,
  timeout: 240_000,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'minewatch-fleet-ui-'));
  mkdirSync(ARTIFACTS, { recursive: true });
  const root = buildCase('kinsing', join(dir, 'root'));
  const store = await DuckDBStore.open(join(dir, 'fleet.db'));
  const tok = newToken('web01', false);
  await store.putToken(tok.record);
  process.env.MINEWATCH_UI_POLL_MS = '300';
  const srv = await startServer({
    store,
    listen: '127.0.0.1:0',
    adminToken: ADMIN,
    rateLimit: 0,
    closeStore: false,
    fleet: { intel: false, refreshMs: 0 },
  });
  delete process.env.MINEWATCH_UI_POLL_MS;
  const control = fakeProcesses(root);
  const agentOnce = async () => {
    const fa = await fleetAgent({
      server: srv.url,
      token: tok.token,
      remoteClean: {
        root,
        journalDir: join(dir, 'journal'),
        quarantineDir: join(dir, 'quarantine'),
        control,
      },
    });
    const r = await runAgent({
      server: srv.url,
      token: tok.token,
      root,
      once: true,
      deliverMs: 20_000,
      spoolDir: join(dir, 'spool'),
      hooks: fa.hooks,
      scan: async ({ root: r }) => {
        const { scanHost } = await import('../detect/host/index.ts');
        return (await scanHost({ root: r, live: false })) as never;
      },
    });
    assert.equal(r.pending, 0);
  };
  const { chromium } = await import('playwright-core');
  const ctx = await chromium.launchPersistentContext(join(dir, 'profile'), {
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS,
    viewport: { width: 1366, height: 900 },
  });
  const errors: string[] = [];
  try {
    await agentOnce();
    const before = snapshot(root);
    const page = ctx.pages()[0] ?? (await ctx.newPage());
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    const u = srv.url;
    await page.goto(`${u}/ui/hosts/web01`);
    await page.fill('#token', ADMIN);
    await Promise.all([page.waitForURL(/\/ui\/hosts\/web01$/), page.click('button[type=submit]')]);
    const main = async () => (await page.textContent('main')) ?? '';
    assert.match(await main(), /Response/);
    assert.match(await main(), /Not enforcing/);
    const boxes = await page.$$('form.approve input[type=checkbox]');
    assert.ok(boxes.length >= 6, `the agent's plan has its steps (${boxes.length})`);

    // A form posted without the session's CSRF token (as a forged cross-site post would be) is refused.
    const forged = await page.request.post(`${u}/ui/hosts/web01/approve`, {
      form: { [`step_${'0'.repeat(64)}`]: '1' },
      headers: { origin: u },
    });
    assert.equal(forged.status(), 403);

    // Approve: the approval appears as pending, recorded under the session's name.
    await Promise.all([page.waitForURL(/flash=approved/), page.click('#approve-plan')]);
    assert.match(await main(), /Cleanup approved as ap-/);
    await page.waitForSelector('tr[data-state="pending"]');
    await page.screenshot({ path: join(ARTIFACTS, 'fleet-host-approved.png'), fullPage: true });

    // The agent comes by: the page updates itself with the outcome (no reload).
    await agentOnce();
    await page.waitForSelector('tr[data-state="complete"]', { timeout: 30_000 });
    const row = (await page.textContent('tr[data-state="complete"]')) ?? '';
    assert.match(row, /rescan: clean/);
    assert.match(row, /journal \d{8}T\d{6}Z-[0-9a-f]{6}/);
    assert.equal(await page.$$eval('[data-step-status="done"]', (x) => x.length), boxes.length);
    await page.screenshot({ path: join(ARTIFACTS, 'fleet-host-cleaned.png'), fullPage: true });
    assert.notEqual(diff(before, snapshot(root)), '');

    // Restore from the journal list; the agent restores; the page shows it; the root is as it was.
    await Promise.all([page.waitForURL(/flash=restore/), page.click('li[data-journal] button')]);
    assert.match(await main(), /Restore requested as ap-/);
    await agentOnce();
    await page.waitForSelector('li[data-journal] .badge', { timeout: 30_000 });
    assert.match((await page.textContent('li[data-journal]')) ?? '', /restored/);
    assert.equal(diff(before, snapshot(root)), '');
    await page.screenshot({ path: join(ARTIFACTS, 'fleet-host-restored.png'), fullPage: true });

    // The host page shows the audit trail; the store has it with the dashboard user as the approver.
    const trail = await page.$$eval('tr[data-audit]', (rows) =>
      rows.map((r) => r.getAttribute('data-audit')),
    );
    for (const a of ['approve', 'result', 'restore-request'])
      assert.ok(trail.includes(a), `${a} in ${trail.join(',')}`);
    const audit = await store.audit({ host: 'web01' });
    assert.equal(audit.find((a) => a.action === 'approve')?.actor, 'admin');
    assert.ok(audit.some((a) => a.action === 'restore-request'));
    assert.deepEqual(errors, []);
  } finally {
    await ctx.close();
    await srv.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
