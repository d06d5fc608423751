import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readTelemetry, type TelemetryRecord } from './index.ts';
import { lineBatches } from './lines.ts';

const dir = mkdtempSync(join(tmpdir(), 'minewatch-utf8-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

const line = (host: Buffer | string) =>
  Buffer.concat([
    Buffer.from('{"time":"2026-03-09T10:00:00Z","host":"'),
    Buffer.from(host),
    Buffer.from('","type":"heartbeat"}\n'),
  ]);

test('minewatch import: a line with invalid UTF-8 is refused with its line, never merged by U+FFFD', async () => {
  const f = join(dir, 'events.ndjson');
  writeFileSync(
    f,
    Buffer.concat([
      line('web-01'),
      line(Buffer.from([0x77, 0xff])),
      line(Buffer.from([0x77, 0xfe])),
      line('wéb-02'),
    ]),
  );
  const rs: TelemetryRecord[] = [];
  for await (const r of readTelemetry(f, { format: 'minewatch' })) rs.push(r);
  assert.deepEqual(
    rs.map((r) => (r.error ? [r.line, r.error.reason] : [r.line, r.event!.host])),
    [
      [1, 'web-01'],
      [2, 'not valid UTF-8: skipped'],
      [3, 'not valid UTF-8: skipped'],
      [4, 'wéb-02'],
    ],
  );
});

test('a character split across read chunks is valid, not refused', async () => {
  const all = Buffer.concat([line('wéb-01'), line('😀')]);
  const cut = all.indexOf(Buffer.from('é')) + 1;
  const batches = [];
  for await (const b of lineBatches(
    (async function* () {
      yield all.subarray(0, cut);
      yield all.subarray(cut);
    })(),
  ))
    batches.push(b);
  assert.equal(batches.flatMap((b) => b.invalid ?? []).length, 0);
  assert.match(String(batches.flatMap((b) => b.units)[0]), /wéb-01/);
});
