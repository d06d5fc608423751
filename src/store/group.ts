/**
 * Group commit: ingest calls that arrive while a commit is running wait and go together into the next one, so
 * many small HTTP batches cost one fsync (embedded) or one insert part (ClickHouse), and every caller still
 * learns only after its own events are durable.
 */
import type { MinewatchEvent } from '../findings/index.ts';
import { toRow } from './row.ts';
import type { EventRow, IngestResult } from './types.ts';

export interface Submission {
  events: readonly MinewatchEvent[];
  source: string;
  /** The JSON text each event was parsed from, when the caller has it (see `IngestOptions.raw`). */
  raw?: readonly (string | undefined)[];
  /** The rows of `events`, made on submit so a waiting group's rows are ready when its commit starts. */
  rows?: EventRow[];
}

/** Pure: the stored rows of one submission. */
export function submissionRows(s: Submission): EventRow[] {
  const rows = new Array<EventRow>(s.events.length);
  for (let i = 0; i < rows.length; i++) rows[i] = toRow(s.events[i]!, s.source, s.raw?.[i]);
  return rows;
}

/** Rows of one group, each tagged with the submission it came from; repeats inside the group are counted. */
export interface GroupRows {
  rows: EventRow[];
  /** Index into the group's submissions, per row. */
  req: number[];
  /** Duplicates found inside the group itself, per submission. */
  innerDuplicates: number[];
}

/** Pure: rows for a group of submissions, keeping the first of each (host, id). */
export function groupRows(subs: readonly Submission[]): GroupRows {
  const seen = new Set<string>();
  const rows: EventRow[] = [];
  const req: number[] = [];
  const innerDuplicates = subs.map(() => 0);
  subs.forEach((s, i) => {
    for (const row of s.rows ?? submissionRows(s)) {
      const key = `${row.host}\u0000${row.id}`;
      if (seen.has(key)) {
        innerDuplicates[i]!++;
        continue;
      }
      seen.add(key);
      rows.push(row);
      req.push(i);
    }
  });
  return { rows, req, innerDuplicates };
}

/** Commits one group; returns the number of newly stored rows per submission. */
export type CommitGroup = (group: GroupRows, subs: readonly Submission[]) => Promise<number[]>;

interface Pending {
  sub: Submission;
  resolve: (r: IngestResult) => void;
  reject: (e: unknown) => void;
}

export class GroupCommitter {
  private queue: Pending[] = [];
  private running = false;
  private closed = false;

  constructor(
    private readonly commit: CommitGroup,
    /** A group stops growing past this many events (bounded memory and commit time). */
    private readonly maxEvents = 50_000,
  ) {}

  submit(
    events: readonly MinewatchEvent[],
    source: string,
    raw?: readonly (string | undefined)[],
  ): Promise<IngestResult> {
    if (this.closed) return Promise.reject(new Error('store is closed'));
    if (!events.length) return Promise.resolve({ accepted: 0, duplicates: 0 });
    const sub: Submission = { events, source, ...(raw ? { raw } : {}) };
    // Rows are made now, on the caller's turn: with HTTP clients in flight this JS work overlaps the engine's
    // commit of the previous group (which runs on DuckDB's or ClickHouse's threads), instead of following it.
    try {
      sub.rows = submissionRows(sub);
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ sub, resolve, reject });
      if (!this.running) void this.drain();
    });
  }

  /** Waits for queued work, then refuses more. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.running || this.queue.length) await new Promise((r) => setTimeout(r, 5));
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length) {
        const take: Pending[] = [];
        let n = 0;
        while (
          this.queue.length &&
          (take.length === 0 || n + this.queue[0]!.sub.events.length <= this.maxEvents)
        ) {
          const p = this.queue.shift()!;
          n += p.sub.events.length;
          take.push(p);
        }
        const subs = take.map((p) => p.sub);
        try {
          const group = groupRows(subs);
          const fresh = await this.commit(group, subs);
          take.forEach((p, i) => {
            const accepted = fresh[i] ?? 0;
            p.resolve({ accepted, duplicates: p.sub.events.length - accepted });
          });
        } catch (err) {
          for (const p of take) p.reject(err);
        }
      }
    } finally {
      this.running = false;
    }
  }
}
