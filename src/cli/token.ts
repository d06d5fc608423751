/**
 * `minewatch token create|list|revoke`: agent and admin tokens. Against the store directly (`--db`), or through a
 * running server (`--server URL`, admin token from --admin-token or MINEWATCH_ADMIN_TOKEN) — the embedded store
 * has one writer, so while `serve` runs on it, tokens go through the server.
 */
import type { Command } from 'commander';
import { newToken } from '../server/tokens.ts';
import { dbOption, defaultDb, openStore, type Store, type TokenRecord } from '../store/index.ts';
import { adminApi } from './admin-api.ts';
import { type CommandContext, examples, json, write } from './common.ts';
import { CliError } from './io.ts';

interface Common {
  db?: string;
  server?: string;
  adminToken?: string;
  json?: boolean;
}

async function withStore<T>(db: string | undefined, fn: (s: Store) => Promise<T>): Promise<T> {
  const where = db ?? defaultDb();
  let store: Store;
  try {
    store = await openStore(where);
  } catch (err) {
    throw new CliError((err as Error).message, where);
  }
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

function shown(t: Omit<TokenRecord, 'hash'> & { hash?: string }) {
  const { hash: _h, ...rest } = t;
  return rest;
}

export function registerToken(program: Command, ctx: CommandContext): void {
  const token = program
    .command('token')
    .description('create, list and revoke agent and admin tokens')
    .addHelpText(
      'after',
      examples([
        'minewatch token create --name web-01 --db ./minewatch.db',
        'minewatch token create --name ops --admin --db ./minewatch.db',
        'minewatch token list --server http://127.0.0.1:8750 --admin-token $MINEWATCH_ADMIN_TOKEN',
        'minewatch token revoke web-01 --db ./minewatch.db',
      ]),
    );
  const common = (c: Command) =>
    c
      .addOption(dbOption())
      .option('--server <url>', 'manage tokens through a running server instead of the store')
      .option('--admin-token <token>', 'admin token for --server (default $MINEWATCH_ADMIN_TOKEN)')
      .option('--json', 'print JSON');

  common(
    token
      .command('create')
      .description('create a token and print it once (only its hash is stored)')
      .requiredOption('--name <name>', 'who uses it: the agent host name, or a person for admin tokens')
      .option('--admin', 'may query the fleet and manage tokens (agents only send)')
      .option(
        '--host <host>',
        'the one host this agent token may send events for (default: the host of its first event)',
      ),
  )
    .addHelpText(
      'after',
      examples([
        'minewatch token create --name web-01 --db ./minewatch.db',
        'minewatch token create --name ops --admin',
        'minewatch token create --name web-02 --server http://127.0.0.1:8750   # while serve runs',
      ]),
    )
    .action(async (opts: Common & { name: string; admin?: boolean; host?: string }) => {
      let out: Record<string, unknown>;
      if (opts.server)
        out = await adminApi(opts, 'POST', 'api/v1/tokens', {
          name: opts.name,
          admin: Boolean(opts.admin),
          ...(opts.host !== undefined ? { host: opts.host } : {}),
        });
      else {
        let made: ReturnType<typeof newToken>;
        try {
          made = newToken(opts.name, Boolean(opts.admin), new Date(), opts.host);
        } catch (err) {
          throw new CliError((err as Error).message);
        }
        await withStore(opts.db, (s) => s.putToken(made.record));
        out = { token: made.token, ...shown(made.record) };
      }
      if (opts.json) json(ctx, out);
      else {
        write(ctx, String(out.token));
        ctx.io.stderr.write(
          `minewatch: ${out.admin ? 'admin' : 'agent'} token '${String(out.name)}' created; it is shown only this once\n`,
        );
      }
    });

  common(
    token.command('list').description('list tokens (names, ids, admin, revoked; never the secrets)'),
  ).action(async (opts: Common) => {
    const list = opts.server
      ? ((await adminApi(opts, 'GET', 'api/v1/tokens')).tokens as Omit<TokenRecord, 'hash'>[])
      : (await withStore(opts.db, (s) => s.listTokens())).map(shown);
    if (opts.json) return json(ctx, { tokens: list });
    if (!list.length) return write(ctx, 'no tokens');
    for (const t of list)
      write(
        ctx,
        `${t.id}  ${t.admin ? 'admin' : 'agent'}  ${t.revoked ? 'revoked' : 'active '}  ${t.created}  ${t.name}${t.host ? `  host=${t.host}` : ''}`,
      );
  });

  common(
    token
      .command('revoke')
      .description('revoke every active token with this name, or with --id the one token with that id')
      .argument('<name>', 'the token name (with --id: the token id, as `token list` shows it)')
      .option('--id', 'the argument is a token id, not a name (never both: a name may look like an id)'),
  ).action(async (name: string, opts: Common & { id?: boolean }) => {
    const which = opts.id ? { id: name } : { name };
    const path = opts.id
      ? `api/v1/tokens/by-id/${encodeURIComponent(name)}`
      : `api/v1/tokens/${encodeURIComponent(name)}`;
    const n = opts.server
      ? Number((await adminApi(opts, 'DELETE', path)).revoked)
      : await withStore(opts.db, (s) => s.revokeToken(which));
    const what = opts.id ? `with id '${name}'` : `named '${name}'`;
    if (!n) throw new CliError(`no active token ${what}`);
    write(ctx, `revoked ${n} token${n === 1 ? '' : 's'} ${what}`);
  });
}
