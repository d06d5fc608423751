import type { IntelBase } from '../../intel/index.ts';

export interface CoinHints {
  walletCoin?: string;
  poolCoins?: readonly string[];
  algo?: string;
  dialect?: string;
  agent?: string;
  /** The pool host name the miner used (SNI, Host, DNS, login), for its coin label (`etc-eu1.`, `zec-`). */
  host?: string;
}

/** Wallet formats several chains share: the format alone does not say which. */
const SHARED_FORMAT: Record<string, readonly string[]> = { ETH: ['ETC'] };

/**
 * Which coin a session mines, from what the traffic itself says down to what intel says about the pool:
 * the wallet's own format, the algorithm the miner announced, the stratum dialect, then a single-coin pool,
 * then a coin label in the pool's host name. Returns undefined rather than guess between several.
 */
export function inferCoin(intel: IntelBase, h: CoinHints): { coin?: string; basis?: string } {
  const hinted = hostCoin(intel, h.host);
  if (h.walletCoin) {
    // An ETH-format address mines ETC as well: the host label or a single-coin pool tells them apart.
    const alt = SHARED_FORMAT[h.walletCoin]?.find(
      (c) => hinted === c || (h.poolCoins?.length === 1 && h.poolCoins[0] === c),
    );
    if (alt)
      return { coin: alt, basis: hinted === alt ? 'wallet format and host name' : 'wallet format and pool' };
    return { coin: h.walletCoin, basis: 'wallet format' };
  }
  if (h.algo) {
    const a = h.algo.toLowerCase();
    const byAlgo = coinsByAlgo(intel, a);
    const inPool = h.poolCoins?.length ? byAlgo.filter((c) => h.poolCoins!.includes(c.symbol)) : byAlgo;
    if (inPool.length === 1) return { coin: inPool[0]!.symbol, basis: 'algorithm' };
    if (hinted && byAlgo.some((c) => c.symbol === hinted))
      return { coin: hinted, basis: 'algorithm and host name' };
    // RandomX and the CryptoNight family: Monero is by far the coin intruders mine with them.
    if (
      /^(rx\/0|randomx|cn|cryptonight)/.test(a) &&
      (inPool.length === 0 || inPool.some((c) => c.symbol === 'XMR'))
    )
      return { coin: 'XMR', basis: 'algorithm' };
  }
  if (h.dialect === 'ethereum' || h.dialect === 'ethereum-nicehash' || h.dialect === 'eth-getwork') {
    if (hinted === 'ETC') return { coin: 'ETC', basis: 'stratum dialect and host name' };
    if (h.poolCoins?.includes('ETC') && !h.poolCoins.includes('ETH')) return { coin: 'ETC', basis: 'pool' };
    return { coin: 'ETH', basis: h.dialect === 'eth-getwork' ? 'getwork dialect' : 'stratum dialect' };
  }
  if (h.dialect === 'monero') return { coin: 'XMR', basis: 'stratum dialect' };
  if (h.poolCoins && h.poolCoins.length === 1) return { coin: h.poolCoins[0], basis: 'pool' };
  if (
    h.poolCoins &&
    h.poolCoins.length > 1 &&
    h.poolCoins.includes('XMR') &&
    /xmrig|xmr-stak/i.test(h.agent ?? '')
  )
    return { coin: 'XMR', basis: 'miner agent' };
  if (hinted && (!h.poolCoins?.length || h.poolCoins.includes(hinted)))
    return { coin: hinted, basis: 'host name' };
  return {};
}

/**
 * A coin ticker as a label of its own in a pool host name: `zec-eu1.nanopool.org`, `etc.2miners.com`,
 * `eu1-etc.ethermine.org`, `xmr-us-east1.nanopool.org`. Only tickers intel knows, and only whole labels or
 * label parts split by '-', so `etcetera.example` says nothing.
 */
export function hostCoin(intel: IntelBase, host: string | undefined): string | undefined {
  if (!host) return undefined;
  let known = hostCoinsByIntel.get(intel);
  if (!known) {
    known = new Map();
    hostCoinsByIntel.set(intel, known);
  }
  if (known.has(host)) return known.get(host);
  const coin = hostCoinOf(intel, host);
  if (known.size >= 4096) known.clear();
  known.set(host, coin);
  return coin;
}

function hostCoinOf(intel: IntelBase, host: string): string | undefined {
  const symbols = coinSymbols(intel);
  const found = new Set<string>();
  for (const label of host.toLowerCase().split('.').slice(0, -1))
    for (const part of label.split('-')) if (symbols.has(part)) found.add(part.toUpperCase());
  return found.size === 1 ? [...found][0] : undefined;
}

type Coin = IntelBase['coins'][number];

/**
 * Each lower-cased algorithm of an intel base → the indexes of the coins that list it, made once per base:
 * inferCoin asks at every finding update that has an algorithm and no coin yet, and testing every coin's
 * algorithms (lower-cased, with a template string per test) each time was most of inferCoin.
 */
const algoIndexByIntel = new WeakMap<IntelBase, Map<string, number[]>>();

/**
 * The coins, in intel's order, with an algorithm x such that a === x or a starts with x + '/' (rx/0 for rx):
 * the x are `a` itself and each part of `a` before one of its '/'.
 */
function coinsByAlgo(intel: IntelBase, a: string): Coin[] {
  let index = algoIndexByIntel.get(intel);
  if (!index) {
    index = new Map();
    intel.coins.forEach((c, i) => {
      for (const x of c.algos) {
        const key = x.toLowerCase();
        const list = index!.get(key);
        if (!list) index!.set(key, [i]);
        else if (!list.includes(i)) list.push(i);
      }
    });
    algoIndexByIntel.set(intel, index);
  }
  let hits: number[] = [];
  const add = (list: number[] | undefined) => {
    if (list) for (const i of list) if (!hits.includes(i)) hits.push(i);
  };
  add(index.get(a));
  for (let p = a.indexOf('/'); p >= 0; p = a.indexOf('/', p + 1)) add(index.get(a.slice(0, p)));
  if (hits.length > 1) hits = hits.sort((x, y) => x - y);
  return hits.map((i) => intel.coins[i]!);
}

/** hostCoin's answers per intel base and host (bounded): pool host names come back at every signal. */
const hostCoinsByIntel = new WeakMap<IntelBase, Map<string, string | undefined>>();

/**
 * Lower-case coin tickers of an intel base, made once per base: hostCoin runs for every finding update, and
 * building the set each time was 13 ms of the 158 MB bench capture's run.
 */
const symbolsByIntel = new WeakMap<IntelBase, ReadonlySet<string>>();
function coinSymbols(intel: IntelBase): ReadonlySet<string> {
  let s = symbolsByIntel.get(intel);
  if (!s) {
    s = new Set(intel.coins.map((c) => c.symbol.toLowerCase()));
    symbolsByIntel.set(intel, s);
  }
  return s;
}
