/**
 * Approved cleanup end to end on loopback: agents scan fixture roots (fake processes, never this machine's),
 * report their plans; an admin approves; the agent cleans under a journal, the rescan is clean, and an
 * approved restore brings the root back byte for byte. Approvals for another host, expired ones and steps
 * whose file changed since the approval are refused or skipped, and each is reported and audited; a failed
 * step stops the run and leaves a journal that restores.
 */
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildCase } from '../../test/fixtures/hosts/build.ts';
import { fakeProcesses } from '../respond/cleanup/test-helpers/fakeproc.ts';
import { diff, snapshot } from '../respond/cleanup/test-helpers/snapshot.ts';
import { type RunningServer, startServer } from '../server/app.ts';
import type { Approval } from '../server/fleet-service.ts';
import { newToken } from '../server/tokens.ts';
import { ClickHouseStore } from '../store/clickhouse.ts';
import { DuckDBStore } from '../store/duckdb.ts';
import { freePort, testClickHouse, uniqueDb } from '../store/testkit.ts';
import type { Store } from '../store/types.ts';
import { fleetAgent } from './fleet-hooks.ts';
import { runAgent } from './index.ts';

const dir = mkdtempSync(join(tmpdir(), 'mw-fleet-clean-'));
const ADMIN = 'mw-admin-token-for-the-clean-test-0123456789';
let store: Store;
let engine = 'duckdb';
let srv: RunningServer;
const tokens: Record<string, string> = {};

async function setUp(name: string, open: () => Promise<Store>): Promise<void> {
  engine = name;
  store = await open();
  for (const h of ['web01', 'cache01', 'web01-fail']) {
    const t = newToken(h, false);
    await store.putToken(t.record);
    tokens[h] = t.token;
  }
  srv = await startServer({
    store,
    adminToken: ADMIN,
    listen: `127.0.0.1:${await freePort()}`,
    closeStore: false,
    fleet: { intel: false, refreshMs: 0 },
  });
}
async function tearDown(): Promise<void> {
  await srv.close();
  if (store instanceof ClickHouseStore) await store.dropDatabase();
  await store.close();
}
after(() => rmSync(dir, { recursive: true, force: true }));

async function api(
  path: string,
  opts: { method?: string; token?: string; body?: unknown } = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${srv.url}${path}`, {
    method: opts.method ?? (opts.body !== undefined ? 'POST' : 'GET'),
    headers: {
      authorization: `Bearer ${opts.token ?? ADMIN}`,
      ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/** One agent run (once) with remote clean on a fixture root; the token decides which host it speaks for. */
async function agentOnce(
  name: string,
  root: string,
  token: string,
  control = fakeProcesses(root),
): Promise<void> {
  const fa = await fleetAgent({
    server: srv.url,
    token,
    remoteClean: {
      root,
      journalDir: join(dir, engine, name, 'journal'),
      quarantineDir: join(dir, engine, name, 'quarantine'),
      control,
    },
  });
  const r = await runAgent({
    server: srv.url,
    token,
    root,
    once: true,
    deliverMs: 20_000,
    spoolDir: join(dir, engine, name, 'spool'),
    hooks: fa.hooks,
    scan: async ({ root: r }) => {
      const { scanHost } = await import('../detect/host/index.ts');
      return (await scanHost({ root: r, live: false })) as never;
    },
  });
  assert.equal(r.pending, 0);
}

const approvalsOf = async (host: string) =>
  (await api(`/api/v1/fleet/hosts/${host}`)).body as {
    plan: { steps: Array<{ hash: string; path?: string; kind: string }>; verdict: string } | null;
    approvals: Approval[];
    journals: Array<{ journal: string; restored: boolean }>;
  };

function suite(name: string, open: () => Promise<Store>, skip?: string): void {
  describe(name, { skip: skip ?? false }, () => {
    before(() => setUp(name, open));
    after(() => tearDown());
    test('approve → the agent cleans its fixture root → rescan clean → approved restore brings it back', async () => {
      const root = buildCase('kinsing', join(dir, engine, 'web01', 'root'));
      const rootB = buildCase('redis', join(dir, engine, 'cache01', 'root'));
      // Before an agent reported a plan, there is nothing to approve.
      assert.equal((await api('/api/v1/fleet/hosts/web01/approvals', { body: {} })).status, 409);
      await agentOnce('web01', root, tokens.web01!);
      await agentOnce('cache01', rootB, tokens.cache01!);
      const h0 = await approvalsOf('web01');
      assert.equal(h0.plan?.verdict, 'infected');
      const dsh = h0.plan!.steps.find((s) => s.path === '/tmp/d.sh')!;
      assert.ok(dsh, JSON.stringify(h0.plan));

      // A token reports only for its own host; admin tokens are not agents.
      const lie = await api('/api/v1/agent/plan', {
        token: tokens.web01,
        body: { host: 'cache01', steps: [] },
      });
      assert.equal(lie.status, 403);
      assert.equal((await api('/api/v1/agent/approvals')).status, 403);
      // Agent tokens cannot approve, nor see the admin views.
      assert.equal(
        (await api('/api/v1/fleet/hosts/web01/approvals', { token: tokens.web01, body: {} })).status,
        403,
      );
      assert.equal((await api('/api/v1/audit', { token: tokens.web01 })).status, 403);

      // 1. An approval that expires before the agent comes: never carried out, reported as expired.
      const expired = (await api('/api/v1/fleet/hosts/web01/approvals', { body: { ttl_s: 0.001 } }))
        .body as unknown as Approval;
      await new Promise((r) => setTimeout(r, 20));
      // 2. An approval for another host: web01's agent never sees it, and cannot answer for it.
      const other = (await api('/api/v1/fleet/hosts/cache01/approvals', { body: {} }))
        .body as unknown as Approval;
      const seen = await api('/api/v1/agent/approvals', { token: tokens.web01 });
      assert.deepEqual(
        (seen.body.approvals as Approval[]).map((a) => a.id),
        [],
        'only pending approvals of its own host',
      );
      const forged = await api(`/api/v1/agent/approvals/${other.id}/result`, {
        token: tokens.web01,
        body: { status: 'complete', steps: [] },
      });
      assert.equal(forged.status, 404);
      // And an agent handed one anyway (a compromised server) refuses it itself.
      const fa = await fleetAgent({
        server: srv.url,
        token: tokens.web01!,
        remoteClean: {
          root,
          journalDir: join(dir, engine, 'x', 'j'),
          quarantineDir: join(dir, engine, 'x', 'q'),
        },
      });
      const refused = await fa.cleaner!.handle('web01', { ...other });
      assert.equal(refused.status, 'refused');
      assert.match(refused.error ?? '', /for cache01/);
      const stale = await fa.cleaner!.handle('web01', { ...other, host: 'web01', expires: expired.expires });
      assert.match(stale.error ?? '', /expired/);
      assert.equal((await api(`/api/v1/fleet/approvals/${other.id}`, { method: 'DELETE' })).status, 200);

      // 3. A step whose file changed after the approval: skipped and reported, nothing else done.
      const only = (await api('/api/v1/fleet/hosts/web01/approvals', { body: { steps: [dsh.hash] } }))
        .body as unknown as Approval;
      const original = readFileSync(join(root, 'tmp/d.sh'));
      appendFileSync(join(root, 'tmp/d.sh'), '# changed after the approval\n');
      await agentOnce('web01', root, tokens.web01!);
      let h = await approvalsOf('web01');
      const skipped = h.approvals.find((a) => a.id === only.id)!;
      assert.equal(skipped.state, 'skipped');
      assert.deepEqual(
        skipped.result?.steps.map((s) => s.status),
        ['missing'],
      );
      assert.equal(h.approvals.find((a) => a.id === expired.id)?.state, 'expired');
      writeFileSync(join(root, 'tmp/d.sh'), original);

      // 4. The real thing: approve the current plan; the agent cleans, rescans clean, reports the journal.
      await agentOnce('web01', root, tokens.web01!);
      const before = snapshot(root);
      const ok = (await api('/api/v1/fleet/hosts/web01/approvals', { body: {} })).body as unknown as Approval;
      assert.equal(ok.by, 'admin');
      assert.ok(ok.steps!.length >= 6 && ok.steps!.every((s) => /^[0-9a-f]{64}$/.test(s.hash)));
      assert.ok(Date.parse(ok.expires) - Date.parse(ok.created) === 24 * 3600_000, 'expires in 24 h');
      await agentOnce('web01', root, tokens.web01!);
      h = await approvalsOf('web01');
      const done = h.approvals.find((a) => a.id === ok.id)!;
      assert.equal(done.state, 'complete', JSON.stringify(done.result));
      assert.equal(done.result?.verdict, 'clean');
      assert.ok(done.result?.steps.every((s) => s.status === 'done'));
      assert.notDeepEqual(snapshot(root), before);
      assert.equal(h.journals.length, 1);
      const journal = h.journals[0]!.journal;
      assert.equal(h.plan?.verdict, 'clean', 'the next plan report shows the clean host');

      // A restore of a journal this host never reported is refused by the server.
      assert.equal(
        (
          await api('/api/v1/fleet/hosts/web01/approvals', {
            body: { kind: 'restore', journal: '20260101T000000Z-abcdef' },
          })
        ).status,
        409,
      );
      assert.equal(
        (
          await api('/api/v1/fleet/hosts/web01/approvals', {
            body: { kind: 'restore', journal: '../../etc' },
          })
        ).status,
        400,
      );
      const rq = (await api('/api/v1/fleet/hosts/web01/approvals', { body: { kind: 'restore', journal } }))
        .body as unknown as Approval;
      await agentOnce('web01', root, tokens.web01!);
      h = await approvalsOf('web01');
      assert.equal(h.approvals.find((a) => a.id === rq.id)?.state, 'complete');
      assert.equal(h.journals[0]?.restored, true);
      const d = diff(before, snapshot(root));
      assert.equal(d, '', d);

      // Everything is in the audit log, newest first.
      const audit = (await api('/api/v1/audit?host=web01')).body.audit as Array<{
        action: string;
        subject: string;
      }>;
      const actions = audit.map((a) => a.action);
      for (const a of ['approve', 'result', 'restore-request', 'expire', 'refused'])
        assert.ok(actions.includes(a), `${a} in ${actions.join(',')}`);
      assert.ok(audit.some((a) => a.action === 'cancel') === false, 'the cancel was for cache01');
      const cancel = (await api('/api/v1/audit?action=cancel')).body.audit as Array<{ host: string }>;
      assert.deepEqual(
        cancel.map((c) => c.host),
        ['cache01'],
      );
    });

    test('a failed step stops the run; the journal restores what was done', async () => {
      const root = buildCase('kinsing', join(dir, engine, 'web01-fail', 'root'));
      const ctl = fakeProcesses(root);
      // The fixture's second miner process cannot be signalled (as when the agent lacks the privilege).
      const failing = {
        ...ctl,
        signal(pid: number, sig: 'SIGSTOP' | 'SIGCONT' | 'SIGKILL') {
          if (pid === 1002) throw Object.assign(new Error('kill EPERM'), { code: 'EPERM' });
          ctl.signal(pid, sig);
        },
      };
      // This host is called web01 in its fixture; a token named after it is what the agent needs.
      const t = newToken('web01', false);
      await store.putToken(t.record);
      const before = snapshot(root);
      await agentOnce('web01-fail', root, t.token, failing);
      const ap = (await api('/api/v1/fleet/hosts/web01/approvals', { body: {} })).body as unknown as Approval;
      await agentOnce('web01-fail', root, t.token, failing);
      const a = (await approvalsOf('web01')).approvals.find((x) => x.id === ap.id)!;
      assert.equal(a.state, 'failed', JSON.stringify(a.result));
      const statuses = a.result!.steps.map((s) => s.status);
      const firstFail = statuses.indexOf('failed');
      assert.ok(firstFail >= 0);
      assert.ok(
        statuses.slice(firstFail + 1).every((s) => s === 'not-run'),
        statuses.join(','),
      );
      assert.ok(statuses.slice(0, firstFail).every((s) => s === 'done'));
      const rq = (
        await api('/api/v1/fleet/hosts/web01/approvals', {
          body: { kind: 'restore', journal: a.result!.journal },
        })
      ).body as unknown as Approval;
      await agentOnce('web01-fail', root, t.token, failing);
      const r = (await approvalsOf('web01')).approvals.find((x) => x.id === rq.id)!;
      assert.equal(r.state, 'complete', JSON.stringify(r.result));
      assert.equal(diff(before, snapshot(root)), '');
    });
  });
}

suite('duckdb', () => DuckDBStore.open(join(dir, 'fleet.db')));
const ch = await testClickHouse();
after(() => ch.stop());
suite('clickhouse', () => ClickHouseStore.open(`${ch.url}/${uniqueDb()}`), ch.skip);
