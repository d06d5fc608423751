/**
 * --apply / --revert on a temp hosts file and, for the firewalls, inside a network namespace created for
 * the test (never this machine's own rules, resolver or /etc/hosts).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadIntel } from '../../intel/index.ts';
import {
  type ApplyEnv,
  applyBlocklist,
  BlockApplyError,
  HOSTS_BEGIN,
  processEnv,
  readState,
  revertBlocklist,
  stripHostsSection,
  withHostsSection,
} from './apply.ts';
import { selectBlocklist } from './select.ts';
import { IN_CI, missingTool, runTool } from './testkit.ts';

const base = loadIntel({ userDir: null });
const sel = selectBlocklist(base, { version: '0.0.0-test' });
const small = selectBlocklist(base, { coins: ['ETN'], strictCoins: true });
const root = mkdtempSync(join(tmpdir(), 'mw-apply-'));
after(() => rmSync(root, { recursive: true, force: true }));

let n = 0;
function sandbox(over: Partial<ApplyEnv> = {}): ApplyEnv & { dir: string } {
  const dir = join(root, `case-${++n}`);
  return {
    ...processEnv({
      isRoot: true,
      stateDir: join(dir, 'state'),
      hostsFile: join(dir, 'hosts'),
      now: () => 'T',
      ...over,
    }),
    dir,
  };
}

const ORIGINAL = '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n# a comment without newline at end';

describe('hosts section (pure)', () => {
  it('adds, replaces and strips only the marked section', () => {
    const once = withHostsSection(ORIGINAL, ['0.0.0.0 a.example'], 's');
    assert.ok(once.startsWith(`${ORIGINAL}\n${HOSTS_BEGIN}`));
    assert.equal(withHostsSection(once, ['0.0.0.0 a.example'], 's'), once);
    const twice = withHostsSection(once, ['0.0.0.0 b.example'], 's');
    assert.equal(twice.match(/BEGIN minewatch/g)?.length, 1);
    assert.ok(twice.includes('b.example') && !twice.includes('a.example'));
    assert.equal(stripHostsSection(twice).text, `${ORIGINAL}\n`);
  });
});

describe('apply hosts', () => {
  it('apply then revert restores the file byte for byte; applying twice is idempotent', () => {
    const env = sandbox();
    runTool(['mkdir', '-p', env.dir]);
    writeFileSync(env.hostsFile, ORIGINAL);
    const r1 = applyBlocklist('hosts', sel, env);
    assert.equal(r1.changed, true);
    const applied = readFileSync(env.hostsFile, 'utf8');
    assert.ok(applied.includes('0.0.0.0 nanopool.org\n'));
    assert.ok(!applied.includes(' minexmr.com\n'));
    const r2 = applyBlocklist('hosts', sel, env);
    assert.equal(r2.changed, false);
    assert.equal(readFileSync(env.hostsFile, 'utf8'), applied);
    // A different list replaces the section and keeps the first backup.
    applyBlocklist('hosts', small, env);
    assert.equal(readFileSync(env.hostsFile, 'utf8').match(/BEGIN minewatch/g)?.length, 1);
    const rv = revertBlocklist(env);
    assert.equal(rv.length, 1);
    assert.deepEqual(readFileSync(env.hostsFile), Buffer.from(ORIGINAL));
    assert.equal(existsSync(join(env.stateDir, 'state.json')), false);
    assert.deepEqual(revertBlocklist(env), []);
  });

  it('revert keeps edits made after the apply and removes only the section', () => {
    const env = sandbox();
    runTool(['mkdir', '-p', env.dir]);
    writeFileSync(env.hostsFile, ORIGINAL);
    applyBlocklist('hosts', small, env);
    writeFileSync(env.hostsFile, `${readFileSync(env.hostsFile, 'utf8')}10.0.0.1 added-later\n`);
    revertBlocklist(env);
    assert.equal(readFileSync(env.hostsFile, 'utf8'), `${ORIGINAL}\n10.0.0.1 added-later\n`);
  });

  it('dry run changes nothing; without root it refuses', () => {
    const env = sandbox();
    runTool(['mkdir', '-p', env.dir]);
    writeFileSync(env.hostsFile, ORIGINAL);
    const r = applyBlocklist('hosts', sel, { ...env, isRoot: false }, { dryRun: true });
    assert.ok(r.actions.some((a) => a.includes('back up')));
    assert.equal(readFileSync(env.hostsFile, 'utf8'), ORIGINAL);
    assert.equal(existsSync(env.stateDir), false);
    assert.throws(() => applyBlocklist('hosts', sel, { ...env, isRoot: false }), BlockApplyError);
    assert.throws(() => revertBlocklist({ ...env, isRoot: false }), /root/);
    assert.equal(readFileSync(env.hostsFile, 'utf8'), ORIGINAL);
  });
});

/** A network namespace for the firewall tests, or a reason to skip. */
function netns(t: { skip: (m: string) => void }, tools: Array<[string, string]>): string | undefined {
  for (const [tool, pkg] of [['ip', 'iproute2'], ...tools] as Array<[string, string]>) {
    const skip = missingTool(tool, pkg);
    if (skip) {
      t.skip(skip);
      return undefined;
    }
  }
  const ns = `mwtest-${process.pid}-${++n}`;
  const r = runTool(['ip', 'netns', 'add', ns]);
  if (r.code !== 0) {
    if (IN_CI) assert.fail(`cannot create a network namespace: ${r.out}`);
    t.skip(`network namespaces not permitted here: ${r.out.trim()}`);
    return undefined;
  }
  return ns;
}

describe('apply firewall (in a network namespace)', () => {
  it('nftables: apply, apply again, revert leaves the ruleset as it was', (t) => {
    const ns = netns(t, [['nft', 'nftables']]);
    if (!ns) return;
    try {
      const nft = (...a: string[]) => runTool(['ip', 'netns', 'exec', ns, 'nft', ...a]);
      // Someone else's table must survive untouched.
      assert.equal(nft('add', 'table', 'inet', 'other').code, 0);
      assert.equal(nft('add', 'chain', 'inet', 'other', 'c').code, 0);
      const before = nft('list', 'ruleset').out;
      const env = sandbox({ netns: ns });
      const r1 = applyBlocklist('nftables', sel, env);
      assert.equal(r1.changed, true);
      const listed = nft('list', 'set', 'inet', 'minewatch', 'pool_v4').out;
      assert.ok(listed.includes(sel.ipv4[0]!), 'the set holds the addresses');
      const r2 = applyBlocklist('nftables', sel, env);
      assert.equal(r2.changed, false, 'same list twice: nothing changes');
      assert.equal(readState(env.stateDir).nftables?.netns, ns);
      revertBlocklist(env);
      assert.equal(nft('list', 'ruleset').out, before);
      assert.equal(readState(env.stateDir).nftables, undefined);
    } finally {
      runTool(['ip', 'netns', 'del', ns]);
    }
  });

  it('iptables + ipset: apply twice inserts the jumps once, revert restores iptables-save', (t) => {
    const ns = netns(t, [
      ['iptables', 'iptables'],
      ['ipset', 'ipset'],
    ]);
    if (!ns) return;
    try {
      const exec = (...a: string[]) => runTool(['ip', 'netns', 'exec', ns, ...a]);
      const save = () =>
        ['iptables-save', 'ip6tables-save']
          .map((s) =>
            exec(s)
              .out.replace(/^#.*$/gm, '')
              .replace(/\[\d+:\d+\]/g, ''),
          )
          .join('\n');
      // Rules of the host's own must be left as they are.
      exec('iptables', '-A', 'OUTPUT', '-d', '192.0.2.1', '-j', 'ACCEPT');
      exec('ip6tables', '-A', 'FORWARD', '-d', '2001:db8::1', '-j', 'ACCEPT');
      const before = save();
      const env = sandbox({ netns: ns });
      applyBlocklist('iptables', sel, env);
      applyBlocklist('iptables', sel, env);
      const rules = exec('iptables', '-S', 'OUTPUT').out;
      assert.equal(rules.match(/-j MINEWATCH/g)?.length, 1, rules);
      assert.match(exec('iptables', '-S', 'MINEWATCH').out, /--match-set minewatch-v4 dst/);
      assert.match(
        exec('ipset', 'list', '-t', 'minewatch-v4').out,
        new RegExp(`Number of entries: ${sel.ipv4.length}`),
      );
      revertBlocklist(env);
      assert.equal(save(), before);
      assert.notEqual(exec('ipset', 'list', '-n', 'minewatch-v4').code, 0, 'set destroyed');
      // A chain of that name that minewatch did not create is never taken over.
      exec('iptables', '-N', 'MINEWATCH');
      assert.throws(() => applyBlocklist('iptables', sel, sandbox({ netns: ns })), /did not create/);
    } finally {
      runTool(['ip', 'netns', 'del', ns]);
    }
  });
});
