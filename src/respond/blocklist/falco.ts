/**
 * Falco rules file: lists of pool names, pool addresses, pool ports and miner binaries, and three rules
 * (connection to a pool by name or address, connection to a stratum port, miner process started). All
 * names carry a minewatch_ prefix, so the file loads beside Falco's own rules without clashing, and the
 * macros it needs are defined here rather than borrowed from falco_rules.yaml.
 *
 * fd.sip.name matches the exact name Falco saw resolved, so the domain list holds every known name, not
 * just the zones. Ports alone are weak evidence: only ports the intel rates strong go into the port rule.
 */
import { commentHeader, type Selection } from './select.ts';

/** A YAML double-quoted scalar; JSON's string syntax is valid YAML. */
const q = (s: string) => JSON.stringify(s);

function list(name: string, items: Array<string | number>): string {
  if (items.length === 0) return `- list: ${name}\n  items: []`;
  const body = items.map((i) => `    ${typeof i === 'number' ? String(i) : q(i)}`).join(',\n');
  return `- list: ${name}\n  items: [\n${body}\n  ]`;
}

export interface FalcoOptions {
  /** Ports that on their own suggest mining (intel ports of weight strong). */
  strongPorts: number[];
}

export function writeFalco(sel: Selection, opts: FalcoOptions): string {
  const tags = '[host, container, network, mitre_impact, T1496]';
  const procTags = '[host, container, process, mitre_impact, T1496]';
  const out = [
    commentHeader(sel, 'falco', '#', true),
    list('minewatch_miner_domains', sel.names),
    list('minewatch_miner_addresses', [...sel.ipv4, ...sel.ipv6]),
    list('minewatch_miner_ports', opts.strongPorts),
    list('minewatch_miner_binaries', sel.binaries),
    `- macro: minewatch_outbound
  condition: (evt.type in (connect, sendto, sendmsg) and evt.dir=< and fd.l4proto in (tcp, udp) and fd.sockfamily=ip and not fd.snet in ("127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))`,
    `- macro: minewatch_spawned_process
  condition: (evt.type in (execve, execveat) and evt.dir=<)`,
    `- rule: Outbound connection to mining pool (minewatch)
  desc: A process connected to a known mining pool, by name or address (minewatch intel).
  condition: minewatch_outbound and (fd.sip.name in (minewatch_miner_domains) or fd.sip in (minewatch_miner_addresses))
  output: Outbound connection to mining pool (proc=%proc.name cmdline=%proc.cmdline connection=%fd.name server=%fd.sip.name user=%user.name container=%container.id image=%container.image.repository)
  priority: CRITICAL
  tags: ${tags}`,
    `- rule: Outbound connection to stratum port (minewatch)
  desc: A process connected to a port that mining pools use and little else does (minewatch intel, strong ports only).
  condition: minewatch_outbound and fd.sport in (minewatch_miner_ports)
  output: Outbound connection to stratum port (proc=%proc.name cmdline=%proc.cmdline connection=%fd.name user=%user.name container=%container.id image=%container.image.repository)
  priority: WARNING
  tags: ${tags}`,
    `- rule: Cryptocurrency miner launched (minewatch)
  desc: A process with the name of a known miner started (minewatch intel).
  condition: minewatch_spawned_process and proc.name in (minewatch_miner_binaries)
  output: Cryptocurrency miner launched (proc=%proc.name exe=%proc.exepath cmdline=%proc.cmdline parent=%proc.pname user=%user.name container=%container.id image=%container.image.repository)
  priority: CRITICAL
  tags: ${procTags}`,
  ];
  return `${out.join('\n\n')}\n`;
}
