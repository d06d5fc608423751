/**
 * `minewatch serve`: the HTTP API over the store. Runs until SIGINT/SIGTERM; prints the URL it listens on.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { RunningServer } from '../server/app.ts';
import { adminTokenWeakness } from '../server/authguard.ts';
import { dbOption, defaultDb, openStore } from '../store/index.ts';
import { type CommandContext, examples, write } from './common.ts';
import { CliError } from './io.ts';

export interface ServeOptions {
  db?: string;
  listen: string;
  tlsCert?: string;
  tlsKey?: string;
  maxBody: string;
  maxEvents: string;
  rateLimit: string;
  maxAge?: string;
}

/** `400d`, `52w`, `1y` or plain days, to ms. */
function parseAge(v: string): number {
  const m = /^(\d+)\s*(d|w|y)?$/.exec(v.trim());
  if (!m || Number(m[1]) <= 0)
    throw new CliError(`--max-age '${v}' is not an age (e.g. 400d, 52w, 1y; 0 = none)`);
  return Number(m[1]) * { d: 1, w: 7, y: 365 }[(m[2] ?? 'd') as 'd'] * 86_400_000;
}

function positive(v: string, what: string, allowZero = false): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || (!allowZero && n === 0))
    throw new CliError(`${what} must be a positive number, got '${v}'`);
  return n;
}

/** Starts the server (the action's body, callable by tests). */
export async function runServe(ctx: CommandContext, opts: ServeOptions): Promise<RunningServer> {
  if (Boolean(opts.tlsCert) !== Boolean(opts.tlsKey))
    throw new CliError('--tls-cert and --tls-key go together');
  const https =
    opts.tlsCert && opts.tlsKey
      ? { cert: readFileSync(opts.tlsCert), key: readFileSync(opts.tlsKey) }
      : undefined;
  const bodyLimit = positive(opts.maxBody, '--max-body');
  const maxEvents = positive(opts.maxEvents, '--max-events');
  const rateLimit = positive(opts.rateLimit, '--rate-limit', true);
  const maxAgeMs = opts.maxAge === undefined || opts.maxAge === '0' ? undefined : parseAge(opts.maxAge);
  const adminToken = process.env.MINEWATCH_ADMIN_TOKEN || undefined;
  const weak = adminToken ? adminTokenWeakness(adminToken) : null;
  if (weak?.refuse) throw new CliError(`${weak.why}: refusing to start (generate one: openssl rand -hex 32)`);
  if (weak)
    ctx.io.stderr.write(
      `minewatch serve: WARNING: ${weak.why}\nminewatch serve: WARNING: anyone who guesses it can read the whole fleet and mint tokens\n`,
    );
  const db = opts.db ?? defaultDb();
  let store: Awaited<ReturnType<typeof openStore>>;
  try {
    store = await openStore(db, { warm: true });
  } catch (err) {
    throw new CliError((err as Error).message, db);
  }
  const { startServer } = await import('../server/app.ts');
  let server: RunningServer;
  try {
    server = await startServer({
      store,
      listen: opts.listen,
      bodyLimit,
      maxEvents,
      rateLimit,
      ...(opts.maxAge === '0' ? { maxAgeMs: Number.POSITIVE_INFINITY } : maxAgeMs ? { maxAgeMs } : {}),
      ...(adminToken ? { adminToken } : {}),
      ...(https ? { https } : {}),
      log: (m) => ctx.io.stderr.write(`${m}\n`),
    });
  } catch (err) {
    await store.close();
    throw new CliError(`cannot listen on ${opts.listen}: ${(err as Error).message}`);
  }
  if (!adminToken && !(await store.listTokens()).some((t) => t.admin && !t.revoked))
    ctx.io.stderr.write(
      'minewatch serve: no admin token yet: queries need one (set MINEWATCH_ADMIN_TOKEN, or `minewatch token create --admin` with the server stopped)\n',
    );
  write(ctx, `minewatch serve: listening on ${server.url} (store: ${store.engine} ${store.location})`);
  return server;
}

export function registerServe(program: Command, ctx: CommandContext): void {
  program
    .command('serve')
    .description('run the HTTP API: agents send events and findings, admins query the fleet')
    .addOption(dbOption())
    .option(
      '--listen <host:port>',
      'address to listen on (loopback by default; put TLS or a proxy in front for others)',
      '127.0.0.1:8750',
    )
    .option('--tls-cert <file>', 'serve HTTPS with this PEM certificate')
    .option('--tls-key <file>', 'PEM private key for --tls-cert')
    .option('--max-body <bytes>', 'largest request body (413 above)', String(16 * 1024 * 1024))
    .option('--max-events <n>', 'most events in one request (413 above)', '50000')
    .option('--rate-limit <n>', 'requests per second per token, burst twice that (429 above; 0 = off)', '100')
    .option(
      '--max-age <age>',
      'retention horizon: events dated further back are refused (e.g. 400d, 2y; 0 = none)',
      '400d',
    )
    .addHelpText(
      'after',
      examples([
        'minewatch serve --db ./minewatch.db',
        'MINEWATCH_ADMIN_TOKEN=$(openssl rand -hex 32) minewatch serve --listen 0.0.0.0:8750 --tls-cert c.pem --tls-key k.pem',
        'minewatch serve --db clickhouse://127.0.0.1:8123/minewatch   # any number of replicas',
      ]),
    )
    .action(async (opts: ServeOptions) => {
      const server = await runServe(ctx, opts);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await server.close();
    });
}
