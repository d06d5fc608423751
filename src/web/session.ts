/**
 * Dashboard sessions: logging in with an admin token gives a random session id in an HttpOnly, SameSite=Strict
 * cookie scoped to /ui. The token itself never reaches the browser's storage, and a session dies when its token
 * is revoked (checked again at most every `recheckMs`). Sessions live in memory: a restart logs everyone out,
 * which is the safe failure for a security console.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';

export const COOKIE = 'mw_session';

export interface Session {
  id: string;
  /** Token id ('admin-env' for MINEWATCH_ADMIN_TOKEN) and name, for re-checks and the header. */
  tokenId: string;
  name: string;
  /** Sent in forms and the X-CSRF-Token header of state-changing requests. */
  csrf: string;
  expires: number;
  checked: number;
}

export class Sessions {
  private readonly map = new Map<string, Session>();
  constructor(
    readonly ttlMs = 12 * 3600_000,
    readonly recheckMs = 10_000,
    private readonly max = 10_000,
  ) {}

  create(tokenId: string, name: string, now = Date.now()): Session {
    if (this.map.size >= this.max) this.sweep(now);
    // Still full after sweeping: drop the oldest rather than grow without bound.
    if (this.map.size >= this.max) this.map.delete(this.map.keys().next().value!);
    const s: Session = {
      id: randomBytes(32).toString('base64url'),
      tokenId,
      name,
      csrf: randomBytes(24).toString('base64url'),
      expires: now + this.ttlMs,
      checked: now,
    };
    this.map.set(s.id, s);
    return s;
  }

  get(id: string | undefined, now = Date.now()): Session | null {
    if (!id) return null;
    const s = this.map.get(id);
    if (!s) return null;
    if (s.expires <= now) {
      this.map.delete(id);
      return null;
    }
    return s;
  }

  delete(id: string | undefined): void {
    if (id) this.map.delete(id);
  }

  sweep(now = Date.now()): void {
    for (const [id, s] of this.map) if (s.expires <= now) this.map.delete(id);
  }

  get size(): number {
    return this.map.size;
  }
}

/** Pure: the cookies of a Cookie header (first value of a name wins, as browsers send the most specific first). */
export function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!header) return out;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i < 0) continue;
    const k = part.slice(0, i).trim();
    if (!k || k in out) continue;
    const v = part.slice(i + 1).trim();
    try {
      out[k] = decodeURIComponent(v.replace(/^"(.*)"$/, '$1'));
    } catch {
      out[k] = v;
    }
  }
  return out;
}

export function sessionCookie(value: string, opts: { secure: boolean; maxAgeS?: number }): string {
  const parts = [
    `${COOKIE}=${value}`,
    'Path=/ui',
    'HttpOnly',
    'SameSite=Strict',
    `Max-Age=${opts.maxAgeS ?? 12 * 3600}`,
  ];
  if (opts.secure) parts.push('Secure');
  return parts.join('; ');
}

export function clearCookie(secure: boolean): string {
  return sessionCookie('', { secure, maxAgeS: 0 });
}

/** Constant-time string compare (CSRF tokens). */
export function sameSecret(a: string | undefined, b: string): boolean {
  if (typeof a !== 'string') return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Pure: whether a state-changing request comes from our own origin. Browsers send Origin on every POST; when
 * it is absent (old clients) Referer must match instead; a request with neither is refused.
 */
export function sameOrigin(headers: { origin?: string; referer?: string; host?: string }): boolean {
  const host = headers.host;
  if (!host) return false;
  const from = headers.origin ?? headers.referer;
  if (!from || from === 'null') return false;
  try {
    return new URL(from).host === host;
  } catch {
    return false;
  }
}
