/**
 * unbound: one `local-zone: "zone." always_nxdomain` per zone, in a `server:` clause, for an
 * `include:` from unbound.conf. always_nxdomain answers NXDOMAIN even where local-data or a forward would
 * answer; an excepted name gets a more specific `transparent` zone so it resolves normally.
 */
import { commentHeader, type Selection } from './select.ts';

export function writeUnbound(sel: Selection): string {
  const lines = [commentHeader(sel, 'unbound', '#'), 'server:'];
  for (const z of sel.zones) lines.push(`    local-zone: "${z}." always_nxdomain`);
  for (const e of sel.exceptions) lines.push(`    local-zone: "${e}." transparent`);
  return `${lines.join('\n')}\n`;
}
