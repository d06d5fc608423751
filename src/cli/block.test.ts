/**
 * `minewatch block` end to end, in-process. The harness registers the command on a program built like
 * main.ts builds its own, so these tests do not depend on the command list in main.ts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { EXIT } from './io.ts';
import { runCli } from './test-helpers/run.ts';

/** The CLI in-process, as a user runs it. */
async function run(argv: string[]): Promise<{ out: string; err: string; code: number }> {
  const r = await runCli(['block', ...argv]);
  return { out: r.stdout, err: r.stderr, code: r.code };
}

const dir = mkdtempSync(join(tmpdir(), 'mw-block-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const builtin = ['--no-user-intel'];

describe('minewatch block', () => {
  it('writes a format to stdout, and to a file with -o', async () => {
    const r = await run(['--format', 'dnsmasq', ...builtin]);
    assert.equal(r.code, EXIT.CLEAN);
    assert.match(r.out, /^local=\/nanopool\.org\/$/m);
    const file = join(dir, 'list.rpz');
    const w = await run(['--format', 'rpz', '--serial', '42', '-o', file, ...builtin]);
    assert.equal(w.code, EXIT.CLEAN, w.err);
    assert.equal(w.out, '');
    assert.match(readFileSync(file, 'utf8'), /SOA localhost\. hostmaster\.localhost\. \( 42 /);
  });

  it('filters by coin and adds closed pools on request', async () => {
    const all = (await run(['--format', 'hosts', ...builtin])).out;
    const xmr = (await run(['--format', 'hosts', '--coins', 'XMR', '--strict-coins', ...builtin])).out;
    assert.ok(xmr.length < all.length);
    assert.ok(!all.includes(' minexmr.com\n'));
    assert.ok(
      (await run(['--format', 'hosts', '--include-closed', ...builtin])).out.includes(' minexmr.com\n'),
    );
  });

  it('rejects bad input with exit 2', async () => {
    assert.equal((await run([...builtin])).code, EXIT.ERROR);
    assert.equal((await run(['--format', 'bogus'])).code, EXIT.ERROR);
    const c = await run(['--format', 'hosts', '--coins', 'X;Y', ...builtin]);
    assert.equal(c.code, EXIT.ERROR);
    assert.match(c.err, /not a coin symbol/);
    const a = await run(['--format', 'yara', '--apply', '--dry-run', ...builtin]);
    assert.equal(a.code, EXIT.ERROR);
    assert.match(a.err, /--apply works with/);
  });

  it('--apply --dry-run prints the plan and changes nothing; --apply/--revert round-trips a hosts file', async () => {
    const hosts = join(dir, 'hosts');
    const state = join(dir, 'state');
    const original = '127.0.0.1 localhost\n';
    writeFileSync(hosts, original);
    const common = ['--hosts-file', hosts, '--state-dir', state, ...builtin];
    const dry = await run(['--format', 'hosts', '--apply', '--dry-run', ...common]);
    assert.equal(dry.code, EXIT.CLEAN, dry.err);
    assert.match(dry.out, /dry run: nothing changed/);
    assert.match(dry.out, /would write \d+ names into/);
    assert.equal(readFileSync(hosts, 'utf8'), original);
    if (process.getuid?.() !== 0) return; // the real apply needs root, by design
    assert.equal((await run(['--format', 'hosts', '--apply', ...common])).code, EXIT.CLEAN);
    assert.match(readFileSync(hosts, 'utf8'), /# BEGIN minewatch/);
    const rv = await run(['--revert', '--state-dir', state]);
    assert.equal(rv.code, EXIT.CLEAN, rv.err);
    assert.match(rv.out, /restore .*hosts/);
    assert.equal(readFileSync(hosts, 'utf8'), original);
    assert.match((await run(['--revert', '--state-dir', state])).out, /nothing to revert/);
  });

  it('lists the formats in --help', async () => {
    const h = await run(['--help']);
    assert.equal(h.code, EXIT.CLEAN);
    for (const f of [
      'hosts',
      'dnsmasq',
      'unbound',
      'rpz',
      'nftables',
      'iptables',
      'suricata',
      'snort',
      'falco',
      'yara',
      'squid',
    ])
      assert.match(h.out, new RegExp(`^  ${f} `, 'm'));
  });
});
