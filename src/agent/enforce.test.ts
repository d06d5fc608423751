/**
 * The enforcer without a server: stream answers applied to a temp hosts file, and to ipsets inside a network
 * namespace the test creates (the nftables path runs end to end in fleet-enforce.test.ts).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { processEnv } from '../respond/blocklist/apply.ts';
import { IN_CI, missingTool, runTool } from '../respond/blocklist/testkit.ts';
import type { Decision } from '../respond/fleet/decisions.ts';
import { Enforcer, protectedAddresses, resolvers } from './enforce.ts';

const dir = mkdtempSync(join(tmpdir(), 'mw-enforce-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const d = (type: 'ip' | 'domain', value: string, added = 1): Decision => ({
  type,
  value,
  origin: 'fleet',
  reason: 'test',
  added,
});
const protect = { ips: new Set(['127.0.0.1', '::1', '192.0.2.53']), names: new Set(['mw.internal']) };

test('resolv.conf nameservers and the server’s addresses are protected', async () => {
  assert.deepEqual(
    resolvers('# c\nnameserver 192.0.2.53\nnameserver fe80::1%eth0\nsearch x\n nameserver  10.0.0.2 \n'),
    ['192.0.2.53', 'fe80::1', '10.0.0.2'],
  );
  const conf = join(dir, 'resolv.conf');
  writeFileSync(conf, 'nameserver 192.0.2.53\n');
  const p = await protectedAddresses('https://mw.internal:8750', {
    resolvConf: conf,
    resolve: async () => ['198.51.100.10'],
  });
  assert.ok(p.ips.has('198.51.100.10') && p.ips.has('192.0.2.53') && p.names.has('mw.internal'));
  const q = await protectedAddresses('http://[2001:db8::5]:8750', { resolvConf: join(dir, 'none') });
  assert.ok(q.ips.has('2001:db8::5'));
});

test('hosts target: names added and removed in minewatch’s section; stop restores the file', () => {
  const hosts = join(dir, 'hosts');
  const original = '127.0.0.1 localhost\n10.0.0.5 db.internal\n';
  writeFileSync(hosts, original);
  const env = processEnv({
    isRoot: true,
    stateDir: join(dir, 'state-hosts'),
    hostsFile: hosts,
    now: () => 'T',
  });
  const e = new Enforcer({ target: 'hosts', server: 'http://127.0.0.1:1', token: 't', env, protect });
  e.apply({
    version: 3,
    full: true,
    new: [d('domain', 'xmr.pool.example'), d('domain', 'mw.internal'), d('ip', '198.51.100.7')],
    deleted: [],
  });
  let text = readFileSync(hosts, 'utf8');
  assert.match(text, /^0\.0\.0\.0 xmr\.pool\.example$/m);
  assert.doesNotMatch(text, /mw\.internal/, 'the server’s name is never sunk');
  assert.deepEqual([e.state().version, e.state().names, e.state().protected], [3, 1, ['mw.internal']]);
  e.apply({
    version: 4,
    full: false,
    new: [d('domain', 'eth.pool.example', 4)],
    deleted: [d('domain', 'xmr.pool.example')],
  });
  text = readFileSync(hosts, 'utf8');
  assert.match(text, /eth\.pool\.example/);
  assert.doesNotMatch(text, /xmr\.pool\.example/);
  // A malformed answer changes nothing and keeps the version.
  assert.throws(() => e.apply({ version: 5, full: false } as never), /malformed/);
  assert.equal(e.state().version, 4);
  e.stop();
  assert.equal(readFileSync(hosts, 'utf8'), original);
});

test('iptables target: ipset elements added and removed in place; stop leaves nothing', async (t) => {
  for (const [tool, pkg] of [
    ['ip', 'iproute2'],
    ['ipset', 'ipset'],
    ['iptables', 'iptables'],
  ] as const) {
    const why = missingTool(tool, pkg);
    if (why) return t.skip(why);
  }
  const ns = `mwenf-${process.pid}`;
  const made = runTool(['ip', 'netns', 'add', ns]);
  if (made.code !== 0) {
    if (IN_CI) assert.fail(made.out);
    return t.skip(`network namespaces not permitted here: ${made.out.trim()}`);
  }
  try {
    const exec = (...a: string[]) => runTool(['ip', 'netns', 'exec', ns, ...a]);
    const env = processEnv({
      isRoot: true,
      stateDir: join(dir, 'state-ipt'),
      hostsFile: join(dir, 'h2'),
      netns: ns,
      now: () => 'T',
    });
    const e = new Enforcer({ target: 'iptables', server: 'http://127.0.0.1:1', token: 't', env, protect });
    e.apply({
      version: 1,
      full: true,
      new: [d('ip', '198.51.100.7'), d('ip', '192.0.2.53'), d('ip', '2001:db8::7')],
      deleted: [],
    });
    assert.match(exec('ipset', 'list', 'minewatch-v4').out, /198\.51\.100\.7/);
    assert.doesNotMatch(
      exec('ipset', 'list', 'minewatch-v4').out,
      /192\.0\.2\.53/,
      'the resolver is never blocked',
    );
    assert.match(exec('ipset', 'list', 'minewatch-v6').out, /2001:db8::7/);
    const rules = exec('iptables', '-S').out;
    e.apply({
      version: 2,
      full: false,
      new: [d('ip', '198.51.100.8', 2)],
      deleted: [d('ip', '198.51.100.7')],
    });
    const v4 = exec('ipset', 'list', 'minewatch-v4').out;
    assert.match(v4, /198\.51\.100\.8/);
    assert.doesNotMatch(v4, /198\.51\.100\.7/);
    assert.equal(exec('iptables', '-S').out, rules, 'rules untouched: only set elements changed');
    e.stop();
    assert.notEqual(exec('ipset', 'list', '-n', 'minewatch-v4').code, 0);
    assert.doesNotMatch(exec('iptables', '-S').out, /MINEWATCH/);
  } finally {
    runTool(['ip', 'netns', 'del', ns]);
  }
});
