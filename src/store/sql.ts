/**
 * ClickHouse literals and TSV fields. Query parameters fail on ClickHouse 18.16 (Code 115) with the current
 * client, so every value that reaches a ClickHouse query goes through one of these functions, never through
 * string concatenation of raw input. `sql.test.ts` proves them against injection on a real server.
 */

const HEX = '0123456789abcdef';

function hexEscape(code: number): string {
  return `\\x${HEX[(code >> 4) & 15]}${HEX[code & 15]}`;
}

/**
 * A ClickHouse string literal: quote and backslash escaped, every control character as \xHH, so the literal
 * is one token whatever the input holds (quotes, backslashes, newlines, NUL, comment starts).
 */
export function chString(s: string): string {
  let out = "'";
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x27) out += "\\'";
    else if (c === 0x5c) out += '\\\\';
    else if (c < 0x20 || c === 0x7f) out += hexEscape(c);
    else out += s[i];
  }
  return `${out}'`;
}

/** An integer literal; anything but a safe integer is refused (no NaN, no '1 OR 1=1'). */
export function chInt(n: number): string {
  if (!Number.isSafeInteger(n)) throw new TypeError(`not an integer: ${String(n)}`);
  return String(n);
}

/** `(a, b, c)` for IN; an empty list becomes a list that matches nothing. */
export function chStringList(values: readonly string[]): string {
  if (!values.length) return "('')";
  return `(${values.map(chString).join(', ')})`;
}

/** Identifiers are never taken from input; this guards the few that come from configuration (database names). */
export function chIdent(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(name))
    throw new TypeError(`not a valid ClickHouse identifier: ${name}`);
  return name;
}

/** A TabSeparated field: backslash, tab, newline and carriage return escaped as ClickHouse reads them back. */
export function tsvField(s: string): string {
  // Fast path: most values need nothing.
  if (!/[\\\t\n\r\0]/.test(s)) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (ch === '\\') out += '\\\\';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\0') out += '\\0';
    else out += ch;
  }
  return out;
}

const TSV_UNESCAPES: Record<string, string> = {
  b: '\b',
  f: '\f',
  r: '\r',
  n: '\n',
  t: '\t',
  '0': '\0',
  "'": "'",
  '\\': '\\',
};

/** A field of ClickHouse's TabSeparated output: the escapes it writes (\\b \\f \\r \\n \\t \\0 \\' \\\\) undone. */
export function tsvUnescape(s: string): string {
  if (!s.includes('\\')) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (ch !== '\\' || i + 1 === s.length) {
      out += ch;
      continue;
    }
    const next = s[++i]!;
    out += TSV_UNESCAPES[next] ?? next;
  }
  return out;
}
