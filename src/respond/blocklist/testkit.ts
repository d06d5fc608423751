/**
 * Test helpers: running the real validators (skipping with a reason when one is missing, failing under
 * CI=true), and checkers for the two formats whose engines Debian does not ship (Suricata/Snort rules,
 * Falco rules files). The checkers are strict on purpose: they know only the keywords the writers use.
 */
import { spawnSync } from 'node:child_process';
import { isIP } from 'node:net';

export const IN_CI = process.env.CI === 'true';

/** Why a tool cannot be used here, or undefined when it can. */
export function missingTool(tool: string, pkg: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' });
  if (r.status === 0) return undefined;
  const why = `${tool} not installed (Debian package ${pkg})`;
  if (IN_CI) throw new Error(`${why}: CI must install it`);
  return why;
}

export function runTool(argv: string[], input?: string): { code: number; out: string } {
  const r = spawnSync(argv[0]!, argv.slice(1), { input: input ?? '', encoding: 'utf8', maxBuffer: 64 << 20 });
  return { code: r.status ?? -1, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

// ---------- IDS rules ----------

const ACTIONS = new Set(['alert', 'pass', 'drop', 'reject']);
const PROTOS = {
  suricata: new Set(['tcp', 'udp', 'ip', 'dns', 'tls', 'http']),
  snort: new Set(['tcp', 'udp', 'ip', 'icmp']),
};
const STICKY = new Set(['dns.query', 'tls.sni', 'http.user_agent']);
const KEYWORDS = {
  suricata: new Set([
    'msg',
    'flow',
    'content',
    'nocase',
    'dotprefix',
    'endswith',
    'startswith',
    'classtype',
    'metadata',
    'sid',
    'rev',
    'threshold',
    ...STICKY,
  ]),
  snort: new Set([
    'msg',
    'flow',
    'content',
    'nocase',
    'offset',
    'depth',
    'http_header',
    'pcre',
    'classtype',
    'metadata',
    'sid',
    'rev',
    'threshold',
  ]),
};
/** Content modifiers: valid only right after a content (or another modifier). */
const MODIFIERS = new Set([
  'nocase',
  'endswith',
  'startswith',
  'offset',
  'depth',
  'http_header',
  'distance',
  'within',
]);
const CLASSTYPES = {
  suricata: new Set(['coin-mining', 'policy-violation', 'trojan-activity']),
  snort: new Set(['policy-violation', 'trojan-activity']),
};

function splitOptions(body: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c === '\\' && quoted) {
      cur += c + (body[i + 1] ?? '');
      i++;
    } else if (c === '"') {
      quoted = !quoted;
      cur += c;
    } else if (c === ';' && !quoted) {
      out.push(cur.trim());
      cur = '';
    } else cur += c;
  }
  if (quoted) throw new Error('unterminated quote');
  if (cur.trim() !== '') throw new Error(`text after the last ';': ${cur.trim()}`);
  return out;
}

function checkQuoted(v: string, what: string): string {
  if (!/^"(?:[^"\\;]|\\["\\;:])*"$/.test(v)) throw new Error(`${what}: bad quoted value ${v}`);
  return v.slice(1, -1);
}

function checkContent(v: string): void {
  const s = checkQuoted(v, 'content');
  const parts = s.split('|');
  if (parts.length % 2 === 0) throw new Error(`content: unbalanced '|' in ${v}`);
  for (let i = 1; i < parts.length; i += 2)
    if (!/^(?:[0-9a-fA-F]{2})(?: ?[0-9a-fA-F]{2})*$/.test(parts[i]!.trim()))
      throw new Error(`content: bad hex |${parts[i]}|`);
  if (s.length === 0) throw new Error('content: empty');
}

function checkAddr(a: string): void {
  if (a === 'any' || /^\$[A-Z_]+$/.test(a)) return;
  const m = /^\[(.+)\]$/.exec(a);
  if (!m) throw new Error(`bad address ${a}`);
  for (const ip of m[1]!.split(',')) if (!isIP(ip)) throw new Error(`bad address ${ip}`);
}

function checkPort(p: string): void {
  if (p === 'any' || /^\$[A-Z_]+$/.test(p)) return;
  const n = Number(p);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`bad port ${p}`);
}

export interface IdsRule {
  action: string;
  proto: string;
  sid: number;
  msg: string;
  options: Array<[string, string | undefined]>;
}

/** Parses and checks every rule; throws with the line number on the first problem. */
export function checkIdsRules(text: string, dialect: 'suricata' | 'snort'): IdsRule[] {
  const rules: IdsRule[] = [];
  const sids = new Set<number>();
  text.split('\n').forEach((line, idx) => {
    if (line === '' || line.startsWith('#')) return;
    try {
      const m = /^(\w+) (\S+) (\S+) (\S+) (->|<>) (\S+) (\S+) \((.*)\)$/.exec(line);
      if (!m) throw new Error('rule header does not parse');
      const [, action, proto, src, sport, , dst, dport, body] = m as unknown as string[];
      if (!ACTIONS.has(action!)) throw new Error(`unknown action ${action}`);
      if (!PROTOS[dialect].has(proto!)) throw new Error(`protocol ${proto} unknown to ${dialect}`);
      checkAddr(src!);
      checkAddr(dst!);
      checkPort(sport!);
      checkPort(dport!);
      const opts = splitOptions(body!).map((o): [string, string | undefined] => {
        const c = o.indexOf(':');
        return c < 0 ? [o, undefined] : [o.slice(0, c).trim(), o.slice(c + 1).trim()];
      });
      let prev = '';
      let sticky = '';
      let sid = -1;
      let msg = '';
      let rev = false;
      for (const [k, v] of opts) {
        if (!KEYWORDS[dialect].has(k)) throw new Error(`keyword ${k} unknown to ${dialect}`);
        if (MODIFIERS.has(k) && !(prev === 'content' || MODIFIERS.has(prev)))
          throw new Error(`${k} must follow a content`);
        if (k === 'dotprefix' && !STICKY.has(prev)) throw new Error('dotprefix must follow a sticky buffer');
        if (STICKY.has(k)) {
          if (v !== undefined) throw new Error(`${k} takes no value`);
          if ((k === 'dns.query') !== (proto === 'dns') && k === 'dns.query')
            throw new Error('dns.query outside a dns rule');
          sticky = k;
        }
        if ((k === 'endswith' || k === 'startswith') && !sticky) throw new Error(`${k} outside a buffer`);
        if (k === 'content') checkContent(v ?? '');
        if (k === 'msg') msg = checkQuoted(v ?? '', 'msg');
        if (k === 'pcre' && !/^"\/.+\/[ismxAEGRUB]*"$/.test(v ?? '')) throw new Error(`bad pcre ${v}`);
        if ((k === 'offset' || k === 'depth') && !/^\d+$/.test(v ?? '')) throw new Error(`bad ${k}`);
        if (k === 'flow' && !/^(established,)?(to_server|to_client)$/.test(v ?? ''))
          throw new Error(`bad flow ${v}`);
        if (k === 'classtype' && !CLASSTYPES[dialect].has(v ?? '')) throw new Error(`classtype ${v} unknown`);
        if (k === 'metadata' && !/^[a-z_]+ [A-Za-z0-9_.-]+(?:, [a-z_]+ [A-Za-z0-9_.-]+)*$/.test(v ?? ''))
          throw new Error(`bad metadata ${v}`);
        if (
          k === 'threshold' &&
          !/^type (limit|threshold|both), track by_(src|dst), count \d+, seconds \d+$/.test(v ?? '')
        )
          throw new Error(`bad threshold ${v}`);
        if (k === 'sid') {
          if (!/^\d+$/.test(v ?? '')) throw new Error('bad sid');
          sid = Number(v);
        }
        if (k === 'rev') rev = /^\d+$/.test(v ?? '');
        prev = k;
      }
      if (!msg) throw new Error('no msg');
      if (sid < 0 || !rev) throw new Error('no sid/rev');
      if (sids.has(sid)) throw new Error(`duplicate sid ${sid}`);
      sids.add(sid);
      rules.push({ action: action!, proto: proto!, sid, msg, options: opts });
    } catch (e) {
      throw new Error(`line ${idx + 1}: ${(e as Error).message}: ${line.slice(0, 200)}`);
    }
  });
  return rules;
}

// ---------- Falco ----------

const FALCO_PRIORITIES = new Set([
  'EMERGENCY',
  'ALERT',
  'CRITICAL',
  'ERROR',
  'WARNING',
  'NOTICE',
  'INFORMATIONAL',
  'DEBUG',
]);
const FALCO_FIELDS = new Set([
  'evt.type',
  'evt.dir',
  'fd.l4proto',
  'fd.sockfamily',
  'fd.snet',
  'fd.sip',
  'fd.sip.name',
  'fd.sport',
  'fd.name',
  'proc.name',
  'proc.cmdline',
  'proc.exepath',
  'proc.pname',
  'user.name',
  'container.id',
  'container.image.repository',
]);
const FALCO_WORDS = new Set([
  'and',
  'or',
  'not',
  'in',
  'ip',
  'tcp',
  'udp',
  'connect',
  'sendto',
  'sendmsg',
  'execve',
  'execveat',
]);

/**
 * Parses the file with a real YAML parser (python3-yaml) and checks it the way Falco's loader would:
 * one of list/macro/rule per item, known fields, priorities, lists and macros defined before use,
 * balanced parentheses, output fields that exist.
 */
export function checkFalcoRules(text: string): Array<Record<string, unknown>> {
  const py = runTool(
    ['python3', '-c', 'import sys, json, yaml; print(json.dumps(yaml.safe_load(sys.stdin)))'],
    text,
  );
  if (py.code !== 0) throw new Error(`YAML does not parse: ${py.out}`);
  const doc = JSON.parse(py.out) as unknown;
  if (!Array.isArray(doc)) throw new Error('top level is not a list');
  const defined = new Set<string>();
  for (const item of doc as Array<Record<string, unknown>>) {
    const kinds = ['list', 'macro', 'rule'].filter((k) => k in item);
    if (kinds.length !== 1)
      throw new Error(`item with ${kinds.length} of list/macro/rule: ${JSON.stringify(item).slice(0, 80)}`);
    if ('list' in item) {
      if (!Array.isArray(item.items)) throw new Error(`list ${item.list}: items is not a sequence`);
      for (const i of item.items)
        if (typeof i !== 'string' && typeof i !== 'number') throw new Error(`list ${item.list}: item ${i}`);
      defined.add(String(item.list));
      continue;
    }
    const cond = item.condition;
    if (typeof cond !== 'string') throw new Error('no condition');
    checkCondition(cond, defined);
    if ('macro' in item) {
      defined.add(String(item.macro));
      continue;
    }
    for (const k of ['desc', 'output', 'priority'])
      if (typeof item[k] !== 'string') throw new Error(`rule ${item.rule}: no ${k}`);
    if (!FALCO_PRIORITIES.has(item.priority as string))
      throw new Error(`rule ${item.rule}: priority ${item.priority}`);
    if (!Array.isArray(item.tags)) throw new Error(`rule ${item.rule}: tags`);
    for (const f of (item.output as string).matchAll(/%([a-z.]+)/g))
      if (!FALCO_FIELDS.has(f[1]!)) throw new Error(`rule ${item.rule}: output field ${f[1]}`);
  }
  return doc as Array<Record<string, unknown>>;
}

function checkCondition(cond: string, defined: Set<string>): void {
  let depth = 0;
  for (const c of cond.replace(/"[^"]*"/g, '""')) {
    if (c === '(') depth++;
    if (c === ')' && --depth < 0) throw new Error(`unbalanced ) in ${cond}`);
  }
  if (depth !== 0) throw new Error(`unbalanced ( in ${cond}`);
  const tokens = cond.replace(/"[^"]*"/g, ' ').match(/[A-Za-z_][A-Za-z0-9_.]*|[<>=!]+|[(),]|\d+/g) ?? [];
  for (const t of tokens) {
    if (/^[<>=!]+$|^[(),]$|^\d+$/.test(t) || FALCO_WORDS.has(t)) continue;
    if (t.includes('.')) {
      if (!FALCO_FIELDS.has(t)) throw new Error(`unknown field ${t}`);
    } else if (!defined.has(t)) throw new Error(`${t} used before it is defined`);
  }
}
