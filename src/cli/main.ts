#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { VERSION } from '../version.ts';
import { registerBlock } from './block.ts';
import type { CommandContext } from './common.ts';
import { registerIntel } from './intel.ts';
import { CliError, type CliIO, EXIT, type ExitCode, processIO } from './io.ts';
import { registerPcap } from './pcap.ts';
import { registerScan } from './scan.ts';

/** Each command lives in its own file and registers itself here; order is the order in --help. */
const COMMANDS: Array<(program: Command, ctx: CommandContext) => void> = [
  registerScan,
  registerPcap,
  registerBlock,
  registerIntel,
];

export function buildProgram(ctx: CommandContext): Command {
  const program = new Command('minewatch')
    .description('Find, explain and stop cryptojacking on cloud servers.')
    .version(VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({
      writeOut: (s) => ctx.io.stdout.write(s),
      writeErr: (s) => ctx.io.stderr.write(s),
    })
    .exitOverride();
  for (const register of COMMANDS) register(program, ctx);
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

/** Runs the CLI; returns the exit code instead of exiting so tests can call it in-process. */
export async function main(argv: string[], io: CliIO = processIO()): Promise<ExitCode> {
  const ctx: CommandContext = { io, exitCode: EXIT.CLEAN };
  const program = buildProgram(ctx);
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

const isEntry = process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isEntry) {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
