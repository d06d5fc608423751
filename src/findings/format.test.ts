import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Finding } from './finding.ts';
import { evidenceLabel, poolLabel, proxyLabel, renderFindingsTable } from './format.ts';

const base: Finding = {
  id: 'x',
  rule: 'net.stratum.session',
  title: 't',
  severity: 'high',
  confidence: 0.9,
  attack: [],
  host: '10.2.0.9',
  evidence: [{ kind: 'flow', source: 'c.pcap', packets: [6, 8, 9, 10, 11] }],
};

test('the table names the pool, the evidence and the proxy a connection went through', () => {
  const f: Finding = {
    ...base,
    pool: { host: 'pool.supportxmr.com', port: 3333 },
    proxy: { protocol: 'socks5', ip: '10.2.0.1', port: 1080 },
  };
  assert.equal(poolLabel(f), 'pool.supportxmr.com:3333');
  assert.equal(evidenceLabel(f), 'pkt 6,8,9,10,…');
  assert.equal(proxyLabel(f.proxy), 'socks5 10.2.0.1:1080');
  assert.equal(
    proxyLabel({ protocol: 'http-connect', ip: '2001:db8::1', port: 3128 }),
    'http-connect [2001:db8::1]:3128',
  );
  assert.equal(proxyLabel(undefined), '');
  assert.equal(proxyLabel({ port: 1 }), '');
  const table = renderFindingsTable([
    f,
    { ...base, host: '10.8.0.5', pool: { ip: '198.51.100.77', port: 3333 } },
  ]);
  assert.match(table, /pkt 6,8,9,10,… via socks5 10\.2\.0\.1:1080/);
  assert.match(table, /198\.51\.100\.77:3333/);
  assert.equal(table.split('\n').filter((l) => l.includes('via ')).length, 1);
});
