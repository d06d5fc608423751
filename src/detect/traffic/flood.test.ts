/**
 * The flow table under floods, end to end: a SYN flood and a flood of short connections around mining
 * sessions end with the flood's flows evicted and counted, and the mining findings exactly as without the
 * flood. Scaled down (tens of thousands of flows, a shrunken table); the 1M-flow runs with their peak RSS
 * are in bench/flood.ts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { Finding } from '../../findings/index.ts';
import { loadIntel } from '../../intel/index.ts';
import { analyseCapture } from './capture.ts';
import { writeFloodCapture } from './test-helpers/flood.ts';
import { floodScenario, miningFacts, sameMiningFindings } from './test-helpers/flood-scenario.ts';

const intel = loadIntel({ userDir: null });
const dir = mkdtempSync(join(tmpdir(), 'mw-flood-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const table = { maxFlows: 2000, maxKeptFlows: 64 };
const facts = (fs: Finding[]) => fs.map(miningFacts);

test('baseline: the mining sessions alone', async () => {
  const path = join(dir, 'quiet.pcap');
  writeFloodCapture(path, { kind: 'syn', count: 0, t0: 1_700_000_000, durationSec: 900 }, floodScenario());
  const r = await analyseCapture(path, { intel, flowTable: table });
  assert.deepEqual(r.findings.map((f) => f.rule).sort(), [
    'net.stratum.session',
    'net.stratum.session',
    'net.tls.stratum-no-sni',
  ]);
  assert.equal(r.summary.flow_table.evicted, 0);
});

for (const kind of ['syn', 'short', 'open'] as const) {
  test(`${kind} flood: evictions counted, mining findings unchanged`, async () => {
    const quiet = join(dir, 'quiet.pcap');
    writeFloodCapture(quiet, { kind: 'syn', count: 0, t0: 1_700_000_000, durationSec: 900 }, floodScenario());
    const base = await analyseCapture(quiet, { intel, flowTable: table });
    const path = join(dir, `${kind}.pcap`);
    const count = 60_000;
    // Spread over the sessions' 15 minutes: the 2,000 places are taken every 30 s (closed flows linger 60 s),
    // so every mining session sees the table fill and turn over between two of its packets. Only the open
    // flood reaches flows that carry data: what keeps the mining flows then is their `keep` mark.
    writeFloodCapture(path, { kind, count, t0: 1_700_000_000, durationSec: 900 }, floodScenario());
    const r = await analyseCapture(path, { intel, flowTable: table });
    assert.ok(r.summary.flows >= count, `flows ${r.summary.flows}`);
    assert.ok(r.summary.flow_table.evicted > 0, JSON.stringify(r.summary.flow_table));
    assert.ok(r.summary.flow_table.peak_flows <= table.maxFlows + table.maxKeptFlows);
    assert.equal(r.summary.flow_table.evicted_by_class.kept, 0);
    if (!sameMiningFindings(r.findings, base.findings))
      assert.deepEqual(facts(r.findings), facts(base.findings)); // shows the difference
  });
}
