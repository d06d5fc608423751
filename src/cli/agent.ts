/**
 * `minewatch agent`: scan this host on an interval (or once), send findings and a heartbeat to the server,
 * spool to disk while it is away.
 */
import { readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { type CommandContext, examples, foundExit, write } from './common.ts';
import { CliError, EXIT } from './io.ts';

/** `10m`, `30s`, `1h`, `500ms`, or plain seconds, to milliseconds. */
export function parseDuration(s: string, what = 'duration'): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(s.trim());
  if (!m) throw new CliError(`${what} '${s}' is not a duration (e.g. 30s, 10m, 1h)`);
  const mult = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(m[2] ?? 's') as 'ms'];
  const ms = Number(m[1]) * mult;
  if (!(ms > 0)) throw new CliError(`${what} must be more than zero`);
  return ms;
}

/** `64MiB`, `1GB`, `500k`, or bytes. */
export function parseSize(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(k|kb|kib|m|mb|mib|g|gb|gib)?$/i.exec(s.trim());
  if (!m) throw new CliError(`size '${s}' is not a size (e.g. 64MiB)`);
  const u = (m[2] ?? '').toLowerCase()[0];
  return Math.round(Number(m[1]) * (u === 'k' ? 1024 : u === 'm' ? 1024 ** 2 : u === 'g' ? 1024 ** 3 : 1));
}

/** Where the token is read from when nothing names it (a packaged agent's systemd unit need not). */
export const DEFAULT_TOKEN_FILE = '/etc/minewatch/token';

/**
 * The agent's token, never needing the command line (where `ps` shows it to every user): --token-file, else
 * $MINEWATCH_TOKEN (or the older $MINEWATCH_AGENT_TOKEN), else /etc/minewatch/token if it exists; --token
 * still works, with a warning.
 */
export function agentToken(
  opts: { token?: string; tokenFile?: string },
  warn: (m: string) => void,
  env: NodeJS.ProcessEnv = process.env,
): string {
  if (opts.token) {
    warn('--token puts the token on the command line, visible in `ps`; use --token-file or MINEWATCH_TOKEN');
    return opts.token.trim();
  }
  const file =
    opts.tokenFile ?? (env.MINEWATCH_TOKEN || env.MINEWATCH_AGENT_TOKEN ? undefined : DEFAULT_TOKEN_FILE);
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if (opts.tokenFile || (err as NodeJS.ErrnoException).code !== 'ENOENT')
        throw new CliError(`--token-file: ${(err as Error).message}`, file);
      text = '';
    }
    if (text.trim()) {
      try {
        if ((statSync(file).mode & 0o077) !== 0)
          warn(`${file} is readable by other users (chmod 600 ${file})`);
      } catch {
        // stat after a read: a race with a rename; the read is what counts
      }
      return text.trim();
    }
    if (opts.tokenFile) throw new CliError('--token-file is empty', file);
  }
  const fromEnv = env.MINEWATCH_TOKEN || env.MINEWATCH_AGENT_TOKEN;
  if (fromEnv) return fromEnv.trim();
  throw new CliError(
    'a token is required: --token-file FILE or MINEWATCH_TOKEN (make one with `minewatch token create --name <host>`)',
  );
}

export function defaultSpoolDir(): string {
  if (process.env.MINEWATCH_SPOOL) return process.env.MINEWATCH_SPOOL;
  return process.getuid?.() === 0 ? '/var/lib/minewatch/spool' : join(homedir(), '.minewatch', 'spool');
}

interface AgentCliOptions {
  server: string;
  token?: string;
  tokenFile?: string;
  interval: string;
  once?: boolean;
  root: string;
  spool?: string;
  spoolMax: string;
  deliverTimeout: string;
  pcapIface?: string;
  pcapSeconds: string;
  tcpdump?: string;
  proxy?: string;
  ca?: string;
  enforceBlocks?: string;
  enforceStateDir?: string;
  allowRemoteClean?: boolean;
  journalDir?: string;
  quarantineDir?: string;
}

export function registerAgent(program: Command, ctx: CommandContext): void {
  program
    .command('agent')
    .description('scan this host and report to a minewatch server; spools to disk while the server is away')
    .requiredOption('--server <url>', 'the minewatch server, e.g. https://minewatch.internal:8750')
    .option(
      '--token-file <file>',
      "file holding this agent's token (mode 0600; default $MINEWATCH_TOKEN, then /etc/minewatch/token)",
    )
    .option('--token <token>', 'the token itself (visible to every user in `ps`: prefer --token-file)')
    .option('--interval <duration>', 'time between scans', '10m')
    .option('--once', 'scan once, deliver, exit (for cron/systemd timers)')
    .option('--root <dir>', 'scan the host below this directory', '/')
    .option(
      '--spool <dir>',
      'where reports wait for the server (default /var/lib/minewatch/spool as root, else ~/.minewatch/spool)',
    )
    .option(
      '--spool-max <size>',
      'spool size bound; when full, heartbeats and low findings go first',
      '64MiB',
    )
    .option('--deliver-timeout <duration>', 'with --once: how long to keep retrying delivery', '60s')
    .option('--pcap-iface <iface>', 'also capture traffic on this interface (tcpdump) and analyse it')
    .option('--pcap-seconds <n>', 'seconds of traffic to capture per scan', '60')
    .option('--tcpdump <path>', 'tcpdump binary to use', 'tcpdump')
    .option(
      '--proxy <url>',
      'HTTP(S) proxy to reach the server through (default: $HTTPS_PROXY / $HTTP_PROXY, honouring $NO_PROXY)',
    )
    .option(
      '--ca <file>',
      "PEM certificate of the CA that signed the server's certificate (trusted beside the system's)",
    )
    // Fleet response (docs/fleet-response.md).
    .option(
      '--enforce-blocks <target>',
      "pull the fleet's block decisions and enforce them: nftables, iptables (with ipset) or hosts",
    )
    .option(
      '--enforce-state-dir <dir>',
      'where enforcement keeps its state and backups (default $MINEWATCH_HOME/enforce or /var/lib/minewatch/enforce)',
    )
    .option(
      '--allow-remote-clean',
      "report this host's cleanup plan and carry out the steps an admin approved (journalled, restorable)",
    )
    .option('--journal-dir <dir>', 'with --allow-remote-clean: where journals live (as `clean`)')
    .option('--quarantine-dir <dir>', 'with --allow-remote-clean: where quarantined files go (as `clean`)')
    .addHelpText(
      'after',
      examples([
        'minewatch agent --server https://mw.internal:8750 --token-file /etc/minewatch/token',
        'minewatch agent --server https://mw.internal:8750 --token-file /etc/minewatch/token --enforce-blocks nftables --allow-remote-clean',
        'MINEWATCH_TOKEN=$(cat token) minewatch agent --server http://127.0.0.1:8750 --once',
        'minewatch agent --server https://mw.internal:8750 --token-file /etc/minewatch/token --pcap-iface eth0 --pcap-seconds 60',
      ]),
    )
    .action(async (opts: AgentCliOptions) => {
      const token = agentToken(opts, (m) => ctx.io.stderr.write(`minewatch agent: ${m}\n`));
      try {
        new URL(opts.server);
      } catch {
        throw new CliError(`--server '${opts.server}' is not a URL`);
      }
      const pcapSeconds = parseDuration(opts.pcapSeconds, '--pcap-seconds') / 1000;
      const { runAgent } = await import('../agent/index.ts');
      const { transportFetch, proxyFor } = await import('../agent/proxy.ts');
      if (opts.proxy && !URL.canParse(opts.proxy)) throw new CliError(`--proxy '${opts.proxy}' is not a URL`);
      let ca: string | undefined;
      if (opts.ca) {
        try {
          ca = readFileSync(opts.ca, 'utf8');
        } catch (err) {
          throw new CliError(`--ca: ${(err as Error).message}`, opts.ca);
        }
        if (!ca.includes('-----BEGIN CERTIFICATE-----'))
          throw new CliError('--ca: not a PEM certificate', opts.ca);
      }
      const viaProxy = await transportFetch({ server: opts.server, proxy: opts.proxy, ca });
      const proxyNote = proxyFor({ server: opts.server, proxy: opts.proxy });
      const traffic = opts.pcapIface
        ? async () => {
            const { tcpdumpTraffic } = await import('../agent/traffic.ts');
            return tcpdumpTraffic({
              iface: opts.pcapIface!,
              seconds: pcapSeconds,
              tcpdump: opts.tcpdump ?? 'tcpdump',
            });
          }
        : undefined;
      if (proxyNote)
        ctx.io.stderr.write(
          `minewatch agent: sending through proxy ${proxyNote.replace(/\/\/[^@/]*@/, '//***@')}\n`,
        );
      let hooks: import('../agent/index.ts').AgentHooks | undefined;
      if (opts.enforceBlocks || opts.allowRemoteClean) {
        const target = opts.enforceBlocks;
        if (target !== undefined && !['nftables', 'iptables', 'hosts'].includes(target))
          throw new CliError(`--enforce-blocks '${target}': use nftables, iptables or hosts`);
        const { fleetAgent } = await import('../agent/fleet-hooks.ts');
        const { defaultJournalDir, defaultQuarantineDir } = await import('../respond/cleanup/journal.ts');
        const { resolve } = await import('node:path');
        const fa = await fleetAgent({
          server: opts.server,
          token,
          ...(viaProxy ? { fetch: viaProxy } : {}),
          log: (m) => ctx.io.stderr.write(`minewatch agent: ${m}\n`),
          ...(target
            ? {
                enforce: {
                  target: target as 'nftables' | 'iptables' | 'hosts',
                  ...(opts.enforceStateDir ? { env: { stateDir: resolve(opts.enforceStateDir) } } : {}),
                },
              }
            : {}),
          ...(opts.allowRemoteClean
            ? {
                remoteClean: {
                  root: resolve(opts.root),
                  journalDir: resolve(opts.journalDir ?? defaultJournalDir()),
                  quarantineDir: resolve(opts.quarantineDir ?? defaultQuarantineDir()),
                },
              }
            : {}),
        });
        hooks = fa.hooks;
      }
      const ac = new AbortController();
      const stop = () => ac.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      try {
        const r = await runAgent({
          server: opts.server,
          token,
          spoolDir: opts.spool ?? defaultSpoolDir(),
          spoolMaxBytes: parseSize(opts.spoolMax),
          intervalMs: parseDuration(opts.interval, '--interval'),
          once: Boolean(opts.once),
          deliverMs: parseDuration(opts.deliverTimeout, '--deliver-timeout'),
          root: opts.root,
          ...(traffic ? { traffic } : {}),
          ...(viaProxy ? { fetch: viaProxy } : {}),
          ...(hooks ? { hooks } : {}),
          signal: ac.signal,
          log: (m) => ctx.io.stderr.write(`minewatch agent: ${m}\n`),
        });
        const last = r.cycles.at(-1);
        write(
          ctx,
          `${last?.host ?? '?'}: ${last?.verdict ?? 'no scan'}, ${last?.findings ?? 0} finding(s); delivered ${r.delivered}, pending ${r.pending}, dropped ${r.dropped}`,
        );
        ctx.exitCode = r.pending > 0 ? EXIT.ERROR : foundExit(r.infected);
      } catch (err) {
        throw new CliError((err as Error).message);
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        await viaProxy?.close();
      }
    });
}
