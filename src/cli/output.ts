import { findingLine, type OutputFormat, renderFindingsTable } from '../findings/format.ts';
import { type Finding, MINING_SEVERITY_THRESHOLD, severityAtLeast } from '../findings/index.ts';
import { toEcs, toOcsf } from '../findings/siem.ts';
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
  const line = findingWriter(format);
  return {
    streamed: line !== undefined,
    onFinding: line ? (f: Finding) => ctx.io.stdout.write(line(f)) : undefined,
    onUpdate:
      format === 'ndjson'
        ? (f: Finding) =>
            ctx.io.stdout.write(
              `${JSON.stringify({ type: 'update', id: f.id, rule: f.rule, confidence: f.confidence, last_seen: f.last_seen, shares: f.shares, jobs: f.jobs, signals: f.signals })}\n`,
            )
        : undefined,
  };
}

/** One line per finding for the line-oriented formats (NDJSON, OCSF, ECS); undefined for table and JSON. */
function findingWriter(format: OutputFormat): ((f: Finding) => string) | undefined {
  switch (format) {
    case 'ndjson':
      return findingLine;
    case 'ocsf':
      return (f) => `${JSON.stringify(toOcsf(f))}\n`;
    case 'ecs':
      return (f) => `${JSON.stringify(toEcs(f))}\n`;
    default:
      return undefined;
  }
}

/** Findings per piece of the JSON report: ~15 KB, well inside the allocator's reused memory. */
const JSON_PIECE = 12;

/**
 * `${JSON.stringify({ findings, summary }, null, 2)}\n`, byte for byte, written in pieces of a few findings. Each
 * piece is the same document cut to those findings, so JSON.stringify indents them as it would in the whole, and
 * its elements are cut out of it. Why not the one string: it was three fresh allocations of the report's size
 * (the string, its flattened copy, the bytes written), pages the process had never touched, and a first touch
 * costs ~11 us on the bench machine (docs/packet-core.md, "Page faults and the young generation"); the pieces
 * reuse the same few pages.
 */
export function writeJsonReport(
  out: { write(chunk: string): unknown },
  findings: readonly Finding[],
  summary: Record<string, unknown>,
): void {
  if (findings.length === 0) {
    out.write(`${JSON.stringify({ findings, summary }, null, 2)}\n`);
    return;
  }
  // What JSON.stringify puts around a piece's elements.
  const head = '{\n  "findings": [\n';
  const tail = '\n  ]\n}';
  for (let i = 0; i < findings.length; i += JSON_PIECE) {
    const doc = JSON.stringify({ findings: findings.slice(i, i + JSON_PIECE) }, null, 2);
    const elements = doc.slice(head.length, doc.length - tail.length);
    out.write(i === 0 ? `${head}${elements}` : `,\n${elements}`);
  }
  const rest = JSON.stringify({ findings: [], summary }, null, 2);
  // '{\n  "findings": [],' + summary...
  out.write(`\n  ]${rest.slice(rest.indexOf('],') + 1)}\n`);
}

/** Prints a command's result in the chosen format (NDJSON findings were already streamed). */
export function printReport(
  ctx: CommandContext,
  format: OutputFormat,
  findings: readonly Finding[],
  summary: Record<string, unknown>,
  // biome-ignore lint/suspicious/noExplicitAny: each section has its own row type; renderTable checks it per section
  sections: SummarySection<any>[] = [],
  opts: { streamed?: boolean } = {},
): void {
  if (format === 'json') {
    writeJsonReport(ctx.io.stdout, findings, summary);
    return;
  }
  const line = findingWriter(format);
  if (line) {
    if (!opts.streamed) for (const f of findings) ctx.io.stdout.write(line(f));
    // The SIEM shapes are findings only; NDJSON closes with the summary.
    if (format === 'ndjson') ctx.io.stdout.write(`${JSON.stringify({ type: 'summary', ...summary })}\n`);
    return;
  }
  write(ctx, renderFindingsTable(findings));
  for (const s of sections) {
    if (!s.rows.length) continue;
    write(ctx, `\n${s.title}\n${renderTable(s.rows, s.columns)}`);
  }
}
