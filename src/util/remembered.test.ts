import assert from 'node:assert/strict';
import { test } from 'node:test';
import { remembered } from './remembered.ts';

test('answers once per key, forgets everything past the bound, keys by the given function', () => {
  let calls = 0;
  const square = remembered((n: number) => {
    calls++;
    return n * n;
  }, 3);
  assert.equal(square(2), 4);
  assert.equal(square(2), 4);
  assert.equal(calls, 1);
  square(3);
  square(4);
  square(5); // a fourth key: the first three are forgotten
  assert.equal(calls, 4);
  square(2);
  assert.equal(calls, 5);
  const join = remembered<[a: string, b?: string], string, string>(
    (a: string, b?: string) => {
      calls++;
      return `${a}/${b ?? '-'}`;
    },
    10,
    (a, b) => `${b === undefined ? 'u' : 'p'}${a.length}:${a}${b ?? ''}`,
  );
  assert.equal(join('a', 'b'), 'a/b');
  assert.equal(join('ab'), 'ab/-');
  assert.equal(join('a', 'b'), 'a/b');
  assert.equal(calls, 7);
});
