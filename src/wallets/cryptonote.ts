/**
 * CryptoNote addresses (Monero and its forks): block-wise base58 of
 *   varint(network tag) || spend key (32) || view key (32) || [payment id (8), integrated only] || checksum (4)
 * where checksum = first 4 bytes of Keccak-256 (original Keccak padding, not SHA3) over everything before it.
 */
import { keccak_256 } from '@noble/hashes/sha3.js';
import {
  cryptonoteDecodedLength,
  decodeCryptonoteBase58,
  describeBadChar,
  firstNonBase58,
  readVarint,
  toHex,
} from './base58.ts';
import type { FormatIndex, WalletFormat } from './formats.ts';
import { walletInfo } from './formats.ts';
import type { WalletInfo } from './types.ts';

const KEYS = 64;
const CHECKSUM = 4;
const PAYMENT_ID = 8;

const info = walletInfo;

function extraBytes(f: WalletFormat): number {
  return f.type === 'integrated' ? PAYMENT_ID : 0;
}

/**
 * Validates a string already judged CryptoNote-shaped. `guess` is the format picked from prefix and length,
 * used to name the coin when the string is too broken to read its network tag.
 */
export function validateCryptonote(s: string, guess: WalletFormat, idx: FormatIndex): WalletInfo {
  // Bad characters first (most specific), then length against the guessed format, then the decode itself.
  const bad = firstNonBase58(s);
  if (bad >= 0) return info(s, guess, false, describeBadChar(s, bad));
  if (typeof guess.length === 'number' && s.length !== guess.length) {
    return info(s, guess, false, `bad length ${s.length} (expected ${guess.length})`);
  }
  const dec = decodeCryptonoteBase58(s);
  if (!dec.ok) return info(s, guess, false, dec.reason);
  const b = dec.bytes;
  const tag = readVarint(b);
  if (!tag) return info(s, guess, false, 'unreadable network byte');
  const [tagValue, tagLen] = tag;
  const candidates = idx.cryptonoteByTag.get(tagValue);
  if (!candidates || candidates.length === 0) {
    return info(s, guess, false, `unknown network byte ${tagValue}`);
  }
  // Same tag in several entries (e.g. testnet == stagenet for some forks): prefer the one whose size fits.
  const f = candidates.find((c) => tagLen + KEYS + extraBytes(c) + CHECKSUM === b.length) ?? candidates[0]!;
  const want = tagLen + KEYS + extraBytes(f) + CHECKSUM;
  if (b.length !== want) {
    const expected = typeof f.length === 'number' ? f.length : '?';
    return info(s, f, false, `bad length ${s.length} (expected ${expected} for ${f.id})`);
  }
  const body = b.subarray(0, b.length - CHECKSUM);
  const sum = keccak_256(body);
  for (let i = 0; i < CHECKSUM; i++) {
    if (sum[i] !== b[b.length - CHECKSUM + i]) return info(s, f, false, 'checksum mismatch');
  }
  const out = info(s, f, true);
  if (f.type === 'integrated') out.payment_id = toHex(b.subarray(tagLen + KEYS, tagLen + KEYS + PAYMENT_ID));
  return out;
}

/** Is this length one some CryptoNote block split can produce? (Cheap pre-check before decoding.) */
export function plausibleCryptonoteLength(n: number): boolean {
  return cryptonoteDecodedLength(n) >= 0;
}
