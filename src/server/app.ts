/**
 * The HTTP API (fastify 5). Ingest answers only after the store has committed, so an acknowledged batch is
 * durable; a batch is judged event by event, so one bad line never costs the good ones.
 *
 *   GET  /health                                   no token
 *   POST /api/v1/events      NDJSON or JSON array  agent or admin token
 *   POST /api/v1/findings    NDJSON or JSON array of Finding (host/time from each finding or ?host=)
 *   GET  /api/v1/hosts | /api/v1/findings | /api/v1/events               admin token
 *   GET  /api/v1/stats/coins|pools|ports|families|series|instances|campaigns   admin token
 *   POST /api/v1/tokens {name, admin} · GET /api/v1/tokens · DELETE /api/v1/tokens/:name   admin token
 */
import { Type } from '@sinclair/typebox';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { MinewatchEvent } from '../findings/index.ts';
import { parseBatch } from '../store/row.ts';
import {
  CAMPAIGN_KEYS,
  type CampaignKey,
  DIMS,
  type Dim,
  type Store,
  type TokenRecord,
} from '../store/types.ts';
import { VERSION } from '../version.ts';
import { registerDashboard } from './dashboard.ts';
import { registerFleetRoutes } from './fleet-routes.ts';
import type { FleetServiceOptions } from './fleet-service.ts';
import { RateLimiter } from './ratelimit.ts';
import { matchesAdminToken, newToken, parseToken, sha256Hex, verifySecret } from './tokens.ts';

export interface ServerOptions {
  store: Store;
  /** MINEWATCH_ADMIN_TOKEN: a token with admin rights that is not in the store. */
  adminToken?: string;
  /** Largest request body in bytes (413 above). Default 16 MiB. */
  bodyLimit?: number;
  /** Most events in one request (413 above). Default 50,000. */
  maxEvents?: number;
  /** Requests per second per token, and the burst allowed (429 above). Default 100/s, burst 200; 0 = off. */
  rateLimit?: number;
  rateBurst?: number;
  /** Token lookups are cached this long (ms): a revoked token stops working within it. Default 10 s. */
  tokenCacheMs?: number;
  https?: { cert: string | Buffer; key: string | Buffer };
  /** Where unexpected errors are written (default stderr). */
  log?: (msg: string) => void;
  /** Fleet response: block decisions, approvals, audit (fleet-routes.ts). */
  fleet?: FleetServiceOptions;
}

interface Auth {
  id: string;
  name: string;
  admin: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    auth?: Auth;
  }
}

/** An error with the HTTP status to answer. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const RangeQs = {
  from: Type.Optional(Type.String({ maxLength: 64 })),
  to: Type.Optional(Type.String({ maxLength: 64 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
};
const RankQs = Type.Object(
  {
    ...RangeQs,
    type: Type.Optional(Type.String({ maxLength: 32 })),
    coin: Type.Optional(Type.String({ maxLength: 64 })),
  },
  { additionalProperties: false },
);
const SeriesQs = Type.Object(
  {
    ...RangeQs,
    dim: Type.Optional(Type.Union(DIMS.map((d) => Type.Literal(d)))),
    type: Type.Optional(Type.String({ maxLength: 32 })),
    coin: Type.Optional(Type.String({ maxLength: 64 })),
  },
  { additionalProperties: false },
);
const FindingQs = Type.Object(
  {
    ...RangeQs,
    host: Type.Optional(Type.String({ maxLength: 255 })),
    rule: Type.Optional(Type.String({ maxLength: 128 })),
    coin: Type.Optional(Type.String({ maxLength: 64 })),
    severity: Type.Optional(
      Type.Union(['info', 'low', 'medium', 'high', 'critical'].map((s) => Type.Literal(s))),
    ),
  },
  { additionalProperties: false },
);
const EventQs = Type.Object(
  {
    ...RangeQs,
    host: Type.Optional(Type.String({ maxLength: 255 })),
    type: Type.Optional(Type.String({ maxLength: 32 })),
  },
  { additionalProperties: false },
);
const InstanceQs = Type.Object(
  { ...RangeQs, host: Type.Optional(Type.String({ maxLength: 255 })) },
  { additionalProperties: false },
);
const CampaignQs = Type.Object(
  { ...RangeQs, by: Type.Optional(Type.Union(CAMPAIGN_KEYS.map((k) => Type.Literal(k)))) },
  { additionalProperties: false },
);
const HostQs = Type.Object({ limit: RangeQs.limit }, { additionalProperties: false });
const FindingsPostQs = Type.Object({ host: Type.Optional(Type.String({ maxLength: 255 })) });

/** Pure: a Finding posted on its own becomes a finding event (host and time from it, or ?host=). */
export function findingToEvent(item: unknown, host?: string): MinewatchEvent {
  if (typeof item !== 'object' || item === null || Array.isArray(item))
    throw new Error('finding must be a JSON object');
  const f = item as Record<string, unknown>;
  const h = typeof f.host === 'string' && f.host ? f.host : host;
  if (!h) throw new Error('finding has no host (set finding.host or ?host=)');
  const time = [f.time, f.last_seen, f.first_seen].find((t) => typeof t === 'string' && t) as
    | string
    | undefined;
  if (!time) throw new Error('finding has no time (time, last_seen or first_seen)');
  const id = typeof f.id === 'string' && f.id ? `f:${f.id}:${time}`.slice(0, 128) : undefined;
  return { ...(id ? { id } : {}), type: 'finding', host: h, time, finding: f as never };
}

export async function buildServer(opts: ServerOptions): Promise<FastifyInstance> {
  const bodyLimit = opts.bodyLimit ?? 16 * 1024 * 1024;
  const maxEvents = opts.maxEvents ?? 50_000;
  const log = opts.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const store = opts.store;
  const adminHash = opts.adminToken ? sha256Hex(opts.adminToken) : undefined;
  const limiter = new RateLimiter(
    opts.rateLimit ?? 100,
    opts.rateBurst ?? Math.max(1, 2 * (opts.rateLimit ?? 100)),
  );
  const cacheMs = opts.tokenCacheMs ?? 10_000;
  const tokenCache = new Map<string, { rec: TokenRecord | null; at: number }>();

  const app = Fastify({
    logger: false,
    bodyLimit,
    ...(opts.https ? { https: { cert: opts.https.cert, key: opts.https.key } } : {}),
    ajv: { customOptions: { coerceTypes: true, removeAdditional: false } },
  } as Parameters<typeof Fastify>[0]) as unknown as FastifyInstance;

  // Bodies stay text: NDJSON needs line numbers, and JSON arrays are parsed once, by parseBatch.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit }, (_req, body, done) => done(null, body));

  async function lookup(id: string): Promise<TokenRecord | null> {
    const hit = tokenCache.get(id);
    if (hit && Date.now() - hit.at < cacheMs) return hit.rec;
    const rec = await store.getToken(id);
    if (tokenCache.size >= 10_000) tokenCache.clear();
    tokenCache.set(id, { rec, at: Date.now() });
    return rec;
  }

  async function authenticate(req: FastifyRequest): Promise<Auth | null> {
    const h = req.headers.authorization;
    if (!h || !/^Bearer\s+/i.test(h)) return null;
    const presented = h.replace(/^Bearer\s+/i, '').trim();
    if (matchesAdminToken(presented, adminHash)) return { id: 'admin-env', name: 'admin', admin: true };
    const parsed = parseToken(presented);
    if (!parsed) return null;
    const rec = await lookup(parsed.id);
    if (!rec || !verifySecret(rec, parsed.secret)) return null;
    return { id: rec.id, name: rec.name, admin: rec.admin };
  }

  registerDashboard(app, opts); // before the bearer-token hook: /ui uses session cookies
  app.addHook('onRequest', async (req, reply) => {
    if (req.url === '/health' || req.url.startsWith('/health?')) return;
    const auth = await authenticate(req);
    if (!auth) {
      reply.header('www-authenticate', 'Bearer realm="minewatch"');
      return reply.code(401).send({ error: 'a valid token is required (Authorization: Bearer <token>)' });
    }
    const wait = limiter.take(auth.id);
    if (wait > 0) {
      reply.header('retry-after', String(wait));
      return reply
        .code(429)
        .send({ error: `rate limit exceeded for token '${auth.name}'; retry in ${wait}s` });
    }
    req.auth = auth;
  });

  function admin(req: FastifyRequest): void {
    if (!req.auth?.admin) throw new HttpError(403, 'this endpoint needs an admin token');
  }

  app.setErrorHandler(
    (err: Error & { statusCode?: number; code?: string; validation?: unknown }, _req, reply) => {
      if (err instanceof HttpError) return reply.code(err.status).send({ error: err.message });
      if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || err.statusCode === 413)
        return reply.code(413).send({ error: `request body larger than ${bodyLimit} bytes` });
      if (err.validation || err instanceof RangeError || (err.statusCode && err.statusCode < 500))
        return reply
          .code(err.statusCode && err.statusCode < 500 ? err.statusCode : 400)
          .send({ error: err.message });
      log(`minewatch serve: ${err.stack ?? err.message}`);
      return reply.code(500).send({ error: 'internal error; see the server log' });
    },
  );

  async function ingestBody(
    req: FastifyRequest,
    reply: FastifyReply,
    map?: (item: unknown) => unknown,
  ): Promise<FastifyReply> {
    const body = typeof req.body === 'string' ? req.body : '';
    if (!body.trim()) throw new HttpError(400, 'empty body: send NDJSON (one event a line) or a JSON array');
    const parsed = parseBatch(body, String(req.headers['content-type'] ?? ''), map);
    if (parsed.events.length + parsed.rejected.length > maxEvents)
      throw new HttpError(413, `more than ${maxEvents} events in one request; split the batch`);
    // The NDJSON lines go along as each event's stored text: serialising the event again cost a third of the
    // per-event work of a commit.
    const result = await store.ingest(
      parsed.events.map((e) => e.event),
      { source: req.auth!.name, raw: parsed.events.map((e) => e.raw) },
    );
    const status = parsed.rejected.length === 0 ? 200 : parsed.events.length === 0 ? 400 : 207;
    return reply.code(status).send({ ...result, rejected: parsed.rejected });
  }

  app.get('/health', async () => ({ status: 'ok', engine: store.engine, version: VERSION }));

  app.post('/api/v1/events', (req, reply) => ingestBody(req, reply));
  app.post<{ Querystring: { host?: string } }>(
    '/api/v1/findings',
    { schema: { querystring: FindingsPostQs } },
    (req, reply) => ingestBody(req, reply, (item) => findingToEvent(item, req.query.host)),
  );

  app.get<{ Querystring: { limit?: number } }>(
    '/api/v1/hosts',
    { schema: { querystring: HostQs } },
    async (req) => {
      admin(req);
      return { hosts: await store.hosts(req.query) };
    },
  );
  app.get<{ Querystring: Record<string, string> & { limit?: number } }>(
    '/api/v1/findings',
    { schema: { querystring: FindingQs } },
    async (req) => {
      admin(req);
      return { findings: await store.findings(req.query) };
    },
  );
  app.get<{ Querystring: Record<string, string> & { limit?: number } }>(
    '/api/v1/events',
    { schema: { querystring: EventQs } },
    async (req) => {
      admin(req);
      return { events: await store.events(req.query) };
    },
  );
  const rankRoutes: Record<string, Dim> = { coins: 'coin', pools: 'pool', ports: 'port', families: 'family' };
  for (const [path, dim] of Object.entries(rankRoutes)) {
    app.get<{ Querystring: Record<string, string> & { limit?: number } }>(
      `/api/v1/stats/${path}`,
      { schema: { querystring: RankQs } },
      async (req) => {
        admin(req);
        // Ports rank flows: connection events, unless the caller names another type ('all' for every type).
        const q = { ...req.query };
        if (dim === 'port' && q.type === undefined) q.type = 'connection';
        if (q.type === 'all') delete q.type;
        return { dim, rows: await store.rank(dim, q) };
      },
    );
  }
  app.get<{ Querystring: Record<string, string> & { limit?: number; dim?: Dim } }>(
    '/api/v1/stats/series',
    { schema: { querystring: SeriesQs } },
    async (req) => {
      admin(req);
      const { dim = 'coin', ...q } = req.query;
      return { dim, rows: await store.series(dim, q) };
    },
  );
  app.get<{ Querystring: Record<string, string> & { limit?: number } }>(
    '/api/v1/stats/instances',
    { schema: { querystring: InstanceQs } },
    async (req) => {
      admin(req);
      return { rows: await store.instances(req.query) };
    },
  );
  app.get<{ Querystring: Record<string, string> & { limit?: number; by?: CampaignKey } }>(
    '/api/v1/stats/campaigns',
    { schema: { querystring: CampaignQs } },
    async (req) => {
      admin(req);
      const { by = 'wallet', ...q } = req.query;
      return { by, rows: await store.campaigns(by, q) };
    },
  );
  // Tokens over the API: the embedded store has one writer (the server), so `minewatch token --server` comes here.
  app.post<{ Body: string }>('/api/v1/tokens', async (req, reply) => {
    admin(req);
    let body: { name?: unknown; admin?: unknown };
    try {
      body = JSON.parse(typeof req.body === 'string' && req.body ? req.body : '{}') as typeof body;
    } catch {
      throw new HttpError(400, 'body must be JSON {"name": "...", "admin": false}');
    }
    if (typeof body.name !== 'string') throw new HttpError(400, 'name is required');
    let made: ReturnType<typeof newToken>;
    try {
      made = newToken(body.name, body.admin === true);
    } catch (err) {
      throw new HttpError(400, (err as Error).message);
    }
    await store.putToken(made.record);
    const { hash: _h, ...shown } = made.record;
    return reply.code(201).send({ token: made.token, ...shown });
  });
  app.get('/api/v1/tokens', async (req) => {
    admin(req);
    return { tokens: (await store.listTokens()).map(({ hash: _h, ...t }) => t) };
  });
  app.delete<{ Params: { name: string } }>('/api/v1/tokens/:name', async (req) => {
    admin(req);
    const revoked = await store.revokeToken(req.params.name);
    tokenCache.clear();
    if (!revoked) throw new HttpError(404, `no active token named '${req.params.name}'`);
    return { revoked };
  });
  registerFleetRoutes(app, { store, ...(opts.fleet ? { fleet: opts.fleet } : {}) });
  return app;
}

/** `host:port` (IPv6 as `[::1]:8750`) to listen on; loopback by default. */
export function parseListen(s: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(s.trim());
  const port = m ? Number(m[3]) : Number.NaN;
  if (!m || port > 65535) throw new RangeError(`--listen '${s}' is not host:port`);
  return { host: (m[1] ?? m[2])!, port };
}

export interface RunningServer {
  url: string;
  app: FastifyInstance;
  close(): Promise<void>;
}

/** Builds and starts the server; `close()` stops taking requests, then closes the store. */
export async function startServer(
  opts: ServerOptions & { listen?: string; closeStore?: boolean },
): Promise<RunningServer> {
  const app = await buildServer(opts);
  const { host, port } = parseListen(opts.listen ?? '127.0.0.1:8750');
  await app.listen({ host, port });
  const addr = app.server.address();
  const bound = typeof addr === 'object' && addr ? addr.port : port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `${opts.https ? 'https' : 'http'}://${shownHost}:${bound}`,
    app,
    async close() {
      await app.close();
      if (opts.closeStore !== false) await opts.store.close();
    },
  };
}
