/**
 * Fleet response on the host page: the host's enforcement state (from its heartbeat), the cleanup plan its
 * agent reported with a form to approve it, pending and past approvals with each step's outcome, and the
 * journals with a form to request their restore. The forms post to /ui routes that need the session AND its
 * CSRF token AND our own Origin (the session cookie is SameSite=Strict besides); they act through the same
 * FleetService as the API, so the audit log records the session's name as the actor.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type Approval, FleetError, fleetServiceFor } from '../server/fleet-service.ts';
import type { AuditEntry, Store } from '../store/types.ts';
import { fmtTime, type Html, html } from './html.ts';
import { sameOrigin, sameSecret } from './session.ts';

export interface FleetView {
  host: string;
  csrf: string;
  enforcement: Record<string, unknown> | null;
  plan: Awaited<ReturnType<ReturnType<typeof fleetServiceFor>['plan']>>;
  approvals: Approval[];
  /** The latest audit entries about this host. */
  audit: AuditEntry[];
  flash?: string;
}

export async function fleetView(
  store: Store,
  host: string,
  csrf: string,
  inventory: Record<string, unknown> | null,
): Promise<FleetView> {
  const fleet = fleetServiceFor(store);
  const e = inventory?.enforcement;
  return {
    host,
    csrf,
    enforcement: e && typeof e === 'object' ? (e as Record<string, unknown>) : null,
    plan: await fleet.plan(host),
    approvals: await fleet.approvals(host),
    audit: await store.audit({ host, limit: 20 }),
  };
}

const STATE_LABEL: Record<string, string> = {
  pending: 'pending',
  complete: 'done',
  partial: 'partly done',
  failed: 'failed',
  skipped: 'skipped',
  refused: 'refused by the agent',
  cancelled: 'cancelled',
  expired: 'expired',
};

function target(s: { path?: string; pid?: number; lines?: number[] }): string {
  if (s.pid !== undefined) return `pid ${s.pid}`;
  return `${s.path ?? ''}${s.lines?.length ? `:${s.lines.join(',')}` : ''}`;
}

function enforcementBlock(e: Record<string, unknown> | null): Html {
  if (!e)
    return html`<p class="empty" data-enforcement="off">Not enforcing: start its agent with <code>--enforce-blocks nftables</code> (or iptables, hosts).</p>`;
  const err = typeof e.last_error === 'string' && e.last_error ? e.last_error : null;
  const prot = Array.isArray(e.protected) ? (e.protected as string[]) : [];
  return html`<dl class="facts" data-enforcement="${e.version === null ? 'pending' : 'on'}">
  <dt>Target</dt><dd>${String(e.target ?? '—')}</dd>
  <dt>Version applied</dt><dd data-version>${e.version === null || e.version === undefined ? 'none yet' : String(e.version)}</dd>
  <dt>Blocked</dt><dd>${String(e.ipv4 ?? 0)} IPv4 · ${String(e.ipv6 ?? 0)} IPv6 · ${String(e.names ?? 0)} names</dd>
  <dt>Never blocked here</dt><dd>${prot.length ? prot.join(', ') : '—'} <span class="muted">(the server, its resolvers)</span></dd>
  <dt>Last sync</dt><dd>${fmtTime(e.last_sync as string | undefined)}</dd>
  <dt>Last error</dt><dd>${err ? html`<span class="error" role="status">${err}</span>` : 'none'}</dd>
</dl>`;
}

function approvalRow(a: Approval, csrf: string, host: string): Html {
  const r = a.result;
  const outcome = r
    ? html`${r.verdict ? html`rescan: <strong>${r.verdict}</strong>` : ''}${r.journal ? html` · journal <code>${r.journal}</code>` : ''}${r.error ? html`<br><span class="error">${r.error}</span>` : ''}${
        r.steps.length
          ? html`<ul class="steps">${r.steps.map((s) => {
              const step = a.steps?.find((x) => x.hash === s.hash);
              return html`<li><span class="badge" data-step-status="${s.status}">${s.status}</span> ${step ? html`${step.kind} <code>${target(step)}</code>` : html`<code>${s.hash.slice(0, 12)}</code>`}${s.detail ? html` <span class="muted">${s.detail}</span>` : ''}</li>`;
            })}</ul>`
          : ''
      }`
    : a.state === 'pending'
      ? html`waiting for the agent (until ${fmtTime(a.expires)}) <form method="post" action="/ui/fleet/approvals/${encodeURIComponent(a.id)}/cancel" class="inline"><input type="hidden" name="csrf" value="${csrf}"><input type="hidden" name="host" value="${host}"><button type="submit">Cancel</button></form>`
      : '';
  return html`<tr data-approval="${a.id}" data-state="${a.state}"><td><code>${a.id}</code></td><td>${a.kind === 'clean' ? `clean, ${a.steps?.length ?? 0} step(s)` : html`restore <code>${a.journal ?? ''}</code>`}</td><td>${a.by}<br><span class="muted">${fmtTime(a.created)}</span></td><td><span class="badge">${STATE_LABEL[a.state] ?? a.state}</span></td><td>${outcome}</td></tr>`;
}

export function fleetSection(v: FleetView): Html {
  const plan = v.plan;
  const runnable = plan?.steps.filter((s) => !s.skip) ?? [];
  const pending = v.approvals.filter((a) => a.state === 'pending');
  const journals = v.approvals.filter((a) => a.kind === 'clean' && a.result?.journal);
  const hostQ = encodeURIComponent(v.host);
  return html`<section aria-labelledby="h-response" id="response"><h2 id="h-response">Response</h2>
${v.flash ? html`<p class="note" role="status">${v.flash}</p>` : ''}
<h3>Pool blocking</h3>
${enforcementBlock(v.enforcement)}
<h3>Cleanup by the agent</h3>
${
  !plan
    ? html`<p class="empty">The agent has reported no plan of its own: start it with <code>--allow-remote-clean</code> to clean from here.</p>`
    : html`<p class="note">The plan <strong>${v.host}</strong>'s agent made from its own scan (${fmtTime(plan.time)}, verdict ${plan.verdict}). Approving sends only the steps' hashes: the agent rescans and carries out only the approved steps its fresh plan still holds, journalled and restorable. Approvals expire.</p>
${
  runnable.length
    ? html`<form method="post" action="/ui/hosts/${hostQ}/approve" class="approve">
<input type="hidden" name="csrf" value="${v.csrf}">
<ol class="plan">${runnable.map((s) => html`<li><label><input type="checkbox" name="step_${s.hash}" value="1" checked> <strong>${s.kind}</strong> <code>${target(s)}</code>: ${s.reason}</label></li>`)}</ol>
<label>Expires after <select name="ttl"><option value="3600">1 hour</option><option value="86400" selected>24 hours</option><option value="604800">7 days</option></select></label>
<button type="submit" id="approve-plan">Approve cleanup</button>
</form>`
    : html`<p class="empty">Nothing to clean on the host's latest plan.</p>`
}`
}
${pending.length ? html`<p>${pending.length} approval(s) pending.</p>` : ''}
${
  v.approvals.length
    ? html`<div class="scroll"><table class="approvals"><thead><tr><th scope="col">Approval</th><th scope="col">What</th><th scope="col">By</th><th scope="col">State</th><th scope="col">Outcome</th></tr></thead><tbody>${v.approvals.map((a) => approvalRow(a, v.csrf, v.host))}</tbody></table></div>`
    : ''
}
${
  journals.length
    ? html`<h3>Journals</h3><ul class="journals">${journals.map((a) => {
        const j = a.result!.journal!;
        const restored = v.approvals.some(
          (r) => r.kind === 'restore' && r.journal === j && r.state === 'complete',
        );
        const asked = v.approvals.some(
          (r) => r.kind === 'restore' && r.journal === j && r.state === 'pending',
        );
        return html`<li data-journal="${j}"><code>${j}</code> (${STATE_LABEL[a.state] ?? a.state}) ${
          restored
            ? html`<span class="badge">restored</span>`
            : asked
              ? html`<span class="muted">restore requested</span>`
              : html`<form method="post" action="/ui/hosts/${hostQ}/restore" class="inline"><input type="hidden" name="csrf" value="${v.csrf}"><input type="hidden" name="journal" value="${j}"><button type="submit">Restore</button></form>`
        }</li>`;
      })}</ul>`
    : ''
}
${
  v.audit.length
    ? html`<h3>Audit log</h3><div class="scroll"><table class="audit"><thead><tr><th scope="col">Time</th><th scope="col">Who</th><th scope="col">Action</th><th scope="col">About</th></tr></thead><tbody>${v.audit.map((a) => html`<tr data-audit="${a.action}"><td>${fmtTime(a.time)}</td><td>${a.actor}</td><td>${a.action}</td><td><code>${a.subject}</code>${typeof a.detail.status === 'string' ? html` ${a.detail.status}` : ''}</td></tr>`)}</tbody></table></div>`
    : ''
}
</section>`;
}

type Body = Record<string, string> | undefined;

/** The POST routes behind the forms. Each needs the session's CSRF token and our own Origin. */
export function registerFleetUi(app: FastifyInstance, store: Store): void {
  const fleet = () => fleetServiceFor(store);
  const guard = (req: FastifyRequest<{ Body: Body }>, reply: FastifyReply): boolean => {
    const s = req.session!;
    if (!sameOrigin(req.headers as Record<string, string>) || !sameSecret(req.body?.csrf, s.csrf)) {
      reply.code(403).type('text/plain').send('cross-site request refused');
      return false;
    }
    return true;
  };
  const back = (reply: FastifyReply, host: string, flash: keyof typeof FLASH, id = '') =>
    reply.redirect(
      `/ui/hosts/${encodeURIComponent(host)}?flash=${flash}${id ? `&id=${encodeURIComponent(id)}` : ''}#response`,
      303,
    );
  const fail = (reply: FastifyReply, err: unknown) => {
    if (err instanceof FleetError) return reply.code(err.statusCode).type('text/plain').send(err.message);
    throw err;
  };

  app.post<{ Params: { host: string }; Body: Body }>('/ui/hosts/:host/approve', async (req, reply) => {
    if (!guard(req, reply)) return reply;
    const steps = Object.keys(req.body ?? {})
      .filter((k) => k.startsWith('step_'))
      .map((k) => k.slice(5));
    if (!steps.length) return back(reply, req.params.host, 'none');
    const ttl = Number(req.body?.ttl ?? 86400);
    try {
      const a = await fleet().approve(req.session!.name, req.params.host, {
        kind: 'clean',
        steps,
        ttl_s: Number.isFinite(ttl) && ttl > 0 ? ttl : 86400,
      });
      return back(reply, req.params.host, 'approved', a.id);
    } catch (err) {
      return fail(reply, err);
    }
  });
  app.post<{ Params: { host: string }; Body: Body }>('/ui/hosts/:host/restore', async (req, reply) => {
    if (!guard(req, reply)) return reply;
    try {
      const a = await fleet().approve(req.session!.name, req.params.host, {
        kind: 'restore',
        journal: req.body?.journal,
      });
      return back(reply, req.params.host, 'restore', a.id);
    } catch (err) {
      return fail(reply, err);
    }
  });
  app.post<{ Params: { id: string }; Body: Body }>('/ui/fleet/approvals/:id/cancel', async (req, reply) => {
    if (!guard(req, reply)) return reply;
    try {
      const a = await fleet().cancel(req.session!.name, req.params.id);
      return back(reply, a.host, 'cancelled', a.id);
    } catch (err) {
      return fail(reply, err);
    }
  });
  app.get<{ Params: { host: string } }>('/ui/api/hosts/:host/fleet', async (req) => {
    const h = (await store.hosts()).find((x) => x.host === req.params.host);
    const v = await fleetView(store, req.params.host, '', h?.inventory ?? null);
    const { csrf: _c, ...rest } = v;
    return rest;
  });
}

const FLASH: Record<string, string> = {
  approved: 'Cleanup approved as',
  restore: 'Restore requested as',
  cancelled: 'Cancelled',
  none: 'Nothing approved: no step was ticked.',
};

/**
 * Pure: the message after a form, from a fixed set (a link cannot put words of its own on the page), with
 * the approval id when it looks like one.
 */
export function flashOf(q: Record<string, string | undefined>): string | undefined {
  const text = q.flash ? FLASH[q.flash] : undefined;
  if (!text) return undefined;
  const id = q.id && /^ap-[0-9A-Za-z-]{1,40}$/.test(q.id) ? q.id : '';
  return q.flash === 'none' ? text : `${text} ${id}.`;
}
