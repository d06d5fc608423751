/**
 * Ethereum-style account addresses: 0x + 40 hex. EIP-55 hides a checksum in the letter case: a hex letter is
 * upper case iff the matching nibble of keccak256(lower-case hex text) is >= 8. All-lower or all-upper text carries
 * no checksum, so it is neither valid nor invalid: valid is null.
 */
import { keccak_256 } from '@noble/hashes/sha3.js';
import type { WalletFormat } from './formats.ts';
import type { WalletInfo } from './types.ts';

const HEX40 = /^0x[0-9a-fA-F]{40}$/;

export function validateEth(s: string, f: WalletFormat): WalletInfo {
  const out: WalletInfo = { address: s, coin: f.coin, format: f.id, network: 'unknown', valid: null };
  if (f.coins && f.coins.length > 1) out.coins = [...f.coins];
  if (!HEX40.test(s)) {
    out.valid = false;
    const body = s.slice(2);
    const bad = body.search(/[^0-9a-fA-F]/);
    out.reason =
      bad >= 0 ? `bad character '${body[bad]}' at ${bad + 2}` : `bad length ${s.length} (expected 42)`;
    return out;
  }
  const hex = s.slice(2);
  const lower = hex.toLowerCase();
  if (hex === lower || hex === hex.toUpperCase()) return out; // no checksum present
  const hash = keccak_256(new TextEncoder().encode(lower));
  for (let i = 0; i < 40; i++) {
    const c = hex.charCodeAt(i);
    if (c < 0x41) continue; // digit: case carries nothing
    const nibble = (hash[i >> 1]! >> (i % 2 === 0 ? 4 : 0)) & 0xf;
    const upper = c <= 0x46;
    if (upper !== nibble >= 8) {
      out.valid = false;
      out.reason = `EIP-55 checksum mismatch at ${i + 2}`;
      return out;
    }
  }
  out.valid = true;
  return out;
}
