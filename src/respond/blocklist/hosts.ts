/**
 * hosts(5) file: `0.0.0.0 name`, one name a line. A hosts file matches names exactly, so every known name
 * is listed (the pool apexes and each known subdomain), not just the zones.
 */
import { commentHeader, type Selection } from './select.ts';

export const HOSTS_SINK = '0.0.0.0';

export function hostsEntries(sel: Selection): string[] {
  return sel.names.map((n) => `${HOSTS_SINK} ${n}`);
}

export function writeHosts(sel: Selection): string {
  return `${commentHeader(sel, 'hosts', '#')}\n${hostsEntries(sel).join('\n')}\n`;
}
