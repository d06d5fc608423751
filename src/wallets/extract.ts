/**
 * extractWallets: find wallet addresses in command lines, scripts, configs and binaries' bytes.
 *
 * One RegExp pass finds alphanumeric runs of wallet-like length (25..110) standing alone (not inside a longer
 * run); a table of first characters and lengths built from the format data drops runs no format could be,
 * and only the survivors are decoded and checksummed. The RegExp has no nested quantifiers: each attempt
 * starts only at a run boundary and reads at most 110 characters, so work is linear in the input.
 */
import { Buffer } from 'node:buffer';
import { type FormatIndex, formatIndex } from './formats.ts';
import type { ExtractOptions, WalletInfo } from './types.ts';
import { classify } from './validate.ts';

export const DEFAULT_MAX_HITS = 1000;
export const DEFAULT_MAX_LENGTH = 64 * 1024 * 1024;
const MIN_RUN = 25;
const MAX_RUN = 110;
const CASH_PREFIX = 'bitcoincash:';

/** Leading characters and lengths any known format can have (exact, as extraction is strict). */
interface ShapeTable {
  first: Uint8Array; // char code -> 1 when some format can start with it
  lengths: Uint8Array; // length -> 1 when some format can have it
}

let table: ShapeTable | undefined;
function shapeTable(idx: FormatIndex): ShapeTable {
  if (table) return table;
  const first = new Uint8Array(128);
  const lengths = new Uint8Array(MAX_RUN + 1);
  const mark = (lo: number, hi: number) => {
    for (let i = Math.max(lo, MIN_RUN); i <= Math.min(hi, MAX_RUN); i++) lengths[i] = 1;
  };
  for (const f of idx.byId.values()) {
    if (f.encoding === 'unknown') continue;
    for (const p of f.prefix) {
      const c = p.charCodeAt(0);
      if (c < 128) {
        first[c] = 1;
        // bech32 and cashaddr may be written in upper case
        if (f.encoding === 'segwit' || f.encoding === 'bech32' || f.encoding === 'cashaddr') {
          first[p.toUpperCase().charCodeAt(0)] = 1;
        }
      }
    }
    if (f.encoding === 'segwit') mark(14, 90);
    else if (typeof f.length === 'number') mark(f.length, f.length);
    else if (Array.isArray(f.length)) mark(f.length[0], f.length[1]);
  }
  table = { first, lengths };
  return table;
}

function toText(input: string | Uint8Array, max: number): string {
  if (typeof input === 'string') return input.length > max ? input.slice(0, max) : input;
  const bytes = input.length > max ? input.subarray(0, max) : input;
  // latin1: one char per byte, so a match's index is its byte offset.
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

export function extractWallets(
  text: string | Uint8Array,
  opts: ExtractOptions = {},
): Array<WalletInfo & { offset: number }> {
  const maxHits = opts.maxHits ?? DEFAULT_MAX_HITS;
  const includeInvalid = opts.includeInvalid ?? false;
  const s = toText(text, opts.maxLength ?? DEFAULT_MAX_LENGTH);
  const idx = formatIndex();
  const { first, lengths } = shapeTable(idx);
  const out: Array<WalletInfo & { offset: number }> = [];
  if (maxHits <= 0) return out;
  // Fresh RegExp per call: /g carries lastIndex state, and callers may run extractions concurrently.
  const runs = /(?<![0-9A-Za-z])[0-9A-Za-z]{25,110}(?![0-9A-Za-z])/g;
  for (let m = runs.exec(s); m !== null; m = runs.exec(s)) {
    let run = m[0];
    let offset = m.index;
    if (first[run.charCodeAt(0)] !== 1 || lengths[run.length] !== 1) continue;
    // cashaddr's 'bitcoincash:' prefix is outside the run (':' ends it); take it back in when present.
    if (offset >= CASH_PREFIX.length && s.charCodeAt(offset - 1) === 58 /* : */) {
      const pre = s.slice(offset - CASH_PREFIX.length, offset);
      if (pre.toLowerCase() === CASH_PREFIX) {
        run = pre + run;
        offset -= CASH_PREFIX.length;
      }
    }
    const w = classify(run, true, idx);
    if (!w) continue;
    if (w.valid === false && !includeInvalid) continue;
    out.push({ ...w, offset });
    if (out.length >= maxHits) break;
  }
  return out;
}
