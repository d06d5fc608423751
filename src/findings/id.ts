import { createHash } from 'node:crypto';

/** A stable finding id from the rule and the fields that make the finding what it is. */
export function findingId(rule: string, ...key: Array<string | number | undefined | null>): string {
  const h = createHash('sha256');
  h.update(rule);
  for (const k of key) h.update(`\u0000${k ?? ''}`);
  return h.digest('hex').slice(0, 16);
}
