import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { Command } from 'commander';
import { buildScriptCase } from '../../test/fixtures/hosts/scripts.ts';
import { XMR } from '../wallets/test-helpers/fixtures.ts';
import type { CommandContext } from './common.ts';
import { EXIT } from './io.ts';
import { registerScan } from './scan.ts';

async function run(argv: string[]): Promise<{ code: number; stdout: string }> {
  const out = new PassThrough();
  const o: Buffer[] = [];
  out.on('data', (c: Buffer) => o.push(c));
  const ctx: CommandContext = {
    io: { stdout: out, stderr: new PassThrough(), stdin: Readable.from([]) },
    exitCode: EXIT.CLEAN,
  };
  const program = new Command('minewatch').exitOverride();
  registerScan(program, ctx);
  await program.parseAsync(argv, { from: 'user' });
  return { code: ctx.exitCode, stdout: Buffer.concat(o).toString() };
}

const base = fs.mkdtempSync(path.join(os.tmpdir(), 'minewatch-cli-scan-'));
after(() => fs.rmSync(base, { recursive: true, force: true }));

describe('minewatch scan: rivals apart from the attacker', () => {
  it('the table lists the rivals a dropper kills in their own rows, not under pools/wallets', async () => {
    const root = buildScriptCase('rocke-pastebin', path.join(base, 'rocke'));
    const r = await run(['scan', '--root', root, '--no-user-intel']);
    assert.equal(r.code, EXIT.FOUND);
    const row = (name: string) => r.stdout.split('\n').find((l) => l.startsWith(`${name} `)) ?? '';
    assert.match(row('pools'), /pool\.supportxmr\.com:5555/);
    assert.doesNotMatch(row('pools'), /stratum\.f2pool\.com/);
    assert.match(row('wallets'), new RegExp(XMR.monerodocsStandard));
    assert.doesNotMatch(row('wallets'), new RegExp(XMR.corpusProxyDonation));
    assert.match(row('rival pools (removed, not counted)'), /stratum\.f2pool\.com:8888/);
    assert.match(row('rival wallets (removed, not counted)'), new RegExp(XMR.corpusProxyDonation));
    assert.match(row('workers'), /rocke01/);
    assert.match(row('families'), /rocke/);
    assert.match(row('c2'), /192\.0\.2\.44/);
    assert.match(row('c2'), /pastebin\.com/);
  });

  it('JSON output carries accounts and the rivals section', async () => {
    const root = buildScriptCase('vbs-minergate-account', path.join(base, 'vbs'));
    const r = await run(['scan', '--root', root, '--no-user-intel', '--format', 'json']);
    const doc = JSON.parse(r.stdout) as { findings: { rule: string; account?: string }[] };
    const d = doc.findings.find((f) => f.rule === 'host.file.dropper-script');
    assert.equal(d?.account, 'someone@example.org');
  });
});
