/**
 * Blocklists from the intel base, one writer per format. Each writer is a pure function of a Selection
 * (select.ts: what to block) to the text of one file; applying a list to this host lives in apply.ts.
 */
import type { IntelBase } from '../../intel/index.ts';
import { writeDnsmasq } from './dnsmasq.ts';
import { writeFalco } from './falco.ts';
import { writeHosts } from './hosts.ts';
import { writeIds } from './ids.ts';
import { writeIp6tables, writeIpset, writeIptables } from './iptables.ts';
import { writeNftables } from './nftables.ts';
import { writeRpz } from './rpz.ts';
import { type BlockOptions, type Selection, selectBlocklist } from './select.ts';
import { writeSquid } from './squid.ts';
import { writeUnbound } from './unbound.ts';
import { writeYara } from './yara.ts';

export const BLOCK_FORMATS = [
  'hosts',
  'dnsmasq',
  'unbound',
  'rpz',
  'nftables',
  'iptables',
  'ip6tables',
  'ipset',
  'suricata',
  'snort',
  'falco',
  'yara',
  'squid',
] as const;
export type BlockFormat = (typeof BLOCK_FORMATS)[number];

export const FORMAT_DESCRIPTIONS: Record<BlockFormat, string> = {
  hosts: 'hosts(5) lines, 0.0.0.0 NAME, every known name',
  dnsmasq: 'dnsmasq local=/zone/ (NXDOMAIN for the zone and below)',
  unbound: 'unbound server: local-zone "zone." always_nxdomain',
  rpz: 'BIND/Knot/PowerDNS response policy zone (zone file)',
  nftables: 'nft -f script: table inet minewatch with address sets',
  iptables: 'iptables-restore --noflush: chain MINEWATCH matching ipset minewatch-v4',
  ip6tables: 'ip6tables-restore --noflush: chain MINEWATCH matching ipset minewatch-v6',
  ipset: 'ipset -exist restore: sets minewatch-v4 and minewatch-v6',
  suricata: 'Suricata 6/7 rules: DNS, TLS SNI, addresses, stratum, User-Agent',
  snort: 'Snort 2.9 rules: the same detections without Suricata buffers',
  falco: 'Falco rules file: lists + outbound-connection and miner-process rules',
  yara: 'YARA rules: pool domains, stratum markers, miner strings',
  squid: 'Squid acl dstdomain/dst + http_access deny',
};

export interface WriteOptions extends BlockOptions {
  /** RPZ SOA serial (default from the intel date). */
  serial?: number;
}

export function writeSelection(
  sel: Selection,
  format: BlockFormat,
  base: IntelBase,
  opts: WriteOptions = {},
): string {
  switch (format) {
    case 'hosts':
      return writeHosts(sel);
    case 'dnsmasq':
      return writeDnsmasq(sel);
    case 'unbound':
      return writeUnbound(sel);
    case 'rpz':
      return writeRpz(sel, opts.serial !== undefined ? { serial: opts.serial } : {});
    case 'nftables':
      return writeNftables(sel);
    case 'iptables':
      return writeIptables(sel);
    case 'ip6tables':
      return writeIp6tables(sel);
    case 'ipset':
      return writeIpset(sel);
    case 'suricata':
    case 'snort':
      return writeIds(sel, { dialect: format });
    case 'falco':
      return writeFalco(sel, {
        strongPorts: base.ports.filter((p) => p.weight === 'strong').map((p) => p.port),
      });
    case 'yara':
      return writeYara(sel);
    case 'squid':
      return writeSquid(sel);
  }
}

/** Intel base + options → the text of one blocklist file. */
export function writeBlocklist(base: IntelBase, format: BlockFormat, opts: WriteOptions = {}): string {
  return writeSelection(selectBlocklist(base, opts), format, base, opts);
}

export { SID, STRATUM_RULES } from './ids.ts';
export { type BlockOptions, headerLines, type Selection, selectBlocklist } from './select.ts';
