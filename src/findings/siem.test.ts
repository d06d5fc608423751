import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ATTACK, type Finding } from './index.ts';
import { toEcs, toOcsf } from './siem.ts';

const stratum: Finding = {
  id: 'abc123',
  rule: 'net.stratum.session',
  title: 'Stratum mining session',
  severity: 'high',
  confidence: 0.97,
  attack: [ATTACK.resourceHijacking, ATTACK.nonStandardPort],
  host: '192.168.2.92',
  time: '2018-02-01T10:00:00.000Z',
  first_seen: '2018-02-01T10:00:00.000Z',
  last_seen: '2018-02-01T10:05:00.000Z',
  pool: { ip: '178.32.196.217', port: 9050, host: 'pool.example' },
  coin: 'XMR',
  wallet: '44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A',
  wallet_valid: true,
  agent: 'xmr-stak-cpu/1.3.0-1.5.0',
  reasons: ['login with a Monero wallet'],
  evidence: [{ kind: 'flow', source: 'x.pcap', packets: [213, 215] }],
};
const process: Finding = {
  id: 'p1',
  rule: 'host.process.stratum-cmdline',
  title: 'Miner command line',
  severity: 'critical',
  confidence: 0.99,
  attack: [ATTACK.resourceHijacking],
  host: 'web-3',
  evidence: [
    {
      kind: 'process',
      pid: 4242,
      cmdline: '/tmp/.x/xmrig -o stratum+tcp://pool:3333',
      path: '/tmp/.x/xmrig',
    },
  ],
};

// biome-ignore lint/suspicious/noExplicitAny: the assertions walk JSON documents whose shape they state
type Doc = any;

test('OCSF: a Detection Finding with class, severity, ATT&CK, endpoints and extensions', () => {
  const o = toOcsf(stratum) as Record<string, Doc>;
  assert.equal(o.class_uid, 2004);
  assert.equal(o.type_uid, 200401);
  assert.equal(o.severity_id, 4);
  assert.equal(o.confidence_score, 97);
  assert.equal(o.time, Date.parse('2018-02-01T10:00:00Z'));
  assert.deepEqual(
    o.finding_info.attacks.map((a: Doc) => a.technique.uid),
    ['T1496', 'T1571'],
  );
  assert.equal(o.finding_info.analytic.name, 'net.stratum.session');
  assert.deepEqual(o.evidences[0].dst_endpoint, {
    ip: '178.32.196.217',
    port: 9050,
    hostname: 'pool.example',
  });
  assert.equal(o.evidences[0].src_endpoint.ip, '192.168.2.92');
  assert.equal(o.unmapped.wallet, stratum.wallet);
  assert.equal(o.unmapped.coin, 'XMR');
  assert.ok(o.observables.some((x: Doc) => x.name === 'wallet'));
  const p = toOcsf(process) as Record<string, Doc>;
  assert.equal(p.severity_id, 5);
  assert.deepEqual(p.evidences[0].process, {
    pid: 4242,
    cmd_line: '/tmp/.x/xmrig -o stratum+tcp://pool:3333',
  });
  assert.equal(p.evidences[0].src_endpoint, undefined);
});

test('ECS: an alert with rule, threat, source/destination, process and minewatch fields', () => {
  const e = toEcs(stratum) as Record<string, Doc>;
  assert.equal(e['@timestamp'], '2018-02-01T10:00:00.000Z');
  assert.equal(e.event.kind, 'alert');
  assert.ok(e.event.category.includes('network'));
  assert.equal(e.rule.id, 'net.stratum.session');
  assert.deepEqual(e.threat.technique.id, ['T1496', 'T1571']);
  assert.equal(e.source.ip, '192.168.2.92');
  assert.deepEqual(e.destination, { ip: '178.32.196.217', port: 9050, domain: 'pool.example' });
  assert.equal(e.user_agent.original, 'xmr-stak-cpu/1.3.0-1.5.0');
  assert.equal(e.minewatch.wallet_valid, true);
  const p = toEcs(process) as Record<string, Doc>;
  assert.equal(p.host.name, 'web-3');
  assert.equal(p.process.pid, 4242);
  assert.equal(p.file.path, '/tmp/.x/xmrig');
  assert.equal(p.source, undefined);
});
