/**
 * The fleet-response state behind the API and the dashboard: the versioned block decisions, the admin's
 * exceptions, each host's reported cleanup plan, approvals and their outcomes, and the audit log. It keeps
 * the decision book in memory (one server process writes the store) and persists every change before it
 * answers. One service per store (`fleetServiceFor`), so the API and the dashboard share the book.
 *
 * Safety decisions, enforced here and again on the agent:
 * - An approval carries only step hashes and their descriptions for people, never a command or a path to
 *   act on; a restore carries a journal id the host itself reported.
 * - An approval is for one host; an agent sees and answers only its own host's approvals.
 * - Approvals expire (24 h unless the admin says otherwise, at most 7 days).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { loadIntel } from '../intel/index.ts';
import { selectBlocklist } from '../respond/blocklist/select.ts';
import { type Approval, type ApprovalResult, JOURNAL_ID_RE } from '../respond/fleet/approval.ts';
import {
  type Decision,
  DecisionBook,
  desiredDecisions,
  type Exception,
  exceptionValue,
  type StreamAnswer,
} from '../respond/fleet/decisions.ts';
import type { PlanReport, StepOutcome } from '../respond/fleet/steps.ts';

export type { Approval, ApprovalResult, ApprovalState, ApprovedStep } from '../respond/fleet/approval.ts';
export { JOURNAL_ID_RE } from '../respond/fleet/approval.ts';

import type { AuditEntry, Store } from '../store/types.ts';

export const DEFAULT_APPROVAL_TTL_MS = 24 * 3600_000;
export const MAX_APPROVAL_TTL_MS = 7 * 24 * 3600_000;
export class FleetError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

export interface FleetServiceOptions {
  /** Block the active intel pools too (default true). */
  intel?: boolean;
  /** Findings older than this do not make decisions (default 30 days). */
  findingWindowMs?: number;
  /** Decisions are recomputed at most this often (ms, default 10 s); 0 = on every stream request. */
  refreshMs?: number;
  now?: () => number;
}

const services = new WeakMap<Store, FleetService>();

/** The one service of a store (created with the first caller's options). */
export function fleetServiceFor(store: Store, opts: FleetServiceOptions = {}): FleetService {
  let s = services.get(store);
  if (!s) {
    s = new FleetService(store, opts);
    services.set(store, s);
  }
  return s;
}

function bad(msg: string): never {
  throw new FleetError(400, msg);
}

export class FleetService {
  private book: DecisionBook | undefined;
  private loading: Promise<DecisionBook> | undefined;
  private lastRefresh = -Infinity;
  private refreshing: Promise<void> | undefined;
  private intelSel: ReturnType<typeof selectBlocklist> | null | undefined;
  private lastVersion = 0;
  readonly now: () => number;

  constructor(
    private readonly store: Store,
    private readonly opts: FleetServiceOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
  }

  /**
   * Record versions for everything but decisions: epoch ms, strictly increasing in this process, so two writes
   * of one record within a millisecond still order (ClickHouse folds by the highest version).
   */
  private version(): number {
    this.lastVersion = Math.max(this.now(), this.lastVersion + 1);
    return this.lastVersion;
  }

  // ---------- audit ----------

  async audit(
    actor: string,
    action: string,
    host: string,
    subject: string,
    detail: Record<string, unknown>,
  ): Promise<AuditEntry> {
    const e: AuditEntry = {
      id: randomUUID(),
      time: new Date(this.now()).toISOString(),
      actor,
      action,
      host,
      subject,
      detail,
    };
    await this.store.appendAudit([e]);
    return e;
  }

  // ---------- decisions ----------

  private async loadBook(): Promise<DecisionBook> {
    if (this.book) return this.book;
    this.loading ??= (async () => {
      const recs = await this.store.fleetRecords('decision');
      const meta = (await this.store.fleetRecords('fleet-meta', { id: 'decisions' }))[0]?.data ?? {};
      this.book = new DecisionBook(
        recs.map((r) => r.data as unknown as Decision),
        meta as { version?: number; floor?: number },
      );
      return this.book;
    })();
    return this.loading;
  }

  private intel(): ReturnType<typeof selectBlocklist> | null {
    if (this.intelSel === undefined)
      this.intelSel = this.opts.intel === false ? null : selectBlocklist(loadIntel({ userDir: null }));
    return this.intelSel;
  }

  async exceptions(): Promise<Exception[]> {
    return (await this.store.fleetRecords('exception')).map((r) => r.data as unknown as Exception);
  }

  /** Recomputes the decisions from intel, findings and exceptions; persists what changed. */
  async refresh(force = false): Promise<void> {
    const gap = this.opts.refreshMs ?? 10_000;
    if (!force && this.now() - this.lastRefresh < gap) return;
    // One refresh at a time: the book's version moves under one writer.
    while (this.refreshing) await this.refreshing;
    if (!force && this.now() - this.lastRefresh < gap) return;
    this.refreshing = (async () => {
      const book = await this.loadBook();
      const from = this.now() - (this.opts.findingWindowMs ?? 30 * 86_400_000);
      const stored = await this.store.findings({ from, limit: 100_000 });
      const withPool = stored.filter((f) => f.finding.pool && typeof f.finding.pool === 'object');
      const wanted = desiredDecisions(
        this.intel(),
        withPool.map((f) => ({ host: f.host, time: f.time, finding: f.finding })),
        await this.exceptions(),
      );
      const changed = book.update(wanted);
      if (changed.length)
        await this.store.putFleetRecords([
          ...changed.map((d) => ({
            kind: 'decision',
            id: `${d.type}:${d.value}`,
            version: book.version,
            data: d as unknown as Record<string, unknown>,
          })),
          {
            kind: 'fleet-meta',
            id: 'decisions',
            version: book.version,
            data: { version: book.version, floor: book.floor },
          },
        ]);
      this.lastRefresh = this.now();
    })();
    try {
      await this.refreshing;
    } finally {
      this.refreshing = undefined;
    }
  }

  async stream(since?: number): Promise<StreamAnswer> {
    await this.refresh();
    return (await this.loadBook()).stream(since);
  }

  async decisions(): Promise<{ version: number; decisions: Decision[] }> {
    await this.refresh();
    const b = await this.loadBook();
    return { version: b.version, decisions: b.active() };
  }

  async addException(actor: string, value: string, reason: string): Promise<Exception> {
    const v = exceptionValue(value);
    if (!v) bad(`exception '${value.slice(0, 100)}' is neither an IP address nor a domain name`);
    const e: Exception = {
      value: v,
      reason: reason.slice(0, 500),
      by: actor,
      time: new Date(this.now()).toISOString(),
    };
    await this.store.putFleetRecords([
      { kind: 'exception', id: v, version: this.version(), data: e as unknown as Record<string, unknown> },
    ]);
    await this.audit(actor, 'exception-add', '', v, { reason: e.reason });
    await this.refresh(true);
    return e;
  }

  async removeException(actor: string, value: string): Promise<boolean> {
    const v = exceptionValue(value) ?? value;
    const had = await this.store.fleetRecords('exception', { id: v });
    if (!had.length) return false;
    await this.store.putFleetRecords([{ kind: 'exception', id: v, version: this.version(), data: null }]);
    await this.audit(actor, 'exception-remove', '', v, {});
    await this.refresh(true);
    return true;
  }

  // ---------- plans reported by agents ----------

  async putPlan(host: string, report: PlanReport): Promise<void> {
    await this.store.putFleetRecords([
      { kind: 'plan', id: host, version: this.version(), data: report as unknown as Record<string, unknown> },
    ]);
  }

  async plan(host: string): Promise<PlanReport | null> {
    const r = (await this.store.fleetRecords('plan', { id: host }))[0];
    return r ? (r.data as unknown as PlanReport) : null;
  }

  // ---------- approvals ----------

  private async save(a: Approval): Promise<void> {
    await this.store.putFleetRecords([
      { kind: 'approval', id: a.id, version: this.version(), data: a as unknown as Record<string, unknown> },
    ]);
  }

  /** Approvals, newest first; pending ones past their expiry are marked expired (and audited) on the way. */
  async approvals(host?: string): Promise<Approval[]> {
    const all = (await this.store.fleetRecords('approval'))
      .map((r) => r.data as unknown as Approval)
      .filter((a) => host === undefined || a.host === host);
    const now = this.now();
    for (const a of all)
      if (a.state === 'pending' && Date.parse(a.expires) <= now) {
        a.state = 'expired';
        await this.save(a);
        await this.audit('server', 'expire', a.host, a.id, { kind: a.kind, expires: a.expires });
      }
    return all.sort((x, y) => (x.created < y.created ? 1 : x.created > y.created ? -1 : 0));
  }

  async approve(
    actor: string,
    host: string,
    req: { kind?: unknown; steps?: unknown; journal?: unknown; ttl_s?: unknown },
  ): Promise<Approval> {
    const kind = req.kind === undefined ? 'clean' : req.kind;
    if (kind !== 'clean' && kind !== 'restore') bad("kind must be 'clean' or 'restore'");
    let ttl = DEFAULT_APPROVAL_TTL_MS;
    if (req.ttl_s !== undefined) {
      if (typeof req.ttl_s !== 'number' || !(req.ttl_s > 0))
        bad('ttl_s must be a positive number of seconds');
      ttl = Math.min(req.ttl_s * 1000, MAX_APPROVAL_TTL_MS);
    }
    const now = this.now();
    const a: Approval = {
      id: `ap-${new Date(now).toISOString().replace(/[-:.]/g, '').slice(0, 15)}-${randomBytes(4).toString('hex')}`,
      host,
      kind,
      state: 'pending',
      by: actor,
      created: new Date(now).toISOString(),
      expires: new Date(now + ttl).toISOString(),
    };
    if (kind === 'clean') {
      const plan = await this.plan(host);
      if (!plan)
        throw new FleetError(
          409,
          `${host} has reported no cleanup plan: its agent must run with --allow-remote-clean`,
        );
      const runnable = plan.steps.filter((s) => !s.skip);
      let chosen = runnable;
      if (req.steps !== undefined) {
        if (!Array.isArray(req.steps) || !req.steps.every((h) => typeof h === 'string'))
          bad('steps must be a list of step hashes');
        const want = new Set(req.steps as string[]);
        chosen = runnable.filter((s) => want.has(s.hash));
        const unknown = [...want].filter((h) => !runnable.some((s) => s.hash === h));
        if (unknown.length)
          throw new FleetError(409, `not in ${host}'s current plan: ${unknown.slice(0, 5).join(', ')}`);
      }
      if (!chosen.length) throw new FleetError(409, `${host}'s current plan has no step to approve`);
      a.steps = chosen.map((s) => ({
        hash: s.hash,
        kind: s.kind,
        ...(s.path ? { path: s.path } : {}),
        ...(s.pid !== undefined ? { pid: s.pid } : {}),
        ...(s.lines ? { lines: s.lines } : {}),
        reason: s.reason,
      }));
      a.plan_time = plan.time;
    } else {
      if (typeof req.journal !== 'string' || !JOURNAL_ID_RE.test(req.journal))
        bad('restore needs the journal id a cleanup of this host reported');
      const past = await this.approvals(host);
      const cleaned = past.some((p) => p.kind === 'clean' && p.result?.journal === req.journal);
      if (!cleaned) throw new FleetError(409, `${host} reported no cleanup with journal ${req.journal}`);
      a.journal = req.journal;
    }
    await this.save(a);
    await this.audit(actor, kind === 'clean' ? 'approve' : 'restore-request', host, a.id, {
      expires: a.expires,
      ...(a.steps
        ? { steps: a.steps.map((s) => ({ hash: s.hash, kind: s.kind, path: s.path ?? null })) }
        : {}),
      ...(a.journal ? { journal: a.journal } : {}),
    });
    return a;
  }

  async cancel(actor: string, id: string): Promise<Approval> {
    const a = (await this.approvals()).find((x) => x.id === id);
    if (!a) throw new FleetError(404, `no approval ${id}`);
    if (a.state !== 'pending') throw new FleetError(409, `approval ${id} is ${a.state}, not pending`);
    a.state = 'cancelled';
    a.cancelled_by = actor;
    await this.save(a);
    await this.audit(actor, 'cancel', a.host, a.id, { kind: a.kind });
    return a;
  }

  /** What an agent may act on: its own host's pending, unexpired approvals. */
  async pendingFor(host: string): Promise<Approval[]> {
    return (await this.approvals(host)).filter((a) => a.state === 'pending').reverse();
  }

  async result(agentHost: string, id: string, body: unknown): Promise<Approval> {
    const a = (await this.approvals()).find((x) => x.id === id);
    if (!a || a.host !== agentHost) {
      // Another host's approval id: refused and audited, and the answer does not say whether it exists.
      await this.audit(agentHost, 'refused', agentHost, id, {
        why: 'result for an approval of another host',
      });
      throw new FleetError(404, `no approval ${id} for ${agentHost}`);
    }
    if (a.state !== 'pending' && a.state !== 'expired')
      throw new FleetError(409, `approval ${id} is ${a.state}; its result is in already`);
    const r = parseResult(body, this.now());
    a.result = r;
    a.state = r.status;
    await this.save(a);
    await this.audit(agentHost, 'result', a.host, a.id, {
      kind: a.kind,
      status: r.status,
      ...(r.journal ? { journal: r.journal } : {}),
      ...(r.verdict ? { verdict: r.verdict } : {}),
      ...(r.error ? { error: r.error } : {}),
      steps: r.steps,
    });
    return a;
  }
}

const RESULT_STATUSES = new Set(['complete', 'partial', 'failed', 'skipped', 'refused']);
const STEP_STATUSES = new Set(['done', 'already', 'skipped', 'failed', 'not-run', 'missing']);

function parseResult(body: unknown, now: number): ApprovalResult {
  if (!body || typeof body !== 'object' || Array.isArray(body)) bad('result must be a JSON object');
  const b = body as Record<string, unknown>;
  if (typeof b.status !== 'string' || !RESULT_STATUSES.has(b.status))
    bad(`status must be one of ${[...RESULT_STATUSES].join(', ')}`);
  if (b.journal !== undefined && (typeof b.journal !== 'string' || !JOURNAL_ID_RE.test(b.journal)))
    bad('journal must be a journal id');
  const steps = Array.isArray(b.steps) ? b.steps : [];
  if (steps.length > 1000) bad('more than 1000 step results');
  return {
    time: new Date(now).toISOString(),
    status: b.status as ApprovalResult['status'],
    ...(typeof b.journal === 'string' ? { journal: b.journal } : {}),
    steps: steps.map((s) => {
      const x = (s ?? {}) as Record<string, unknown>;
      if (typeof x.hash !== 'string' || !/^[0-9a-f]{64}$/.test(x.hash))
        bad('each step result needs its hash');
      if (typeof x.status !== 'string' || !STEP_STATUSES.has(x.status))
        bad(`bad step status ${String(x.status)}`);
      return {
        hash: x.hash,
        status: x.status as StepOutcome,
        ...(typeof x.detail === 'string' ? { detail: x.detail.slice(0, 500) } : {}),
      };
    }),
    ...(typeof b.verdict === 'string' ? { verdict: b.verdict.slice(0, 64) } : {}),
    ...(typeof b.error === 'string' ? { error: b.error.slice(0, 1000) } : {}),
  };
}

/** Pure: a reported plan, checked and bounded (the agent's word on its own host; shown, never executed). */
export function parsePlanReport(body: unknown, host: string): PlanReport {
  if (!body || typeof body !== 'object' || Array.isArray(body)) bad('plan must be a JSON object');
  const b = body as Record<string, unknown>;
  if (b.host !== host) throw new FleetError(403, `this token reports for ${host}, not ${String(b.host)}`);
  if (!Array.isArray(b.steps) || b.steps.length > 1000) bad('steps must be a list of at most 1000');
  const str = (v: unknown, max: number) => (typeof v === 'string' ? v.slice(0, max) : undefined);
  return {
    host,
    time: str(b.time, 64) ?? new Date().toISOString(),
    verdict: str(b.verdict, 64) ?? 'unknown',
    steps: b.steps.map((s) => {
      const x = (s ?? {}) as Record<string, unknown>;
      if (typeof x.hash !== 'string' || !/^[0-9a-f]{64}$/.test(x.hash)) bad('each step needs a sha256 hash');
      if (typeof x.kind !== 'string') bad('each step needs a kind');
      return {
        hash: x.hash,
        kind: x.kind.slice(0, 32) as PlanReport['steps'][number]['kind'],
        ...(str(x.path, 4096) ? { path: str(x.path, 4096)! } : {}),
        ...(typeof x.pid === 'number' && Number.isSafeInteger(x.pid) ? { pid: x.pid } : {}),
        ...(Array.isArray(x.lines)
          ? { lines: x.lines.filter((n) => Number.isSafeInteger(n)).slice(0, 1000) as number[] }
          : {}),
        reason: str(x.reason, 500) ?? '',
        rules: Array.isArray(x.rules) ? x.rules.filter((r) => typeof r === 'string').slice(0, 20) : [],
        ...(str(x.skip, 500) ? { skip: str(x.skip, 500)! } : {}),
      };
    }),
    notes: Array.isArray(b.notes) ? b.notes.filter((n) => typeof n === 'string').slice(0, 50) : [],
  };
}
