/**
 * Builds the agent's fleet-response hooks from its options: the enforcer (--enforce-blocks) and the remote
 * cleaner (--allow-remote-clean). The CLI and the end-to-end tests wire the agent the same way.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type ApplyEnv, type ApplyTarget, processEnv } from '../respond/blocklist/apply.ts';
import type { ProcessControl } from '../respond/cleanup/procs.ts';
import { Enforcer, protectedAddresses } from './enforce.ts';
import type { AgentHooks } from './index.ts';
import { type PlanFn, RemoteCleaner } from './remote-clean.ts';

export interface FleetAgentOptions {
  server: string;
  token: string;
  fetch?: typeof fetch;
  log?: (m: string) => void;
  now?: () => number;
  enforce?: {
    target: ApplyTarget;
    /** Overrides of the apply environment: state dir, network namespace (tests), hosts file. */
    env?: Partial<ApplyEnv>;
    resolvConf?: string;
    resolve?: (name: string) => Promise<string[]>;
  };
  remoteClean?: {
    root: string;
    journalDir: string;
    quarantineDir: string;
    /** Remembers handled approvals (default: beside the journals). */
    stateFile?: string;
    plan?: PlanFn;
    control?: ProcessControl;
  };
}

/** Where enforcement keeps its state: its own, so a list applied by hand with `block --apply` stays apart. */
export function defaultEnforceStateDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.MINEWATCH_HOME ? join(env.MINEWATCH_HOME, 'enforce') : '/var/lib/minewatch/enforce';
}

export interface FleetAgent {
  hooks: AgentHooks;
  enforcer?: Enforcer;
  cleaner?: RemoteCleaner;
}

export async function fleetAgent(o: FleetAgentOptions): Promise<FleetAgent> {
  const out: FleetAgent = { hooks: {} };
  const common = {
    server: o.server,
    token: o.token,
    ...(o.fetch ? { fetch: o.fetch } : {}),
    ...(o.log ? { log: o.log } : {}),
    ...(o.now ? { now: o.now } : {}),
  };
  if (o.enforce) {
    const protect = await protectedAddresses(o.server, {
      ...(o.enforce.resolvConf ? { resolvConf: o.enforce.resolvConf } : {}),
      ...(o.enforce.resolve ? { resolve: o.enforce.resolve } : {}),
    });
    const env = processEnv({ stateDir: defaultEnforceStateDir(), ...o.enforce.env });
    const e = new Enforcer({ ...common, target: o.enforce.target, env, protect });
    out.enforcer = e;
    out.hooks.beforeScan = async () => {
      await e.sync();
    };
    out.hooks.heartbeat = () => ({ enforcement: e.state() });
    out.hooks.stop = async () => e.stop();
  }
  if (o.remoteClean) {
    const rc = o.remoteClean;
    mkdirSync(rc.journalDir, { recursive: true, mode: 0o700 });
    const c = new RemoteCleaner({
      ...common,
      root: rc.root,
      journalDir: rc.journalDir,
      quarantineDir: rc.quarantineDir,
      stateFile: rc.stateFile ?? join(rc.journalDir, 'remote-approvals.json'),
      ...(rc.plan ? { plan: rc.plan } : {}),
      ...(rc.control ? { control: rc.control } : {}),
    });
    out.cleaner = c;
    out.hooks.afterDeliver = async (host) => {
      await c.cycle(host);
    };
  }
  return out;
}
