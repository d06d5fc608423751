import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadIntel } from '../../intel/index.ts';
import { conversation, ether, udp, vxlan, writePcap } from '../../sensors/pcap/testkit.ts';
import { compareNames } from './analyzer.ts';
import { analyseCapture } from './capture.ts';
import { rng } from './test-helpers/fuzz.ts';

const intel = loadIntel({ userDir: null });
type Turn = { from: 'c' | 's'; data: Uint8Array | string; dt?: number };

function capture(packets: { ts: number; ip: Uint8Array }[]): Uint8Array {
  packets.sort((a, b) => a.ts - b.ts);
  return writePcap(
    packets.map((p) => ({ ts: p.ts, data: p.ip })),
    { linkType: 101 },
  );
}

const noise = (n: number, r: () => number) => new Uint8Array(n).map(() => 32 + Math.floor(r() * 200));

/** Turns at absolute times → conversation turns with deltas. */
function timed(events: Array<{ t: number; from: 'c' | 's'; data: Uint8Array | string }>): Turn[] {
  events.sort((a, b) => a.t - b.t);
  let last = 0;
  return events.map((e) => {
    const dt = Math.max(0.001, e.t - last);
    last = e.t;
    return { from: e.from, data: e.data, dt };
  });
}

/** An encrypted mining session: TLS-looking records, jobs every ~30 s, shares every ~12 s acknowledged at once. */
function tlsMining(server: string, seconds: number, seed: number) {
  const r = rng(seed);
  const ev: Array<{ t: number; from: 'c' | 's'; data: Uint8Array | string }> = [
    { t: 0.1, from: 'c', data: new Uint8Array([0x17, 0x03, 0x03, ...noise(300, r)]) },
    { t: 0.2, from: 's', data: noise(2900, r) },
    { t: 0.3, from: 'c', data: noise(126, r) },
    { t: 0.4, from: 's', data: noise(51, r) },
    { t: 0.5, from: 'c', data: noise(380, r) },
    { t: 0.6, from: 's', data: noise(620, r) },
  ];
  for (let t = 30; t < seconds; t += 25 + r() * 10)
    ev.push({ t, from: 's', data: noise(560 + Math.floor(r() * 12), r) });
  for (let t = 12; t < seconds; t += 8 + r() * 8) {
    ev.push({ t, from: 'c', data: noise(290 + Math.floor(r() * 6), r) });
    ev.push({ t: t + 0.08, from: 's', data: noise(70, r) });
  }
  return conversation('10.1.1.5:51000', server, timed(ev));
}

test('encrypted mining is found by its rhythm alone, with reasons', async () => {
  const r = await analyseCapture('-', { intel, stdin: [capture(tlsMining('198.51.100.7:14444', 900, 1))] });
  assert.equal(r.findings.length, 1);
  const f = r.findings[0]!;
  assert.equal(f.rule, 'net.flow.mining-behaviour');
  assert.equal(f.host, '10.1.1.5');
  assert.deepEqual({ ip: f.pool?.ip, port: f.pool?.port }, { ip: '198.51.100.7', port: 14444 });
  assert.ok((f.reasons as string[])[0]!.includes('unprompted server pushes'));
  assert.ok(f.confidence >= 0.7);
});

test('a long HTTPS download on 443 is not mining', async () => {
  const r0 = rng(5);
  const ev: Array<{ t: number; from: 'c' | 's'; data: Uint8Array }> = [
    { t: 0.1, from: 'c', data: noise(517, r0) },
  ];
  for (let i = 0; i < 3000; i++) ev.push({ t: 0.5 + i * 0.1, from: 's', data: noise(1400, r0) });
  const r = await analyseCapture('-', {
    intel,
    stdin: [capture(conversation('10.1.1.5:51001', '198.51.100.8:443', timed(ev)))],
  });
  assert.deepEqual(r.findings, []);
});

function dnsResponse(name: string, ip: string): Uint8Array {
  const labels = name.split('.').flatMap((l) => [l.length, ...Buffer.from(l)]);
  const q = [...labels, 0, 0, 1, 0, 1];
  const a = [0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, ...ip.split('.').map(Number)];
  return new Uint8Array([0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0, ...q, ...a]);
}

test('a connection to an address a pool name resolved to is attributed to the pool by name', async () => {
  const t0 = 1_700_000_000;
  const dns = {
    ts: t0,
    ip: udp({
      src: '10.0.0.53',
      dst: '10.1.1.5',
      sport: 53,
      dport: 40000,
      payload: dnsResponse('xmr-eu1.nanopool.org', '203.0.113.50'),
    }),
  };
  const conn = conversation(
    '10.1.1.5:51002',
    '203.0.113.50:14433',
    [{ from: 'c', data: new Uint8Array([1, 2, 3, 4]) }],
    { t0: t0 + 1 },
  );
  const r = await analyseCapture('-', { intel, stdin: [capture([dns, ...conn])] });
  const f = r.findings.find((x) => x.pool?.ip === '203.0.113.50');
  assert.ok(f, JSON.stringify(r.findings));
  assert.equal(f.rule, 'net.pool.connection');
  assert.equal(f.pool?.host, 'xmr-eu1.nanopool.org');
  assert.equal(f.coin, 'XMR');
  assert.equal(f.host, '10.1.1.5');
});

test('a session seen only from the server side (job pushes) is mining', async () => {
  const job = (n: number) =>
    `{"jsonrpc":"2.0","method":"job","params":{"blob":"${'0'.repeat(152)}","job_id":"${n}","target":"b88d0600","algo":"rx/0","height":${3000000 + n},"seed_hash":"${'a'.repeat(64)}"}}\n`;
  const pk = conversation(
    '10.1.1.9:40100',
    '198.51.100.9:3333',
    [1, 2, 3, 4].map((n) => ({ from: 's' as const, data: job(n), dt: 30 })),
    {
      handshake: false,
      close: false,
    },
  );
  const r = await analyseCapture('-', { intel, stdin: [capture(pk)] });
  assert.equal(r.findings.length, 1);
  assert.equal(r.findings[0]!.rule, 'net.stratum.session');
  assert.equal(r.findings[0]!.algo, 'rx/0');
  assert.equal(r.findings[0]!.coin, 'XMR');
});

test('mining inside a VXLAN traffic-mirror session is found on the mirrored host, not the mirror', async () => {
  const wallet =
    '46WNbmwXpYxiBpkbHjAgjC65cyzAxtaaBQjcGpAZquhBKw2r8NtPQniEgMJcwFMCZzSBrEJtmPsTR54MoGBDbjTi2W1XmgM';
  const login = `{"id":1,"jsonrpc":"2.0","method":"login","params":{"login":"${wallet}","pass":"rig7","agent":"XMRig/6.21.0 (Linux x86_64) libuv/1.44.2 gcc/12.2.0"}}\n`;
  const answer = `{"id":1,"jsonrpc":"2.0","error":null,"result":{"id":"a1","job":{"blob":"${'0'.repeat(152)}","job_id":"1","target":"b88d0600","algo":"rx/0"},"status":"OK"}}\n`;
  const inner = conversation('10.8.0.5:51000', '198.51.100.77:3333', [
    { from: 'c', data: login },
    { from: 's', data: answer },
  ]);
  const mirrored = inner.map((p) => ({ ts: p.ts, ip: vxlan(ether(p.ip), { vni: 1234 }) }));
  const r = await analyseCapture('-', { intel, stdin: [capture(mirrored)] });
  assert.equal(r.summary.tunnelled_packets, mirrored.length);
  const f = r.findings.find((x) => x.rule === 'net.stratum.session');
  assert.ok(f, JSON.stringify(r.findings));
  assert.equal(f.host, '10.8.0.5');
  assert.equal(f.pool?.ip, '198.51.100.77');
  assert.equal(f.pool?.port, 3333);
  assert.equal(f.wallet, wallet);
  assert.equal(f.worker, 'rig7');
  assert.match(String(f.agent), /^XMRig\/6\.21\.0/);
  // The mirror's own VXLAN endpoints are not a host that mines.
  assert.ok(!r.findings.some((x) => x.host === '172.31.0.10' || x.host === '172.31.0.20'));
});

test('a miner behind a SOCKS5 proxy: the pool is the target it asked for, the proxy is named, T1090', async () => {
  const wallet =
    '46WNbmwXpYxiBpkbHjAgjC65cyzAxtaaBQjcGpAZquhBKw2r8NtPQniEgMJcwFMCZzSBrEJtmPsTR54MoGBDbjTi2W1XmgM';
  const host = 'pool.supportxmr.com';
  const login = `{"id":1,"jsonrpc":"2.0","method":"login","params":{"login":"${wallet}","pass":"w1","agent":"XMRig/6.20.0"}}\n`;
  const answer = `{"id":1,"jsonrpc":"2.0","error":null,"result":{"id":"a1","job":{"blob":"${'0'.repeat(152)}","job_id":"1","target":"b88d0600","algo":"rx/0"},"status":"OK"}}\n`;
  const request = Uint8Array.from([5, 1, 0, 3, host.length, ...new TextEncoder().encode(host), 0x0d, 0x05]);
  const pk = conversation('10.2.0.9:43000', '10.2.0.1:1080', [
    { from: 'c', data: Uint8Array.from([5, 1, 0]) },
    { from: 's', data: Uint8Array.from([5, 0]) },
    { from: 'c', data: request },
    { from: 's', data: Uint8Array.from([5, 0, 0, 1, 10, 2, 0, 1, 0x9c, 0x40]) },
    { from: 'c', data: login },
    { from: 's', data: answer },
  ]);
  const r = await analyseCapture('-', { intel, stdin: [capture(pk)] });
  assert.equal(r.findings.length, 1, JSON.stringify(r.findings));
  const f = r.findings[0]!;
  assert.equal(f.rule, 'net.stratum.session');
  assert.equal(f.host, '10.2.0.9');
  assert.deepEqual(
    { host: f.pool?.host, ip: f.pool?.ip, port: f.pool?.port, name: f.pool?.name },
    { host, ip: undefined, port: 3333, name: 'SupportXMR' },
  );
  assert.deepEqual(f.proxy, { protocol: 'socks5', ip: '10.2.0.1', port: 1080 });
  assert.equal(f.wallet, wallet);
  assert.equal(f.worker, 'w1');
  assert.ok(f.attack.some((a) => a.technique === 'T1090'));
  assert.ok((f.signals as string[]).includes('net.proxy.pool-request'));
  assert.ok(
    f.reasons?.some((x) => /SOCKS5 to proxy 10\.2\.0\.1:1080 asks for pool\.supportxmr\.com:3333/.test(x)),
  );
});

test('HTTP CONNECT: a pool asked for through a web proxy is found; an ordinary site through it is not', async () => {
  const tlsStart = Uint8Array.from([0x16, 3, 1, 0, 4, 1, 0, 0, 0]);
  const via = (target: string, port: number) =>
    conversation(`10.3.0.4:${port}`, '10.3.0.1:3128', [
      { from: 'c', data: `CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\nUser-Agent: curl/8.5.0\r\n\r\n` },
      { from: 's', data: 'HTTP/1.1 200 Connection established\r\n\r\n' },
      { from: 'c', data: tlsStart },
    ]);
  const r = await analyseCapture('-', {
    intel,
    stdin: [capture([...via('gulf.moneroocean.stream:443', 50001), ...via('github.com:443', 50002)])],
  });
  assert.equal(r.findings.length, 1, JSON.stringify(r.findings));
  const f = r.findings[0]!;
  assert.equal(f.rule, 'net.proxy.pool-request');
  assert.equal(f.pool?.host, 'gulf.moneroocean.stream');
  assert.equal(f.pool?.port, 443);
  assert.equal(f.pool?.name, 'MoneroOcean');
  assert.equal(f.coin, 'XMR');
  assert.deepEqual(f.proxy, { protocol: 'http-connect', ip: '10.3.0.1', port: 3128 });
});

test('pool names and coin symbols are ordered as localeCompare orders them', () => {
  const r = rng(20261205);
  const lower = 'abcdefghijklmnopqrstuvwxyz0123456789.-';
  const upper = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-';
  const other = `${lower}${upper}_:/ `;
  const word = (chars: string) =>
    Array.from({ length: Math.floor(r() * 12) }, () => chars[Math.floor(r() * chars.length)]).join('');
  for (let i = 0; i < 20_000; i++) {
    const chars = [lower, upper, other][i % 3]!;
    const a = word(chars);
    // Shared prefixes too, where only a late character or the length decides.
    const b = r() < 0.3 ? a.slice(0, Math.floor(r() * a.length)) + word(chars) : word(chars);
    assert.equal(Math.sign(compareNames(a, b)), Math.sign(a.localeCompare(b)), `${a} / ${b}`);
  }
});
