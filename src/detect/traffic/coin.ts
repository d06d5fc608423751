import type { IntelBase } from '../../intel/index.ts';

export interface CoinHints {
  walletCoin?: string;
  poolCoins?: readonly string[];
  algo?: string;
  dialect?: string;
  agent?: string;
}

/**
 * Which coin a session mines, from the strongest hint down: the wallet's own format, a single-coin pool, the
 * algorithm the miner announced, then the dialect. Returns undefined rather than guess between several.
 */
export function inferCoin(intel: IntelBase, h: CoinHints): { coin?: string; basis?: string } {
  if (h.walletCoin) return { coin: h.walletCoin, basis: 'wallet format' };
  if (h.poolCoins && h.poolCoins.length === 1) return { coin: h.poolCoins[0], basis: 'pool' };
  if (h.algo) {
    const a = h.algo.toLowerCase();
    const byAlgo = intel.coins.filter((c) =>
      c.algos.some((x) => a === x.toLowerCase() || a.startsWith(`${x.toLowerCase()}/`)),
    );
    const inPool = h.poolCoins?.length ? byAlgo.filter((c) => h.poolCoins!.includes(c.symbol)) : byAlgo;
    if (inPool.length === 1) return { coin: inPool[0]!.symbol, basis: 'algorithm' };
    // RandomX and the CryptoNight family: Monero is by far the coin intruders mine with them.
    if (
      /^(rx\/0|randomx|cn|cryptonight)/.test(a) &&
      (inPool.length === 0 || inPool.some((c) => c.symbol === 'XMR'))
    )
      return { coin: 'XMR', basis: 'algorithm' };
  }
  if (h.dialect === 'ethereum' || h.dialect === 'ethereum-nicehash') {
    if (h.poolCoins?.includes('ETC') && !h.poolCoins.includes('ETH')) return { coin: 'ETC', basis: 'pool' };
    return { coin: 'ETH', basis: 'stratum dialect' };
  }
  if (h.dialect === 'monero') return { coin: 'XMR', basis: 'stratum dialect' };
  if (
    h.poolCoins &&
    h.poolCoins.length > 1 &&
    h.poolCoins.includes('XMR') &&
    /xmrig|xmr-stak/i.test(h.agent ?? '')
  )
    return { coin: 'XMR', basis: 'miner agent' };
  return {};
}
