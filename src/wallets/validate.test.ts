import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { base58xmr } from '@scure/base';
import { decodeCryptonoteBase58, toHex } from './base58.ts';
import {
  BTC_GENESIS,
  EIP55_EXAMPLES,
  ETH_CORPUS_LOWER,
  ETN_POOL,
  MONERODOCS_STANDARD_HEX,
  OTHERS,
  RYO_DONATION,
  XMR,
  ZEC_CORPUS,
} from './test-helpers/fixtures.ts';
import { validateWallet } from './validate.ts';

function must(s: string) {
  const w = validateWallet(s);
  assert.ok(w, `expected a wallet shape for ${s}`);
  return w;
}

describe('Monero', () => {
  it('accepts the General Fund and the monerodocs examples', () => {
    for (const a of [XMR.generalFund, XMR.monerodocsStandard]) {
      const w = must(a);
      assert.equal(w.valid, true, w.reason);
      assert.equal(w.coin, 'XMR');
      assert.equal(w.format, 'xmr-standard');
      assert.equal(w.network, 'mainnet');
    }
  });
  it('decodes the monerodocs standard example to the bytes monerodocs prints', () => {
    const d = decodeCryptonoteBase58(XMR.monerodocsStandard);
    assert.ok(d.ok);
    assert.equal(toHex(d.bytes), MONERODOCS_STANDARD_HEX);
  });
  it('reads integrated addresses and their payment id', () => {
    const w = must(XMR.monerodocsIntegrated);
    assert.equal(w.valid, true);
    assert.equal(w.format, 'xmr-integrated');
    assert.equal(w.payment_id?.length, 16);
    const d = must(XMR.docsRsIntegrated);
    assert.equal(d.valid, true);
    assert.equal(d.payment_id, Buffer.from([88, 118, 184, 183, 41, 150, 255, 151]).toString('hex'));
  });
  it('reads subaddresses and says an 8-address may also be Electroneum', () => {
    const w = must(XMR.subaddress);
    assert.equal(w.valid, true);
    assert.equal(w.format, 'xmr-subaddress');
    assert.deepEqual(w.coins, ['XMR', 'ETN']);
    assert.equal(w.coin, 'XMR');
  });
  it('knows testnet and stagenet', () => {
    assert.deepEqual(
      [XMR.testnetStandard, XMR.testnetSubaddress, XMR.stagenetStandard].map((a) => {
        const w = must(a);
        return [w.valid, w.format, w.network];
      }),
      [
        [true, 'xmr-testnet-standard', 'testnet'],
        [true, 'xmr-testnet-subaddress', 'testnet'],
        [true, 'xmr-stagenet-standard', 'stagenet'],
      ],
    );
  });
  it('accepts the corpus wallets', () => {
    for (const a of [XMR.corpusBitfinex, XMR.corpusProxyDonation]) assert.equal(must(a).valid, true, a);
  });
  it('rejects one changed character, with a reason', () => {
    const a = XMR.generalFund;
    const changed = a.slice(0, 50) + (a[50] === 'z' ? 'y' : 'z') + a.slice(51);
    const w = must(changed);
    assert.equal(w.valid, false);
    assert.match(w.reason ?? '', /checksum/);
  });
  it('rejects a truncation, with a reason', () => {
    const w = must(XMR.generalFund.slice(0, -1));
    assert.equal(w.valid, false);
    assert.equal(w.reason, 'bad length 94 (expected 95)');
    assert.equal(w.coin, 'XMR');
  });
  it('rejects each non-base58 character 0 O I l', () => {
    for (const bad of ['0', 'O', 'I', 'l']) {
      const s = XMR.generalFund.slice(0, 10) + bad + XMR.generalFund.slice(11);
      const w = must(s);
      assert.equal(w.valid, false);
      assert.equal(w.reason, `bad character '${bad}' at 10`);
    }
  });
  it('decodes like @scure/base base58xmr on random bytes', () => {
    let seed = 12345;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed >>> 24;
    };
    for (let i = 0; i < 300; i++) {
      const bytes = Uint8Array.from({ length: 1 + (i % 90) }, rnd);
      const enc = base58xmr.encode(bytes);
      const d = decodeCryptonoteBase58(enc);
      assert.ok(d.ok);
      assert.deepEqual(d.bytes, bytes);
    }
    // An 11-char block above 2^64 must not wrap around.
    assert.equal(decodeCryptonoteBase58('zzzzzzzzzzz').ok, false);
    assert.throws(() => base58xmr.decode('zzzzzzzzzzz'));
  });
});

describe('other CryptoNote coins', () => {
  it('Electroneum (3-byte varint network byte 18018)', () => {
    const w = must(ETN_POOL);
    assert.equal(w.valid, true);
    assert.equal(w.coin, 'ETN');
    assert.equal(w.format, 'etn-standard');
  });
  it('Ryo (4-byte varint network byte)', () => {
    const w = must(RYO_DONATION);
    assert.equal(w.valid, true);
    assert.equal(w.coin, 'RYO');
  });
});

describe('Bitcoin family base58check', () => {
  it('accepts the genesis address, and names BCH as sharing it', () => {
    const w = must(BTC_GENESIS);
    assert.equal(w.valid, true);
    assert.equal(w.format, 'btc-p2pkh');
    assert.deepEqual(w.coins, ['BTC', 'BCH']);
  });
  it('accepts the ZCash corpus addresses', () => {
    for (const a of ZEC_CORPUS) {
      const w = must(a);
      assert.equal(w.valid, true, w.reason);
      assert.equal(w.coin, 'ZEC');
      assert.equal(w.format, 'zec-t1');
    }
  });
  it('the version byte decides the coin', () => {
    const got = Object.entries(OTHERS).map(([k, a]) => [k, must(a).coin, must(a).valid]);
    assert.deepEqual(got, [
      ['btc', 'BTC', true],
      ['ltc', 'LTC', true],
      ['doge', 'DOGE', true],
      ['dash', 'DASH', true],
      ['zec', 'ZEC', true],
      ['rvn', 'RVN', true],
    ]);
  });
  it('rejects a typo, a truncation and a bad character', () => {
    assert.match(must(`${BTC_GENESIS.slice(0, -1)}b`).reason ?? '', /checksum/);
    assert.equal(must(ZEC_CORPUS[0]!.slice(0, -1)).reason, 'bad length 34 (expected 35)');
    assert.equal(must(`${BTC_GENESIS.slice(0, -1)}0`).reason, "bad character '0' at 33");
  });
});

describe('Ethereum', () => {
  it('all lower case has no checksum: valid null', () => {
    const w = must(ETH_CORPUS_LOWER);
    assert.equal(w.valid, null);
    assert.equal(w.coin, 'ETH');
    assert.deepEqual(w.coins, ['ETH', 'ETC']);
    assert.equal(must(`0x${ETH_CORPUS_LOWER.slice(2).toUpperCase()}`).valid, null);
  });
  it('EIP-55 examples pass; one flipped case fails', () => {
    for (const a of EIP55_EXAMPLES) assert.equal(must(a).valid, true, a);
    const a = EIP55_EXAMPLES[0]!;
    const i = a.search(/[a-f]/);
    const flipped = a.slice(0, i) + a[i]!.toUpperCase() + a.slice(i + 1);
    const w = must(flipped);
    assert.equal(w.valid, false);
    assert.match(w.reason ?? '', /EIP-55/);
  });
  it('bad hex and bad length', () => {
    assert.match(must(`${ETH_CORPUS_LOWER.slice(0, -1)}g`).reason ?? '', /bad character 'g'/);
    assert.match(must(ETH_CORPUS_LOWER.slice(0, -1)).reason ?? '', /bad length 41/);
    assert.equal(validateWallet(`0x${'ab'.repeat(32)}`), null, 'a 32-byte hash is not an address');
  });
});

describe('segwit (BIP-173 / BIP-350 vectors)', () => {
  const valid: Array<[string, string]> = [
    ['BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4', 'btc-p2wpkh'],
    ['tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7', 'btc-testnet-p2wsh'],
    ['bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y', 'btc-segwit'],
    ['BC1SW50QGDZ25J', 'btc-segwit'],
    ['bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs', 'btc-segwit'],
    ['tb1qqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesrxh6hy', 'btc-testnet-p2wsh'],
    ['tb1pqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesf3hn0c', 'btc-testnet-p2tr'],
    ['bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0', 'btc-p2tr'],
  ];
  it('accepts the valid vectors', () => {
    for (const [a, f] of valid) {
      const w = must(a);
      assert.equal(w.valid, true, `${a}: ${w.reason}`);
      assert.equal(w.format, f, a);
    }
  });
  const invalid: Array<[string, RegExp]> = [
    ['bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd', /bech32 used for witness v1/],
    ['tb1z0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqglt7rf', /bech32 used for witness v2/],
    ['BC1S0XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ54WELL', /bech32 used for witness v16/],
    ['bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh', /bech32m used for witness v0/],
    ['tb1q0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq24jc47', /bech32m used for witness v0/],
    ['bc1p38j9r5y49hruaue7wxjce0updqjuyyx0kh56v8s25huc6995vvpql3jow4', /bad character 'o'/],
    ['BC130XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ7ZWS8R', /witness version 17/],
    ['bc1pw5dgrnzv', /program length 1/],
    ['bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v8n0nx0muaewav253zgeav', /program length 41/],
    ['BC1QR508D6QEJXTDG4Y5R3ZARVARYV98GJ9P', /program length 16 for witness v0/],
    ['tb1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq47Zagq', /mixed case/],
    ['bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v07qwwzcrf', /padding/],
    ['tb1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vpggkg4j', /padding/],
    ['bc1gmk9yu', /empty data|checksum/],
  ];
  it('rejects the invalid vectors, each with its reason', () => {
    for (const [a, why] of invalid) {
      const w = must(a);
      assert.equal(w.valid, false, a);
      assert.match(w.reason ?? '', why, a);
    }
  });
  it('an unknown hrp is not ours', () => {
    assert.equal(validateWallet('tc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq5zuyut'), null);
  });
});

describe('Bitcoin Cash cashaddr (spec vectors)', () => {
  it('accepts P2PKH and P2SH with and without the prefix', () => {
    const p2pkh = must('bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a');
    assert.equal(p2pkh.valid, true);
    assert.equal(p2pkh.format, 'bch-cashaddr-p2pkh');
    assert.equal(must('bitcoincash:ppm2qsznhks23z7629mms6s4cwef74vcwvn0h829pq').format, 'bch-cashaddr-p2sh');
    assert.equal(must('qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a').valid, true);
    assert.equal(must('bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6b').valid, false);
  });
});

describe('not wallets', () => {
  it('returns null for text that is not shaped like a wallet', () => {
    for (const s of [
      '',
      'hello',
      'Bigsky',
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', // sha256 hex
      'A'.repeat(95), // no coin starts with 'AA...' at 95 chars except XMR testnet: see below
      'x'.repeat(100_000),
    ]) {
      const w = validateWallet(s);
      if (s === 'A'.repeat(95)) assert.equal(w?.valid, false);
      else assert.equal(w, null, s.slice(0, 20));
    }
  });
});
