/**
 * Group commit: ingest calls that arrive while a commit is running wait and go together into the next one, so
 * many small HTTP batches cost one fsync (embedded) or one insert part (ClickHouse), and every caller still
 * learns only after its own events are durable.
 */
import type { MinewatchEvent } from '../findings/index.ts';
import { StoreUnavailableError } from './errors.ts';
import type { PackedChunk } from './pack.ts';
import { toRow } from './row.ts';
import type { EventRow, IngestResult } from './types.ts';

export interface Submission {
  /** The events; emptied once `packed` holds them (see `GroupCommitter.submit`). */
  events: readonly MinewatchEvent[];
  /** How many events were submitted. */
  count: number;
  source: string;
  /** The JSON text each event was parsed from, when the caller has it (see `IngestOptions.raw`). */
  raw?: readonly (string | undefined)[];
  /** The rows of `events`, made on submit so a waiting group's rows are ready when its commit starts. */
  rows?: EventRow[];
  /** The embedded engine's form of the rows (pack.ts), made on submit while a commit runs. */
  packed?: PackedChunk;
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
export type CommitGroup = (subs: readonly Submission[]) => Promise<number[]>;

/**
 * Work done on a submission when it is made (`busy`: a commit is running, so this JS work overlaps the
 * engine's). Throwing rejects that submission alone. The default makes its rows (`toRow`).
 */
export type Prepare = (sub: Submission, busy: boolean) => void;

const prepareRows: Prepare = (sub) => {
  sub.rows = submissionRows(sub);
};

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
    private readonly prepare: Prepare = prepareRows,
    /**
     * How long a group that is not full waits for more submissions before its commit starts (0: none). For
     * an engine whose every commit has a high fixed cost (a ClickHouse insert is a new part per partition).
     */
    private readonly lingerMs = 0,
  ) {}

  submit(
    events: readonly MinewatchEvent[],
    source: string,
    raw?: readonly (string | undefined)[],
  ): Promise<IngestResult> {
    if (this.closed) return Promise.reject(new Error('store is closed'));
    if (!events.length) return Promise.resolve({ accepted: 0, duplicates: 0 });
    const sub: Submission = { events, count: events.length, source, ...(raw ? { raw } : {}) };
    // Rows are made now, on the caller's turn: with HTTP clients in flight this JS work overlaps the engine's
    // commit of the previous group (which runs on DuckDB's or ClickHouse's threads), instead of following it.
    // A submission that arrives while nothing runs starts a group of its own at once (drain takes the queue
    // synchronously), so an engine may leave its work to the commit, where it can overlap the engine's own.
    try {
      this.prepare(sub, this.running);
    } catch (err) {
      return Promise.reject(err);
    }
    if (sub.packed) {
      // The packed rows are all the commit needs: the events and their text can be collected now, young,
      // rather than promoted while the submission waits (a 1M-event import used ~2.8 s less CPU).
      sub.events = [];
      delete sub.raw;
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ sub, resolve, reject });
      if (!this.running) void this.drain();
    });
  }

  /**
   * A group failed: each of its submissions is committed again on its own, so a batch the engine cannot store
   * fails only its own caller, never the other clients' batches that happened to share its commit. Not when
   * the engine is unreachable: then every submission would fail alike, and all are refused at once.
   */
  private async isolate(take: Pending[], err: unknown): Promise<void> {
    if (take.length === 1 || err instanceof StoreUnavailableError) {
      for (const p of take) p.reject(err);
      return;
    }
    for (const p of take) {
      try {
        const accepted = (await this.commit([p.sub]))[0] ?? 0;
        p.resolve({ accepted, duplicates: p.sub.count - accepted });
      } catch (e) {
        p.reject(e);
      }
    }
  }

  private queuedEvents(): number {
    let n = 0;
    for (const p of this.queue) n += p.sub.count;
    return n;
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
        if (this.lingerMs && !this.closed && this.queuedEvents() < this.maxEvents)
          await new Promise((r) => setTimeout(r, this.lingerMs));
        const take: Pending[] = [];
        let n = 0;
        while (this.queue.length && (take.length === 0 || n + this.queue[0]!.sub.count <= this.maxEvents)) {
          const p = this.queue.shift()!;
          n += p.sub.count;
          take.push(p);
        }
        const subs = take.map((p) => p.sub);
        try {
          const fresh = await this.commit(subs);
          take.forEach((p, i) => {
            const accepted = fresh[i] ?? 0;
            p.resolve({ accepted, duplicates: p.sub.count - accepted });
          });
        } catch (err) {
          await this.isolate(take, err);
        }
      }
    } finally {
      this.running = false;
    }
  }
}
