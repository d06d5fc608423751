import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MinewatchEvent } from '../findings/index.ts';
import { mulberry32 } from '../util/random.ts';
import { fleetFixture } from './contract.ts';
import {
  escapeField,
  keyHash,
  PACKED_FIELDS,
  type PackedChunk,
  RowPacker,
  unescapeField,
  unpack,
} from './pack.ts';
import { contentId, toRow } from './row.ts';
import { HOSTILE_TEXT as HOSTILE, hostileFinding } from './testkit.ts';

/** Text that the packed format must carry untouched: separators, the escape byte, quotes, newlines, NUL. */

const field = (row: string[], name: (typeof PACKED_FIELDS)[number]) => row[PACKED_FIELDS.indexOf(name)]!;

function pack(evs: readonly MinewatchEvent[], source = 'src', raw?: (string | undefined)[]): PackedChunk {
  const p = new RowPacker(64);
  evs.forEach((e, i) => {
    p.add(e, source, raw?.[i], 0);
  });
  return p.copy();
}

/** The packed fields of a row as `toRow` has them (the day is left to SQL; kh/kl are the key hash). */
function asRow(e: MinewatchEvent, source: string, raw?: string): string[] {
  const r = toRow(e, source, raw);
  const [kh, kl] = keyHash(r.host, r.id);
  const hex = (v: number) => `0x${v.toString(16).padStart(8, '0')}`;
  const v: Record<string, string> = {
    ...Object.fromEntries(Object.entries(r).map(([k, x]) => [k, String(x)])),
    bytes: String(Math.round(r.bytes)),
    kh: hex(kh),
    kl: hex(kl),
  };
  return PACKED_FIELDS.map((f) => v[f]!);
}

test('packed rows are toRow, field for field, for every kind of event', () => {
  const evs = fleetFixture();
  const noId = {
    time: '2026-03-03T00:00:00.000Z',
    host: 'x',
    type: 'dns',
    query: 'A.Example.',
  } as MinewatchEvent;
  evs.push(noId);
  const c = pack(evs, 'agent-x');
  assert.equal(c.n, evs.length);
  assert.equal(c.escaped, false);
  assert.deepEqual(
    unpack(c.bytes),
    evs.map((e) => asRow(e, 'agent-x')),
  );
  assert.equal(field(unpack(c.bytes).at(-1)!, 'id'), contentId(noId as never));
  assert.deepEqual(
    c.id,
    evs.map((e) => (e.id as string | undefined) ?? contentId(e as never)),
  );
  assert.deepEqual(
    Array.from(c.ts),
    evs.map((e) => Date.parse(e.time)),
  );
});

test('hostile text in every text field round-trips through the packed format, and only then is escaped', () => {
  for (const h of HOSTILE) {
    const ev = hostileFinding(h, { id: `id${h}`, host: `host${h}`, rule: `rule${h}` });
    const c = pack([ev, fleetFixture()[0]!], `src${h}`);
    assert.equal(c.escaped, /[\x1d-\x1f]/.test(h), JSON.stringify(h));
    const rows = unpack(c.bytes);
    assert.equal(rows.length, 2);
    assert.deepEqual(rows[0], asRow(ev, `src${h}`), JSON.stringify(h));
    assert.deepEqual(rows[1], asRow(fleetFixture()[0]!, `src${h}`));
    // The JSON never holds a separator, escaped or not.
    assert.equal(JSON.parse(field(rows[0]!, 'data')).finding.coin, h);
  }
});

test('the source is escaped on every row and chunk, not only where it was first written', () => {
  const p = new RowPacker(64);
  for (let chunk = 0; chunk < 2; chunk++) {
    p.reset();
    for (const e of fleetFixture().slice(0, 3)) p.add(e, 'imp\x1fort', undefined, 0);
    const c = p.chunk();
    assert.equal(c.escaped, true);
    assert.deepEqual(
      unpack(c.bytes).map((r) => field(r, 'source')),
      ['imp\x1fort', 'imp\x1fort', 'imp\x1fort'],
    );
  }
});

test('the JSON written for an event is JSON.stringify, byte for byte (random values)', () => {
  const r = mulberry32(11);
  const chars = [
    'a',
    'Z',
    '"',
    '\\',
    '\n',
    '\u0001',
    '\u001f',
    '\u007f',
    'é',
    '€',
    '\ud83d\ude00',
    '\ud800',
    '\udc00',
    '/',
    ' ',
  ];
  const str = () =>
    Array.from({ length: Math.floor(r() * 8) }, () => chars[Math.floor(r() * chars.length)]).join('');
  const num = () =>
    [0, -0, 1, -1, 2 ** 53, 2 ** 60, 1e21, 1.5, -3.25e-7, Number.NaN, Number.POSITIVE_INFINITY, 123456789012][
      Math.floor(r() * 12)
    ]!;
  const value = (depth: number): unknown => {
    const k = r();
    if (depth > 3 || k < 0.3) return str();
    if (k < 0.45) return num();
    if (k < 0.5) return r() < 0.5;
    if (k < 0.55) return null;
    if (k < 0.6) return undefined;
    if (k < 0.8) return Array.from({ length: Math.floor(r() * 4) }, () => value(depth + 1));
    const o: Record<string, unknown> = {};
    for (let i = 0; i < r() * 5; i++) o[r() < 0.2 ? String(Math.floor(r() * 10)) : str()] = value(depth + 1);
    return o;
  };
  for (let i = 0; i < 3000; i++) {
    const ev = { time: '2026-03-01T00:00:00Z', host: 'h', type: 'heartbeat', x: value(0) } as MinewatchEvent;
    const row = unpack(pack([ev]).bytes)[0]!;
    assert.equal(field(row, 'data'), Buffer.from(JSON.stringify(ev)).toString('utf8'));
    assert.equal(field(row, 'id'), contentId(ev as never));
  }
  // What only JSON.stringify decides: toJSON, class instances; and what it refuses.
  const odd = {
    time: '2026-03-01T00:00:00Z',
    host: 'h',
    type: 'heartbeat',
    at: new Date(0),
    m: new Map([[1, 2]]),
  } as unknown as MinewatchEvent;
  assert.equal(field(unpack(pack([odd]).bytes)[0]!, 'data'), JSON.stringify(odd));
  assert.throws(() => pack([{ ...odd, big: 1n } as unknown as MinewatchEvent]), TypeError);
});

test('given text is kept as the data; an event without an id gets the hash of JSON.stringify either way', () => {
  const ev = {
    time: '2026-03-01T00:00:00Z',
    host: 'h',
    type: 'dns',
    query: 'pool.example',
  } as MinewatchEvent;
  const canonical = JSON.stringify(ev);
  const spaced = '{ "time": "2026-03-01T00:00:00Z", "host": "h", "type": "dns", "query": "pool.example" }';
  // Parses to the same event (\u0070 is 'p'), but is not what JSON.stringify writes.
  const escapedP = canonical.replace('pool.example', '\\u0070ool.example');
  const want = contentId(ev as never);
  for (const raw of [canonical, spaced, escapedP, undefined]) {
    if (raw) assert.deepEqual(JSON.parse(raw), ev);
    const row = unpack(pack([ev], 's', [raw]).bytes)[0]!;
    assert.equal(field(row, 'id'), want, String(raw));
    assert.deepEqual(JSON.parse(field(row, 'data')), ev);
    assert.equal(toRow(ev, 's', raw).id, want, String(raw));
  }
  // With an id, the text is the data as given.
  const withId = { ...ev, id: 'e1' } as MinewatchEvent;
  const text = '{"time":"2026-03-01T00:00:00Z", "host":"h","type":"dns","query":"pool.example","id":"e1"}';
  assert.equal(field(unpack(pack([withId], 's', [text]).bytes)[0]!, 'data'), text);
  // Text holding a separator cannot be the data: the event is serialised instead.
  const bad = `{"time":"2026-03-01T00:00:00Z","host":"h","type":"dns","query":"pool.example","id":"e1"}\x1e`;
  assert.equal(field(unpack(pack([withId], 's', [bad]).bytes)[0]!, 'data'), JSON.stringify(withId));
});

test('keyHash is stable (it is stored) and separates host from id', () => {
  assert.deepEqual(keyHash('web-01', 'c1'), keyHash('web-01', 'c1'));
  assert.notDeepEqual(keyHash('ab', 'c'), keyHash('a', 'bc'));
  // Fixed values: a change here breaks every stored file's dedup filter (pack.ts says what to do instead).
  assert.deepEqual(keyHash('web-01', 'c1'), KEY_WEB01_C1);
  assert.deepEqual(keyHash('', ''), KEY_EMPTY);
  // Spread: 200,000 keys, no two halves repeat much.
  const lo = new Set<number>();
  const hi = new Set<number>();
  for (let i = 0; i < 200_000; i++) {
    const [h, l] = keyHash(`host-${i % 5000}`, `b${i}`);
    hi.add(h);
    lo.add(l);
  }
  assert.ok(hi.size > 199_000 && lo.size > 199_000, `${hi.size} ${lo.size}`);
});

const KEY_WEB01_C1 = [1538066074, 3339229296];
const KEY_EMPTY = [1600931010, 3995389516];

test('rows can be dropped from a chunk and copied between chunks', () => {
  const evs = fleetFixture();
  const p = new RowPacker(64);
  evs.forEach((e, i) => {
    p.add(e, i % 2 ? 'a\x1fb' : 'src', undefined, i % 3);
  });
  const c = p.copy();
  p.keepRows(Uint8Array.from(evs, (_, i) => (i % 2 ? 0 : 1)));
  const kept = p.chunk();
  assert.deepEqual(
    unpack(kept.bytes),
    unpack(c.bytes).filter((_, i) => i % 2 === 0),
  );
  assert.deepEqual(
    Array.from(kept.req),
    evs.map((_, i) => i % 3).filter((_, i) => i % 2 === 0),
  );
  assert.deepEqual(
    kept.id,
    c.id.filter((_, i) => i % 2 === 0),
  );
  const q = new RowPacker(64);
  q.addRows(c, 0, 4, 7);
  q.addRows(c, 4, c.n, 8);
  const all = q.chunk();
  assert.deepEqual(unpack(all.bytes), unpack(c.bytes));
  assert.deepEqual(Array.from(all.req), [7, 7, 7, 7, ...Array(c.n - 4).fill(8)]);
  assert.equal(all.escaped, true);
  assert.deepEqual(Array.from(all.kh), Array.from(c.kh));
});

test('an event the packer cannot store throws, and the chunk is left as it was', () => {
  const p = new RowPacker(64);
  p.add(fleetFixture()[0]!, 's', undefined, 0);
  const before = Buffer.from(p.chunk().bytes);
  assert.throws(() =>
    p.add({ time: 'soon', host: 'h', type: 'heartbeat' } as MinewatchEvent, 's', undefined, 0),
  );
  assert.throws(() =>
    p.add(
      { time: '2026-03-01T00:00:00Z', host: 'h', type: 'heartbeat', n: 1n } as unknown as MinewatchEvent,
      's',
      undefined,
      0,
    ),
  );
  assert.equal(p.rows, 1);
  assert.deepEqual(Buffer.from(p.chunk().bytes), before);
});

test('escapeField, the string form of the packer escape, leaves no separator and is undone by unescapeField', () => {
  for (const h of HOSTILE) {
    const e = escapeField(h);
    assert.ok(!e.includes('\x1e') && !e.includes('\x1f'), JSON.stringify(e));
    assert.equal(unescapeField(e), h);
  }
  assert.equal(escapeField('a\x1db\x1ec\x1fd'), 'a\x1d0b\x1d1c\x1d2d');
});
