/** Helpers the protocol parsers share. */
import { isAscii } from 'node:buffer';

/** A Buffer with its latin1 decoder callable directly (Node's own, undocumented; what toString('latin1') calls). */
export type Latin1Buffer = Buffer & { latin1Slice(start: number, end: number): string };

/** A Buffer over the whole memory the last bytes lay in: a capture's segments are views of one (the core's). */
let memory: ArrayBufferLike | undefined;
let text: Latin1Buffer | undefined;

/**
 * Bytes as ISO-8859-1 text, one char per byte: Buffer's latin1 decoder over the same memory, no copy and no
 * string built char by char. The Buffer over that memory is kept while the bytes keep coming from it, and its
 * latin1Slice called directly: a Buffer made per call and toString's argument handling were a visible part of
 * the HTTP parser's first pass.
 */
export function latin1(b: Uint8Array, start = 0, end = b.length): string {
  if (b.buffer !== memory || !text) {
    memory = b.buffer;
    text = Buffer.from(b.buffer) as Latin1Buffer;
  }
  // As toString('latin1', start, end) clamps them.
  const s = Math.max(0, Math.min(start, b.length));
  const e = Math.max(s, Math.min(end, b.length));
  return text.latin1Slice(b.byteOffset + s, b.byteOffset + e);
}

/**
 * Object.fromEntries(map) for string keys: a plain object with the map's entries in its order. Assigned one by one
 * (fromEntries walks the iterator protocol per entry and was the largest line of the stratum and HTTP results);
 * a key `__proto__` is defined, not assigned, so it stays an entry rather than setting the prototype.
 */
export function objectOf<V>(map: ReadonlyMap<string, V>): Record<string, V> {
  const out: Record<string, V> = {};
  for (const [k, v] of map) {
    if (k === '__proto__')
      Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
    else out[k] = v;
  }
  return out;
}

const UTF8 = new TextDecoder('utf-8', { fatal: false });

/**
 * Bytes as UTF-8 text (invalid sequences as U+FFFD, a leading BOM dropped: TextDecoder's answer). ASCII, which
 * stratum lines and JSON bodies nearly always are, decodes the same as latin1, which latin1() does without
 * TextDecoder's per-call checks (measured the larger part of a line's decode in a capture's first pass).
 */
export function utf8(b: Uint8Array): string {
  return isAscii(b) ? latin1(b) : UTF8.decode(b);
}
