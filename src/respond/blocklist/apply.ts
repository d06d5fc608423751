/**
 * `--apply` and `--revert`: put a blocklist into force on this host (hosts file, nftables, iptables +
 * ipset) and take it out again. Every change touches only what minewatch owns: a marked section of the
 * hosts file, the table `inet minewatch`, the chain MINEWATCH and the sets minewatch-v4/-v6. Before the
 * first change a backup and a small state file go into the state dir, and revert restores the hosts file
 * byte for byte (when nobody edited it since) and removes the firewall objects it added, so what was there
 * before is what is there after.
 *
 * The text transforms are pure and exported for tests; the rest runs commands through an injectable
 * runner, optionally inside a network namespace (`ip netns exec NAME`), which is how the tests exercise
 * the firewall paths without touching this machine's rules.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hostsEntries } from './hosts.ts';
import { IPSET_V4, IPSET_V6, IPT_CHAIN, writeIp6tables, writeIpset, writeIptables } from './iptables.ts';
import { NFT_FAMILY, NFT_TABLE, writeNftables } from './nftables.ts';
import type { Selection } from './select.ts';

export const APPLY_TARGETS = ['hosts', 'nftables', 'iptables'] as const;
export type ApplyTarget = (typeof APPLY_TARGETS)[number];

export const HOSTS_BEGIN = '# BEGIN minewatch';
export const HOSTS_END = '# END minewatch';

/** Something the operator has to act on (not root, tool missing, a foreign object in the way). */
export class BlockApplyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BlockApplyError';
  }
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}
export type Runner = (argv: string[], input?: string) => RunResult;

export interface ApplyEnv {
  isRoot: boolean;
  stateDir: string;
  hostsFile: string;
  /** Run firewall commands inside this network namespace. */
  netns?: string;
  run: Runner;
  now: () => string;
}

export interface ApplyResult {
  target: ApplyTarget;
  /** What was done, or with dryRun what would be done, one line each. */
  actions: string[];
  changed: boolean;
}

export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.MINEWATCH_HOME ? join(env.MINEWATCH_HOME, 'block') : '/var/lib/minewatch/block';
}

export const spawnRunner: Runner = (argv, input) => {
  const r = spawnSync(argv[0]!, argv.slice(1), { input: input ?? '', encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      throw new BlockApplyError(`${argv[0]} not found: install it (Debian: ${pkgOf(argv[0]!)})`);
    throw r.error;
  }
  return { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
};

function pkgOf(tool: string): string {
  if (tool === 'nft') return 'nftables';
  if (tool === 'ip') return 'iproute2';
  return tool.startsWith('ip6tables') || tool.startsWith('iptables') ? 'iptables' : tool;
}

export function processEnv(over: Partial<ApplyEnv> = {}): ApplyEnv {
  return {
    isRoot: typeof process.getuid === 'function' ? process.getuid() === 0 : false,
    stateDir: defaultStateDir(),
    hostsFile: '/etc/hosts',
    run: spawnRunner,
    now: () => new Date().toISOString(),
    ...over,
  };
}

// ---------- hosts: pure ----------

/** Removes the minewatch section (BEGIN line through END line). */
export function stripHostsSection(text: string): { text: string; found: boolean } {
  const lines = text.split('\n');
  const out: string[] = [];
  let inside = false;
  let found = false;
  for (const line of lines) {
    const l = line.replace(/\r$/, '');
    if (!inside && l.startsWith(HOSTS_BEGIN)) {
      inside = true;
      found = true;
      continue;
    }
    if (inside) {
      if (l.startsWith(HOSTS_END)) inside = false;
      continue;
    }
    out.push(line);
  }
  return { text: out.join('\n'), found };
}

/** The file with the minewatch section (re)placed at its end; everything else as it was. */
export function withHostsSection(text: string, entries: readonly string[], stamp: string): string {
  const rest = stripHostsSection(text).text;
  const base = rest === '' || rest.endsWith('\n') ? rest : `${rest}\n`;
  return `${base}${HOSTS_BEGIN} (${stamp}; managed by \`minewatch block --apply\`, undo with \`minewatch block --revert\`)\n${entries.join('\n')}\n${HOSTS_END}\n`;
}

// ---------- state ----------

interface HostsState {
  file: string;
  backup: string | null;
  written_sha256: string;
  applied: string;
  names: number;
}
interface FirewallState {
  netns?: string;
  applied: string;
  backup?: string;
}
export interface BlockState {
  schema: 'minewatch-block-state@1';
  hosts?: HostsState;
  nftables?: FirewallState & { preexisting: boolean };
  iptables?: FirewallState;
}

const sha256 = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');

export function readState(dir: string): BlockState {
  const file = join(dir, 'state.json');
  if (!existsSync(file)) return { schema: 'minewatch-block-state@1' };
  const doc = JSON.parse(readFileSync(file, 'utf8')) as BlockState;
  if (doc.schema !== 'minewatch-block-state@1') throw new BlockApplyError(`${file}: unknown state schema`);
  return doc;
}

function writeState(dir: string, state: BlockState): void {
  const file = join(dir, 'state.json');
  if (!state.hosts && !state.nftables && !state.iptables) {
    rmSync(file, { force: true });
    return;
  }
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, file);
}

function needRoot(env: ApplyEnv, dryRun: boolean): void {
  if (!dryRun && !env.isRoot)
    throw new BlockApplyError(
      'changing the firewall or hosts file needs root: run as root, or add --dry-run to see the plan',
    );
}

/** Sandboxes firewall commands into env.netns when set. */
function fw(env: ApplyEnv, argv: string[], input?: string): RunResult {
  return env.run(env.netns ? ['ip', 'netns', 'exec', env.netns, ...argv] : argv, input);
}

function must(env: ApplyEnv, argv: string[], input?: string): RunResult {
  const r = fw(env, argv, input);
  if (r.code !== 0)
    throw new BlockApplyError(`${argv.join(' ')} failed (exit ${r.code}): ${r.stderr.trim()}`);
  return r;
}

function sameNetns(a: string | undefined, b: string | undefined): boolean {
  return (a ?? '') === (b ?? '');
}

// ---------- apply ----------

export function applyBlocklist(
  target: ApplyTarget,
  sel: Selection,
  env: ApplyEnv,
  opts: { dryRun?: boolean } = {},
): ApplyResult {
  const dryRun = opts.dryRun === true;
  needRoot(env, dryRun);
  if (!dryRun) mkdirSync(env.stateDir, { recursive: true, mode: 0o700 });
  const state = readState(env.stateDir);
  const res =
    target === 'hosts'
      ? applyHosts(sel, env, state, dryRun)
      : target === 'nftables'
        ? applyNft(sel, env, state, dryRun)
        : applyIpt(sel, env, state, dryRun);
  if (!dryRun) writeState(env.stateDir, state);
  return res;
}

function applyHosts(sel: Selection, env: ApplyEnv, state: BlockState, dryRun: boolean): ApplyResult {
  const file = env.hostsFile;
  const current = existsSync(file) ? readFileSync(file) : null;
  const currentText = current?.toString('utf8') ?? '';
  const next = withHostsSection(
    currentText,
    hostsEntries(sel),
    `${sel.names.length} names, intel ${sel.intelGenerated}`,
  );
  const actions: string[] = [];
  // Keep the backup of the first apply: it is the file as it was before minewatch ever touched it. A file
  // whose section is gone (someone restored it by hand) starts over with a fresh backup.
  const prev = state.hosts;
  if (prev && prev.file !== file)
    throw new BlockApplyError(
      `a list is applied to ${prev.file}; run \`minewatch block --revert\` before applying to ${file}`,
    );
  const keepBackup = prev !== undefined && prev.file === file && stripHostsSection(currentText).found;
  const backupPath = join(env.stateDir, 'hosts.orig');
  if (!keepBackup)
    actions.push(current ? `back up ${file} to ${backupPath}` : `note that ${file} does not exist`);
  const changed = next !== currentText;
  actions.push(
    changed
      ? `write ${sel.names.length} names into ${file} between '${HOSTS_BEGIN}' and '${HOSTS_END}'`
      : `${file} already holds this list: nothing to change`,
  );
  if (dryRun) return { target: 'hosts', actions, changed };
  let backup = prev?.backup ?? null;
  if (!keepBackup) {
    if (current) writeFileSync(backupPath, current, { mode: 0o600 });
    else rmSync(backupPath, { force: true });
    backup = current ? backupPath : null;
  }
  // Written in place, not renamed over: /etc/hosts is often a bind mount (containers), which rename breaks.
  if (changed) writeFileSync(file, next);
  state.hosts = { file, backup, written_sha256: sha256(next), applied: env.now(), names: sel.names.length };
  return { target: 'hosts', actions, changed };
}

function applyNft(sel: Selection, env: ApplyEnv, state: BlockState, dryRun: boolean): ApplyResult {
  const script = writeNftables(sel);
  const where = env.netns ? ` in network namespace ${env.netns}` : '';
  const actions: string[] = [];
  const prev = state.nftables;
  if (prev && !sameNetns(prev.netns, env.netns))
    throw new BlockApplyError('an nftables list is applied in another network namespace: revert it first');
  const first = prev === undefined;
  const listed = fw(env, ['nft', 'list', 'table', NFT_FAMILY, NFT_TABLE]);
  const exists = listed.code === 0;
  const backupPath = join(env.stateDir, 'nftables.orig.nft');
  if (first && exists) actions.push(`back up the existing table ${NFT_FAMILY} ${NFT_TABLE} to ${backupPath}`);
  actions.push(
    `load table ${NFT_FAMILY} ${NFT_TABLE}${where} (nft -f -): ${sel.ipv4.length} IPv4 and ${sel.ipv6.length} IPv6 addresses, rejected on output and forward`,
  );
  if (dryRun) return { target: 'nftables', actions, changed: true };
  if (first && exists) writeFileSync(backupPath, listed.stdout, { mode: 0o600 });
  must(env, ['nft', '-f', '-'], script);
  // Compared as the kernel lists the table, counters aside: a second apply of the same list is a no-op.
  const after = fw(env, ['nft', 'list', 'table', NFT_FAMILY, NFT_TABLE]);
  const changed = !exists || withoutCounters(listed.stdout) !== withoutCounters(after.stdout);
  state.nftables = {
    ...(env.netns ? { netns: env.netns } : {}),
    applied: env.now(),
    preexisting: first ? exists : (prev?.preexisting ?? false),
    ...(first ? (exists ? { backup: backupPath } : {}) : prev?.backup ? { backup: prev.backup } : {}),
  };
  return { target: 'nftables', actions, changed };
}

function withoutCounters(listing: string): string {
  return listing.replace(/counter packets \d+ bytes \d+/g, 'counter');
}

const IPT_TOOLS = [
  { tool: 'iptables', set: IPSET_V4, write: writeIptables },
  { tool: 'ip6tables', set: IPSET_V6, write: writeIp6tables },
] as const;
const IPT_HOOKS = ['OUTPUT', 'FORWARD'] as const;

function applyIpt(sel: Selection, env: ApplyEnv, state: BlockState, dryRun: boolean): ApplyResult {
  const where = env.netns ? ` in network namespace ${env.netns}` : '';
  const prev = state.iptables;
  if (prev && !sameNetns(prev.netns, env.netns))
    throw new BlockApplyError('an iptables list is applied in another network namespace: revert it first');
  const ours = prev !== undefined;
  if (!ours) {
    // Without our state, a chain or set of that name belongs to someone else: never take it over.
    for (const { tool } of IPT_TOOLS)
      if (fw(env, [tool, '-S', IPT_CHAIN]).code === 0)
        throw new BlockApplyError(
          `${tool} chain ${IPT_CHAIN} exists but minewatch did not create it${where}; remove it first`,
        );
    for (const set of [IPSET_V4, IPSET_V6])
      if (fw(env, ['ipset', 'list', '-n', set]).code === 0)
        throw new BlockApplyError(
          `ipset ${set} exists but minewatch did not create it${where}; remove it first`,
        );
  }
  const actions = [
    `load ipsets ${IPSET_V4} (${sel.ipv4.length}) and ${IPSET_V6} (${sel.ipv6.length})${where} (ipset -exist restore)`,
    ...IPT_TOOLS.map(
      ({ tool, set }) => `load chain ${IPT_CHAIN} rejecting @${set} (${tool}-restore --noflush)`,
    ),
    ...IPT_TOOLS.flatMap(({ tool }) =>
      IPT_HOOKS.map((h) => `jump ${h} -> ${IPT_CHAIN} in ${tool} unless already there`),
    ),
  ];
  if (dryRun) return { target: 'iptables', actions, changed: true };
  // Snapshots of the tables before minewatch's first change, for the operator (revert removes our objects).
  if (!ours) {
    for (const { tool } of IPT_TOOLS) {
      const saved = fw(env, [`${tool}-save`]);
      if (saved.code === 0)
        writeFileSync(join(env.stateDir, `${tool}.before.rules`), saved.stdout, { mode: 0o600 });
    }
  }
  state.iptables = {
    ...(env.netns ? { netns: env.netns } : {}),
    applied: env.now(),
    backup: join(env.stateDir, 'iptables.before.rules'),
  };
  must(env, ['ipset', '-exist', 'restore'], writeIpset(sel));
  for (const { tool, write } of IPT_TOOLS) {
    must(env, [`${tool}-restore`, '--noflush'], write(sel));
    for (const hook of IPT_HOOKS)
      if (fw(env, [tool, '-C', hook, '-j', IPT_CHAIN]).code !== 0)
        must(env, [tool, '-I', hook, '1', '-j', IPT_CHAIN]);
  }
  return { target: 'iptables', actions, changed: true };
}

// ---------- revert ----------

export function revertBlocklist(
  env: ApplyEnv,
  opts: { dryRun?: boolean; targets?: readonly ApplyTarget[] } = {},
): ApplyResult[] {
  const dryRun = opts.dryRun === true;
  needRoot(env, dryRun);
  const state = readState(env.stateDir);
  const targets = opts.targets ?? APPLY_TARGETS;
  const out: ApplyResult[] = [];
  if (targets.includes('hosts') && state.hosts) out.push(revertHosts(state, dryRun));
  if (targets.includes('nftables') && state.nftables) out.push(revertNft(env, state, dryRun));
  if (targets.includes('iptables') && state.iptables) out.push(revertIpt(env, state, dryRun));
  if (!dryRun) writeState(env.stateDir, state);
  return out;
}

function revertHosts(state: BlockState, dryRun: boolean): ApplyResult {
  const h = state.hosts!;
  const current = existsSync(h.file) ? readFileSync(h.file) : null;
  const untouched = current !== null && sha256(current) === h.written_sha256;
  const actions: string[] = [];
  if (untouched) {
    actions.push(
      h.backup ? `restore ${h.file} from ${h.backup}` : `remove ${h.file} (it did not exist before)`,
    );
  } else if (current) {
    // Edited since the apply: restoring the backup would throw the edits away, so only our section goes.
    actions.push(`${h.file} changed since the apply: remove only the minewatch section`);
  } else {
    actions.push(`${h.file} is gone: nothing to restore`);
  }
  if (dryRun) return { target: 'hosts', actions, changed: true };
  if (untouched) {
    if (h.backup) writeFileSync(h.file, readFileSync(h.backup));
    else rmSync(h.file, { force: true });
  } else if (current) {
    const stripped = stripHostsSection(current.toString('utf8'));
    if (stripped.found) writeFileSync(h.file, stripped.text);
  }
  if (h.backup) rmSync(h.backup, { force: true });
  delete state.hosts;
  return { target: 'hosts', actions, changed: true };
}

function revertNft(env: ApplyEnv, state: BlockState, dryRun: boolean): ApplyResult {
  const s = state.nftables!;
  const e = { ...env, ...(s.netns ? { netns: s.netns } : {}) };
  const actions = [
    `delete table ${NFT_FAMILY} ${NFT_TABLE}${s.netns ? ` in network namespace ${s.netns}` : ''}`,
  ];
  if (s.preexisting && s.backup) actions.push(`reload the table as it was before from ${s.backup}`);
  if (dryRun) return { target: 'nftables', actions, changed: true };
  if (fw(e, ['nft', 'list', 'table', NFT_FAMILY, NFT_TABLE]).code === 0)
    must(e, ['nft', 'delete', 'table', NFT_FAMILY, NFT_TABLE]);
  if (s.preexisting && s.backup) {
    must(e, ['nft', '-f', '-'], readFileSync(s.backup, 'utf8'));
    rmSync(s.backup, { force: true });
  }
  delete state.nftables;
  return { target: 'nftables', actions, changed: true };
}

function revertIpt(env: ApplyEnv, state: BlockState, dryRun: boolean): ApplyResult {
  const s = state.iptables!;
  const e = { ...env, ...(s.netns ? { netns: s.netns } : {}) };
  const actions = [
    ...IPT_TOOLS.flatMap(({ tool }) => [
      ...IPT_HOOKS.map((h) => `remove jump ${h} -> ${IPT_CHAIN} from ${tool}`),
      `flush and delete chain ${IPT_CHAIN} in ${tool}`,
    ]),
    `destroy ipsets ${IPSET_V4} and ${IPSET_V6}`,
  ];
  if (dryRun) return { target: 'iptables', actions, changed: true };
  for (const { tool } of IPT_TOOLS) {
    for (const hook of IPT_HOOKS) {
      // Inserted once per apply at most, but remove every copy in case one was added by hand.
      for (let i = 0; i < 100 && fw(e, [tool, '-C', hook, '-j', IPT_CHAIN]).code === 0; i++)
        must(e, [tool, '-D', hook, '-j', IPT_CHAIN]);
    }
    if (fw(e, [tool, '-S', IPT_CHAIN]).code === 0) {
      must(e, [tool, '-F', IPT_CHAIN]);
      must(e, [tool, '-X', IPT_CHAIN]);
    }
  }
  for (const set of [IPSET_V4, IPSET_V6])
    if (fw(e, ['ipset', 'list', '-n', set]).code === 0) must(e, ['ipset', 'destroy', set]);
  for (const { tool } of IPT_TOOLS) rmSync(join(env.stateDir, `${tool}.before.rules`), { force: true });
  delete state.iptables;
  return { target: 'iptables', actions, changed: true };
}

// ---------- set elements: the fleet agent's incremental updates ----------

export interface AddressSets {
  ipv4: string[];
  ipv6: string[];
}

/**
 * The addresses in minewatch's sets now, as the kernel lists them (nftables sets pool_v4/pool_v6, or the
 * ipsets minewatch-v4/-v6), or null when they are not there (nothing applied, or removed by hand).
 */
export function listSetElements(target: 'nftables' | 'iptables', env: ApplyEnv): AddressSets | null {
  const out: AddressSets = { ipv4: [], ipv6: [] };
  if (target === 'nftables') {
    for (const [set, key] of [
      ['pool_v4', 'ipv4'],
      ['pool_v6', 'ipv6'],
    ] as const) {
      const r = fw(env, ['nft', '-j', 'list', 'set', NFT_FAMILY, NFT_TABLE, set]);
      if (r.code !== 0) return null;
      const doc = JSON.parse(r.stdout) as { nftables?: Array<{ set?: { elem?: unknown[] } }> };
      for (const item of doc.nftables ?? [])
        for (const e of item.set?.elem ?? []) if (typeof e === 'string') out[key].push(e);
    }
    return out;
  }
  for (const [set, key] of [
    [IPSET_V4, 'ipv4'],
    [IPSET_V6, 'ipv6'],
  ] as const) {
    const r = fw(env, ['ipset', 'list', set]);
    if (r.code !== 0) return null;
    const members = r.stdout.split('\n');
    const at = members.findIndex((l) => l.startsWith('Members:'));
    for (const l of at < 0 ? [] : members.slice(at + 1))
      if (l.trim()) out[key].push(l.trim().split(/\s+/)[0]!);
  }
  return out;
}

/**
 * Adds and removes addresses in the sets `applyBlocklist` created, in one transaction, without reloading the
 * table or touching its chains: `nft -f -` with `add element` / `delete element` lines (nft applies a file
 * atomically), or `ipset restore` with add/del lines. Removing an address that is not there is no error
 * (the diff is taken against the kernel's listing first for nftables, whose delete would fail).
 */
export function updateSetElements(
  target: 'nftables' | 'iptables',
  add: AddressSets,
  remove: AddressSets,
  env: ApplyEnv,
): ApplyResult {
  needRoot(env, false);
  const state = readState(env.stateDir);
  const mine = target === 'nftables' ? state.nftables : state.iptables;
  if (!mine || !sameNetns(mine.netns, env.netns))
    throw new BlockApplyError(`no ${target} list applied here by minewatch: apply one before updating it`);
  const now = listSetElements(target, env);
  if (!now) throw new BlockApplyError(`minewatch's ${target} sets are gone: revert and apply again`);
  const have = { ipv4: new Set(now.ipv4), ipv6: new Set(now.ipv6) };
  const plus = {
    ipv4: [...new Set(add.ipv4)].filter((a) => !have.ipv4.has(a)),
    ipv6: [...new Set(add.ipv6)].filter((a) => !have.ipv6.has(a)),
  };
  const minus = {
    ipv4: [...new Set(remove.ipv4)].filter((a) => have.ipv4.has(a)),
    ipv6: [...new Set(remove.ipv6)].filter((a) => have.ipv6.has(a)),
  };
  const n = plus.ipv4.length + plus.ipv6.length + minus.ipv4.length + minus.ipv6.length;
  const actions = [
    `add ${plus.ipv4.length + plus.ipv6.length} and remove ${minus.ipv4.length + minus.ipv6.length} addresses in the ${target} sets${env.netns ? ` in network namespace ${env.netns}` : ''}`,
  ];
  if (n === 0) return { target, actions, changed: false };
  if (target === 'nftables') {
    const lines: string[] = [];
    const el = (verb: string, set: string, ips: string[]) => {
      if (ips.length) lines.push(`${verb} element ${NFT_FAMILY} ${NFT_TABLE} ${set} { ${ips.join(', ')} }`);
    };
    el('delete', 'pool_v4', minus.ipv4);
    el('delete', 'pool_v6', minus.ipv6);
    el('add', 'pool_v4', plus.ipv4);
    el('add', 'pool_v6', plus.ipv6);
    must(env, ['nft', '-f', '-'], `${lines.join('\n')}\n`);
  } else {
    const lines = [
      ...minus.ipv4.map((a) => `del ${IPSET_V4} ${a}`),
      ...minus.ipv6.map((a) => `del ${IPSET_V6} ${a}`),
      ...plus.ipv4.map((a) => `add ${IPSET_V4} ${a}`),
      ...plus.ipv6.map((a) => `add ${IPSET_V6} ${a}`),
    ];
    must(env, ['ipset', '-exist', 'restore'], `${lines.join('\n')}\n`);
  }
  mine.applied = env.now();
  writeState(env.stateDir, state);
  return { target, actions, changed: true };
}
