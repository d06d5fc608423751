/**
 * `agent --allow-remote-clean`: report this host's own cleanup plan (step hashes and descriptions) to the
 * server, fetch the approvals for this host, and carry out only what was approved AND what a fresh scan
 * still plans, step by step hash, under a journal exactly as `clean --apply` writes it (stopping at the
 * first failed step, so the journal is restorable); then scan again and report the journal id, each step's
 * outcome and the new verdict. A restore approval names a journal this agent wrote; it is restored as
 * `minewatch restore` does.
 *
 * The server is not trusted to say what to do: it sends hashes, not commands or paths. An approval for
 * another host, an expired one, or a journal id that is not one of this root's journals is refused and
 * reported; an approved step the fresh plan no longer holds is skipped and reported ('missing').
 */
import { existsSync, lstatSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { applyPlan } from '../respond/cleanup/apply.ts';
import { e2fsAttrs } from '../respond/cleanup/attrs.ts';
import { sha256File } from '../respond/cleanup/fsutil.ts';
import { planCleanup, rootPlanIO } from '../respond/cleanup/plan.ts';
import type { ProcessControl } from '../respond/cleanup/procs.ts';
import { restoreJournal } from '../respond/cleanup/restore.ts';
import type { CleanupPlan } from '../respond/cleanup/types.ts';
import { type Approval, type ApprovalResult, JOURNAL_ID_RE } from '../respond/fleet/approval.ts';
import { type ContentOf, matchApproved, type StepOutcome, summarizePlan } from '../respond/fleet/steps.ts';

export interface FreshPlan {
  plan: CleanupPlan;
  verdict: string;
}

export type PlanFn = (root: string) => Promise<FreshPlan>;

export interface RemoteCleanOptions {
  server: string;
  token: string;
  root: string;
  journalDir: string;
  quarantineDir: string;
  /** Where handled approval ids are remembered (never run twice, even after a restart). */
  stateFile: string;
  /** Scan + plan; default the host scan and `planCleanup`, as `clean` does. */
  plan?: PlanFn;
  /** Process control (tests: a fixture root's fake processes); default as `clean --apply`. */
  control?: ProcessControl;
  fetch?: typeof fetch;
  log?: (m: string) => void;
  now?: () => number;
  requestTimeoutMs?: number;
}

async function defaultPlan(root: string, control?: ProcessControl): Promise<FreshPlan> {
  const { scanHost } = await import('../detect/host/index.ts');
  const scan = await scanHost({ root, live: root === '/' });
  const live = root === '/' || control !== undefined;
  return {
    plan: planCleanup(scan, { root, live }, rootPlanIO(root, e2fsAttrs)),
    verdict: scan.verdict.status,
  };
}

type Result = Omit<ApprovalResult, 'time'>;

export class RemoteCleaner {
  private readonly fetch: typeof fetch;
  private readonly now: () => number;
  private handled: Record<string, Result>;
  private posted: Record<string, true>;

  constructor(private readonly opts: RemoteCleanOptions) {
    this.fetch = opts.fetch ?? fetch;
    this.now = opts.now ?? Date.now;
    let doc: { handled?: Record<string, Result>; posted?: Record<string, true> } = {};
    try {
      doc = JSON.parse(readFileSync(opts.stateFile, 'utf8')) as typeof doc;
    } catch {
      doc = {};
    }
    this.handled = doc.handled ?? {};
    this.posted = doc.posted ?? {};
  }

  private persist(): void {
    writeFileSync(this.opts.stateFile, JSON.stringify({ handled: this.handled, posted: this.posted }), {
      mode: 0o600,
    });
  }

  /** sha256 of the regular file at a root-relative path (links not followed), for step hashes. */
  private readonly contentOf: ContentOf = (rel) => {
    const p = path.join(this.opts.root, path.posix.normalize(`/${rel}`));
    try {
      return lstatSync(p).isFile() ? sha256File(p) : undefined;
    } catch {
      return undefined;
    }
  };

  private fresh(): Promise<FreshPlan> {
    return (this.opts.plan ?? ((r) => defaultPlan(r, this.opts.control)))(this.opts.root);
  }

  private async call(method: string, rel: string, body?: unknown): Promise<Response> {
    const base = this.opts.server.endsWith('/') ? this.opts.server : `${this.opts.server}/`;
    return this.fetch(new URL(rel, base), {
      method,
      headers: {
        authorization: `Bearer ${this.opts.token}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(this.opts.requestTimeoutMs ?? 30_000),
    });
  }

  /** One cycle: report the plan, then act on this host's approvals. Returns the results posted. */
  private async report(host: string, cur: FreshPlan): Promise<void> {
    const report = summarizePlan(
      cur.plan,
      host,
      cur.verdict,
      new Date(this.now()).toISOString(),
      this.contentOf,
    );
    const pr = await this.call('POST', 'api/v1/agent/plan', report);
    if (pr.status !== 204) throw new Error(`plan report refused (${pr.status}): ${await pr.text()}`);
  }

  /** One cycle: report the plan, then act on this host's approvals. Returns the results posted. */
  async cycle(host: string): Promise<Array<{ id: string } & Result>> {
    await this.report(host, await this.fresh());
    // Results not delivered last time go first (the journal is on disk either way).
    for (const [id, r] of Object.entries(this.handled)) if (!this.posted[id]) await this.post(id, r);
    const res = await this.call('GET', 'api/v1/agent/approvals');
    if (res.status !== 200) throw new Error(`approvals: server answered ${res.status}`);
    const { approvals } = (await res.json()) as { approvals: Approval[] };
    const out: Array<{ id: string } & Result> = [];
    for (const a of approvals) {
      if (typeof a?.id !== 'string' || this.handled[a.id]) continue;
      const r = await this.handle(host, a);
      this.handled[a.id] = r;
      this.forgetOld();
      this.persist();
      await this.post(a.id, r);
      out.push({ id: a.id, ...r });
    }
    // The host changed: the plan the console shows is the one after the change.
    if (out.length) await this.report(host, await this.fresh());
    return out;
  }

  /** Bounded memory of handled approvals: the server expires them within days anyway. */
  private forgetOld(): void {
    const ids = Object.keys(this.handled);
    for (const id of ids.slice(0, Math.max(0, ids.length - 1000))) {
      delete this.handled[id];
      delete this.posted[id];
    }
  }

  private async post(id: string, r: Result): Promise<void> {
    try {
      const res = await this.call('POST', `api/v1/agent/approvals/${encodeURIComponent(id)}/result`, r);
      // 409: the server has a result already; 404: the approval is not ours (or gone). Either way, done.
      if (res.status === 200 || res.status === 409 || res.status === 404) {
        this.posted[id] = true;
        this.persist();
      } else this.opts.log?.(`result of ${id}: server answered ${res.status}; will retry`);
    } catch (err) {
      this.opts.log?.(`result of ${id}: ${(err as Error).message}; will retry`);
    }
  }

  /** Decides and carries out one approval. Never throws: a failure is a result. */
  async handle(host: string, a: Approval): Promise<Result> {
    const refuse = (error: string): Result => {
      this.opts.log?.(`approval ${a.id} refused: ${error}`);
      return { status: 'refused', steps: [], error };
    };
    if (a.host !== host) return refuse(`approval is for ${String(a.host)}, this host is ${host}`);
    if (!(Date.parse(a.expires) > this.now())) return refuse(`approval expired at ${String(a.expires)}`);
    try {
      if (a.kind === 'clean') return await this.clean(a);
      if (a.kind === 'restore') return await this.restore(a, refuse);
      return refuse(`unknown approval kind ${String(a.kind)}`);
    } catch (err) {
      return { status: 'failed', steps: [], error: (err as Error).message.slice(0, 1000) };
    }
  }

  private async clean(a: Approval): Promise<Result> {
    const hashes = (a.steps ?? []).map((s) => s.hash).filter((h) => /^[0-9a-f]{64}$/.test(h));
    const cur = await this.fresh();
    const m = matchApproved(cur.plan, hashes, this.contentOf);
    const outcome = new Map<string, { status: StepOutcome; detail?: string }>();
    for (const h of m.missing)
      outcome.set(h, { status: 'missing', detail: 'no longer in this host’s own plan: skipped' });
    let journal: string | undefined;
    let failed = false;
    if (m.plan.steps.length) {
      const byId = new Map([...m.matched].map(([h, s]) => [s.id, h]));
      const r = await applyPlan(m.plan, {
        journalDir: this.opts.journalDir,
        quarantineDir: this.opts.quarantineDir,
        stopOnFailure: true,
        ...(this.opts.control ? { control: this.opts.control } : {}),
      });
      journal = r.journal;
      for (const s of r.applied) {
        const h = byId.get(s.id)!;
        outcome.set(h, { status: s.status, ...(s.detail ? { detail: s.detail } : {}) });
        if (s.status === 'failed') failed = true;
      }
      for (const h of m.matched.keys())
        if (!outcome.has(h)) outcome.set(h, { status: 'not-run', detail: 'an earlier step failed' });
    }
    const after = await this.fresh();
    const steps = hashes.map((h) => ({ hash: h, ...(outcome.get(h) ?? { status: 'missing' as const }) }));
    const status: Result['status'] = !m.plan.steps.length
      ? 'skipped'
      : failed
        ? 'failed'
        : steps.every((s) => s.status === 'done' || s.status === 'already')
          ? 'complete'
          : 'partial';
    return { status, ...(journal ? { journal } : {}), steps, verdict: after.verdict };
  }

  private async restore(a: Approval, refuse: (e: string) => Result): Promise<Result> {
    const id = a.journal;
    if (typeof id !== 'string' || !JOURNAL_ID_RE.test(id)) return refuse('restore needs a journal id');
    const dir = path.join(this.opts.journalDir, id);
    if (!existsSync(path.join(dir, 'journal.json'))) return refuse(`no journal ${id} on this host`);
    const meta = JSON.parse(readFileSync(path.join(dir, 'journal.json'), 'utf8')) as { root?: string };
    if (path.resolve(meta.root ?? '') !== path.resolve(this.opts.root))
      return refuse(`journal ${id} is not a cleanup of ${this.opts.root}`);
    const r = await restoreJournal(dir, {
      journalDir: this.opts.journalDir,
      ...(this.opts.control ? { control: this.opts.control } : {}),
    });
    const after = await this.fresh();
    return {
      status: r.status === 'complete' ? 'complete' : 'partial',
      journal: id,
      steps: [],
      verdict: after.verdict,
      ...(r.status !== 'complete'
        ? {
            error: r.restored
              .filter((s) => s.status === 'failed')
              .map((s) => `${s.id}: ${s.detail ?? ''}`)
              .join('; ')
              .slice(0, 1000),
          }
        : {}),
    };
  }
}
