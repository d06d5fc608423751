import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli } from './test-helpers/run.ts';

const GENERAL_FUND =
  '44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A';
const home = () => mkdtempSync(join(tmpdir(), 'mw-intel-'));

test('intel stats counts pools, endpoints, coins and sources', async () => {
  const r = await runCli(['intel', 'stats', '--format', 'json', '--no-user-intel']);
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  assert.ok(s.pools >= 300, `pools ${s.pools}`);
  assert.ok(s.endpoints >= 500);
  assert.ok(s.poolsByCoin.XMR > 50);
  const t = await runCli(['intel', 'stats', '--no-user-intel']);
  assert.match(t.stdout, /pool domains/);
});

test('intel lookup: a pool subdomain is nanopool (exit 1), a look-alike is not (exit 0)', async () => {
  const hit = await runCli([
    'intel',
    'lookup',
    'xmr-eu1.nanopool.org',
    '--format',
    'json',
    '--no-user-intel',
  ]);
  assert.equal(hit.code, 1);
  const a = JSON.parse(hit.stdout);
  assert.equal(a.pool.entry.name.toLowerCase().includes('nanopool'), true);
  assert.ok(a.licences.length > 0);
  const miss = await runCli([
    'intel',
    'lookup',
    'nanopool.org.evil.com',
    '--format',
    'json',
    '--no-user-intel',
  ]);
  assert.equal(miss.code, 0);
  assert.equal(JSON.parse(miss.stdout).verdict, 'unknown');
});

test('intel lookup: closed pool shows its closing date', async () => {
  const r = await runCli(['intel', 'lookup', 'pool.minexmr.com', '--no-user-intel']);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /closed 2022-08/);
});

test('intel lookup: a wallet gives coin and validity; a changed character is invalid', async () => {
  const ok = await runCli(['intel', 'lookup', GENERAL_FUND, '--format', 'json']);
  const w = JSON.parse(ok.stdout).wallet;
  assert.equal(w.coin, 'XMR');
  assert.equal(w.valid, true);
  const bad = GENERAL_FUND.slice(0, 40) + (GENERAL_FUND[40] === 'a' ? 'b' : 'a') + GENERAL_FUND.slice(41);
  const r = await runCli(['intel', 'lookup', bad, '--format', 'json']);
  assert.equal(JSON.parse(r.stdout).wallet.valid, false);
});

test('intel import: merged into the user dir, used by lookup, exported with its licence', async () => {
  const dir = home();
  const list = join(dir, 'mypools.txt');
  writeFileSync(list, '# my pools\nxmr.example-pool.test\n203.0.113.9:7777\n');
  const userDir = join(dir, 'intel');
  const r = await runCli(['intel', 'import', '--format', 'plain', list, '--intel-dir', userDir]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /imported 1 pool domains, 1 endpoints/);
  const l = await runCli([
    'intel',
    'lookup',
    'a.xmr.example-pool.test',
    '--intel-dir',
    userDir,
    '--format',
    'json',
  ]);
  assert.equal(l.code, 1);
  assert.ok(JSON.parse(l.stdout).licences.includes('user-supplied'));
  const csv = join(dir, 'out.csv');
  const e = await runCli(['intel', 'export', '--format', 'csv', '-o', csv, '--intel-dir', userDir]);
  assert.equal(e.code, 0);
  assert.match(readFileSync(csv, 'utf8'), /xmr\.example-pool\.test.*user-supplied/);
});

test('intel import: a bad line names file and line, and nothing imported before is lost', async () => {
  const dir = home();
  const userDir = join(dir, 'intel');
  const good = join(dir, 'good.txt');
  writeFileSync(good, 'pool.good.test\n');
  assert.equal(
    (await runCli(['intel', 'import', '--format', 'plain', good, '--intel-dir', userDir])).code,
    0,
  );
  const before = readdirSync(userDir).map((f) => readFileSync(join(userDir, f), 'utf8'));
  const bad = join(dir, 'bad.txt');
  writeFileSync(bad, 'pool.ok.test\nthis is not a host!\n');
  const r = await runCli(['intel', 'import', '--format', 'plain', bad, '--intel-dir', userDir]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /bad\.txt:2:/);
  const after = readdirSync(userDir).map((f) => readFileSync(join(userDir, f), 'utf8'));
  assert.deepEqual(after, before);
  const l = await runCli(['intel', 'lookup', 'pool.good.test', '--intel-dir', userDir]);
  assert.equal(l.code, 1);
});
