import type { Readable, Writable } from 'node:stream';

/** Streams a command writes to; injected so tests run commands in-process. */
export interface CliIO {
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable & { isTTY?: boolean };
  stdin: Readable;
}

export const processIO = (): CliIO => ({
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
});

/** Exit codes like a virus scanner's: a contract scripts rely on. */
export const EXIT = { CLEAN: 0, FOUND: 1, ERROR: 2 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** An error a user can act on: says which file (and where in it) and what is wrong. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly file?: string,
    readonly position?: string | number,
  ) {
    super(message);
    this.name = 'CliError';
  }

  describe(): string {
    if (!this.file) return this.message;
    const where = this.position !== undefined ? `${this.file}:${this.position}` : this.file;
    return `${where}: ${this.message}`;
  }
}
