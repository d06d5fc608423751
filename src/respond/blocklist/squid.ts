/**
 * Squid ACLs for an `include` from squid.conf: `dstdomain .zone` matches the zone and everything below it
 * (plain HTTP and CONNECT tunnels alike, which is how a miner behind a proxy reaches a pool), `dst` the
 * pool addresses. Values go one per line: Squid appends repeated acl lines of the same name.
 */
import { commentHeader, type Selection } from './select.ts';

export function writeSquid(sel: Selection): string {
  const lines = [
    commentHeader(sel, 'squid', '#'),
    // Squid stops at the first http_access line that matches: the deny lines must come before any allow.
    '# Include from squid.conf before your http_access allow lines (the first matching http_access wins).',
  ];
  for (const z of sel.zones) lines.push(`acl minewatch_pools dstdomain .${z}`);
  for (const e of sel.exceptions) lines.push(`acl minewatch_excepted dstdomain .${e}`);
  for (const ip of [...sel.ipv4, ...sel.ipv6]) lines.push(`acl minewatch_pool_ips dst ${ip}`);
  const notExcepted = sel.exceptions.length > 0 ? ' !minewatch_excepted' : '';
  if (sel.zones.length > 0) lines.push(`http_access deny minewatch_pools${notExcepted}`);
  if (sel.ipv4.length + sel.ipv6.length > 0) lines.push('http_access deny minewatch_pool_ips');
  return `${lines.join('\n')}\n`;
}
