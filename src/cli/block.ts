import { writeFileSync } from 'node:fs';
import { type Command, Option } from 'commander';
import {
  APPLY_TARGETS,
  type ApplyResult,
  type ApplyTarget,
  applyBlocklist,
  BlockApplyError,
  defaultStateDir,
  processEnv,
  revertBlocklist,
} from '../respond/blocklist/apply.ts';
import {
  BLOCK_FORMATS,
  type BlockFormat,
  FORMAT_DESCRIPTIONS,
  selectBlocklist,
  writeSelection,
} from '../respond/blocklist/index.ts';
import { VERSION } from '../version.ts';
import { type CommandContext, examples } from './common.ts';
import { loadIntelFor, noUserIntelOption, userDirOption } from './intel-options.ts';
import { CliError, EXIT } from './io.ts';

interface BlockOpts {
  format?: BlockFormat;
  coins?: string;
  strictCoins?: boolean;
  includeClosed?: boolean;
  includeDownloads?: boolean;
  output?: string;
  serial?: string;
  apply?: boolean;
  revert?: boolean;
  target?: ApplyTarget;
  dryRun?: boolean;
  hostsFile?: string;
  stateDir?: string;
  netns?: string;
  intelDir?: string;
  userIntel?: boolean;
}

/** Which apply target a format puts into force. */
const APPLY_OF: Partial<Record<BlockFormat, ApplyTarget>> = {
  hosts: 'hosts',
  nftables: 'nftables',
  iptables: 'iptables',
  ip6tables: 'iptables',
  ipset: 'iptables',
};

function parseCoins(v: string | undefined): string[] {
  if (v === undefined) return [];
  const coins = v
    .split(',')
    .map((c) => c.trim().toUpperCase())
    .filter(Boolean);
  const bad = coins.find((c) => !/^[A-Z0-9]{2,6}$/.test(c));
  if (bad) throw new CliError(`--coins: '${bad}' is not a coin symbol (like XMR, ETN)`);
  return coins;
}

function report(ctx: CommandContext, results: ApplyResult[], dryRun: boolean, verb: string): void {
  for (const r of results) {
    ctx.io.stdout.write(`${verb} ${r.target}${dryRun ? ' (dry run: nothing changed)' : ''}:\n`);
    for (const a of r.actions) ctx.io.stdout.write(`  ${dryRun ? 'would ' : ''}${a}\n`);
  }
}

export function registerBlock(program: Command, ctx: CommandContext): void {
  program
    .command('block')
    .description(
      'write blocklists of mining pools for DNS, firewalls, proxies and IDS; apply or revert them here',
    )
    .addOption(
      new Option('--format <format>', 'blocklist format').choices(BLOCK_FORMATS as unknown as string[]),
    )
    .option(
      '--coins <list>',
      'only pools of these coins, comma-separated (XMR,ETN); pools of unknown coin stay',
    )
    .option('--strict-coins', 'with --coins, leave out pools whose coins are unknown')
    .option('--include-closed', 'also block pools that have shut down (minexmr, coinhive)')
    .option('--include-downloads', 'also block sites that serve miner downloads')
    .option('-o, --output <file>', 'write to a file instead of stdout')
    .option('--serial <n>', 'SOA serial of the RPZ zone (default YYYYMMDD00 of the intel date)')
    .option('--apply', 'put the list into force on this host (formats hosts, nftables, iptables; needs root)')
    .option('--revert', 'take out what --apply put in, restoring the backup')
    .addOption(
      new Option('--target <target>', 'with --revert: only this one').choices(
        APPLY_TARGETS as unknown as string[],
      ),
    )
    .option('--dry-run', 'with --apply/--revert: print what would be done, change nothing')
    .option('--hosts-file <file>', 'hosts file for --apply --format hosts', '/etc/hosts')
    .option('--state-dir <dir>', `backups and state of --apply (default: ${defaultStateDir()})`)
    .option('--netns <name>', 'run the firewall commands of --apply/--revert inside this network namespace')
    .addOption(userDirOption())
    .addOption(noUserIntelOption())
    .addHelpText(
      'after',
      `\nFormats:\n${BLOCK_FORMATS.map((f) => `  ${f.padEnd(10)} ${FORMAT_DESCRIPTIONS[f]}`).join('\n')}\n` +
        examples([
          'minewatch block --format unbound -o /etc/unbound/unbound.conf.d/minewatch.conf',
          'minewatch block --format suricata --coins XMR -o minewatch.rules',
          'minewatch block --format rpz --include-closed -o /etc/bind/db.rpz.minewatch',
          'minewatch block --format nftables --apply --dry-run',
          'sudo minewatch block --format hosts --apply',
          'sudo minewatch block --revert',
        ]),
    )
    .action((opts: BlockOpts) => {
      try {
        run(ctx, opts);
      } catch (err) {
        if (err instanceof BlockApplyError) throw new CliError(err.message);
        throw err;
      }
    });
}

function run(ctx: CommandContext, opts: BlockOpts): void {
  const env = processEnv({
    ...(opts.stateDir ? { stateDir: opts.stateDir } : {}),
    ...(opts.hostsFile ? { hostsFile: opts.hostsFile } : {}),
    ...(opts.netns ? { netns: opts.netns } : {}),
  });
  const dryRun = opts.dryRun === true;
  if (opts.revert) {
    if (opts.apply) throw new CliError('--apply and --revert do not go together');
    const results = revertBlocklist(env, { dryRun, ...(opts.target ? { targets: [opts.target] } : {}) });
    if (results.length === 0) ctx.io.stdout.write(`nothing to revert (no state in ${env.stateDir})\n`);
    report(ctx, results, dryRun, 'revert');
    ctx.exitCode = EXIT.CLEAN;
    return;
  }
  if (!opts.format) throw new CliError('--format is required (or --revert); see --help for the formats');
  if (opts.dryRun && !opts.apply) throw new CliError('--dry-run goes with --apply or --revert');
  if (opts.strictCoins && opts.coins === undefined) throw new CliError('--strict-coins goes with --coins');
  let serial: number | undefined;
  if (opts.serial !== undefined) {
    serial = Number(opts.serial);
    if (!/^\d{1,10}$/.test(opts.serial) || serial > 4294967295)
      throw new CliError(`--serial: '${opts.serial}' is not a 32-bit unsigned number`);
  }
  const base = loadIntelFor(opts);
  const blockOpts = {
    coins: parseCoins(opts.coins),
    strictCoins: opts.strictCoins === true,
    includeClosed: opts.includeClosed === true,
    includeDownloads: opts.includeDownloads === true,
    version: VERSION,
    ...(serial !== undefined ? { serial } : {}),
  };
  const sel = selectBlocklist(base, blockOpts);
  if (opts.apply) {
    const target = APPLY_OF[opts.format];
    if (!target)
      throw new CliError(`--apply works with --format hosts, nftables or iptables, not ${opts.format}`);
    const result = applyBlocklist(target, sel, env, { dryRun });
    report(ctx, [result], dryRun, 'apply');
    if (opts.output) writeFileSync(opts.output, writeSelection(sel, opts.format, base, blockOpts));
    ctx.exitCode = EXIT.CLEAN;
    return;
  }
  const text = writeSelection(sel, opts.format, base, blockOpts);
  if (opts.output) {
    writeFileSync(opts.output, text);
    ctx.io.stderr.write(
      `minewatch: wrote ${opts.format} blocklist to ${opts.output}: ${sel.names.length} names in ${sel.zones.length} zones, ${sel.ipv4.length + sel.ipv6.length} addresses\n`,
    );
  } else ctx.io.stdout.write(text);
  ctx.exitCode = EXIT.CLEAN;
}
