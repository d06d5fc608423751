import { Option } from 'commander';
import { OUTPUT_FORMATS, type OutputFormat, REPORT_FORMATS } from '../findings/format.ts';
import { CliError, type CliIO, EXIT, type ExitCode } from './io.ts';

/** What every command gets: where to write, and a slot for its exit code. */
export interface CommandContext {
  io: CliIO;
  exitCode: ExitCode;
}

export function formatOption(formats: readonly string[] = OUTPUT_FORMATS, dflt = 'table'): Option {
  return new Option('--format <format>', 'output format').choices(formats as string[]).default(dflt);
}

/** `--format` for commands that report findings: table, json, ndjson, and OCSF / ECS as NDJSON. */
export function reportFormatOption(): Option {
  return formatOption(REPORT_FORMATS);
}

export function asFormat(v: unknown): OutputFormat {
  if (typeof v === 'string' && (REPORT_FORMATS as readonly string[]).includes(v)) return v as OutputFormat;
  throw new CliError(`unknown format '${String(v)}'`);
}

export function write(ctx: CommandContext, text: string): void {
  ctx.io.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

export function json(ctx: CommandContext, value: unknown): void {
  ctx.io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** 0 nothing found, 1 mining found: the one place that decides it from a count. */
export function foundExit(found: boolean): ExitCode {
  return found ? EXIT.FOUND : EXIT.CLEAN;
}

export function examples(lines: string[]): string {
  return `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;
}
