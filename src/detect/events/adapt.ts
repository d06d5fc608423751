/**
 * Events → the host sensors' evidence records, so process and file events are judged by the same host
 * rules (src/detect/host) that `minewatch scan` runs, not by a second copy of them.
 */
import type { FileEvent, ProcessEvent } from '../../findings/index.ts';
import { classify } from '../../sensors/host/files.ts';
import { decodeText } from '../../sensors/host/text.ts';
import type { ContentHit, ContentMatcher, FileRecord, ProcessRecord } from '../../sensors/host/types.ts';

/** Content of a file event we decode at most; the rest is left unread (and the record says truncated). */
export const MAX_FILE_CONTENT = 16 * 1024 * 1024;
/** Chunk the content matcher is run over, as the file sensor does. */
const SCAN_CHUNK = 1 << 20;

function baseName(p: string): string {
  const i = Math.max(p.lastIndexOf('/'), p.lastIndexOf('\\'));
  return i >= 0 ? p.slice(i + 1) : p;
}

/** argv from a command line: whitespace-separated, double quotes grouping (Windows paths with spaces). */
export function splitArgs(cmdline: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|(\S+)/g;
  for (const m of cmdline.matchAll(re)) out.push(m[1] ?? m[2]!);
  return out;
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

export function toProcessRecord(ev: ProcessEvent): ProcessRecord {
  const cmdline = typeof ev.cmdline === 'string' ? ev.cmdline : '';
  const exe = typeof ev.exe === 'string' && ev.exe ? ev.exe : undefined;
  const argv = splitArgs(cmdline);
  // Windows images end in .exe; intel names miners without it ('cpuminer-multi'), as ps shows them on Linux.
  const shown = baseName(exe ?? argv[0] ?? (typeof ev.name === 'string' ? ev.name : ''));
  const comm = shown.replace(/\.exe$/i, '') || undefined;
  const rec: ProcessRecord = {
    pid: ev.pid,
    argv,
    cmdline,
    exeDeleted: ev.exe_deleted === true || (exe?.endsWith(' (deleted)') ?? false),
    sockets: [],
    kernelThread: !cmdline && !exe,
  };
  if (exe) rec.exe = exe.replace(/ \(deleted\)$/, '');
  if (comm) rec.comm = comm;
  if (typeof ev.name === 'string' && ev.name) rec.name = ev.name;
  if (typeof ev.ppid === 'number') rec.ppid = ev.ppid;
  const uid = num(ev.uid);
  if (uid !== undefined) rec.uid = uid;
  const cpu = num(ev.cpu_percent);
  if (cpu !== undefined) rec.cpuPercent = cpu;
  if (typeof ev.container === 'string' && ev.container) rec.containerId = ev.container;
  else if (typeof ev.container_id === 'string' && ev.container_id) rec.containerId = ev.container_id;
  return rec;
}

/**
 * A file event as the file sensor would have recorded it: type from the first bytes and name, content-matcher
 * hits over the bytes, and the text kept for scripts and configs. Without content only the name is judged.
 */
export function toFileRecord(ev: FileEvent, matcher: ContentMatcher): FileRecord {
  const mtime = Date.parse(typeof ev.mtime === 'string' ? ev.mtime : ev.time);
  const rec: FileRecord = {
    path: ev.path,
    size: typeof ev.size === 'number' ? ev.size : 0,
    mtimeMs: Number.isFinite(mtime) ? mtime : 0,
    mode: typeof ev.mode === 'number' ? ev.mode : 0,
    type: 'data',
    hits: [],
    truncated: false,
  };
  if (typeof ev.content_b64 !== 'string' || ev.content_b64 === '') return rec;
  const maxB64 = Math.ceil(MAX_FILE_CONTENT / 3) * 4;
  const b64 = ev.content_b64.length > maxB64 ? ev.content_b64.slice(0, maxB64) : ev.content_b64;
  const bytes = Buffer.from(b64, 'base64');
  rec.truncated = b64.length < ev.content_b64.length;
  if (!rec.size) rec.size = bytes.length;
  const c = classify(bytes.subarray(0, 4096), ev.path);
  rec.type = c.type;
  if (c.lang) rec.lang = c.lang;
  const hits: ContentHit[] = [];
  for (let off = 0; off < bytes.length; off += SCAN_CHUNK) {
    // Overlap chunks a little so a token on a boundary is still seen whole.
    const end = Math.min(bytes.length, off + SCAN_CHUNK + 256);
    matcher.scan(bytes.toString('latin1', off, end), off, hits);
  }
  const seen = new Set<string>();
  rec.hits = hits.filter((h) => {
    const k = `${h.kind}:${h.offset}`;
    return !seen.has(k) && seen.add(k);
  });
  if ((c.type === 'elf' || c.type === 'pe') && bytes.includes('UPX!')) rec.packed = 'upx';
  if (c.type === 'script' || c.type === 'json' || c.type === 'xml' || c.type === 'text')
    rec.text = decodeText(bytes).text;
  return rec;
}
