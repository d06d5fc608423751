import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Finding, MinewatchEvent } from '../../findings/index.ts';
import { type IntelBase, loadIntel } from '../../intel/index.ts';
import { readTelemetry } from '../../sensors/logs/index.ts';
import { detectEvents, EventDetector } from './index.ts';

const DIR = fileURLToPath(new URL('../../../test/fixtures/logs/', import.meta.url));
const WALLET =
  '44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A';

let intel: IntelBase;
before(() => {
  intel = loadIntel({ userDir: null });
});

async function detect(...names: string[]): Promise<Finding[]> {
  const d = new EventDetector(intel);
  for (const n of names) for await (const r of readTelemetry(join(DIR, n))) d.pushRecord(r);
  return d.finish();
}

const byRule = (fs: Finding[], rule: string) => fs.filter((f) => f.rule === rule);
const lines = (f: Finding, file: string) =>
  f.evidence.filter((e) => e.source === join(DIR, file)).map((e) => e.line);

describe('EventDetector over fixtures', () => {
  it('zeek conn.log: long quiet session to a known pool endpoint; HTTPS and the WebSocket stay quiet', async () => {
    const fs = await detect('conn.log');
    assert.equal(fs.length, 1);
    const f = fs[0]!;
    assert.equal(f.rule, 'net.flow.mining-behaviour');
    assert.equal(f.host, '10.0.1.15');
    assert.deepEqual(f.pool, { ip: '3.18.108.36', port: 15555, name: 'C3Pool' });
    assert.equal(f.coin, 'XMR');
    assert.equal(f.severity, 'high');
    assert.deepEqual(lines(f, 'conn.log'), [9]);
    assert.ok(f.reasons!.some((r) => /intel lists 3\.18\.108\.36:15555 as C3Pool/.test(r)));
    assert.ok(f.reasons!.some((r) => /long-lived flow/.test(r)));
    assert.ok(!fs.some((x) => x.host === '10.0.1.22'), 'the long WebSocket to 443 is not mining');
  });

  it('zeek dns.log: pool query, not github.com', async () => {
    const fs = await detect('dns.log');
    assert.equal(fs.length, 1);
    const f = fs[0]!;
    assert.equal(f.rule, 'net.dns.pool-query');
    assert.equal(f.host, '10.0.1.15');
    assert.equal(f.pool?.host, 'xmr.nanopool.org');
    assert.equal(f.pool?.name, 'Nanopool');
    assert.equal(f.coin, 'XMR');
    assert.deepEqual(lines(f, 'dns.log'), [9]);
    assert.equal(f.evidence[0]!.kind, 'dns');
  });

  it('zeek ssl.log: SNI of a pool', async () => {
    const [f, ...rest] = await detect('ssl.log');
    assert.equal(rest.length, 0);
    assert.equal(f!.rule, 'net.tls.pool-sni');
    assert.equal(f!.tls, true);
    assert.equal(f!.pool?.host, 'pool.supportxmr.com');
    assert.equal(f!.pool?.port, 9000);
  });

  it('zeek JSON: a DNS answer names the address a later flow goes to', async () => {
    const fs = await detect('conn.json');
    const named = byRule(fs, 'net.pool.connection')[0]!;
    assert.equal(named.pool?.ip, '18.210.126.40');
    assert.equal(named.pool?.host, 'gulf.moneroocean.stream');
    assert.ok(named.reasons!.some((r) => /resolved from the pool host gulf\.moneroocean\.stream/.test(r)));
    assert.ok(
      named.reasons!.some((r) => /long-lived flow/.test(r)),
      'the flow shape is a reason too',
    );
  });

  it('suricata EVE: dns + tls + flow merge per endpoint; the alert and the miner UA; Google stays quiet', async () => {
    const fs = await detect('eve.json');
    const sni = byRule(fs, 'net.tls.pool-sni')[0]!;
    assert.equal(sni.host, '10.0.3.40');
    assert.equal(sni.pool?.host, 'gulf.moneroocean.stream');
    assert.equal(sni.pool?.port, 20128);
    assert.equal(sni.events, 2, 'tls record and flow record of the same session');
    assert.deepEqual(lines(sni, 'eve.json'), [3, 4]);
    assert.ok(sni.reasons!.some((r) => /small packets/.test(r)));
    assert.equal(byRule(fs, 'net.dns.pool-query')[0]!.events, 2, 'query and answer');
    const alert = byRule(fs, 'ids.mining-alert')[0]!;
    assert.equal(alert.host, '10.0.3.41');
    assert.equal(alert.signature_id, 2024792);
    assert.deepEqual(alert.pool, { ip: '45.9.148.21', port: 3333 });
    const ua = byRule(fs, 'net.http.miner-agent')[0]!;
    assert.match(ua.agent as string, /^XMRig\/6\.21\.0/);
    assert.ok(!fs.some((f) => f.pool?.ip === '142.250.74.100'), 'the hour-long flow to Google is not mining');
    assert.ok(!fs.some((f) => JSON.stringify(f).includes('github.com')));
  });

  it('falco: host rules judge the process; the alert is one finding for one line', async () => {
    const fs = await detect('falco.json');
    const cmd = byRule(fs, 'host.process.stratum-cmdline')[0]!;
    assert.equal(cmd.host, 'k8s-node-7');
    assert.equal(cmd.wallet, WALLET);
    assert.equal(cmd.wallet_valid, true);
    assert.equal(cmd.coin, 'XMR');
    assert.deepEqual(cmd.pool, { host: 'pool.supportxmr.com', port: 3333, name: 'SupportXMR' });
    assert.equal(cmd.severity, 'critical');
    assert.deepEqual(lines(cmd, 'falco.json'), [1]);
    const alerts = byRule(fs, 'ids.mining-alert');
    assert.equal(alerts.length, 1);
    assert.equal(alerts[0]!.events, 1);
    assert.deepEqual(alerts[0]!.pool, { ip: '94.130.165.85', port: 3333 });
    assert.ok(
      !fs.some((f) => JSON.stringify(f.evidence).includes('"bash"')),
      'the shell alert is not mining',
    );
  });

  it('sysmon: cpuminer-multi with stratum URL and wallet, its DNS query and connection', async () => {
    const fs = await detect('sysmon.json');
    const host = 'WIN-SQL-02.corp.example.com';
    const cmd = byRule(fs, 'host.process.stratum-cmdline')[0]!;
    assert.equal(cmd.host, host);
    assert.deepEqual(cmd.pool, { host: 'xmr.pool.minergate.com', port: 45700, name: 'MinerGate' });
    assert.equal(cmd.wallet, WALLET);
    assert.equal(cmd.coin, 'XMR');
    assert.equal(cmd.time, '2024-01-15T10:20:31.412Z');
    assert.equal(cmd.evidence[0]!.sha256, '5e0a4c7f3b2d1e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f');
    assert.equal(byRule(fs, 'host.process.miner-name')[0]!.process_name, 'cpuminer-multi');
    const dns = byRule(fs, 'net.dns.pool-query')[0]!;
    assert.equal(dns.host, host);
    assert.equal(dns.exe, 'C:\\Users\\Public\\Libraries\\cpuminer-multi.exe');
    const conn = byRule(fs, 'net.pool.connection')[0]!;
    assert.equal(conn.pool?.port, 45700);
    assert.equal(conn.pid, 6120);
    assert.ok(!fs.some((f) => f.host === 'WIN-WEB-01'), 'git and notepad are not mining');
  });

  it('CSV, VPC and nfdump flows: repeated long flows to a pool port; HTTPS, short and bulk flows quiet', async () => {
    const csv = await detect('flows.csv');
    assert.equal(csv.length, 1);
    const f = csv[0]!;
    assert.equal(f.rule, 'net.flow.mining-behaviour');
    assert.equal(f.host, '10.0.6.20');
    assert.deepEqual(f.pool, { ip: '185.71.65.238', port: 3333 });
    assert.equal(f.events, 3);
    assert.equal(f.severity, 'medium', 'a port is a pointer, not proof');
    assert.equal(f.first_seen, '2024-01-15T10:00:00.000Z');
    assert.equal(f.last_seen, '2024-01-15T12:00:09.000Z');
    assert.ok(f.reasons!.some((r) => /2 earlier long flows to the same endpoint/.test(r)));
    assert.ok(f.reasons!.some((r) => /3 flows to this endpoint/.test(r)));
    const vpc = await detect('vpc-flows.log');
    assert.equal(vpc.length, 1);
    assert.equal(vpc[0]!.host, '10.0.7.30');
    const nf = await detect('nfdump.csv');
    assert.equal(nf.length, 1);
    assert.equal(nf[0]!.pool?.port, 5555);
  });

  it('minewatch NDJSON: process, file (dropper script, miner config), dns and connection events', async () => {
    const fs = await detect('events.ndjson');
    const cmd = byRule(fs, 'host.process.stratum-cmdline')[0]!;
    assert.equal(cmd.host, 'web-3');
    assert.equal(cmd.events, 2, 'the same process in two reports is one finding');
    assert.deepEqual(lines(cmd, 'events.ndjson'), [2, 11]);
    assert.equal(cmd.first_seen, '2024-01-15T10:30:01Z');
    assert.equal(cmd.last_seen, '2024-01-15T10:30:09Z');
    const drop = byRule(fs, 'host.file.dropper-script')[0]!;
    assert.equal(drop.wallet, WALLET);
    assert.equal(drop.pool?.host, 'pool.supportxmr.com');
    // The script kills kdevtmpfsi: Kinsing is the rival it removes, not its family (issue 13).
    assert.notEqual(drop.family, 'kinsing');
    assert.deepEqual((drop.rivals as { families?: string[] } | undefined)?.families, ['kinsing']);
    const cfg = byRule(fs, 'host.file.miner-config')[0]!;
    assert.equal(cfg.pool?.host, 'gulf.moneroocean.stream');
    assert.equal(byRule(fs, 'net.pool.connection')[0]!.exe, '/tmp/.x/xmrig');
    assert.equal(byRule(fs, 'net.dns.pool-query')[0]!.pool?.host, 'xmr.nanopool.org');
    assert.ok(
      !fs.some((f) => JSON.stringify(f).includes('nginx') || JSON.stringify(f).includes('/etc/hostname')),
    );
  });

  it('finding ids are stable and scoped by host', async () => {
    const a = await detect('falco.json');
    const b = await detect('falco.json');
    assert.deepEqual(
      a.map((f) => f.id),
      b.map((f) => f.id),
    );
    const ev = (host: string): MinewatchEvent => ({
      time: '2024-01-15T10:00:00Z',
      host,
      type: 'process',
      pid: 7,
      cmdline: `xmrig -o stratum+tcp://pool.supportxmr.com:3333 -u ${WALLET}`,
    });
    const fs = detectEvents([ev('a'), ev('b')], intel);
    const ids = byRule(fs, 'host.process.stratum-cmdline').map((f) => f.id);
    assert.equal(ids.length, 2);
    assert.notEqual(ids[0], ids[1]);
  });
});

describe('EventDetector: connections through an HTTP proxy', () => {
  it('zeek http.log: a CONNECT to a pool is a finding on the pool, with the proxy aside; github.com is not', async () => {
    const fs = await detect('http.log');
    assert.equal(fs.length, 1, JSON.stringify(fs));
    const f = fs[0]!;
    assert.equal(f.host, '10.0.2.21');
    assert.equal(f.pool?.host, 'gulf.moneroocean.stream');
    assert.equal(f.pool?.port, 10128);
    assert.equal(f.pool?.ip, undefined, 'the proxy address is not the pool');
    assert.equal(f.pool?.name, 'MoneroOcean');
    assert.deepEqual(f.proxy, { protocol: 'http-connect', ip: '10.0.0.3', port: 3128 });
    assert.ok(f.attack.some((a) => a.technique === 'T1090'));
    assert.deepEqual(lines(f, 'http.log'), [9]);
  });
  it('zeek socks.log: a SOCKS5 request for a pool by name; SOCKS4 to github and SOCKS5 to debian are not', async () => {
    const fs = await detect('socks.log');
    assert.equal(fs.length, 1, JSON.stringify(fs));
    const f = fs[0]!;
    assert.equal(f.host, '10.0.4.8');
    assert.deepEqual(
      [f.pool?.host, f.pool?.port, f.pool?.ip, f.pool?.name],
      ['pool.supportxmr.com', 3333, undefined, 'SupportXMR'],
    );
    assert.deepEqual(f.proxy, { protocol: 'socks5', ip: '10.0.0.9', port: 1080 });
    assert.deepEqual(lines(f, 'socks.log'), [9]);
  });
  it('suricata EVE http: a CONNECT to a pool address and port from intel', async () => {
    const ep = intel.endpoints.find((e) => e.port !== undefined && !e.ip.includes(':'));
    assert.ok(ep, 'intel has an IPv4 pool endpoint with ports');
    const line = {
      timestamp: '2024-01-15T10:00:00.000000+0000',
      event_type: 'http',
      src_ip: '10.0.2.30',
      src_port: 52000,
      dest_ip: '10.0.0.3',
      dest_port: 8080,
      proto: 'TCP',
      http: { hostname: ep.ip, url: `${ep.ip}:${ep.port!}`, http_method: 'CONNECT', status: 200 },
    };
    const d = new EventDetector(intel);
    const { eveParser } = await import('../../sensors/logs/eve.ts');
    const evs: MinewatchEvent[] = [];
    assert.equal(eveParser().parse(JSON.stringify(line), evs), undefined);
    for (const ev of evs) d.push(ev);
    const fs = d.finish();
    assert.equal(fs.length, 1, JSON.stringify(fs));
    assert.equal(fs[0]!.pool?.ip, ep.ip);
    assert.equal(fs[0]!.pool?.port, ep.port!);
    assert.deepEqual(fs[0]!.proxy, { protocol: 'http-connect', ip: '10.0.0.3', port: 8080 });
  });
});

describe('EventDetector: attribution does not depend on arrival order', () => {
  const REAL = join(DIR, 'real');
  async function detectIn(
    names: string[],
    opts: Parameters<typeof readTelemetry>[1] = {},
  ): Promise<Finding[]> {
    const d = new EventDetector(intel);
    for (const n of names) for await (const r of readTelemetry(join(REAL, n), opts)) d.pushRecord(r);
    return d.finish();
  }
  const pools = (fs: Finding[]) =>
    fs
      .filter((f) => f.rule.startsWith('net.') && f.rule !== 'net.dns.pool-query')
      .map((f) => ({
        id: f.id,
        rule: f.rule,
        host: f.host,
        pool: f.pool?.host,
        ip: f.pool?.ip,
        coin: f.coin,
      }));

  it('Zeek conn.log before or after dns.log: the same named pool connection, once', async () => {
    const a = pools(await detectIn(['zeek/conn.log', 'zeek/dns.log']));
    const b = pools(await detectIn(['zeek/dns.log', 'zeek/conn.log']));
    assert.deepEqual(a, b);
    assert.deepEqual(a, [
      {
        id: a[0]!.id,
        rule: 'net.pool.connection',
        host: '10.20.0.15',
        pool: 'pool.supportxmr.com',
        ip: '198.51.100.23',
        coin: 'XMR',
      },
    ]);
  });

  it('within one file: a newest-first Sysmon export names the pool of the connection listed before its query', async () => {
    const p = pools(await detectIn(['sysmon/ps51-get-winevent.json']));
    assert.deepEqual(
      p.map((x) => [x.rule, x.host, x.pool, x.coin]),
      [['net.pool.connection', 'DESKTOP-7Q2', 'gulf.moneroocean.stream', 'XMR']],
    );
  });

  it('across tools: nfdump one-way flows named by a Zeek DNS answer in either order, coin from the pool host', async () => {
    for (const order of [
      ['flows/nfdump-1.7-nfpcapd.csv', 'zeek/dns-zcash.json'],
      ['zeek/dns-zcash.json', 'flows/nfdump-1.7-nfpcapd.csv'],
    ]) {
      const p = pools(await detectIn(order, { tz: 'Europe/Berlin' }));
      assert.deepEqual(
        p.map((x) => [x.host, x.pool, x.ip, x.coin]),
        [['10.20.3.4', 'eu1-zcash.flypool.org', '198.51.100.80', 'ZEC']],
        order.join(' '),
      );
    }
  });

  it('a late answer upgrades the earlier finding: same id, named, stronger rule', async () => {
    const d = new EventDetector(intel);
    const conn = {
      time: '2024-05-14T09:00:05Z',
      host: '10.20.0.15',
      type: 'connection',
      src_ip: '10.20.0.15',
      dst_ip: '198.51.100.23',
      dst_port: 3333,
      proto: 'tcp',
      duration: 1210,
      bytes_out: 5214,
      bytes_in: 14880,
      packets_out: 84,
      packets_in: 79,
    } as MinewatchEvent;
    d.push(conn);
    const before = d.finish().find((f) => f.rule.startsWith('net.'))!;
    assert.equal(before.rule, 'net.flow.mining-behaviour');
    assert.equal(before.pool?.host, undefined);
    d.push({
      time: '2024-05-14T09:00:04Z',
      host: '10.20.0.15',
      type: 'dns',
      query: 'pool.supportxmr.com',
      answers: ['198.51.100.23'],
    } as MinewatchEvent);
    const after = d.finish().filter((f) => f.rule.startsWith('net.') && f.rule !== 'net.dns.pool-query');
    assert.equal(after.length, 1);
    assert.equal(after[0]!.id, before.id);
    assert.equal(after[0]!.rule, 'net.pool.connection');
    assert.equal(after[0]!.pool?.host, 'pool.supportxmr.com');
    assert.equal(after[0]!.coin, 'XMR');
  });

  it('an answer far outside the window names nothing (an address reused days later is not that pool)', async () => {
    const d = new EventDetector(intel, { nameWindowSec: 6 * 3600 });
    d.push({
      time: '2024-05-14T09:00:04Z',
      host: 'h1',
      type: 'dns',
      query: 'pool.supportxmr.com',
      answers: ['198.51.100.23'],
    } as MinewatchEvent);
    d.push({
      time: '2024-05-17T09:00:05Z',
      host: 'h1',
      type: 'connection',
      src_ip: '10.0.0.1',
      dst_ip: '198.51.100.23',
      dst_port: 443,
    } as MinewatchEvent);
    d.push({
      time: '2024-05-14T11:00:05Z',
      host: 'h1',
      type: 'connection',
      src_ip: '10.0.0.1',
      dst_ip: '198.51.100.23',
      dst_port: 8443,
    } as MinewatchEvent);
    const p = pools(d.finish());
    assert.deepEqual(
      p.map((x) => [x.ip, x.pool]),
      [['198.51.100.23', 'pool.supportxmr.com']],
    );
    assert.equal(d.finish().find((f) => f.rule === 'net.pool.connection')!.pool?.port, 8443);
  });

  it('SNI names the address for the flow records of the same host (conn.log without a name)', async () => {
    const d = new EventDetector(intel);
    d.push({
      time: '2024-05-14T09:00:00Z',
      host: 'h2',
      type: 'connection',
      src_ip: '10.0.0.2',
      dst_ip: '203.0.113.5',
      dst_port: 5555,
      proto: 'tcp',
    } as MinewatchEvent);
    d.push({
      time: '2024-05-14T09:00:01Z',
      host: 'h2',
      type: 'connection',
      src_ip: '10.0.0.2',
      dst_ip: '203.0.113.5',
      dst_port: 443,
      tls: true,
      sni: 'gulf.moneroocean.stream',
      domain: 'gulf.moneroocean.stream',
    } as MinewatchEvent);
    const p = pools(d.finish()).sort((x, y) => x.rule.localeCompare(y.rule));
    assert.deepEqual(
      p.map((x) => [x.rule, x.pool]),
      [
        ['net.pool.connection', 'gulf.moneroocean.stream'],
        ['net.tls.pool-sni', 'gulf.moneroocean.stream'],
      ],
    );
  });

  it('EVE: IDS alerts carry the pool name, so a pool is one pool, not its name and its address', async () => {
    const fs = await detectIn(['eve/eve-7.0.json']);
    const alerts = fs.filter((f) => f.rule === 'ids.mining-alert');
    assert.equal(alerts.length, 2);
    assert.ok(alerts.every((f) => f.pool?.host === 'xmr.2miners.com' && f.coin === 'XMR'));
    assert.ok(alerts.every((f) => f.host === '10.20.1.7'));
    assert.ok(!fs.some((f) => f.pool?.ip === '10.20.0.2'), 'the resolver is no pool');
  });

  it("a MinerGate e-mail login on a command line is the finding's account (a campaign key)", async () => {
    const fs = await detectIn(['sysmon/evtx_dump-json.txt']);
    const f = fs.find((x) => x.rule === 'host.process.stratum-cmdline')!;
    assert.equal(f.account, 'kim.h4x@mail.ru');
    assert.equal(f.pool?.host, 'xmr.pool.minergate.com');
  });

  it('clean look-alikes stay quiet: a busy HTTPS download, a short fetch, a proxied page', async () => {
    const fs = await detectIn(['zeek/conn.log', 'zeek/dns.log', 'zeek/http.log']);
    assert.ok(!fs.some((f) => f.host === '10.20.0.16'));
    const proxied = fs.find(
      (f) => f.rule === 'net.proxy.pool-request' || f.pool?.host === 'gulf.moneroocean.stream',
    );
    assert.ok(proxied, 'CONNECT "host:port /" to a pool is read');
    assert.equal(proxied!.pool?.port, 10128);
  });
});
