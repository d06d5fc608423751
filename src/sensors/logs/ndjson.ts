/**
 * minewatch's own NDJSON events (src/findings/event.ts): one JSON object a line. Validation is the store's
 * (validateEvent), so a line `minewatch import` accepts is one the ingest API accepts and vice versa.
 */
import type { MinewatchEvent } from '../../findings/index.ts';
import { validateEvent } from '../../store/row.ts';
import type { LineParser } from './types.ts';
import { parseObject } from './util.ts';

export function minewatchParser(): LineParser {
  return {
    format: 'minewatch',
    parse(line, out) {
      const o = parseObject(line);
      if (typeof o === 'string') return o;
      const bad = validateEvent(o);
      if (bad) return bad;
      out.push(o as MinewatchEvent);
      return undefined;
    },
  };
}
