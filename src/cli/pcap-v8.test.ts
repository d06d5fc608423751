/**
 * holdYoungGeneration against V8 itself, each in a process of its own (V8's flags are process-wide): the young
 * generation stops growing at the semi-space size asked for, where V8 alone grows it on. A Node whose V8 renamed
 * the space or stopped reading the growth factor at run time fails here rather than running slower unnoticed.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const MODULE = fileURLToPath(new URL('./pcap-v8.ts', import.meta.url));

/** The young generation's size (bytes) after allocating ~200 MB of which a share survives, held or not. */
function youngAfterAllocation(hold: boolean): number {
  const script = `
    const { holdYoungGeneration } = await import(${JSON.stringify(MODULE)});
    const { getHeapSpaceStatistics } = await import('node:v8');
    if (${hold}) holdYoungGeneration(2 << 20);
    const kept = [];
    for (let round = 0; round < 200; round++) {
      const batch = [];
      for (let i = 0; i < 20000; i++) batch.push({ round, i, s: 'x' + i });
      kept.push(batch.slice(0, 2000));
      // The observer hears of collections between tasks, as the command's reads give it.
      await new Promise((r) => setImmediate(r));
    }
    const ns = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
    process.stdout.write(String(ns.space_size));
  `;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(r.status, 0, r.stderr);
  return Number(r.stdout);
}

test('the young generation is held at the semi-space size asked for, where V8 alone grows it', () => {
  const held = youngAfterAllocation(true);
  const free = youngAfterAllocation(false);
  // Two semi-spaces of 2 MB.
  assert.ok(held > 0 && held <= 4 << 20, `held: ${held} bytes`);
  assert.ok(free > 4 << 20, `V8 alone: ${free} bytes`);
});
