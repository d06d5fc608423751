/** Test helpers: `minewatch serve` as a real child process (for kill -9), and HTTP calls with a token. */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Starts `serve` in a child process; resolves with its URL once it listens (bounded wait). */
export function spawnServe(
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 30_000,
): Promise<{ url: string; child: ChildProcess; stderr: () => string }> {
  const code = `
    const { Command } = await import('commander');
    const { registerServe } = await import('./src/cli/serve.ts');
    const ctx = { io: { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin }, exitCode: 0 };
    const program = new Command('minewatch').exitOverride();
    registerServe(program, ctx);
    await program.parseAsync(${JSON.stringify(['serve', ...args])}, { from: 'user' });
    process.exit(0);`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`serve did not start within ${timeoutMs} ms: ${err}`));
    }, timeoutMs);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1]!, child, stderr: () => err });
      }
    });
    child.once('exit', (c) => {
      clearTimeout(timer);
      reject(new Error(`serve exited (${c}) before listening: ${err}`));
    });
  });
}

export async function http(
  url: string,
  opts: { method?: string; token?: string; body?: string; type?: string } = {},
): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const res = await fetch(url, {
    method: opts.method ?? (opts.body !== undefined ? 'POST' : 'GET'),
    headers: {
      ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
      ...(opts.body !== undefined ? { 'content-type': opts.type ?? 'application/x-ndjson' } : {}),
    },
    ...(opts.body !== undefined ? { body: opts.body } : {}),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try {
    body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    body = { text };
  }
  return { status: res.status, body, headers: res.headers };
}

export const ndjson = (events: readonly unknown[]): string =>
  `${events.map((e) => JSON.stringify(e)).join('\n')}\n`;
