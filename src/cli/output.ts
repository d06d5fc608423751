import { findingLine, type OutputFormat, renderFindingsTable } from '../findings/format.ts';
import { type Finding, MINING_SEVERITY_THRESHOLD, severityAtLeast } from '../findings/index.ts';
import { type CommandContext, write } from './common.ts';
import { type Column, renderTable } from './table.ts';

export interface SummarySection<T = Record<string, unknown>> {
  title: string;
  rows: readonly T[];
  columns: Column<T>[];
}

/** True when any finding is strong enough to call the input "mining found" (exit 1). */
export function miningFound(findings: readonly Finding[]): boolean {
  return findings.some((f) => severityAtLeast(f.severity, MINING_SEVERITY_THRESHOLD));
}

/**
 * Streams findings as NDJSON when that format is chosen; other formats print at the end. Returns the
 * callbacks a detector calls as it decides.
 */
export function streamingSink(ctx: CommandContext, format: OutputFormat) {
  const live = format === 'ndjson';
  return {
    onFinding: live ? (f: Finding) => ctx.io.stdout.write(findingLine(f)) : undefined,
    onUpdate: live
      ? (f: Finding) =>
          ctx.io.stdout.write(
            `${JSON.stringify({ type: 'update', id: f.id, rule: f.rule, confidence: f.confidence, last_seen: f.last_seen, shares: f.shares, jobs: f.jobs, signals: f.signals })}\n`,
          )
      : undefined,
  };
}

/** Prints a command's result in the chosen format (NDJSON findings were already streamed). */
export function printReport(
  ctx: CommandContext,
  format: OutputFormat,
  findings: readonly Finding[],
  summary: Record<string, unknown>,
  // biome-ignore lint/suspicious/noExplicitAny: each section has its own row type; renderTable checks it per section
  sections: SummarySection<any>[] = [],
): void {
  if (format === 'json') {
    ctx.io.stdout.write(`${JSON.stringify({ findings, summary }, null, 2)}\n`);
    return;
  }
  if (format === 'ndjson') {
    ctx.io.stdout.write(`${JSON.stringify({ type: 'summary', ...summary })}\n`);
    return;
  }
  write(ctx, renderFindingsTable(findings));
  for (const s of sections) {
    if (!s.rows.length) continue;
    write(ctx, `\n${s.title}\n${renderTable(s.rows, s.columns)}`);
  }
}
