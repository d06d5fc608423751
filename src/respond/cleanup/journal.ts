/**
 * The cleanup journal: one directory per cleanup holding plan.json, journal.ndjson (append-only, one entry
 * per line, fsync'd before the change it announces) and backup/ (the original bytes of every edited file).
 * A kill -9 can at worst leave a torn last line, which is ignored on read: the entry before it is durable.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { CleanupError, fsyncPath, writeFileDurable } from './fsutil.ts';
import type { CleanupPlan, JournalEntry } from './types.ts';

export function defaultJournalDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.MINEWATCH_HOME ? path.join(env.MINEWATCH_HOME, 'journal') : '/var/lib/minewatch/journal';
}

export function defaultQuarantineDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.MINEWATCH_HOME ? path.join(env.MINEWATCH_HOME, 'quarantine') : '/var/lib/minewatch/quarantine';
}

/** '20261128T101500Z-3fa9c2': sorts by time, unique enough for one host. */
export function newJournalId(now = new Date()): string {
  const t = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${t}-${randomBytes(3).toString('hex')}`;
}

const ID_RE = /^[0-9A-Za-z][0-9A-Za-z._-]{0,127}$/;

/** Distributes entries and (for the kill -9 tests) a crash hook after a given entry. */
type Hook = (seq: number, entry: JournalEntry) => void;

export class Journal {
  private fd: number;
  private seqNo: number;
  readonly entries: JournalEntry[];
  onAppend: Hook | undefined;

  private constructor(
    readonly id: string,
    readonly dir: string,
    entries: JournalEntry[],
  ) {
    this.entries = entries;
    this.seqNo = entries.reduce((m, e) => Math.max(m, e.seq), 0);
    this.fd = fs.openSync(path.join(dir, 'journal.ndjson'), 'a', 0o600);
  }

  /** A new journal with its plan written (durably) before any entry. */
  static create(baseDir: string, plan: CleanupPlan, quarantine: string, id = newJournalId()): Journal {
    const dir = path.join(baseDir, id);
    fs.mkdirSync(path.join(dir, 'backup'), { recursive: true, mode: 0o700 });
    writeFileDurable(
      path.join(dir, 'journal.json'),
      `${JSON.stringify({ id, root: plan.root, quarantine })}\n`,
    );
    writeFileDurable(path.join(dir, 'plan.json'), `${JSON.stringify(plan, null, 2)}\n`);
    fsyncPath(baseDir);
    return new Journal(id, dir, []);
  }

  /** An existing journal by id (under baseDir) or by its directory path. */
  static open(baseDir: string, idOrPath: string): Journal {
    const dir = locate(baseDir, idOrPath);
    return new Journal(path.basename(dir), dir, readEntries(dir));
  }

  /** Where this cleanup's quarantine lives (decided before the first change). */
  get quarantine(): string {
    return (
      JSON.parse(fs.readFileSync(path.join(this.dir, 'journal.json'), 'utf8')) as { quarantine: string }
    ).quarantine;
  }

  get plan(): CleanupPlan {
    return JSON.parse(fs.readFileSync(path.join(this.dir, 'plan.json'), 'utf8')) as CleanupPlan;
  }

  backupPath(name: string): string {
    return path.join(this.dir, 'backup', name);
  }

  /** Appends and fsyncs one entry; returns it with its sequence number. */
  append<T extends JournalEntry>(e: DistributiveOmit<T, 'seq' | 'time'>): T {
    const full = { seq: ++this.seqNo, time: new Date().toISOString(), ...e } as unknown as T;
    fs.writeSync(this.fd, `${JSON.stringify(full)}\n`);
    fs.fsyncSync(this.fd);
    this.entries.push(full);
    this.onAppend?.(full.seq, full);
    return full;
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

function locate(baseDir: string, idOrPath: string): string {
  if (idOrPath.includes('/')) {
    if (
      fs.existsSync(path.join(idOrPath, 'journal.ndjson')) ||
      fs.existsSync(path.join(idOrPath, 'plan.json'))
    )
      return path.resolve(idOrPath);
    throw new CleanupError(`${idOrPath}: not a cleanup journal directory`);
  }
  if (!ID_RE.test(idOrPath)) throw new CleanupError(`'${idOrPath}' is not a journal id`);
  const dir = path.join(baseDir, idOrPath);
  if (!fs.existsSync(path.join(dir, 'plan.json')))
    throw new CleanupError(`no journal '${idOrPath}' in ${baseDir} (use --journal-dir to say where it is)`);
  return dir;
}

/** Entries of a journal; a torn last line (kill -9 mid-write) is dropped, anything else malformed is an error. */
export function readEntries(dir: string): JournalEntry[] {
  let text: string;
  try {
    text = fs.readFileSync(path.join(dir, 'journal.ndjson'), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const lines = text.split('\n');
  const out: JournalEntry[] = [];
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (!l.trim()) continue;
    try {
      out.push(JSON.parse(l) as JournalEntry);
    } catch {
      if (i >= lines.length - 2) break; // the torn tail
      throw new CleanupError(`journal entry ${i + 1} is not JSON`);
    }
  }
  return out;
}

/** Journals under a base directory, newest first. */
export function listJournals(
  baseDir: string,
): { id: string; root?: string; status: string; time?: string }[] {
  let names: string[];
  try {
    names = fs.readdirSync(baseDir);
  } catch {
    return [];
  }
  const out = [];
  for (const n of names.sort().reverse()) {
    if (!fs.existsSync(path.join(baseDir, n, 'plan.json'))) continue;
    const es = readEntries(path.join(baseDir, n));
    const begin = es.find((e) => e.type === 'begin');
    const last = [...es].reverse().find((e) => e.type === 'end' || e.type === 'restore-end');
    const status = !begin
      ? 'planned'
      : last?.type === 'restore-end'
        ? `restored (${last.status})`
        : last?.type === 'end'
          ? `applied (${last.status})`
          : 'interrupted';
    out.push({
      id: n,
      ...(begin?.type === 'begin' ? { root: begin.root, time: begin.time } : {}),
      status,
    });
  }
  return out;
}
