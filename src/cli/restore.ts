import path from 'node:path';
import type { Command } from 'commander';
import { CleanupError, defaultJournalDir, listJournals, restoreJournal } from '../respond/cleanup/index.ts';
import { renderResults } from './clean.ts';
import { type CommandContext, examples, formatOption, json, write } from './common.ts';
import { CliError, EXIT } from './io.ts';
import { renderTable } from './table.ts';

interface RestoreOpts {
  root?: string;
  journalDir?: string;
  list?: boolean;
  format: string;
}

export function registerRestore(program: Command, ctx: CommandContext): void {
  program
    .command('restore')
    .description(
      'undo a cleanup from its journal: files back from the quarantine, edited files byte for byte, with owner, mode and times (complete or interrupted cleanups; running it twice is harmless)',
    )
    .argument('[journal]', 'journal id printed by `clean --apply` (or the journal directory)')
    .option('--root <dir>', 'the root as it is mounted now (default: where it was cleaned)')
    .option(
      '--journal-dir <dir>',
      'where journals live (default: $MINEWATCH_HOME/journal or /var/lib/minewatch/journal)',
    )
    .option('--list', 'list the journals and their state')
    .addOption(formatOption(['table', 'json']))
    .addHelpText(
      'after',
      examples([
        'minewatch restore --list',
        'minewatch restore 20261128T101500Z-3fa9c2',
        'minewatch restore 20261128T101500Z-3fa9c2 --root /mnt/image --journal-dir /srv/ir/journal',
      ]),
    )
    .action(async (journal: string | undefined, opts: RestoreOpts) => {
      const journalDir = path.resolve(opts.journalDir ?? defaultJournalDir());
      if (opts.list || !journal) {
        if (!opts.list) throw new CliError('say which journal to restore (see --list)');
        const rows = listJournals(journalDir);
        if (opts.format === 'json') json(ctx, { journals: rows });
        else
          write(
            ctx,
            rows.length
              ? renderTable(rows, [
                  { header: 'JOURNAL', value: (r) => r.id },
                  { header: 'STATE', value: (r) => r.status },
                  { header: 'ROOT', value: (r) => r.root },
                  { header: 'TIME', value: (r) => r.time },
                ])
              : `No journals in ${journalDir}.`,
          );
        ctx.exitCode = EXIT.CLEAN;
        return;
      }
      let r: Awaited<ReturnType<typeof restoreJournal>>;
      try {
        r = await restoreJournal(journal, {
          journalDir,
          ...(opts.root ? { root: path.resolve(opts.root) } : {}),
        });
      } catch (e) {
        if (e instanceof CleanupError) throw new CliError(e.message);
        throw e;
      }
      if (opts.format === 'json') json(ctx, r);
      else {
        write(ctx, renderResults(r.restored, `Restored ${r.root} from journal ${r.journal}:`));
        write(ctx, `\nstatus: ${r.status}`);
      }
      const failed = r.restored.filter((s) => s.status === 'failed');
      if (failed.length) {
        ctx.io.stderr.write(
          `minewatch: ${failed.length} step(s) not restored: ${failed.map((f) => `${f.id} (${f.detail})`).join('; ')}\n`,
        );
        ctx.exitCode = EXIT.ERROR;
      } else ctx.exitCode = EXIT.CLEAN;
    });
}
