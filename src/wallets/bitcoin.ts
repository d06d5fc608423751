/**
 * Bitcoin-family addresses: base58check (version byte(s) || hash160 || 4-byte double-SHA256 checksum),
 * segwit bech32/bech32m (BIP-173 / BIP-350), Zcash Sapling bech32, and Bitcoin Cash cashaddr.
 */
import { createHash } from 'node:crypto';
import { bech32, bech32m } from '@scure/base';
import { decodeBase58, describeBadChar } from './base58.ts';
import type { FormatIndex, WalletFormat } from './formats.ts';
import { walletInfo } from './formats.ts';
import type { WalletInfo } from './types.ts';

const info = walletInfo;

// ---------------------------------------------------------------------------------------------------------------
// base58check

export function validateBase58Check(s: string, guess: WalletFormat, idx: FormatIndex): WalletInfo {
  const dec = decodeBase58(s);
  if (!dec.ok) return info(s, guess, false, dec.reason);
  const range = typeof guess.length === 'number' ? [guess.length, guess.length] : guess.length;
  if (range && (s.length < range[0]! || s.length > range[1]!)) {
    const want = range[0] === range[1] ? `${range[0]}` : `${range[0]}..${range[1]}`;
    return info(s, guess, false, `bad length ${s.length} (expected ${want})`);
  }
  const b = dec.bytes;
  if (b.length < 5) return info(s, guess, false, `bad length ${s.length}`);
  // Two-byte versions (Zcash t-addresses) first, so 0x1c.. is not read as a one-byte version.
  const f =
    (b.length >= 2 ? idx.base58ByVersion.get(hex2(b[0]!, b[1]!)) : undefined) ??
    idx.base58ByVersion.get(hex1(b[0]!)) ??
    guess;
  const verLen = f.version?.length ?? 1;
  const body = b.subarray(0, b.length - 4);
  // node:crypto, not @noble/hashes/sha2.js: evaluating that module builds SHA-512's constants from BigInts
  // (~6 ms of every command's start-up, one core), and this is its only use.
  const sum = createHash('sha256').update(createHash('sha256').update(body).digest()).digest();
  let sumOk = true;
  for (let i = 0; i < 4; i++) if (sum[i] !== b[b.length - 4 + i]) sumOk = false;
  if (!sumOk) return info(s, f, false, 'checksum mismatch');
  // No entry knows this version byte: f fell back to the prefix guess.
  if (!sameVersion(f, b)) return info(s, f, false, `unknown version byte 0x${hex1(b[0]!)}`);
  const payload = b.length - 4 - verLen;
  if (f.payload_length !== undefined && payload !== f.payload_length) {
    return info(s, f, false, `bad payload length ${payload} (expected ${f.payload_length})`);
  }
  return info(s, f, true);
}

function sameVersion(f: WalletFormat, b: Uint8Array): boolean {
  const v = f.version;
  if (!v) return false;
  for (let i = 0; i < v.length; i++) if (b[i] !== v[i]) return false;
  return true;
}
function hex1(a: number): string {
  return a.toString(16).padStart(2, '0');
}
function hex2(a: number, b: number): string {
  return hex1(a) + hex1(b);
}

// ---------------------------------------------------------------------------------------------------------------
// bech32 / bech32m

const BECH32_CHARS = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const BECH32_SET = new Set(BECH32_CHARS);

/** Checks case and charset ourselves so the reason names the problem (the library only says "invalid"). */
function bech32Precheck(s: string): { lower: string; hrp: string; reason?: string } {
  const lower = s.toLowerCase();
  const sep = lower.lastIndexOf('1');
  const hrp = sep > 0 ? lower.slice(0, sep) : '';
  if (s !== lower && s !== s.toUpperCase()) return { lower, hrp, reason: 'mixed case' };
  if (sep < 1) return { lower, hrp, reason: 'missing separator' };
  for (let i = sep + 1; i < lower.length; i++) {
    if (!BECH32_SET.has(lower[i]!)) return { lower, hrp, reason: describeBadChar(s, i) };
  }
  if (lower.length - sep - 1 < 6) return { lower, hrp, reason: `bad length ${s.length}` };
  if (lower.length > 90) return { lower, hrp, reason: `bad length ${s.length} (max 90)` };
  return { lower, hrp };
}

function pickSegwit(
  idx: FormatIndex,
  hrp: string,
  wv: number | null,
  plen: number | null,
): WalletFormat | undefined {
  let generic: WalletFormat | undefined;
  for (const f of idx.segwit) {
    if (f.hrp !== hrp) continue;
    if (f.witness_version === null || f.witness_version === undefined) generic ??= f;
    else if (f.witness_version === wv && f.program_length === plen) return f;
  }
  return generic;
}

export function validateSegwit(s: string, idx: FormatIndex): WalletInfo | null {
  const pre = bech32Precheck(s);
  const generic = pickSegwit(idx, pre.hrp, null, null);
  if (!generic) return null; // unknown hrp: not one of ours
  if (pre.reason) return info(s, generic, false, pre.reason);
  const asBech32 = bech32.decodeUnsafe(pre.lower, 90);
  const asBech32m = asBech32 ? undefined : bech32m.decodeUnsafe(pre.lower, 90);
  const dec = asBech32 ?? asBech32m;
  if (!dec) return info(s, generic, false, 'checksum mismatch');
  const words = dec.words;
  if (words.length === 0) return info(s, generic, false, 'empty data');
  const wv = words[0]!;
  if (wv > 16) return info(s, generic, false, `bad witness version ${wv}`);
  const program = bech32.fromWordsUnsafe(words.slice(1));
  if (!program) return info(s, generic, false, 'bad padding');
  const f = pickSegwit(idx, pre.hrp, wv, program.length) ?? generic;
  // BIP-350: v0 must carry a bech32 checksum, v1..16 a bech32m one.
  if (wv === 0 && !asBech32) return info(s, f, false, 'checksum mismatch (bech32m used for witness v0)');
  if (wv !== 0 && asBech32) return info(s, f, false, `checksum mismatch (bech32 used for witness v${wv})`);
  if (program.length < 2 || program.length > 40)
    return info(s, f, false, `bad program length ${program.length}`);
  if (wv === 0 && program.length !== 20 && program.length !== 32) {
    return info(s, f, false, `bad program length ${program.length} for witness v0`);
  }
  return info(s, f, true);
}

/** Plain bech32 payloads with a fixed byte length (Zcash Sapling 'zs1', 43 bytes). */
export function validateBech32Payload(s: string, f: WalletFormat): WalletInfo {
  const pre = bech32Precheck(s);
  if (pre.reason) return info(s, f, false, pre.reason);
  const dec = bech32.decodeUnsafe(pre.lower, 90);
  if (!dec) return info(s, f, false, 'checksum mismatch');
  const bytes = bech32.fromWordsUnsafe(dec.words);
  if (!bytes) return info(s, f, false, 'bad padding');
  if (f.payload_length !== undefined && bytes.length !== f.payload_length) {
    return info(s, f, false, `bad payload length ${bytes.length} (expected ${f.payload_length})`);
  }
  return info(s, f, true);
}

// ---------------------------------------------------------------------------------------------------------------
// cashaddr (Bitcoin Cash): bech32 charset, 40-bit BCH checksum over (prefix low 5 bits, 0, payload).

const CASH_GEN = [0x98f2bc8e61n, 0x79b76d99e2n, 0xf33e5fb3c4n, 0xae2eabe2a8n, 0x1e4f43e470n];

function cashPolymod(values: number[]): bigint {
  let c = 1n;
  for (const d of values) {
    const c0 = c >> 35n;
    c = ((c & 0x07ffffffffn) << 5n) ^ BigInt(d);
    for (let i = 0; i < 5; i++) if ((c0 >> BigInt(i)) & 1n) c ^= CASH_GEN[i]!;
  }
  return c ^ 1n;
}

export function validateCashaddr(s: string, idx: FormatIndex): WalletInfo | null {
  const p2pkh = idx.cashaddr.find((f) => f.type === 'p2pkh');
  const p2sh = idx.cashaddr.find((f) => f.type === 'p2sh');
  if (!p2pkh || !p2sh) return null;
  const lowerAll = s.toLowerCase();
  const colon = lowerAll.indexOf(':');
  const prefix = colon >= 0 ? lowerAll.slice(0, colon) : (p2pkh.hrp ?? 'bitcoincash');
  const body = colon >= 0 ? lowerAll.slice(colon + 1) : lowerAll;
  const guess = body.startsWith('p') ? p2sh : p2pkh;
  if (s !== lowerAll && s !== s.toUpperCase()) return info(s, guess, false, 'mixed case');
  if (prefix !== p2pkh.hrp) return null;
  const values: number[] = [];
  for (let i = 0; i < body.length; i++) {
    const v = BECH32_CHARS.indexOf(body[i]!);
    if (v < 0) return info(s, guess, false, describeBadChar(s, i + (colon >= 0 ? colon + 1 : 0)));
    values.push(v);
  }
  if (body.length !== 42)
    return info(s, guess, false, `bad length ${body.length} (expected 42 after the prefix)`);
  const pre: number[] = [];
  for (let i = 0; i < prefix.length; i++) pre.push(prefix.charCodeAt(i) & 0x1f);
  pre.push(0);
  if (cashPolymod(pre.concat(values)) !== 0n) return info(s, guess, false, 'checksum mismatch');
  const payload = bech32.fromWordsUnsafe(values.slice(0, -8));
  if (payload?.length !== 21) return info(s, guess, false, 'bad payload length');
  const version = payload[0]!;
  const type = version >> 3;
  const f = type === 0 ? p2pkh : type === 1 ? p2sh : undefined;
  if (!f || (version & 7) !== 0) return info(s, guess, false, `unknown version byte 0x${hex1(version)}`);
  return info(s, f, true);
}
