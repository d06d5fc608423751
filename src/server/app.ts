/**
 * The HTTP API (fastify 5). Ingest answers only after the store has committed, so an acknowledged batch is
 * durable; a batch is judged event by event, so one bad line never costs the good ones.
 *
 *   GET  /health                                   no token
 *   POST /api/v1/events      NDJSON or JSON array  agent or admin token (gzip bodies too)
 *   POST /api/v1/findings    NDJSON or JSON array of Finding (host/time from each finding or ?host=)
 *   GET  /api/v1/hosts | /api/v1/findings | /api/v1/events   admin token; pages with ?cursor= (`next`)
 *   GET  /api/v1/stats/coins|pools|ports|families|series|instances|campaigns   admin token
 *   POST /api/v1/tokens {name, admin, host} · GET /api/v1/tokens · DELETE /api/v1/tokens/:name
 *   · DELETE /api/v1/tokens/by-id/:id   admin token
 *
 * An agent token speaks for one host (named at creation, else the host of its first event): events for
 * another host are refused, each row's `source` names the token. Failed authentication is throttled
 * (authguard.ts). docs/server-security.md is the threat model.
 */
import { Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { Type } from '@sinclair/typebox';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { MinewatchEvent } from '../findings/index.ts';
import { DEFAULT_MAX_FUTURE_MS } from '../findings/validate.ts';
import { StoreUnavailableError } from '../store/errors.ts';
import { parseBatch, type Rejected } from '../store/row.ts';
import {
  CAMPAIGN_KEYS,
  type CampaignKey,
  DIMS,
  type Dim,
  type Store,
  type TokenRecord,
} from '../store/types.ts';
import { VERSION } from '../version.ts';
import { AuthGuard, type AuthGuardOptions, clientKey } from './authguard.ts';
import { BodyError, decodeBody, inflate } from './body.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
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
  /** Events dated further ahead of the server's clock are refused (ms). Default 15 min. */
  maxFutureMs?: number;
  /** The retention horizon: events dated further back are refused (ms). Default 400 days; Infinity = none. */
  maxAgeMs?: number;
  /** The server's clock (tests). */
  now?: () => number;
  /** Throttling of failed authentication (authguard.ts). */
  authGuard?: AuthGuardOptions;
}

/** Default retention horizon of ingest: a year of history and a margin. */
export const DEFAULT_MAX_AGE_MS = 400 * 86_400_000;
/** Most rows in one page of /events, /findings, /hosts. */
const PAGE_MAX = 1000;

interface Auth {
  id: string;
  name: string;
  admin: boolean;
  /** The host an agent token speaks for, once bound. */
  host?: string;
}

/** What a request's events are stored with as their `source`: the token that sent them. */
function sourceOf(a: Auth): string {
  return a.id === 'admin-env' ? 'token:admin-env' : `token:${a.name}#${a.id}`;
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
const Cursor = Type.Optional(Type.String({ maxLength: 2048 }));
const FindingQs = Type.Object(
  {
    ...RangeQs,
    cursor: Cursor,
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
    cursor: Cursor,
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
const HostQs = Type.Object({ limit: RangeQs.limit, cursor: Cursor }, { additionalProperties: false });
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
  const guard = new AuthGuard({ log, ...opts.authGuard });
  const now = opts.now ?? (() => Date.now());
  const maxFutureMs = opts.maxFutureMs ?? DEFAULT_MAX_FUTURE_MS;
  const maxAgeMs = opts.maxAgeMs ?? DEFAULT_MAX_AGE_MS;

  const app = Fastify({
    logger: false,
    bodyLimit,
    ...(opts.https ? { https: { cert: opts.https.cert, key: opts.https.key } } : {}),
    ajv: { customOptions: { coerceTypes: true, removeAdditional: false } },
  } as Parameters<typeof Fastify>[0]) as unknown as FastifyInstance;

  // Bodies stay unparsed: NDJSON needs line numbers, and JSON arrays are parsed once, by parseBatch. Ingest
  // gets the bytes (gzip and invalid UTF-8 are its to judge, line by line); every other route gets text.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit }, (req, body, done) => {
    if (isIngest(req.url)) return done(null, body);
    try {
      const buf = inflate(body as Buffer, req.headers['content-encoding'] as string | undefined, bodyLimit);
      done(null, buf.toString('utf8'));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
  if (opts.https)
    app.addHook('onSend', async (_req, reply, payload) => {
      reply.header('strict-transport-security', 'max-age=31536000');
      return payload;
    });

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
    return { id: rec.id, name: rec.name, admin: rec.admin, ...(rec.host ? { host: rec.host } : {}) };
  }

  registerDashboard(app, { ...opts, guard }); // before the bearer-token hook: /ui uses session cookies
  app.addHook('onRequest', async (req, reply) => {
    if (req.url === '/health' || req.url.startsWith('/health?')) return;
    const h = req.headers.authorization;
    const presented = h && /^Bearer\s+/i.test(h) ? h.replace(/^Bearer\s+/i, '').trim() : undefined;
    const client = clientKey(req.ip);
    // A client that failed too often is not heard until its lockout ends, whatever it presents now.
    const locked = presented !== undefined ? guard.blocked(client) : 0;
    if (locked > 0) {
      reply.header('retry-after', String(locked));
      return reply
        .code(429)
        .send({ error: `too many failed authentications from this address; retry in ${locked}s` });
    }
    const auth = await authenticate(req);
    if (!auth) {
      if (presented !== undefined) guard.failed(client, presented, 'bearer token');
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
      if (err instanceof HttpError || err instanceof BodyError)
        return reply.code(err.status).send({ error: err.message });
      if (err instanceof StoreUnavailableError) {
        // The engine is away, nothing is wrong with the request: try again later (agents keep their batch).
        log(`minewatch serve: ${err.message}`);
        reply.header('retry-after', String(err.retryAfterS));
        return reply.code(503).send({ error: 'the store is unreachable; retry later' });
      }
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
    const raw = Buffer.isBuffer(req.body)
      ? req.body
      : Buffer.from(typeof req.body === 'string' ? req.body : '');
    const inflated = inflate(raw, req.headers['content-encoding'] as string | undefined, bodyLimit);
    const decoded = decodeBody(inflated);
    if (!decoded.text.trim() && !decoded.rejected.length)
      throw new HttpError(400, 'empty body: send NDJSON (one event a line) or a JSON array');
    const parsed = parseBatch(decoded.text, String(req.headers['content-type'] ?? ''), map, {
      now: now(),
      maxFutureMs,
      maxAgeMs,
      refuseReplacement: decoded.refuseReplacement,
    });
    let rejected: Rejected[] = parsed.rejected;
    if (decoded.rejected.length)
      rejected = [...decoded.rejected, ...parsed.rejected].sort((a, b) => a.line - b.line);
    if (parsed.events.length + rejected.length > maxEvents)
      throw new HttpError(413, `more than ${maxEvents} events in one request; split the batch`);
    const auth = req.auth!;
    let events = parsed.events;
    if (!auth.admin && events.length) {
      // An agent token speaks for its host alone: bound on first use when creation did not name one.
      const host = auth.host ?? (await bindHost(auth, events[0]!.event.host));
      const other = events.filter((e) => e.event.host !== host);
      if (other.length) {
        events = events.filter((e) => e.event.host === host);
        for (const e of other)
          rejected.push({
            line: e.line,
            reason: `token '${auth.name}' speaks for host '${host}', not '${e.event.host.slice(0, 80)}'`,
          });
        rejected = rejected.sort((a, b) => a.line - b.line);
      }
    }
    // The NDJSON lines go along as each event's stored text: serialising the event again cost a third of the
    // per-event work of a commit.
    const result = await store.ingest(
      events.map((e) => e.event),
      { source: sourceOf(auth), raw: events.map((e) => e.raw) },
    );
    const status = rejected.length === 0 ? 200 : events.length === 0 ? 400 : 207;
    return reply.code(status).send({ ...result, rejected });
  }

  /** Bindings in progress, per token id: two first batches at once bind one host, not two. */
  const binding = new Map<string, Promise<string>>();
  function bindHost(auth: Auth, host: string): Promise<string> {
    let p = binding.get(auth.id);
    if (!p) {
      p = (async () => {
        const rec = await store.getToken(auth.id);
        if (!rec) throw new HttpError(401, 'token no longer exists');
        if (rec.host) return rec.host;
        await store.putToken({ ...rec, host });
        log(`minewatch serve: token '${rec.name}' (${rec.id}) bound to host '${host}' on first use`);
        return host;
      })().finally(() => {
        binding.delete(auth.id);
        tokenCache.delete(auth.id);
      });
      binding.set(auth.id, p);
    }
    return p;
  }

  app.get('/health', async () => ({ status: 'ok', engine: store.engine, version: VERSION }));

  app.post('/api/v1/events', (req, reply) => ingestBody(req, reply));
  app.post<{ Querystring: { host?: string } }>(
    '/api/v1/findings',
    { schema: { querystring: FindingsPostQs } },
    (req, reply) => ingestBody(req, reply, (item) => findingToEvent(item, req.query.host)),
  );

  // Reads come in pages of at most PAGE_MAX rows (a larger ?limit= gets a full page), each with `next`, the
  // cursor of the page after it (null at the end): no read builds an answer of the whole store.
  app.get<{ Querystring: { limit?: number; cursor?: string } }>(
    '/api/v1/hosts',
    { schema: { querystring: HostQs } },
    async (req) => {
      admin(req);
      const limit = pageLimit(req.query.limit, PAGE_MAX);
      const after = req.query.cursor ? decodeCursor(req.query.cursor).host : undefined;
      const hosts = await store.hosts({ limit, ...(after !== undefined ? { after } : {}) });
      const last = hosts.at(-1);
      return {
        hosts,
        next: hosts.length === limit && last ? encodeCursor({ ts: 0, host: last.host, id: '' }) : null,
      };
    },
  );
  app.get<{ Querystring: Record<string, string> & { limit?: number; cursor?: string } }>(
    '/api/v1/findings',
    { schema: { querystring: FindingQs } },
    async (req) => {
      admin(req);
      const { cursor, ...q } = req.query;
      const limit = pageLimit(q.limit, PAGE_MAX);
      const findings = await store.findings({
        ...q,
        limit,
        ...(cursor ? { after: decodeCursor(cursor) } : {}),
      });
      const last = findings.at(-1);
      return {
        findings,
        next:
          findings.length === limit && last
            ? encodeCursor({ ts: Date.parse(last.time), host: last.host, id: last.id })
            : null,
      };
    },
  );
  app.get<{ Querystring: Record<string, string> & { limit?: number; cursor?: string } }>(
    '/api/v1/events',
    { schema: { querystring: EventQs } },
    async (req, reply) => {
      admin(req);
      const { cursor, ...q } = req.query;
      const page = await store.eventPage({
        ...q,
        limit: pageLimit(q.limit, PAGE_MAX),
        ...(cursor ? { after: decodeCursor(cursor) } : {}),
      });
      const last = page.rows.at(-1);
      const next = page.more && last ? encodeCursor(last) : null;
      // The stored JSON texts go out as they are, a row at a time: never parsed, never one big string.
      const rows = page.rows;
      async function* body() {
        yield '{"events":[';
        for (let i = 0; i < rows.length; i++) yield i ? `,${rows[i]!.data}` : rows[i]!.data;
        yield `],"next":${JSON.stringify(next)}}`;
      }
      reply.type('application/json; charset=utf-8');
      if (/\bgzip\b/i.test(String(req.headers['accept-encoding'] ?? ''))) {
        reply.header('content-encoding', 'gzip');
        return reply.send(Readable.from(body()).pipe(createGzip()));
      }
      return reply.send(Readable.from(body()));
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
    let body: { name?: unknown; admin?: unknown; host?: unknown };
    try {
      body = JSON.parse(typeof req.body === 'string' && req.body ? req.body : '{}') as typeof body;
    } catch {
      throw new HttpError(400, 'body must be JSON {"name": "...", "admin": false}');
    }
    if (typeof body.name !== 'string') throw new HttpError(400, 'name is required');
    if (body.host !== undefined && typeof body.host !== 'string')
      throw new HttpError(400, 'host must be a string');
    let made: ReturnType<typeof newToken>;
    try {
      made = newToken(body.name, body.admin === true, new Date(), body.host as string | undefined);
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
  // By name (every active token of that name) or by id (that one): a name that equals an id is never both.
  app.delete<{ Params: { name: string } }>('/api/v1/tokens/:name', async (req) => {
    admin(req);
    const revoked = await store.revokeToken({ name: req.params.name });
    tokenCache.clear();
    if (!revoked) throw new HttpError(404, `no active token named '${req.params.name}'`);
    return { revoked };
  });
  app.delete<{ Params: { id: string } }>('/api/v1/tokens/by-id/:id', async (req) => {
    admin(req);
    const revoked = await store.revokeToken({ id: req.params.id });
    tokenCache.clear();
    if (!revoked) throw new HttpError(404, `no active token with id '${req.params.id}'`);
    return { revoked };
  });

  registerFleetRoutes(app, { store, ...(opts.fleet ? { fleet: opts.fleet } : {}) });
  return app;
}

/** Whether a request is an ingest (its body goes to the handler as bytes). */
function isIngest(url: string): boolean {
  return /^\/api\/v1\/(events|findings)(\?|$)/.test(url);
}

/** A page's size: the asked limit, within 1..max (a larger one gets a full page, not an error). */
function pageLimit(n: number | undefined, max: number): number {
  return n === undefined ? Math.min(100, max) : Math.max(1, Math.min(Math.floor(n), max));
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
