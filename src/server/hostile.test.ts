/**
 * Issue 15 replayed: what an attacker holding one agent token (of a host the miner already owns) tried against
 * `serve`, on each engine, through the public API. Every fleet read must keep answering 200 with the right
 * totals, good events beside a bad one must be stored, and the guesses must be throttled.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import { ClickHouseStore } from '../store/clickhouse.ts';
import { DuckDBStore } from '../store/duckdb.ts';
import { testClickHouse, uniqueDb } from '../store/testkit.ts';
import type { Store } from '../store/types.ts';
import { type RunningServer, startServer } from './app.ts';
import { spawnServe } from './testkit.ts';
import { newToken } from './tokens.ts';

const ADMIN = 'hostile-admin-token-0123456789abcdef-xyz';
const NOW = Date.UTC(2026, 2, 10, 12);
const dir = mkdtempSync(join(tmpdir(), 'minewatch-hostile-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

interface Res {
  status: number;
  body: Record<string, unknown>;
  headers: Record<string, string | string[] | undefined>;
}

/** One HTTP request from a chosen loopback source address (127.0.0.0/8 is all this host). */
function call(
  url: string,
  o: {
    method?: string;
    token?: string;
    body?: string | Buffer;
    headers?: Record<string, string>;
    from?: string;
  } = {},
): Promise<Res> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        path: `${u.pathname}${u.search}`,
        method: o.method ?? (o.body !== undefined ? 'POST' : 'GET'),
        localAddress: o.from ?? '127.0.0.1',
        headers: {
          ...(o.token ? { authorization: `Bearer ${o.token}` } : {}),
          ...(o.body !== undefined ? { 'content-type': 'application/x-ndjson' } : {}),
          ...o.headers,
        },
      },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (d: Buffer) => parts.push(d));
        res.on('end', () => {
          let buf = Buffer.concat(parts);
          if (res.headers['content-encoding'] === 'gzip') buf = gunzipSync(buf);
          let body: Record<string, unknown> = {};
          try {
            body = buf.length ? (JSON.parse(buf.toString('utf8')) as Record<string, unknown>) : {};
          } catch {
            body = { text: buf.toString('utf8') };
          }
          resolve({ status: res.statusCode ?? 0, body, headers: res.headers });
        });
      },
    );
    req.on('error', reject);
    req.setTimeout(60_000, () => req.destroy(new Error('timeout')));
    if (o.body !== undefined) req.write(o.body);
    req.end();
  });
}

const lines = (evs: readonly unknown[]) => `${evs.map((e) => JSON.stringify(e)).join('\n')}\n`;
const conn = (id: string, host: string, extra: Record<string, unknown> = {}) => ({
  id,
  time: '2026-03-09T10:00:00Z',
  host,
  type: 'connection',
  src_ip: '10.0.0.1',
  dst_ip: '1.2.3.4',
  dst_port: 443,
  pool: 'pool.supportxmr.com',
  coin: 'XMR',
  ...extra,
});
const hb = (id: string, host: string, extra: Record<string, unknown> = {}) => ({
  id,
  time: '2026-03-09T10:00:00Z',
  host,
  type: 'heartbeat',
  ...extra,
});
const rejectedOf = (r: Res) => (r.body.rejected ?? []) as { line: number; reason: string }[];

const READS = [
  '/api/v1/hosts',
  '/api/v1/findings',
  '/api/v1/events',
  '/api/v1/stats/coins',
  '/api/v1/stats/pools',
  '/api/v1/stats/ports',
  '/api/v1/stats/families',
  '/api/v1/stats/series',
  '/api/v1/stats/instances',
  '/api/v1/stats/campaigns',
];

async function allReads200(url: string): Promise<void> {
  for (const p of READS) {
    const r = await call(`${url}${p}`, { token: ADMIN });
    assert.equal(r.status, 200, `${p}: ${JSON.stringify(r.body).slice(0, 300)}`);
  }
}

const ch = await testClickHouse();
after(() => ch.stop());
const chDbs: string[] = [];
after(async () => {
  for (const db of chDbs) {
    const s = await ClickHouseStore.open(`${ch.url}/${db}`);
    await s.dropDatabase();
    await s.close();
  }
});

interface Engine {
  name: 'duckdb' | 'clickhouse';
  open(): Promise<Store>;
  reopen(s: Store): Promise<Store>;
  skip?: string;
}

const engines: Engine[] = [
  {
    name: 'duckdb',
    open: () => DuckDBStore.open(join(dir, `h${Math.random()}`, 'store.db'), { memoryLimit: '256MB' }),
    reopen: async (s) => {
      await s.close();
      return DuckDBStore.open(s.location, { memoryLimit: '256MB' });
    },
  },
  {
    name: 'clickhouse',
    open: () => {
      const db = uniqueDb('mw_hostile');
      chDbs.push(db);
      return ClickHouseStore.open(`${ch.url}/${db}`);
    },
    reopen: async (s) => {
      await s.close();
      return ClickHouseStore.open(`clickhouse://${s.location.slice('clickhouse://'.length)}`);
    },
    ...(ch.skip ? { skip: ch.skip } : {}),
  },
];

async function serve(store: Store, extra: Record<string, unknown> = {}): Promise<RunningServer> {
  return startServer({
    store,
    listen: '127.0.0.1:0',
    adminToken: ADMIN,
    tokenCacheMs: 0,
    rateLimit: 0,
    now: () => NOW,
    closeStore: false,
    log: () => undefined,
    ...extra,
  });
}

for (const eng of engines) {
  describe(`hostile agent on ${eng.name}`, { skip: eng.skip ?? false }, () => {
    test('1: byte counts near 2^63 refused; sums of the largest accepted stay exact on every read, after a restart', async () => {
      let store = await eng.open();
      const agent = newToken('web-01', false, new Date(), 'web-01');
      await store.putToken(agent.record);
      let srv = await serve(store);
      try {
        // As the attacker sent them: integers past 2^53 in the JSON text.
        const body = `{"id":"o1","time":"2026-03-09T10:00:00Z","host":"web-01","type":"connection","dst_ip":"1.2.3.4","dst_port":443,"bytes_out":9223372036854774784}\n{"id":"o2","time":"2026-03-09T10:00:01Z","host":"web-01","type":"connection","dst_ip":"1.2.3.4","dst_port":443,"bytes_out":9223372036854774784}\n`;
        const r = await call(`${srv.url}/api/v1/events`, { token: agent.token, body });
        assert.equal(r.status, 400);
        assert.deepEqual(
          rejectedOf(r).map((x) => [x.line, /bytes_out must be an integer/.test(x.reason)]),
          [
            [1, true],
            [2, true],
          ],
        );
        // 600 events at the largest accepted counts: their total (~1.08e19) is past 2^63, where a BIGINT
        // rollup overflowed and a UInt64 sum would wrap.
        const max = 2 ** 53 - 1;
        const big = Array.from({ length: 600 }, (_, i) =>
          conn(`b${i}`, 'web-01', {
            bytes_out: max,
            bytes_in: max,
            time: `2026-03-09T10:${String(Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}Z`,
          }),
        );
        assert.equal(
          (await call(`${srv.url}/api/v1/events`, { token: agent.token, body: lines(big) })).status,
          200,
        );
        const exact = Number(600n * 2n * BigInt(max));
        const check = async (url: string) => {
          await allReads200(url);
          const pools = await call(`${url}/api/v1/stats/pools`, { token: ADMIN });
          const row = (pools.body.rows as { key: string; events: number; bytes: number }[])[0]!;
          assert.equal(row.events, 600);
          // DuckDB sums in HUGEINT (exact); ClickHouse in Float64 (never wraps; exact to 2^53).
          if (eng.name === 'duckdb') assert.equal(row.bytes, exact);
          else assert.ok(Math.abs(row.bytes - exact) / exact < 1e-12, `${row.bytes} vs ${exact}`);
          const hosts = await call(`${url}/api/v1/hosts`, { token: ADMIN });
          assert.equal((hosts.body.hosts as { events: number }[])[0]!.events, 600);
        };
        await check(srv.url);
        await srv.close();
        store = await eng.reopen(store);
        srv = await serve(store);
        await check(srv.url);
      } finally {
        await srv.close();
        await store.close();
      }
    });

    test("2: a value no engine can cast fails its own line alone, never other clients' batches committed with it", async () => {
      const store = await eng.open();
      const srv = await serve(store);
      try {
        const clients = Array.from({ length: 8 }, (_, c) =>
          Array.from({ length: 500 }, (_, i) => conn(`g${c}-${i}`, `host-${c}`)),
        );
        const poison = `${lines([conn('p0', 'evil')])}${JSON.stringify(conn('p1', 'evil')).replace('"dst_port":443', '"dst_port":443,"bytes_out":1e19')}\n${lines([conn('p2', 'evil')])}`;
        const results = await Promise.all([
          ...clients.map((evs) => call(`${srv.url}/api/v1/events`, { token: ADMIN, body: lines(evs) })),
          call(`${srv.url}/api/v1/events`, { token: ADMIN, body: poison }),
        ]);
        assert.deepEqual(
          results.map((r) => r.status),
          [200, 200, 200, 200, 200, 200, 200, 200, 207],
        );
        assert.deepEqual(
          rejectedOf(results[8]!).map((x) => x.line),
          [2],
        );
        assert.equal(results[8]!.body.accepted, 2);
        assert.equal(await store.count(), 8 * 500 + 2);
        await allReads200(srv.url);
      } finally {
        await srv.close();
        await store.close();
      }
    });

    test('3: an event nested 5,000 deep is refused alike as NDJSON and in a JSON array; every read answers', async () => {
      const store = await eng.open();
      const srv = await serve(store);
      try {
        const deep = `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`;
        const text = `{"id":"d1","time":"2026-03-09T10:00:00Z","host":"web-01","type":"heartbeat","inv":${deep}}`;
        const good = JSON.stringify(hb('ok1', 'web-01'));
        const nd = await call(`${srv.url}/api/v1/events`, { token: ADMIN, body: `${text}\n${good}\n` });
        const arr = await call(`${srv.url}/api/v1/events`, {
          token: ADMIN,
          body: `[${text},${good}]`,
          headers: { 'content-type': 'application/json' },
        });
        for (const r of [nd, arr]) {
          assert.equal(r.status, 207);
          assert.deepEqual(
            rejectedOf(r).map((x) => [x.line, x.reason]),
            [[1, 'nested deeper than 32 levels']],
          );
        }
        await allReads200(srv.url);
      } finally {
        await srv.close();
        await store.close();
      }
    });

    test('4: a spoofed heartbeat for another host, dated 2199, verdict clean, is refused; source names the token', async () => {
      const store = await eng.open();
      const agent = newToken('web-01', false);
      const named = newToken('db-agent', false, new Date(), 'db-01');
      await store.putToken(agent.record);
      await store.putToken(named.record);
      const logs: string[] = [];
      const srv = await serve(store, { log: (m: string) => logs.push(m) });
      try {
        // First use binds the token to its host.
        const first = await call(`${srv.url}/api/v1/events`, {
          token: agent.token,
          body: lines([hb('h1', 'web-01', { verdict: 'infected' })]),
        });
        assert.equal(first.status, 200);
        assert.equal((await store.getToken(agent.record.id))?.host, 'web-01');
        assert.ok(logs.some((l) => /bound to host 'web-01' on first use/.test(l)));
        const spoof = hb('s1', 'db-01', { time: '2199-01-01T00:00:00Z', verdict: 'clean' });
        const r = await call(`${srv.url}/api/v1/events`, { token: agent.token, body: lines([spoof]) });
        assert.equal(r.status, 400);
        assert.match(rejectedOf(r)[0]!.reason, /ahead of the server's clock/);
        const r2 = await call(`${srv.url}/api/v1/events`, {
          token: agent.token,
          body: lines([{ ...spoof, time: '2026-03-10T11:00:00Z' }]),
        });
        assert.equal(r2.status, 400);
        assert.match(rejectedOf(r2)[0]!.reason, /speaks for host 'web-01', not 'db-01'/);
        // Its own host dated 2199 is refused too: a heartbeat from the future would outrank every real one.
        const r3 = await call(`${srv.url}/api/v1/events`, {
          token: agent.token,
          body: lines([{ ...spoof, host: 'web-01' }]),
        });
        assert.equal(r3.status, 400);
        // A token named for db-01 at creation speaks for db-01 from its first event on.
        const r4 = await call(`${srv.url}/api/v1/events`, {
          token: named.token,
          body: lines([hb('n1', 'web-05'), hb('n2', 'db-01', { verdict: 'infected' })]),
        });
        assert.equal(r4.status, 207);
        assert.deepEqual(
          rejectedOf(r4).map((x) => x.line),
          [1],
        );
        const hosts = (await call(`${srv.url}/api/v1/hosts`, { token: ADMIN })).body.hosts as {
          host: string;
          inventory: { verdict?: string } | null;
        }[];
        assert.deepEqual(
          hosts.map((h) => [h.host, h.inventory?.verdict]),
          [
            ['db-01', 'infected'],
            ['web-01', 'infected'],
          ],
        );
        const f = await call(`${srv.url}/api/v1/events`, {
          token: agent.token,
          body: lines([
            {
              id: 'f1',
              time: '2026-03-09T10:00:00Z',
              host: 'web-01',
              type: 'finding',
              finding: { rule: 'host.process.miner-exe', severity: 'high' },
            },
          ]),
        });
        assert.equal(f.status, 200);
        const found = (await call(`${srv.url}/api/v1/findings`, { token: ADMIN })).body.findings as {
          source: string;
        }[];
        assert.equal(found[0]!.source, `token:web-01#${agent.record.id}`);
      } finally {
        await srv.close();
        await store.close();
      }
    });

    test('5: 300 wrong tokens in a row are throttled; the right one from elsewhere still works; failures logged', async () => {
      const store = await eng.open();
      const agent = newToken('web-01', false);
      await store.putToken(agent.record);
      const logs: string[] = [];
      const srv = await serve(store, { log: (m: string) => logs.push(m) });
      try {
        const codes = new Map<number, number>();
        for (let i = 0; i < 300; i++) {
          const guess = i % 2 ? `demo${i}` : `mwt_${agent.record.id}_${'A'.repeat(42)}${i % 10}`;
          const r = await call(`${srv.url}/api/v1/hosts`, { token: guess, from: '127.0.0.2' });
          codes.set(r.status, (codes.get(r.status) ?? 0) + 1);
        }
        assert.equal(codes.get(401), 20, `the burst, then throttled: ${JSON.stringify([...codes])}`);
        assert.equal(codes.get(429), 280);
        // The guesser's address is locked out even with a right token...
        assert.equal(
          (await call(`${srv.url}/api/v1/hosts`, { token: ADMIN, from: '127.0.0.2' })).status,
          429,
        );
        // ...the right credentials from elsewhere are not: the admin's, and the guessed token's own.
        assert.equal(
          (await call(`${srv.url}/api/v1/hosts`, { token: ADMIN, from: '127.0.0.3' })).status,
          200,
        );
        const own = await call(`${srv.url}/api/v1/events`, {
          token: agent.token,
          body: lines([hb('x', 'web-01')]),
          from: '127.0.0.4',
        });
        assert.equal(own.status, 200);
        assert.ok(logs.filter((l) => /failed bearer token from 127\.0\.0\.2/.test(l)).length >= 20);
        assert.ok(logs.some((l) => /client locked out/.test(l)));
        // The dashboard's login form shares the lockout.
        const login = await call(`${srv.url}/ui/login`, {
          body: 'token=wrong',
          headers: { 'content-type': 'application/x-www-form-urlencoded', origin: srv.url },
          from: '127.0.0.2',
        });
        assert.equal(login.status, 429);
      } finally {
        await srv.close();
        await store.close();
      }
    });

    test('6: dedup is by (host, id): the same id sent again at another time is a duplicate', async () => {
      const store = await eng.open();
      const srv = await serve(store);
      try {
        const a = await call(`${srv.url}/api/v1/events`, {
          token: ADMIN,
          body: lines([hb('same', 'web-01')]),
        });
        assert.deepEqual([a.body.accepted, a.body.duplicates], [1, 0]);
        const b = await call(`${srv.url}/api/v1/events`, {
          token: ADMIN,
          body: lines([hb('same', 'web-01', { time: '2026-03-01T00:00:00Z' }), hb('same', 'web-02')]),
        });
        assert.deepEqual([b.body.accepted, b.body.duplicates], [1, 1]);
        assert.equal(await store.count(), 2);
      } finally {
        await srv.close();
        await store.close();
      }
    });

    test('7: invalid UTF-8 is refused by line, host names included, and the lines beside it are stored', async () => {
      const store = await eng.open();
      const srv = await serve(store);
      try {
        const bad = (host: Buffer) =>
          Buffer.concat([
            Buffer.from('{"id":"u","time":"2026-03-09T10:00:00Z","host":"web-'),
            host,
            Buffer.from('","type":"heartbeat"}'),
          ]);
        const body = Buffer.concat([
          Buffer.from(`${JSON.stringify(hb('g1', 'web-01'))}\n`),
          bad(Buffer.from([0xff])),
          Buffer.from('\n'),
          bad(Buffer.from([0xfe])),
          Buffer.from(`\n${JSON.stringify(hb('g2', 'wéb-02'))}\n`),
        ]);
        const r = await call(`${srv.url}/api/v1/events`, { token: ADMIN, body });
        assert.equal(r.status, 207);
        assert.deepEqual(
          rejectedOf(r).map((x) => [x.line, x.reason]),
          [
            [2, 'not valid UTF-8'],
            [3, 'not valid UTF-8'],
          ],
        );
        // As a JSON array: the element holding the bytes is refused, not the array.
        const arr = Buffer.concat([
          Buffer.from(`[${JSON.stringify(hb('g3', 'web-03'))},`),
          bad(Buffer.from([0xc3, 0x28])),
          Buffer.from(']'),
        ]);
        const ra = await call(`${srv.url}/api/v1/events`, {
          token: ADMIN,
          body: arr,
          headers: { 'content-type': 'application/json' },
        });
        assert.equal(ra.status, 207);
        assert.deepEqual(
          rejectedOf(ra).map((x) => x.line),
          [2],
        );
        const hosts = (await call(`${srv.url}/api/v1/hosts`, { token: ADMIN })).body.hosts as {
          host: string;
        }[];
        assert.deepEqual(
          hosts.map((h) => h.host),
          ['web-01', 'web-03', 'wéb-02'],
        );
      } finally {
        await srv.close();
        await store.close();
      }
    });

    test('8: GET /events?limit=1000000 answers one bounded page; the cursor walks every event once', async () => {
      const store = await eng.open();
      const srv = await serve(store);
      try {
        const evs = Array.from({ length: 2500 }, (_, i) =>
          conn(`e${i}`, `h${i % 7}`, { time: `2026-03-0${1 + (i % 9)}T00:00:00Z` }),
        );
        assert.equal(
          (await call(`${srv.url}/api/v1/events`, { token: ADMIN, body: lines(evs) })).status,
          200,
        );
        const seen = new Set<string>();
        let url = `${srv.url}/api/v1/events?limit=1000000`;
        let pages = 0;
        for (;;) {
          const r = await call(url, { token: ADMIN, headers: { 'accept-encoding': 'gzip' } });
          assert.equal(r.status, 200);
          if (pages === 0) assert.equal(r.headers['content-encoding'], 'gzip');
          const page = r.body.events as { id: string; host: string }[];
          assert.ok(page.length <= 1000);
          for (const e of page) {
            assert.ok(!seen.has(`${e.host}/${e.id}`), `twice: ${e.id}`);
            seen.add(`${e.host}/${e.id}`);
          }
          pages++;
          if (!r.body.next) break;
          url = `${srv.url}/api/v1/events?limit=1000000&cursor=${r.body.next}`;
        }
        assert.equal(seen.size, 2500);
        assert.equal(pages, 3);
        assert.equal((await call(`${srv.url}/api/v1/events?cursor=garbage`, { token: ADMIN })).status, 400);
        // The page is bounded in bytes too: large events come fewer to a page.
        const fat = Array.from({ length: 12 }, (_, i) => hb(`fat${i}`, 'fat', { pad: 'x'.repeat(1 << 20) }));
        for (const e of fat)
          assert.equal(
            (await call(`${srv.url}/api/v1/events`, { token: ADMIN, body: lines([e]) })).status,
            200,
          );
        const r = await call(`${srv.url}/api/v1/events?host=fat&limit=1000`, { token: ADMIN });
        assert.equal((r.body.events as unknown[]).length, 3, '3 MiB and a bit: a fourth would pass 4 MiB');
        assert.ok(r.body.next);
        // Hosts and findings come in pages too.
        const h1 = await call(`${srv.url}/api/v1/hosts?limit=5`, { token: ADMIN });
        assert.equal((h1.body.hosts as unknown[]).length, 5);
        const h2 = await call(`${srv.url}/api/v1/hosts?limit=5&cursor=${h1.body.next}`, { token: ADMIN });
        assert.deepEqual(
          (h2.body.hosts as { host: string }[]).map((h) => h.host),
          ['h4', 'h5', 'h6'],
        );
        assert.equal(h2.body.next, null);
      } finally {
        await srv.close();
        await store.close();
      }
    });

    test('9: zone-less and impossible times refused; gzip bodies; revoke by name or by id, never both', async () => {
      const store = await eng.open();
      const srv = await serve(store, { bodyLimit: 1 << 20 });
      try {
        const r = await call(`${srv.url}/api/v1/events`, {
          token: ADMIN,
          body: lines([
            hb('t1', 'web-01', { time: '2026-03-09T10:00:00' }),
            hb('t2', 'web-01', { time: '2026-02-31T10:00:00Z' }),
            hb('t3', 'web-01', { time: '2026-03-09T12:00:00+02:00' }),
            hb('t4', 'web-01', { time: '2020-01-01T00:00:00Z' }),
          ]),
        });
        assert.deepEqual(
          rejectedOf(r).map((x) => [x.line, x.reason.replace(/'.*'/, "'…'")]),
          [
            [1, "time '…' has no zone (add Z or an offset such as +02:00)"],
            [2, "time '…' is not a real date and time with a zone"],
            [4, "time '…' is older than the retention horizon (400 days)"],
          ],
        );
        const ev = (await call(`${srv.url}/api/v1/events?host=web-01`, { token: ADMIN })).body.events as {
          time: string;
        }[];
        assert.deepEqual(
          ev.map((e) => e.time),
          ['2026-03-09T12:00:00+02:00'],
        );
        // A zone-less query bound is UTC: 10:00 UTC is the event's instant, whatever TZ the server runs in.
        const at = await call(
          `${srv.url}/api/v1/events?host=web-01&from=2026-03-09T10:00:00&to=2026-03-09T10:00:01`,
          {
            token: ADMIN,
          },
        );
        assert.equal((at.body.events as unknown[]).length, 1);
        // gzip request bodies; a gzip bomb is refused by its inflated size.
        const gz = await call(`${srv.url}/api/v1/events`, {
          token: ADMIN,
          body: gzipSync(lines([hb('z1', 'web-09')])),
          headers: { 'content-encoding': 'gzip' },
        });
        assert.deepEqual([gz.status, gz.body.accepted], [200, 1]);
        const bomb = await call(`${srv.url}/api/v1/events`, {
          token: ADMIN,
          body: gzipSync(Buffer.alloc(64 << 20, 0x20)),
          headers: { 'content-encoding': 'gzip' },
        });
        assert.equal(bomb.status, 413);
        // Revoke: a token whose name is another token's id.
        const a = newToken('first', false);
        const b = newToken(a.record.id, false);
        await store.putToken(a.record);
        await store.putToken(b.record);
        const byName = await call(`${srv.url}/api/v1/tokens/${a.record.id}`, {
          token: ADMIN,
          method: 'DELETE',
        });
        assert.deepEqual([byName.status, byName.body.revoked], [200, 1]);
        assert.equal((await store.getToken(a.record.id))?.revoked, false);
        assert.equal((await store.getToken(b.record.id))?.revoked, true);
        const byId = await call(`${srv.url}/api/v1/tokens/by-id/${a.record.id}`, {
          token: ADMIN,
          method: 'DELETE',
        });
        assert.deepEqual([byId.status, byId.body.revoked], [200, 1]);
      } finally {
        await srv.close();
        await store.close();
      }
    });
  });
}

test('duckdb: the store file and its WAL are 0600, a directory made for it 0700', async () => {
  const path = join(dir, 'modes', 'sub', 'store.db');
  const store = await DuckDBStore.open(path, { memoryLimit: '256MB' });
  try {
    await store.ingest([hb('m1', 'web-01') as never]);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(statSync(`${path}.wal`).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'modes', 'sub')).mode & 0o777, 0o700);
  } finally {
    await store.close();
  }
});

/** A TCP relay to ClickHouse that the test can cut, as a network outage would. */
async function relay(target: URL): Promise<{ url: string; cut(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((c) => {
    const up = tcpConnect(Number(target.port), target.hostname);
    sockets.add(c).add(up);
    c.pipe(up).pipe(c);
    const end = () => {
      c.destroy();
      up.destroy();
    };
    c.on('error', end).on('close', end);
    up.on('error', end).on('close', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `clickhouse://127.0.0.1:${port}`,
    cut: async () => {
      await new Promise<void>((r) => {
        server.close(() => r());
        for (const s of sockets) s.destroy();
      });
    },
  };
}

test('clickhouse: while the store is unreachable, ingest and reads answer 503 with Retry-After', {
  skip: ch.skip ?? false,
}, async () => {
  const r = await relay(new URL(ch.url!.replace('clickhouse:', 'http:')));
  const db = uniqueDb('mw_down');
  chDbs.push(db);
  const store = await ClickHouseStore.open(`${r.url}/${db}`);
  const srv = await serve(store);
  try {
    assert.equal(
      (await call(`${srv.url}/api/v1/events`, { token: ADMIN, body: lines([hb('a', 'w')]) })).status,
      200,
    );
    await r.cut();
    const ing = await call(`${srv.url}/api/v1/events`, { token: ADMIN, body: lines([hb('b', 'w')]) });
    assert.equal(ing.status, 503);
    assert.ok(Number(ing.headers['retry-after']) > 0);
    const read = await call(`${srv.url}/api/v1/hosts`, { token: ADMIN });
    assert.equal(read.status, 503);
  } finally {
    await srv.close();
    await store.close().catch(() => undefined);
  }
});

function selfSigned(): { cert: string; key: string } | undefined {
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-keyout',
        join(dir, 'k.pem'),
        '-out',
        join(dir, 'c.pem'),
      ],
      { stdio: 'ignore' },
    );
  } catch {
    return undefined;
  }
  return { cert: readFileSync(join(dir, 'c.pem'), 'utf8'), key: readFileSync(join(dir, 'k.pem'), 'utf8') };
}

test('under TLS every answer carries HSTS', async (t) => {
  const tls = selfSigned();
  if (!tls) {
    if (process.env.CI === 'true') throw new Error('openssl is needed for the TLS test under CI=true');
    return t.skip('openssl not installed');
  }
  const store = await DuckDBStore.open(':memory:');
  const srv = await serve(store, { https: tls });
  try {
    const res = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const r = httpsRequest(`${srv.url}/health`, { rejectUnauthorized: false }, (x) => {
        x.resume();
        resolve(x.headers);
      });
      r.on('error', reject);
      r.end();
    });
    assert.equal(res['strict-transport-security'], 'max-age=31536000');
  } finally {
    await srv.close();
    await store.close();
  }
});

test('serve refuses a short MINEWATCH_ADMIN_TOKEN and warns about a weak one', async () => {
  await assert.rejects(
    spawnServe(['--db', join(dir, 'weak.db'), '--listen', '127.0.0.1:0'], { MINEWATCH_ADMIN_TOKEN: 'demo' }),
    /MINEWATCH_ADMIN_TOKEN is 4 characters; at least 16 are required: refusing to start/,
  );
  const s = await spawnServe(['--db', join(dir, 'weak2.db'), '--listen', '127.0.0.1:0'], {
    MINEWATCH_ADMIN_TOKEN: 'aaaaaaaaaaaaaaaaaaaa',
  });
  try {
    assert.match(s.stderr(), /WARNING: MINEWATCH_ADMIN_TOKEN is weak/);
  } finally {
    s.child.kill('SIGKILL');
  }
});
