/**
 * `minewatch demo`: fills the store with a deterministic synthetic fleet (thousands of hosts, nine months of
 * 2018, the planted story in src/demo/truth.ts), writes the coin price CSV and the HTML report beside it, and
 * says how to open the report and the dashboard.
 */
import { writeFileSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import type { Command } from 'commander';
import { parsePrices } from '../analytics/index.ts';
import { DEMO_HOSTS, DEMO_SEED, loadDemo, planDemo, pricesCsv } from '../demo/index.ts';
import { renderHtml } from '../report/index.ts';
import { dbOption, defaultDb, isClickHouseUrl, openStore, type Store } from '../store/index.ts';
import { type CommandContext, examples, write } from './common.ts';
import { CliError } from './io.ts';
import { analyzeStore } from './report.ts';

export interface DemoCliOptions {
  db?: string;
  hosts: string;
  seed: string;
  report: string | boolean;
  prices?: string;
}

/** Files written beside an embedded store (`x.db` → `x-prices.csv`, `x-report.html`), in the cwd for ClickHouse. */
export function besideDb(db: string, suffix: string): string {
  if (isClickHouseUrl(db)) return `minewatch-demo-${suffix}`;
  const base = basename(db, extname(db)) || 'minewatch';
  return join(dirname(db), `${base}-${suffix}`);
}

function int(v: string, what: string, min: number, max: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new CliError(`${what} must be an integer from ${min} to ${max}, got '${v}'`);
  return n;
}

export async function runDemo(
  ctx: CommandContext,
  opts: DemoCliOptions,
): Promise<{ events: number; accepted: number }> {
  const hosts = int(opts.hosts, '--hosts', 50, 1_000_000);
  const seed = int(opts.seed, '--seed', 0, 2 ** 31 - 1);
  const db = opts.db ?? defaultDb();
  const pricesFile = opts.prices ?? besideDb(db, 'prices.csv');
  const reportFile =
    opts.report === false
      ? undefined
      : typeof opts.report === 'string'
        ? opts.report
        : besideDb(db, 'report.html');
  const plan = planDemo({ hosts, seed });
  let store: Store;
  try {
    store = await openStore(db);
  } catch (err) {
    throw new CliError((err as Error).message, db);
  }
  const err = ctx.io.stderr;
  const tty = Boolean(err.isTTY);
  let lastMonth = '';
  let result: Awaited<ReturnType<typeof loadDemo>>;
  try {
    err.write(
      `minewatch demo: ${hosts.toLocaleString('en-US')} hosts, ${plan.days[0]} to ${plan.days[plan.days.length - 1]}, seed ${seed}, into ${store.engine} ${store.location}\n`,
    );
    result = await loadDemo(store, {
      plan,
      onProgress: (n, day) => {
        const month = day.slice(0, 7);
        if (month === lastMonth) return;
        lastMonth = month;
        if (tty) err.write(`\r  ${month}  ${n.toLocaleString('en-US')} events`);
      },
    });
    if (tty) err.write('\n');
    writeFileSync(pricesFile, pricesCsv(plan));
    if (reportFile) {
      const a = await analyzeStore(store, { prices: parsePrices(pricesCsv(plan)).table });
      writeFileSync(reportFile, renderHtml(a, { title: 'minewatch demo fleet report' }));
    }
  } finally {
    await store.close();
  }
  const secs = result.ms / 1000;
  const dbArg = db.includes(' ') ? JSON.stringify(db) : db;
  write(
    ctx,
    [
      `minewatch demo: stored ${result.accepted.toLocaleString('en-US')} events` +
        (result.duplicates ? ` (${result.duplicates.toLocaleString('en-US')} already there)` : '') +
        ` in ${secs.toFixed(1)} s (${Math.round(result.events / Math.max(secs, 0.001)).toLocaleString('en-US')} events/s)`,
      `  prices: ${pricesFile}`,
      ...(reportFile ? [`  report: ${reportFile}  (open it in a browser; it works offline)`] : []),
      '',
      'Next:',
      `  minewatch report --db ${dbArg} --prices ${pricesFile} -o report.html`,
      `  minewatch report --db ${dbArg} --prices ${pricesFile} --format json | jq '.spikes'`,
      '  export MINEWATCH_ADMIN_TOKEN=$(openssl rand -hex 32); echo $MINEWATCH_ADMIN_TOKEN',
      `  minewatch serve --db ${dbArg}`,
      '  then open http://127.0.0.1:8750/ (dashboard; log in with that token)',
    ].join('\n'),
  );
  return { events: result.events, accepted: result.accepted };
}

export function registerDemo(program: Command, ctx: CommandContext): void {
  program
    .command('demo')
    .description(
      'fill the store with a realistic synthetic fleet (deterministic by seed) and write its report',
    )
    .addOption(dbOption())
    .option('--hosts <n>', 'fleet size (every planted count scales with it)', String(DEMO_HOSTS))
    .option('--seed <n>', 'random seed: same seed, same fleet', String(DEMO_SEED))
    .option('--prices <file.csv>', 'where to write the price CSV (default: beside the store)')
    .option('--report <file.html>', 'where to write the HTML report (default: beside the store)')
    .option('--no-report', 'do not write the report')
    .addHelpText(
      'after',
      examples([
        'minewatch demo',
        'minewatch demo --db /tmp/demo.db --hosts 1000',
        'minewatch demo --db clickhouse://127.0.0.1:8123/demo',
      ]),
    )
    .action(async (opts: DemoCliOptions) => {
      await runDemo(ctx, opts);
    });
}
