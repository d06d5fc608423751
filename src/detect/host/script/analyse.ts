/**
 * Attribution: whose is each pool, wallet and marker a script names. Statements that remove rivals (and
 * the variables only they read, such as a kill list looped over) are the competitors'; everything else the
 * script runs, writes or fetches is the campaign's own. Families come from the own side only, so a script
 * that deletes Kinsing is not Kinsing. An address the script only looks up on a block explorer is a C2
 * dead drop, not a mining wallet.
 */
import type { WalletInfo } from '../../../wallets/index.ts';
import {
  checkWallet,
  classifyCommand,
  type PoolRefFound,
  poolFromToken,
  poolKey,
  walletsIn,
} from '../common.ts';
import type { IntelView } from '../intel-view.ts';
import type { ScriptLang, Statement } from './model.ts';
import { readScript } from './read.ts';
import { base, EXPLORER_RE, type MinerArgs, type PersistenceKind, type Role, rolesOf } from './roles.ts';

export interface RoleNote {
  line: number;
  role: Role['kind'];
  how?: string;
  text: string;
  depth: number;
  via?: string;
}

export interface Side {
  pools: Map<string, PoolRefFound>;
  wallets: Map<string, WalletInfo>;
  /** Pool logins that are not addresses: e-mail (MinerGate) or user names (NiceHash-style accounts). */
  accounts: Set<string>;
  workers: Set<string>;
  families: Map<string, string>;
  /** Miner programs and the names the script kills (for rivals). */
  names: Set<string>;
}

export interface ScriptAnalysis {
  lang: ScriptLang;
  parsedBy: 'tree-sitter' | 'tokenizer';
  statements: number;
  layers: { via: string; line: number; bytes: number; depth: number }[];
  roles: RoleNote[];
  own: Side & {
    miners: MinerArgs[];
    urls: Set<string>;
    c2: { how: string; value: string }[];
    persistence: { how: PersistenceKind; target: string; line: number }[];
    configs: string[];
    algos: Set<string>;
  };
  rivals: Side & { lines: number[] };
  /** Addresses looked up on block explorers (dead drops), never counted as wallets. */
  deaddrops: string[];
  downloads: Statement[];
  executes: boolean;
}

const side = (): Side => ({
  pools: new Map(),
  wallets: new Map(),
  accounts: new Set(),
  workers: new Set(),
  families: new Map(),
  names: new Set(),
});

const SEARCHERS =
  /^(?:e|f|z|rg)?grep$|^pgrep$|^ps$|^find$|^awk$|^cut$|^sort$|^uniq$|^wc$|^head$|^tail$|^cat$|^ls$|^lsof$|^netstat$|^ss$|^findstr(?:\.exe)?$|^select-string$/i;
const EMAIL = /^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$/;
const NOT_A_WORKER = /^(?:x|X|c=\w+|d=\d+|m=\w+|-|\$.*|.*\$\(.*|\w+=.*)$/;

export function analyseScript(text: string, lang: ScriptLang, iv: IntelView): ScriptAnalysis {
  const read = readScript(text, lang);
  const st = read.statements;
  const roles = st.map((s) => rolesOf(s, iv));
  const rival = st.map((_, i) => roles[i]!.some((r) => r.kind === 'rival'));
  // Variables read only by rival statements (kill lists, a loop variable over one) are rival data too.
  const rivalVars = new Set<string>();
  const ownVars = new Set<string>();
  for (const [i, s] of st.entries()) {
    if (s.assigns) continue;
    for (const v of s.reads) (rival[i] ? rivalVars : ownVars).add(v);
  }
  for (let changed = true; changed; ) {
    changed = false;
    for (const s of st) {
      if (!s.assigns || !rivalVars.has(s.assigns.name) || ownVars.has(s.assigns.name)) continue;
      for (const v of s.reads)
        if (!rivalVars.has(v) && !ownVars.has(v)) changed = rivalVars.add(v) !== undefined;
    }
  }
  for (const [i, s] of st.entries())
    if (s.assigns && rivalVars.has(s.assigns.name) && !ownVars.has(s.assigns.name)) rival[i] = true;

  const a: ScriptAnalysis = {
    lang,
    parsedBy: read.parsedBy,
    statements: st.length,
    layers: read.layers,
    roles: [],
    own: { ...side(), miners: [], urls: new Set(), c2: [], persistence: [], configs: [], algos: new Set() },
    rivals: { ...side(), lines: [] },
    deaddrops: [],
    downloads: [],
    executes: false,
  };
  for (const [i, s] of st.entries()) {
    const rs = roles[i]!;
    for (const r of rs)
      if (a.roles.length < 500)
        a.roles.push({
          line: s.line,
          role: r.kind,
          ...('how' in r ? { how: r.how } : {}),
          text: s.text.slice(0, 200),
          depth: s.depth,
          ...(s.via ? { via: s.via } : {}),
        });
    const text = [s.text, ...s.redirects.map((r) => r.body ?? '')].join('\n');
    const deaddrop = rs.some((r) => r.kind === 'c2' && r.how === 'deaddrop') || EXPLORER_RE.test(text);
    if (rival[i]) {
      a.rivals.lines.push(s.line);
      harvest(text, iv, a.rivals, deaddrop ? a.deaddrops : undefined, true);
      for (const r of rs) if (r.kind === 'rival') for (const t of r.targets) a.rivals.names.add(t);
      continue;
    }
    // Searching for a pool (`grep -r pool.x /etc`, `ps aux | grep xmrig`) is not using it.
    if (!s.cmds.length || s.redirects.length || !s.cmds.every((c) => SEARCHERS.test(base(c.argv[0] ?? ''))))
      harvest(text, iv, a.own, deaddrop ? a.deaddrops : undefined, false);
    for (const r of rs) {
      if (r.kind === 'download') {
        a.downloads.push(s);
        for (const u of r.urls) a.own.urls.add(u);
      } else if (r.kind === 'execute') a.executes = true;
      else if (r.kind === 'c2') a.own.c2.push({ how: r.how, value: r.value });
      else if (r.kind === 'persistence')
        a.own.persistence.push({ how: r.how, target: r.target, line: s.line });
      else if (r.kind === 'config') a.own.configs.push(r.target);
      else if (r.kind === 'miner') {
        a.own.miners.push(r.args);
        miner(r.args, iv, a.own);
      }
    }
  }
  // A pool or wallet both killed and used is the campaign's own (droppers restart their own miner).
  for (const k of a.own.pools.keys()) a.rivals.pools.delete(k);
  for (const k of a.own.wallets.keys()) a.rivals.wallets.delete(k);
  for (const k of a.own.families.keys()) a.rivals.families.delete(k);
  for (const d of a.deaddrops) a.own.wallets.delete(d);
  return a;
}

/** `names`: keep miner names the text mentions (for rivals; the own side takes them from miner commands). */
function harvest(
  text: string,
  iv: IntelView,
  into: Side,
  deaddrops: string[] | undefined,
  names: boolean,
): void {
  const sig = classifyCommand(text, iv);
  for (const p of [...sig.stratum, ...sig.pools]) into.pools.set(poolKey(p), p);
  for (const w of sig.wallets) {
    if (deaddrops) deaddrops.push(w.address);
    else into.wallets.set(w.address, w);
  }
  if (sig.miner && names) into.names.add(sig.miner.value);
  for (const f of sig.families) if (!into.families.has(f.family)) into.families.set(f.family, f.marker);
}

/** Pool, login, worker and algo of a miner command line, kept as such. */
function miner(m: MinerArgs, iv: IntelView, own: ScriptAnalysis['own']): void {
  own.names.add(m.program);
  if (m.pool && !m.pool.includes('$')) {
    const p = poolFromToken(m.pool, iv);
    if (p) own.pools.set(poolKey(p), p);
  }
  if (m.user && !m.user.includes('$(')) {
    if (EMAIL.test(m.user)) own.accounts.add(m.user);
    else {
      const [head, ...rest] = m.user.split(/[.+/]/);
      const w = checkWallet(head ?? '') ?? walletsIn(head ?? '', true)[0] ?? null;
      if (w && w.valid !== false) own.wallets.set(w.address, w);
      else if (head && !/^x$/i.test(head) && /^[A-Za-z0-9_@.-]{2,64}$/.test(head)) own.accounts.add(head);
      const worker = rest.join('.');
      if (worker && /^[A-Za-z0-9_-]{1,64}$/.test(worker) && !/^\d+$/.test(worker)) own.workers.add(worker);
    }
  }
  if (m.worker && !m.worker.includes('$')) own.workers.add(m.worker);
  if (m.pass && !NOT_A_WORKER.test(m.pass) && /^[A-Za-z0-9_.-]{2,64}$/.test(m.pass)) own.workers.add(m.pass);
  if (m.algo && !m.algo.includes('$')) own.algos.add(m.algo);
}
