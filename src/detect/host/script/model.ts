/**
 * What the script readers (shell, PowerShell, VBScript, batch) hand to the role classifier: statements made
 * of commands whose words are already resolved (variables and concatenation substituted), with the
 * source line, the files they write and what they decoded. One shape for every language, so roles and
 * attribution are written once.
 */

export type ScriptLang = 'sh' | 'ps1' | 'vbs' | 'bat' | 'py';

export interface Command {
  /** Resolved words; argv[0] is the program as written (path kept). */
  argv: string[];
  /** The command's own source text (bounded). */
  raw: string;
}

export interface Redirect {
  op: '>' | '>>' | '<';
  target: string;
  /** Heredoc or here-string body written through this redirect. */
  body?: string;
}

/** A pipeline (or a single command): the unit roles are given to, since `ps|grep|awk|xargs kill` is one act. */
export interface Statement {
  cmds: Command[];
  /** 1-based line in the outermost file (decoded layers keep the line of the statement that decoded them). */
  line: number;
  /** Source text of the whole statement, resolved words joined (bounded). */
  text: string;
  redirects: Redirect[];
  /** Decode depth: 0 for the file itself, n for text that n decodings produced. */
  depth: number;
  /** How this layer was reached ('base64', 'hex', 'powershell -e', 'bash -c', 'heredoc', 'python -c'...). */
  via?: string;
  /** Variables this statement reads (names), for tying list variables to the statements that use them. */
  reads: string[];
  /** Variable this statement assigns, when it is an assignment (value resolved). */
  assigns?: { name: string; value: string };
}

/** Limits every reader and decoder honours, so no script makes the work or memory grow without bound. */
export const LIMITS = {
  /** Nesting of decoded layers (base64 inside powershell -e inside bash -c ...). */
  depth: 4,
  /** Bytes of decoded text per file, all layers together. */
  decodedBytes: 1 << 20,
  /** Statements kept per file. */
  statements: 20_000,
  /** Characters of one resolved word (a variable built in a loop cannot grow past this). */
  word: 64 * 1024,
  /** Files larger than this are read line by line instead of parsed (the parser's time grows with size). */
  parseBytes: 512 * 1024,
} as const;

export function clip(s: string, n = 400): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}
