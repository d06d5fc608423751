/**
 * Tokenizer-level readers for the languages without a parser here: PowerShell, VBScript and batch, and
 * shell when tree-sitter is unavailable or the file is too large to parse. They split statements and
 * pipelines outside quotes, resolve the plain assignments each language has (`X=..`, `set X=..`,
 * `$x = ..`, `x = .. & ..`) and their string concatenation, and hand back the same Statement shape the
 * shell parser produces. They do not understand control flow; droppers in these languages are straight
 * lines of calls, and a branch read as if it always ran errs towards seeing what the script can do.
 */
import { type Command, clip, LIMITS, type Redirect, type ScriptLang, type Statement } from './model.ts';

type Lang = Exclude<ScriptLang, 'py'>;

/** Splits `s` at any of `seps` that stands outside quotes (and, for PowerShell, outside braces). */
function splitOutside(s: string, seps: string[], lang: Lang): string[] {
  const out: string[] = [];
  let cur = '';
  let q: string | undefined;
  let brace = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (q) {
      cur += c;
      if (c === q && !(lang === 'sh' && q === '"' && s[i - 1] === '\\')) q = undefined;
      continue;
    }
    if (c === '"' || (c === "'" && lang !== 'vbs' && lang !== 'bat')) {
      q = c;
      cur += c;
      continue;
    }
    if (lang === 'ps1' && c === '{') brace++;
    if (lang === 'ps1' && c === '}') brace = Math.max(0, brace - 1);
    if (brace === 0) {
      const sep = seps.find((x) => s.startsWith(x, i));
      if (sep) {
        out.push(cur);
        cur = '';
        i += sep.length - 1;
        continue;
      }
    }
    cur += c;
  }
  out.push(cur);
  return out.map((x) => x.trim()).filter(Boolean);
}

/** Words with quotes removed; `$x`/`%x%` substituted from `env`. */
function words(s: string, lang: Lang, env: Map<string, string>): string[] {
  const out: string[] = [];
  const re =
    lang === 'vbs' || lang === 'bat' ? /"((?:[^"]|"")*)"|(\S+)/g : /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g;
  for (const m of s.matchAll(re)) {
    if (lang === 'vbs' || lang === 'bat') {
      const v = m[1] !== undefined ? m[1].replace(/""/g, '"') : m[2]!;
      out.push(subst(v, lang, env));
    } else if (m[2] !== undefined) out.push(m[2]);
    else out.push(subst(m[1] ?? m[3]!, lang, env));
  }
  return out;
}

function subst(s: string, lang: Lang, env: Map<string, string>): string {
  if (lang === 'bat') return s.replace(/%(\w+)%/g, (x, n: string) => env.get(n.toLowerCase()) ?? x);
  if (lang === 'vbs') return s;
  return s.replace(
    /\$\{?(\w+)\}?(?:\[@\])?/g,
    (x, n: string) => env.get(lang === 'ps1' ? n.toLowerCase() : n) ?? x,
  );
}

/** A PowerShell or VBScript expression of literals and variables joined by `+` or `&`, evaluated. */
function concatExpr(expr: string, lang: 'ps1' | 'vbs', env: Map<string, string>): string {
  const parts = splitOutside(expr, [lang === 'ps1' ? '+' : '&'], lang);
  return parts
    .map((p) => {
      const t = p.trim().replace(/^\(|\)$/g, '');
      const dq = /^"((?:[^"]|"")*)"$/.exec(t);
      if (dq) return lang === 'vbs' ? dq[1]!.replace(/""/g, '"') : subst(dq[1]!, 'ps1', env);
      const sq = lang === 'ps1' ? /^'([^']*)'$/.exec(t) : null;
      if (sq) return sq[1]!;
      const v = lang === 'ps1' ? /^\$(\w+)$/.exec(t)?.[1] : /^(\w+)$/.exec(t)?.[1];
      if (v && env.has(v.toLowerCase())) return env.get(v.toLowerCase())!;
      if (lang === 'vbs' && /^chr\(\d+\)$/i.test(t)) return String.fromCharCode(Number(/\d+/.exec(t)![0]));
      return t;
    })
    .join('');
}

const ASSIGN: Record<Lang, RegExp> = {
  sh: /^(?:export\s+|local\s+|readonly\s+)?([A-Za-z_]\w*)=(.*)$/,
  bat: /^set\s+(?:\/a\s+)?"?([A-Za-z_]\w*)=(.*?)"?$/i,
  ps1: /^\$(?:(?:env|script|global):)?([A-Za-z_]\w*)\s*=\s*(.+)$/i,
  vbs: /^(?:set\s+|const\s+)?([A-Za-z_]\w*)\s*=\s*(.+)$/i,
};

/** Read a script of `lang` line by line into statements. */
export function tokenizeScript(
  src: string,
  lang: Lang,
  opts: { depth?: number; line?: number; via?: string; env?: Map<string, string> } = {},
): Statement[] {
  const env = opts.env ?? new Map<string, string>();
  const out: Statement[] = [];
  const lines = src.split(/\r?\n/);
  const stmtSeps = lang === 'bat' ? ['&&', '||', '&'] : lang === 'vbs' ? [':'] : [';', '&&', '||'];
  for (let i = 0; i < lines.length && out.length < LIMITS.statements; i++) {
    let line = lines[i]!;
    if (line.length > LIMITS.word) line = line.slice(0, LIMITS.word);
    const trimmed = line.trim();
    if (!trimmed) continue;
    if (lang === 'sh' && trimmed.startsWith('#')) continue;
    if (lang === 'ps1' && trimmed.startsWith('#')) continue;
    if (lang === 'bat' && /^(?:rem\b|::|@?echo\s+off\b)/i.test(trimmed)) continue;
    if (lang === 'vbs' && /^(?:'|rem\b|dim\b|on\s+error\b)/i.test(trimmed)) continue;
    const lineNo = opts.line ?? i + 1;
    // Shell heredocs: the body lines belong to the statement that opened them.
    let heredoc: string | undefined;
    if (lang === 'sh') {
      const h = /<<-?\s*['"]?(\w+)['"]?/.exec(trimmed);
      if (h) {
        const body: string[] = [];
        let j = i + 1;
        while (j < lines.length && lines[j]!.trim() !== h[1]) body.push(lines[j++]!);
        heredoc = body.join('\n');
        i = j;
      }
    }
    for (const part of splitOutside(line, stmtSeps, lang)) {
      const s = part.replace(/^@/, '');
      const a = ASSIGN[lang].exec(s);
      if (a && !(lang === 'vbs' && /^\w+\s*=\s*\w+\s*=/.test(s))) {
        const name = lang === 'sh' ? a[1]! : a[1]!.toLowerCase();
        let value = a[2]!.trim();
        if (lang === 'ps1' || lang === 'vbs') value = concatExpr(value, lang, env);
        else if (lang === 'sh')
          value = words(value, 'sh', env)
            .join(' ')
            .replace(/^\(|\)$/g, '');
        value = clip(value, LIMITS.word);
        env.set(name, value);
        const st = mk([], s, lineNo, [], opts);
        st.assigns = { name, value };
        out.push(st);
        if (lang === 'vbs' || lang === 'ps1') {
          // `Set x = CreateObject("MSXML2.XMLHTTP")` and `$r = iwr ...` still call something.
          if (/\(|\bNew-Object\b|\biwr\b|Invoke-/i.test(value))
            out.push(mk([cmd(value, lang, env)], s, lineNo, [], opts));
        }
        continue;
      }
      const pipeSeps = lang === 'vbs' ? [] : ['|'];
      const cmds: Command[] = [];
      const redirects: Redirect[] = [];
      for (const c of pipeSeps.length ? splitOutside(s, pipeSeps, lang) : [s]) {
        let body = c;
        if (lang !== 'vbs') {
          body = c.replace(/(\d?>>?|<)\s*("[^"]*"|\S+)/g, (_m, op: string, t: string) => {
            if (op === '<') return '';
            const target = words(t, lang, env)[0] ?? t;
            if (!/^&\d|^\/dev\/null$|^nul$/i.test(target))
              redirects.push({ op: op.endsWith('>>') ? '>>' : '>', target });
            return '';
          });
        }
        cmds.push(cmd(body, lang, env));
      }
      const st = mk(cmds, s, lineNo, redirects, opts);
      if (heredoc !== undefined)
        st.redirects.push({ op: '<', target: '<<', body: clip(heredoc, LIMITS.word) });
      out.push(st);
    }
  }
  return out;
}

function cmd(s: string, lang: Lang, env: Map<string, string>): Command {
  if (lang === 'vbs') {
    // `obj.Run "cmd" & x, 0, False` / `Call f(a, b)`: the callee, then each argument evaluated.
    const m = /^(?:call\s+)?([\w.]+)\s*\(?\s*(.*?)\)?$/is.exec(s.trim());
    const callee = m?.[1] ?? s;
    const args = m?.[2] ? splitOutside(m[2], [','], 'vbs').map((a) => concatExpr(a, 'vbs', env)) : [];
    return { argv: [callee, ...args], raw: clip(s) };
  }
  if (lang === 'ps1') {
    // Arguments that are concatenations ("a" + $b) are evaluated before splitting into words.
    const joined = /["']\s*\+|\+\s*["'$]/.test(s)
      ? s.replace(/\(([^()]*\+[^()]*)\)/g, (_m, e: string) => `"${concatExpr(e, 'ps1', env)}"`)
      : s;
    return { argv: words(joined, 'ps1', env), raw: clip(s) };
  }
  return { argv: words(s, lang, env), raw: clip(s) };
}

function mk(
  cmds: Command[],
  text: string,
  line: number,
  redirects: Redirect[],
  opts: { depth?: number; via?: string },
): Statement {
  const s: Statement = {
    cmds,
    line,
    text: clip(cmds.length ? cmds.map((c) => c.argv.join(' ')).join(' | ') : text, 2000),
    redirects,
    depth: opts.depth ?? 0,
    reads: [...text.matchAll(/\$\{?(\w+)|%(\w+)%/g)].map((m) => m[1] ?? m[2]!),
  };
  if (opts.via) s.via = opts.via;
  return s;
}
