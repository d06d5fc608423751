/**
 * Wires the dashboard (src/web) into the API server: requests for `/` and `/ui/...` go to the dashboard's own
 * fastify app before the API's bearer-token hook runs, because the dashboard authenticates with a session
 * cookie instead. Must be called before `buildServer` adds its auth hook (hooks run in the order added).
 */
import type { FastifyInstance } from 'fastify';
import { buildDashboard, isDashboardPath } from '../web/app.ts';
import type { ServerOptions } from './app.ts';
import type { AuthGuard } from './authguard.ts';

export function registerDashboard(
  app: FastifyInstance,
  opts: ServerOptions & { dashboardPollMs?: number; guard?: AuthGuard },
): void {
  let inner: Promise<FastifyInstance> | undefined;
  // MINEWATCH_UI_POLL_MS: how often browsers check for new data (tests shorten it; 0 turns it off).
  const env = process.env.MINEWATCH_UI_POLL_MS;
  const pollMs = opts.dashboardPollMs ?? (env && /^\d+$/.test(env) ? Number(env) : undefined);
  const dashboard = () =>
    (inner ??= buildDashboard({
      store: opts.store,
      ...(opts.adminToken ? { adminToken: opts.adminToken } : {}),
      secure: Boolean(opts.https),
      ...(pollMs !== undefined ? { pollMs } : {}),
      ...(opts.log ? { log: opts.log } : {}),
      ...(opts.guard ? { guard: opts.guard } : {}),
    }).then(async (d) => {
      await d.ready();
      return d;
    }));
  app.addHook('onRequest', async (req, reply) => {
    if (!isDashboardPath(req.url)) return;
    const d = await dashboard();
    // The dashboard app answers on the raw request and response; this app's lifecycle stops here.
    reply.hijack();
    d.routing(req.raw, reply.raw);
    return reply;
  });
  app.addHook('onClose', async () => {
    if (inner) await (await inner).close();
  });
}
