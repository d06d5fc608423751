import assert from 'node:assert/strict';
import { test } from 'node:test';
import { instantiateCore } from './load.ts';

test('the packet core loads, and each instance has its own memory', () => {
  const a = instantiateCore();
  const b = instantiateCore();
  assert.ok(a.memory instanceof WebAssembly.Memory);
  assert.notEqual(a.memory, b.memory);
  assert.ok(a.packetPtr() > 0);
  assert.equal(a.packetLayout(0), 0);
});
