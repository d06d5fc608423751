import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { MinewatchEvent } from '../../findings/index.ts';
import { validateEvent } from '../../store/row.ts';
import { parseText, readTelemetry, sniffFormat, type TelemetryRecord, toIso } from './index.ts';
import { msIso, toNum } from './util.ts';

const DIR = fileURLToPath(new URL('../../../test/fixtures/logs/', import.meta.url));
const fx = (name: string) => join(DIR, name);

async function read(name: string, opts = {}): Promise<TelemetryRecord[]> {
  const out: TelemetryRecord[] = [];
  for await (const r of readTelemetry(fx(name), opts)) out.push(r);
  return out;
}
const events = (rs: TelemetryRecord[]) =>
  rs.filter((r) => r.event).map((r) => r.event as MinewatchEvent & Record<string, unknown>);
const errors = (rs: TelemetryRecord[]) => rs.filter((r) => r.error).map((r) => r.error!);

async function stream(bufs: Uint8Array[]): Promise<AsyncIterable<Uint8Array>> {
  return (async function* () {
    yield* bufs;
  })();
}

describe('readTelemetry: formats', () => {
  it('every event of every fixture is one the store accepts', async () => {
    for (const f of [
      'events.ndjson',
      'conn.log',
      'dns.log',
      'ssl.log',
      'conn.json',
      'eve.json',
      'falco.json',
      'sysmon.json',
      'sysmon-array.json',
      'flows.csv',
      'vpc-flows.log',
      'nfdump.csv',
    ]) {
      const rs = await read(f);
      assert.ok(events(rs).length > 0, f);
      for (const e of events(rs)) assert.equal(validateEvent(e), null, `${f}: ${JSON.stringify(e)}`);
      for (const r of rs) {
        assert.ok(r.line! >= 1, f);
        if (r.error) assert.equal(r.error.file, fx(f));
      }
    }
  });

  it('minewatch NDJSON: events kept as written, bad lines named', async () => {
    const rs = await read('events.ndjson');
    assert.equal(rs[0]!.format, 'minewatch');
    const evs = events(rs);
    assert.equal(evs.length, 11);
    const p = evs.find((e) => e.type === 'process')!;
    assert.equal(p.pid, 2231);
    assert.equal(p.container, 'c0ffee', 'extra fields are kept');
    assert.deepEqual(
      errors(rs).map((e) => e.line),
      [10, 12, 13],
    );
    assert.match(errors(rs)[0]!.reason, /pid/);
    assert.match(errors(rs)[2]!.reason, /not JSON/);
  });

  it('zeek conn.log TSV: columns mapped, host is the originator', async () => {
    const rs = await read('conn.log');
    assert.equal(rs[0]!.format, 'zeek-tsv');
    const [mine] = events(rs);
    assert.deepEqual(
      {
        time: mine!.time,
        host: mine!.host,
        type: mine!.type,
        dst: `${mine!.dst_ip}:${mine!.dst_port}`,
        src_port: mine!.src_port,
        proto: mine!.proto,
        duration: mine!.duration,
        bytes: [mine!.bytes_out, mine!.bytes_in, mine!.packets_out, mine!.packets_in],
        uid: mine!.uid,
      },
      {
        time: '2024-01-15T10:00:00.104Z',
        host: '10.0.1.15',
        type: 'connection',
        dst: '3.18.108.36:15555',
        src_port: 49822,
        proto: 'tcp',
        duration: 3602.418331,
        bytes: [52310, 97804, 912, 1104],
        uid: 'CmN1aB3xYz0kPq1r2',
      },
    );
    assert.equal(events(rs)[1]!.service, 'ssl');
    const errs = errors(rs);
    assert.deepEqual(
      errs.map((e) => e.line),
      [11, 13],
    );
    assert.match(errs[0]!.reason, /10 columns, #fields names 21/);
    assert.match(errs[1]!.reason, /ts 'yesterday'/);
  });

  it('zeek dns.log and ssl.log TSV', async () => {
    const dns = events(await read('dns.log'));
    assert.equal(dns.length, 2, 'the record without a query is skipped, not an error');
    assert.deepEqual(
      { q: dns[0]!.query, t: dns[0]!.qtype, a: dns[0]!.answers, h: dns[0]!.host, s: dns[0]!.server },
      { q: 'xmr.nanopool.org', t: 'A', a: ['51.15.58.224', '51.255.34.118'], h: '10.0.1.15', s: '10.0.0.2' },
    );
    const ssl = events(await read('ssl.log'));
    assert.equal(ssl[0]!.domain, 'pool.supportxmr.com');
    assert.equal(ssl[0]!.tls, true);
    assert.equal(ssl[0]!.dst_port, 9000);
    assert.equal(ssl[0]!.tls_version, 'TLSv13');
  });

  it('zeek JSON: _path picks the log; epoch and ISO ts', async () => {
    const rs = await read('conn.json');
    assert.equal(rs[0]!.format, 'zeek-json');
    const evs = events(rs);
    assert.deepEqual(
      evs.map((e) => e.type),
      ['connection', 'dns', 'connection', 'connection'],
    );
    assert.equal(evs[1]!.time, '2024-01-15T09:59:50.000Z');
    assert.deepEqual(evs[1]!.answers, ['18.210.126.40']);
    assert.deepEqual(
      errors(rs).map((e) => e.line),
      [5],
    );
  });

  it('suricata EVE: dns answers turned to the client, tls sni, flow counters, alert, http', async () => {
    const rs = await read('eve.json');
    assert.equal(rs[0]!.format, 'suricata');
    const evs = events(rs);
    const answer = evs[1]!;
    assert.equal(answer.type, 'dns');
    assert.equal(answer.host, '10.0.3.40', 'the client, not the resolver that sent the answer');
    assert.deepEqual(answer.answers, ['18.210.126.40']);
    assert.equal(evs[0]!.time, '2024-01-15T10:01:02.123Z');
    const tls = evs.find((e) => e.sensor === 'suricata/tls')!;
    assert.equal(tls.domain, 'gulf.moneroocean.stream');
    assert.equal(tls.ja3, '4d7a28d6f2263ed61de88ca66eb011e3');
    const flow = evs.find((e) => e.sensor === 'suricata/flow')!;
    assert.deepEqual(
      [flow.bytes_out, flow.bytes_in, flow.packets_out, flow.packets_in],
      [98020, 181500, 980, 1210],
    );
    assert.equal(Math.round(flow.duration as number), 3603);
    const alert = evs.find((e) => e.sensor === 'suricata/alert')!;
    assert.equal((alert.alert as { signature: string }).signature, 'ET POLICY Cryptocurrency Miner Checkin');
    const http = evs.find((e) => e.sensor === 'suricata/http')!;
    assert.match(http.user_agent as string, /^XMRig/);
    assert.ok(!evs.some((e) => (e as { stats?: unknown }).stats), 'stats records are not events');
    assert.deepEqual(
      errors(rs).map((e) => e.line),
      [11, 12],
    );
  });

  it('falco: an alert becomes a process and a connection event', async () => {
    const rs = await read('falco.json');
    const evs = events(rs);
    const p = evs[0]!;
    assert.deepEqual(
      [p.type, p.host, p.pid, p.ppid, p.user, p.exe, p.time],
      ['process', 'k8s-node-7', 31337, 31300, 'root', '/tmp/.X11-unix/xmrig', '2024-01-15T10:12:00.123Z'],
    );
    assert.match(p.cmdline as string, /^xmrig -o stratum\+tcp:\/\/pool\.supportxmr\.com:3333/);
    const c = evs[1]!;
    assert.deepEqual(
      [c.type, c.src_ip, c.dst_ip, c.dst_port, c.pid],
      ['connection', '10.0.4.7', '94.130.165.85', 3333, 31337],
    );
    assert.equal((c.alert as { rule: string }).rule, 'Detect crypto miners using the Stratum protocol');
    assert.deepEqual(
      errors(rs).map((e) => e.line),
      [3, 4],
    );
  });

  it('sysmon: flat, Event.System and winlogbeat shapes; other ids skipped', async () => {
    const rs = await read('sysmon.json');
    const evs = events(rs);
    assert.deepEqual(
      evs.map((e) => e.sensor),
      ['sysmon/1', 'sysmon/22', 'sysmon/3', 'sysmon/22', 'sysmon/1'],
    );
    const p = evs[0]!;
    assert.equal(p.host, 'WIN-SQL-02.corp.example.com');
    assert.equal(p.time, '2024-01-15T10:20:31.412Z');
    assert.equal(p.exe, 'C:\\Users\\Public\\Libraries\\cpuminer-multi.exe');
    assert.match(p.cmdline as string, /-o stratum\+tcp:\/\/xmr\.pool\.minergate\.com:45700/);
    assert.equal(p.sha256, '5e0a4c7f3b2d1e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f');
    assert.equal(p.parent_exe, 'C:\\Windows\\System32\\cmd.exe');
    assert.equal(p.ppid, 4412);
    assert.deepEqual(evs[1]!.answers, ['pool.minergate.com', '94.130.143.162']);
    assert.equal(evs[1]!.query, 'xmr.pool.minergate.com');
    const c = evs[2]!;
    assert.deepEqual(
      [c.src_ip, c.dst_ip, c.dst_port, c.domain, c.pid, c.proto],
      ['10.0.5.12', '94.130.143.162', 45700, 'xmr.pool.minergate.com', 6120, 'tcp'],
    );
    assert.deepEqual(
      errors(rs).map((e) => [e.line, e.reason]),
      [
        [7, 'no EventID'],
        [8, 'event 1: no ProcessId'],
      ],
    );
  });

  it('sysmon as a pretty-printed JSON array (Get-WinEvent | ConvertTo-Json): objects with their start line', async () => {
    const rs = await read('sysmon-array.json');
    const evs = events(rs);
    assert.equal(evs[0]!.type, 'dns');
    assert.equal(evs[0]!.query, 'xmr-eu1.nanopool.org');
    assert.equal(evs[0]!.host, 'WIN-DEV-09');
    assert.equal(rs[0]!.line, 2);
    assert.equal(evs[1]!.type, 'process');
    assert.match(evs[1]!.cmdline as string, /\{braces\}/);
    assert.deepEqual(
      errors(rs).map((e) => [e.line, e.reason]),
      [[16, 'event 3: no Computer']],
    );
  });

  it('CSV flows: aliases, durations from start/end, bad rows named', async () => {
    const rs = await read('flows.csv');
    assert.equal(rs[0]!.format, 'csv-flows');
    const f = events(rs)[0]!;
    assert.deepEqual(
      [
        f.host,
        f.src_ip,
        f.dst_ip,
        f.src_port,
        f.dst_port,
        f.proto,
        f.duration,
        f.bytes_out,
        f.bytes_in,
        f.packets_out,
        f.packets_in,
      ],
      ['10.0.6.20', '10.0.6.20', '185.71.65.238', 40112, 3333, 'tcp', 3600, 66800, 141000, 880, 1020],
    );
    assert.deepEqual(
      errors(rs).map((e) => e.line),
      [9, 10],
    );
    assert.match(errors(rs)[0]!.reason, /bad destination address 'not-an-ip'/);
  });

  it('VPC flow logs: space-separated, NODATA skipped, reply records turned to the client view', async () => {
    const evs = events(await read('vpc-flows.log'));
    assert.equal(evs.length, 4);
    const reply = evs[1]!;
    assert.deepEqual(
      [
        reply.host,
        reply.dst_ip,
        reply.dst_port,
        reply.bytes_in,
        reply.bytes_out,
        reply.reversed,
        reply.proto,
      ],
      ['10.0.7.30', '185.71.65.238', 3333, 34980, undefined, true, 'tcp'],
    );
    assert.equal(evs[0]!.time, '2024-01-15T10:00:00.000Z');
    assert.equal(evs[0]!.duration, 600);
  });

  it('nfdump CSV: sa/da/sp/dp/ibyt/obyt, the Summary block ignored', async () => {
    const rs = await read('nfdump.csv');
    const evs = events(rs);
    assert.equal(evs.length, 2);
    assert.equal(errors(rs).length, 0);
    assert.deepEqual(
      [evs[0]!.dst_port, evs[0]!.duration, evs[0]!.bytes_out, evs[0]!.bytes_in, evs[0]!.proto],
      [5555, 2700, 52000, 99000, 'tcp'],
    );
  });
});

describe('readTelemetry: framing', () => {
  it('gzip is undone; the format is still sniffed', async () => {
    const gz = gzipSync(readFileSync(fx('conn.log')));
    const rs: TelemetryRecord[] = [];
    for await (const r of readTelemetry(await stream([gz.subarray(0, 7), gz.subarray(7)]), {
      file: 'conn.log.gz',
    }))
      rs.push(r);
    assert.equal(events(rs).length, 4);
    assert.equal(rs[0]!.format, 'zeek-tsv');
  });

  it('lines split across chunks (and inside a UTF-8 character) are whole', async () => {
    const text = Buffer.from(
      '{"time":"2024-01-15T10:00:00Z","host":"h-é","type":"dns","query":"github.com"}\r\n{"time":"2024-01-15T10:00:01Z","host":"h","type":"dns","query":"x.org"}',
    );
    const parts = [text.subarray(0, 50), text.subarray(50, 51), text.subarray(51)];
    const rs: TelemetryRecord[] = [];
    for await (const r of readTelemetry(await stream(parts), { file: 'x' })) rs.push(r);
    assert.deepEqual(
      events(rs).map((e) => e.host),
      ['h-é', 'h'],
    );
    assert.deepEqual(
      rs.map((r) => r.line),
      [1, 2],
    );
  });

  it('an over-long line is an error and is not held; the next line still reads', async () => {
    const long = `{"time":"2024-01-15T10:00:00Z","host":"h","type":"dns","query":"${'a'.repeat(5000)}"}\n`;
    const ok = '{"time":"2024-01-15T10:00:01Z","host":"h","type":"dns","query":"ok.org"}\n';
    const rs: TelemetryRecord[] = [];
    for await (const r of readTelemetry(
      await stream([Buffer.from(ok + long.slice(0, 2000)), Buffer.from(long.slice(2000)), Buffer.from(ok)]),
      {
        file: 'x',
        maxUnitBytes: 1024,
        format: 'minewatch',
      },
    ))
      rs.push(r);
    assert.deepEqual(
      rs.map((r) => [r.line, r.event ? 'event' : r.error!.reason]),
      [
        [1, 'event'],
        [2, 'longer than 1024 bytes: skipped'],
        [3, 'event'],
      ],
    );
  });

  it('an unknown format is one error, not a flood', async () => {
    const rs = parseText('hello world\nsecond line\n', { file: 'notes.txt' });
    assert.equal(rs.length, 1);
    assert.match(rs[0]!.error!.reason, /cannot tell the log format/);
  });

  it('sniffing skips a malformed first record', () => {
    assert.equal(
      sniffFormat(['{"broken', '{"event_type":"dns","timestamp":"x","src_ip":"1.2.3.4"}']),
      'suricata',
    );
    assert.equal(sniffFormat(['srcaddr dstaddr srcport dstport protocol']), 'csv-flows');
    assert.equal(sniffFormat(['#separator \\x09']), 'zeek-tsv');
  });

  it('times: epoch s/ms, Suricata +0000, Falco nanoseconds, Sysmon UtcTime, PowerShell /Date()/', () => {
    assert.equal(toIso('1705312800.5'), '2024-01-15T10:00:00.500Z');
    assert.equal(toIso(1705312800500), '2024-01-15T10:00:00.500Z');
    assert.equal(toIso('2024-01-15T11:00:00.123456+0100'), '2024-01-15T10:00:00.123Z');
    assert.equal(toIso('2024-01-15T10:00:00.123456789Z'), '2024-01-15T10:00:00.123Z');
    assert.equal(toIso('2024-01-15 10:00:00.123'), '2024-01-15T10:00:00.123Z');
    assert.equal(toIso('/Date(1705312800123)/'), '2024-01-15T10:00:00.123Z');
    assert.equal(toIso('-'), undefined);
    assert.equal(toIso('soon'), undefined);
  });
});

describe('log field helpers', () => {
  it('msIso is new Date(ms).toISOString(), where that has an answer', () => {
    let x = 12345;
    const rnd = () => {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      return x / 2 ** 32;
    };
    const samples = [0, 86_400_000 - 1, 253_402_300_799_999, 253_402_300_800_000, -1, 8.64e15, 8.64e15 + 1];
    samples.push(Number.NaN, Number.POSITIVE_INFINITY, 1705276800010 + 0.25, 951782400000);
    for (let i = 0; i < 100_000; i++) {
      const k = rnd();
      samples.push(
        k < 0.4
          ? rnd() * 253_402_300_800_000
          : k < 0.8
            ? 1.7e12 + rnd() * 1e10 + rnd()
            : (rnd() - 0.5) * 2e16,
      );
    }
    for (const ms of samples) {
      const d = new Date(ms);
      assert.equal(msIso(ms), Number.isFinite(d.getTime()) ? d.toISOString() : undefined, String(ms));
    }
  });

  it('toNum takes numbers as Number() does, and nothing negative or blank', () => {
    for (const [v, want] of [
      ['12', 12],
      [' 12 ', 12],
      ['1.5e3', 1500],
      ['12abc', undefined],
      ['-', undefined],
      ['', undefined],
      [' ', undefined],
      ['-3', undefined],
      ['0x10', 16],
      [7, 7],
      [-1, undefined],
    ] as const)
      assert.equal(toNum(v), want, JSON.stringify(v));
  });
});
