/**
 * The dashboard as its own small fastify app under /ui: server-rendered pages, a session-checked JSON API
 * (/ui/api/*), login/logout and the built-in assets. `src/server/dashboard.ts` hands it the requests for /ui
 * from the API server, so it shares the process, origin and store with the API while keeping its own auth:
 * an HttpOnly SameSite=Strict session cookie instead of a bearer header.
 *
 * CSRF: every state-changing request (login, logout) must come from our own origin (Origin, else Referer),
 * and logout also carries the session's CSRF token; the cookie is SameSite=Strict besides. Reads are GETs.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { type IntelBase, loadIntel } from '../intel/index.ts';
import {
  BLOCK_FORMATS,
  type BlockFormat,
  FORMAT_DESCRIPTIONS,
  selectBlocklist,
  writeSelection,
} from '../respond/blocklist/index.ts';
import { AuthGuard, clientKey } from '../server/authguard.ts';
import { matchesAdminToken, parseToken, sha256Hex, verifySecret } from '../server/tokens.ts';
import type { Store } from '../store/types.ts';
import { VERSION } from '../version.ts';
import { APP_CSS, APP_JS, echartsBundle } from './assets.ts';
import { remotePlan } from './cleanup.ts';
import { asFinding, DashboardData } from './data.ts';
import { type Filter, parseFilter } from './filter.ts';
import { flashOf, fleetSection, fleetView, registerFleetUi } from './fleet.ts';
import { type Html, html } from './html.ts';
import {
  type Chrome,
  campaignPage,
  campaignsPage,
  hostPage,
  hostsPage,
  intelPage,
  layout,
  loginPage,
  notFound,
  overviewPage,
} from './pages.ts';
import {
  COOKIE,
  clearCookie,
  parseCookies,
  type Session,
  Sessions,
  sameOrigin,
  sameSecret,
  sessionCookie,
} from './session.ts';

export interface DashboardOptions {
  store: Store;
  adminToken?: string;
  /** The API server speaks HTTPS: cookies get Secure. */
  secure?: boolean;
  /** How often the browser polls for new data (ms); 0 turns live updates off. Default 15 s. */
  pollMs?: number;
  /** Loads the intel base (tests may hand in a small one); default the built-in base plus the user dir. */
  intel?: () => IntelBase;
  sessions?: Sessions;
  /** Throttling of failed logins, shared with the API server's bearer tokens (a new one otherwise). */
  guard?: AuthGuard;
  log?: (msg: string) => void;
}

declare module 'fastify' {
  interface FastifyRequest {
    session?: Session;
  }
}

const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Pure: whether a request path belongs to the dashboard (everything else is the API's). */
export function isDashboardPath(url: string): boolean {
  return (
    url === '/' || url.startsWith('/?') || url === '/ui' || url.startsWith('/ui/') || url.startsWith('/ui?')
  );
}

/** Pure: a post-login destination that stays on the dashboard (no open redirect to another site). */
export function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/ui\/[^/\\]?/.test(next) && !next.startsWith('//') ? next : '/ui/';
}

export async function buildDashboard(opts: DashboardOptions): Promise<FastifyInstance> {
  const store = opts.store;
  const data = new DashboardData(store);
  const sessions = opts.sessions ?? new Sessions();
  const adminHash = opts.adminToken ? sha256Hex(opts.adminToken) : undefined;
  const secure = opts.secure ?? false;
  const pollMs = opts.pollMs ?? 15_000;
  const log = opts.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  // Failed logins are throttled per client address and per token prefix, shared with the API's bearer
  // tokens (authguard.ts): the right token from another address still logs in while a guesser is locked out.
  const guard = opts.guard ?? new AuthGuard({ log });
  let intelBase: IntelBase | undefined;
  const intel = () => (intelBase ??= (opts.intel ?? (() => loadIntel()))());

  const app = Fastify({ logger: false, bodyLimit: 16 * 1024 }) as unknown as FastifyInstance;
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) =>
    done(null, Object.fromEntries(new URLSearchParams(String(body)))),
  );

  app.addHook('onSend', async (req, reply, payload) => {
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'same-origin');
    reply.header('x-frame-options', 'DENY');
    reply.header('content-security-policy', CSP);
    if (secure) reply.header('strict-transport-security', 'max-age=31536000');
    if (!req.url.startsWith('/ui/assets/')) reply.header('cache-control', 'no-store');
    return payload;
  });

  app.setErrorHandler((err: Error & { statusCode?: number }, req, reply) => {
    const status = err.statusCode && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) log(`minewatch dashboard: ${err.stack ?? err.message}`);
    const msg = status === 500 ? 'internal error; see the server log' : err.message;
    if (req.url.startsWith('/ui/api/')) return reply.code(status).send({ error: msg });
    return reply
      .code(status)
      .type('text/html; charset=utf-8')
      .send(`<!doctype html><title>Error</title><p>Error ${status}: ${msg.replace(/[<&]/g, '')}</p>`);
  });

  async function checkToken(presented: string): Promise<{ id: string; name: string } | null> {
    if (matchesAdminToken(presented, adminHash)) return { id: 'admin-env', name: 'admin' };
    const parsed = parseToken(presented);
    if (!parsed) return null;
    const rec = await store.getToken(parsed.id);
    if (!rec?.admin || !verifySecret(rec, parsed.secret)) return null;
    return { id: rec.id, name: rec.name };
  }

  /** The request's live session: expired, unknown or revoked-token sessions are none. */
  async function sessionOf(req: FastifyRequest): Promise<Session | null> {
    const id = parseCookies(req.headers.cookie)[COOKIE];
    const s = sessions.get(id);
    if (!s) return null;
    const now = Date.now();
    if (s.tokenId !== 'admin-env' && now - s.checked > sessions.recheckMs) {
      const rec = await store.getToken(s.tokenId);
      if (!rec || rec.revoked || !rec.admin) {
        sessions.delete(s.id);
        return null;
      }
      s.checked = now;
    }
    return s;
  }

  const PUBLIC = new Set(['/ui/login']);
  app.addHook('onRequest', async (req, reply) => {
    const path = req.url.split('?')[0]!;
    if (path === '/' || path === '/ui') return reply.redirect('/ui/', 302);
    if (PUBLIC.has(path) || path.startsWith('/ui/assets/')) return;
    const s = await sessionOf(req);
    if (s) {
      req.session = s;
      return;
    }
    if (path.startsWith('/ui/api/'))
      return reply
        .code(401)
        .send({ error: 'log in to the dashboard first (session cookie missing or expired)' });
    if (req.method !== 'GET') return reply.code(401).type('text/plain').send('not logged in');
    return reply.redirect(`/ui/login?next=${encodeURIComponent(req.url)}`, 302);
  });

  // ---- assets ----
  const asset =
    (type: string, body: () => string | Buffer) => async (_req: FastifyRequest, reply: FastifyReply) =>
      reply.type(type).header('cache-control', 'public, max-age=86400').send(body());
  app.get(
    '/ui/assets/app.css',
    asset('text/css; charset=utf-8', () => APP_CSS),
  );
  app.get(
    '/ui/assets/app.js',
    asset('text/javascript; charset=utf-8', () => APP_JS),
  );
  app.get('/ui/assets/echarts.min.js', asset('text/javascript; charset=utf-8', echartsBundle));

  // ---- login / logout ----
  app.get<{ Querystring: { next?: string } }>('/ui/login', async (req, reply) => {
    if (await sessionOf(req)) return reply.redirect(safeNext(req.query.next), 302);
    return reply.type('text/html; charset=utf-8').send(loginPage({ next: safeNext(req.query.next) }));
  });
  app.post<{ Body: Record<string, string> | undefined }>('/ui/login', async (req, reply) => {
    const page = (code: number, error: string) =>
      reply
        .code(code)
        .type('text/html; charset=utf-8')
        .send(loginPage({ error, next: safeNext(req.body?.next) }));
    if (!sameOrigin(req.headers as Record<string, string>)) return page(403, 'cross-site login refused');
    const client = clientKey(req.ip);
    const wait = guard.blocked(client);
    if (wait > 0) {
      reply.header('retry-after', String(wait));
      return page(429, `too many failed attempts; wait ${wait} s`);
    }
    const token = typeof req.body?.token === 'string' ? req.body.token.trim() : '';
    const who = token ? await checkToken(token) : null;
    // The form again with the reason: a page to read, not a failed resource (200, as login forms answer).
    if (!who) {
      guard.failed(client, token, 'dashboard login');
      return page(200, 'that is not a valid admin token');
    }
    const s = sessions.create(who.id, who.name);
    reply.header('set-cookie', sessionCookie(s.id, { secure, maxAgeS: Math.floor(sessions.ttlMs / 1000) }));
    return reply.redirect(safeNext(req.body?.next), 303);
  });
  app.post<{ Body: Record<string, string> | undefined }>('/ui/logout', async (req, reply) => {
    const s = req.session!;
    const presented = req.body?.csrf ?? (req.headers['x-csrf-token'] as string | undefined);
    if (!sameOrigin(req.headers as Record<string, string>) || !sameSecret(presented, s.csrf))
      return reply.code(403).type('text/plain').send('cross-site request refused');
    sessions.delete(s.id);
    reply.header('set-cookie', clearCookie(secure));
    return reply.redirect('/ui/login', 303);
  });

  // ---- pages ----
  async function chrome(
    req: FastifyRequest,
    f: Filter,
    title: string,
    extra: Partial<Chrome> = {},
  ): Promise<Chrome> {
    const [groups, coins, pulse] = await Promise.all([data.groups(), data.coinList(), data.pulse()]);
    return {
      title,
      path: req.url.split('?')[0]!,
      filter: f,
      groups,
      coins,
      csrf: req.session!.csrf,
      user: req.session!.name,
      clock: pulse.last,
      pollMs,
      ...extra,
    };
  }
  const send = (reply: FastifyReply, c: Chrome, body: Html, code = 200) =>
    reply.code(code).type('text/html; charset=utf-8').send(layout(c, body));
  type Q = { Querystring: Record<string, string> };

  app.get<Q>('/ui/', async (req, reply) => {
    const f = parseFilter(req.query);
    const o = await data.overview(f);
    return send(reply, await chrome(req, f, 'Overview', { charts: true }), overviewPage(o, f));
  });
  app.get<Q>('/ui/hosts', async (req, reply) => {
    const f = parseFilter(req.query);
    const q = (req.query.q ?? '').slice(0, 200);
    const dir = req.query.dir === 'asc' || req.query.dir === 'desc' ? req.query.dir : undefined;
    const l = await data.hostList(f, {
      q,
      ...(req.query.sort ? { sort: req.query.sort } : {}),
      ...(dir ? { dir } : {}),
    });
    const keep: Record<string, string> = {};
    if (q) keep.q = q;
    return send(reply, await chrome(req, f, 'Hosts', { keep }), hostsPage(l, f, q));
  });
  app.get<Q & { Params: { host: string } }>('/ui/hosts/:host', async (req, reply) => {
    const f = parseFilter(req.query);
    const p = await data.host(req.params.host, f);
    const c = await chrome(req, f, req.params.host, { charts: true });
    if (!p) return send(reply, c, notFound(`No host named ${req.params.host} in the store.`), 404);
    const fv = await fleetView(store, p.host.host, req.session!.csrf, p.host.inventory);
    const flash = flashOf(req.query);
    return send(
      reply,
      c,
      html`${hostPage(p, f, remotePlan(p.host.host, p.findings.map(asFinding)))}${fleetSection({ ...fv, ...(flash ? { flash } : {}) })}`,
    );
  });
  app.get<Q>('/ui/campaigns', async (req, reply) => {
    const f = parseFilter(req.query);
    return send(reply, await chrome(req, f, 'Campaigns'), campaignsPage(await data.campaigns(f), f));
  });
  app.get<Q & { Params: { by: string } }>('/ui/campaigns/:by', async (req, reply) => {
    const f = parseFilter(req.query);
    const by = req.params.by;
    const key = req.query.key ?? '';
    const c = (await data.campaigns(f)).find((x) => x.by === by && x.key === key);
    return send(
      reply,
      await chrome(req, f, `Campaign ${key}`),
      campaignPage(c, by, key, await data.hosts(), f),
      c ? 200 : 404,
    );
  });
  app.get<Q>('/ui/intel', async (req, reply) => {
    const f = parseFilter(req.query);
    const q = (req.query.q ?? '').trim().slice(0, 253);
    const base = intel();
    const needle = q.toLowerCase();
    const all = base.pools.filter(
      (p) =>
        (!f.coin || p.coins.includes(f.coin)) &&
        (!needle || p.host.includes(needle) || p.name.toLowerCase().includes(needle)),
    );
    const lookup = q ? base.lookup(q) : null;
    // The looked-up pool first: it is the answer to the question asked.
    if (lookup?.pool && !all.includes(lookup.pool.entry)) all.unshift(lookup.pool.entry);
    const view = {
      q,
      lookup,
      pools: all.slice(0, 200),
      total: all.length,
      formats: BLOCK_FORMATS.map((id) => ({ id, description: FORMAT_DESCRIPTIONS[id] })),
    };
    return send(reply, await chrome(req, f, 'Intel', { keep: q ? { q } : {} }), intelPage(view, base, f));
  });
  app.get<Q & { Params: { format: string } }>('/ui/intel/blocklist/:format', async (req, reply) => {
    const format = req.params.format as BlockFormat;
    if (!(BLOCK_FORMATS as readonly string[]).includes(format))
      return reply
        .code(404)
        .type('text/plain')
        .send(`unknown format; have ${BLOCK_FORMATS.join(', ')}`);
    const f = parseFilter(req.query);
    const base = intel();
    const sel = selectBlocklist(base, { ...(f.coin ? { coins: [f.coin] } : {}), version: VERSION });
    const text = writeSelection(sel, format, base);
    const name = `minewatch-${format}${f.coin ? `-${f.coin.toLowerCase()}` : ''}.${EXT[format]}`;
    return reply
      .type('text/plain; charset=utf-8')
      .header('content-disposition', `attachment; filename="${name}"`)
      .send(text);
  });

  // ---- JSON API (same session) ----
  app.get('/ui/api/pulse', async () => data.pulse());
  app.get<Q>('/ui/api/overview', async (req) => data.overview(parseFilter(req.query)));
  app.get<Q>('/ui/api/hosts', async (req) => {
    const dir = req.query.dir === 'asc' || req.query.dir === 'desc' ? req.query.dir : undefined;
    return data.hostList(parseFilter(req.query), {
      q: req.query.q ?? '',
      ...(req.query.sort ? { sort: req.query.sort } : {}),
      ...(dir ? { dir } : {}),
    });
  });
  app.get<Q & { Params: { host: string } }>('/ui/api/hosts/:host', async (req, reply) => {
    const p = await data.host(req.params.host, parseFilter(req.query));
    if (!p) return reply.code(404).send({ error: `no host named ${req.params.host}` });
    return { ...p, plan: remotePlan(p.host.host, p.findings.map(asFinding)) };
  });
  app.get<Q>('/ui/api/campaigns', async (req) => ({
    campaigns: await data.campaigns(parseFilter(req.query)),
  }));

  registerFleetUi(app, store);

  app.setNotFoundHandler(async (req, reply) => {
    if (req.url.startsWith('/ui/api/')) return reply.code(404).send({ error: 'no such endpoint' });
    return reply.code(404).type('text/plain').send('not found');
  });
  return app;
}

const EXT: Record<BlockFormat, string> = {
  hosts: 'hosts',
  dnsmasq: 'conf',
  unbound: 'conf',
  rpz: 'zone',
  nftables: 'nft',
  iptables: 'rules',
  ip6tables: 'rules',
  ipset: 'ipset',
  suricata: 'rules',
  snort: 'rules',
  falco: 'yaml',
  yara: 'yar',
  squid: 'conf',
};
