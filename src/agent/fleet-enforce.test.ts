/**
 * End to end on loopback: a server, two agents scanning fixture roots (never this machine), each enforcing
 * the fleet's block decisions with nftables inside a network namespace the test creates. A pool one agent
 * finds ends up in both agents' sets by their next cycle (checked with `nft list set`), an exception takes
 * it out of both, the server and the resolver are never blocked, and stopping the agents leaves no table.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { buildCase } from '../../test/fixtures/hosts/build.ts';
import { IN_CI, missingTool, runTool } from '../respond/blocklist/testkit.ts';
import { startServer } from '../server/app.ts';
import { newToken } from '../server/tokens.ts';
import { DuckDBStore } from '../store/duckdb.ts';
import { freePort } from '../store/testkit.ts';
import { fleetAgent } from './fleet-hooks.ts';
import { runAgent } from './index.ts';

const dir = mkdtempSync(join(tmpdir(), 'mw-fleet-enforce-'));
const namespaces: string[] = [];
after(() => {
  for (const ns of namespaces) runTool(['ip', 'netns', 'del', ns]);
  rmSync(dir, { recursive: true, force: true });
});

/** A network namespace for the test, or why it cannot be made (a failure under CI=true). */
function makeNetns(tag: string): string | { skip: string } {
  for (const [tool, pkg] of [
    ['ip', 'iproute2'],
    ['nft', 'nftables'],
  ] as const) {
    const why = missingTool(tool, pkg);
    if (why) return { skip: why };
  }
  const ns = `mwfleet-${process.pid}-${tag}`;
  const r = runTool(['ip', 'netns', 'add', ns]);
  if (r.code !== 0) {
    if (IN_CI) throw new Error(`cannot create a network namespace: ${r.out}`);
    return { skip: `network namespaces not permitted here: ${r.out.trim()}` };
  }
  namespaces.push(ns);
  return ns;
}

const nftSet = (ns: string, set = 'pool_v4') =>
  runTool(['ip', 'netns', 'exec', ns, 'nft', 'list', 'set', 'inet', 'minewatch', set]);

/** The elements of a set as the kernel lists them (parsed from `nft list set`). */
function elements(ns: string): Set<string> {
  const r = nftSet(ns);
  assert.equal(r.code, 0, r.out);
  const m = /elements = \{([^}]*)\}/s.exec(r.out);
  return new Set((m?.[1] ?? '').split(/[\s,]+/).filter(Boolean));
}

async function until(what: string, f: () => Promise<boolean> | boolean, ms = 120_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await f())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('two agents in their own network namespaces enforce the fleet pool blocks with nftables', async (t) => {
  const nsA = makeNetns('a');
  const nsB = makeNetns('b');
  if (typeof nsA !== 'string' || typeof nsB !== 'string') {
    t.skip(typeof nsA !== 'string' ? nsA.skip : (nsB as { skip: string }).skip);
    return;
  }
  // Host A is the Kinsing fixture: its scan sees an established connection to 45.9.148.85:443 (a pool
  // connection at confidence 0.8) and one to 185.10.68.24:3333 at 0.6 (below the bar). Host B is the Redis
  // fixture, which sees no pool.
  const rootA = buildCase('kinsing', join(dir, 'a', 'root'));
  const rootB = buildCase('redis', join(dir, 'b', 'root'));
  const POOL = '45.9.148.85';
  const WEAK = '185.10.68.24';
  const RESOLVER = '192.0.2.53';
  const store = await DuckDBStore.open(join(dir, 'fleet.db'));
  const tokA = newToken('web01', false);
  const tokB = newToken('cache01', false);
  await store.putToken(tokA.record);
  await store.putToken(tokB.record);
  const admin = 'mw-admin-token-for-this-test-only-0123456789';
  const port = await freePort();
  const srv = await startServer({
    store,
    adminToken: admin,
    listen: `127.0.0.1:${port}`,
    closeStore: false,
    fleet: { refreshMs: 0 },
  });
  const server = srv.url;
  // B resolves through 192.0.2.53: a decision for it must never reach B's set.
  const resolvConf = join(dir, 'b', 'resolv.conf');
  writeFileSync(resolvConf, `# fixture\nnameserver ${RESOLVER}\noptions edns0\n`);

  const cycles = { a: 0, b: 0 };
  const ac = new AbortController();
  const agent = async (name: 'a' | 'b', root: string, token: string, ns: string, resolv: string) => {
    const fa = await fleetAgent({
      server,
      token,
      enforce: {
        target: 'nftables',
        env: { netns: ns, stateDir: join(dir, name, 'enforce'), hostsFile: join(dir, name, 'hosts') },
        resolvConf: resolv,
      },
    });
    const before = fa.hooks.beforeScan!;
    fa.hooks.beforeScan = async () => {
      await before();
      cycles[name]++;
    };
    const run = runAgent({
      server,
      token,
      root,
      spoolDir: join(dir, name, 'spool'),
      intervalMs: 400,
      backoff: { baseMs: 50, capMs: 200 },
      signal: ac.signal,
      hooks: fa.hooks,
      scan: async ({ root: r }) => {
        const { scanHost } = await import('../detect/host/index.ts');
        return (await scanHost({ root: r, live: false })) as never;
      },
    });
    return { fa, run };
  };
  const emptyResolv = join(dir, 'a', 'resolv.conf');
  writeFileSync(emptyResolv, '');
  try {
    const A = await agent('a', rootA, tokA.token, nsA, emptyResolv);
    const B = await agent('b', rootB, tokB.token, nsB, resolvConf);

    // The pool A saw reaches the server as a finding; from then on, each agent's next cycle blocks it.
    await until('A’s pool finding on the server', async () =>
      (await store.findings({ host: 'web01' })).some((f) => (f.finding.pool as { ip?: string })?.ip === POOL),
    );
    const seen = { ...cycles };
    await until(
      'a cycle of each agent after the finding',
      () => cycles.a > seen.a + 1 && cycles.b > seen.b + 1,
    );
    for (const ns of [nsA, nsB]) {
      const set = elements(ns);
      assert.ok(set.has(POOL), `${ns}: the pool A found is blocked`);
      assert.ok(!set.has(WEAK), `${ns}: a pool seen at confidence 0.6 is not`);
      assert.ok(set.size > 100, `${ns}: the active intel pools are blocked too (${set.size})`);
    }
    const decisions = (await (
      await fetch(`${server}/api/v1/decisions`, { headers: { authorization: `Bearer ${admin}` } })
    ).json()) as {
      version: number;
      decisions: Array<{ value: string; origin: string; source?: { host: string } }>;
    };
    const d = decisions.decisions.find((x) => x.value === POOL);
    assert.equal(d?.origin, 'fleet');
    assert.equal(d?.source?.host, 'web01');

    // A decision for B's resolver: A blocks it, B never does (and says so in its heartbeat).
    const hb = (f: Record<string, unknown>) => JSON.stringify([f]);
    const res = await fetch(`${server}/api/v1/findings?host=web01`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokA.token}`, 'content-type': 'application/json' },
      body: hb({
        id: 'resolver-as-pool',
        rule: 'net.stratum.session',
        title: 'Stratum mining session',
        severity: 'high',
        confidence: 0.95,
        time: new Date().toISOString(),
        pool: { host: RESOLVER, port: 3333 },
        evidence: [],
        attack: [],
      }),
    });
    assert.equal(res.status, 200, await res.text());
    // And one for the server's own address (loopback here).
    await fetch(`${server}/api/v1/findings?host=web01`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokA.token}`, 'content-type': 'application/json' },
      body: hb({
        id: 'server-as-pool',
        rule: 'net.stratum.session',
        title: 'Stratum mining session',
        severity: 'high',
        confidence: 0.95,
        time: new Date().toISOString(),
        pool: { host: '127.0.0.1', port: port },
        evidence: [],
        attack: [],
      }),
    });
    const s2 = { ...cycles };
    await until('two more cycles', () => cycles.a > s2.a + 1 && cycles.b > s2.b + 1);
    assert.ok(elements(nsA).has(RESOLVER), 'A has no reason to spare 192.0.2.53');
    assert.ok(!elements(nsB).has(RESOLVER), 'B never blocks its resolver');
    for (const ns of [nsA, nsB]) assert.ok(!elements(ns).has('127.0.0.1'), 'nor the server');
    assert.ok(B.fa.enforcer!.state().protected.includes(RESOLVER));
    assert.equal(B.fa.enforcer!.state().last_error, null);

    // An exception takes the pool out of both sets by the next cycle; the table is updated, not reloaded.
    const handle = (ns: string) =>
      /table inet minewatch \{ # handle (\d+)/.exec(
        runTool(['ip', 'netns', 'exec', ns, 'nft', '-a', 'list', 'table', 'inet', 'minewatch']).out,
      )?.[1];
    const handles = [handle(nsA), handle(nsB)];
    const ex = await fetch(`${server}/api/v1/decisions/exceptions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ value: POOL, reason: 'our own test pool' }),
    });
    assert.equal(ex.status, 201, await ex.text());
    const s3 = { ...cycles };
    await until('a cycle after the exception', () => cycles.a > s3.a + 1 && cycles.b > s3.b + 1);
    for (const ns of [nsA, nsB]) assert.ok(!elements(ns).has(POOL), `${ns}: the exception removed it`);
    assert.deepEqual([handle(nsA), handle(nsB)], handles, 'the same table, elements changed in place');

    // The heartbeat carries the version applied, the counts and the last error.
    await until('B’s heartbeat with its enforcement state', async () => {
      const h = (await store.hosts()).find((x) => x.host === 'cache01');
      const e = h?.inventory?.enforcement as { version?: number } | undefined;
      return (e?.version ?? 0) >= decisions.version;
    });
    const inv = (await store.hosts()).find((x) => x.host === 'cache01')!.inventory!;
    const e = inv.enforcement as { target: string; ipv4: number; last_error: string | null };
    assert.equal(e.target, 'nftables');
    assert.ok(e.ipv4 > 100);
    assert.equal(e.last_error, null);

    // The audit log has the exception with who made it.
    const audit = (await store.audit({ action: 'exception-add' }))[0]!;
    assert.equal(audit.subject, POOL);
    assert.equal(audit.actor, 'admin');

    // Stopping the agents reverts: no minewatch table is left in either namespace.
    ac.abort();
    await Promise.all([A.run, B.run]);
    for (const ns of [nsA, nsB]) {
      const left = runTool(['ip', 'netns', 'exec', ns, 'nft', 'list', 'ruleset']);
      assert.equal(left.code, 0);
      assert.equal(left.out.trim(), '', `${ns}: nothing left`);
    }
  } finally {
    ac.abort();
    await srv.close();
    await store.close();
  }
});
