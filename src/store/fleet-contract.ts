/**
 * The fleet-response part of the Store contract (decision/approval state and the audit log), run against
 * both engines by fleet-contract.test.ts, so DuckDB and ClickHouse keep and answer the same.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AuditEntry, Store } from './types.ts';

export function fleetStoreContract(
  name: string,
  open: () => Promise<Store>,
  reopen: (s: Store) => Promise<Store>,
  skip?: string,
): void {
  const t = (title: string, fn: () => Promise<void>) =>
    test(`${name}: ${title}`, { skip: skip ?? false }, fn);

  t('fleet records: the newest version of each id wins, null deletes, kinds stay apart', async () => {
    let s = await open();
    try {
      await s.putFleetRecords([
        { kind: 'decision', id: 'ip:198.51.100.7', version: 1, data: { value: '198.51.100.7', added: 1 } },
        { kind: 'decision', id: 'ip:198.51.100.8', version: 2, data: { value: '198.51.100.8', added: 2 } },
        { kind: 'approval', id: 'a1', version: 1, data: { host: 'web-01', state: 'pending' } },
      ]);
      await s.putFleetRecords([
        { kind: 'decision', id: 'ip:198.51.100.7', version: 3, data: { value: '198.51.100.7', removed: 3 } },
      ]);
      // An older write arriving late never replaces a newer one.
      await s.putFleetRecords([
        { kind: 'decision', id: 'ip:198.51.100.7', version: 2, data: { value: 'stale' } },
      ]);
      await s.putFleetRecords([{ kind: 'approval', id: 'a1', version: 2, data: null }]);
      s = await reopen(s);
      const d = await s.fleetRecords('decision');
      assert.deepEqual(
        d.map((r) => [r.id, r.version, r.data]),
        [
          ['ip:198.51.100.7', 3, { value: '198.51.100.7', removed: 3 }],
          ['ip:198.51.100.8', 2, { value: '198.51.100.8', added: 2 }],
        ],
      );
      assert.deepEqual(await s.fleetRecords('approval'), []);
      assert.deepEqual(
        (await s.fleetRecords('decision', { id: "ip:198.51.100.8' OR '1'='1" })).length,
        0,
        'an id is data, never query text',
      );
      assert.equal((await s.fleetRecords('decision', { id: 'ip:198.51.100.8' }))[0]?.version, 2);
      await assert.rejects(s.putFleetRecords([{ kind: '', id: 'x', version: 1, data: {} }]), RangeError);
    } finally {
      await s.close();
    }
  });

  t('audit log: append, filter by host, action and time, newest first, kept across reopen', async () => {
    let s = await open();
    try {
      const e = (id: string, time: string, action: string, host: string): AuditEntry => ({
        id,
        time,
        actor: 'ops-alice',
        action,
        host,
        subject: `sub-${id}`,
        detail: { note: "quote ' back\\slash\ttab\nline", n: 1 },
      });
      await s.appendAudit([
        e('e1', '2026-03-01T10:00:00.000Z', 'approve', 'web-01'),
        e('e2', '2026-03-01T11:00:00.000Z', 'result', 'web-01'),
      ]);
      await s.appendAudit([e('e3', '2026-03-02T09:00:00.000Z', 'exception-add', '')]);
      // A retried append of the same entry is one line.
      await s.appendAudit([e('e1', '2026-03-01T10:00:00.000Z', 'approve', 'web-01')]);
      s = await reopen(s);
      assert.deepEqual(
        (await s.audit()).map((a) => a.id),
        ['e3', 'e2', 'e1'],
      );
      const one = (await s.audit({ action: 'approve' }))[0]!;
      assert.deepEqual(one, e('e1', '2026-03-01T10:00:00.000Z', 'approve', 'web-01'));
      assert.deepEqual(
        (await s.audit({ host: 'web-01', from: '2026-03-01T10:30:00Z' })).map((a) => a.id),
        ['e2'],
      );
      assert.deepEqual(
        (await s.audit({ to: '2026-03-01T11:00:00Z' })).map((a) => a.id),
        ['e1'],
      );
      assert.equal((await s.audit({ limit: 1 })).length, 1);
      await assert.rejects(s.appendAudit([{ ...e('bad', 'yesterday', 'x', 'h') }]), RangeError);
    } finally {
      await s.close();
    }
  });
}
