import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseToken } from '../server/tokens.ts';
import { parseDuration, parseSize } from './agent.ts';
import { CliError } from './io.ts';
import { runCli } from './test-helpers/run.ts';

/** The CLI in-process, as a user runs it. */
async function run(argv: string[]): Promise<{ out: string; err: string; code: number }> {
  const r = await runCli(argv);
  return { out: r.stdout, err: r.stderr, code: r.code };
}

test('token create prints a token once; list shows no secret; revoke', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'minewatch-token-'));
  try {
    const db = join(dir, 'm.db');
    const made = await run(['token', 'create', '--name', 'web-01', '--db', db]);
    const token = made.out.trim();
    assert.ok(parseToken(token), token);
    assert.match(made.err, /shown only this once/);
    await run(['token', 'create', '--name', 'ops', '--admin', '--db', db]);
    const list = await run(['token', 'list', '--db', db, '--json']);
    const tokens = JSON.parse(list.out).tokens as { name: string; admin: boolean; hash?: string }[];
    assert.deepEqual(
      tokens.map((t) => [t.name, t.admin, t.hash]),
      [
        ['web-01', false, undefined],
        ['ops', true, undefined],
      ],
    );
    assert.ok(!list.out.includes(parseToken(token)!.secret));
    assert.match((await run(['token', 'revoke', 'web-01', '--db', db])).out, /revoked 1 token/);
    assert.equal((await run(['token', 'revoke', 'web-01', '--db', db])).code, 2);
    assert.match((await run(['agent', '--server', 'http://127.0.0.1:1', '--once'])).err, /token/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('durations and sizes', () => {
  assert.equal(parseDuration('10m'), 600_000);
  assert.equal(parseDuration('30'), 30_000);
  assert.equal(parseDuration('500ms'), 500);
  assert.throws(() => parseDuration('soon'), CliError);
  assert.equal(parseSize('64MiB'), 64 * 1024 * 1024);
  assert.equal(parseSize('500k'), 512_000);
  assert.throws(() => parseSize('lots'), CliError);
});

test('token create --host binds an agent token; revoke by name or --id, never both', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'minewatch-token-'));
  try {
    const db = join(dir, 'm.db');
    const a = parseToken(
      (await run(['token', 'create', '--name', 'web-01', '--host', 'web-01', '--db', db])).out.trim(),
    )!;
    // A token whose name is the first one's id.
    await run(['token', 'create', '--name', a.id, '--db', db]);
    const list = await run(['token', 'list', '--db', db]);
    assert.match(list.out, /web-01 {2}host=web-01/);
    assert.equal(
      (await run(['token', 'create', '--name', 'x', '--admin', '--host', 'h', '--db', db])).code,
      2,
    );
    assert.match(
      (await run(['token', 'revoke', a.id, '--db', db])).out,
      new RegExp(`revoked 1 token named '${a.id}'`),
    );
    const after = JSON.parse((await run(['token', 'list', '--db', db, '--json'])).out).tokens as {
      id: string;
      revoked: boolean;
    }[];
    assert.equal(after.find((t) => t.id === a.id)?.revoked, false, 'the id was a name here, not an id');
    assert.match((await run(['token', 'revoke', a.id, '--id', '--db', db])).out, /revoked 1 token with id/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
