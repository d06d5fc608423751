import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { openStore } from '../store/index.ts';
import { runCli } from './test-helpers/run.ts';

const LOGS = new URL('../../test/fixtures/logs/', import.meta.url).pathname;
process.env.MINEWATCH_HOME = mkdtempSync(join(tmpdir(), 'mw-home-'));

test('import: every fixture format loads, bad lines are named, detections are stored, re-import counts duplicates', async () => {
  const db = join(mkdtempSync(join(tmpdir(), 'mw-import-')), 'fleet.db');
  const files = readdirSync(LOGS, { withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => join(LOGS, d.name));
  const r = await runCli(['import', '--db', db, '--format', 'json', '--no-user-intel', ...files]);
  assert.equal(r.code, 1, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.ok(doc.summary.events >= 50);
  assert.equal(doc.summary.accepted, doc.summary.events);
  assert.ok(doc.summary.bad_lines > 0);
  assert.match(r.stderr, /events\.ndjson:13: not JSON/);
  const formats = new Set(doc.summary.files.map((f: { format: string }) => f.format));
  for (const f of ['minewatch', 'zeek-tsv', 'zeek-json', 'suricata', 'falco', 'sysmon', 'csv-flows'])
    assert.ok(formats.has(f), f);
  const rules = new Set(doc.findings.map((f: { rule: string }) => f.rule));
  for (const rule of [
    'host.process.stratum-cmdline',
    'net.dns.pool-query',
    'net.tls.pool-sni',
    'net.flow.mining-behaviour',
  ])
    assert.ok(rules.has(rule), rule);
  assert.equal(doc.summary.findings_stored, doc.findings.length);

  const again = await runCli(['import', '--db', db, '--format', 'json', '--no-user-intel', ...files]);
  const d2 = JSON.parse(again.stdout);
  assert.equal(d2.summary.accepted, 0);
  assert.equal(d2.summary.duplicates, doc.summary.events);

  const store = await openStore(db);
  try {
    const stored = await store.findings({});
    assert.equal(stored.length, doc.findings.length);
    const coins = await store.rank('coin', {});
    assert.ok(coins.some((c) => c.key === 'XMR'));
  } finally {
    await store.close();
  }
});

test('import: a missing file is exit 2 and named; the others still load', async () => {
  const db = join(mkdtempSync(join(tmpdir(), 'mw-import-')), 'fleet.db');
  const r = await runCli([
    'import',
    '--db',
    db,
    '--format',
    'json',
    '/nonexistent/conn.log',
    join(LOGS, 'dns.log'),
  ]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /\/nonexistent\/conn\.log: no such file/);
  assert.equal(JSON.parse(r.stdout).summary.files[1].events, 2);
});

test('import: a file of many submissions is stored whole, its lines as the events JSON, and counted once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mw-import-'));
  const db = join(dir, 'fleet.db');
  const file = join(dir, 'events.ndjson');
  // 20,000 events (more than two of the importer's 8,192-event submissions); lines with and without ids, one
  // not as JSON.stringify writes it (spaces), one whose id repeats an earlier line's.
  const lines = Array.from({ length: 20_000 }, (_, i) =>
    JSON.stringify({
      ...(i % 3 ? { id: `e${i}` } : {}),
      time: new Date(Date.UTC(2026, 2, 1) + i * 1000).toISOString(),
      host: `web-${i % 7}`,
      type: 'connection',
      src_ip: '10.0.0.1',
      dst_ip: '1.2.3.4',
      dst_port: 443,
      bytes_out: i,
    }),
  );
  lines[5] = lines[5]!.replace('{"id"', '{ "id"').replace(',"time"', ', "time"');
  lines.push(lines[1]!);
  writeFileSync(file, `${lines.join('\n')}\n`);
  const r = await runCli(['import', '--db', db, '--format', 'json', '--no-user-intel', file]);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.deepEqual([doc.summary.events, doc.summary.accepted, doc.summary.duplicates], [20_001, 20_000, 1]);
  const again = JSON.parse(
    (await runCli(['import', '--db', db, '--format', 'json', '--no-user-intel', file])).stdout,
  );
  assert.deepEqual([again.summary.accepted, again.summary.duplicates], [0, 20_001]);
  const store = await openStore(db);
  try {
    assert.equal(await store.count(), 20_000);
    const stored = await store.events({ host: 'web-5', limit: 10_000 });
    const byTime = new Map(stored.map((e) => [e.time, e]));
    for (const i of [5, 12, 19_997]) {
      const want = JSON.parse(lines[i]!);
      assert.deepEqual(byTime.get(want.time), want, `line ${i + 1}`);
    }
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

const REAL = join(LOGS, 'real');

async function importJson(args: string[]) {
  const db = join(mkdtempSync(join(tmpdir(), 'mw-import-')), 'fleet.db');
  const r = await runCli(['import', '--db', db, '--format', 'json', '--no-user-intel', ...args]);
  return { r, db, doc: r.stdout ? JSON.parse(r.stdout) : undefined };
}

test('import: the file order does not change the findings; the report counts the pool once', async () => {
  const a = await importJson([join(REAL, 'zeek/conn.log'), join(REAL, 'zeek/dns.log')]);
  const b = await importJson([join(REAL, 'zeek/dns.log'), join(REAL, 'zeek/conn.log')]);
  assert.equal(a.r.code, 1, a.r.stderr);
  const key = (d: { findings: { id: string; rule: string; pool?: { host?: string }; coin?: string }[] }) =>
    d.findings.map((f) => `${f.id} ${f.rule} ${f.pool?.host} ${f.coin}`).sort();
  assert.deepEqual(key(a.doc), key(b.doc));
  assert.ok(key(a.doc).some((k) => / net\.pool\.connection pool\.supportxmr\.com XMR$/.test(k)));
  const rep = await runCli(['report', '--db', a.db, '--format', 'json']);
  const pools = JSON.parse(rep.stdout).pools as { pool: string }[];
  assert.deepEqual(
    pools.map((p) => p.pool),
    ['pool.supportxmr.com'],
  );
});

test('import: a truncated .gz is refused whole (exit 2, named) and nothing of it is stored', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mw-import-'));
  const gz = gzipSync(readFileSync(join(REAL, 'zeek/conn.log')));
  const cut = join(dir, 'conn.log.gz');
  writeFileSync(cut, gz.subarray(0, gz.length - 12));
  const { r, db, doc } = await importJson([cut, join(REAL, 'zeek/dns.log')]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /conn\.log\.gz: damaged or truncated gzip/);
  assert.equal(doc.summary.files[0].events, 0);
  assert.equal(doc.summary.files[1].events, 2);
  const store = await openStore(db);
  try {
    assert.equal((await store.events({ type: 'connection' })).length, 0);
  } finally {
    await store.close();
  }
});

test('import: a file that yields no records is exit 2 and named; the hint names --log-format', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mw-import-'));
  const pcap = join(dir, 'capture.pcap');
  // A pcap file header (magic, v2.4, snaplen, Ethernet) and one record header: binary, no log format.
  const hdr = Buffer.from('d4c3b2a1020004000000000000000000ffff000001000000', 'hex');
  writeFileSync(pcap, Buffer.concat([hdr, Buffer.alloc(40, 0x45)]));
  const { r, doc } = await importJson([pcap, join(REAL, 'zeek/files.json'), join(REAL, 'zeek/dns.log')]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /capture\.pcap:1: cannot tell the log format .*--log-format/);
  assert.match(r.stderr, /capture\.pcap: no records read/);
  assert.match(r.stderr, /files\.json: no records read \(2 × zeek JSON record of no log/);
  assert.equal(doc.summary.files[2].events, 2);
  const wrong = await importJson(['--log-format', 'falco', join(REAL, 'zeek/dns.log')]);
  assert.equal(wrong.r.code, 2);
  assert.match(wrong.r.stderr, /dns\.log: no records read/);
});

test('import: dropped records are counted by cause; identical flow rows and pipelined requests are not duplicates', async () => {
  const { r, doc } = await importJson([
    join(REAL, 'sysmon/winlogbeat-mixed.ndjson'),
    join(REAL, 'flows/vpc-cloudwatch.log'),
    join(REAL, 'flows/nfdump-1.7-nfpcapd.csv'),
    join(REAL, 'zeek/http.log'),
    join(REAL, 'eve/eve-7.0.json'),
  ]);
  assert.ok(r.code === 1, r.stderr);
  assert.deepEqual(doc.summary.dropped, {
    'events of provider Microsoft-Windows-Kernel-General are not read': 1,
    'events of provider Microsoft-Windows-Time-Service are not read': 1,
    'vpc NODATA record (no traffic)': 1,
    'suricata stats records are not read': 1,
  });
  assert.equal(doc.summary.duplicates, 0);
  assert.equal(doc.summary.accepted, doc.summary.events);
  const nf = doc.summary.files.find((f: { file: string }) => f.file.endsWith('.csv'));
  assert.equal(nf.events, 7);
  // Bad lines are counted by cause too.
  const bad = await importJson([join(LOGS, 'dns.log')]);
  assert.ok(Object.keys(bad.doc.summary.dropped).some((c) => c.startsWith('bad: ')));
});

test('import: Falco before 0.33 with --host; VPC and nfdump (with --tz) mining found on the right host', async () => {
  const { r, doc } = await importJson([
    '--host',
    'ip-10-20-0-33',
    '--tz',
    'Europe/Berlin',
    join(REAL, 'falco/web-03.falco-0.32.json'),
    join(REAL, 'flows/vpc-cloudwatch.log'),
    join(REAL, 'flows/nfdump-1.7-nfpcapd.csv'),
    join(REAL, 'zeek/dns-zcash.json'),
  ]);
  assert.equal(r.code, 1, r.stderr);
  const hosts = new Set(doc.findings.map((f: { host: string }) => f.host));
  assert.ok(hosts.has('ip-10-20-0-33'));
  assert.ok(!hosts.has('94.130.9.194') && !hosts.has('198.51.100.80'), 'no pool is a host');
  const mg = doc.findings.find((f: { pool?: { ip?: string } }) => f.pool?.ip === '94.130.9.194');
  assert.equal(mg.host, '10.20.4.12');
  assert.equal(mg.pool.port, 45700);
  const zec = doc.findings.find(
    (f: { rule: string; pool?: { ip?: string } }) =>
      f.rule === 'net.pool.connection' && f.pool?.ip === '198.51.100.80',
  );
  assert.equal(zec.host, '10.20.3.4');
  assert.equal(zec.coin, 'ZEC');
  assert.equal(zec.first_seen, '2024-05-14T09:00:05.210Z');
  const badTz = await importJson(['--tz', 'Mars/Olympus', join(REAL, 'zeek/dns.log')]);
  assert.equal(badTz.r.code, 2);
  assert.match(badTz.r.stderr, /--tz 'Mars\/Olympus' is not an IANA time zone/);
});

test("import: a DNS answer imported later names the earlier import's finding in the report (same id, one pool)", async () => {
  const db = join(mkdtempSync(join(tmpdir(), 'mw-import-')), 'fleet.db');
  const first = await runCli([
    'import',
    '--db',
    db,
    '--format',
    'json',
    '--no-user-intel',
    join(REAL, 'zeek/conn.log'),
  ]);
  const f1 = JSON.parse(first.stdout).findings.find((f: { rule: string }) => f.rule.startsWith('net.'));
  assert.equal(f1.pool.host, undefined);
  await runCli(['import', '--db', db, '--format', 'json', '--no-user-intel', join(REAL, 'zeek/dns.log')]);
  const both = await runCli([
    'import',
    '--db',
    db,
    '--format',
    'json',
    '--no-user-intel',
    join(REAL, 'zeek/conn.log'),
    join(REAL, 'zeek/dns.log'),
  ]);
  const f2 = JSON.parse(both.stdout).findings.find((f: { id: string }) => f.id === f1.id);
  assert.equal(f2.rule, 'net.pool.connection');
  const rep = JSON.parse((await runCli(['report', '--db', db, '--format', 'json'])).stdout);
  assert.deepEqual(
    rep.pools.map((p: { pool: string }) => p.pool),
    ['pool.supportxmr.com'],
  );
});
