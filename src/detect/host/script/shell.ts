/**
 * Shell scripts read with a real parser: tree-sitter-bash (WASM, through web-tree-sitter), walked into
 * statements whose words are resolved against the script's own plain assignments, so `$WGET $DIR $URL`
 * reads as the `wget -O /tmp/x http://...` it runs.
 *
 * Why this parser (measured on Node 20, 2 shared cores, a 700-byte dropper and the same repeated to 350 KB):
 *   web-tree-sitter + tree-sitter-bash: init 27 ms, 2.0 ms per dropper, 143 ms for 350 KB;
 *   sh-syntax (mvdan/sh in Go WASM): init 36 ms, 33 ms per dropper, and the 350 KB input crashed its
 *     runtime ("memory access out of bounds" in the Go GC);
 *   bash-parser: 14 ms per dropper and a parse error on `for i in 1 2 3`.
 * tree-sitter also never gives up on broken input (droppers are often cut or mangled): it returns a tree
 * with ERROR nodes around what it could not read and everything else intact.
 *
 * The parser loads once per process (top-level await); if its WASM cannot be loaded the readers fall back
 * to the line tokenizer in tokens.ts, as they do for files over LIMITS.parseBytes.
 */
import { createRequire } from 'node:module';
import v8 from 'node:v8';
import { Language, type Node, Parser } from 'web-tree-sitter';
import { type Command, clip, LIMITS, type Redirect, type Statement } from './model.ts';

const require = createRequire(import.meta.url);

async function load(): Promise<Parser | undefined> {
  try {
    // V8 tiers hot WASM functions up to TurboFan in the background after their first calls; for this
    // grammar that compile took ~30-45 MB at its peak (the scan's peak RSS on the 1 GB bench root: 207-217
    // MB after one parse, 160-173 MB with Liftoff only) and CPU while it ran: a 668-byte dropper parsed
    // and walked in 1.7 ms with Liftoff only against 7.5 ms with tier-up, 350 KB in 487 against 706 ms.
    // The flag is process-wide; minewatch runs no other WASM.
    v8.setFlagsFromString('--liftoff-only');
    const runtime = require.resolve('web-tree-sitter/web-tree-sitter.wasm');
    await Parser.init({ locateFile: () => runtime });
    const lang = await Language.load(require.resolve('tree-sitter-bash/tree-sitter-bash.wasm'));
    const p = new Parser();
    p.setLanguage(lang);
    return p;
  } catch {
    return undefined;
  }
}

const parser = await load();

/** Whether the tree-sitter parser loaded (else shell is read by the line tokenizer). */
export const shellParserLoaded = parser !== undefined;

interface Ctx {
  src: string;
  env: Map<string, string>;
  out: Statement[];
  depth: number;
  /** Fixed line for decoded layers (their own lines mean nothing to a responder). */
  line?: number;
  via?: string;
}

/** Parse shell source into statements; undefined when the parser is unavailable or the input too large. */
export function parseShell(
  src: string,
  opts: { depth?: number; line?: number; via?: string; env?: Map<string, string> } = {},
): Statement[] | undefined {
  if (!parser || src.length > LIMITS.parseBytes) return undefined;
  src = endPipelines(src);
  const tree = parser.parse(src);
  if (!tree) return undefined;
  const ctx: Ctx = {
    src,
    env: opts.env ?? new Map(),
    out: [],
    depth: opts.depth ?? 0,
    ...(opts.line !== undefined ? { line: opts.line } : {}),
    ...(opts.via ? { via: opts.via } : {}),
  };
  try {
    walk(tree.rootNode, ctx);
  } finally {
    tree.delete();
  }
  return ctx.out;
}

/**
 * tree-sitter-bash 0.25 joins a pipeline holding a quoted word to the next line when that line has a
 * redirect: `crontab -l | sed '/x/d' | crontab -` + newline + `echo "0.0.0.0 h" >> /etc/hosts` comes back
 * as one pipeline whose last command is `crontab - echo ... >> /etc/hosts`. Ending such lines with ';'
 * (same meaning to a shell, same length of every other line) gives the right tree. Heredoc bodies and
 * lines that continue (`|`, `\`, `&&`, `do`, `then` ...) or hold an odd quote are left alone.
 */
function endPipelines(src: string): string {
  const lines = src.split('\n');
  let heredoc: string | undefined;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (heredoc !== undefined) {
      if (l.trim() === heredoc) heredoc = undefined;
      continue;
    }
    const h = /<<-?\s*['"]?(\w+)['"]?/.exec(l);
    if (h) {
      heredoc = h[1];
      continue;
    }
    if (
      l.includes('|') &&
      !/(?:[|&;\\{()]|\b(?:do|then|else|in))\s*$/.test(l) &&
      !l.trimStart().startsWith('#') &&
      (l.split('"').length - 1) % 2 === 0 &&
      (l.split("'").length - 1) % 2 === 0
    )
      lines[i] = `${l};`;
  }
  return lines.join('\n');
}

const CONTAINERS = new Set([
  'program',
  'compound_statement',
  'subshell',
  'do_group',
  'if_statement',
  'elif_clause',
  'else_clause',
  'while_statement',
  'case_statement',
  'case_item',
  'negated_command',
  'list',
  'ERROR',
]);

function walk(n: Node, ctx: Ctx): void {
  if (ctx.out.length >= LIMITS.statements) return;
  switch (n.type) {
    case 'command':
      emit(ctx, n, [n], []);
      return;
    case 'pipeline':
      emit(ctx, n, flattenCommands(n), []);
      return;
    case 'redirected_statement': {
      const body = n.childForFieldName('body');
      const redirects = redirectsOf(n, ctx);
      if (body && (body.type === 'command' || body.type === 'pipeline'))
        emit(ctx, n, body.type === 'command' ? [body] : flattenCommands(body), redirects);
      else {
        const before = ctx.out.length;
        if (body) walk(body, ctx);
        const last = ctx.out[ctx.out.length - 1];
        if (last && ctx.out.length > before) last.redirects.push(...redirects);
        else if (redirects.length) emit(ctx, n, [], redirects);
      }
      return;
    }
    case 'variable_assignment':
      assign(n, ctx);
      return;
    case 'declaration_command':
      for (const c of n.namedChildren) if (c?.type === 'variable_assignment') assign(c, ctx);
      return;
    case 'for_statement': {
      const v = n.childForFieldName('variable')?.text;
      const values = n.childrenForFieldName('value').filter((x): x is Node => !!x);
      if (v) {
        const value = clip(values.map((x) => resolve(x, ctx)).join(' '), LIMITS.word);
        ctx.env.set(v, value);
        ctx.out.push(stmt(ctx, n, [], [], { name: v, value }, readsOf(values)));
      }
      const body = n.childForFieldName('body');
      if (body) walk(body, ctx);
      return;
    }
    case 'function_definition': {
      const body = n.childForFieldName('body');
      if (body) walk(body, ctx);
      return;
    }
    default:
      if (CONTAINERS.has(n.type) || n.type.endsWith('_statement'))
        for (const c of n.namedChildren) if (c) walk(c, ctx);
  }
}

/** Commands of a pipeline; a subshell or group inside it (`(crontab -l; echo ...) | crontab -`) is flattened. */
function flattenCommands(n: Node): Node[] {
  const out: Node[] = [];
  for (const c of n.namedChildren) {
    if (!c) continue;
    if (c.type === 'command') out.push(c);
    else if (c.type === 'redirected_statement') {
      const b = c.childForFieldName('body');
      if (b) out.push(...(b.type === 'command' ? [b] : flattenCommands(b)));
    } else if (c.type === 'subshell' || c.type === 'compound_statement' || c.type === 'list')
      out.push(...flattenCommands(c));
    else if (c.type === 'pipeline') out.push(...flattenCommands(c));
  }
  return out;
}

function assign(n: Node, ctx: Ctx): void {
  const name = n.childForFieldName('name')?.text;
  const valueNode = n.childForFieldName('value');
  if (!name) return;
  const value = valueNode
    ? valueNode.type === 'array'
      ? valueNode.namedChildren
          .filter((x): x is Node => !!x)
          .map((x) => resolve(x, ctx))
          .join(' ')
      : resolve(valueNode, ctx)
    : '';
  const v = clip(value, LIMITS.word);
  ctx.env.set(name, v);
  // Command substitutions in a value still run (X=$(curl ...)).
  if (valueNode) substitutions(valueNode, ctx);
  ctx.out.push(stmt(ctx, n, [], [], { name, value: v }, valueNode ? readsOf([valueNode]) : []));
}

function emit(ctx: Ctx, n: Node, cmdNodes: Node[], redirects: Redirect[]): void {
  const cmds: Command[] = [];
  for (const c of cmdNodes) {
    const argv: string[] = [];
    for (const k of c.namedChildren) {
      if (!k) continue;
      if (k.type === 'variable_assignment' || k.type.endsWith('_redirect')) {
        if (k.type.endsWith('_redirect')) redirects.push(...redirectOf(k, ctx));
        continue;
      }
      const w = k.type === 'command_name' ? (k.namedChildren[0] ?? k) : k;
      // An unquoted expansion is split into words, as the shell does: $WGET may hold `wget -q -O`.
      if (w.type === 'simple_expansion' || w.type === 'expansion')
        argv.push(...resolve(w, ctx).split(/\s+/).filter(Boolean));
      else argv.push(resolve(w, ctx));
    }
    cmds.push({ argv, raw: clip(c.text) });
  }
  for (const c of cmdNodes) substitutions(c, ctx);
  ctx.out.push(stmt(ctx, n, cmds, redirects, undefined, readsOf([n])));
}

function stmt(
  ctx: Ctx,
  n: Node,
  cmds: Command[],
  redirects: Redirect[],
  assigns: Statement['assigns'],
  reads: string[],
): Statement {
  const s: Statement = {
    cmds,
    line: ctx.line ?? n.startPosition.row + 1,
    text: clip(cmds.length ? cmds.map((c) => c.argv.join(' ')).join(' | ') : n.text, 2000),
    redirects,
    depth: ctx.depth,
    reads,
  };
  if (assigns) s.assigns = assigns;
  if (ctx.via) s.via = ctx.via;
  return s;
}

/** `$(...)` and backticks inside words run too: their commands become statements of their own. */
function substitutions(n: Node, ctx: Ctx): void {
  for (const c of n.namedChildren) {
    if (!c) continue;
    if (c.type === 'command_substitution' || c.type === 'process_substitution')
      for (const k of c.namedChildren)
        if (k) walk(k, ctx);
        else if (c.namedChildCount) substitutions(c, ctx);
  }
}

function redirectsOf(n: Node, ctx: Ctx): Redirect[] {
  const out: Redirect[] = [];
  for (const r of n.childrenForFieldName('redirect')) if (r) out.push(...redirectOf(r, ctx));
  return out;
}

function redirectOf(r: Node, ctx: Ctx): Redirect[] {
  if (r.type === 'file_redirect') {
    const dest = r.childForFieldName('destination');
    const op = r.children.find((c) => c && !c.isNamed)?.text ?? '>';
    if (!dest) return [];
    return [{ op: op.includes('>>') ? '>>' : op.includes('<') ? '<' : '>', target: resolve(dest, ctx) }];
  }
  if (r.type === 'heredoc_redirect') {
    const body = r.namedChildren.find((c) => c?.type === 'heredoc_body');
    const start = r.namedChildren.find((c) => c?.type === 'heredoc_start')?.text ?? '';
    const quoted = /['"\\]/.test(start);
    const text = body ? (quoted ? body.text : pieces(body, ctx)) : '';
    // `cat > f <<EOF`: the file redirect names where the body goes; `crontab <<EOF`: the command reads it.
    return [{ op: '<', target: '<<', body: clip(text, LIMITS.word) }];
  }
  if (r.type === 'herestring_redirect') {
    const v = r.namedChildren[0];
    return [{ op: '<', target: '<<<', body: v ? resolve(v, ctx) : '' }];
  }
  return [];
}

function readsOf(nodes: Node[]): string[] {
  const out = new Set<string>();
  const visit = (n: Node) => {
    if (n.type === 'simple_expansion' || n.type === 'expansion') {
      const v = firstOfType(n, 'variable_name');
      if (v) out.add(v.text);
    }
    for (const c of n.namedChildren) if (c) visit(c);
  };
  for (const n of nodes) visit(n);
  return [...out];
}

function firstOfType(n: Node, type: string): Node | undefined {
  for (const c of n.namedChildren) {
    if (!c) continue;
    if (c.type === type) return c;
    const d = firstOfType(c, type);
    if (d) return d;
  }
  return undefined;
}

function resolve(n: Node, ctx: Ctx): string {
  switch (n.type) {
    case 'raw_string':
      return n.text.slice(1, -1);
    case 'ansi_c_string':
      return unescapeC(n.text.slice(2, -1));
    case 'simple_expansion':
    case 'expansion': {
      const v = firstOfType(n, 'variable_name');
      const val = v ? ctx.env.get(v.text) : undefined;
      return val ?? n.text;
    }
    case 'command_substitution':
    case 'arithmetic_expansion':
      return n.text;
    case 'string':
    case 'concatenation':
    case 'heredoc_body':
      return pieces(n, ctx);
    case 'word':
    case 'number':
      return n.text.replace(/\\(.)/g, '$1');
    default:
      return n.text;
  }
}

/** A compound word: the source between children kept, each child resolved, double quotes dropped. */
function pieces(n: Node, ctx: Ctx): string {
  let out = '';
  let pos = n.startIndex;
  for (const c of n.children) {
    if (!c) continue;
    out += ctx.src.slice(pos, c.startIndex);
    if (c.type !== '"' && c.type !== '$"') out += resolve(c, ctx);
    pos = c.endIndex;
    if (out.length > LIMITS.word) return out.slice(0, LIMITS.word);
  }
  out += ctx.src.slice(pos, n.endIndex);
  return out;
}

function unescapeC(s: string): string {
  return s.replace(/\\(x[0-9a-fA-F]{1,2}|[0-7]{1,3}|.)/g, (_, e: string) => {
    if (e[0] === 'x') return String.fromCharCode(Number.parseInt(e.slice(1), 16));
    if (/^[0-7]/.test(e)) return String.fromCharCode(Number.parseInt(e, 8));
    return e === 'n' ? '\n' : e === 't' ? '\t' : e === 'r' ? '\r' : e;
  });
}
