/**
 * `minewatch report`: the fleet analysis over the store (coin share, pool and port rankings, daily series,
 * spikes, lagged correlations, price vs heat, infection types, intrusion vectors, campaigns) as a
 * self-contained HTML file, markdown, or JSON with stable keys. Exit 1 when the range shows mining.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { type Command, Option } from 'commander';
import { type Analysis, analyze, collect, type PriceTable, parsePrices } from '../analytics/index.ts';
import { renderHtml, renderMarkdown, summarize } from '../report/index.ts';
import { dbOption, defaultDb, openStore, type Store } from '../store/index.ts';
import { type CommandContext, examples, foundExit, write } from './common.ts';
import { CliError } from './io.ts';

export const REPORT_FORMATS = ['html', 'md', 'json'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export interface ReportOptions {
  db?: string;
  from?: string;
  to?: string;
  prices?: string;
  format?: ReportFormat;
  output?: string;
  title?: string;
}

/** The format asked for, else the output file's extension, else markdown (readable in a terminal). */
export function reportFormat(opts: Pick<ReportOptions, 'format' | 'output'>): ReportFormat {
  if (opts.format) return opts.format;
  const ext = opts.output?.toLowerCase().match(/\.(html?|md|markdown|json)$/)?.[1];
  if (ext === 'html' || ext === 'htm') return 'html';
  if (ext === 'json') return 'json';
  return 'md';
}

/** Reads a price CSV; bad lines are warned about on stderr, a file with no good line is an error. */
export function loadPrices(ctx: CommandContext, file: string): PriceTable {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new CliError(e.code === 'ENOENT' ? 'no such file' : e.message, file);
  }
  const { table, errors } = parsePrices(text);
  for (const e of errors.slice(0, 10))
    ctx.io.stderr.write(`minewatch report: ${file}:${e.line}: ${e.reason} (line skipped)\n`);
  if (errors.length > 10)
    ctx.io.stderr.write(`minewatch report: ${file}: ${errors.length - 10} more bad lines skipped\n`);
  if (!table.byCoin.size) throw new CliError('no prices read (expected lines of date,coin,price_usd)', file);
  return table;
}

/** The JSON document: the analysis plus the written summary (keys are a contract; add, never rename). */
export function reportJson(a: Analysis): Record<string, unknown> {
  return { ...a, summary: summarize(a) };
}

export function renderReport(a: Analysis, format: ReportFormat, title?: string): string {
  if (format === 'json') return `${JSON.stringify(reportJson(a), null, 2)}\n`;
  if (format === 'md') return renderMarkdown(a, title);
  return renderHtml(a, {
    ...(title ? { title } : {}),
    generatedAt: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
  });
}

/** Runs the analysis over an open store (the demo reuses it). */
export async function analyzeStore(
  store: Store,
  opts: { from?: string; to?: string; prices?: PriceTable },
): Promise<Analysis> {
  let input: Awaited<ReturnType<typeof collect>>;
  try {
    input = await collect(store, opts);
  } catch (err) {
    if (err instanceof RangeError) throw new CliError(err.message);
    throw err;
  }
  if (input.from && input.to && input.from > input.to)
    throw new CliError(`--from ${input.from} is after --to ${input.to}`);
  return analyze(input);
}

export async function runReport(ctx: CommandContext, opts: ReportOptions): Promise<Analysis> {
  const format = reportFormat(opts);
  const prices = opts.prices ? loadPrices(ctx, opts.prices) : undefined;
  const db = opts.db ?? defaultDb();
  let store: Store;
  try {
    store = await openStore(db);
  } catch (err) {
    throw new CliError((err as Error).message, db);
  }
  let a: Analysis;
  try {
    a = await analyzeStore(store, {
      ...(opts.from ? { from: opts.from } : {}),
      ...(opts.to ? { to: opts.to } : {}),
      ...(prices ? { prices } : {}),
    });
  } finally {
    await store.close();
  }
  const text = renderReport(a, format, opts.title);
  if (opts.output && opts.output !== '-') {
    writeFileSync(opts.output, text);
    ctx.io.stderr.write(
      `minewatch report: wrote ${opts.output} (${format}, ${a.range.days} days, ${a.spikes.length} spikes)\n`,
    );
  } else write(ctx, text);
  ctx.exitCode = foundExit(a.totals.mining_hosts > 0 || a.totals.infected_hosts > 0);
  return a;
}

export function registerReport(program: Command, ctx: CommandContext): void {
  program
    .command('report')
    .description(
      'fleet report: coin share, pools and ports, daily series, spikes, correlations, vectors, campaigns',
    )
    .addOption(dbOption())
    .option('--from <date>', 'first day included (YYYY-MM-DD, UTC)')
    .option('--to <date>', 'last day included (YYYY-MM-DD, UTC)')
    .option('--prices <file.csv>', 'coin prices to correlate with mining (CSV: date,coin,price_usd)')
    .addOption(
      new Option(
        '--format <format>',
        'html (one self-contained file), md, or json (default: from -o, else md)',
      ).choices(REPORT_FORMATS as unknown as string[]),
    )
    .option('-o, --output <file>', 'write here instead of stdout')
    .option('--title <text>', 'report title')
    .addHelpText(
      'after',
      examples([
        'minewatch report --db minewatch.db --prices prices.csv -o report.html',
        'minewatch report --from 2018-04-01 --to 2018-06-30 --format json | jq .spikes',
        'minewatch report --db clickhouse://127.0.0.1:8123/minewatch --format md',
      ]),
    )
    .action(async (opts: ReportOptions) => {
      await runReport(ctx, opts);
    });
}
