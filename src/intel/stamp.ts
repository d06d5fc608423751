/**
 * The stamp of an intel directory (`checked.json`, written by `npm run intel:stamp` after the files passed their
 * full checks): the SHA-256 of each file's text. Files whose text matches their stamp are not checked again at
 * load: the schema check of the built-in files was ~22 ms of every command's start-up, out of ~45 ms for the whole
 * intel load (158 MB bench run: `loadIntel` 45 -> 23 ms), and the wallet formats' ~7 ms of every capture with a
 * wallet. Any change to a file, or a missing or foreign stamp, means the full check.
 *
 * A module of its own (no imports of the intel or wallet code) so that both loaders read it.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const INTEL_STAMP = 'checked.json';
export const INTEL_STAMP_SCHEMA = 'minewatch-intel-checked@1';

export function intelDigest(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The digests a directory's stamp vouches for, by file name; undefined without a stamp of ours. */
export function readStamp(dir: string): Record<string, string> | undefined {
  try {
    const doc = JSON.parse(readFileSync(join(dir, INTEL_STAMP), 'utf8')) as {
      schema?: string;
      files?: unknown;
    };
    if (doc.schema !== INTEL_STAMP_SCHEMA || typeof doc.files !== 'object' || doc.files === null)
      return undefined;
    return doc.files as Record<string, string>;
  } catch {
    return undefined;
  }
}

/** True when a stamp (readStamp's answer) vouches for exactly this text of `name`. */
export function vouches(stamp: Record<string, string> | undefined, name: string, text: string): boolean {
  const digest = stamp?.[name];
  return digest !== undefined && digest === intelDigest(text);
}

/** True when `dir`'s stamp vouches for exactly this text of `name`. */
export function stamped(dir: string, name: string, text: string): boolean {
  return vouches(readStamp(dir), name, text);
}
