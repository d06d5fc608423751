/**
 * The filter every view shares: time range, host group and coin, carried in the query string so a link keeps
 * it and a URL can be shared. Relative ranges count back from the newest event in the store (the data clock),
 * not from the wall clock, so an imported or replayed fleet shows its own "last 7 days"; bounds fall on whole
 * UTC days so the store answers from its daily rollup.
 */

export const RANGES = ['24h', '7d', '30d', '90d', 'all'] as const;
export type RangeName = (typeof RANGES)[number] | 'custom';

export interface Filter {
  range: RangeName;
  /** Inclusive YYYY-MM-DD bounds of a custom range. */
  from?: string;
  to?: string;
  group?: string;
  coin?: string;
}

export const DEFAULT_RANGE: RangeName = '90d';
const DAY_MS = 86_400_000;
const DAY = /^\d{4}-\d{2}-\d{2}$/;
const TOKEN = /^[\w.:@-]{1,64}$/;

function one(q: Record<string, unknown>, k: string): string | undefined {
  const v = q[k];
  const s = Array.isArray(v) ? v[0] : v;
  return typeof s === 'string' && s.trim() ? s.trim() : undefined;
}

/** Pure: the filter of a query string; anything malformed is dropped rather than failing the page. */
export function parseFilter(q: Record<string, unknown>): Filter {
  const f: Filter = { range: DEFAULT_RANGE };
  const from = one(q, 'from');
  const to = one(q, 'to');
  const range = one(q, 'range');
  // An explicit preset wins over leftover dates; dates alone (or range=custom) make a custom range.
  if (range && range !== 'custom' && (RANGES as readonly string[]).includes(range))
    f.range = range as RangeName;
  else if ((from && DAY.test(from)) || (to && DAY.test(to))) {
    f.range = 'custom';
    if (from && DAY.test(from) && Number.isFinite(Date.parse(from))) f.from = from;
    if (to && DAY.test(to) && Number.isFinite(Date.parse(to))) f.to = to;
  }
  const group = one(q, 'group');
  if (group && TOKEN.test(group)) f.group = group;
  const coin = one(q, 'coin');
  if (coin && /^[A-Za-z0-9]{1,16}$/.test(coin)) f.coin = coin.toUpperCase();
  return f;
}

/** Pure: the query-string pairs of a filter (defaults left out, so URLs stay short). */
export function filterPairs(f: Filter): [string, string][] {
  const out: [string, string][] = [];
  if (f.range === 'custom') {
    if (f.from) out.push(['from', f.from]);
    if (f.to) out.push(['to', f.to]);
  } else if (f.range !== DEFAULT_RANGE) out.push(['range', f.range]);
  if (f.group) out.push(['group', f.group]);
  if (f.coin) out.push(['coin', f.coin]);
  return out;
}

/** A dashboard link that keeps the filter; `extra` adds or (with null) removes parameters. */
export function link(
  path: string,
  f: Filter,
  extra: Record<string, string | number | null | undefined> = {},
): string {
  const p = new URLSearchParams(filterPairs(f));
  for (const [k, v] of Object.entries(extra)) {
    if (v === null || v === undefined || v === '') p.delete(k);
    else p.set(k, String(v));
  }
  const s = p.toString();
  return s ? `${path}?${s}` : path;
}

export interface Bounds {
  /** Epoch ms, whole UTC days; `to` exclusive. Undefined: open. */
  from?: number;
  to?: number;
}

/** Pure: the time bounds of a filter given the data clock (newest event, epoch ms). */
export function bounds(f: Filter, clock: number): Bounds {
  const endDay = Math.floor(clock / DAY_MS) * DAY_MS;
  switch (f.range) {
    case 'all':
      return {};
    case 'custom': {
      const b: Bounds = {};
      if (f.from) b.from = Date.parse(`${f.from}T00:00:00Z`);
      if (f.to) b.to = Date.parse(`${f.to}T00:00:00Z`) + DAY_MS;
      return b;
    }
    default: {
      const days = f.range === '24h' ? 1 : Number.parseInt(f.range, 10);
      return { from: endDay - (days - 1) * DAY_MS, to: endDay + DAY_MS };
    }
  }
}

/** Pure: a host's group: the agent's `group` (or `tags.group`) from its heartbeat, else the host name without its
 * trailing serial number (`web-eu1-00012` → `web-eu1`), which is how fleets name hosts by role and place. */
export function groupOf(host: string, inventory?: Record<string, unknown> | null): string {
  const g = inventory?.group ?? (inventory?.tags as Record<string, unknown> | undefined)?.group;
  if (typeof g === 'string' && g) return g.slice(0, 64);
  const stripped = host.replace(/[-_.]?\d+$/, '');
  return stripped && stripped !== host ? stripped : host.split(/[.]/)[0]!.slice(0, 64);
}
