import type { Command } from 'commander';
import { intelView, type ScanResult, scanHost } from '../detect/host/index.ts';
import { asFormat, type CommandContext, examples, reportFormatOption } from './common.ts';
import { loadIntelFor, noUserIntelOption, userDirOption } from './intel-options.ts';
import { EXIT } from './io.ts';
import { printReport } from './output.ts';

/** A one-line progress bar for the file walk, redrawn in place; only when stderr is a terminal. */
function progressBar(ctx: CommandContext) {
  if (!ctx.io.stderr.isTTY) return undefined;
  let last = 0;
  return {
    onProgress(p: { files: number; bytes: number; path: string }) {
      const now = Date.now();
      if (now - last < 100) return;
      last = now;
      const mb = (p.bytes / 1e6).toFixed(0);
      const path = p.path.length > 50 ? `…${p.path.slice(-49)}` : p.path;
      ctx.io.stderr.write(`\r\x1b[2Kscanning: ${p.files} files, ${mb} MB  ${path}`);
    },
    done() {
      ctx.io.stderr.write('\r\x1b[2K');
    },
  };
}

export function scanSummary(r: ScanResult) {
  return {
    host: r.host,
    verdict: r.verdict,
    stats: r.stats,
    warnings: r.warnings.slice(0, 100),
  };
}

export function registerScan(program: Command, ctx: CommandContext): void {
  program
    .command('scan')
    .description(
      'scan a host (live, a mounted image or a container root) for miners, droppers and persistence',
    )
    .option(
      '--root <dir>',
      "directory that stands for the host's / (a mounted disk, a container rootfs)",
      '/',
    )
    .option('--paths <paths...>', 'paths under the root to content-scan (default: the usual drop zones)')
    .option('--no-files', 'skip the file content scan (processes, connections and persistence still run)')
    .option(
      '--deep',
      'also walk package and toolchain trees (node_modules, site-packages, .pyenv, .rustup…), pruned by default',
    )
    .option('--max-file-mb <n>', 'read at most this much of one file', (v) => Number(v), 64)
    .addOption(reportFormatOption())
    .addOption(userDirOption())
    .addOption(noUserIntelOption())
    .addHelpText(
      'after',
      examples([
        'minewatch scan                                  # this host',
        'minewatch scan --root /mnt/disk-image --format json',
        'minewatch scan --root /var/lib/docker/overlay2/ID/merged --no-files',
        'minewatch scan --paths tmp var/tmp dev/shm --format ndjson',
      ]),
    )
    .action(
      async (opts: {
        root: string;
        paths?: string[];
        files: boolean;
        deep?: boolean;
        exclude?: string[];
        maxFileMb: number;
        format: string;
        intelDir?: string;
        userIntel?: boolean;
      }) => {
        const format = asFormat(opts.format);
        const bar = progressBar(ctx);
        const result = await scanHost({
          root: opts.root,
          ...(opts.paths ? { paths: opts.paths } : {}),
          files: opts.files,
          deep: opts.deep === true,
          ...(opts.exclude ? { exclude: opts.exclude } : {}),
          maxFileBytes: Math.max(1, opts.maxFileMb) * 1024 * 1024,
          intel: intelView(loadIntelFor(opts)),
          ...(bar ? { onProgress: bar.onProgress } : {}),
        });
        bar?.done();
        const v = result.verdict;
        printReport(ctx, format, result.findings, scanSummary(result), [
          {
            title: 'Verdict',
            rows: [
              ['host', result.host.hostname ?? result.host.root],
              ['status', v.status],
              ['infection type', v.infection_type ?? '-'],
              ['coins', v.coins.join(', ') || '-'],
              ['pools', v.pools.join(', ') || '-'],
              ['wallets', v.wallets.join(', ') || '-'],
              ['accounts', v.accounts.join(', ') || '-'],
              ['workers', v.workers.join(', ') || '-'],
              ['families', v.families.join(', ') || '-'],
              ['c2', v.c2.join(', ') || '-'],
              ['persistence', v.persistence.join(', ') || '-'],
              ['rival pools (removed, not counted)', v.rivals.pools.join(', ') || '-'],
              ['rival wallets (removed, not counted)', v.rivals.wallets.join(', ') || '-'],
              [
                'scanned',
                `${result.stats.processes} processes, ${result.stats.files} files, ${(result.stats.bytes / 1e6).toFixed(1)} MB in ${result.stats.ms} ms`,
              ],
              ['warnings', String(result.stats.warnings ?? result.warnings.length)],
            ] as Array<[string, string]>,
            columns: [
              { header: 'FIELD', value: (r: [string, string]) => r[0] },
              { header: 'VALUE', value: (r: [string, string]) => r[1] },
            ],
          },
        ]);
        ctx.exitCode = v.status === 'infected' ? EXIT.FOUND : EXIT.CLEAN;
      },
    );
}
