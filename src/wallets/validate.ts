/**
 * validateWallet: decide whether a string is shaped like a known wallet address (prefix + length from the
 * format data), then run that format's checksum. Shape first, checksum second: a shaped string that fails is
 * reported with valid:false and a reason; an unshaped string is not a wallet (null).
 */
import { validateBase58Check, validateBech32Payload, validateCashaddr, validateSegwit } from './bitcoin.ts';
import { validateCryptonote } from './cryptonote.ts';
import { validateEth } from './ethereum.ts';
import { type FormatIndex, formatIndex, type WalletFormat } from './formats.ts';
import type { WalletInfo } from './types.ts';

/** Longest address we model is 110 chars (Sumokoin/Ryo integrated); anything much longer is not a wallet. */
export const MAX_WALLET_LENGTH = 128;
const ALNUM = /^[0-9A-Za-z]+$/;
const BECH32ISH = /^[A-Za-z]{1,10}1[0-9A-Za-z]{6,}$/;
const CASHADDRISH = /^(?:bitcoincash:)?[qp][0-9a-z]{38,46}$|^(?:BITCOINCASH:)?[QP][0-9A-Z]{38,46}$/;

function lengthRange(f: WalletFormat): [number, number] | undefined {
  const l = f.length;
  if (l === undefined) return undefined;
  return typeof l === 'number' ? [l, l] : l;
}

function longestPrefix(f: WalletFormat, s: string): number {
  let best = -1;
  for (const p of f.prefix) if (p.length > best && s.startsWith(p)) best = p.length;
  return best;
}

/**
 * Best format among `formats` for s by prefix, preferring one whose length range holds s.length.
 * With strict, only an in-range length counts (extraction); otherwise up to `slack` chars off (typos, truncation).
 */
function pickByShape(
  formats: WalletFormat[],
  s: string,
  strict: boolean,
  slack: number,
): WalletFormat | undefined {
  let best: WalletFormat | undefined;
  let bestScore = -Infinity;
  for (const f of formats) {
    const pl = longestPrefix(f, s);
    if (pl < 0) continue;
    const r = lengthRange(f);
    if (!r) continue;
    const off = s.length < r[0] ? r[0] - s.length : s.length > r[1] ? s.length - r[1] : 0;
    if (off > (strict ? 0 : slack)) continue;
    // In-range beats near-miss; then the longer (more specific) prefix; then mainnet listed first in data.
    const score = -off * 100 + pl;
    if (score > bestScore) {
      best = f;
      bestScore = score;
    }
  }
  return best;
}

let cnFormats: WalletFormat[] | undefined;
function cryptonoteFormats(idx: FormatIndex): WalletFormat[] {
  cnFormats ??= [...idx.byId.values()].filter((f) => f.encoding === 'cryptonote-base58');
  return cnFormats;
}

/**
 * Shape check + validation. strict = exact known lengths only (used by extraction so random runs are skipped
 * without decoding); non-strict tolerates a few characters of truncation or extension so typos get a reason.
 */
export function classify(s: string, strict: boolean, idx: FormatIndex = formatIndex()): WalletInfo | null {
  const n = s.length;
  if (n < 8 || n > MAX_WALLET_LENGTH) return null;
  const c0 = s.charCodeAt(0);
  const c1 = s.charCodeAt(1);

  // 0x + 40 hex (ETH, ETC, any EVM chain)
  if (c0 === 48 /* 0 */ && (c1 === 120 || c1 === 88) /* x X */ && idx.eth) {
    if (strict ? n === 42 : n >= 40 && n <= 44 && ALNUM.test(s.slice(2))) return validateEth(s, idx.eth);
    return null;
  }
  // cashaddr before the base58 branches: its body is lower-case bech32 charset of length 42.
  if ((c0 === 98 || c0 === 66 || c0 === 113 || c0 === 112 || c0 === 81 || c0 === 80) && CASHADDRISH.test(s)) {
    const hasPrefix = s.indexOf(':') >= 0;
    if (!strict || hasPrefix || n === 42) {
      const r = validateCashaddr(s, idx);
      // Without the 'bitcoincash:' prefix a q/p run is only a cashaddr if the checksum says so.
      if (r && (hasPrefix || r.valid || !strict)) return r;
    }
  }
  if (!ALNUM.test(s)) return null;
  // bech32 / bech32m with a known hrp
  if (BECH32ISH.test(s)) {
    const lower = s.toLowerCase();
    const hrp = lower.slice(0, lower.lastIndexOf('1'));
    if (idx.segwitHrps.has(hrp)) return validateSegwit(s, idx);
    for (const f of idx.bech32) {
      if (f.hrp === hrp && (!strict || lengthRange(f)?.[0] === n)) return validateBech32Payload(s, f);
    }
  }
  // CryptoNote: 95..110 chars with a coin's leading characters
  if (n >= 80) {
    const f = pickByShape(cryptonoteFormats(idx), s, strict, 4);
    return f ? validateCryptonote(s, f, idx) : null;
  }
  // base58check: 25..35 chars
  if (n >= 24 && n <= 38) {
    const f = pickByShape(idx.base58, s, strict, 2);
    return f ? validateBase58Check(s, f, idx) : null;
  }
  return null;
}

/** Validates one string; null when it is not shaped like any known wallet. Surrounding whitespace is ignored. */
export function validateWallet(s: string): WalletInfo | null {
  if (typeof s !== 'string' || s.length > 4 * MAX_WALLET_LENGTH) return null;
  return classify(s.trim(), false);
}
