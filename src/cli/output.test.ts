import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Finding } from '../findings/index.ts';
import { writeJsonReport } from './output.ts';

/** What the pieces must add up to: the report as one JSON.stringify. */
const whole = (findings: unknown[], summary: Record<string, unknown>) =>
  `${JSON.stringify({ findings, summary }, null, 2)}\n`;

function written(findings: unknown[], summary: Record<string, unknown>): { text: string; writes: number } {
  const chunks: string[] = [];
  writeJsonReport({ write: (c: string) => chunks.push(c) }, findings as Finding[], summary);
  return { text: chunks.join(''), writes: chunks.length };
}

// Nesting, empty containers, strings with escaped newlines, quotes and characters past ASCII, numbers, nulls,
// and a property left out as undefined: what JSON.stringify indents or escapes.
const finding = (i: number) => ({
  id: `f${i}`,
  rule: 'net.stratum.session',
  confidence: i / 7,
  attack: [{ technique: 'T1496', name: 'Resource Hijacking' }],
  reasons: i % 2 ? [] : ['line one\nline two', 'quote " and \\ and \u00e9\u2192'],
  evidence: [{ kind: 'flow', packets: [i, i + 1], nested: { deeper: { list: [[], {}, [1, [2]]] } } }],
  wallet_valid: null,
  gone: undefined,
});

test('the JSON report in pieces is byte for byte the one JSON.stringify, at every count around a piece', () => {
  const summary = { captures: [{ packets: 5, file: 'a b.pcap' }], empty: {}, none: [], note: 'x\ny' };
  for (const n of [0, 1, 2, 11, 12, 13, 24, 25, 37]) {
    const findings = Array.from({ length: n }, (_, i) => finding(i));
    const { text, writes } = written(findings, summary);
    assert.equal(text, whole(findings, summary), `${n} findings`);
    assert.ok(JSON.parse(text));
    // Pieces, not one string, once there are findings to split.
    if (n > 12) assert.ok(writes > 2, `${n} findings in ${writes} writes`);
  }
  assert.equal(written([], {}).text, whole([], {}));
});
