import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MinewatchEvent } from '../findings/index.ts';
import { mulberry32 } from '../util/random.ts';
import { groupRows } from './group.ts';
import { boundMs, contentId, isCanonicalJson, parseBatch, parseTime, toRow, validateEvent } from './row.ts';

const ok = { time: '2026-03-01T00:00:00Z', host: 'h', type: 'heartbeat' };

test('validateEvent names what is wrong', () => {
  assert.equal(validateEvent(ok), null);
  assert.match(validateEvent([]) ?? '', /object/);
  assert.match(validateEvent({ ...ok, type: 'nope' }) ?? '', /type must be/);
  assert.match(validateEvent({ ...ok, host: '' }) ?? '', /host/);
  assert.match(validateEvent({ ...ok, host: 'a\nb' }) ?? '', /control/);
  assert.match(validateEvent({ ...ok, time: 'soon' }) ?? '', /not an RFC 3339/);
  assert.match(validateEvent({ ...ok, id: 'x'.repeat(200) }) ?? '', /id must be/);
  assert.match(
    validateEvent({ ...ok, type: 'connection', dst_ip: '1.2.3.4', dst_port: 70000 }) ?? '',
    /dst_port/,
  );
  assert.match(
    validateEvent({ ...ok, type: 'finding', finding: { rule: 'r', severity: 'huge' } }) ?? '',
    /severity/,
  );
  assert.equal(validateEvent({ ...ok, type: 'finding', finding: { rule: 'r', severity: 'high' } }), null);
});

test('parseBatch: NDJSON keeps good lines and reports bad ones by line number', () => {
  const body = [
    JSON.stringify(ok),
    '',
    '{broken',
    JSON.stringify({ ...ok, type: 'x' }),
    JSON.stringify(ok),
  ].join('\n');
  const p = parseBatch(body, 'application/x-ndjson');
  assert.deepEqual(
    p.events.map((e) => e.line),
    [1, 5],
  );
  assert.deepEqual(
    p.rejected.map((r) => r.line),
    [3, 4],
  );
  assert.match(p.rejected[0]!.reason, /not valid JSON/);
});

test('parseBatch: a JSON array numbers its items; a single object is one event', () => {
  const p = parseBatch(JSON.stringify([ok, { nope: 1 }]), 'application/json');
  assert.deepEqual(p.events.length, 1);
  assert.deepEqual(p.rejected, [
    { line: 2, reason: 'type must be one of process, connection, dns, file, finding, heartbeat' },
  ]);
  assert.equal(parseBatch(JSON.stringify(ok), 'application/json').events.length, 1);
  assert.equal(parseBatch('[1,', 'application/json').rejected[0]!.line, 1);
  const mapped = parseBatch(JSON.stringify([1]), '', () => {
    throw new Error('mapped away');
  });
  assert.deepEqual(mapped.rejected, [{ line: 1, reason: 'mapped away' }]);
});

test('toRow takes dimensions from the event or its finding', () => {
  const c = toRow(
    {
      time: '2026-03-01T10:00:00Z',
      host: 'h',
      type: 'connection',
      src_ip: 'a',
      dst_ip: '1.2.3.4',
      dst_port: 3333,
      pool: { host: 'P.example', port: 1 },
      coin: 'XMR',
      bytes_in: 5,
      bytes_out: 6,
    } as MinewatchEvent,
    'src',
  );
  assert.equal(c.pool, 'p.example');
  assert.equal(c.port, 3333);
  assert.equal(c.coin, 'XMR');
  assert.equal(c.bytes, 11);
  assert.equal(c.day, '2026-03-01');
  assert.equal(c.source, 'src');
  assert.match(c.id, /^h:[0-9a-f]{32}$/);
  const f = toRow({
    id: 'f',
    time: '2026-03-01T10:00:00Z',
    host: 'h',
    type: 'finding',
    finding: {
      rule: 'host.file.miner-binary',
      severity: 'high',
      pool: { ip: '9.9.9.9', port: 443 },
      evidence: [{ kind: 'file', path: '/x', sha256: 'AA' }],
      login: 'acct',
      url: 'http://d',
    },
  } as unknown as MinewatchEvent);
  assert.deepEqual(
    [f.pool, f.port, f.exe, f.sha256, f.sev, f.account, f.dropper, f.dst_ip],
    ['9.9.9.9', 443, '/x', 'aa', 3, 'acct', 'http://d', '9.9.9.9'],
  );
  assert.equal(contentId({ a: 1 }), contentId({ a: 1 }));
});

test('groupRows keeps the first of each (host, id) and counts repeats per submission', () => {
  const e = (id: string, host = 'h') => ({ ...ok, id, host }) as MinewatchEvent;
  const g = groupRows([
    { events: [e('1'), e('1'), e('2')], count: 3, source: 'a' },
    { events: [e('2'), e('2', 'other')], count: 2, source: 'b' },
  ]);
  assert.deepEqual(g.req, [0, 0, 1]);
  assert.deepEqual(g.innerDuplicates, [1, 1]);
});

test('boundMs accepts ISO and epoch ms, refuses garbage', () => {
  assert.equal(boundMs('2026-03-01', 'from'), Date.UTC(2026, 2, 1));
  assert.equal(boundMs('1700000000000', 'from'), 1_700_000_000_000);
  assert.equal(boundMs(undefined, 'from'), undefined);
  assert.throws(() => boundMs('nope', 'from'), RangeError);
  // Zone-less bounds are UTC, never the server's local time; a day past the month's end is no date.
  assert.equal(boundMs('2026-03-01T10:00', 'from'), Date.UTC(2026, 2, 1, 10));
  assert.equal(boundMs('2026-03-01 10:00:00', 'from'), Date.UTC(2026, 2, 1, 10));
  assert.throws(() => boundMs('2026-02-31', 'from'), RangeError);
});

test('parseTime is Date.parse for real dates with a zone, on the fast path and off it; NaN for the rest', () => {
  const r = mulberry32(5);
  const pad = (n: number, w: number) => String(n).padStart(w, '0');
  const samples = [
    '2026-03-01T10:00:00Z',
    '2026-03-01T10:00:00.123Z',
    '2023-02-30T00:00:00Z',
    '2023-04-31T23:59:59.999Z',
    '2024-02-29T00:00:00Z',
    '2023-01-01T24:00:00Z',
    '2023-01-01T23:60:00Z',
    '2023-01-01T23:59:60Z',
    '2023-00-01T00:00:00Z',
    '2023-13-01T00:00:00Z',
    '2023-01-00T00:00:00Z',
    '2023-01-32T00:00:00Z',
    '0000-01-01T00:00:00Z',
    '1969-12-31T23:59:59.999Z',
    '2023-01-01T00:00:00.1234Z',
    '2023-01-01T00:00:00.12Z',
    '2023-01-01T00:00:00+01:00',
    '2023-01-01T00:00:00.000z',
    '2023-01-01 00:00:00Z',
    '2023-1-01T00:00:00.000Z',
    '２０２３-01-01T00:00:00Z',
    'soon',
    '',
  ];
  for (let i = 0; i < 20000; i++)
    samples.push(
      `${pad(Math.floor(r() * 10000), 4)}-${pad(Math.floor(r() * 14), 2)}-${pad(Math.floor(r() * 33), 2)}T` +
        `${pad(Math.floor(r() * 26), 2)}:${pad(Math.floor(r() * 62), 2)}:${pad(Math.floor(r() * 62), 2)}` +
        `${r() < 0.5 ? `.${pad(Math.floor(r() * 1000), 3)}` : ''}Z`,
    );
  // The oracle: Date.parse, where the date it reads is the one written (no rollover of 2023-02-30 into
  // March, no 24:00); zone-less and malformed times are NaN.
  const real = (s: string) => {
    const t = Date.parse(s);
    if (!Number.isFinite(t) || !/(Z|z|[+-]\d{2}:\d{2})$/.test(s)) return Number.NaN;
    const iso = new Date(t + (/[+-]\d{2}:\d{2}$/.test(s) ? 3_600_000 : 0)).toISOString();
    return iso.slice(0, 19) === s.slice(0, 19).replace(' ', 'T') ? t : Number.NaN;
  };
  for (const s of samples) assert.equal(parseTime(s), real(s), s);
  assert.equal(parseTime('2026-02-31T00:00:00Z'), Number.NaN);
  assert.equal(parseTime('2026-03-01T10:00:00'), Number.NaN);
  assert.equal(parseTime('2026-03-01T12:00:00+02:00'), Date.UTC(2026, 2, 1, 10));
  assert.equal(parseTime('2026-03-01T10:00Z'), Date.UTC(2026, 2, 1, 10));
  assert.equal(parseTime('2026-03-01T10:00:00.123456Z'), Date.UTC(2026, 2, 1, 10, 0, 0, 123));
});

test('a severity is an own key of SEVERITY_ORDER, not an inherited name', () => {
  const f = (severity: string) => ({ ...ok, type: 'finding', finding: { rule: 'r', severity } });
  assert.match(validateEvent(f('constructor')) ?? '', /severity/);
  assert.match(validateEvent(f('__proto__')) ?? '', /severity/);
  assert.equal(toRow(f('toString') as unknown as MinewatchEvent).sev, -1);
  assert.equal(toRow(f('critical') as unknown as MinewatchEvent).sev, 4);
});

test('isCanonicalJson says yes only for text that is JSON.stringify of what it parses to', () => {
  const r = mulberry32(9);
  const atoms = [
    '"a"',
    '"é😀"',
    '"\\n"',
    '"\\u001f"',
    '"\\u0041"',
    '"\\/"',
    '"\\b"',
    '"\\u000a"',
    '"\\ud800"',
  ];
  const nums = ['0', '-1', '12', '1.5', '1e3', '-0', '123456789012345', '1234567890123456', '007'];
  const value = (depth: number): string => {
    const k = r();
    if (k < 0.35) return atoms[Math.floor(r() * atoms.length)]!;
    if (k < 0.6) return nums[Math.floor(r() * nums.length)]!;
    if (k < 0.7) return ['true', 'false', 'null'][Math.floor(r() * 3)]!;
    if (k < 0.85 && depth < 3)
      return `[${Array.from({ length: Math.floor(r() * 3) }, () => value(depth + 1)).join(r() < 0.9 ? ',' : ', ')}]`;
    if (depth < 2) return object(depth + 1);
    return '"x"';
  };
  const keys = ['"a"', '"b"', '"time"', '"1"', '"01"', '"a b"', '"\\""'];
  const object = (depth: number): string => {
    const n = Math.floor(r() * 4);
    const parts = Array.from(
      { length: n },
      () => `${keys[Math.floor(r() * keys.length)]}${r() < 0.95 ? ':' : ' :'}${value(depth)}`,
    );
    return `${r() < 0.95 ? '{' : ' {'}${parts.join(',')}}`;
  };
  let yes = 0;
  let tried = 0;
  for (let i = 0; i < 30000; i++) {
    const text = object(0);
    let ev: unknown;
    try {
      ev = JSON.parse(text);
    } catch {
      continue;
    }
    if (typeof ev !== 'object' || ev === null || Array.isArray(ev)) continue;
    tried++;
    const said = isCanonicalJson(text, ev);
    if (said) {
      yes++;
      assert.equal(JSON.stringify(ev), text, text);
    }
  }
  assert.ok(tried > 20000 && yes > 2000, `${tried} ${yes}`);
  // Every JSON.stringify of a flat event is recognised; what it is not, is not.
  const ev = { time: '2026-03-01T00:00:00Z', host: 'h', type: 'dns', answers: ['1.2.3.4'], n: 5, ok: true };
  assert.equal(isCanonicalJson(JSON.stringify(ev), ev), true);
  assert.equal(isCanonicalJson(JSON.stringify(ev, null, 1), ev), false);
  assert.equal(isCanonicalJson('{"a":1,"a":1}', JSON.parse('{"a":1,"a":1}')), false);
  assert.equal(isCanonicalJson('{"b":1,"1":2}', JSON.parse('{"b":1,"1":2}')), false);
  assert.equal(isCanonicalJson('{"f":{"x":1}}', { f: { x: 1 } }), false);
});
