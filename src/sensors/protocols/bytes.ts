/** Byte helpers the protocol parsers share. */

/**
 * Bytes as ISO-8859-1 text, one char per byte: Buffer's latin1 decoder over the same memory, no copy and no
 * string built char by char.
 */
export function latin1(b: Uint8Array, start = 0, end = b.length): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1', start, end);
}
