import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, test } from 'node:test';
import { createClient } from '@clickhouse/client';
import { parseClickHouseUrl } from './clickhouse.ts';
import { chIdent, chInt, chString, chStringList, tsvField, tsvUnescape } from './sql.ts';
import { testClickHouse } from './testkit.ts';

/** Inputs that break naive quoting: quote games, backslash tricks, comments, control bytes, unicode. */
const NASTY = [
  '',
  "'",
  "\\'",
  "x' OR '1'='1",
  "a\\' OR 1=1 --",
  'trailing backslash\\',
  '\\\\',
  "'; DROP TABLE t; --",
  '/* comment */ 1',
  '\u0000nul',
  'tab\tnew\nline\rcr',
  '\u007fdel\u001fus',
  '{p:String}',
  '$1 ? :name',
  'ünïcödé € 漢字 🙂',
  '\\x27 OR 1=1',
];

test('chString quotes and escapes so the literal is one token', () => {
  assert.equal(chString("a'b"), "'a\\'b'");
  assert.equal(chString('a\\b'), "'a\\\\b'");
  assert.equal(chString('a\nb\u0000'), "'a\\x0ab\\x00'");
  for (const s of NASTY) {
    const lit = chString(s);
    // Outside the escapes, no bare quote can end the literal early.
    const inner = lit.slice(1, -1).replace(/\\./g, '');
    assert.ok(!inner.includes("'"), `unescaped quote in ${lit}`);
    assert.ok(!/[\u0000-\u001f]/.test(lit), `control character left in ${JSON.stringify(lit)}`);
  }
});

test('chInt refuses anything but a safe integer', () => {
  assert.equal(chInt(42), '42');
  assert.equal(chInt(-7), '-7');
  for (const bad of [Number.NaN, 1.5, Number.POSITIVE_INFINITY, 2 ** 60, '1 OR 1=1' as unknown as number])
    assert.throws(() => chInt(bad), TypeError);
});

test('chStringList and chIdent', () => {
  assert.equal(chStringList([]), "('')");
  assert.equal(chStringList(['a', "b'"]), "('a', 'b\\'')");
  assert.equal(chIdent('mw_test_1'), 'mw_test_1');
  for (const bad of ['a-b', '1x', 'a;DROP', 'a b', '', 'x'.repeat(64)])
    assert.throws(() => chIdent(bad), TypeError);
});

test('tsvField escapes what TabSeparated reads specially', () => {
  assert.equal(tsvField('plain'), 'plain');
  assert.equal(tsvField('a\tb\nc\\d\re\u0000'), 'a\\tb\\nc\\\\d\\re\\0');
});

test('tsvUnescape undoes what TabSeparated output escapes, and tsvField', () => {
  assert.equal(tsvUnescape('plain'), 'plain');
  assert.equal(tsvUnescape("a\\tb\\nc\\\\d\\re\\0\\'\\b\\f"), "a\tb\nc\\d\re\u0000'\b\f");
  for (const s of ['x\ty', 'back\\slash\\', '\n\r\u0000', 'h\u00e9te', '\\\\t'])
    assert.equal(tsvUnescape(tsvField(s)), s);
});

test('parseClickHouseUrl', () => {
  assert.deepEqual(parseClickHouseUrl('clickhouse://u:p%40ss@ch.local:9999/mw'), {
    url: 'http://ch.local:9999',
    database: 'mw',
    username: 'u',
    password: 'p@ss',
    display: 'clickhouse://ch.local:9999/mw',
  });
  assert.equal(parseClickHouseUrl('clickhouse://h?secure=1').url, 'https://h:8443');
  assert.equal(parseClickHouseUrl('clickhouse://h').database, 'default');
  assert.throws(() => parseClickHouseUrl('clickhouse://h/bad-name'));
  assert.throws(() => parseClickHouseUrl('http://h'));
});

const ch = await testClickHouse();
after(() => ch.stop());

test('on a real ClickHouse: every nasty literal round-trips and injects nothing', {
  skip: ch.skip ?? false,
}, async () => {
  const t = parseClickHouseUrl(ch.url!);
  const client = createClient({ url: t.url, username: t.username, password: t.password });
  const db = `mw_sql_${process.pid}`;
  try {
    await client.command({ query: `CREATE DATABASE IF NOT EXISTS ${chIdent(db)}` });
    await client.command({ query: `CREATE TABLE ${db}.t (k String, v UInt8) ENGINE = MergeTree ORDER BY k` });
    await client.insert({
      table: `${db}.t`,
      values: Readable.from([Buffer.from(NASTY.map((s, i) => `${tsvField(s)}\t${i % 2}\n`).join(''))], {
        objectMode: false,
      }),
      format: 'TabSeparated',
    });
    for (const s of NASTY) {
      const r = await client.query({ query: `SELECT ${chString(s)} AS v`, format: 'JSONEachRow' });
      assert.deepEqual(await r.json(), [{ v: s }], `literal ${JSON.stringify(s)}`);
      // As a filter it matches exactly the one stored row with that value: nothing widens the WHERE.
      const q = await client.query({
        query: `SELECT count() AS n FROM ${db}.t WHERE k = ${chString(s)}`,
        format: 'JSONEachRow',
      });
      assert.deepEqual(await q.json(), [{ n: '1' }], `filter ${JSON.stringify(s)}`);
    }
    const all = await client.query({ query: `SELECT k FROM ${db}.t ORDER BY k`, format: 'JSONEachRow' });
    assert.deepEqual(
      ((await all.json()) as { k: string }[]).map((r) => r.k),
      [...NASTY].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))),
    );
    const list = await client.query({
      query: `SELECT count() AS n FROM ${db}.t WHERE k IN ${chStringList(NASTY)}`,
      format: 'JSONEachRow',
    });
    assert.deepEqual(await list.json(), [{ n: String(NASTY.length) }]);
    const none = await client.query({
      query: `SELECT count() AS n FROM ${db}.t WHERE k = ${chString("nothing' OR '1'='1")}`,
      format: 'JSONEachRow',
    });
    assert.deepEqual(await none.json(), [{ n: '0' }]);
  } finally {
    await client.command({ query: `DROP DATABASE IF EXISTS ${chIdent(db)}` });
    await client.close();
  }
});
