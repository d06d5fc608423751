/**
 * Pure: a request body's bytes to text an ingest can parse. gzip is undone (bounded: a small body that
 * inflates past the limit is refused, not held), and text that is not valid UTF-8 is never decoded into
 * replacement characters silently: an NDJSON line with invalid bytes is refused with its line, the lines
 * beside it are kept; in a JSON array the elements holding the replaced bytes are refused
 * (`refuseReplacement`).
 */
import { isUtf8 } from 'node:buffer';
import { gunzipSync } from 'node:zlib';
import type { Rejected } from '../store/row.ts';

export class BodyError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface DecodedBody {
  text: string;
  /** Lines refused before parsing (invalid UTF-8), by NDJSON line. */
  rejected: Rejected[];
  /** The body had invalid UTF-8 the line split could not isolate (a JSON array): see the module comment. */
  refuseReplacement: boolean;
}

/** Undoes a Content-Encoding (gzip; identity), inflating to at most `limit` bytes (413 above). */
export function inflate(body: Buffer, encoding: string | undefined, limit: number): Buffer {
  const enc = (encoding ?? '').trim().toLowerCase();
  if (!enc || enc === 'identity') return body;
  if (enc !== 'gzip' && enc !== 'x-gzip')
    throw new BodyError(415, `content-encoding '${enc.slice(0, 40)}' is not supported (gzip or none)`);
  try {
    return gunzipSync(body, { maxOutputLength: limit });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ERR_BUFFER_TOO_LARGE' || /larger than/i.test(e.message))
      throw new BodyError(413, `gzip body inflates past ${limit} bytes`);
    throw new BodyError(400, `gzip body is not valid gzip: ${e.message}`);
  }
}

/** Decodes a body; invalid UTF-8 costs only the lines (or array elements) it is in. */
export function decodeBody(buf: Buffer): DecodedBody {
  if (isUtf8(buf)) return { text: buf.toString('utf8'), rejected: [], refuseReplacement: false };
  let i = 0;
  while (i < buf.length && (buf[i] === 0x20 || buf[i] === 0x0a || buf[i] === 0x0d || buf[i] === 0x09)) i++;
  if (buf[i] === 0x5b /* [ */) return { text: buf.toString('utf8'), rejected: [], refuseReplacement: true };
  const lines: string[] = [];
  const rejected: Rejected[] = [];
  let start = 0;
  let line = 0;
  while (start <= buf.length) {
    let end = buf.indexOf(0x0a, start);
    if (end < 0) end = buf.length;
    line++;
    const part = buf.subarray(start, end);
    if (isUtf8(part)) lines.push(part.toString('utf8'));
    else {
      // The line stays (blank) so the lines after it keep their numbers.
      lines.push('');
      rejected.push({ line, reason: 'not valid UTF-8' });
    }
    start = end + 1;
  }
  return { text: lines.join('\n'), rejected, refuseReplacement: false };
}
