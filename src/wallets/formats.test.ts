import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { base58, base58xmr } from '@scure/base';
import { cryptonoteEncodedLength } from './base58.ts';
import { loadWalletFormats, parseWalletFormats, WALLET_FORMATS_SCHEMA } from './formats.ts';

function varint(n: number): number[] {
  const o: number[] = [];
  while (n >= 0x80) {
    o.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  o.push(n);
  return o;
}

/** Lowest and highest encodings of a layout whose leading bytes are fixed: every address lies between them. */
function extremes(lead: number[], total: number, encode: (b: Uint8Array) => string): [string, string] {
  const lo = new Uint8Array(total);
  const hi = new Uint8Array(total).fill(0xff);
  lo.set(lead);
  hi.set(lead);
  return [encode(lo), encode(hi)];
}

describe('data/intel/wallet-formats.json', () => {
  const file = loadWalletFormats();

  it('matches its schema and carries provenance on every entry', () => {
    assert.equal(file.schema, WALLET_FORMATS_SCHEMA);
    assert.ok(file.entries.length > 40);
    for (const e of file.entries) {
      assert.ok(e.source.length > 3, e.id);
      assert.ok(e.licence.length > 0, e.id);
    }
  });

  it('CryptoNote lengths and prefixes follow from the network bytes', () => {
    for (const e of file.entries.filter((x) => x.encoding === 'cryptonote-base58')) {
      const tag = varint(e.network_bytes![0]!);
      const bytes = tag.length + 64 + (e.type === 'integrated' ? 8 : 0) + 4;
      assert.equal(e.length, cryptonoteEncodedLength(bytes), `${e.id} length`);
      const [lo, hi] = extremes(tag, bytes, (b) => base58xmr.encode(b));
      for (const enc of [lo, hi]) {
        assert.ok(
          e.prefix.some((p) => enc.startsWith(p)),
          `${e.id}: ${enc.slice(0, 6)} does not start with ${e.prefix}`,
        );
      }
    }
  });

  it('base58check prefixes and lengths follow from the version bytes', () => {
    for (const e of file.entries.filter((x) => x.encoding === 'base58check')) {
      const total = e.version!.length + e.payload_length! + 4;
      const [lo, hi] = extremes(e.version!, total, (b) => base58.encode(b));
      const [min, max] = typeof e.length === 'number' ? [e.length, e.length] : e.length!;
      assert.ok(hi.length <= max && lo.length >= min - 9, `${e.id} length ${lo.length}..${hi.length}`);
      for (const enc of [lo, hi]) {
        if (e.version![0] === 0) continue; // leading zero bytes become '1's: prefix is '1' by definition
        assert.ok(
          e.prefix.some((p) => enc.startsWith(p)),
          `${e.id}: ${enc.slice(0, 4)} vs ${e.prefix}`,
        );
      }
    }
  });

  it('unverifiable formats are listed but never matchable', () => {
    const xcn = file.entries.find((e) => e.coin === 'XCN');
    assert.ok(xcn);
    assert.equal(xcn.validity, 'unverified');
    assert.deepEqual(xcn.prefix, []);
  });

  it('rejects malformed data', () => {
    assert.throws(() => parseWalletFormats({ schema: 'nope', version: '1', entries: [] }), /wallet-formats/);
    const dup = { ...file, entries: [file.entries[0], file.entries[0]] };
    assert.throws(() => parseWalletFormats(dup), /duplicate id/);
  });
});
