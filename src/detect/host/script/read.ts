/**
 * Reading a script: its language from its content (not its name), its statements from the shell parser or
 * a tokenizer, and the layers it hides: base64/hex piped to a shell, `bash -c`, `python -c`,
 * `powershell -e` (UTF-16LE base64), FromBase64String, WScript.Shell.Run / `cmd /c` command lines, and
 * the command lines it writes into crontabs, units and rc files. Each layer is read as a script of its
 * own, bounded by LIMITS (depth, decoded bytes, statements).
 */
import { LIMITS, type ScriptLang, type Statement } from './model.ts';
import { parseShell } from './shell.ts';
import { tokenizeScript } from './tokens.ts';

/** The language a text is written in, judged by its content; `hint` (shebang/extension) wins when given. */
export function sniffLang(text: string, hint?: ScriptLang): ScriptLang | undefined {
  if (hint) return hint;
  const head = text.slice(0, 4096);
  if (/^#!.*\b(?:ba|da|z|k)?sh\b/.test(head)) return 'sh';
  if (/^#!.*python/.test(head)) return 'py';
  if (/\bCreateObject\s*\(|\bWScript\.|^\s*Dim\s+\w|\bSet\s+\w+\s*=\s*CreateObject/im.test(head))
    return 'vbs';
  if (
    /^\s*@?echo\s+off\b|^\s*set\s+\w+=|%~dp0|^\s*(?:rem|::)\s/im.test(head) &&
    !/\$\(|\bfi\b|\bthen\b/.test(head)
  )
    return 'bat';
  if (
    /\$\w+\s*=\s*New-Object\b|\b(?:Invoke-Expression|Invoke-WebRequest|IEX|New-Object\s+Net\.WebClient|Start-Process|Set-MpPreference|Register-ScheduledTask)\b|\[(?:System\.)?Convert\]::FromBase64String/i.test(
      head,
    )
  )
    return 'ps1';
  // Shell: a few statements only a shell writes, counted so one `wget` in a README is not a script.
  let n = 0;
  for (const re of [
    /(?:^|[;&|]\s*)(?:curl|wget)\s+\S/m,
    /\|\s*(?:ba)?sh\b/,
    /\bchmod\s+(?:\+x|[0-7]{3,4})\s/,
    /(?:^|[;&|]\s*)(?:pkill|killall|nohup|crontab|chattr|setenforce|ulimit|export|mkdir|cd)\s/m,
    /^\s*if\s+\[|;\s*then\b|^\s*fi\s*$|^\s*done\s*$/m,
    /^\s*[A-Za-z_]\w*=\S*\s*$/m,
    /\b2>\s*\/dev\/null|>\s*\/dev\/null\s+2>&1/,
    /\/tmp\/|\/var\/tmp\/|\/dev\/shm\//,
  ])
    if (re.test(head)) n++;
  return n >= 3 ? 'sh' : undefined;
}

interface Budget {
  bytes: number;
}

export interface ReadOptions {
  depth?: number;
  line?: number;
  via?: string;
}

export interface ReadResult {
  statements: Statement[];
  parsedBy: 'tree-sitter' | 'tokenizer';
  /** Layers read beyond the file's own text. */
  layers: { via: string; line: number; bytes: number; depth: number }[];
}

export function readScript(text: string, lang: ScriptLang): ReadResult {
  const layers: ReadResult['layers'] = [];
  const budget: Budget = { bytes: LIMITS.decodedBytes };
  const first = lang === 'sh' ? parseShell(text) : undefined;
  const parsedBy = first ? 'tree-sitter' : 'tokenizer';
  const statements: Statement[] = [];
  const base = first ?? readLayer(text, lang, {});
  for (const s of base) {
    statements.push(s);
    if (statements.length < LIMITS.statements) statements.push(...unfold(s, lang, budget, layers));
  }
  return { statements: statements.slice(0, LIMITS.statements), parsedBy, layers };
}

function readLayer(text: string, lang: ScriptLang, o: ReadOptions): Statement[] {
  if (lang === 'py') return tokenizeScript(pythonShellLines(text), 'sh', o);
  if (lang === 'sh') return parseShell(text, o) ?? tokenizeScript(text, 'sh', o);
  return tokenizeScript(text, lang, o);
}

/** Statements hidden inside `s`, read recursively (each layer charged to the budget). */
function unfold(s: Statement, lang: ScriptLang, budget: Budget, layers: ReadResult['layers']): Statement[] {
  if (s.depth >= LIMITS.depth) return [];
  const out: Statement[] = [];
  const layer = (text: string, l: ScriptLang, via: string) => {
    if (!text.trim() || budget.bytes <= 0) return;
    const t = text.slice(0, budget.bytes);
    budget.bytes -= t.length;
    layers.push({ via, line: s.line, bytes: t.length, depth: s.depth + 1 });
    const inner = readLayer(t, sniffLang(t) ?? l, { depth: s.depth + 1, line: s.line, via });
    for (const x of inner) {
      out.push(x);
      out.push(...unfold(x, l, budget, layers));
    }
  };
  const names = s.cmds.map((c) => base(c.argv[0] ?? ''));
  // echo/printf DATA | base64 -d | sh ; base64 -d <<< DATA ; xxd -r -p
  const b64 = names.findIndex(
    (n, i) => n === 'base64' && s.cmds[i]!.argv.some((a) => /^(?:-d|--decode|-D|--d)$/.test(a)),
  );
  const hex = names.findIndex(
    (n, i) => n === 'xxd' && s.cmds[i]!.argv.some((a) => /^-r/.test(a)) && s.cmds[i]!.argv.includes('-p'),
  );
  const dec = b64 >= 0 ? b64 : hex;
  if (dec >= 0) {
    const src =
      dec > 0 && /^(?:echo|printf)$/.test(names[dec - 1]!)
        ? s.cmds[dec - 1]!.argv.slice(1)
            .filter((a) => !/^-[neE]+$/.test(a))
            .join('')
        : (s.redirects.find((r) => r.body !== undefined)?.body ??
          s.cmds[dec]!.argv.slice(1).find((a) => !a.startsWith('-')) ??
          '');
    const decoded = b64 >= 0 ? fromBase64(src) : fromHex(src);
    if (decoded) layer(decoded, 'sh', b64 >= 0 ? 'base64' : 'hex');
  }
  for (const [i, c] of s.cmds.entries()) {
    const n = names[i]!;
    const a = c.argv;
    if (/^(?:ba|da|z|k)?sh$/.test(n) || n === 'eval' || n === 'su') {
      const k = a.indexOf('-c');
      if (k > 0 && a[k + 1]) layer(a[k + 1]!, 'sh', `${n} -c`);
      else if (n === 'eval' && a.length > 1) layer(a.slice(1).join(' '), 'sh', 'eval');
    } else if (/^python[23]?(?:\.\d+)?$/.test(n)) {
      const k = a.indexOf('-c');
      if (k > 0 && a[k + 1]) layer(a[k + 1]!, 'py', 'python -c');
    } else if (/^(?:powershell|pwsh)(?:\.exe)?$/i.test(n)) {
      const k = a.findIndex((x) => /^[-/]e(?:c|nc|ncodedcommand)?$/i.test(x));
      if (k > 0 && a[k + 1]) {
        const d = fromBase64(a[k + 1]!, 'utf16le');
        if (d) layer(d, 'ps1', 'powershell -e');
      }
      const c2 = a.findIndex((x) => /^[-/]c(?:ommand)?$/i.test(x));
      if (c2 > 0 && a[c2 + 1]) layer(a.slice(c2 + 1).join(' '), 'ps1', 'powershell -c');
    } else if (/^cmd(?:\.exe)?$/i.test(n)) {
      const k = a.findIndex((x) => /^\/[ck]$/i.test(x));
      if (k > 0) layer(a.slice(k + 1).join(' '), 'bat', 'cmd /c');
    } else if (/\.(?:Run|Exec|ShellExecute)$/i.test(a[0] ?? '') && a[1]) {
      layer(a[1], 'bat', 'WScript.Shell.Run');
    } else if (
      /^(?:schtasks(?:\.exe)?|reg(?:\.exe)?|new-itemproperty|set-itemproperty|new-scheduledtaskaction)$/i.test(
        n,
      )
    ) {
      // The command line a scheduled task or Run key will start: `/tr`, `/d`, `-Value`, `-Execute -Argument`.
      const at = (flag: RegExp) => {
        const k = a.findIndex((x) => flag.test(x));
        return k > 0 ? a[k + 1] : undefined;
      };
      const line =
        n.toLowerCase() === 'new-scheduledtaskaction'
          ? [at(/^-Execute$/i), at(/^-Argument$/i)].filter(Boolean).join(' ')
          : (at(/^\/tr$/i) ?? at(/^\/d$/i) ?? at(/^-Value$/i));
      if (line)
        layer(
          line,
          'bat',
          n.toLowerCase().startsWith('schtasks') || n.toLowerCase().includes('task')
            ? 'scheduled task'
            : 'Run key',
        );
    }
  }
  // [Convert]::FromBase64String('...') in any language (PowerShell, a Python or VBScript decoder).
  for (const m of s.text.matchAll(/FromBase64String\(\s*['"]([A-Za-z0-9+/=\s]{16,})['"]/gi)) {
    const d = fromBase64(m[1]!, /Unicode/i.test(s.text) ? 'utf16le' : 'utf8');
    if (d) layer(d, lang === 'sh' ? 'ps1' : lang, 'FromBase64String');
  }
  for (const m of s.text.matchAll(/b64decode\(\s*['"]([A-Za-z0-9+/=]{16,})['"]/g)) {
    const d = fromBase64(m[1]!);
    if (d) layer(d, 'sh', 'b64decode');
  }
  // Command lines written where something will run them later.
  const written = s.redirects.find((r) => r.op !== '<')?.target;
  for (const r of s.redirects) {
    const body =
      r.body ??
      (names[0] === 'echo' || names[0] === 'printf' ? s.cmds[0]!.argv.slice(1).join(' ') : undefined);
    if (!body) continue;
    // `cat > unit <<EOF`: the heredoc goes where the other redirect points; `crontab <<EOF`: into cron.
    const target =
      r.target === '<<' || r.target === '<<<'
        ? (written ?? (names.includes('crontab') ? 'crontab' : r.target))
        : r.target;
    const lines = persistedCommands(target, body);
    if (lines.length) layer(lines.join('\n'), 'sh', `written to ${target}`);
  }
  // (crontab -l; echo "* * * * * cmd") | crontab -
  if (names.includes('crontab') && names.includes('echo')) {
    const lines = s.cmds
      .filter((c) => base(c.argv[0] ?? '') === 'echo')
      .flatMap((c) => cronCommands(c.argv.slice(1).join(' ')));
    if (lines.length) layer(lines.join('\n'), 'sh', 'crontab line');
  }
  return out;
}

/** What runs from a file written at `target`: cron lines' commands, units' Exec lines, rc/profile text. */
export function persistedCommands(target: string, body: string): string[] {
  if (/cron|crontab/.test(target) || target === '<<') return cronCommands(body);
  if (/\.service$|\/systemd\//.test(target))
    return [...body.matchAll(/^\s*Exec(?:Start|StartPre|StartPost|Reload)=[-@+!:]*(.+)$/gm)].map(
      (m) => m[1]!,
    );
  if (/rc\.local|\/init\.d\/|\.bashrc|\.profile|\/etc\/profile|bash_profile|\.bash_login/.test(target))
    return body.split('\n').filter((l) => l.trim() && !l.trim().startsWith('#'));
  return [];
}

function cronCommands(body: string): string[] {
  const out: string[] = [];
  for (const l of body.split('\n')) {
    const m = /^\s*(?:@\w+|(?:[\d*/,-]+\s+){5})(?:(?:root|[a-z_][\w-]*)\s+(?=\S*[/(]))?(.+)$/.exec(l);
    if (m) out.push(m[1]!);
  }
  return out;
}

/** Shell command lines a Python snippet runs (os.system, subprocess, popen), for `python -c` layers. */
function pythonShellLines(code: string): string {
  const out: string[] = [];
  for (const m of code.matchAll(
    /(?:os\.system|os\.popen|subprocess\.\w+|commands\.getoutput)\(\s*(?:\[([^\]]*)\]|(['"])((?:\\.|(?!\2).)*)\2)/g,
  )) {
    if (m[3] !== undefined) out.push(m[3]);
    else if (m[1]) out.push([...m[1].matchAll(/['"]([^'"]*)['"]/g)].map((x) => x[1]).join(' '));
  }
  for (const m of code.matchAll(
    /urlopen\(\s*['"]([^'"]+)['"]|urlretrieve\(\s*['"]([^'"]+)['"]\s*,\s*['"]([^'"]+)['"]/g,
  ))
    out.push(m[1] ? `curl ${m[1]}` : `curl -o ${m[3]} ${m[2]}`);
  return out.join('\n');
}

function base(p: string): string {
  return (p.split(/[\\/]/).pop() ?? p).replace(/^["']|["']$/g, '');
}

/** Base64 text decoded, if it decodes to mostly printable text (else it is a binary payload, not a script). */
export function fromBase64(s: string, enc: 'utf8' | 'utf16le' = 'utf8'): string | undefined {
  const t = s.replace(/\s+/g, '');
  if (t.length < 8 || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(t)) return undefined;
  const text = Buffer.from(t, 'base64').toString(enc);
  return printable(text) ? text : undefined;
}

function fromHex(s: string): string | undefined {
  const t = s.replace(/\s+|\\x/g, '');
  if (t.length < 8 || !/^(?:[0-9a-fA-F]{2})+$/.test(t)) return undefined;
  const text = Buffer.from(t, 'hex').toString('utf8');
  return printable(text) ? text : undefined;
}

function printable(t: string): boolean {
  if (!t) return false;
  let ok = 0;
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if ((c >= 0x20 && c < 0x7f) || c === 9 || c === 10 || c === 13) ok++;
  }
  return ok >= t.length * 0.9;
}
