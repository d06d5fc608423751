/** Pure: page cursors as opaque URL-safe text (a client hands back what it was given, nothing else). */
import type { PageCursor } from '../store/types.ts';

export function encodeCursor(c: PageCursor): string {
  return Buffer.from(JSON.stringify([c.ts, c.host, c.id])).toString('base64url');
}

/** The cursor, or a RangeError (the API answers 400). */
export function decodeCursor(s: string): PageCursor {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
  } catch {
    throw new RangeError('cursor is not one this server gave out');
  }
  if (
    !Array.isArray(v) ||
    v.length !== 3 ||
    !Number.isSafeInteger(v[0]) ||
    typeof v[1] !== 'string' ||
    typeof v[2] !== 'string'
  )
    throw new RangeError('cursor is not one this server gave out');
  return { ts: v[0] as number, host: v[1] as string, id: v[2] as string };
}
