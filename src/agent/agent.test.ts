import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { agentToken } from '../cli/agent.ts';
import type { Finding, MinewatchEvent } from '../findings/index.ts';
import { startServer } from '../server/app.ts';
import { newToken } from '../server/tokens.ts';
import { ClickHouseStore } from '../store/clickhouse.ts';
import { DuckDBStore } from '../store/duckdb.ts';
import { freePort, testClickHouse, uniqueDb } from '../store/testkit.ts';
import type { Store } from '../store/types.ts';
import {
  Agent,
  type AgentScan,
  backoffDelay,
  cloudOf,
  osName,
  readInventory,
  runAgent,
  Spool,
  spoolClass,
} from './index.ts';

const dir = mkdtempSync(join(tmpdir(), 'minewatch-agent-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const fresh = (name: string) => join(dir, `${name}-${n++}`);

test('backoff: exponential, capped, jittered within [ceiling/2, ceiling]', () => {
  const o = { baseMs: 100, capMs: 1000 };
  assert.equal(
    backoffDelay(0, o, () => 0),
    50,
  );
  assert.equal(
    backoffDelay(0, o, () => 1),
    100,
  );
  assert.equal(
    backoffDelay(3, o, () => 1),
    800,
  );
  assert.equal(
    backoffDelay(10, o, () => 1),
    1000,
  );
  assert.equal(
    backoffDelay(99, o, () => 0),
    500,
  );
  const seen = new Set(Array.from({ length: 50 }, () => backoffDelay(5, o)));
  assert.ok(seen.size > 10, 'jitter spreads retries');
});

const ev = (type: string, sev?: string, i = 0): MinewatchEvent =>
  (type === 'finding'
    ? {
        id: `f${i}`,
        time: '2026-03-01T00:00:00Z',
        host: 'h',
        type,
        finding: { rule: 'r', severity: sev, pad: 'x'.repeat(400) },
      }
    : {
        id: `e${i}`,
        time: '2026-03-01T00:00:00Z',
        host: 'h',
        type: 'heartbeat',
        pad: 'x'.repeat(400),
      }) as MinewatchEvent;

test('spool: classes, send order, bounded with heartbeats and low findings dropped first', () => {
  assert.deepEqual(
    [ev('heartbeat'), ev('finding', 'low'), ev('finding', 'medium'), ev('finding', 'critical')].map(
      spoolClass,
    ),
    [0, 1, 2, 3],
  );
  const s = new Spool(fresh('spool'), 4000, 2);
  s.add([ev('finding', 'high', 1), ev('finding', 'high', 2)]);
  s.add([ev('heartbeat', undefined, 3), ev('heartbeat', undefined, 4)]);
  s.add([ev('finding', 'low', 5), ev('finding', 'low', 6)]);
  s.add([ev('finding', 'medium', 7)]);
  assert.deepEqual(
    s.files().map((f) => f.cls),
    [3, 2, 1, 0],
  );
  // Over the bound: the heartbeats go first, then the low findings; the high ones stay.
  s.add([ev('finding', 'high', 8), ev('finding', 'high', 9)]);
  s.add([ev('finding', 'critical', 10)]);
  const classes = s.files().map((f) => f.cls);
  assert.ok(!classes.includes(0), `heartbeats dropped first: ${classes}`);
  assert.ok(classes.filter((c) => c === 3).length === 3, 'no high finding dropped');
  assert.ok(s.dropped >= 2);
  assert.ok(s.bytes() <= 4000);
  // Counters survive a restart; a split keeps every event.
  const again = new Spool(s.dir, 4000, 2);
  assert.equal(again.dropped, s.dropped);
  const first = again.files()[0]!;
  assert.ok(again.split(first));
  assert.equal(
    again.files().reduce((a, f) => a + again.read(f).length, 0),
    s.files().reduce((a, f) => a + s.read(f).length, 0),
  );
});

test('inventory below a root: cloud-init id, DMI, os-release, cpus', () => {
  const root = fresh('root');
  const put = (p: string, text: string) => {
    mkdirSync(dirname(join(root, p)), { recursive: true });
    writeFileSync(join(root, p), text);
  };
  put('etc/hostname', 'web-01\n');
  put('etc/os-release', 'NAME="Debian GNU/Linux"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n');
  put('sys/class/dmi/id/sys_vendor', 'Amazon EC2\n');
  put('sys/class/dmi/id/board_asset_tag', 'i-0123456789abcdef0\n');
  put('sys/class/dmi/id/product_uuid', 'EC2ABCDE-0000-0000-0000-000000000000\n');
  put('proc/cpuinfo', 'processor\t: 0\nmodel name\t: x\n\nprocessor\t: 1\n');
  assert.deepEqual(readInventory(root), {
    hostname: 'web-01',
    instance_id: 'i-0123456789abcdef0',
    cloud: 'aws',
    os: 'Debian GNU/Linux 12 (bookworm)',
    cpus: 2,
  });
  put('var/lib/cloud/data/instance-id', 'i-fromcloudinit\n');
  assert.equal(readInventory(root).instance_id, 'i-fromcloudinit');
  assert.equal(cloudOf('Google', 'Google Compute Engine'), 'gcp');
  assert.equal(cloudOf('QEMU', 'Standard PC'), undefined);
  assert.equal(osName('NAME=Alpine\nVERSION=3.19'), 'Alpine 3.19');
  assert.deepEqual(readInventory(fresh('empty')), {});
});

const FINDINGS: Finding[] = [
  {
    id: 'fa',
    rule: 'host.process.miner-exe',
    title: 'Process 4242 runs the miner binary /tmp/.x/xmrig',
    severity: 'critical',
    confidence: 0.95,
    attack: [{ technique: 'T1496', name: 'Resource Hijacking' }],
    coin: 'xmr',
    pool: { host: 'pool.supportxmr.com', port: 443 },
    evidence: [{ kind: 'process', pid: 4242, path: '/tmp/.x/xmrig' }],
  },
  {
    id: 'fb',
    rule: 'host.persistence.cron',
    title: 'cron',
    severity: 'high',
    confidence: 0.8,
    attack: [],
    evidence: [],
  },
];
const fakeScan = async (): Promise<AgentScan> => ({
  host: { hostname: 'web-01', os: 'linux' },
  findings: FINDINGS,
  verdict: { status: 'infected', infection_type: 'type2-stock-miner-dropper' },
  stats: { processes: 3 },
});
const inventory = () => ({
  hostname: 'web-01',
  instance_id: 'i-0abc',
  cloud: 'aws',
  os: 'Debian 12',
  cpus: 2,
});

const ch = await testClickHouse();
after(() => ch.stop());

const engines: Array<{ name: string; open: () => Promise<Store>; skip?: string }> = [
  { name: 'duckdb', open: () => DuckDBStore.open(`${fresh('db')}.db`, { memoryLimit: '256MB' }) },
  {
    name: 'clickhouse',
    open: () => ClickHouseStore.open(`${ch.url}/${uniqueDb('mw_agent')}`),
    ...(ch.skip ? { skip: ch.skip } : {}),
  },
];

for (const eng of engines) {
  test(`${eng.name}: agent spools while the server is down, delivers once it is back; findings queryable`, {
    skip: eng.skip ?? false,
    timeout: 30_000,
  }, async () => {
    const store = await eng.open();
    const tok = newToken('web-01', false);
    await store.putToken(tok.record);
    const port = await freePort();
    const server = `http://127.0.0.1:${port}`;
    const spoolDir = fresh('spool');
    const logs: string[] = [];
    const base = {
      server,
      token: tok.token,
      spoolDir,
      scan: fakeScan,
      inventory,
      once: true,
      backoff: { baseMs: 50, capMs: 200 },
      log: (m: string) => logs.push(m),
    };

    // Server away: everything stays in the spool.
    const down = await runAgent({ ...base, deliverMs: 300 });
    assert.equal(down.delivered, 0);
    assert.equal(down.pending, 3);
    assert.ok(logs.some((l) => /unreachable/.test(l)));
    assert.ok(readdirSync(spoolDir).some((f) => f.endsWith('.ndjson')));

    // The server comes back while a second run retries: both reports get through, findings not resent.
    const started = (async () => {
      await new Promise((r) => setTimeout(r, 300));
      return startServer({ store, listen: `127.0.0.1:${port}`, closeStore: false });
    })();
    const up = await runAgent({ ...base, deliverMs: 10_000 });
    const srv = await started;
    try {
      assert.equal(up.pending, 0);
      assert.equal(up.delivered, 4, 'first run: 2 findings + heartbeat; second run: heartbeat only');
      const found = await store.findings({ host: 'web-01' });
      assert.deepEqual(found.map((f) => f.finding.id).sort(), ['fa', 'fb']);
      // Traceable: the token that sent them, by name and id.
      assert.equal(found[0]!.source, `token:web-01#${tok.record.id}`);
      const hosts = await store.hosts();
      assert.equal(hosts.length, 1);
      assert.equal(hosts[0]!.max_severity, 'critical');
      assert.equal(hosts[0]!.inventory?.instance_id, 'i-0abc');
      assert.equal(hosts[0]!.inventory?.verdict, 'infected');
      assert.equal(await store.count({ type: 'heartbeat' }), 2);
      assert.deepEqual(
        (await store.rank('pool')).map((r) => r.key),
        ['pool.supportxmr.com'],
      );
      // A refused token is an error, not a retry loop; the report stays spooled.
      await assert.rejects(
        () => runAgent({ ...base, token: newToken('x', false).token }),
        /refused the token/,
      );
    } finally {
      await srv.close();
      if (store instanceof ClickHouseStore) await store.dropDatabase();
      await store.close();
    }
  });
}

/**
 * A fleet server on loopback for web-01: a DuckDB store in `where` holding its token, the server in front
 * of it (over TLS with `https`), and what every agent run against it shares: the fake scan and inventory,
 * one run, short backoff.
 */
async function fleetOnLoopback(where: string, https?: { cert: Buffer; key: Buffer }) {
  const store = await DuckDBStore.open(join(where, 'fleet.db'));
  const tok = newToken('web-01', false);
  await store.putToken(tok.record);
  const port = await freePort();
  const server = `${https ? 'https' : 'http'}://127.0.0.1:${port}`;
  const srv = await startServer({
    store,
    listen: `127.0.0.1:${port}`,
    closeStore: false,
    ...(https ? { https } : {}),
  });
  const base = {
    server,
    token: tok.token,
    scan: fakeScan,
    inventory,
    once: true,
    backoff: { baseMs: 50, capMs: 200 },
  };
  return {
    store,
    port,
    server,
    base,
    close: async () => {
      await srv.close();
      await store.close();
    },
  };
}

/** A forward proxy on loopback that only tunnels (HTTP CONNECT), recording each target it was asked for. */
async function connectProxy(): Promise<{ url: string; targets: string[]; close: () => Promise<void> }> {
  const { createServer: createHttp } = await import('node:http');
  const { connect } = await import('node:net');
  const targets: string[] = [];
  const sockets = new Set<import('node:net').Socket>();
  const srv = createHttp((_req, res) => {
    res.writeHead(405).end('tunnels only');
  });
  srv.on('connect', (req, client, head) => {
    targets.push(req.url ?? '');
    const [host, port] = (req.url ?? '').split(':');
    sockets.add(client as import('node:net').Socket);
    const up = connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) up.write(head);
      up.pipe(client);
      client.pipe(up);
    });
    sockets.add(up);
    up.on('error', () => client.destroy());
    client.on('error', () => up.destroy());
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const a = srv.address() as { port: number };
  return {
    url: `http://127.0.0.1:${a.port}`,
    targets,
    close: () =>
      new Promise((r) => {
        for (const so of sockets) so.destroy();
        srv.closeAllConnections();
        srv.close(() => r());
      }),
  };
}

test('behind an egress proxy: --proxy, or HTTP_PROXY with NO_PROXY honoured', {
  timeout: 30_000,
}, async () => {
  const { transportFetch } = await import('./proxy.ts');
  const where = fresh('proxy');
  mkdirSync(where, { recursive: true });
  const fleet = await fleetOnLoopback(where);
  const { server, port } = fleet;
  const base = { ...fleet.base, deliverMs: 5_000 };
  const proxy = await connectProxy();
  /** One agent run through what `choice` picks; the fetch is let go of after. */
  const run = async (choice: Parameters<typeof transportFetch>[0]) => {
    const f = await transportFetch(choice);
    try {
      return await runAgent({ ...base, spoolDir: fresh('spool'), ...(f ? { fetch: f } : {}) });
    } finally {
      await f?.close();
    }
  };
  try {
    // --proxy: every request is tunnelled through it.
    const r1 = await run({ server, proxy: proxy.url, env: {} });
    assert.deepEqual([r1.pending, r1.delivered], [0, 3]);
    assert.deepEqual([...new Set(proxy.targets)], [`127.0.0.1:${port}`]);
    // The environment, as curl reads it (HTTP_PROXY for an http:// server).
    const seen = proxy.targets.length;
    const r2 = await run({ server, env: { HTTP_PROXY: proxy.url, HTTPS_PROXY: 'http://127.0.0.1:9' } });
    assert.equal(r2.pending, 0);
    assert.ok(proxy.targets.length > seen, 'HTTP_PROXY is used');
    // NO_PROXY names the server: straight there, the proxy sees nothing more.
    const after = proxy.targets.length;
    const r3 = await run({ server, env: { http_proxy: proxy.url, no_proxy: 'example.org, 127.0.0.1' } });
    assert.equal(r3.pending, 0);
    assert.equal(proxy.targets.length, after);
    await assert.rejects(() => transportFetch({ server, proxy: 'not a url' }));
  } finally {
    await proxy.close();
    await fleet.close();
  }
});

test('NO_PROXY and the proxy for a server, as curl reads them', async () => {
  const { bypassed, proxyFor } = await import('./proxy.ts');
  const u = (s: string) => new URL(s);
  assert.ok(bypassed(u('https://mw.corp.internal:8750'), '.internal'));
  assert.ok(bypassed(u('https://mw.corp.internal:8750'), 'corp.internal'));
  assert.ok(bypassed(u('https://mw.corp.internal:8750'), 'localhost,*.corp.internal'));
  assert.ok(!bypassed(u('https://mw.corp.internal:8750'), 'other.internal'));
  assert.ok(!bypassed(u('https://notcorp.internal'), 'corp.internal'));
  assert.ok(bypassed(u('https://mw.corp.internal:8750'), 'mw.corp.internal:8750'));
  assert.ok(!bypassed(u('https://mw.corp.internal:8750'), 'mw.corp.internal:443'));
  assert.ok(bypassed(u('http://[::1]:8750'), '::1'));
  assert.ok(bypassed(u('http://10.0.0.5'), '*'));
  const env = { HTTPS_PROXY: 'http://proxy:3128', http_proxy: 'http://plain:3128', NO_PROXY: '.internal' };
  assert.equal(proxyFor({ server: 'https://mw.example.com', env }), 'http://proxy:3128');
  assert.equal(proxyFor({ server: 'http://mw.example.com', env }), 'http://plain:3128');
  assert.equal(proxyFor({ server: 'https://mw.corp.internal', env }), undefined);
  assert.equal(proxyFor({ server: 'https://mw.corp.internal', env, proxy: 'http://x:1' }), 'http://x:1');
  assert.equal(proxyFor({ server: 'https://mw.example.com', env: {} }), undefined);
});

test('a server with a private CA: trusted with --ca, refused without (the report stays spooled)', {
  timeout: 30_000,
}, async (t) => {
  const { execFileSync } = await import('node:child_process');
  const where = fresh('tls');
  mkdirSync(where, { recursive: true });
  // A CA and a server certificate for 127.0.0.1 it signed, as an operator would make them.
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: where, stdio: 'ignore' });
  try {
    ssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      '-days',
      '2',
      '-subj',
      '/CN=minewatch test CA',
    );
    ssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'srv.key',
      '-out',
      'srv.csr',
      '-subj',
      '/CN=127.0.0.1',
    );
    writeFileSync(join(where, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1\n');
    ssl(
      'x509',
      '-req',
      '-in',
      'srv.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      'srv.pem',
      '-days',
      '2',
      '-extfile',
      'ext.cnf',
    );
  } catch {
    return t.skip('openssl is not installed');
  }
  const { readFileSync } = await import('node:fs');
  const { transportFetch } = await import('./proxy.ts');
  const fleet = await fleetOnLoopback(where, {
    cert: readFileSync(join(where, 'srv.pem')),
    key: readFileSync(join(where, 'srv.key')),
  });
  const { server, store } = fleet;
  const logs: string[] = [];
  const base = { ...fleet.base, deliverMs: 1_000, log: (m: string) => logs.push(m) };
  try {
    const plain = await runAgent({ ...base, spoolDir: fresh('spool') });
    assert.equal(plain.delivered, 0);
    assert.equal(plain.pending, 3);
    assert.ok(
      logs.some((l) => /unreachable/.test(l)),
      logs.join('\n'),
    );
    const f = await transportFetch({ server, ca: readFileSync(join(where, 'ca.pem'), 'utf8'), env: {} });
    assert.ok(f);
    try {
      const ok = await runAgent({ ...base, spoolDir: fresh('spool'), deliverMs: 5_000, fetch: f });
      assert.deepEqual([ok.pending, ok.delivered], [0, 3]);
    } finally {
      await f.close();
    }
    assert.equal(await store.count({ type: 'heartbeat' }), 1);
  } finally {
    await fleet.close();
  }
});

test('dead letters: refused lines and batches the server keeps refusing leave the queue, counted in the heartbeat', async () => {
  const store = await DuckDBStore.open(':memory:');
  const tok = newToken('web-01', false, new Date(), 'web-01');
  await store.putToken(tok.record);
  const srv = await startServer({ store, listen: '127.0.0.1:0', closeStore: false, log: () => undefined });
  const spoolDir = fresh('spool');
  const logs: string[] = [];
  const base = {
    server: srv.url,
    token: tok.token,
    spoolDir,
    scan: fakeScan,
    inventory,
    once: true,
    deliverMs: 5000,
    backoff: { baseMs: 10, capMs: 20 },
    log: (m: string) => logs.push(m),
  };
  try {
    // A line the server refuses (another host's event, queued by a compromised agent) goes to dead/ with the
    // server's reason; the rest of its batch, and the report, are delivered (gzip bodies).
    const spool = new Spool(spoolDir);
    spool.add([
      { id: 'x1', time: new Date().toISOString(), host: 'db-01', type: 'heartbeat' },
      { id: 'x2', time: new Date().toISOString(), host: 'web-01', type: 'heartbeat' },
    ]);
    const r = await runAgent(base);
    assert.equal(r.pending, 0);
    assert.equal(r.rejected, 1);
    const dead = readdirSync(join(spoolDir, 'dead'));
    assert.equal(dead.filter((f) => f.endsWith('.ndjson')).length, 1);
    const why = readFileSync(join(spoolDir, 'dead', dead.find((f) => f.endsWith('.why'))!), 'utf8');
    assert.match(why, /speaks for host 'web-01', not 'db-01'/);
    assert.equal(await store.count({ host: 'db-01' }), 0);
    assert.equal(await store.count({ host: 'web-01', type: 'heartbeat' }), 2);
    // The next heartbeat says how many events are in dead/.
    await runAgent(base);
    const beats = await store.events({ host: 'web-01', type: 'heartbeat' });
    assert.equal(beats[0]!.dead_letters, 1);
  } finally {
    await srv.close();
    await store.close();
  }
});

test('dead letters: a 4xx at once, a 500 after a bound, a 503 never; the queue moves on', async () => {
  const spoolDir = fresh('spool');
  const spool = new Spool(spoolDir, 1 << 20, 1);
  const hb = (id: string): MinewatchEvent => ({
    id,
    time: new Date().toISOString(),
    host: 'web-01',
    type: 'heartbeat',
  });
  spool.add([hb('a'), hb('b'), hb('c')]);
  // The transport: what a broken or hostile path to the server answers, per event id in the body.
  const answers: Record<string, number[]> = { a: [422], b: [500, 500, 500], c: [503, 503, 200] };
  const seen: string[] = [];
  const fake = (async (_u: unknown, init: RequestInit) => {
    const text = gunzipSync(Buffer.from(init.body as Uint8Array)).toString('utf8');
    assert.equal((init.headers as Record<string, string>)['content-encoding'], 'gzip');
    const id = (JSON.parse(text.trim()) as { id: string }).id;
    seen.push(id);
    const status = (answers[id] ?? []).shift() ?? 200;
    const body = status === 200 ? { accepted: 1, duplicates: 0, rejected: [] } : { error: 'no' };
    return new Response(JSON.stringify(body), { status });
  }) as typeof fetch;
  const r = await runAgent({
    server: 'http://127.0.0.1:9',
    token: 't',
    spoolDir,
    scan: async () => ({ host: { hostname: 'web-01' }, findings: [], verdict: { status: 'clean' } }),
    inventory: () => ({ hostname: 'web-01' }),
    once: true,
    deliverMs: 10_000,
    backoff: { baseMs: 1, capMs: 2 },
    maxServerErrors: 3,
    fetch: fake,
  });
  assert.equal(r.pending, 0);
  // a: once (422, dead); b: three 500s (dead); c: 503 twice then delivered; then the new heartbeat.
  assert.deepEqual(seen.slice(0, 7), ['a', 'b', 'b', 'b', 'c', 'c', 'c']);
  assert.equal(new Spool(spoolDir).deadLettered, 2);
});

test('the agent token comes from --token-file or MINEWATCH_TOKEN, never needing the command line', () => {
  const d = fresh('tok');
  mkdirSync(d, { recursive: true });
  const f = join(d, 'token');
  writeFileSync(f, 'mwt_abc\n');
  chmodSync(f, 0o644);
  const warnings: string[] = [];
  const warn = (m: string) => warnings.push(m);
  assert.equal(agentToken({ tokenFile: f }, warn, {}), 'mwt_abc');
  assert.match(warnings.join('\n'), /readable by other users/);
  assert.equal(agentToken({}, warn, { MINEWATCH_TOKEN: 'mwt_env' }), 'mwt_env');
  assert.equal(agentToken({}, warn, { MINEWATCH_AGENT_TOKEN: 'mwt_old' }), 'mwt_old');
  warnings.length = 0;
  assert.equal(agentToken({ token: 'mwt_cli' }, warn, {}), 'mwt_cli');
  assert.match(warnings[0]!, /visible in `ps`/);
  assert.throws(() => agentToken({ tokenFile: join(d, 'missing') }, warn, {}), /--token-file/);
});

test('the agent applies the server validation before spooling: what would be refused goes to dead/ at once', async () => {
  const spoolDir = fresh('spool');
  const logs: string[] = [];
  const agent = new Agent({
    server: 'http://127.0.0.1:9',
    token: 't',
    spoolDir,
    scan: async () => ({
      host: { hostname: 'web-01' },
      findings: [
        { ...FINDINGS[0]!, id: 'huge', evidence: [{ kind: 'process', bytes: 2 ** 60 }] } as never,
        { ...FINDINGS[0]!, id: 'fine', time: '2026-03-01T10:00:00' },
      ],
      verdict: { status: 'infected' },
    }),
    inventory: () => ({ hostname: 'web-01' }),
    log: (m) => logs.push(m),
  });
  const c = await agent.scanOnce();
  assert.equal(
    c.spooled,
    2,
    'the good finding (its zone-less time replaced by the scan time) and the heartbeat',
  );
  assert.equal(agent.spool.deadLettered, 1);
  assert.match(logs.join('\n'), /beyond ±2\^53/);
  const spooled = agent.spool.files().flatMap((f) => agent.spool.read(f).map((l) => JSON.parse(l)));
  assert.ok(spooled.every((e) => e.time.endsWith('Z')));
});
