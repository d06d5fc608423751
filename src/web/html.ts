/**
 * HTML building: a tagged template that escapes every interpolated value unless it is already `Html`, so
 * pages are assembled from data (host names, evidence, wallet strings an attacker chose) without XSS holes.
 */

export class Html {
  constructor(readonly s: string) {}
  toString(): string {
    return this.s;
  }
}

export function esc(x: unknown): string {
  return String(x ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

type Part = Html | string | number | null | undefined | false | readonly Part[];

function render(v: Part): string {
  if (v === null || v === undefined || v === false) return '';
  if (v instanceof Html) return v.s;
  if (Array.isArray(v)) return v.map(render).join('');
  return esc(v);
}

export function html(strings: TemplateStringsArray, ...values: Part[]): Html {
  let out = strings[0] ?? '';
  values.forEach((v, i) => {
    out += render(v) + (strings[i + 1] ?? '');
  });
  return new Html(out);
}

export function raw(s: string): Html {
  return new Html(s);
}

/** JSON for a `<script type="application/json">` block: `<` escaped so no value can close the element. */
export function jsonBlock(id: string, data: unknown): Html {
  const text = JSON.stringify(data)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028');
  return raw(`<script type="application/json" id="${esc(id)}">${text}</script>`);
}

export const fmtInt = (n: number): string => Math.round(n).toLocaleString('en-US');

/** `2018-03-14 09:12 UTC` from ISO or ms; '—' when absent. */
export function fmtTime(x: string | number | undefined | null): string {
  if (x === undefined || x === null || x === '') return '—';
  const d = new Date(x);
  if (Number.isNaN(d.getTime())) return String(x);
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

export function fmtDay(x: string | number | undefined | null): string {
  if (x === undefined || x === null || x === '') return '—';
  const d = new Date(x);
  return Number.isNaN(d.getTime()) ? String(x) : d.toISOString().slice(0, 10);
}
