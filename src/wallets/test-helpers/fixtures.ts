/**
 * Real public addresses used by the tests and the benchmark, each with where it was published.
 * (Kept out of *.test.ts so the benchmark can embed the same ones.)
 */
export const XMR = {
  /** Monero General Fund donation address (getmonero.org). */
  generalFund:
    '44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A',
  /** monerodocs "Standard address" example; decodes to MONERODOCS_STANDARD_HEX. */
  monerodocsStandard:
    '4AdUndXHHZ6cfufTMvppY6JwXNouMBzSkbLYfpAV5Usx3skxNgYeYTRj5UzqtReoS44qo9mtmXCqY45DJ852K5Jv2684Rge',
  /** monerodocs "Integrated address" example (same keys as the standard example). */
  monerodocsIntegrated:
    '4LL9oSLmtpccfufTMvppY6JwXNouMBzSkbLYfpAV5Usx3skxNgYeYTRj5UzqtReoS44qo9mtmXCqY45DJ852K5Jv2bYXZKKQePHES9khPK',
  /** docs.rs monero crate (monero::util::address) integrated example; payment id [88,118,184,183,41,150,255,151]. */
  docsRsIntegrated:
    '4Byr22j9M2878Mtyb3fEPcBNwBZf5EXqn1Yi6VzR46618SFBrYysab2Cs1474CVDbsh94AJq7vuV3Z2DRq4zLcY3LHzo1Nbv3d8J6VhvCV',
  /** A published deposit subaddress (pastebin donation list); monerodocs has no subaddress example. */
  subaddress:
    '89VPeuWN1rX7fDFzWioGbueyj3RHzFTkNhp3fCZRSV41U5RUsfR2vwe973NHqHG5cFN7N5huc7GpKcVfRbU1hANF13qQRD8',
  /** monero-python docs: testnet master address and testnet subaddress. */
  testnetStandard:
    'A2GmyHHJ9jtUhPiwoAbR2tXU9LJu2U6fJjcsv3rxgkVRWU6tEYcn6C1NBc7wqCv5V7NW3zeYuzKf6RGGgZTFTpVC4QxAiAX',
  testnetSubaddress:
    'BenuGf8eyVhjZwdcxEJY1MHrUfqHjPvE3d7Pi4XY5vQz53VnVpB38bCBsf8AS5rJuZhuYrqdG9URc2eFoCNPwLXtLENT4R7',
  /** A stagenet pool_address from a public pool's example config (addr_prefix 24). */
  stagenetStandard:
    '52BcqNgukVFADFGiSXC4139GFpYGzwXRLBZ4RcyUrEev4LhxKP1GPJDhiADD3iiGZS1dNLKaS7wai98yKkr9wNKVDeK4v8F',
  /** Corpus ground truth: Bitfinex deposit address seen in nDPI's stratum sample ('login' with a payment id). */
  corpusBitfinex:
    '4BCeEPhodgPMbPWFN1dPwhWXdRX8q4mhhdZdA1dtSMLTLCEYvAj9QXjXAfF7CugEbmfBhgkqHbdgK9b2wKA6nqRZQCgvCDm',
  /** Corpus ground truth: xmr-node-proxy's donation address. */
  corpusProxyDonation:
    '46WNbmwXpYxiBpkbHjAgjC65cyzAxtaaBQjcGpAZquhBKw2r8NtPQniEgMJcwFMCZzSBrEJtmPsTR54MoGBDbjTi2W1XmgM',
};

export const MONERODOCS_STANDARD_HEX =
  '12eda9fe8dfcdd25d5430ea64229d04f6b41b2e5a1587c29cd499a63eb79d117113076a02b73d130fb904c9e91075fcd16f735c6850dfadb125eb826d96a113f09a57120a3';

/** Electroneum pool example poolAddress (electroneum/electroneum-pool config.json). */
export const ETN_POOL =
  'etnk6442HWCPa8Lufk3HxMGUuFCW2wPaBHUKdCYaoaGCGsEkyzZgkKs8DUs2XggARPedQBXx6H7a5K2hF3emo7qy8X9g38C1B6';
/** Ryo donation address (ryo-currency cryptonote_config.h, RYO_DONATION_ADDR). */
export const RYO_DONATION =
  'RYoLshssqU9WvHMwAmt4j6dtpgRERDqwzSiHF4V9nEb5YWmQ5pLSkJC9QudNseKrxBacKtQuLWhpSQ6GLXgyDWjKAGjNXH72VDJ';

export const ZEC_CORPUS = ['t1fAhZF5aUJdY7CikGULHmeYk7id8qmvbAd', 't1fJuHWrfcWnYMYyP9VAF96vRnvND2NziMG'];
export const BTC_GENESIS = '1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa';
/** Published donation lists (pastebin / READMEs). */
export const OTHERS = {
  btc: '16ePagGBbHfm2d6esjMXcUBTNgqpnLWNeK',
  ltc: 'LeeemeZj6YL6pkTTtEGHFD6idDxHBF2HXa',
  doge: 'D9LrKEhL36ABW8mEMVqNWGZaJWzm1KMyuD',
  dash: 'Xb6HifW6jSGGgpQeSx36VZUDR1FVDPjdXN',
  zec: 't1eqdVPDijVdEaK5nSiGXDSoj9nehZU3Tcd',
  /** Ravencoin-Miner README donation address. */
  rvn: 'RBHsbmpDrce5B7woYnRDKtMnGetz1QHGUX',
};
export const ETH_CORPUS_LOWER = '0x9c99d212f7e5daa18ab50810e0fd255d1f04303b';
/** EIP-55's own test cases (mixed case, checksummed). */
export const EIP55_EXAMPLES = [
  '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed',
  '0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359',
  '0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB',
  '0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb',
];
