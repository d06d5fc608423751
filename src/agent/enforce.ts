/**
 * `agent --enforce-blocks nftables|iptables|hosts`: pull the fleet's block decisions as a stream (everything
 * at start, then what was added and removed since the version held, as a CrowdSec bouncer pulls
 * `decisions/stream`) and keep this host's sets equal to them with the code of `block --apply`: the first
 * apply loads minewatch's table (or ipsets, or hosts section) exactly as `block --apply` does; after that,
 * set elements are added and removed in one transaction and the table is never reloaded. `stop()` reverts
 * as `block --revert` does.
 *
 * Never blocked, whatever the server says: the server's own addresses, the resolvers this host uses to
 * reach it, and loopback. A decision for one of them is skipped and counted in the heartbeat.
 */
import { lookup } from 'node:dns/promises';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { normalizeIp } from '../intel/names.ts';
import {
  type ApplyEnv,
  type ApplyTarget,
  applyBlocklist,
  listSetElements,
  readState,
  revertBlocklist,
  updateSetElements,
} from '../respond/blocklist/apply.ts';
import type { Selection } from '../respond/blocklist/select.ts';
import { type Decision, decisionKey, type StreamAnswer } from '../respond/fleet/decisions.ts';
import { VERSION } from '../version.ts';

export interface EnforcementState {
  target: ApplyTarget;
  /** The decisions version applied, or null before the first successful apply. */
  version: number | null;
  ipv4: number;
  ipv6: number;
  names: number;
  /** Decisions skipped because they name the server, a resolver or loopback. */
  protected: string[];
  last_sync: string | null;
  last_error: string | null;
}

export interface EnforcerOptions {
  target: ApplyTarget;
  server: string;
  token: string;
  env: ApplyEnv;
  /** Addresses and names never blocked (see `protectedAddresses`). */
  protect: { ips: ReadonlySet<string>; names: ReadonlySet<string> };
  fetch?: typeof fetch;
  log?: (m: string) => void;
  now?: () => number;
  requestTimeoutMs?: number;
}

/** Pure: the nameservers of a resolv.conf. */
export function resolvers(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    const ip = m ? normalizeIp(m[1]!.replace(/%.*$/, '')) : undefined;
    if (ip) out.push(ip);
  }
  return out;
}

/** What enforcement must never block: the server (its name, and every address it resolves to), the
 * resolvers of resolv.conf, loopback. */
export async function protectedAddresses(
  server: string,
  opts: { resolvConf?: string; resolve?: (name: string) => Promise<string[]> } = {},
): Promise<{ ips: Set<string>; names: Set<string> }> {
  const ips = new Set<string>(['127.0.0.1', '::1']);
  const names = new Set<string>(['localhost']);
  const host = new URL(server).hostname.replace(/^\[|\]$/g, '');
  if (isIP(host)) ips.add(normalizeIp(host) ?? host);
  else {
    names.add(host.toLowerCase());
    const resolve =
      opts.resolve ?? (async (n: string) => (await lookup(n, { all: true })).map((a) => a.address));
    try {
      for (const a of await resolve(host)) ips.add(normalizeIp(a) ?? a);
    } catch {
      // Unresolvable now: the name is still protected, and the agent cannot reach it anyway.
    }
  }
  try {
    for (const r of resolvers(readFileSync(opts.resolvConf ?? '/etc/resolv.conf', 'utf8'))) ips.add(r);
  } catch {
    // No resolv.conf: nothing more to protect.
  }
  return { ips, names };
}

/** A Selection holding just these addresses and names, for `applyBlocklist`. */
export function fleetSelection(ipv4: string[], ipv6: string[], names: string[], version: number): Selection {
  return {
    names,
    zones: names,
    exceptions: [],
    ipv4,
    ipv6,
    ports: [],
    pools: [],
    endpoints: [],
    uaPrefixes: [],
    binaries: [],
    minerStrings: [],
    sources: [],
    markerSources: [],
    options: { coins: [], strictCoins: false, includeClosed: false, includeDownloads: false },
    version: VERSION,
    intelGenerated: `fleet decisions version ${version}`,
  };
}

export class Enforcer {
  private held = new Map<string, Decision>();
  private st: EnforcementState;
  private readonly fetch: typeof fetch;
  private readonly now: () => number;

  constructor(private readonly opts: EnforcerOptions) {
    this.fetch = opts.fetch ?? fetch;
    this.now = opts.now ?? Date.now;
    this.st = {
      target: opts.target,
      version: null,
      ipv4: 0,
      ipv6: 0,
      names: 0,
      protected: [],
      last_sync: null,
      last_error: null,
    };
  }

  state(): EnforcementState {
    return { ...this.st, protected: [...this.st.protected] };
  }

  /** Pulls and applies; an error is kept for the heartbeat (and logged), never thrown. */
  async sync(): Promise<EnforcementState> {
    try {
      const since = this.st.version;
      const url = new URL(
        `api/v1/decisions/stream?${since === null ? 'startup=true' : `since=${since}`}`,
        this.opts.server.endsWith('/') ? this.opts.server : `${this.opts.server}/`,
      );
      const res = await this.fetch(url, {
        headers: { authorization: `Bearer ${this.opts.token}` },
        signal: AbortSignal.timeout(this.opts.requestTimeoutMs ?? 30_000),
      });
      if (res.status !== 200) {
        const body = (await res.json().catch(() => ({}))) as { error?: string };
        throw new Error(`decisions stream: server answered ${res.status} ${body.error ?? ''}`.trim());
      }
      this.apply((await res.json()) as StreamAnswer);
      this.st.last_error = null;
    } catch (err) {
      this.st.last_error = (err as Error).message.slice(0, 500);
      this.opts.log?.(`enforcement: ${this.st.last_error}`);
    }
    this.st.last_sync = new Date(this.now()).toISOString();
    return this.state();
  }

  /** Applies one stream answer; the held set and version move only when the apply succeeded. */
  apply(ans: StreamAnswer): void {
    if (!Number.isSafeInteger(ans.version) || !Array.isArray(ans.new) || !Array.isArray(ans.deleted))
      throw new Error('decisions stream: malformed answer');
    const next = ans.full ? new Map<string, Decision>() : new Map(this.held);
    for (const d of ans.deleted) next.delete(decisionKey(d));
    for (const d of ans.new) if (d && (d.type === 'ip' || d.type === 'domain')) next.set(decisionKey(d), d);
    const { ips, names } = this.opts.protect;
    const v4: string[] = [];
    const v6: string[] = [];
    const hostNames: string[] = [];
    const skipped: string[] = [];
    for (const d of next.values()) {
      if (d.type === 'ip') {
        const ip = normalizeIp(d.value);
        if (!ip) continue;
        // Loopback and link-local (the cloud metadata service) are never blocked, whatever the server says.
        if (ips.has(ip) || ip.startsWith('127.') || ip.startsWith('169.254.') || /^fe[89ab]/i.test(ip))
          skipped.push(ip);
        else (ip.includes(':') ? v6 : v4).push(ip);
      } else {
        const n = d.value.toLowerCase();
        if (names.has(n)) skipped.push(n);
        else hostNames.push(n);
      }
    }
    hostNames.sort();
    const { target, env } = this.opts;
    if (target === 'hosts') {
      applyBlocklist('hosts', fleetSelection([], [], hostNames, ans.version), env);
    } else {
      const applied =
        target === 'nftables' ? readState(env.stateDir).nftables : readState(env.stateDir).iptables;
      const have = applied ? listSetElements(target, env) : null;
      if (!have) applyBlocklist(target, fleetSelection(v4, v6, [], ans.version), env);
      else {
        const want4 = new Set(v4);
        const want6 = new Set(v6);
        updateSetElements(
          target,
          { ipv4: v4, ipv6: v6 },
          { ipv4: have.ipv4.filter((a) => !want4.has(a)), ipv6: have.ipv6.filter((a) => !want6.has(a)) },
          env,
        );
      }
    }
    this.held = next;
    this.st.version = ans.version;
    this.st.ipv4 = target === 'hosts' ? 0 : v4.length;
    this.st.ipv6 = target === 'hosts' ? 0 : v6.length;
    this.st.names = target === 'hosts' ? hostNames.length : 0;
    this.st.protected = skipped.sort();
  }

  /** Takes this host's enforcement out again (as `block --revert`). */
  stop(): void {
    revertBlocklist(this.opts.env, { targets: [this.opts.target] });
    this.held.clear();
    this.st.version = null;
    this.st.ipv4 = this.st.ipv6 = this.st.names = 0;
  }
}
