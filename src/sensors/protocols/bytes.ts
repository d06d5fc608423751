/** Helpers the protocol parsers share. */

/**
 * Bytes as ISO-8859-1 text, one char per byte: Buffer's latin1 decoder over the same memory, no copy and no
 * string built char by char.
 */
export function latin1(b: Uint8Array, start = 0, end = b.length): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1', start, end);
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
