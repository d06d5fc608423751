import { writeFileSync } from 'node:fs';
import { type Command, Option } from 'commander';
import {
  defaultUserIntelDir,
  exportIntel,
  type ImportFormat,
  IntelFormatError,
  IntelSchemaError,
  importIntel,
  type LookupResult,
} from '../intel/index.ts';
import { validateWallet, type WalletInfo } from '../wallets/index.ts';
import { asFormat, type CommandContext, examples, formatOption, json, write } from './common.ts';
import { loadIntelFor, noUserIntelOption, userDirOption } from './intel-options.ts';
import { CliError, EXIT } from './io.ts';
import { renderTable } from './table.ts';

type Answer = { query: string; type: 'wallet'; wallet: WalletInfo } | LookupResult;

/** A lookup "finds" something when the query is known mining infrastructure: scripts can branch on exit 1. */
function isMiningInfra(a: Answer): boolean {
  if (a.type === 'wallet') return false;
  return a.verdict !== 'unknown' && a.verdict !== 'excluded';
}

function answerRows(a: Answer): Array<[string, string]> {
  if (a.type === 'wallet') {
    const w = a.wallet;
    return [
      ['query', a.query],
      ['type', 'wallet'],
      [
        'coin',
        w.coins?.length
          ? `${w.coin} (also valid for ${w.coins.filter((c) => c !== w.coin).join(', ')})`
          : w.coin,
      ],
      ['format', w.format],
      ['network', w.network],
      ['valid', w.valid === null ? 'unknown (format has no checksum)' : String(w.valid)],
      ...(w.reason ? ([['reason', w.reason]] as Array<[string, string]>) : []),
      ...(w.payment_id ? ([['payment_id', w.payment_id]] as Array<[string, string]>) : []),
    ];
  }
  const rows: Array<[string, string]> = [
    ['query', a.query],
    ['type', a.type],
    ['verdict', a.verdict],
  ];
  if (a.pool) {
    const p = a.pool.entry;
    rows.push(
      ['pool', `${p.name} (${p.host}, matched ${a.pool.matched})`],
      ['kind', p.kind],
      ['coins', p.coins.join(', ') || '-'],
      ['algos', p.algos.join(', ') || '-'],
      ['ports', [...p.ports.plain, ...p.ports.tls.map((x) => `${x}/tls`)].join(', ') || '-'],
      ['status', p.status === 'closed' ? `closed${p.closed ? ` ${p.closed}` : ''}` : 'active'],
      ['sources', p.sources.map((s) => s.id + (s.ref ? ` (${s.ref})` : '')).join(', ')],
    );
  }
  if (a.endpoint) {
    const e = a.endpoint.entry;
    rows.push(
      [
        'endpoint',
        `${e.ip}${e.port ? `:${e.port}` : ''}${a.endpoint.portMatched ? '' : ' (address matched, port not listed)'}`,
      ],
      ['pool', e.pool ?? '-'],
      ['coins', e.coins?.join(', ') ?? '-'],
      ['sources', e.sources.map((s) => s.id + (s.ref ? ` (${s.ref})` : '')).join(', ')],
    );
  }
  if (a.portInfo)
    rows.push([
      'port',
      `${a.portInfo.port}: ${a.portInfo.weight} evidence (${a.portInfo.pools.join(', ') || 'no pool named'})`,
    ]);
  if (a.exclusion) rows.push(['excluded', `${a.exclusion.domain}: ${a.exclusion.category} (not a pool)`]);
  for (const f of a.families) rows.push(['family', `${f.name} (matched ${f.matched})`]);
  if (a.licences.length) rows.push(['licences', a.licences.join(', ')]);
  return rows;
}

export function registerIntel(program: Command, ctx: CommandContext): void {
  const intel = program
    .command('intel')
    .description('the mining intel base: pools, endpoints, ports, coins, miners, families, wallets')
    .addHelpText(
      'after',
      examples([
        'minewatch intel stats',
        'minewatch intel lookup xmr-eu1.nanopool.org',
        'minewatch intel lookup 44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A',
        'minewatch intel import --format maltrail my-trails.txt',
        'minewatch intel export --format csv -o intel.csv',
      ]),
    );

  intel
    .command('lookup')
    .description(
      'what the base knows of a domain, IP, IP:port or wallet (exit 1 when it is mining infrastructure)',
    )
    .argument('<queries...>', 'domain, ip, ip:port or wallet address')
    .addOption(formatOption())
    .addOption(userDirOption())
    .addOption(noUserIntelOption())
    .addHelpText(
      'after',
      examples(['minewatch intel lookup pool.minexmr.com 94.130.143.162:45700 --format json']),
    )
    .action((queries: string[], opts: { format: string; intelDir?: string; userIntel?: boolean }) => {
      const format = asFormat(opts.format);
      const base = loadIntelFor(opts);
      const answers: Answer[] = queries.map((q) => {
        const w = validateWallet(q.trim());
        return w ? { query: q, type: 'wallet', wallet: w } : base.lookup(q);
      });
      if (format === 'json') json(ctx, answers.length === 1 ? answers[0] : answers);
      else if (format === 'ndjson') for (const a of answers) ctx.io.stdout.write(`${JSON.stringify(a)}\n`);
      else
        write(
          ctx,
          answers
            .map((a) =>
              renderTable(answerRows(a), [
                { header: 'FIELD', value: (r) => r[0] },
                { header: 'VALUE', value: (r) => r[1] },
              ]),
            )
            .join('\n\n'),
        );
      ctx.exitCode = answers.some(isMiningInfra) ? EXIT.FOUND : EXIT.CLEAN;
    });

  intel
    .command('stats')
    .description('count the base by kind, coin, status and source')
    .addOption(formatOption())
    .addOption(userDirOption())
    .addOption(noUserIntelOption())
    .addHelpText(
      'after',
      examples(['minewatch intel stats', 'minewatch intel stats --format json | jq .poolsByCoin']),
    )
    .action((opts: { format: string; intelDir?: string; userIntel?: boolean }) => {
      const format = asFormat(opts.format);
      const base = loadIntelFor(opts);
      const s = base.stats();
      if (format !== 'table') {
        ctx.io.stdout.write(format === 'json' ? `${JSON.stringify(s, null, 2)}\n` : `${JSON.stringify(s)}\n`);
        return;
      }
      const counts = (title: string, m: Record<string, number>) =>
        `${title}\n${renderTable(
          Object.entries(m).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])),
          [
            { header: 'KEY', value: (r) => r[0] },
            { header: 'COUNT', value: (r) => r[1], align: 'right' },
          ],
        )}`;
      write(
        ctx,
        [
          counts('Entries', {
            'pool domains': s.pools,
            'pool endpoints (ip[:port])': s.endpoints,
            'pool ports': s.ports,
            coins: s.coins,
            families: s.families,
            'family indicators': s.familyIndicators,
            sources: s.sources,
            exclusions: s.exclusions,
          }),
          counts('Pools by kind', s.poolsByKind),
          counts('Pools by status', s.poolsByStatus),
          counts('Pools by coin', s.poolsByCoin),
          counts('Ports by weight', s.portsByWeight),
          counts('Miner knowledge', s.minerMarkers),
          counts('Entries by source', s.bySource),
        ].join('\n\n'),
      );
    });

  intel
    .command('import')
    .description('merge a list into the user intel directory (the built-in base is never edited)')
    .argument('<files...>', 'list files to import')
    .addOption(
      new Option('--format <format>', 'list format')
        .choices(['falco', 'maltrail', 'hosts', 'plain', 'findings'])
        .makeOptionMandatory(),
    )
    .addOption(userDirOption())
    .addHelpText(
      'after',
      examples([
        'minewatch intel import --format hosts hosts_browser.txt   # a CoinBlockerLists file you downloaded',
        'minewatch intel import --format falco falco_rules.local.yaml',
        'minewatch pcap cap.pcap --format json > seen.json && minewatch intel import --format findings seen.json   # block what your fleet was seen mining on',
      ]),
    )
    .action((files: string[], opts: { format: ImportFormat; intelDir?: string }) => {
      const dir = opts.intelDir ?? defaultUserIntelDir();
      let failed = false;
      for (const file of files) {
        try {
          const r = importIntel(file, opts.format, dir);
          const a = r.added;
          write(
            ctx,
            `${file}: imported ${a.pools} pool domains, ${a.endpoints} endpoints, ${a.ports} ports, ${a.processes} process names into ${r.written}` +
              (r.dropped.length ? `; dropped ${r.dropped.length} (${summariseDrops(r.dropped)})` : '') +
              (r.skipped ? `; skipped ${r.skipped} non-host entries` : ''),
          );
        } catch (err) {
          // Each file stands alone: a bad one leaves the user dir as it was and the others still import.
          failed = true;
          if (err instanceof IntelFormatError)
            ctx.io.stderr.write(`minewatch: ${err.file}:${err.line}: ${err.message}\n`);
          else if ((err as NodeJS.ErrnoException).code === 'ENOENT')
            ctx.io.stderr.write(`minewatch: ${file}: no such file\n`);
          else throw err;
        }
      }
      ctx.exitCode = failed ? EXIT.ERROR : EXIT.CLEAN;
    });

  intel
    .command('export')
    .description('write the merged base (built-in + user), each entry with its sources and licences')
    .addOption(new Option('--format <format>', 'export format').choices(['json', 'csv']).default('json'))
    .option('-o, --output <file>', 'write to a file instead of stdout')
    .addOption(userDirOption())
    .addOption(noUserIntelOption())
    .addHelpText(
      'after',
      examples([
        'minewatch intel export --format csv -o intel.csv',
        'minewatch intel export --no-user-intel > builtin.json',
      ]),
    )
    .action((opts: { format: 'json' | 'csv'; output?: string; intelDir?: string; userIntel?: boolean }) => {
      const text = exportIntel(loadIntelFor(opts), opts.format);
      if (opts.output) writeFileSync(opts.output, text);
      else ctx.io.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
    });
}

function summariseDrops(d: Array<{ value: string; reason: string }>): string {
  const shown = d.slice(0, 3).map((x) => `${x.value}: ${x.reason}`);
  return d.length > 3 ? `${shown.join('; ')}; …` : shown.join('; ');
}

export { CliError, IntelSchemaError };
