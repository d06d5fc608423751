import { type Command, Option } from 'commander';
import type { Finding, FindingEvent, MinewatchEvent } from '../findings/index.ts';
import { LOG_FORMATS, type LogFormat } from '../sensors/logs/types.ts';
import { dbOption } from '../store/index.ts';
import { asFormat, type CommandContext, examples, reportFormatOption } from './common.ts';
import { loadIntelFor, userDirOption } from './intel-options.ts';
import { CliError, EXIT } from './io.ts';
import { miningFound, printReport } from './output.ts';

/** Events are stored in batches of this many: large enough to amortise a commit, small enough to stay bounded. */
const BATCH = 20_000;
/** Bad lines named on stderr per file; the rest are counted. */
const SHOWN_ERRORS = 20;

interface FileStats {
  file: string;
  format?: string;
  events: number;
  accepted: number;
  duplicates: number;
  errors: number;
}

export function registerImport(program: Command, ctx: CommandContext): void {
  program
    .command('import')
    .description('load telemetry you already have into the store and run the detections over it')
    .argument('<files...>', "log files (.gz too), or '-' for stdin")
    .addOption(
      new Option(
        '--db <url>',
        'store: a file path (embedded, default minewatch.db or $MINEWATCH_DB) or clickhouse://…',
      ),
    )
    .addOption(
      new Option('--log-format <format>', 'read every file as this format instead of sniffing it').choices([
        'minewatch',
        'zeek-tsv',
        'zeek-json',
        'suricata',
        'falco',
        'sysmon',
        'csv-flows',
      ]),
    )
    .addOption(
      new Option(
        '--host-from <where>',
        "host of network records: the sensor's host field, or the client address",
      )
        .choices(['field', 'address'])
        .default('field'),
    )
    .addOption(reportFormatOption())
    .addOption(userDirOption())
    .option('--no-user-intel', 'use the built-in intel base only')
    .addHelpText(
      'after',
      examples([
        'minewatch import --db ./minewatch.db events.ndjson',
        'minewatch import conn.log dns.log ssl.log eve.json.gz',
        'minewatch import --db clickhouse://127.0.0.1:8123/minewatch sysmon-export.json flows.csv',
      ]) +
        '\nFormats are recognised from their content: minewatch NDJSON events, Zeek conn/dns/ssl/http logs (TSV or\n' +
        'JSON), Suricata EVE JSON, Falco JSON alerts, Sysmon events 1/3/22 as JSON, flow records as CSV (generic,\n' +
        'AWS VPC flow logs, nfdump). Bad lines are named (file:line) and skipped; the rest is imported.\n',
    )
    .action(
      async (
        files: string[],
        opts: {
          db?: string;
          logFormat?: LogFormat;
          hostFrom: 'field' | 'address';
          format: string;
          intelDir?: string;
          userIntel?: boolean;
        },
      ) => {
        const format = asFormat(opts.format);
        const [{ readTelemetryBatches }, { EventDetector }, { openStore, defaultDb, validateEvent }] =
          await Promise.all([
            import('../sensors/logs/index.ts'),
            import('../detect/events/index.ts'),
            import('../store/index.ts'),
          ]);
        const intel = loadIntelFor(opts);
        const db = opts.db ?? defaultDb();
        let store: Awaited<ReturnType<typeof openStore>>;
        try {
          store = await openStore(db);
        } catch (err) {
          throw new CliError((err as Error).message, db);
        }
        const detector = new EventDetector(intel);
        const stats: FileStats[] = [];
        let unreadable = false;
        try {
          for (const file of files) {
            const st: FileStats = { file, events: 0, accepted: 0, duplicates: 0, errors: 0 };
            stats.push(st);
            let pending: MinewatchEvent[] = [];
            const flush = async () => {
              if (!pending.length) return;
              const r = await store.ingest(pending, { source: `import:${file}` });
              st.accepted += r.accepted;
              st.duplicates += r.duplicates;
              pending = [];
            };
            try {
              for await (const batch of readTelemetryBatches(file, {
                ...(opts.logFormat ? { format: opts.logFormat } : {}),
                hostFrom: opts.hostFrom,
                file,
              })) {
                for (const rec of batch) {
                  st.format ??= rec.format;
                  const bad = rec.error ?? (rec.event ? invalid(validateEvent(rec.event), rec) : undefined);
                  if (bad) {
                    st.errors++;
                    if (st.errors <= SHOWN_ERRORS)
                      ctx.io.stderr.write(
                        `minewatch: ${bad.file ?? file}:${bad.line ?? '?'}: ${bad.reason}\n`,
                      );
                    continue;
                  }
                  if (!rec.event) continue;
                  st.events++;
                  detector.pushRecord(rec);
                  pending.push(rec.event);
                  if (pending.length >= BATCH) await flush();
                }
              }
              await flush();
            } catch (err) {
              // A file that cannot be read at all: say so and go on with the others.
              unreadable = true;
              const e = err as NodeJS.ErrnoException;
              ctx.io.stderr.write(
                `minewatch: ${file}: ${e.code === 'ENOENT' ? 'no such file' : e.message}\n`,
              );
            }
            if (st.errors > SHOWN_ERRORS)
              ctx.io.stderr.write(`minewatch: ${file}: ${st.errors - SHOWN_ERRORS} more bad lines\n`);
          }
          // Findings go into the store too, as finding events, so the report and dashboard see them.
          const findings = detector.finish();
          const findingEvents: FindingEvent[] = findings.map((f) => asFindingEvent(f));
          const fr = findingEvents.length
            ? await store.ingest(findingEvents, { source: 'import:detections' })
            : { accepted: 0, duplicates: 0 };
          const summary = {
            db: store.location,
            files: stats,
            events: stats.reduce((a, s) => a + s.events, 0),
            accepted: stats.reduce((a, s) => a + s.accepted, 0),
            duplicates: stats.reduce((a, s) => a + s.duplicates, 0),
            bad_lines: stats.reduce((a, s) => a + s.errors, 0),
            findings_stored: fr.accepted,
          };
          printReport(ctx, format, findings, summary, [
            {
              title: 'Imported',
              rows: stats,
              columns: [
                { header: 'FILE', value: (r: FileStats) => r.file },
                { header: 'FORMAT', value: (r: FileStats) => r.format },
                { header: 'EVENTS', value: (r: FileStats) => r.events, align: 'right' },
                { header: 'NEW', value: (r: FileStats) => r.accepted, align: 'right' },
                { header: 'DUPLICATES', value: (r: FileStats) => r.duplicates, align: 'right' },
                { header: 'BAD LINES', value: (r: FileStats) => r.errors, align: 'right' },
              ],
            },
          ]);
          ctx.exitCode = unreadable ? EXIT.ERROR : miningFound(findings) ? EXIT.FOUND : EXIT.CLEAN;
        } finally {
          await store.close();
        }
      },
    );
}

function invalid(reason: string | null, rec: { file?: string; line?: number }) {
  return reason ? { file: rec.file, line: rec.line, reason } : undefined;
}

export function asFindingEvent(f: Finding): FindingEvent {
  return {
    type: 'finding',
    id: f.id,
    time: f.time ?? f.first_seen ?? new Date().toISOString(),
    host: f.host ?? 'unknown',
    finding: f,
  };
}
