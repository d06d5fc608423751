/**
 * The fleet-response API (registered by buildServer behind its bearer-token hook):
 *
 *   GET    /api/v1/decisions/stream?startup=true | ?since=N   any token: {version, full, new, deleted}
 *   GET    /api/v1/decisions                                  admin: live decisions with reasons
 *   GET    /api/v1/decisions/exceptions                       admin
 *   POST   /api/v1/decisions/exceptions {value, reason}       admin
 *   DELETE /api/v1/decisions/exceptions/:value                admin
 *   GET    /api/v1/fleet/hosts/:host                          admin: reported plan, approvals, journals
 *   POST   /api/v1/fleet/hosts/:host/approvals                admin: {kind:'clean', steps?, ttl_s?} |
 *                                                              {kind:'restore', journal, ttl_s?}
 *   GET    /api/v1/fleet/approvals?host=                      admin
 *   DELETE /api/v1/fleet/approvals/:id                        admin: cancel a pending approval
 *   GET    /api/v1/audit?host=&action=&from=&to=&limit=       admin
 *   POST   /api/v1/agent/plan                                 agent: its own cleanup plan (hashes)
 *   GET    /api/v1/agent/approvals                            agent: its own host's pending approvals
 *   POST   /api/v1/agent/approvals/:id/result                 agent: the outcome
 *
 * An agent token acts for one host: the token's name (`minewatch token create --name HOST`), or the host a
 * token is bound to when the server binds them.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Store } from '../store/types.ts';
import { FleetError, type FleetServiceOptions, fleetServiceFor, parsePlanReport } from './fleet-service.ts';

function requireAdmin(req: FastifyRequest): string {
  if (!req.auth?.admin) throw new FleetError(403, 'this endpoint needs an admin token');
  return req.auth.name;
}

/** The host an agent token speaks for; admin tokens speak for none. */
export function agentHost(req: FastifyRequest): string {
  const a = req.auth as { admin: boolean; name: string; host?: string } | undefined;
  if (!a || a.admin) throw new FleetError(403, 'this endpoint is for agent tokens');
  return a.host ?? a.name;
}

function jsonBody(req: FastifyRequest, max = 4 << 20): unknown {
  const text = typeof req.body === 'string' ? req.body : '';
  if (text.length > max) throw new FleetError(413, `body larger than ${max} bytes`);
  try {
    return JSON.parse(text || '{}');
  } catch {
    throw new FleetError(400, 'body must be JSON');
  }
}

export function registerFleetRoutes(
  app: FastifyInstance,
  opts: { store: Store; fleet?: FleetServiceOptions },
): void {
  const fleet = fleetServiceFor(opts.store, opts.fleet);
  type Q = { Querystring: Record<string, string | undefined> };

  app.get<Q>('/api/v1/decisions/stream', async (req) => {
    const { startup, since } = req.query;
    let n: number | undefined;
    if (startup !== 'true' && since !== undefined) {
      if (!/^\d{1,15}$/.test(since)) throw new FleetError(400, 'since must be a version number');
      n = Number(since);
    }
    return fleet.stream(n);
  });
  app.get('/api/v1/decisions', async (req) => {
    requireAdmin(req);
    return { ...(await fleet.decisions()), exceptions: await fleet.exceptions() };
  });
  app.get('/api/v1/decisions/exceptions', async (req) => {
    requireAdmin(req);
    return { exceptions: await fleet.exceptions() };
  });
  app.post('/api/v1/decisions/exceptions', async (req, reply) => {
    const who = requireAdmin(req);
    const b = jsonBody(req) as { value?: unknown; reason?: unknown };
    if (typeof b.value !== 'string') throw new FleetError(400, 'value (an address or domain) is required');
    const e = await fleet.addException(who, b.value, typeof b.reason === 'string' ? b.reason : '');
    return reply.code(201).send(e);
  });
  app.delete<{ Params: { value: string } }>('/api/v1/decisions/exceptions/:value', async (req) => {
    const who = requireAdmin(req);
    if (!(await fleet.removeException(who, req.params.value)))
      throw new FleetError(404, `no exception for ${req.params.value}`);
    return { removed: req.params.value };
  });

  app.get<{ Params: { host: string } }>('/api/v1/fleet/hosts/:host', async (req) => {
    requireAdmin(req);
    const host = req.params.host;
    const approvals = await fleet.approvals(host);
    return {
      host,
      plan: await fleet.plan(host),
      approvals,
      journals: approvals.flatMap((a) =>
        a.kind === 'clean' && a.result?.journal
          ? [
              {
                journal: a.result.journal,
                approval: a.id,
                status: a.result.status,
                restored: approvals.some(
                  (r) => r.kind === 'restore' && r.journal === a.result!.journal && r.state === 'complete',
                ),
              },
            ]
          : [],
      ),
    };
  });
  app.post<{ Params: { host: string } }>('/api/v1/fleet/hosts/:host/approvals', async (req, reply) => {
    const who = requireAdmin(req);
    const a = await fleet.approve(who, req.params.host, jsonBody(req) as Record<string, unknown>);
    return reply.code(201).send(a);
  });
  app.get<Q>('/api/v1/fleet/approvals', async (req) => {
    requireAdmin(req);
    return { approvals: await fleet.approvals(req.query.host || undefined) };
  });
  app.delete<{ Params: { id: string } }>('/api/v1/fleet/approvals/:id', async (req) => {
    const who = requireAdmin(req);
    return fleet.cancel(who, req.params.id);
  });
  app.get<Q>('/api/v1/audit', async (req) => {
    requireAdmin(req);
    const q = req.query;
    const limit = q.limit !== undefined ? Number(q.limit) : undefined;
    if (limit !== undefined && !(Number.isInteger(limit) && limit > 0))
      throw new FleetError(400, 'limit must be a positive integer');
    return {
      audit: await opts.store.audit({
        ...(q.host ? { host: q.host } : {}),
        ...(q.action ? { action: q.action } : {}),
        ...(q.from ? { from: q.from } : {}),
        ...(q.to ? { to: q.to } : {}),
        ...(limit ? { limit } : {}),
      }),
    };
  });

  app.post('/api/v1/agent/plan', async (req, reply) => {
    const host = agentHost(req);
    await fleet.putPlan(host, parsePlanReport(jsonBody(req), host));
    return reply.code(204).send();
  });
  app.get('/api/v1/agent/approvals', async (req) => {
    const host = agentHost(req);
    return { host, approvals: await fleet.pendingFor(host) };
  });
  app.post<{ Params: { id: string } }>('/api/v1/agent/approvals/:id/result', async (req) => {
    const host = agentHost(req);
    return fleet.result(host, req.params.id, jsonBody(req));
  });
}
