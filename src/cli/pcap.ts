import { type Command, InvalidArgumentError } from 'commander';
import type { CaptureReport } from '../detect/traffic/index.ts';
import { analyseCapture, summarise } from '../detect/traffic/index.ts';
import type { Finding } from '../findings/index.ts';
import { CaptureFormatError } from '../sensors/pcap/index.ts';
import { asFormat, type CommandContext, examples, reportFormatOption } from './common.ts';
import { loadIntelFor, noUserIntelOption, userDirOption } from './intel-options.ts';
import { EXIT } from './io.ts';
import { miningFound, printReport, streamingSink } from './output.ts';
import { tunePcapV8 } from './pcap-v8.ts';

export function registerPcap(program: Command, ctx: CommandContext): void {
  program
    .command('pcap')
    .description('find mining in packet captures (pcap, pcapng) or a live stream on stdin')
    .argument('<files...>', "capture files, or '-' for stdin (e.g. tcpdump -w -)")
    .addOption(reportFormatOption())
    .addOption(userDirOption())
    .addOption(noUserIntelOption())
    .option(
      '--threads <n>',
      'split a capture file over N threads by address pair (default 1; slower on 2 cores, see docs/benchmarks.md)',
      (v: string) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 1 || n > 64)
          throw new InvalidArgumentError('must be a whole number 1-64');
        return n;
      },
    )
    .addHelpText(
      'after',
      examples([
        'minewatch pcap capture.pcapng',
        'tcpdump -i eth0 -w - | minewatch pcap - --format ndjson',
        'minewatch pcap *.pcap --format json > findings.json',
      ]),
    )
    .action(
      async (
        files: string[],
        opts: { format: string; intelDir?: string; userIntel?: boolean; threads?: number },
      ) => {
        const format = asFormat(opts.format);
        tunePcapV8();
        const intel = loadIntelFor(opts);
        const sink = streamingSink(ctx, format);
        const reports: CaptureReport[] = [];
        let failed = false;
        for (const file of files) {
          try {
            reports.push(
              await analyseCapture(file, {
                intel,
                ...(sink.onFinding ? { onFinding: sink.onFinding } : {}),
                ...(sink.onUpdate ? { onUpdate: sink.onUpdate } : {}),
                stdin: ctx.io.stdin as AsyncIterable<Uint8Array>,
                ...(opts.threads ? { threads: opts.threads } : {}),
              }),
            );
          } catch (err) {
            // One unreadable capture must not stop the others: say which and go on.
            failed = true;
            const e = err as NodeJS.ErrnoException;
            const msg =
              err instanceof CaptureFormatError
                ? `${file}: ${err.message}`
                : e.code === 'ENOENT'
                  ? `${file}: no such file`
                  : e.code === 'EISDIR'
                    ? `${file}: is a directory`
                    : `${file}: ${e.message}`;
            ctx.io.stderr.write(`minewatch: ${msg}\n`);
          }
        }
        const findings: Finding[] = reports.flatMap((r) => r.findings);
        const summary = {
          ...summarise(findings),
          captures: reports.map((r) => {
            const { hosts_mining, hosts, coins, pools, ports, findings_by_rule, ...stats } = r.summary;
            return stats;
          }),
        };
        printReport(
          ctx,
          format,
          findings,
          summary,
          [
            {
              title: 'Hosts mining',
              rows: summary.hosts,
              columns: [
                { header: 'HOST', value: (r) => r.host },
                { header: 'POOLS', value: (r) => r.pools.join(', ') },
                { header: 'COINS', value: (r) => r.coins.join(', ') },
              ],
            },
            {
              title: 'Pools by hosts',
              rows: summary.pools,
              columns: [
                { header: 'POOL', value: (r) => r.pool },
                { header: 'HOSTS', value: (r) => r.hosts, align: 'right' },
                { header: 'SHARE', value: (r) => `${Math.round(r.share * 100)}%`, align: 'right' },
              ],
            },
            {
              title: 'Ports by flows',
              rows: summary.ports,
              columns: [
                { header: 'PORT', value: (r) => r.port, align: 'right' },
                { header: 'FLOWS', value: (r) => r.flows, align: 'right' },
              ],
            },
            {
              title: 'Captures',
              rows: summary.captures,
              columns: [
                { header: 'CAPTURE', value: (r) => r.source },
                { header: 'FORMAT', value: (r) => r.format },
                { header: 'PACKETS', value: (r) => r.packets, align: 'right' },
                { header: 'DAMAGED', value: (r) => r.damaged_packets, align: 'right' },
                { header: 'FLOWS', value: (r) => r.flows, align: 'right' },
                { header: 'PEAK', value: (r) => r.flow_table.peak_flows, align: 'right' },
                { header: 'EVICTED', value: (r) => r.flow_table.evicted, align: 'right' },
              ],
            },
          ],
          { streamed: sink.streamed },
        );
        ctx.exitCode = failed ? EXIT.ERROR : miningFound(findings) ? EXIT.FOUND : EXIT.CLEAN;
      },
    );
}
