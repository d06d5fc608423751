/**
 * Framing: bytes in, text units out, in bounded memory. A unit is a line, or for a file that is one JSON
 * array (as PowerShell's ConvertTo-Json and some SIEM exports write Sysmon/Falco/EVE) one top-level object
 * of the array, with the line it starts on. A unit longer than the limit is reported (null) and skipped
 * without being held in memory.
 */
import { isUtf8 } from 'node:buffer';

export const DEFAULT_MAX_UNIT_BYTES = 16 * 1024 * 1024;

/** Units of a batch; `nos[i]` is the 1-based line of `units[i]`; null marks a unit over the size limit. */
export interface UnitBatch {
  units: (string | null)[];
  nos: number[];
  /** Indices (into `units`) of units whose bytes are not valid UTF-8: refused, never decoded to U+FFFD. */
  invalid?: number[];
}

/**
 * Splits a byte stream into lines. Lines are decoded whole, so a UTF-8 character split across chunks is
 * safe; '\r\n' endings and a leading BOM are removed.
 */
export async function* lineBatches(
  src: AsyncIterable<Uint8Array>,
  maxLine = DEFAULT_MAX_UNIT_BYTES,
): AsyncGenerator<UnitBatch> {
  let carry: Buffer[] = [];
  let carryLen = 0;
  let skipping = false;
  let no = 0;
  let first = true;
  const text = (b: Buffer, s: number, e: number): string => {
    if (e > s && b[e - 1] === 13) e--;
    // utf8Slice: toString('utf8', s, e) without its argument handling, called once a line (~0.1 us a line
    // of a 1M-line import).
    let t = (b as unknown as { utf8Slice(s: number, e: number): string }).utf8Slice(s, e);
    if (first) {
      first = false;
      if (t.charCodeAt(0) === 0xfeff) t = t.slice(1);
    }
    return t;
  };
  for await (const chunk of src) {
    const buf = Buffer.isBuffer(chunk)
      ? chunk
      : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const units: (string | null)[] = [];
    const nos: number[] = [];
    let invalid: number[] | undefined;
    // One check of the whole chunk (the usual case: valid); lines are checked one by one only in a chunk
    // that fails it (an invalid line, or a character split at the chunk's end).
    const chunkValid = isUtf8(buf);
    let start = 0;
    for (;;) {
      const nl = buf.indexOf(10, start);
      if (nl < 0) break;
      no++;
      if (skipping) {
        units.push(null);
        skipping = false;
      } else if (carryLen > 0) {
        carry.push(buf.subarray(start, nl));
        const whole = Buffer.concat(carry);
        if (!isUtf8(whole)) (invalid ??= []).push(units.length);
        units.push(text(whole, 0, whole.length));
        carry = [];
        carryLen = 0;
      } else {
        if (!chunkValid && !isUtf8(buf.subarray(start, nl))) (invalid ??= []).push(units.length);
        units.push(text(buf, start, nl));
      }
      nos.push(no);
      start = nl + 1;
    }
    if (start < buf.length && !skipping) {
      carry.push(buf.subarray(start));
      carryLen += buf.length - start;
      if (carryLen > maxLine) {
        skipping = true;
        carry = [];
        carryLen = 0;
      }
    }
    if (units.length) yield { units, nos, ...(invalid ? { invalid } : {}) };
  }
  if (skipping) yield { units: [null], nos: [no + 1] };
  else if (carryLen > 0) {
    const whole = Buffer.concat(carry);
    yield {
      units: [text(whole, 0, whole.length)],
      nos: [no + 1],
      ...(isUtf8(whole) ? {} : { invalid: [0] }),
    };
  }
}

/**
 * Splits a JSON array of objects (or a run of bare, pretty-printed objects) into the objects' texts, tracking strings and escapes so braces inside
 * values do not count. Only top-level objects of the array are units; anything else at that level is skipped.
 */
export async function* jsonArrayBatches(
  src: AsyncIterable<Uint8Array>,
  maxObject = DEFAULT_MAX_UNIT_BYTES,
  /** Nesting level of the objects that are units: 2 inside a top-level array, 1 for bare (pretty-printed) objects. */
  level: 1 | 2 = 2,
): AsyncGenerator<UnitBatch> {
  let depth = 0;
  let inStr = false;
  let esc = false;
  let line = 1;
  let objLine = 0;
  let parts: Buffer[] = [];
  let partsLen = 0;
  let over = false;
  for await (const chunk of src) {
    const buf = Buffer.isBuffer(chunk)
      ? chunk
      : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const units: (string | null)[] = [];
    const nos: number[] = [];
    let invalid: number[] | undefined;
    let objStart = depth >= level ? 0 : -1;
    for (let i = 0; i < buf.length; i++) {
      const c = buf[i]!;
      if (c === 10) line++;
      if (inStr) {
        if (esc) esc = false;
        else if (c === 92) esc = true;
        else if (c === 34) inStr = false;
        continue;
      }
      if (c === 34) inStr = true;
      else if (c === 123 || c === 91) {
        depth++;
        if (depth === level && c === 123) {
          objStart = i;
          objLine = line;
          parts = [];
          partsLen = 0;
          over = false;
        }
      } else if (c === 125 || c === 93) {
        depth--;
        if (depth === level - 1 && objStart >= 0) {
          if (!over) parts.push(buf.subarray(objStart, i + 1));
          const whole = over ? undefined : Buffer.concat(parts);
          if (whole && !isUtf8(whole)) (invalid ??= []).push(units.length);
          units.push(whole ? whole.toString('utf8') : null);
          nos.push(objLine);
          parts = [];
          partsLen = 0;
          objStart = -1;
        }
        if (depth < 0) depth = 0;
      }
    }
    if (objStart >= 0 && depth >= level && !over) {
      const rest = buf.subarray(objStart);
      parts.push(rest);
      partsLen += rest.length;
      if (partsLen > maxObject) {
        over = true;
        parts = [];
        partsLen = 0;
      }
    }
    if (units.length) yield { units, nos, ...(invalid ? { invalid } : {}) };
  }
  if (depth >= level) yield { units: [null], nos: [objLine] };
}

export type Framing = 'lines' | 'array' | 'objects';

/**
 * How a stream is framed, reading as little as needed: a JSON array ('[' first), pretty-printed JSON objects
 * ('{' alone on the first line: `ConvertTo-Json` of one event, `jq .`), or lines (NDJSON, TSV, CSV).
 */
export async function peekFraming(
  src: AsyncIterable<Uint8Array>,
): Promise<{ framing: Framing; stream: AsyncIterable<Uint8Array> }> {
  const it = src[Symbol.asyncIterator]();
  const head: Uint8Array[] = [];
  let framing: Framing = 'lines';
  /** 0 looking for the first byte, 1 after a '{' looking at the rest of its line, 2 decided. */
  let state = 0;
  while (state < 2) {
    const r = await it.next();
    if (r.done) break;
    head.push(r.value);
    for (let i = 0; i < r.value.length && state < 2; i++) {
      const c = r.value[i]!;
      if (state === 0) {
        if (c === 32 || c === 9 || c === 10 || c === 13 || c === 0xef || c === 0xbb || c === 0xbf) continue;
        if (c === 91) {
          framing = 'array';
          state = 2;
        } else if (c === 123) state = 1;
        else if (c === 82 /* R */ && startsRecordHeader(r.value, i)) {
          // evtx_dump -o json: 'Record 1' then a pretty-printed object, and so on.
          framing = 'objects';
          state = 2;
        } else state = 2;
      } else if (c === 10) {
        framing = 'objects';
        state = 2;
      } else if (c !== 32 && c !== 9 && c !== 13) state = 2;
    }
  }
  async function* chained(): AsyncGenerator<Uint8Array> {
    yield* head;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield r.value;
    }
  }
  return { framing, stream: chained() };
}

/** Whether `b` at `i` reads 'Record <digits>' (evtx_dump's line before each JSON record). */
function startsRecordHeader(b: Uint8Array, i: number): boolean {
  const t = Buffer.from(b.buffer, b.byteOffset + i, Math.min(24, b.length - i)).toString('latin1');
  return /^Record \d+\r?\n/.test(t);
}
