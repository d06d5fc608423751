/**
 * Shared by both engines for the fleet-response tables (`fleet_state`, `audit_log`): turning stored rows back
 * into records, and the checks that keep a bad record out (so the engines refuse the same things).
 */
import { boundMs } from './row.ts';
import type { AuditEntry, AuditQuery, FleetRecord } from './types.ts';

export function checkFleetRecord(r: FleetRecord): void {
  if (!r.kind || r.kind.length > 64) throw new RangeError('fleet record kind must be 1-64 characters');
  if (!r.id || r.id.length > 512) throw new RangeError('fleet record id must be 1-512 characters');
  if (!Number.isSafeInteger(r.version) || r.version < 0)
    throw new RangeError(`fleet record version must be a non-negative integer, not ${r.version}`);
}

export function checkAudit(e: AuditEntry): number {
  const ts = Date.parse(e.time);
  if (!Number.isFinite(ts)) throw new RangeError(`audit entry ${e.id}: time '${e.time}' is not ISO 8601`);
  if (!e.id || !e.action) throw new RangeError('audit entry needs an id and an action');
  return ts;
}

export function fleetRecordRow(r: Record<string, unknown>): FleetRecord | null {
  if (r.data == null || r.data === '') return null;
  const data = JSON.parse(String(r.data)) as Record<string, unknown> | null;
  if (data === null) return null;
  return { kind: String(r.kind), id: String(r.id), version: Number(r.version), data };
}

export function auditRow(r: Record<string, unknown>): AuditEntry {
  return {
    id: String(r.id),
    time: new Date(Number(r.ts)).toISOString(),
    actor: String(r.actor),
    action: String(r.action),
    host: String(r.host),
    subject: String(r.subject),
    detail: JSON.parse(String(r.detail)) as Record<string, unknown>,
  };
}

export function auditBounds(q: AuditQuery): { from?: number; to?: number; limit: number } {
  const from = boundMs(q.from, 'from');
  const to = boundMs(q.to, 'to');
  const limit = Math.min(Math.max(1, Math.floor(q.limit ?? 1000)), 100_000);
  return { ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}), limit };
}
