import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addressesByName, DnsNameMap } from './dns-map.ts';

test('CNAME chain leads back to the queried name', () => {
  const m = addressesByName('pool.example.org', [
    { name: 'pool.example.org', type: 5, data: 'lb.example.net' },
    { name: 'lb.example.net', type: 5, data: 'edge.cdn.net' },
    { name: 'edge.cdn.net', type: 1, data: '192.0.2.7' },
    { name: 'unrelated.net', type: 1, data: '192.0.2.9' },
  ]);
  assert.deepEqual(m.get('192.0.2.7'), ['pool.example.org', 'lb.example.net', 'edge.cdn.net']);
  assert.deepEqual(m.get('192.0.2.9'), ['unrelated.net']);
});

test('a CNAME loop ends', () => {
  const m = addressesByName('a.test', [
    { name: 'a.test', type: 5, data: 'b.test' },
    { name: 'b.test', type: 5, data: 'a.test' },
  ]);
  assert.equal(m.size, 0);
});

test('name map is bounded and keeps the newest', () => {
  const m = new DnsNameMap(3);
  for (let i = 0; i < 5; i++) m.set(`10.0.0.${i}`, `n${i}`);
  assert.equal(m.size, 3);
  assert.equal(m.get('10.0.0.0'), undefined);
  assert.equal(m.get('10.0.0.4'), 'n4');
});
