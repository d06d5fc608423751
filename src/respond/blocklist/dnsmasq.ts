/**
 * dnsmasq: `local=/zone/` answers NXDOMAIN for the zone and every name below it without forwarding the
 * query. An excepted name goes back to the upstream servers with `server=/name/#` (the more specific
 * domain wins in dnsmasq).
 */
import { commentHeader, type Selection } from './select.ts';

export function writeDnsmasq(sel: Selection): string {
  const lines = [commentHeader(sel, 'dnsmasq', '#')];
  for (const z of sel.zones) lines.push(`local=/${z}/`);
  for (const e of sel.exceptions) lines.push(`server=/${e}/#`);
  return `${lines.join('\n')}\n`;
}
