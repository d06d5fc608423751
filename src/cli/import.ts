import { availableParallelism } from 'node:os';
import { type Command, Option } from 'commander';
import type { Finding, FindingEvent, MinewatchEvent } from '../findings/index.ts';
import { LOG_FORMATS, type LogFormat } from '../sensors/logs/types.ts';
import { asFormat, type CommandContext, examples, reportFormatOption } from './common.ts';
import { loadIntelFor, noUserIntelOption, userDirOption } from './intel-options.ts';
import { CliError, EXIT } from './io.ts';
import { miningFound, printReport } from './output.ts';

/**
 * Events go to the store in submissions of this many, not awaited one by one: the store packs each as it is
 * submitted (a short slice of JS work between reads) and commits the queued ones together in transactions of
 * up to a DuckDB row group (122,880 events: `DuckDBStore`'s group size), written straight into the file.
 * Reading and parsing go on while DuckDB commits on its own threads. Small, so parsed events are packed and
 * let go young (2,048 against 8,192: GC 1.23 against 1.32 s for 1M NDJSON events, 2.7 against 2.9 s for a
 * 1M-line conn.log; load ~1.5-2).
 */
const SUBMIT = 2048;
/** Events submitted and not yet committed, at most (bounded memory: two transactions' worth). */
const IN_FLIGHT = 2 * 122_880;

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
      new Option('--log-format <format>', 'read every file as this format instead of sniffing it').choices(
        LOG_FORMATS,
      ),
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
    .addOption(noUserIntelOption())
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
          // DuckDB gets every core but the one this process parses and packs on: writing 1M import events on 2
          // cores, 2 DuckDB threads spent 5.8 us of CPU per event against 3.5 us for 1, and were no faster;
          // a whole import used 2.6 s less CPU (load ~2).
          store = await openStore(db, { threads: Math.max(1, Math.min(4, availableParallelism()) - 1) });
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
            // The line each event was parsed from, when it is exactly the event (minewatch NDJSON): stored as
            // its JSON instead of serialising the event again.
            let raw: (string | undefined)[] = [];
            let hasRaw = false;
            /** Submissions not yet committed, oldest first, with their sizes. */
            const inflight: { done: Promise<void>; n: number }[] = [];
            let inflightEvents = 0;
            const settleOldest = async () => {
              const o = inflight.shift()!;
              inflightEvents -= o.n;
              await o.done;
            };
            const flush = async () => {
              if (pending.length) {
                const n = pending.length;
                const done = store
                  .ingest(pending, { source: `import:${file}`, ...(hasRaw ? { raw } : {}) })
                  .then((r) => {
                    st.accepted += r.accepted;
                    st.duplicates += r.duplicates;
                  });
                // Seen when awaited; not an unhandled rejection meanwhile.
                done.catch(() => undefined);
                inflight.push({ done, n });
                inflightEvents += n;
                pending = [];
                raw = [];
                hasRaw = false;
              }
              while (inflightEvents > IN_FLIGHT) await settleOldest();
            };
            try {
              for await (const batch of readTelemetryBatches(file, {
                ...(opts.logFormat ? { format: opts.logFormat } : {}),
                hostFrom: opts.hostFrom,
                file,
              })) {
                for (const rec of batch) {
                  st.format ??= rec.format;
                  // minewatch lines were validated by their reader (the same validateEvent).
                  const bad =
                    rec.error ??
                    (rec.event && rec.format !== 'minewatch'
                      ? invalid(validateEvent(rec.event), rec)
                      : undefined);
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
                  raw.push(rec.raw);
                  if (rec.raw !== undefined) hasRaw = true;
                  if (pending.length >= SUBMIT) await flush();
                }
              }
              await flush();
              while (inflight.length) await settleOldest();
            } catch (err) {
              // A file that cannot be read at all: say so and go on with the others (what was read before
              // is stored: the batch in flight finishes first).
              await Promise.allSettled(inflight.map((o) => o.done));
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
