/**
 * iptables with ipset: the addresses live in two sets (`ipset restore`), the rules in a dedicated chain
 * MINEWATCH (`iptables-restore --noflush` / `ip6tables-restore --noflush`). Declaring the chain in the
 * restore file flushes it, so reloading replaces the rules instead of adding copies; the jumps from OUTPUT
 * and FORWARD are left to the operator (or to `--apply`, which checks before inserting), since a restore
 * file cannot insert a rule only when it is missing.
 */
import { commentHeader, type Selection } from './select.ts';

export const IPT_CHAIN = 'MINEWATCH';
export const IPSET_V4 = 'minewatch-v4';
export const IPSET_V6 = 'minewatch-v6';

/** `ipset -exist restore < FILE`: creates the sets if missing, empties them, then fills them. */
export function writeIpset(sel: Selection): string {
  const lines = [
    commentHeader(sel, 'ipset', '#'),
    '# Load with `ipset -exist restore < FILE` (before the iptables rules that name the sets).',
  ];
  const set = (name: string, family: string, ips: string[]) => {
    const max = Math.max(65536, 2 ** Math.ceil(Math.log2(ips.length + 1)));
    lines.push(`create ${name} hash:ip family ${family} hashsize 1024 maxelem ${max}`, `flush ${name}`);
    for (const ip of ips) lines.push(`add ${name} ${ip}`);
  };
  set(IPSET_V4, 'inet', sel.ipv4);
  set(IPSET_V6, 'inet6', sel.ipv6);
  return `${lines.join('\n')}\n`;
}

function restoreFile(sel: Selection, v6: boolean): string {
  const tool = v6 ? 'ip6tables' : 'iptables';
  const reject = v6 ? 'icmp6-adm-prohibited' : 'icmp-admin-prohibited';
  const lines = [
    commentHeader(sel, tool, '#'),
    `# Load with \`${tool}-restore --noflush < FILE\` after the ipset file; then jump to the chain once:`,
    `#   ${tool} -C OUTPUT -j ${IPT_CHAIN} 2>/dev/null || ${tool} -I OUTPUT -j ${IPT_CHAIN}`,
    `#   ${tool} -C FORWARD -j ${IPT_CHAIN} 2>/dev/null || ${tool} -I FORWARD -j ${IPT_CHAIN}`,
    '*filter',
    `:${IPT_CHAIN} - [0:0]`,
    `-A ${IPT_CHAIN} -m set --match-set ${v6 ? IPSET_V6 : IPSET_V4} dst -m comment --comment "minewatch: mining pool address" -j REJECT --reject-with ${reject}`,
    'COMMIT',
  ];
  return `${lines.join('\n')}\n`;
}

export const writeIptables = (sel: Selection): string => restoreFile(sel, false);
export const writeIp6tables = (sel: Selection): string => restoreFile(sel, true);
