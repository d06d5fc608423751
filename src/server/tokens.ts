/**
 * Agent and admin tokens: `mwt_<id>_<secret>`, the secret 256 random bits. The store keeps the id (to find the
 * record) and sha256 of the secret, never the token; checking compares hashes in constant time.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { TokenRecord } from '../store/types.ts';

const TOKEN_RE = /^mwt_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

export function sha256Hex(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

/**
 * A new token and the record to store; the token is shown once and never stored. `host`: the one host an
 * agent token may send events for (else it is bound to the host of its first event).
 */
export function newToken(
  name: string,
  admin: boolean,
  now = new Date(),
  host?: string,
): { token: string; record: TokenRecord } {
  if (!name.trim() || name.length > 255 || /[\u0000-\u001f]/.test(name))
    throw new RangeError('token name must be 1-255 printable characters');
  if (host !== undefined && (!host.trim() || host.length > 255 || /[\u0000-\u001f\u007f]/.test(host)))
    throw new RangeError('token host must be 1-255 printable characters');
  if (host !== undefined && admin) throw new RangeError('an admin token is not bound to a host');
  const id = randomBytes(6).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  return {
    token: `mwt_${id}_${secret}`,
    record: {
      id,
      name,
      admin,
      hash: sha256Hex(secret),
      created: now.toISOString(),
      revoked: false,
      ...(host !== undefined ? { host } : {}),
    },
  };
}

export function parseToken(token: string): { id: string; secret: string } | null {
  const m = TOKEN_RE.exec(token);
  return m ? { id: m[1]!, secret: m[2]! } : null;
}

/** Constant-time equality of two hex sha256 digests. */
export function sameHash(aHex: string, bHex: string): boolean {
  const a = Buffer.from(aHex, 'hex');
  const b = Buffer.from(bHex, 'hex');
  return a.length === 32 && b.length === 32 && timingSafeEqual(a, b);
}

export function verifySecret(record: TokenRecord, secret: string): boolean {
  return !record.revoked && sameHash(record.hash, sha256Hex(secret));
}

/** The admin token from the environment (MINEWATCH_ADMIN_TOKEN) matches when its sha256 does, in constant time. */
export function matchesAdminToken(presented: string, adminHash: string | undefined): boolean {
  return adminHash !== undefined && sameHash(adminHash, sha256Hex(presented));
}
