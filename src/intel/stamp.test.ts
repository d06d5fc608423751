/**
 * The built-in intel's stamp (data/intel/checked.json): it must vouch for exactly the committed files, which must
 * pass their full check; and a stamp never lets a changed file through unchecked.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { readWalletFormats, WALLET_FORMATS_FILE } from '../wallets/formats.ts';
import { BUILTIN_DATA_DIR, INTEL_STAMP, IntelSchemaError, intelDigest, readIntelFiles } from './load.ts';
import { INTEL_KINDS } from './schema.ts';

const tmp = mkdtempSync(join(tmpdir(), 'mw-stamp-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

test('the stamp matches every built-in intel file (after changing one: npm run intel:stamp)', () => {
  const stamp = JSON.parse(readFileSync(join(BUILTIN_DATA_DIR, INTEL_STAMP), 'utf8')) as {
    files: Record<string, string>;
  };
  for (const name of [...INTEL_KINDS.map((k) => `${k}.json`), WALLET_FORMATS_FILE]) {
    assert.equal(
      stamp.files[name],
      intelDigest(readFileSync(join(BUILTIN_DATA_DIR, name), 'utf8')),
      `${name} changed since it was stamped: run npm run intel:stamp`,
    );
  }
});

test('the built-in files pass the full check the stamp stands for', () => {
  const files = readIntelFiles(BUILTIN_DATA_DIR, true);
  assert.ok(files.pools.length > 100);
  assert.deepEqual(readIntelFiles(BUILTIN_DATA_DIR), files);
});

test('a changed file is checked in full even where a stamp lies beside it', () => {
  const dir = join(tmp, 'intel');
  cpSync(BUILTIN_DATA_DIR, dir, { recursive: true });
  const pools = JSON.parse(readFileSync(join(dir, 'pools.json'), 'utf8')) as {
    entries: Array<Record<string, unknown>>;
  };
  pools.entries[0]!.coins = 'XMR'; // not a list
  writeFileSync(join(dir, 'pools.json'), JSON.stringify(pools));
  assert.throws(() => readIntelFiles(dir), IntelSchemaError);
  // and a reference to an unknown source, in a file that is itself well-formed, is caught by the cross-file check
  cpSync(BUILTIN_DATA_DIR, dir, { recursive: true });
  const ports = JSON.parse(readFileSync(join(dir, 'ports.json'), 'utf8')) as {
    entries: Array<{ sources: Array<{ id: string }> }>;
  };
  ports.entries[0]!.sources = [{ id: 'no-such-source' }];
  writeFileSync(join(dir, 'ports.json'), JSON.stringify(ports));
  assert.throws(() => readIntelFiles(dir), /unknown source id 'no-such-source'/);
});

test('the wallet formats: stamped ones load unchecked, a changed file is checked in full', () => {
  const dir = join(tmp, 'wallets');
  cpSync(BUILTIN_DATA_DIR, dir, { recursive: true });
  assert.deepEqual(readWalletFormats(dir), readWalletFormats(BUILTIN_DATA_DIR));
  const doc = JSON.parse(readFileSync(join(dir, WALLET_FORMATS_FILE), 'utf8')) as {
    entries: Array<Record<string, unknown>>;
  };
  // A duplicate id: well-formed JSON of the right shape, caught only by the full check.
  doc.entries.push({ ...doc.entries[0]! });
  writeFileSync(join(dir, WALLET_FORMATS_FILE), JSON.stringify(doc));
  assert.throws(() => readWalletFormats(dir), /duplicate id/);
  doc.entries.pop();
  doc.entries[0]!.encoding = 'no-such-encoding';
  writeFileSync(join(dir, WALLET_FORMATS_FILE), JSON.stringify(doc));
  assert.throws(() => readWalletFormats(dir), /wallet-formats/);
});
