/**
 * The agent: scan the host (and optionally a short traffic capture), write findings and a heartbeat to the
 * disk spool, deliver the spool to the server, retry with capped jittered backoff while it is away.
 * The scan, the traffic check, the clock and fetch are injected, so tests run it against a fake host.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Finding, MinewatchEvent } from '../findings/index.ts';
import { timeMs, validateEvent } from '../findings/validate.ts';
import { VERSION } from '../version.ts';
import { type BackoffOptions, backoffDelay, DEFAULT_BACKOFF } from './backoff.ts';
import { type Inventory, readInventory } from './inventory.ts';
import { Spool, type SpoolFile } from './spool.ts';

export { backoffDelay, DEFAULT_BACKOFF } from './backoff.ts';
export { cloudOf, type Inventory, osName, readInventory } from './inventory.ts';
export { Spool, spoolClass } from './spool.ts';

/** What the agent needs from a host scan (a subset of ScanResult from src/sensors/host). */
export interface AgentScan {
  host: { hostname?: string; os?: string };
  findings: Finding[];
  verdict: { status: string; infection_type?: string | null };
  warnings?: unknown[];
  stats?: Record<string, unknown>;
}

export type ScanFn = (opts: { root: string }) => Promise<AgentScan>;
export type TrafficFn = () => Promise<Finding[]>;

/** Fleet response around each cycle (enforce.ts, remote-clean.ts); every hook's error is logged, not fatal. */
export interface AgentHooks {
  /** Before each scan: pull and apply the block decisions. */
  beforeScan?(): Promise<void>;
  /** Extra heartbeat fields (the enforcement state). */
  heartbeat?(): Record<string, unknown>;
  /** After delivery, with the host name: report the cleanup plan, act on approvals. */
  afterDeliver?(host: string): Promise<void>;
  /** When a looping agent stops: take enforcement out. */
  stop?(): Promise<void>;
}

export interface AgentOptions {
  server: string;
  token: string;
  spoolDir: string;
  spoolMaxBytes?: number;
  /** Between scans (ms). Default 10 minutes. */
  intervalMs?: number;
  /** One scan, deliver (within deliverMs), return. */
  once?: boolean;
  /** In --once mode, how long to keep retrying delivery. Default 60 s. */
  deliverMs?: number;
  root?: string;
  /** Default: the real host scan, imported lazily. */
  scan?: ScanFn;
  traffic?: TrafficFn;
  inventory?: (root: string) => Inventory;
  /** A finding already sent is sent again only after this long (ms), so the store is not flooded. Default 24 h. */
  resendMs?: number;
  backoff?: BackoffOptions;
  /** Per request. Default 30 s. */
  requestTimeoutMs?: number;
  /**
   * A batch answered 500 (or another 5xx that is not 502/503/504) this many times in a row goes to the
   * dead-letter folder, so one batch the server cannot store never holds up the queue. Default 5.
   */
  maxServerErrors?: number;
  /** gzip request bodies (default true; falls back to plain for a server that answers 415). */
  gzip?: boolean;
  signal?: AbortSignal;
  log?: (msg: string) => void;
  fetch?: typeof fetch;
  now?: () => number;
  hooks?: AgentHooks;
}

export interface CycleReport {
  host: string;
  verdict: string;
  findings: number;
  /** Events written to the spool this cycle. */
  spooled: number;
}

export interface AgentResult {
  cycles: CycleReport[];
  /** Events the server acknowledged (accepted or duplicate). */
  delivered: number;
  /** Events the server rejected as invalid (dropped, counted). */
  rejected: number;
  /** Events still waiting in the spool. */
  pending: number;
  /** Events ever dropped from a full spool. */
  dropped: number;
  infected: boolean;
}

type SendOutcome =
  | { kind: 'ok'; delivered: number; rejected: number }
  | { kind: 'retry'; afterMs?: number; why: string; serverError?: boolean }
  | { kind: 'dead'; why: string }
  | { kind: 'fatal'; why: string };

/** Answers that mean the server (or its store) is away, not that the batch is wrong: retried for ever. */
const UNAVAILABLE = new Set([502, 503, 504]);

async function defaultScan(opts: { root: string }): Promise<AgentScan> {
  const { scanHost } = await import('../sensors/host/index.ts');
  return (await scanHost({ root: opts.root })) as unknown as AgentScan;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Finding ids and when each was last sent: the agent's memory across runs (in the spool directory). */
class SentFindings {
  private map: Record<string, number> = {};
  constructor(path: string) {
    try {
      this.map = JSON.parse(readFileSync(path, 'utf8')) as Record<string, number>;
    } catch {
      this.map = {};
    }
  }
  due(key: string, now: number, resendMs: number): boolean {
    const at = this.map[key];
    return at === undefined || now - at >= resendMs;
  }
  mark(keys: string[], now: number, spool: Spool): void {
    for (const k of keys) this.map[k] = now;
    // Bounded: entries not seen for a week are forgotten.
    for (const [k, at] of Object.entries(this.map)) if (now - at > 7 * 86_400_000) delete this.map[k];
    spool.writeJson('sent-findings.json', this.map);
  }
}

export class Agent {
  readonly spool: Spool;
  private readonly sent: SentFindings;
  private readonly log: (m: string) => void;
  private readonly now: () => number;
  private readonly fetch: typeof fetch;
  private attempt = 0;
  private delivered = 0;
  private rejected = 0;
  private gzip: boolean;
  /** 5xx answers in a row for the file at the head of the queue. */
  private serverErrors = 0;

  constructor(private readonly opts: AgentOptions) {
    this.spool = new Spool(opts.spoolDir, opts.spoolMaxBytes);
    this.sent = new SentFindings(join(opts.spoolDir, 'sent-findings.json'));
    this.log = opts.log ?? (() => undefined);
    this.now = opts.now ?? Date.now;
    this.fetch = opts.fetch ?? fetch;
    this.gzip = opts.gzip ?? true;
  }

  /** Scans and spools one report; returns what it wrote. */
  async scanOnce(): Promise<CycleReport & { infected: boolean }> {
    const root = this.opts.root ?? '/';
    const scan = await (this.opts.scan ?? defaultScan)({ root });
    let findings = scan.findings;
    if (this.opts.traffic) {
      try {
        findings = [...findings, ...(await this.opts.traffic())];
      } catch (err) {
        this.log(`traffic check failed: ${(err as Error).message}`);
      }
    }
    const inv = (this.opts.inventory ?? readInventory)(root);
    const host = scan.host.hostname ?? inv.hostname ?? 'unknown-host';
    const now = this.now();
    const time = new Date(now).toISOString();
    const resendMs = this.opts.resendMs ?? 86_400_000;
    const due = findings.filter((f) => this.sent.due(`${host}\u0000${f.id}`, now, resendMs));
    const events: MinewatchEvent[] = due.map((f) => ({
      id: randomUUID(),
      // A finding's own time when it is one the server takes (RFC 3339 with a zone), else the scan's.
      time: f.time && Number.isFinite(timeMs(f.time)) ? f.time : time,
      host,
      type: 'finding',
      finding: { ...f, host: f.host ?? host },
    }));
    events.push({
      id: randomUUID(),
      time,
      host,
      type: 'heartbeat',
      ...inv,
      ...(scan.host.os && !inv.os ? { os: scan.host.os } : {}),
      agent_version: VERSION,
      verdict: scan.verdict.status,
      infection_type: scan.verdict.infection_type ?? null,
      findings: findings.length,
      spool_dropped: this.spool.dropped,
      dead_letters: this.spool.deadLettered,
      spool_dropped_by_class: [...this.spool.droppedByClass],
      ...(scan.stats ? { scan_stats: scan.stats } : {}),
      ...(this.opts.hooks?.heartbeat?.() ?? {}),
    });
    // The server's validation, before spooling: what it would refuse goes to dead/ now, with the reason,
    // instead of travelling to be refused (the same rules on every ingest path).
    const ok: MinewatchEvent[] = [];
    for (const e of events) {
      const why = validateEvent(e, { now });
      if (why) {
        this.log(`event not spooled (${why}); kept in ${this.spool.deadDir}`);
        this.spool.deadLetter([JSON.stringify(e)], `refused before spooling: ${why}`);
      } else ok.push(e);
    }
    // Spool first: from here on, a crash or an outage loses nothing.
    this.spool.add(ok);
    this.sent.mark(
      due.map((f) => `${host}\u0000${f.id}`),
      now,
      this.spool,
    );
    return {
      host,
      verdict: scan.verdict.status,
      findings: findings.length,
      spooled: ok.length,
      infected: scan.verdict.status === 'infected',
    };
  }

  private async send(f: SpoolFile): Promise<SendOutcome> {
    const lines = this.spool.read(f);
    if (!lines.length) return { kind: 'ok', delivered: 0, rejected: 0 };
    let res: Response;
    const text = `${lines.join('\n')}\n`;
    const gzip = this.gzip;
    try {
      res = await this.fetch(
        new URL('api/v1/events', this.opts.server.endsWith('/') ? this.opts.server : `${this.opts.server}/`),
        {
          method: 'POST',
          headers: {
            authorization: `Bearer ${this.opts.token}`,
            'content-type': 'application/x-ndjson',
            ...(gzip ? { 'content-encoding': 'gzip' } : {}),
          },
          // Telemetry NDJSON shrinks ~5-10x: less for a metered or slow uplink to carry.
          body: gzip ? gzipSync(text) : text,
          signal: AbortSignal.timeout(this.opts.requestTimeoutMs ?? 30_000),
        },
      );
    } catch (err) {
      return { kind: 'retry', why: `server unreachable: ${(err as Error).message}` };
    }
    if (res.status === 415 && gzip) {
      // A server from before gzip bodies: plain from now on.
      this.gzip = false;
      await res.arrayBuffer().catch(() => undefined);
      return { kind: 'retry', afterMs: 0, why: 'server refused gzip: sending plain' };
    }
    const body = (await res.json().catch(() => ({}))) as {
      accepted?: number;
      duplicates?: number;
      rejected?: unknown[];
      error?: string;
    };
    if (
      res.status === 200 ||
      res.status === 207 ||
      (res.status === 400 && Array.isArray(body.rejected) && body.rejected.length)
    ) {
      const list = Array.isArray(body.rejected)
        ? (body.rejected as { line?: unknown; reason?: unknown }[])
        : [];
      if (list.length) {
        this.log(
          `server rejected ${list.length} event(s) in ${f.name}: ${JSON.stringify(list).slice(0, 300)}`,
        );
        // The refused lines themselves go to the dead-letter folder with the server's reasons.
        const bad = list.map((r) => lines[Number(r.line) - 1]).filter((l): l is string => l !== undefined);
        this.spool.deadLetter(
          bad,
          `HTTP ${res.status} for ${f.name}: ${JSON.stringify(list).slice(0, 4000)}`,
        );
      }
      return { kind: 'ok', delivered: (body.accepted ?? 0) + (body.duplicates ?? 0), rejected: list.length };
    }
    if (res.status === 413) {
      if (this.spool.split(f)) return { kind: 'retry', afterMs: 0, why: 'batch too large: split in two' };
      return { kind: 'ok', delivered: 0, rejected: lines.length };
    }
    if (res.status === 401 || res.status === 403)
      return { kind: 'fatal', why: `server refused the token (${res.status}): ${body.error ?? ''}` };
    const why = `server answered ${res.status}: ${body.error ?? ''}`;
    // Any other 4xx (but a timeout or a rate limit) is about this batch, and will be again: not retried.
    if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429)
      return { kind: 'dead', why };
    const ra = Number(res.headers.get('retry-after'));
    return {
      kind: 'retry',
      ...(ra > 0 ? { afterMs: ra * 1000 } : {}),
      why,
      serverError: res.status >= 500 && !UNAVAILABLE.has(res.status),
    };
  }

  /**
   * Sends spooled files until the spool is empty (true) or `until` passes / the signal aborts (false).
   * Waits with backoff between failed attempts; a refused token is an error (thrown).
   */
  async deliver(until: number): Promise<boolean> {
    for (;;) {
      const f = this.spool.files()[0];
      if (!f) {
        this.attempt = 0;
        return true;
      }
      if (this.opts.signal?.aborted) return false;
      const out = await this.send(f);
      if (out.kind === 'ok') {
        this.serverErrors = 0;
        this.spool.remove(f);
        if (out.rejected) this.spool.countDropped(out.rejected, f.cls);
        this.delivered += out.delivered;
        this.rejected += out.rejected;
        this.attempt = 0;
        continue;
      }
      if (out.kind === 'fatal') throw new Error(out.why);
      if (out.kind === 'retry' && out.serverError) this.serverErrors++;
      if (
        out.kind === 'dead' ||
        (out.kind === 'retry' && out.serverError && this.serverErrors >= (this.opts.maxServerErrors ?? 5))
      ) {
        const lines = this.spool.read(f);
        this.log(
          `${out.why}; ${lines.length} event(s) of ${f.name} moved to ${this.spool.deadDir}, going on`,
        );
        this.spool.deadLetter(lines, `${out.why} (${f.name})`, f);
        this.rejected += lines.length;
        this.serverErrors = 0;
        this.attempt = 0;
        continue;
      }
      if (out.afterMs === 0) continue;
      const wait = Math.max(
        out.afterMs ?? 0,
        backoffDelay(this.attempt++, this.opts.backoff ?? DEFAULT_BACKOFF),
      );
      this.log(`${out.why}; ${this.pending()} event(s) spooled, retrying in ${Math.round(wait / 100) / 10}s`);
      if (this.now() + wait > until) return false;
      await sleep(wait, this.opts.signal);
    }
  }

  pending(): number {
    return this.spool.files().reduce((a, f) => a + this.spool.read(f).length, 0);
  }

  result(cycles: CycleReport[], infected: boolean): AgentResult {
    return {
      cycles,
      delivered: this.delivered,
      rejected: this.rejected,
      pending: this.pending(),
      dropped: this.spool.dropped,
      infected,
    };
  }
}

/** Runs the agent: once, or every interval until the signal aborts. */
export async function runAgent(opts: AgentOptions): Promise<AgentResult> {
  const agent = new Agent(opts);
  const cycles: CycleReport[] = [];
  let infected = false;
  const now = opts.now ?? Date.now;
  const hook = async (what: string, f: (() => Promise<void>) | undefined) => {
    try {
      await f?.();
    } catch (err) {
      opts.log?.(`${what}: ${(err as Error).message}`);
    }
  };
  const hooks = opts.hooks ?? {};
  if (opts.once) {
    await hook('enforcement', hooks.beforeScan);
    const c = await agent.scanOnce();
    cycles.push(c);
    infected = c.infected;
    await agent.deliver(now() + (opts.deliverMs ?? 60_000));
    await hook('remote clean', hooks.afterDeliver && (() => hooks.afterDeliver!(c.host)));
    return agent.result(cycles, infected);
  }
  const interval = opts.intervalMs ?? 10 * 60_000;
  while (!opts.signal?.aborted) {
    const started = now();
    await hook('enforcement', hooks.beforeScan);
    let host: string | undefined;
    try {
      const c = await agent.scanOnce();
      cycles.push(c);
      if (cycles.length > 100) cycles.shift();
      infected = c.infected;
      host = c.host;
    } catch (err) {
      opts.log?.(`scan failed: ${(err as Error).message}`);
    }
    // Deliver (retrying) until the next scan is due; the spool keeps what is not through yet.
    await agent.deliver(started + interval);
    if (host && !opts.signal?.aborted)
      await hook('remote clean', hooks.afterDeliver && (() => hooks.afterDeliver!(host)));
    const left = started + interval - now();
    if (left > 0) await sleep(left, opts.signal);
  }
  await hook('stopping enforcement', hooks.stop);
  return agent.result(cycles, infected);
}
