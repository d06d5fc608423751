/**
 * nftables: a dedicated `table inet minewatch` with one set per address family and output/forward chains
 * that reject traffic to the sets. The script starts with `table inet minewatch` + `delete table inet
 * minewatch`, so `nft -f FILE` replaces an earlier version atomically and applying twice changes nothing;
 * no other table is touched, and `nft delete table inet minewatch` undoes it.
 */
import { commentHeader, type Selection } from './select.ts';

export const NFT_TABLE = 'minewatch';
export const NFT_FAMILY = 'inet';

function elements(ips: string[]): string[] {
  if (ips.length === 0) return [];
  // One element per line keeps diffs of a regenerated list readable.
  return ['    elements = {', ...ips.map((ip, i) => `      ${ip}${i < ips.length - 1 ? ',' : ''}`), '    }'];
}

export function writeNftables(sel: Selection): string {
  const rule = (fam: 'ip' | 'ip6', set: string) =>
    `    ${fam} daddr @${set} counter reject with icmpx type admin-prohibited comment "minewatch: mining pool address"`;
  const chain = (name: string, hook: string) => [
    `  chain ${name} {`,
    `    type filter hook ${hook} priority filter; policy accept;`,
    rule('ip', 'pool_v4'),
    rule('ip6', 'pool_v6'),
    '  }',
  ];
  const lines = [
    commentHeader(sel, 'nftables', '#'),
    '# Load with `nft -f FILE`; remove with `nft delete table inet minewatch`.',
    `table ${NFT_FAMILY} ${NFT_TABLE}`,
    `delete table ${NFT_FAMILY} ${NFT_TABLE}`,
    `table ${NFT_FAMILY} ${NFT_TABLE} {`,
    '  set pool_v4 {',
    '    type ipv4_addr',
    ...elements(sel.ipv4),
    '  }',
    '  set pool_v6 {',
    '    type ipv6_addr',
    ...elements(sel.ipv6),
    '  }',
    ...chain('output', 'output'),
    // Containers and VMs on the host reach the pools through forward, not output.
    ...chain('forward', 'forward'),
    '}',
  ];
  return `${lines.join('\n')}\n`;
}
