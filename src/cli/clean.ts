import path from 'node:path';
import type { Command } from 'commander';
import { intelView, scanHost } from '../detect/host/index.ts';
import {
  type ApplyResult,
  applyPlan,
  CleanupError,
  type CleanupPlan,
  defaultJournalDir,
  defaultQuarantineDir,
  e2fsAttrs,
  type PlanStep,
  planCleanup,
  resumeCleanup,
  rootPlanIO,
  type StepResult,
} from '../respond/cleanup/index.ts';
import { type CommandContext, examples, formatOption, json, write } from './common.ts';
import { loadIntelFor, noUserIntelOption, userDirOption } from './intel-options.ts';
import { CliError, EXIT } from './io.ts';
import { renderTable } from './table.ts';

function target(s: PlanStep): string {
  if (s.kind === 'stop' || s.kind === 'kill')
    return `pid ${s.pid}${s.process?.exe ? ` ${s.process.exe}` : s.process?.cmdline ? ` ${s.process.cmdline}` : ''}`;
  if (s.kind === 'restore-tool') return `${s.from} → ${s.path}`;
  if (s.lines?.length) return `${s.path}:${s.lines.map((l) => l.line).join(',')}`;
  if (s.links?.length) return `${s.path} (+${s.links.length} link${s.links.length > 1 ? 's' : ''})`;
  return s.path ?? '';
}

export function renderPlan(plan: CleanupPlan): string {
  if (!plan.steps.length) return `Nothing to clean below ${plan.root}.`;
  const out = [
    `Cleanup plan for ${plan.root}${plan.live ? ' (live system)' : ''}: ${plan.steps.length} step(s)`,
    renderTable(plan.steps, [
      { header: 'STEP', value: (s) => s.id },
      { header: 'TARGET', value: target, max: 60 },
      { header: 'WHY', value: (s) => s.reason, max: 70 },
      { header: 'NOTE', value: (s) => s.skip ?? '', max: 40 },
    ]),
  ];
  if (plan.notes.length) out.push('', 'Notes:', ...plan.notes.map((n) => `  - ${n}`));
  return out.join('\n');
}

export function renderResults(rows: StepResult[], title: string): string {
  return `${title}\n${renderTable(rows, [
    { header: 'STEP', value: (r) => r.id },
    { header: 'STATUS', value: (r) => r.status },
    { header: 'TARGET', value: (r) => r.path ?? (r.pid !== undefined ? `pid ${r.pid}` : ''), max: 50 },
    { header: 'DETAIL', value: (r) => r.detail ?? '', max: 80 },
  ])}`;
}

function asCli<T>(f: () => Promise<T>): Promise<T> {
  return f().catch((e: unknown) => {
    if (e instanceof CleanupError) throw new CliError(e.message);
    throw e;
  });
}

interface CleanOpts {
  root: string;
  apply?: boolean;
  resume?: string;
  journalDir?: string;
  quarantineDir?: string;
  paths?: string[];
  maxFileMb: number;
  format: string;
  intelDir?: string;
  userIntel?: boolean;
}

export function registerClean(program: Command, ctx: CommandContext): void {
  program
    .command('clean')
    .description(
      'turn a host scan into a cleanup plan; with --apply stop the miners, remove their persistence and quarantine their files (journalled, undo with `restore`)',
    )
    .option(
      '--root <dir>',
      "directory that stands for the host's / (processes are only signalled for /)",
      '/',
    )
    .option('--apply', 'carry the plan out (default: only print it)')
    .option('--resume <journal>', 'finish a cleanup that was interrupted (no new scan)')
    .option(
      '--journal-dir <dir>',
      'where journals live (default: $MINEWATCH_HOME/journal or /var/lib/minewatch/journal, outside the root)',
    )
    .option(
      '--quarantine-dir <dir>',
      'where quarantined files go (default: $MINEWATCH_HOME/quarantine or /var/lib/minewatch/quarantine)',
    )
    .option('--paths <paths...>', 'paths under the root to content-scan (default: the usual drop zones)')
    .option('--max-file-mb <n>', 'read at most this much of one file', (v) => Number(v), 64)
    .addOption(formatOption(['table', 'json']))
    .addOption(userDirOption())
    .addOption(noUserIntelOption())
    .addHelpText(
      'after',
      examples([
        'minewatch clean                                 # what would be done on this host',
        'minewatch clean --apply                         # do it; prints the journal id',
        'minewatch clean --root /mnt/image --apply --journal-dir /srv/ir/journal',
        'minewatch clean --resume 20261128T101500Z-3fa9c2',
        'minewatch restore 20261128T101500Z-3fa9c2       # put everything back',
      ]),
    )
    .action((opts: CleanOpts) =>
      asCli(async () => {
        const journalDir = path.resolve(opts.journalDir ?? defaultJournalDir());
        const quarantineDir = path.resolve(opts.quarantineDir ?? defaultQuarantineDir());
        const format = opts.format === 'json' ? 'json' : 'table';
        let plan: CleanupPlan | undefined;
        let result: ApplyResult | undefined;
        if (opts.resume) {
          result = await resumeCleanup(opts.resume, { journalDir });
        } else {
          const root = path.resolve(opts.root);
          const scan = await scanHost({
            root,
            ...(opts.paths ? { paths: opts.paths } : {}),
            maxFileBytes: Math.max(1, opts.maxFileMb) * 1024 * 1024,
            intel: intelView(loadIntelFor(opts)),
          });
          plan = planCleanup(scan, { root, live: root === '/' }, rootPlanIO(root, e2fsAttrs));
          if (opts.apply && plan.steps.length) result = await applyPlan(plan, { journalDir, quarantineDir });
        }
        if (format === 'json') {
          json(ctx, {
            root: plan?.root ?? null,
            plan: plan ?? null,
            applied: result?.applied ?? null,
            status: result?.status ?? (plan ? 'planned' : null),
            journal: result?.journal ?? null,
            journal_dir: result?.journal_dir ?? null,
            quarantine: result?.quarantine ?? null,
          });
        } else {
          if (plan) write(ctx, renderPlan(plan));
          if (result) {
            write(ctx, `\n${renderResults(result.applied, opts.resume ? 'Resumed:' : 'Applied:')}`);
            write(
              ctx,
              `\njournal: ${result.journal} (${result.status})\nquarantine: ${result.quarantine}\nundo with: minewatch restore ${result.journal}${opts.journalDir ? ` --journal-dir ${journalDir}` : ''}`,
            );
          } else if (plan?.steps.length)
            write(ctx, '\nDry run: nothing was changed. Run again with --apply to carry it out.');
        }
        const failed = result?.applied.filter((r) => r.status === 'failed') ?? [];
        if (failed.length) {
          ctx.io.stderr.write(
            `minewatch: ${failed.length} step(s) failed: ${failed.map((f) => `${f.id} (${f.detail})`).join('; ')}\n`,
          );
          ctx.exitCode = EXIT.ERROR;
        } else {
          const something = plan ? plan.steps.length > 0 : (result?.applied.length ?? 0) > 0;
          ctx.exitCode = something ? EXIT.FOUND : EXIT.CLEAN;
        }
      }),
    );
}
