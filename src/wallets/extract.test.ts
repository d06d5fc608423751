import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { extractWallets } from './extract.ts';
import { BTC_GENESIS, ETH_CORPUS_LOWER, ETN_POOL, XMR, ZEC_CORPUS } from './test-helpers/fixtures.ts';

describe('extractWallets', () => {
  it('finds wallets in a miner command line and a shell script', () => {
    const cmd = `./xmrig -o pool.supportxmr.com:443 -u ${XMR.corpusProxyDonation}.w1 -p x --tls`;
    const hits = extractWallets(cmd);
    assert.equal(hits.length, 1);
    assert.equal(hits[0]!.address, XMR.corpusProxyDonation);
    assert.equal(hits[0]!.offset, cmd.indexOf('46WN'));

    const script = [
      '#!/bin/sh',
      `WALLET="${XMR.generalFund}"`,
      `ZEC=${ZEC_CORPUS[1]}`,
      `curl -s http://x/eth?addr=${ETH_CORPUS_LOWER}&btc=${BTC_GENESIS}`,
      `./miner --user ${ETN_POOL}+50000`,
    ].join('\n');
    const coins = extractWallets(script).map((h) => [h.coin, h.valid, script.slice(h.offset, h.offset + 4)]);
    assert.deepEqual(coins, [
      ['XMR', true, '44AF'],
      ['ZEC', true, 't1fJ'],
      ['ETH', null, '0x9c'],
      ['BTC', true, '1A1z'],
      ['ETN', true, 'etnk'],
    ]);
  });

  it('reads binaries as latin1 and reports byte offsets', () => {
    const pre = Uint8Array.from([0x7f, 0x45, 0x4c, 0x46, 0xff, 0xfe, 0x00, 0xc3, 0xa9]);
    const addr = new TextEncoder().encode(XMR.corpusBitfinex);
    const bin = new Uint8Array(pre.length + addr.length + 3);
    bin.set(pre);
    bin.set(addr, pre.length);
    const hits = extractWallets(bin);
    assert.equal(hits.length, 1);
    assert.equal(hits[0]!.offset, pre.length);
    assert.equal(hits[0]!.address, XMR.corpusBitfinex);
  });

  it('returns invalid candidates only when asked', () => {
    const typo = `${XMR.generalFund.slice(0, -1)}B`;
    const text = `wallet=${typo} ok=${XMR.monerodocsStandard}`;
    assert.equal(extractWallets(text).length, 1);
    const all = extractWallets(text, { includeInvalid: true });
    assert.equal(all.length, 2);
    assert.equal(all[0]!.valid, false);
    assert.equal(all[0]!.reason, 'checksum mismatch');
  });

  it('honours maxHits and maxLength', () => {
    const text = Array.from({ length: 50 }, () => XMR.generalFund).join(' ');
    assert.equal(extractWallets(text, { maxHits: 3 }).length, 3);
    assert.equal(extractWallets(text, { maxLength: 200 }).length, 2);
  });

  it('does not report random base58 runs, hashes, base64, or addresses glued into longer runs', () => {
    let seed = 7;
    const alphabet = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
    const rnd = (n: number) =>
      Array.from({ length: n }, () => {
        seed = (seed * 1103515245 + 12345) >>> 0;
        return alphabet[(seed >>> 16) % 58];
      }).join('');
    const noise = [
      `4${rnd(94)}`, // Monero-shaped, but the checksum will not hold
      `1${rnd(33)}`,
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      Buffer.from(rnd(300)).toString('base64'),
      `x${XMR.generalFund}`, // glued: not a standalone token
      `${XMR.generalFund}9`,
    ].join(' ');
    assert.deepEqual(extractWallets(noise), []);
  });

  it('stays linear on hostile input', () => {
    const runs = 'A'.repeat(109).concat(' ').repeat(20_000); // 2.2 MB of near-maximal runs
    const t0 = performance.now();
    assert.deepEqual(extractWallets(runs), []);
    const oneRun = 'a'.repeat(2_000_000);
    assert.deepEqual(extractWallets(oneRun), []);
    assert.ok(performance.now() - t0 < 3000, 'took too long');
  });
});
