/**
 * `minewatch fleet`: the fleet-response console from a shell, through a running server (admin token from
 * --admin-token or MINEWATCH_ADMIN_TOKEN): approve a host's current cleanup plan, request a restore, cancel,
 * list approvals, manage block exceptions, read the decisions and the audit log.
 */
import type { Command } from 'commander';
import { adminApi } from './admin-api.ts';
import { type CommandContext, examples, json, write } from './common.ts';
import { CliError } from './io.ts';
import { renderTable } from './table.ts';

interface Common {
  server: string;
  adminToken?: string;
  json?: boolean;
}

/** `24h`, `30m`, `90s` or plain seconds, to seconds. */
function ttlSeconds(s: string): number {
  const m = /^(\d+(?:\.\d+)?)(s|m|h|d)?$/.exec(s.trim());
  if (!m) throw new CliError(`--ttl '${s}' is not a duration (e.g. 2h)`);
  return Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[(m[2] ?? 's') as 's'];
}

type Row = Record<string, unknown>;

export function registerFleet(program: Command, ctx: CommandContext): void {
  const fleet = program
    .command('fleet')
    .description('fleet response through a running server: approvals, restores, block exceptions, audit log')
    .addHelpText(
      'after',
      examples([
        'minewatch fleet approve web-01 --server https://mw.internal:8750',
        'minewatch fleet approve web-01 --step 3f2a… --step 9bc1… --ttl 2h',
        'minewatch fleet restore web-01 20261128T101500Z-3fa9c2',
        'minewatch fleet approvals --host web-01',
        'minewatch fleet except 45.9.148.85 --reason "our own test pool"',
        'minewatch fleet audit --host web-01',
      ]),
    );
  const common = (c: Command) =>
    c
      .requiredOption('--server <url>', 'the minewatch server')
      .option('--admin-token <token>', 'admin token (default $MINEWATCH_ADMIN_TOKEN)')
      .option('--json', 'print JSON');
  const out = (opts: Common, data: unknown, text: () => string) =>
    opts.json ? json(ctx, data) : write(ctx, text());

  common(
    fleet
      .command('approve <host>')
      .description("approve the host's current cleanup plan (every step, or those named with --step)")
      .option('--step <hash...>', 'approve only these step hashes (see `fleet plan HOST`)')
      .option('--ttl <duration>', 'the approval expires after this long', '24h'),
  ).action(async (host: string, opts: Common & { step?: string[]; ttl: string }) => {
    const a = await adminApi(opts, 'POST', `api/v1/fleet/hosts/${encodeURIComponent(host)}/approvals`, {
      kind: 'clean',
      ttl_s: ttlSeconds(opts.ttl),
      ...(opts.step ? { steps: opts.step } : {}),
    });
    out(opts, a, () => {
      const steps = (a.steps as Row[]) ?? [];
      return `approval ${a.id} for ${host}: ${steps.length} step(s), expires ${a.expires}\n${renderTable(
        steps,
        [
          { header: 'HASH', value: (s) => String(s.hash).slice(0, 12) },
          { header: 'KIND', value: (s) => String(s.kind) },
          {
            header: 'TARGET',
            value: (s) => String(s.path ?? (s.pid !== undefined ? `pid ${s.pid}` : '')),
            max: 60,
          },
        ],
      )}`;
    });
  });
  common(
    fleet
      .command('restore <host> <journal>')
      .description('ask the host to restore a cleanup journal it reported')
      .option('--ttl <duration>', 'the request expires after this long', '24h'),
  ).action(async (host: string, journal: string, opts: Common & { ttl: string }) => {
    const a = await adminApi(opts, 'POST', `api/v1/fleet/hosts/${encodeURIComponent(host)}/approvals`, {
      kind: 'restore',
      journal,
      ttl_s: ttlSeconds(opts.ttl),
    });
    out(opts, a, () => `restore request ${a.id} for ${host}: journal ${journal}, expires ${a.expires}`);
  });
  common(fleet.command('cancel <approval>').description('cancel a pending approval')).action(
    async (id: string, opts: Common) => {
      const a = await adminApi(opts, 'DELETE', `api/v1/fleet/approvals/${encodeURIComponent(id)}`);
      out(opts, a, () => `cancelled ${a.id}`);
    },
  );
  common(fleet.command('plan <host>').description("the host's reported plan, approvals and journals")).action(
    async (host: string, opts: Common) => {
      const d = await adminApi(opts, 'GET', `api/v1/fleet/hosts/${encodeURIComponent(host)}`);
      out(opts, d, () => {
        const plan = d.plan as { steps: Row[]; time: string; verdict: string } | null;
        if (!plan) return `${host} has reported no plan (is its agent started with --allow-remote-clean?)`;
        return `${host}: ${plan.verdict}, plan of ${plan.time}\n${renderTable(plan.steps, [
          { header: 'HASH', value: (s) => String(s.hash) },
          { header: 'KIND', value: (s) => String(s.kind) },
          {
            header: 'TARGET',
            value: (s) => String(s.path ?? (s.pid !== undefined ? `pid ${s.pid}` : '')),
            max: 50,
          },
          { header: 'NOTE', value: (s) => String(s.skip ?? ''), max: 30 },
        ])}`;
      });
    },
  );
  common(
    fleet
      .command('approvals')
      .description('approvals and their outcomes')
      .option('--host <host>', 'one host'),
  ).action(async (opts: Common & { host?: string }) => {
    const d = await adminApi(
      opts,
      'GET',
      `api/v1/fleet/approvals${opts.host ? `?host=${encodeURIComponent(opts.host)}` : ''}`,
    );
    out(opts, d, () =>
      renderTable(d.approvals as Row[], [
        { header: 'ID', value: (a) => String(a.id) },
        { header: 'HOST', value: (a) => String(a.host) },
        { header: 'KIND', value: (a) => String(a.kind) },
        { header: 'STATE', value: (a) => String(a.state) },
        { header: 'BY', value: (a) => String(a.by) },
        {
          header: 'JOURNAL',
          value: (a) => String((a.result as Row | undefined)?.journal ?? a.journal ?? ''),
        },
        { header: 'VERDICT', value: (a) => String((a.result as Row | undefined)?.verdict ?? '') },
      ]),
    );
  });
  common(
    fleet
      .command('except <value>')
      .description('never block this address or domain (and what the fleet saw for it)')
      .option('--reason <text>', 'why', ''),
  ).action(async (value: string, opts: Common & { reason: string }) => {
    const e = await adminApi(opts, 'POST', 'api/v1/decisions/exceptions', { value, reason: opts.reason });
    out(opts, e, () => `exception for ${e.value} added`);
  });
  common(fleet.command('unexcept <value>').description('remove an exception')).action(
    async (value: string, opts: Common) => {
      const e = await adminApi(opts, 'DELETE', `api/v1/decisions/exceptions/${encodeURIComponent(value)}`);
      out(opts, e, () => `exception for ${value} removed`);
    },
  );
  common(fleet.command('decisions').description('the block decisions in force, with reasons')).action(
    async (opts: Common) => {
      const d = await adminApi(opts, 'GET', 'api/v1/decisions');
      out(
        opts,
        d,
        () =>
          `version ${d.version}\n${renderTable(d.decisions as Row[], [
            { header: 'TYPE', value: (x) => String(x.type) },
            { header: 'VALUE', value: (x) => String(x.value) },
            { header: 'ORIGIN', value: (x) => String(x.origin) },
            { header: 'REASON', value: (x) => String(x.reason), max: 70 },
          ])}`,
      );
    },
  );
  common(
    fleet
      .command('audit')
      .description('the audit log, newest first')
      .option('--host <host>', 'one host')
      .option(
        '--action <action>',
        'approve, cancel, result, restore-request, expire, refused, exception-add...',
      )
      .option('--limit <n>', 'at most this many', '100'),
  ).action(async (opts: Common & { host?: string; action?: string; limit: string }) => {
    const q = new URLSearchParams({ limit: opts.limit });
    if (opts.host) q.set('host', opts.host);
    if (opts.action) q.set('action', opts.action);
    const d = await adminApi(opts, 'GET', `api/v1/audit?${q}`);
    out(opts, d, () =>
      renderTable(d.audit as Row[], [
        { header: 'TIME', value: (a) => String(a.time) },
        { header: 'ACTOR', value: (a) => String(a.actor) },
        { header: 'ACTION', value: (a) => String(a.action) },
        { header: 'HOST', value: (a) => String(a.host) },
        { header: 'SUBJECT', value: (a) => String(a.subject) },
      ]),
    );
  });
}
