import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MinewatchEvent } from '../findings/index.ts';
import { groupRows } from './group.ts';
import { boundMs, contentId, parseBatch, toRow, validateEvent } from './row.ts';

const ok = { time: '2026-03-01T00:00:00Z', host: 'h', type: 'heartbeat' };

test('validateEvent names what is wrong', () => {
  assert.equal(validateEvent(ok), null);
  assert.match(validateEvent([]) ?? '', /object/);
  assert.match(validateEvent({ ...ok, type: 'nope' }) ?? '', /type must be/);
  assert.match(validateEvent({ ...ok, host: '' }) ?? '', /host/);
  assert.match(validateEvent({ ...ok, host: 'a\nb' }) ?? '', /control/);
  assert.match(validateEvent({ ...ok, time: 'soon' }) ?? '', /not a valid date/);
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
    { events: [e('1'), e('1'), e('2')], source: 'a' },
    { events: [e('2'), e('2', 'other')], source: 'b' },
  ]);
  assert.deepEqual(g.req, [0, 0, 1]);
  assert.deepEqual(g.innerDuplicates, [1, 1]);
});

test('boundMs accepts ISO and epoch ms, refuses garbage', () => {
  assert.equal(boundMs('2026-03-01', 'from'), Date.UTC(2026, 2, 1));
  assert.equal(boundMs('1700000000000', 'from'), 1_700_000_000_000);
  assert.equal(boundMs(undefined, 'from'), undefined);
  assert.throws(() => boundMs('nope', 'from'), RangeError);
});
