import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
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
  /** Records read and not imported, by cause: bad lines ('bad: …') and records left out on purpose. */
  dropped: Record<string, number>;
  /** Why the file was not imported at all, when it was not. */
  failed?: string;
}

/** A bad line's reason as a cause to count by: the values it quotes and the numbers in it left out. */
export function causeOf(reason: string): string {
  return `bad: ${reason
    .replace(/'[^']*'/g, '…')
    .replace(/\d+/g, 'N')
    .replace(/:\s.*$/, '')
    .slice(0, 80)}`;
}

/**
 * Whether a gzip file decompresses to its end (its trailer's CRC and length check out), without keeping
 * anything: a truncated .gz is refused before any of it is stored, so an import is whole or nothing.
 */
export async function gzipComplete(path: string): Promise<string | undefined> {
  const head = Buffer.alloc(2);
  const fh = await open(path, 'r');
  try {
    await fh.read(head, 0, 2, 0);
  } finally {
    await fh.close();
  }
  if (head[0] !== 0x1f || head[1] !== 0x8b) return undefined;
  try {
    await pipeline(createReadStream(path), createGunzip(), new Writable({ write: (_c, _e, cb) => cb() }));
    return undefined;
  } catch (e) {
    return `damaged or truncated gzip (${(e as Error).message}): nothing of it imported`;
  }
}

/** Standard input copied to a file, so it can be checked whole before any of it is stored. */
async function spoolStdin(): Promise<{ path: string; dispose: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), 'mw-stdin-'));
  const path = join(dir, 'stdin');
  const out = createWriteStream(path);
  await pipeline(process.stdin, out);
  if (!out.closed) await once(out, 'close');
  return { path, dispose: () => rmSync(dir, { recursive: true, force: true }) };
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
    .addOption(
      new Option(
        '--host <name>',
        'host of records that name none (Falco before 0.33 writes no hostname); default: the client address, else the file name',
      ),
    )
    .addOption(
      new Option(
        '--tz <zone>',
        'IANA time zone of zone-less local times (nfdump prints local time), e.g. Europe/Berlin; default UTC',
      ),
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
        'AWS VPC flow logs with or without header, nfdump). Bad lines are named (file:line), skipped and counted\n' +
        'by cause; a file is imported whole or not at all, and one that yields no records is an error. See\n' +
        'docs/import.md.\n',
    )
    .action(
      async (
        files: string[],
        opts: {
          db?: string;
          logFormat?: LogFormat;
          hostFrom: 'field' | 'address';
          host?: string;
          tz?: string;
          format: string;
          intelDir?: string;
          userIntel?: boolean;
        },
      ) => {
        const format = asFormat(opts.format);
        if (opts.tz) {
          const { isTimeZone } = await import('../sensors/logs/util.ts');
          if (!isTimeZone(opts.tz))
            throw new CliError(`--tz '${opts.tz}' is not an IANA time zone (e.g. Europe/Berlin)`);
        }
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
        // A one-way flow record from a pool (intel address, or a port only pools use) is a reply.
        const isServer = (ip: string, port: number) =>
          intel.matchEndpoint(ip, port)?.portMatched === true || intel.portInfo(port)?.weight === 'strong';
        const stats: FileStats[] = [];
        let unreadable = false;
        try {
          for (const file of files) {
            const st: FileStats = { file, events: 0, accepted: 0, duplicates: 0, errors: 0, dropped: {} };
            stats.push(st);
            const drop = (cause: string) => {
              st.dropped[cause] = (st.dropped[cause] ?? 0) + 1;
            };
            let spooled: { path: string; dispose: () => void } | undefined;
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
              if (file === '-') spooled = await spoolStdin();
              const path = spooled?.path ?? file;
              const damaged = await gzipComplete(path);
              if (damaged) throw new Error(damaged);
              for await (const batch of readTelemetryBatches(path, {
                ...(opts.logFormat ? { format: opts.logFormat } : {}),
                hostFrom: opts.hostFrom,
                ...(opts.host ? { host: opts.host } : {}),
                ...(opts.tz ? { tz: opts.tz } : {}),
                isServer,
                file,
              })) {
                for (const rec of batch) {
                  st.format ??= rec.format;
                  if (rec.skipped !== undefined) {
                    drop(rec.skipped);
                    continue;
                  }
                  // minewatch lines were validated by their reader (the same validateEvent).
                  const bad =
                    rec.error ??
                    (rec.event && rec.format !== 'minewatch'
                      ? invalid(validateEvent(rec.event), rec)
                      : undefined);
                  if (bad) {
                    st.errors++;
                    drop(causeOf(bad.reason));
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
              if (st.events === 0) {
                // Nothing read is never success: a pcap, a binary, the wrong --log-format, a log type not read.
                unreadable = true;
                const why = Object.entries(st.dropped)
                  .sort((a, b) => b[1] - a[1])
                  .slice(0, 3)
                  .map(([c, n]) => `${n} × ${c}`)
                  .join('; ');
                st.failed = `no records read${why ? ` (${why})` : st.format ? '' : ' (empty)'}`;
                ctx.io.stderr.write(`minewatch: ${file}: ${st.failed}\n`);
              }
            } catch (err) {
              // A file that cannot be read at all: say so and go on with the others (what was read before
              // is stored: the batch in flight finishes first).
              await Promise.allSettled(inflight.map((o) => o.done));
              unreadable = true;
              const e = err as NodeJS.ErrnoException;
              st.failed = e.code === 'ENOENT' ? 'no such file' : e.message;
              ctx.io.stderr.write(`minewatch: ${file}: ${st.failed}\n`);
            } finally {
              spooled?.dispose();
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
            dropped: stats.reduce<Record<string, number>>((a, s) => {
              for (const [c, n] of Object.entries(s.dropped)) a[c] = (a[c] ?? 0) + n;
              return a;
            }, {}),
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
                {
                  header: 'DROPPED',
                  value: (r: FileStats) => Object.values(r.dropped).reduce((a, n) => a + n, 0),
                  align: 'right',
                },
                { header: 'NOT IMPORTED', value: (r: FileStats) => r.failed ?? '' },
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

/**
 * A finding as a stored event. The event id is the finding's id plus what a later import can learn about
 * it (its rule, pool name, coin): the same finding imported again is a duplicate, while one a DNS answer
 * has since named is stored beside it, and the report and dashboard take the named copy (analytics/pools.ts).
 */
export function asFindingEvent(f: Finding): FindingEvent {
  const version = createHash('sha256')
    .update(`${f.rule}\u0000${f.pool?.host ?? ''}\u0000${f.coin ?? ''}`)
    .digest('hex')
    .slice(0, 8);
  return {
    type: 'finding',
    id: `${f.id}:${version}`,
    time: f.time ?? f.first_seen ?? new Date().toISOString(),
    host: f.host ?? 'unknown',
    finding: f,
  };
}
