import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { Command, CommanderError } from 'commander';
import { buildCase } from '../../test/fixtures/hosts/build.ts';
import { diff, snapshot } from '../respond/cleanup/test-helpers/snapshot.ts';
import { registerClean } from './clean.ts';
import type { CommandContext } from './common.ts';
import { CliError, EXIT } from './io.ts';
import { registerRestore } from './restore.ts';

/** The two commands on their own program, error handling as in main.ts (they are registered there by the lead). */
async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  const o: Buffer[] = [];
  const e: Buffer[] = [];
  out.on('data', (c: Buffer) => o.push(c));
  err.on('data', (c: Buffer) => e.push(c));
  const ctx: CommandContext = {
    io: { stdout: out, stderr: err, stdin: Readable.from([]) },
    exitCode: EXIT.CLEAN,
  };
  const program = new Command('minewatch').exitOverride();
  registerClean(program, ctx);
  registerRestore(program, ctx);
  for (const c of program.commands)
    c.exitOverride().configureOutput({ writeOut: (s) => out.write(s), writeErr: (s) => err.write(s) });
  let code: number;
  try {
    await program.parseAsync(argv, { from: 'user' });
    code = ctx.exitCode;
  } catch (x) {
    if (x instanceof CliError) err.write(`minewatch: ${x.describe()}\n`);
    code = x instanceof CommanderError && x.exitCode === 0 ? 0 : EXIT.ERROR;
  }
  return { code, stdout: Buffer.concat(o).toString(), stderr: Buffer.concat(e).toString() };
}

let base: string;
before(() => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'minewatch-cli-clean-'));
});
after(() => fs.rmSync(base, { recursive: true, force: true }));

function dirs(tag: string) {
  return ['--journal-dir', path.join(base, tag, 'journal'), '--quarantine-dir', path.join(base, tag, 'q')];
}

describe('minewatch clean / restore', () => {
  it('without --apply prints the plan, changes nothing, exits 1', async () => {
    const root = buildCase('kinsing', path.join(base, 'dry/root'));
    const before = snapshot(root, /^$/);
    const r = await run(['clean', '--root', root, '--no-user-intel', ...dirs('dry')]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /quarantine\s+\/tmp\/kdevtmpfsi/);
    assert.match(r.stdout, /not the live system/);
    assert.match(r.stdout, /Dry run: nothing was changed/);
    assert.equal(diff(before, snapshot(root, /^$/)), '');
    assert.ok(!fs.existsSync(path.join(base, 'dry/journal')));
  });

  it('--apply --format json quarantines and journals; restore puts it all back (twice is fine)', async () => {
    const root = buildCase('c8220', path.join(base, 'apply/root'));
    const before = snapshot(root, /^$/);
    const r = await run([
      'clean',
      '--root',
      root,
      '--apply',
      '--format',
      'json',
      '--no-user-intel',
      ...dirs('apply'),
    ]);
    assert.equal(r.code, 1, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.match(out.journal, /^\d{8}T\d{6}Z-[0-9a-f]{6}$/);
    assert.equal(out.status, 'complete');
    assert.ok(out.plan.steps.length > 0);
    assert.ok(
      out.applied.some(
        (s: { kind: string; status: string }) => s.kind === 'quarantine' && s.status === 'done',
      ),
    );
    // Not the live system: proc/ is a record and stays as it was.
    assert.ok(
      out.applied
        .filter((s: { kind: string }) => s.kind === 'kill')
        .every((s: { status: string }) => s.status === 'skipped'),
    );
    assert.ok(!fs.existsSync(path.join(root, 'etc/sysupdate')));
    assert.ok(fs.existsSync(path.join(out.quarantine, 'manifest.ndjson')));
    const list = await run(['restore', '--list', ...dirs('apply').slice(0, 2)]);
    assert.match(list.stdout, /applied \(complete\)/);
    for (let i = 0; i < 2; i++) {
      const rs = await run(['restore', out.journal, ...dirs('apply').slice(0, 2)]);
      assert.equal(rs.code, 0, rs.stderr);
      assert.match(rs.stdout, /status: complete/);
      assert.equal(diff(before, snapshot(root, /^$/)), '');
    }
  });

  it('a clean host: nothing to clean, exit 0', async () => {
    const root = buildCase('clean', path.join(base, 'clean/root'));
    const r = await run(['clean', '--root', root, '--apply', '--no-user-intel', ...dirs('clean')]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Nothing to clean/);
  });

  it('an unknown journal is an error (exit 2)', async () => {
    const r = await run(['restore', 'nope', ...dirs('none').slice(0, 2)]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /no journal 'nope'/);
    const r2 = await run(['clean', '--resume', '../etc', ...dirs('none').slice(0, 2)]);
    assert.equal(r2.code, 2);
  });
});
