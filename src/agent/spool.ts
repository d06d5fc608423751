/**
 * The agent's disk spool: every report is written here first and deleted only once the server acknowledged
 * it, so a crash or an outage loses nothing. Bounded in bytes; when full, the least important oldest batch is
 * dropped and counted: heartbeats first, then low findings and other telemetry, then medium, high last.
 * Files: `c<class>-<seq>.ndjson`, written to a temp name, fsynced, then renamed (never half a file).
 */
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { type MinewatchEvent, SEVERITY_ORDER, type Severity } from '../findings/index.ts';

/** 0 heartbeat, 1 low/info findings and telemetry, 2 medium, 3 high and critical. */
export type SpoolClass = 0 | 1 | 2 | 3;

export function spoolClass(ev: MinewatchEvent): SpoolClass {
  if (ev.type === 'heartbeat') return 0;
  if (ev.type !== 'finding') return 1;
  const sev = SEVERITY_ORDER[(ev.finding?.severity ?? 'info') as Severity] ?? 0;
  return sev >= SEVERITY_ORDER.high ? 3 : sev >= SEVERITY_ORDER.medium ? 2 : 1;
}

export interface SpoolFile {
  name: string;
  cls: SpoolClass;
  seq: number;
  bytes: number;
}

interface SpoolState {
  seq: number;
  /** Events dropped because the spool was full, since the agent first ran. */
  dropped: number;
  droppedByClass: number[];
  /** Events moved to the dead-letter folder (refused by the server), since the agent first ran. */
  deadLettered?: number;
}

/** Dead-letter files kept at most (oldest removed first): a server refusing everything cannot fill the disk. */
const MAX_DEAD_FILES = 200;

const FILE_RE = /^c([0-3])-(\d{12})\.ndjson$/;

export class Spool {
  private state: SpoolState;

  constructor(
    readonly dir: string,
    /** Total bytes kept on disk. */
    readonly maxBytes = 64 * 1024 * 1024,
    /** Events per file (one request each). */
    readonly eventsPerFile = 1000,
  ) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.state = this.readState();
    // After a crash: finish nothing half-written, keep seq ahead of what is on disk.
    for (const f of readdirSync(dir)) if (f.endsWith('.tmp')) unlinkSync(join(dir, f));
    const maxSeq = Math.max(0, ...this.files().map((f) => f.seq));
    if (maxSeq >= this.state.seq) this.state.seq = maxSeq + 1;
  }

  private readState(): SpoolState {
    try {
      const s = JSON.parse(readFileSync(join(this.dir, 'state.json'), 'utf8')) as Partial<SpoolState>;
      return {
        seq: Number(s.seq) || 1,
        dropped: Number(s.dropped) || 0,
        droppedByClass: s.droppedByClass ?? [0, 0, 0, 0],
        deadLettered: Number(s.deadLettered) || 0,
      };
    } catch {
      return { seq: 1, dropped: 0, droppedByClass: [0, 0, 0, 0] };
    }
  }

  private writeAtomic(name: string, text: string): void {
    const tmp = join(this.dir, `${name}.tmp`);
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, join(this.dir, name));
  }

  /** A small JSON file beside the spool (the agent's memory of sent findings), written atomically. */
  writeJson(name: string, value: unknown): void {
    this.writeAtomic(name, JSON.stringify(value));
  }

  private saveState(): void {
    this.writeAtomic('state.json', JSON.stringify(this.state));
  }

  get dropped(): number {
    return this.state.dropped;
  }

  get droppedByClass(): readonly number[] {
    return this.state.droppedByClass;
  }

  /** Events moved to the dead-letter folder so far. */
  get deadLettered(): number {
    return this.state.deadLettered ?? 0;
  }

  /** The dead-letter folder: batches (or lines) the server refused for good, kept for a person to look at. */
  get deadDir(): string {
    return join(this.dir, 'dead');
  }

  /**
   * Moves lines the server will never take out of the queue into `dead/` (NDJSON, with a `.why` beside it
   * saying what the server answered), counts them, and removes `f` from the spool when given: the queue
   * moves on instead of retrying them forever.
   */
  deadLetter(lines: readonly string[], why: string, f?: SpoolFile): void {
    const dead = this.deadDir;
    mkdirSync(dead, { recursive: true, mode: 0o700 });
    if (lines.length) {
      const name = `dead-${String(this.state.seq++).padStart(12, '0')}`;
      this.writeAtomic(join('dead', `${name}.ndjson`), `${lines.join('\n')}\n`);
      this.writeAtomic(join('dead', `${name}.why`), `${why}\n`);
      this.state.deadLettered = this.deadLettered + lines.length;
    }
    if (f) this.remove(f);
    const files = readdirSync(dead)
      .filter((n) => n.endsWith('.ndjson'))
      .sort();
    for (const n of files.slice(0, Math.max(0, files.length - MAX_DEAD_FILES))) {
      for (const x of [n, n.replace(/\.ndjson$/, '.why')])
        try {
          unlinkSync(join(dead, x));
        } catch {
          // already gone
        }
    }
    this.saveState();
  }

  /** Spooled files, most important first, oldest first within a class (the order they are sent in). */
  files(): SpoolFile[] {
    const out: SpoolFile[] = [];
    for (const name of readdirSync(this.dir)) {
      const m = FILE_RE.exec(name);
      if (!m) continue;
      let bytes = 0;
      try {
        bytes = statSync(join(this.dir, name)).size;
      } catch {
        continue;
      }
      out.push({ name, cls: Number(m[1]) as SpoolClass, seq: Number(m[2]), bytes });
    }
    return out.sort((a, b) => b.cls - a.cls || a.seq - b.seq);
  }

  bytes(): number {
    return this.files().reduce((a, f) => a + f.bytes, 0);
  }

  /** Writes events (split by class and into files of eventsPerFile), then enforces the size bound. */
  add(events: readonly MinewatchEvent[]): void {
    const byClass: MinewatchEvent[][] = [[], [], [], []];
    for (const e of events) byClass[spoolClass(e)]!.push(e);
    byClass.forEach((list, cls) => {
      for (let i = 0; i < list.length; i += this.eventsPerFile) {
        const chunk = list.slice(i, i + this.eventsPerFile);
        this.writeAtomic(
          this.fileName(cls as SpoolClass),
          `${chunk.map((e) => JSON.stringify(e)).join('\n')}\n`,
        );
      }
    });
    this.enforce();
    this.saveState();
  }

  private fileName(cls: SpoolClass): string {
    return `c${cls}-${String(this.state.seq++).padStart(12, '0')}.ndjson`;
  }

  /** Drops whole files, least important and oldest first, until the spool fits. */
  private enforce(): void {
    const files = this.files();
    let total = files.reduce((a, f) => a + f.bytes, 0);
    const victims = [...files].sort((a, b) => a.cls - b.cls || a.seq - b.seq);
    for (const f of victims) {
      if (total <= this.maxBytes) break;
      const n = this.read(f).length;
      unlinkSync(join(this.dir, f.name));
      total -= f.bytes;
      this.state.dropped += n;
      this.state.droppedByClass[f.cls] = (this.state.droppedByClass[f.cls] ?? 0) + n;
    }
  }

  read(f: SpoolFile): string[] {
    try {
      return readFileSync(join(this.dir, f.name), 'utf8').split('\n').filter(Boolean);
    } catch {
      return [];
    }
  }

  remove(f: SpoolFile): void {
    try {
      unlinkSync(join(this.dir, f.name));
    } catch {
      // already gone
    }
  }

  /** Replaces a file by two halves (the server found it too large). Returns false for a single event. */
  split(f: SpoolFile): boolean {
    const lines = this.read(f);
    if (lines.length < 2) return false;
    const mid = Math.ceil(lines.length / 2);
    this.writeAtomic(this.fileName(f.cls), `${lines.slice(0, mid).join('\n')}\n`);
    this.writeAtomic(this.fileName(f.cls), `${lines.slice(mid).join('\n')}\n`);
    this.remove(f);
    this.saveState();
    return true;
  }

  /** Counts events given up on (rejected by the server) with the dropped ones. */
  countDropped(n: number, cls: SpoolClass): void {
    this.state.dropped += n;
    this.state.droppedByClass[cls] = (this.state.droppedByClass[cls] ?? 0) + n;
    this.saveState();
  }
}
