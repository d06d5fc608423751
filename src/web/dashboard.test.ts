/**
 * The dashboard without a browser: filters and links, cookies and origin checks, and the server wiring through
 * `buildServer` (the API's bearer auth untouched; /ui refused without a session; login, CSRF, logout).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { MinewatchEvent } from '../findings/index.ts';
import { buildServer } from '../server/app.ts';
import { openStore } from '../store/index.ts';
import { isDashboardPath, safeNext } from './app.ts';
import { DashboardData } from './data.ts';
import { bounds, groupOf, link, parseFilter } from './filter.ts';
import { html } from './html.ts';
import { parseCookies, Sessions, sameOrigin } from './session.ts';

const DAY = 86_400_000;

test('filters: parsed leniently, kept in links, relative to the data clock on whole days', () => {
  assert.deepEqual(parseFilter({ range: '7d', coin: 'xmr', group: 'web-eu1' }), {
    range: '7d',
    coin: 'XMR',
    group: 'web-eu1',
  });
  assert.deepEqual(parseFilter({ from: '2018-04-01', to: '2018-04-30' }), {
    range: 'custom',
    from: '2018-04-01',
    to: '2018-04-30',
  });
  // A preset wins over dates left in the form; garbage is dropped, not an error.
  assert.equal(parseFilter({ range: '30d', from: '2018-04-01' }).range, '30d');
  assert.deepEqual(parseFilter({ range: 'DROP', coin: "x'; --", group: '<script>' }), { range: '90d' });
  const f = parseFilter({ range: 'all', coin: 'XMR' });
  assert.equal(link('/ui/hosts', f, { sort: 'pool' }), '/ui/hosts?range=all&coin=XMR&sort=pool');
  assert.equal(link('/ui/', { range: '90d' }), '/ui/');
  const clock = Date.UTC(2018, 8, 30, 23, 46);
  assert.deepEqual(bounds({ range: '7d' }, clock), { from: Date.UTC(2018, 8, 24), to: Date.UTC(2018, 9, 1) });
  assert.deepEqual(bounds({ range: '24h' }, clock), {
    from: Date.UTC(2018, 8, 30),
    to: Date.UTC(2018, 8, 30) + DAY,
  });
  assert.deepEqual(bounds({ range: 'custom', from: '2018-04-15', to: '2018-04-15' }, clock), {
    from: Date.UTC(2018, 3, 15),
    to: Date.UTC(2018, 3, 16),
  });
  assert.equal(groupOf('web-eu1-00012'), 'web-eu1');
  assert.equal(groupOf('host-42'), 'host');
  assert.equal(groupOf('db7', { group: 'payments' }), 'payments');
});

test('html escapes what attackers control; cookies and origins parse strictly', () => {
  const wallet = '"><script>alert(1)</script>';
  assert.equal(
    html`<td title="${wallet}">${wallet}</td>`.s,
    '<td title="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;">&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;</td>',
  );
  assert.deepEqual(parseCookies('a=1; mw_session=abc%3D; a=2'), { a: '1', mw_session: 'abc=' });
  assert.ok(sameOrigin({ origin: 'http://127.0.0.1:8750', host: '127.0.0.1:8750' }));
  assert.ok(!sameOrigin({ origin: 'http://evil.example', host: '127.0.0.1:8750' }));
  assert.ok(!sameOrigin({ host: '127.0.0.1:8750' }), 'no Origin and no Referer: refused');
  assert.ok(sameOrigin({ referer: 'http://127.0.0.1:8750/ui/', host: '127.0.0.1:8750' }));
  assert.equal(safeNext('/ui/hosts?coin=XMR'), '/ui/hosts?coin=XMR');
  assert.equal(safeNext('//evil.example/ui/'), '/ui/');
  assert.equal(safeNext('https://evil.example'), '/ui/');
  assert.ok(isDashboardPath('/') && isDashboardPath('/ui') && isDashboardPath('/ui/hosts?x=1'));
  assert.ok(!isDashboardPath('/api/v1/hosts') && !isDashboardPath('/uix') && !isDashboardPath('/health'));
  const s = new Sessions(1000);
  const one = s.create('admin-env', 'admin', 0);
  assert.equal(s.get(one.id, 10)?.name, 'admin');
  assert.equal(s.get(one.id, 1000), null, 'expired');
});

test('served by buildServer: /ui needs a session, login is CSRF-safe, the API keeps bearer auth', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'minewatch-ui-unit-'));
  const store = await openStore(join(dir, 's.db'));
  const admin = 'unit-admin-token-0123456789abcdef';
  const app = await buildServer({ store, adminToken: admin, rateLimit: 0 });
  try {
    const ev: MinewatchEvent[] = [
      { id: 'a', type: 'heartbeat', host: 'web-eu1-00001', time: '2018-04-01T00:00:00Z', os: 'Debian' },
      {
        id: 'b',
        type: 'finding',
        host: 'web-eu1-00001',
        time: '2018-04-01T01:00:00Z',
        finding: {
          id: 'f',
          rule: 'net.pool.connection',
          title: 'pool',
          severity: 'high',
          confidence: 1,
          attack: [],
          evidence: [],
          coin: 'XMR',
          wallet: 'W1',
          pool: { host: 'pool.example', port: 3333 },
          proxy: { protocol: 'socks5', ip: '10.2.0.1', port: 1080 },
        },
      },
      {
        id: 'c',
        type: 'finding',
        host: 'web-eu1-00002',
        time: '2018-04-01T02:00:00Z',
        finding: {
          id: 'g',
          rule: 'net.pool.connection',
          title: 'pool',
          severity: 'high',
          confidence: 1,
          attack: [],
          evidence: [],
          coin: 'XMR',
          wallet: 'W1',
        },
      },
    ];
    await store.ingest(ev);
    assert.equal((await app.inject({ url: '/api/v1/hosts' })).statusCode, 401, 'API without a token');
    assert.equal(
      (await app.inject({ url: '/api/v1/hosts', headers: { authorization: `Bearer ${admin}` } })).statusCode,
      200,
    );
    assert.equal((await app.inject({ url: '/ui/api/overview' })).statusCode, 401);
    const page = await app.inject({ url: '/ui/campaigns?coin=XMR' });
    assert.equal(page.statusCode, 302);
    assert.equal(page.headers.location, '/ui/login?next=%2Fui%2Fcampaigns%3Fcoin%3DXMR');
    assert.equal((await app.inject({ url: '/' })).headers.location, '/ui/');
    // A bearer token does not open the dashboard: it authenticates by session only.
    assert.equal(
      (await app.inject({ url: '/ui/api/pulse', headers: { authorization: `Bearer ${admin}` } })).statusCode,
      401,
    );

    const form = { 'content-type': 'application/x-www-form-urlencoded', host: 'localhost:8750' };
    const cross = await app.inject({
      method: 'POST',
      url: '/ui/login',
      headers: { ...form, origin: 'http://evil.example' },
      payload: `token=${admin}`,
    });
    assert.equal(cross.statusCode, 403, 'cross-site login refused');
    const bad = await app.inject({
      method: 'POST',
      url: '/ui/login',
      headers: { ...form, origin: 'http://localhost:8750' },
      payload: 'token=nope',
    });
    assert.equal(bad.headers['set-cookie'], undefined);
    const ok = await app.inject({
      method: 'POST',
      url: '/ui/login',
      headers: { ...form, origin: 'http://localhost:8750' },
      payload: `token=${admin}&next=%2Fui%2Fcampaigns`,
    });
    assert.equal(ok.statusCode, 303);
    assert.equal(ok.headers.location, '/ui/campaigns');
    const set = String(ok.headers['set-cookie']);
    assert.match(set, /HttpOnly/);
    assert.match(set, /SameSite=Strict/);
    const cookie = set.split(';')[0]!;
    const camp = await app.inject({ url: '/ui/api/campaigns', headers: { cookie } });
    assert.equal(camp.statusCode, 200);
    assert.deepEqual(
      camp.json().campaigns.map((c: { key: string; hosts: number }) => [c.key, c.hosts]),
      [['W1', 2]],
    );
    const overview = await app.inject({ url: '/ui/api/overview?range=all', headers: { cookie } });
    assert.equal(overview.json().kpis.findings, 2);
    // The host page says which proxy a connection went through.
    const hostPage = await app.inject({ url: '/ui/hosts/web-eu1-00001?range=all', headers: { cookie } });
    assert.equal(hostPage.statusCode, 200);
    assert.match(hostPage.body, /via proxy <code>socks5 10\.2\.0\.1:1080<\/code>/);
    const html = await app.inject({ url: '/ui/', headers: { cookie } });
    assert.match(String(html.headers['content-security-policy']), /script-src 'self'/);
    const csrf = /name="csrf" value="([^"]+)"/.exec(html.body)?.[1];
    assert.ok(csrf);
    // Logout without the CSRF token (or from another origin) does nothing.
    const noCsrf = await app.inject({
      method: 'POST',
      url: '/ui/logout',
      headers: { ...form, origin: 'http://localhost:8750', cookie },
      payload: 'csrf=wrong',
    });
    assert.equal(noCsrf.statusCode, 403);
    const out = await app.inject({
      method: 'POST',
      url: '/ui/logout',
      headers: { ...form, origin: 'http://localhost:8750', cookie },
      payload: `csrf=${csrf}`,
    });
    assert.equal(out.statusCode, 303);
    assert.equal((await app.inject({ url: '/ui/api/pulse', headers: { cookie } })).statusCode, 401);
  } finally {
    await app.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a group filter narrows the overview: coins, pools, ports and the daily trend of that group only', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'minewatch-ui-group-'));
  const store = await openStore(join(dir, 'g.db'));
  try {
    // web-* hosts mine XMR on nanopool:14444; db-* hosts mine ETN on another pool and port.
    const conn = (host: string, i: number, pool: string, port: number, coin: string) => ({
      id: `${host}-${i}`,
      time: `2018-09-${String(10 + (i % 9)).padStart(2, '0')}T10:00:00Z`,
      host,
      type: 'connection' as const,
      src_ip: '10.0.0.1',
      dst_ip: '198.51.100.1',
      dst_port: port,
      domain: pool,
      coin,
      pool,
    });
    const events = [];
    for (let h = 1; h <= 3; h++)
      for (let i = 0; i < 4; i++) events.push(conn(`web-${h}`, i, 'xmr.nanopool.org', 14444, 'XMR'));
    for (let h = 1; h <= 2; h++)
      for (let i = 0; i < 4; i++) events.push(conn(`db-${h}`, i, 'etn.pool.example', 5555, 'ETN'));
    await store.ingest(events);
    const data = new DashboardData(store);
    const all = await data.overview(parseFilter({ range: 'all' }));
    assert.deepEqual(all.pools.map((p) => p.key).sort(), ['etn.pool.example', 'xmr.nanopool.org']);
    const web = await data.overview(parseFilter({ range: 'all', group: 'web' }));
    assert.deepEqual(
      web.pools.map((p) => [p.key, p.hosts]),
      [['xmr.nanopool.org', 3]],
    );
    assert.deepEqual(
      web.ports.map((p) => [p.key, p.hosts]),
      [['14444', 3]],
    );
    assert.deepEqual(
      web.coins.map((c) => c.key),
      ['XMR'],
    );
    assert.equal(web.kpis.hosts, 3);
    // The daily trend draws one line per coin: the whole fleet has both coins, the web group only XMR.
    const trendCoins = (o: typeof all) =>
      o.series.map((x) => x.name).filter((n) => n !== 'newly flagged hosts');
    assert.deepEqual(trendCoins(all).sort(), ['ETN', 'XMR']);
    assert.deepEqual(trendCoins(web), ['XMR']);
  } finally {
    await store.close();
  }
});
