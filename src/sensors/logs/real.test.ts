/**
 * Readers on files in each tool's real layout and version (test/fixtures/logs/real, see its README): what the
 * tools write across versions, and the edits to mine.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { MinewatchEvent } from '../../findings/index.ts';
import { validateEvent } from '../../store/row.ts';
import { type ReadOptions, readTelemetry, type TelemetryRecord } from './index.ts';
import { canonicalIpv6, toIp, toIsoIn } from './util.ts';
import { pathFromFields } from './zeek.ts';

const REAL = fileURLToPath(new URL('../../../test/fixtures/logs/real/', import.meta.url));

async function read(name: string, opts: ReadOptions = {}): Promise<TelemetryRecord[]> {
  const out: TelemetryRecord[] = [];
  for await (const r of readTelemetry(join(REAL, name), opts)) out.push(r);
  return out;
}
type Ev = MinewatchEvent & Record<string, unknown>;
const events = (rs: TelemetryRecord[]) => rs.filter((r) => r.event).map((r) => r.event as Ev);
const errors = (rs: TelemetryRecord[]) => rs.filter((r) => r.error).map((r) => r.error!.reason);
const skipped = (rs: TelemetryRecord[]) => rs.filter((r) => r.skipped).map((r) => r.skipped!);
/** What intel says in `minewatch import`: MinerGate's address on 45700, pool-only ports. */
const isServer = (ip: string, port: number) => (ip === '94.130.9.194' && port === 45700) || port === 3333;

describe('Zeek', () => {
  it('JSON without _path is routed by its field set: conn and dns read, files and kerberos refused', async () => {
    const rs = await read('zeek/shipper-nopath.json');
    assert.deepEqual(errors(rs), []);
    const evs = events(rs);
    assert.deepEqual(
      evs.map((e) => e.type),
      ['connection', 'connection', 'dns'],
    );
    assert.equal(evs[0]!.dst_ip, '198.51.100.23');
    assert.deepEqual(evs[2]!.answers, ['198.51.100.23', '198.51.100.24']);
    assert.deepEqual(evs[2]!.ttls, [300, 300]);
    for (const f of ['zeek/files.json', 'zeek/kerberos.json']) {
      const r = await read(f);
      assert.equal(events(r).length, 0, f);
      assert.equal(errors(r).length, 0, f);
      assert.match(skipped(r)[0]!, /no _path; fields match none/);
    }
  });

  it('pathFromFields never takes files.log for conn or kerberos.log for ssl', () => {
    const base = {
      ts: 1,
      uid: 'C1',
      'id.orig_h': '10.0.0.1',
      'id.orig_p': 1,
      'id.resp_h': '10.0.0.2',
      'id.resp_p': 2,
    };
    assert.equal(pathFromFields({ ...base, fuid: 'F1', duration: 0.1, source: 'HTTP' }), undefined);
    assert.equal(
      pathFromFields({ ...base, request_type: 'AS', cipher: 'aes256-cts-hmac-sha1-96' }),
      undefined,
    );
    assert.equal(
      pathFromFields({ ...base, call_id: 'x', trans_depth: 1, method: 'INVITE', uri: 'sip:a' }),
      undefined,
    );
    assert.equal(pathFromFields({ ...base, proto: 'tcp', conn_state: 'SF', history: 'ShADadFf' }), 'conn');
    assert.equal(pathFromFields({ ...base, version: 'TLSv13', resumed: false, established: true }), 'ssl');
    assert.equal(pathFromFields({ ...base, trans_depth: 1, method: 'GET', request_body_len: 0 }), 'http');
    // Only a duration: nothing says which log.
    assert.equal(pathFromFields({ ...base, duration: 3 }), undefined);
  });

  it('id_orig_h field names (Log::default_scope_sep = "_") read as id.orig_h', async () => {
    const evs = events(await read('zeek/conn-scope-sep.json'));
    assert.equal(evs.length, 2);
    assert.equal(evs[0]!.host, '10.20.0.15');
    assert.equal(evs[0]!.dst_port, 3333);
    assert.equal(evs[0]!.duration, 1210.55231);
  });

  it('http.log: pipelined requests stay two records; CONNECT with "host:port /" kept as written', async () => {
    const evs = events(await read('zeek/http.log'));
    assert.equal(evs.length, 3);
    assert.equal(evs[0]!.http_method, 'CONNECT');
    assert.equal(evs[0]!.http_uri, 'gulf.moneroocean.stream:10128 /');
    assert.deepEqual(
      evs.slice(1).map((e) => e.trans_depth),
      [1, 2],
    );
    assert.notDeepEqual(evs[1], evs[2]);
  });
});

describe('Suricata EVE', () => {
  it('7.0: a to_client alert is the flow direction (flow.src_ip); a DNS alert is the question; ICMP flows read', async () => {
    const rs = await read('eve/eve-7.0.json');
    assert.deepEqual(errors(rs), []);
    assert.deepEqual(skipped(rs), ['suricata stats records are not read']);
    const evs = events(rs);
    const dnsAlert = evs[0]!;
    assert.equal(dnsAlert.type, 'dns');
    assert.equal(dnsAlert.query, 'xmr.2miners.com');
    assert.equal(dnsAlert.host, '10.20.1.7');
    assert.equal((dnsAlert.alert as { signature_id: number }).signature_id, 2033459);
    const toClient = evs.find((e) => e.type === 'connection' && e.alert)!;
    assert.equal(toClient.src_ip, '10.20.1.7');
    assert.equal(toClient.dst_ip, '203.0.113.61');
    assert.equal(toClient.dst_port, 2222);
    assert.equal(toClient.host, '10.20.1.7');
    const icmp = evs.filter((e) => e.proto === 'icmp' || e.proto === 'icmp6');
    assert.deepEqual(
      icmp.map((e) => [e.proto, e.dst_port]),
      [
        ['icmp', 0],
        ['icmp6', 0],
      ],
    );
    // Addresses are written canonically whatever the sensor wrote.
    assert.equal(icmp[1]!.src_ip, 'fe80::250:56ff:fe9a:1');
    for (const e of evs) assert.equal(validateEvent(e), null);
  });

  it('6.0: a to_client alert from a known pool (no direction, no flow.src_ip) is turned around by intel', async () => {
    const [turned] = events(await read('eve/eve-6.0.json', { isServer }));
    assert.equal(turned!.host, '10.20.2.9');
    assert.equal(turned!.dst_ip, '94.130.9.194');
    assert.equal(turned!.dst_port, 45700);
    const [asIs] = events(await read('eve/eve-6.0.json'));
    assert.equal(asIs!.dst_ip, '10.20.2.9', 'without intel nothing says which side is the server');
  });
});

describe('Falco', () => {
  it('before 0.33 (no hostname): the host is --host, else the file name; the stock miner-port rule is read', async () => {
    const rs = await read('falco/web-03.falco-0.32.json');
    assert.deepEqual(errors(rs), []);
    const evs = events(rs);
    assert.ok(evs.length >= 2);
    assert.ok(evs.every((e) => e.host === 'web-03'));
    const conn = evs.find((e) => e.type === 'connection')!;
    assert.equal(conn.dst_ip, '198.51.100.23');
    assert.equal(conn.dst_port, 3333);
    assert.equal(
      (conn.alert as { rule: string }).rule,
      'Detect outbound connections to common miner pool ports',
    );
    const named = events(await read('falco/web-03.falco-0.32.json', { host: 'ip-10-20-0-33' }));
    assert.ok(named.every((e) => e.host === 'ip-10-20-0-33'));
  });

  it('0.33+: hostname names the host, over --host', async () => {
    const evs = events(await read('falco/falco-0.36.json', { host: 'other' }));
    assert.ok(evs.length > 0 && evs.every((e) => e.host === 'web-04'));
  });
});

describe('Sysmon', () => {
  it('PowerShell 5.1 export: UTF-16LE with BOM, a JSON array of Get-WinEvent objects, newest first', async () => {
    const rs = await read('sysmon/ps51-get-winevent.json');
    assert.deepEqual(errors(rs), []);
    const evs = events(rs);
    assert.deepEqual(
      evs.map((e) => e.type),
      ['connection', 'dns', 'process'],
    );
    // Sysmon writes IPv6 long; the DNS answer short: both canonical, so they compare.
    assert.equal(evs[0]!.dst_ip, '2001:db8:ff::2');
    assert.deepEqual(evs[1]!.answers, ['2001:db8:ff::2', '203.0.113.77']);
    assert.equal(evs[0]!.host, 'DESKTOP-7Q2');
  });

  it('one pretty-printed event (pwsh 7 ConvertTo-Json) is read', async () => {
    const evs = events(await read('sysmon/pwsh7-one-event.json'));
    assert.equal(evs.length, 1);
    assert.equal(evs[0]!.dst_port, 10128);
  });

  it("evtx_dump -o json: 'Record N' lines before pretty-printed objects, XML attributes under #attributes", async () => {
    const rs = await read('sysmon/evtx_dump-json.txt');
    assert.deepEqual(errors(rs), []);
    const [p] = events(rs);
    assert.equal(p!.type, 'process');
    assert.equal(p!.host, 'ws-lab-12.corp.example');
    assert.equal(p!.pid, 7344);
    assert.match(String(p!.cmdline), /-u kim\.h4x@mail\.ru/);
  });

  it('events 1 and 3 of other providers are skipped by cause, not bad lines', async () => {
    const rs = await read('sysmon/winlogbeat-mixed.ndjson');
    assert.deepEqual(errors(rs), []);
    assert.equal(events(rs).length, 1);
    assert.deepEqual(skipped(rs).sort(), [
      'events of provider Microsoft-Windows-Kernel-General are not read',
      'events of provider Microsoft-Windows-Time-Service are not read',
    ]);
  });
});

describe('flow records', () => {
  it('nfdump 1.7 CSV of one-way records: opkt/obyt 0 are unknown, replies turned around, local time by --tz', async () => {
    const rs = await read('flows/nfdump-1.7-nfpcapd.csv', { tz: 'Europe/Berlin' });
    assert.deepEqual(errors(rs), []);
    const evs = events(rs);
    assert.equal(evs.length, 7, 'identical rows are two flows; the Summary block is not');
    const [out, back] = evs;
    assert.equal(out!.time, '2024-05-14T09:00:05.210Z');
    assert.equal(out!.one_way, true);
    assert.equal(out!.bytes_in, undefined);
    assert.equal(out!.bytes_out, 11922);
    assert.equal(back!.host, '10.20.3.4', 'the reply from the pool is the client host, not the pool');
    assert.equal(back!.dst_ip, '198.51.100.80');
    assert.equal(back!.dst_port, 3357);
    assert.equal(back!.bytes_in, 25310);
    assert.equal(back!.reversed, true);
    assert.equal(evs[2]!.repeat, undefined);
    assert.equal(evs[3]!.repeat, 2);
    const utc = events(await read('flows/nfdump-1.7-nfpcapd.csv'));
    assert.equal(utc[0]!.time, '2024-05-14T11:00:05.210Z', 'without --tz the times are UTC');
  });

  it('VPC flow logs without header (CloudWatch Logs): v2 default order; a MinerGate reply on 45700 turned by intel', async () => {
    const rs = await read('flows/vpc-cloudwatch.log', { isServer });
    assert.deepEqual(errors(rs), []);
    assert.deepEqual(skipped(rs), ['vpc NODATA record (no traffic)']);
    const evs = events(rs);
    assert.equal(evs.length, 5);
    const mg = evs.filter((e) => e.dst_ip === '94.130.9.194');
    assert.equal(mg.length, 2);
    assert.ok(mg.every((e) => e.host === '10.20.4.12' && e.dst_port === 45700));
    assert.ok(!evs.some((e) => e.host === '94.130.9.194'), 'the pool never becomes a host');
    const ssh = evs.find((e) => e.dst_port === 22)!;
    assert.equal(ssh.host, '203.0.113.200');
  });
});

describe('field helpers', () => {
  it('IPv6 canonical (RFC 5952) whatever the spelling', () => {
    assert.equal(toIp('0:0:0:0:0:0:0:2'), '::2');
    assert.equal(toIp('::2'), '::2');
    assert.equal(toIp('2001:0DB8:00FF:0000:0000:0000:0000:0002'), '2001:db8:ff::2');
    assert.equal(toIp('::ffff:198.51.100.1'), '198.51.100.1');
    assert.equal(canonicalIpv6('fe80::1%eth0'), 'fe80::1%eth0');
  });

  it('zone-less local time in a zone, across DST', () => {
    assert.equal(toIsoIn('2024-01-15 10:00:00', 'Europe/Berlin'), '2024-01-15T09:00:00.000Z');
    assert.equal(toIsoIn('2024-07-15 10:00:00.5', 'Europe/Berlin'), '2024-07-15T08:00:00.500Z');
    assert.equal(toIsoIn('2024-07-15 10:00:00', 'America/New_York'), '2024-07-15T14:00:00.000Z');
    assert.equal(toIsoIn('2024-07-15T10:00:00Z', 'America/New_York'), '2024-07-15T10:00:00.000Z');
    assert.equal(toIsoIn('2024-07-15 10:00:00', undefined), '2024-07-15T10:00:00.000Z');
  });
});
