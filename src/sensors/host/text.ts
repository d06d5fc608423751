/** Byte → text helpers shared by the host sensors. Pure. */

/** UTF-16LE if it has a BOM or most odd bytes of the head are NUL (Windows task XML, .reg, some .ps1). */
export function looksUtf16le(buf: Uint8Array): boolean {
  if (buf.length >= 2 && buf[0] === 0xff && buf[1] === 0xfe) return true;
  const n = Math.min(buf.length, 512) & ~1;
  if (n < 8) return false;
  let zeros = 0;
  let printable = 0;
  for (let i = 0; i < n; i += 2) {
    if (buf[i + 1] === 0) zeros++;
    const c = buf[i]!;
    if (c >= 0x20 && c < 0x7f) printable++;
  }
  return zeros > n / 2 / 1.25 && printable > n / 2 / 2;
}

/**
 * Decode a config/script file for line-based analysis. Bytes that are not text (NUL and other controls,
 * as in a crontab written by Redis) are replaced by '.', keeping newlines so line numbers stay right.
 */
export function decodeText(buf: Uint8Array): {
  text: string;
  binaryJunk: boolean;
  encoding: 'utf8' | 'utf16le';
} {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (looksUtf16le(b)) {
    const start = b[0] === 0xff && b[1] === 0xfe ? 2 : 0;
    return {
      text: b.toString('utf16le', start, start + ((b.length - start) & ~1)),
      binaryJunk: false,
      encoding: 'utf16le',
    };
  }
  let junk = false;
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    if (c === 0 || (c < 0x20 && c !== 9 && c !== 10 && c !== 13 && c !== 12 && c !== 27)) {
      junk = true;
      break;
    }
  }
  let text = b.toString('utf8');
  if (junk) text = text.replace(/[\u0000-\u0008\u000b\u000e-\u001f\u007f\ufffd]/g, '.');
  else if (text.includes('\ufffd')) junk = true;
  return { text, binaryJunk: junk, encoding: 'utf8' };
}

/**
 * Printable strings of a binary (like strings(1), ASCII and UTF-16LE), joined by newlines. Used for small
 * binary files (Windows .lnk) where the detector wants text; big files go through the streaming scanner.
 */
export function printableStrings(buf: Uint8Array, min = 4, maxOut = 256 * 1024): string {
  const out: string[] = [];
  let total = 0;
  let cur = '';
  const flush = () => {
    if (cur.length >= min && total < maxOut) {
      out.push(cur);
      total += cur.length + 1;
    }
    cur = '';
  };
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i]!;
    if (c >= 0x20 && c < 0x7f) cur += String.fromCharCode(c);
    else flush();
  }
  flush();
  for (let i = 0; i + 1 < buf.length; i += 2) {
    const c = buf[i]!;
    if (buf[i + 1] === 0 && c >= 0x20 && c < 0x7f) cur += String.fromCharCode(c);
    else flush();
  }
  flush();
  return out.join('\n');
}

/** 1-based line number of a character offset, with a cursor so many lookups over one text are linear. */
export function lineIndex(text: string): (offset: number) => number {
  const starts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return (offset: number) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
}
