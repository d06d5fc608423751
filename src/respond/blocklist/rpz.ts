/**
 * BIND response policy zone (RPZ). `name CNAME .` answers NXDOMAIN for the name and `*.name CNAME .`
 * for everything below it (RPZ wildcards do not cover the apex, so both are written). Owner names are
 * relative to the zone's origin, so the file loads under any RPZ zone name (`zone "rpz.minewatch"`).
 * Excepted names get `rpz-passthru.` entries, which win over the wildcard because they are more specific.
 */
import { commentHeader, type Selection } from './select.ts';

export interface RpzOptions {
  /** SOA serial; default YYYYMMDD00 from the intel's generated date, so a rebuilt zone keeps its serial. */
  serial?: number;
}

export function rpzSerial(sel: Selection, opts: RpzOptions = {}): number {
  if (opts.serial !== undefined) return opts.serial;
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(sel.intelGenerated);
  return m ? Number(`${m[1]}${m[2]}${m[3]}00`) : 1;
}

export function writeRpz(sel: Selection, opts: RpzOptions = {}): string {
  const lines = [
    commentHeader(sel, 'rpz', ';'),
    '$TTL 300',
    `@ IN SOA localhost. hostmaster.localhost. ( ${rpzSerial(sel, opts)} 3600 600 604800 300 )`,
    '  IN NS localhost.',
  ];
  for (const z of sel.zones) lines.push(`${z} CNAME .`, `*.${z} CNAME .`);
  for (const e of sel.exceptions) lines.push(`${e} CNAME rpz-passthru.`, `*.${e} CNAME rpz-passthru.`);
  return `${lines.join('\n')}\n`;
}
