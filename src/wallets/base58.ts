/**
 * Base58 helpers shared by the CryptoNote and base58check validators.
 *
 * The CryptoNote decoder is written out rather than taken from @scure/base's base58xmr because the validator is
 * on the hot path of extraction (and the issue asks for >93k Monero validations/s), and because we want the
 * *position* of a bad character and the *reason* a block overflows for the `reason` field.
 */

export const BASE58_ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

/** char code -> digit, -1 when not in the alphabet (0, O, I, l and everything non-alphanumeric). */
const DIGIT = new Int8Array(128).fill(-1);
for (let i = 0; i < BASE58_ALPHABET.length; i++) DIGIT[BASE58_ALPHABET.charCodeAt(i)] = i;

/** Index of the first character outside the base58 alphabet, or -1. */
export function firstNonBase58(s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || DIGIT[c]! < 0) return i;
  }
  return -1;
}

export function describeBadChar(s: string, i: number): string {
  const ch = s[i] ?? '';
  const shown = /^[\x21-\x7e]$/.test(ch) ? `'${ch}'` : `U+${ch.charCodeAt(0).toString(16).padStart(4, '0')}`;
  return `bad character ${shown} at ${i}`;
}

/** Encoded width of a final CryptoNote block holding n bytes (index n); full blocks are 8 bytes in 11 chars. */
const CN_BLOCK_CHARS = [0, 2, 3, 5, 6, 7, 9, 10, 11];
const TWO32 = 0x1_0000_0000;

export type Decoded = { ok: true; bytes: Uint8Array } | { ok: false; reason: string };

/** Bytes a CryptoNote base58 string of this length decodes to, or -1 when no block split fits. */
export function cryptonoteDecodedLength(chars: number): number {
  const tail = chars % 11;
  const tailBytes = CN_BLOCK_CHARS.indexOf(tail);
  if (tailBytes < 0) return -1;
  return Math.floor(chars / 11) * 8 + tailBytes;
}

/** Characters a CryptoNote base58 encoding of n bytes takes. */
export function cryptonoteEncodedLength(bytes: number): number {
  return Math.floor(bytes / 8) * 11 + CN_BLOCK_CHARS[bytes % 8]!;
}

/**
 * Monero block-wise base58: 8-byte blocks as 11 chars, last block padded to CN_BLOCK_CHARS[n].
 * Each block's value is held as two 32-bit halves in doubles (hi * 2^32 + lo), exact below 2^53.
 */
export function decodeCryptonoteBase58(s: string): Decoded {
  const bad = firstNonBase58(s);
  if (bad >= 0) return { ok: false, reason: describeBadChar(s, bad) };
  const size = cryptonoteDecodedLength(s.length);
  if (size < 0) return { ok: false, reason: `bad length ${s.length} (not a whole number of base58 blocks)` };
  const out = new Uint8Array(size);
  let w = 0;
  for (let start = 0; start < s.length; start += 11) {
    const end = Math.min(start + 11, s.length);
    const nbytes = end - start === 11 ? 8 : CN_BLOCK_CHARS.indexOf(end - start);
    let hi = 0;
    let lo = 0;
    for (let i = start; i < end; i++) {
      lo = lo * 58 + DIGIT[s.charCodeAt(i)]!;
      const carry = Math.floor(lo / TWO32);
      lo -= carry * TWO32;
      hi = hi * 58 + carry;
      if (hi >= TWO32) return { ok: false, reason: `base58 block overflow at ${start}` };
    }
    // A short block must fit its byte count (e.g. 2 chars -> 1 byte: value < 256).
    if (nbytes < 8) {
      const fits = nbytes <= 4 ? hi === 0 && lo < 2 ** (8 * nbytes) : hi < 2 ** (8 * (nbytes - 4));
      if (!fits) return { ok: false, reason: `base58 block overflow at ${start}` };
    }
    for (let b = nbytes - 1; b >= 0; b--) {
      out[w + b] = b >= nbytes - 4 ? lo & 0xff : hi & 0xff;
      if (b >= nbytes - 4) lo = Math.floor(lo / 256);
      else hi = Math.floor(hi / 256);
    }
    w += nbytes;
  }
  return { ok: true, bytes: out };
}

/** Plain (Bitcoin) base58: big-integer conversion. Inputs here are <= 40 chars, so quadratic is fine. */
export function decodeBase58(s: string): Decoded {
  const bad = firstNonBase58(s);
  if (bad >= 0) return { ok: false, reason: describeBadChar(s, bad) };
  let zeros = 0;
  while (zeros < s.length && s.charCodeAt(zeros) === 49 /* '1' */) zeros++;
  const bytes: number[] = []; // little-endian
  for (let i = zeros; i < s.length; i++) {
    let carry = DIGIT[s.charCodeAt(i)]!;
    for (let j = 0; j < bytes.length; j++) {
      carry += bytes[j]! * 58;
      bytes[j] = carry & 0xff;
      carry >>= 8;
    }
    while (carry > 0) {
      bytes.push(carry & 0xff);
      carry >>= 8;
    }
  }
  const out = new Uint8Array(zeros + bytes.length);
  for (let j = 0; j < bytes.length; j++) out[out.length - 1 - j] = bytes[j]!;
  return { ok: true, bytes: out };
}

/** Reads a CryptoNote varint (7 bits per byte, little-endian groups). Returns [value, bytesRead] or null. */
export function readVarint(b: Uint8Array, max = 9): [number, number] | null {
  let value = 0;
  let mul = 1;
  for (let i = 0; i < Math.min(b.length, max); i++) {
    const x = b[i]!;
    value += (x & 0x7f) * mul;
    if ((x & 0x80) === 0) return [value, i + 1];
    mul *= 128;
  }
  return null;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
export function toHex(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += HEX[b[i]!];
  return s;
}
