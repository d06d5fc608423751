import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { reportFormat } from './report.ts';
import { runCli } from './test-helpers/run.ts';

/** Runs `report`/`demo` in-process (the lead wires them into main.ts; this keeps the test independent of it). */
/** The CLI in-process, as a user runs it. */
async function run(argv: string[]): Promise<{ out: string; err: string; code: number }> {
  const r = await runCli(argv);
  return { out: r.stdout, err: r.stderr, code: r.code };
}

let dir: string;
let db: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'minewatch-report-cli-'));
  db = join(dir, 'fleet.db');
  const r = await run(['demo', '--db', db, '--hosts', '300']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /stored [\d,]+ events/);
  assert.match(r.out, /minewatch serve --db/);
  assert.match(r.out, /http:\/\/127\.0\.0\.1:8750\//);
  assert.ok(existsSync(join(dir, 'fleet-prices.csv')));
  assert.ok(existsSync(join(dir, 'fleet-report.html')));
});

after(() => rmSync(dir, { recursive: true, force: true }));

test('report --format json carries the documented keys; exit 1 because mining is found', async () => {
  const r = await run(['report', '--db', db, '--prices', join(dir, 'fleet-prices.csv'), '--format', 'json']);
  assert.equal(r.code, 1, r.err);
  const j = JSON.parse(r.out);
  for (const k of [
    'coins',
    'pools',
    'ports',
    'series',
    'spikes',
    'correlations',
    'infection_types',
    'vectors',
    'campaigns',
  ])
    assert.ok(Array.isArray(j[k]), k);
  assert.deepEqual(Object.keys(j.coins[0]).slice(0, 3), ['coin', 'hosts', 'share']);
  assert.deepEqual(Object.keys(j.pools[0]).slice(0, 3), ['pool', 'hosts', 'share']);
  assert.deepEqual(Object.keys(j.ports[0]).slice(0, 2), ['port', 'flows']);
  assert.ok(j.series.some((s: { name: string }) => s.name === 'price:ETN'));
  assert.ok(j.series.some((s: { name: string }) => s.name === 'new:cpuminer-multi'));
  for (const k of ['series', 'date', 'value', 'baseline', 'score']) assert.ok(k in j.spikes[0], k);
  for (const k of ['a', 'b', 'lag_days', 'r', 'p']) assert.ok(k in j.correlations[0], k);
  for (const k of ['key', 'kind', 'hosts', 'first_seen', 'last_seen']) assert.ok(k in j.campaigns[0], k);
  assert.ok(j.summary.headline);
});

test('report -o file.html infers HTML; md to stdout; ranges', async () => {
  const out = join(dir, 'r.html');
  const r = await run(['report', '--db', db, '-o', out]);
  assert.equal(r.code, 1, r.err);
  assert.match(readFileSync(out, 'utf8'), /^<!doctype html>/);
  const md = await run(['report', '--db', db, '--from', '2018-04-01', '--to', '2018-04-30']);
  assert.match(md.out, /^# minewatch fleet report/);
  assert.match(md.out, /2018-04-01 to 2018-04-30 \(30 days\)/);
  const one = await run([
    'report',
    '--db',
    db,
    '--from',
    '2018-04-15',
    '--to',
    '2018-04-15',
    '--format',
    'json',
  ]);
  assert.equal(JSON.parse(one.out).range.days, 1);
  assert.ok(!one.out.includes('NaN'));
});

test('an empty range and an empty store exit 0 with a sensible report', async () => {
  const r = await run([
    'report',
    '--db',
    db,
    '--from',
    '2030-01-01',
    '--to',
    '2030-01-31',
    '--format',
    'json',
  ]);
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  assert.deepEqual(j.spikes, []);
  assert.equal(j.range.days, 31);
  const empty = await run(['report', '--db', join(dir, 'empty.db'), '--format', 'md']);
  assert.equal(empty.code, 0, empty.err);
  assert.match(empty.out, /No events in the selected range/);
});

test('bad input exits 2 with a message that says what is wrong', async () => {
  const bad = await run(['report', '--db', db, '--from', 'yesterday']);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /--from 'yesterday' is not a date/);
  const rev = await run(['report', '--db', db, '--from', '2018-05-01', '--to', '2018-04-01']);
  assert.equal(rev.code, 2);
  assert.match(rev.err, /after --to/);
  const prices = join(dir, 'bad.csv');
  writeFileSync(prices, 'date,coin,price_usd\nnope,XMR,1\n');
  const p = await run(['report', '--db', db, '--prices', prices]);
  assert.equal(p.code, 2);
  assert.match(p.err, /bad\.csv:2: date 'nope'/);
  assert.match(p.err, /no prices read/);
  const missing = await run(['report', '--db', db, '--prices', join(dir, 'nope.csv')]);
  assert.equal(missing.code, 2);
  assert.match(missing.err, /nope\.csv: no such file/);
  assert.equal((await run(['report', '--db', db, '--format', 'pdf'])).code, 2);
});

test('demo is idempotent: a second load stores nothing new', async () => {
  const r = await run(['demo', '--db', db, '--hosts', '300', '--no-report']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /stored 0 events \([\d,]+ already there\)/);
  assert.equal((await run(['demo', '--db', db, '--hosts', '10'])).code, 2);
});

test('format inference', () => {
  assert.equal(reportFormat({ output: 'x.HTML' }), 'html');
  assert.equal(reportFormat({ output: 'x.json' }), 'json');
  assert.equal(reportFormat({}), 'md');
  assert.equal(reportFormat({ format: 'json', output: 'x.html' }), 'json');
});
