import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_DEPTH, MAX_FIELDS, strictTime, validateEvent } from './validate.ts';

const NOW = Date.UTC(2026, 2, 10, 12);
const ok = { id: 'a', time: '2026-03-10T11:00:00Z', host: 'web-01', type: 'heartbeat' };
const conn = { ...ok, type: 'connection', dst_ip: '1.2.3.4', dst_port: 443 };
const v = (e: unknown, extra = {}) => validateEvent(e, { now: NOW, ...extra });

test('byte and packet counts are integers within 0..2^53-1', () => {
  assert.equal(v({ ...conn, bytes_out: 2 ** 53 - 1, bytes_in: 0 }), null);
  for (const bad of [2 ** 63, 1e19, -1, 1.5, '100', 2 ** 53])
    assert.match(v({ ...conn, bytes_out: bad }) ?? '', /bytes_out must be an integer/, String(bad));
  assert.match(v({ ...ok, type: 'file', path: '/x', size: 1e300 }) ?? '', /size/);
  // Any number anywhere beyond ±2^53 is refused: no engine stores or sums it exactly.
  assert.match(v({ ...ok, scan_stats: { n: 2 ** 60 } }) ?? '', /beyond/);
  assert.match(v({ ...ok, cpus: Number.POSITIVE_INFINITY }) ?? '', /not finite/);
  assert.equal(v({ ...ok, confidence: 0.9, cpus: 4 }), null);
});

test('nesting depth and field count are bounded, without recursion', () => {
  let deep: unknown = 'x';
  for (let i = 0; i < 5000; i++) deep = { a: deep };
  assert.match(v({ ...ok, deep }) ?? '', /nested deeper than 32/);
  let arr: unknown = 1;
  for (let i = 0; i < MAX_DEPTH; i++) arr = [arr];
  assert.match(v({ ...ok, arr }) ?? '', /nested deeper/);
  let fine: unknown = 1;
  for (let i = 0; i < MAX_DEPTH - 2; i++) fine = [fine];
  assert.equal(v({ ...ok, fine }), null);
  assert.match(
    v({ ...ok, wide: Array.from({ length: MAX_FIELDS + 1 }, () => 0) }) ?? '',
    /more than 10000 fields/,
  );
  const keys = Object.fromEntries(Array.from({ length: MAX_FIELDS }, (_, i) => [`k${i}`, i]));
  assert.match(v({ ...ok, keys }) ?? '', /more than 10000 fields/);
});

test('times: RFC 3339 with a zone, a real date, within the skew and the horizon', () => {
  assert.equal(v({ ...ok, time: '2026-03-10T13:00:00+02:00' }), null);
  assert.match(v({ ...ok, time: '2026-02-31T00:00:00Z' }) ?? '', /not a real date/);
  assert.match(v({ ...ok, time: '2026-03-10T10:00:00' }) ?? '', /has no zone/);
  assert.match(v({ ...ok, time: '2026-03-10' }) ?? '', /not a real date and time with a zone/);
  assert.match(v({ ...ok, time: '2199-01-01T00:00:00Z' }) ?? '', /ahead of the server's clock/);
  assert.equal(v({ ...ok, time: '2026-03-10T12:14:00Z' }), null, 'within 15 min of skew');
  assert.match(v({ ...ok, time: '2026-03-10T12:16:00Z' }) ?? '', /ahead/);
  assert.equal(v({ ...ok, time: '2020-01-01T00:00:00Z' }), null, 'no horizon unless given');
  assert.match(
    v({ ...ok, time: '2020-01-01T00:00:00Z' }, { maxAgeMs: 400 * 86_400_000 }) ?? '',
    /older than the retention horizon \(400 days\)/,
  );
  assert.equal(strictTime('2024-02-29T23:59:59.999Z'), Date.UTC(2024, 1, 29, 23, 59, 59, 999));
  assert.match(String(strictTime('2023-02-29T00:00:00Z')), /not a real date/);
  assert.match(String(strictTime('2026-03-01T10:00:00+25:00')), /not a real date/);
});

test('text must be well-formed Unicode; replaced bytes are refused where the body had invalid UTF-8', () => {
  assert.match(v({ ...ok, host: 'web-\ud800' }) ?? '', /not valid Unicode/);
  assert.match(v({ ...ok, os: 'x\udfff' }) ?? '', /not valid Unicode/);
  assert.match(v({ ...ok, ['k\ud800']: 1 }) ?? '', /key is not valid Unicode/);
  assert.equal(v({ ...ok, host: 'wéb-01 😀' }), null);
  assert.equal(v({ ...ok, host: 'web\ufffd' }), null, 'a real U+FFFD is text');
  assert.match(v({ ...ok, host: 'web\ufffd' }, { refuseReplacement: true }) ?? '', /not valid UTF-8/);
});
