/**
 * Throttling of failed authentication (bearer tokens on the API, the dashboard's login form), per client
 * address and per token prefix, so guessing costs time however it is spread.
 *
 * - Per client (an IPv4 address, an IPv6 /64): a burst of failures, then a slow refill. A client out of
 *   failures is answered 429 before its credential is even looked at, for as long as the bucket needs.
 *   Another client presenting the right credential is not affected: the lockout is the guesser's.
 * - Per token prefix (`mwt_<id>` of a store token; one shared key for anything else, i.e. guesses at the
 *   MINEWATCH_ADMIN_TOKEN): failures from every client together. Past its burst, each further failure for
 *   that prefix locks out the client that made it at once, so guesses spread over many addresses still stop;
 *   the right credential for the prefix still passes, from anywhere not locked out.
 * Failures are logged (bounded: while a client is within its burst, and once when it is locked out).
 * Memory is bounded by the limiters' key caps.
 */
import { RateLimiter } from './ratelimit.ts';

export interface AuthGuardOptions {
  /** Failures a client may make at once, and how many a minute refill. Default 20, 10/min. */
  clientBurst?: number;
  clientPerMinute?: number;
  /** Failures for one token prefix, from all clients, at once and per minute. Default 50, 30/min. */
  prefixBurst?: number;
  prefixPerMinute?: number;
  now?: () => number;
  log?: (msg: string) => void;
}

/** The throttling key of a client address: IPv4 as it is, IPv6 by its /64 (one host's share of a network). */
export function clientKey(ip: string | undefined): string {
  const a = (ip ?? '').replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1');
  if (!a.includes(':')) return a || 'unknown';
  const parts = a.split('::');
  const head = (parts[0] ?? '').split(':').filter(Boolean);
  const tail = parts.length > 1 ? (parts[1] ?? '').split(':').filter(Boolean) : [];
  const full = [...head, ...Array(Math.max(0, 8 - head.length - tail.length)).fill('0'), ...tail];
  return `${full.slice(0, 4).join(':')}::/64`;
}

/** The prefix a presented credential is throttled under: the public id of a store token, else one key. */
export function tokenPrefix(presented: string): string {
  const m = /^mwt_([0-9a-f]{12})_/.exec(presented);
  return m ? `mwt_${m[1]}` : 'other';
}

export class AuthGuard {
  private readonly clients: RateLimiter;
  private readonly prefixes: RateLimiter;
  private readonly log: (msg: string) => void;
  /** Failures refused or counted, for tests and the log. */
  failures = 0;

  constructor(opts: AuthGuardOptions = {}) {
    const now = opts.now ?? (() => Date.now());
    this.clients = new RateLimiter((opts.clientPerMinute ?? 10) / 60, opts.clientBurst ?? 20, now);
    this.prefixes = new RateLimiter((opts.prefixPerMinute ?? 30) / 60, opts.prefixBurst ?? 50, now);
    this.log = opts.log ?? ((m) => process.stderr.write(`${m}\n`));
  }

  /** Seconds the client must wait before a credential from it is looked at again; 0 = go on. */
  blocked(client: string): number {
    return this.clients.wait(client);
  }

  /** Counts a failed authentication (`what`: 'bearer token', 'dashboard login'); logs it within bounds. */
  failed(client: string, presented: string, what: string): void {
    this.failures++;
    const prefix = tokenPrefix(presented);
    const prefixSpent = this.prefixes.take(prefix) > 0;
    const before = this.clients.wait(client);
    // Past the prefix's burst, one more failure locks the client out now (a distributed guess stops too).
    if (prefixSpent) this.clients.drain(client);
    else this.clients.take(client);
    const after = this.clients.wait(client);
    if (before === 0 && after === 0)
      this.log(`minewatch serve: failed ${what} from ${client} (token ${prefix}_…)`);
    else if (before === 0)
      this.log(
        `minewatch serve: failed ${what} from ${client} (token ${prefix}_…); ${prefixSpent ? `too many failures for ${prefix} from all clients, ` : ''}client locked out for ${after} s`,
      );
  }
}

/** Pure: why an admin token is too weak to run with (refuse), or should be warned about, or null. */
export function adminTokenWeakness(t: string): { refuse: boolean; why: string } | null {
  if (t.length < 16)
    return { refuse: true, why: `MINEWATCH_ADMIN_TOKEN is ${t.length} characters; at least 16 are required` };
  const distinct = new Set(t).size;
  if (t.length < 32 || distinct < 10)
    return {
      refuse: false,
      why: `MINEWATCH_ADMIN_TOKEN is weak (${t.length} characters, ${distinct} distinct); use 32+ random characters, e.g. $(openssl rand -hex 32)`,
    };
  return null;
}
