/**
 * `minewatch fleet` against a server on loopback: approvals need a reported plan, exceptions go in and out
 * of the decisions and the audit log, agent options are checked.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startServer } from '../server/app.ts';
import { DuckDBStore } from '../store/duckdb.ts';
import { runCli } from './test-helpers/run.ts';

test('fleet approve, except, decisions and audit through a running server', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'minewatch-fleet-cli-'));
  const store = await DuckDBStore.open(join(dir, 'm.db'));
  const admin = 'mw-admin-token-for-the-cli-test-0123456789';
  const srv = await startServer({
    store,
    adminToken: admin,
    listen: '127.0.0.1:0',
    closeStore: false,
    fleet: { intel: false, refreshMs: 0 },
  });
  const s = ['--server', srv.url, '--admin-token', admin];
  try {
    const noPlan = await runCli(['fleet', 'approve', 'web-01', ...s]);
    assert.equal(noPlan.code, 2);
    assert.match(noPlan.stderr, /409.*--allow-remote-clean/);
    const ex = await runCli(['fleet', 'except', 'Pool.Example.NET', '--reason', 'lab pool', ...s]);
    assert.equal(ex.code, 0, ex.stderr);
    assert.match(ex.stdout, /exception for pool\.example\.net added/);
    assert.equal((await runCli(['fleet', 'except', 'not a name!', ...s])).code, 2);
    const d = JSON.parse((await runCli(['fleet', 'decisions', '--json', ...s])).stdout);
    assert.deepEqual(
      d.exceptions.map((e: { value: string; by: string }) => [e.value, e.by]),
      [['pool.example.net', 'admin']],
    );
    assert.equal((await runCli(['fleet', 'unexcept', 'pool.example.net', ...s])).code, 0);
    const audit = JSON.parse((await runCli(['fleet', 'audit', '--json', ...s])).stdout);
    assert.deepEqual(
      audit.audit.map((a: { action: string }) => a.action),
      ['exception-remove', 'exception-add'],
    );
    const bad = await runCli([
      'agent',
      '--server',
      srv.url,
      '--token',
      'x',
      '--enforce-blocks',
      'pf',
      '--once',
    ]);
    assert.match(bad.stderr, /nftables, iptables or hosts/);
  } finally {
    await srv.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
