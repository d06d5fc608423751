import { PassThrough, Readable } from 'node:stream';
import type { CliIO } from '../io.ts';
import { main } from '../main.ts';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in-process with captured output; `stdin` feeds `-` inputs. */
export async function runCli(argv: string[], stdin?: Uint8Array | Iterable<Uint8Array>): Promise<RunResult> {
  const out = new PassThrough();
  const err = new PassThrough();
  const chunks: { out: Buffer[]; err: Buffer[] } = { out: [], err: [] };
  out.on('data', (c: Buffer) => chunks.out.push(c));
  err.on('data', (c: Buffer) => chunks.err.push(c));
  const input =
    stdin === undefined
      ? Readable.from([])
      : stdin instanceof Uint8Array
        ? Readable.from([stdin])
        : Readable.from(stdin);
  const io: CliIO = { stdout: out, stderr: err, stdin: input };
  const code = await main(argv, io);
  return {
    code,
    stdout: Buffer.concat(chunks.out).toString('utf8'),
    stderr: Buffer.concat(chunks.err).toString('utf8'),
  };
}
