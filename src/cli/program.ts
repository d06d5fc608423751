/**
 * The CLI around its commands: the program, its output routing, and how a run ends (exit codes, usage errors).
 * `main.ts` runs it with the command being asked for, loaded lazily; `pcap-main.ts` with `pcap` alone, as the
 * entry of the packet command's own bundle (scripts/build.mjs).
 */
import { Command, CommanderError } from 'commander';
import { VERSION } from '../version.ts';
import type { CommandContext } from './common.ts';
import { CliError, type CliIO, EXIT, type ExitCode } from './io.ts';

export type Register = (program: Command, ctx: CommandContext) => void;

export function buildProgram(ctx: CommandContext, registers: Register[]): Command {
  const program = new Command('minewatch')
    .description('Find, explain and stop cryptojacking on cloud servers.')
    .version(VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({
      writeOut: (s) => ctx.io.stdout.write(s),
      writeErr: (s) => ctx.io.stderr.write(s),
    })
    .exitOverride();
  for (const register of registers) register(program, ctx);
  // Subcommands inherit the output routing and exit override, so a usage error never calls process.exit.
  for (const cmd of program.commands) applyRecursively(cmd, ctx);
  return program;
}

function applyRecursively(cmd: Command, ctx: CommandContext): void {
  cmd
    .configureOutput({ writeOut: (s) => ctx.io.stdout.write(s), writeErr: (s) => ctx.io.stderr.write(s) })
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)');
  for (const sub of cmd.commands) applyRecursively(sub, ctx);
}

/** Runs the CLI with these commands; returns the exit code instead of exiting so tests can call it in-process. */
export async function runProgram(argv: string[], registers: Register[], io: CliIO): Promise<ExitCode> {
  const ctx: CommandContext = { io, exitCode: EXIT.CLEAN };
  const program = buildProgram(ctx, registers);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return ctx.exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end through here with code 0.
      return err.exitCode === 0 ? EXIT.CLEAN : EXIT.ERROR;
    }
    if (err instanceof CliError) {
      io.stderr.write(`minewatch: ${err.describe()}\n`);
      return EXIT.ERROR;
    }
    const e = err as NodeJS.ErrnoException;
    if (e?.code && e.path) {
      io.stderr.write(`minewatch: ${e.path}: ${e.code === 'ENOENT' ? 'no such file' : e.message}\n`);
      return EXIT.ERROR;
    }
    io.stderr.write(`minewatch: ${e?.stack ?? String(err)}\n`);
    return EXIT.ERROR;
  }
}
