import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ClickHouseStore } from '../store/clickhouse.ts';
import { fleetFixture } from '../store/contract.ts';
import { DuckDBStore } from '../store/duckdb.ts';
import { testClickHouse, uniqueDb } from '../store/testkit.ts';
import type { Store } from '../store/types.ts';
import { findingToEvent, parseListen, startServer } from './app.ts';
import { RateLimiter } from './ratelimit.ts';
import { http, ndjson } from './testkit.ts';
import { newToken, parseToken, verifySecret } from './tokens.ts';

const ADMIN = 'admin-secret-for-tests-0123456789';
/** The server's clock in these tests: the fixture's events are days old, not years (retention horizon). */
const NOW = Date.UTC(2026, 2, 10);
const dir = mkdtempSync(join(tmpdir(), 'minewatch-server-'));
// Removed at exit, not in after(): top-level await lets the root after() hook run before later suites.
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

test('tokens: 256-bit secret, parsed back, verified by hash, revoked stops it', () => {
  const { token, record } = newToken('web-01', false);
  const p = parseToken(token)!;
  assert.equal(p.id, record.id);
  assert.equal(Buffer.from(p.secret, 'base64url').length, 32);
  assert.ok(verifySecret(record, p.secret));
  // Another last character (a fixed 'A' is the real one once in 64 runs).
  const other = p.secret.endsWith('A') ? 'B' : 'A';
  assert.ok(!verifySecret(record, `${p.secret.slice(0, -1)}${other}`));
  assert.ok(!verifySecret({ ...record, revoked: true }, p.secret));
  assert.ok(!token.includes(record.hash));
  assert.equal(parseToken('mwt_nothex_x'), null);
});

test('rate limiter: burst, then refill over time', () => {
  let now = 0;
  const rl = new RateLimiter(2, 2, () => now);
  assert.equal(rl.take('a'), 0);
  assert.equal(rl.take('a'), 0);
  assert.equal(rl.take('a'), 1);
  assert.equal(rl.take('b'), 0);
  now += 500;
  assert.equal(rl.take('a'), 0);
});

test('parseListen and findingToEvent', () => {
  assert.deepEqual(parseListen('127.0.0.1:8750'), { host: '127.0.0.1', port: 8750 });
  assert.deepEqual(parseListen('[::1]:0'), { host: '::1', port: 0 });
  assert.throws(() => parseListen('nope'), RangeError);
  const e = findingToEvent({ id: 'x', rule: 'r', severity: 'high', time: '2026-01-01T00:00:00Z' }, 'h1');
  assert.deepEqual([e.id, e.host, e.type], ['f:x:2026-01-01T00:00:00Z', 'h1', 'finding']);
  assert.throws(() => findingToEvent({ rule: 'r' }), /no host/);
});

const ch = await testClickHouse();
after(() => ch.stop());

const engines: Array<{ name: string; open: () => Promise<Store>; skip?: string }> = [
  {
    name: 'duckdb',
    open: () => DuckDBStore.open(join(dir, `${Math.random()}.db`), { memoryLimit: '256MB' }),
  },
  {
    name: 'clickhouse',
    open: () => ClickHouseStore.open(`${ch.url}/${uniqueDb('mw_srv')}`),
    ...(ch.skip ? { skip: ch.skip } : {}),
  },
];

for (const eng of engines) {
  describe(`server on ${eng.name}`, { skip: eng.skip ?? false }, () => {
    test('auth, ingest with partial rejects, dedup, limits, queries', async () => {
      const store = await eng.open();
      const agent = newToken('web-01', false);
      await store.putToken(agent.record);
      const srv = await startServer({
        store,
        listen: '127.0.0.1:0',
        adminToken: ADMIN,
        now: () => NOW,
        bodyLimit: 64 * 1024,
        maxEvents: 100,
        tokenCacheMs: 0,
        rateLimit: 1000,
      });
      const u = (p: string) => `${srv.url}${p}`;
      try {
        assert.equal((await http(u('/health'))).status, 200);
        assert.equal((await http(u('/health'))).body.engine, eng.name);

        // 401 without, with a malformed, and with a wrong token.
        const evs = fleetFixture();
        for (const token of [undefined, 'garbage', `${agent.token.slice(0, -2)}xx`]) {
          const r = await http(u('/api/v1/events'), { body: ndjson(evs), ...(token ? { token } : {}) });
          assert.equal(r.status, 401, `token ${token}`);
        }
        assert.equal((await http(u('/api/v1/hosts'))).status, 401);

        // Good lines are kept, bad ones reported by line: 207.
        const body = `${ndjson(evs.slice(0, 5))}{not json\n${JSON.stringify({ ...evs[5], type: 'bogus' })}\n${ndjson(evs.slice(5))}`;
        // The fleet's events come with an admin token (an agent token speaks for its own host alone).
        const r1 = await http(u('/api/v1/events'), { token: ADMIN, body });
        assert.equal(r1.status, 207);
        assert.equal(r1.body.accepted, 13);
        assert.deepEqual(
          (r1.body.rejected as { line: number }[]).map((x) => x.line),
          [6, 7],
        );
        // The same batch again: nothing new.
        const r2 = await http(u('/api/v1/events'), { token: ADMIN, body: ndjson(evs) });
        assert.deepEqual([r2.status, r2.body.accepted, r2.body.duplicates], [200, 0, 13]);
        // JSON arrays too.
        const r3 = await http(u('/api/v1/events'), {
          token: ADMIN,
          body: JSON.stringify(evs),
          type: 'application/json',
        });
        assert.deepEqual([r3.status, r3.body.duplicates], [200, 13]);
        // All bad: 400 with the line; empty: 400.
        const r4 = await http(u('/api/v1/events'), { token: agent.token, body: '\n{"type":"dns"}\n' });
        assert.equal(r4.status, 400);
        assert.equal((r4.body.rejected as { line: number; reason: string }[])[0]!.line, 2);
        assert.equal((await http(u('/api/v1/events'), { token: agent.token, body: '' })).status, 400);
        // 413: too large a body, too many events.
        const big = ndjson(Array.from({ length: 2000 }, (_, i) => ({ ...evs[0], id: `big${i}` })));
        assert.equal((await http(u('/api/v1/events'), { token: agent.token, body: big })).status, 413);
        const many = ndjson(
          Array.from({ length: 101 }, (_, i) => ({
            id: `m${i}`,
            time: '2026-03-01T00:00:00Z',
            host: 'h',
            type: 'heartbeat',
          })),
        );
        assert.equal((await http(u('/api/v1/events'), { token: agent.token, body: many })).status, 413);

        // Findings posted on their own.
        const rf = await http(u('/api/v1/findings?host=web-09'), {
          token: ADMIN,
          body: ndjson([
            { id: 'z', rule: 'traffic.stratum', severity: 'high', coin: 'xmr', time: '2026-03-03T00:00:00Z' },
            { rule: 'x' },
          ]),
        });
        assert.equal(rf.status, 207);
        assert.equal(rf.body.accepted, 1);

        // Queries: admin only.
        assert.equal((await http(u('/api/v1/hosts'), { token: agent.token })).status, 403);
        const hosts = await http(u('/api/v1/hosts'), { token: ADMIN });
        assert.deepEqual(
          (hosts.body.hosts as { host: string }[]).map((h) => h.host),
          ['db-01', 'web-01', 'web-02', 'web-09'],
        );
        const coins = await http(u('/api/v1/stats/coins?to=2026-03-03'), { token: ADMIN });
        assert.deepEqual(
          (coins.body.rows as { key: string; hosts: number }[]).map((r) => [r.key, r.hosts]),
          [
            ['XMR', 2],
            ['ETC', 1],
          ],
        );
        const ports = await http(u('/api/v1/stats/ports'), { token: ADMIN });
        assert.equal((ports.body.rows as { key: string; events: number }[])[0]!.key, '443');
        assert.equal((ports.body.rows as { key: string; events: number }[])[0]!.events, 3);
        const series = await http(u('/api/v1/stats/series?dim=pool'), { token: ADMIN });
        assert.equal((series.body.rows as unknown[]).length, 2);
        const fs = await http(u('/api/v1/findings?severity=high&host=web-02'), { token: ADMIN });
        assert.deepEqual(
          (fs.body.findings as { id: string }[]).map((f) => f.id),
          ['f2'],
        );
        assert.equal((await http(u('/api/v1/stats/campaigns?by=dropper'), { token: ADMIN })).status, 200);
        assert.equal((await http(u('/api/v1/stats/instances'), { token: ADMIN })).status, 200);
        assert.equal((await http(u('/api/v1/stats/coins?from=notadate'), { token: ADMIN })).status, 400);
        assert.equal((await http(u('/api/v1/stats/series?dim=nope'), { token: ADMIN })).status, 400);
        assert.equal((await http(u('/api/v1/events?limit=2'), { token: ADMIN })).status, 200);

        // Tokens over the API; a revoked token is refused.
        const made = await http(u('/api/v1/tokens'), {
          token: ADMIN,
          body: JSON.stringify({ name: 'web-03' }),
          type: 'application/json',
        });
        assert.equal(made.status, 201);
        const t3 = String(made.body.token);
        const hb = ndjson([{ id: 'hb', time: '2026-03-04T00:00:00Z', host: 'web-03', type: 'heartbeat' }]);
        assert.equal((await http(u('/api/v1/events'), { token: t3, body: hb })).status, 200);
        assert.equal(
          (await http(u('/api/v1/tokens/web-03'), { token: ADMIN, method: 'DELETE' })).status,
          200,
        );
        assert.equal((await http(u('/api/v1/events'), { token: t3, body: hb })).status, 401);
        assert.equal(
          (await http(u('/api/v1/tokens/web-03'), { token: ADMIN, method: 'DELETE' })).status,
          404,
        );
      } finally {
        await srv.close();
        if (store instanceof ClickHouseStore) {
          const again = await ClickHouseStore.open(
            `clickhouse://${store.location.slice('clickhouse://'.length)}`,
          );
          await again.dropDatabase();
          await again.close();
        }
      }
    });
  });
}

test('rate limit per token answers 429 with Retry-After', async () => {
  const store = await DuckDBStore.open(':memory:');
  const a = newToken('a', false);
  const b = newToken('b', false);
  await store.putToken(a.record);
  await store.putToken(b.record);
  const srv = await startServer({
    store,
    listen: '127.0.0.1:0',
    rateLimit: 0.5,
    rateBurst: 2,
    now: () => NOW,
  });
  try {
    const hb = ndjson([{ time: '2026-03-04T00:00:00Z', host: 'a', type: 'heartbeat' }]);
    const codes = [];
    for (let i = 0; i < 3; i++)
      codes.push((await http(`${srv.url}/api/v1/events`, { token: a.token, body: hb })).status);
    assert.deepEqual(codes, [200, 200, 429]);
    const limited = await http(`${srv.url}/api/v1/events`, { token: a.token, body: hb });
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers.get('retry-after')) >= 1);
    // Another token has its own bucket.
    assert.equal((await http(`${srv.url}/api/v1/events`, { token: b.token, body: hb })).status, 200);
  } finally {
    await srv.close();
  }
});
