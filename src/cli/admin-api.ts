/**
 * A call to a running server's admin API, for the commands that work through `--server` (token, fleet):
 * the admin token from `--admin-token` or MINEWATCH_ADMIN_TOKEN, a bounded wait, and the server's own error
 * message on failure.
 */
import { CliError } from './io.ts';

export interface AdminServer {
  /** Optional in the commands' own options, where a store can be used instead; required here. */
  server?: string;
  adminToken?: string;
}

export async function adminApi(
  opts: AdminServer,
  method: string,
  path: string,
  body?: unknown,
): Promise<Record<string, unknown>> {
  const server = opts.server;
  if (!server) throw new CliError('--server URL is needed');
  const token = opts.adminToken ?? process.env.MINEWATCH_ADMIN_TOKEN;
  if (!token) throw new CliError('--server needs an admin token: --admin-token T or MINEWATCH_ADMIN_TOKEN');
  let url: URL;
  try {
    url = new URL(path, server.endsWith('/') ? server : `${server}/`);
  } catch {
    throw new CliError(`--server '${server}' is not a URL`);
  }
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (err) {
    throw new CliError(`cannot reach ${url.origin}: ${(err as Error).message}`);
  }
  const data = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (!res.ok)
    throw new CliError(`${url.origin} answered ${res.status}: ${String(data.error ?? res.statusText)}`);
  return data;
}
