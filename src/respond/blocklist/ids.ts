/**
 * Suricata (6/7) and Snort 2.9 rules: DNS queries for pool zones, TLS SNI of pool zones, traffic to pool
 * addresses, stratum protocol content (both directions) and miner HTTP User-Agents from intel.
 *
 * SIDs live in 9_496_000-9_599_999 (documented in docs and the header):
 *   9_496_000-9_496_049 stratum content rules (fixed list, never renumbered)
 *   9_496_050-9_496_099 miner User-Agent rules (intel user_agents, sorted)
 *   9_496_100-9_496_199 address groups;  9_496_200-9_496_299 pass rules for excepted names
 *   9_500_000-9_549_999 DNS query per zone; 9_550_000-9_599_999 TLS SNI per zone (same offset as its DNS rule)
 * A zone's SID comes from a hash of its name (linear probing in sorted order on collision), so adding a pool
 * to the intel leaves the other zones' SIDs, and so everyone's suppressions and thresholds, as they were.
 */
import { commentHeader, type Selection } from './select.ts';

export type IdsDialect = 'suricata' | 'snort';

export const SID = {
  stratum: 9_496_000,
  userAgent: 9_496_050,
  addresses: 9_496_100,
  pass: 9_496_200,
  dns: 9_500_000,
  tls: 9_550_000,
  zoneSlots: 50_000,
  max: 9_599_999,
} as const;

/** Bytes a content string cannot hold literally (quote, semicolon, backslash, pipe, non-printables) and colon, hex-escaped as ET rules do. */
export function contentLiteral(s: string): string {
  let out = '';
  let hex: string[] = [];
  const flush = () => {
    if (hex.length) out += `|${hex.join(' ')}|`;
    hex = [];
  };
  for (const b of Buffer.from(s, 'utf8')) {
    if (b < 0x20 || b > 0x7e || b === 0x22 || b === 0x3a || b === 0x3b || b === 0x5c || b === 0x7c) {
      hex.push(b.toString(16).padStart(2, '0'));
    } else {
      flush();
      out += String.fromCharCode(b);
    }
  }
  flush();
  return out;
}

/** msg text: the characters a rule parser would take as syntax are escaped with a backslash. */
function msgText(s: string): string {
  return s.replace(/[\\";]/g, (c) => `\\${c}`);
}

/** DNS wire form of a name, as Snort sees it in a query: `|08|nanopool|03|org|00|`. */
export function dnsLabels(name: string): string {
  return `${name
    .split('.')
    .map((l) => `|${l.length.toString(16).padStart(2, '0')}|${contentLiteral(l)}`)
    .join('')}|00|`;
}

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** Stable slot per zone: hash, then the next free slot if another zone took it. */
export function zoneSlots(zones: readonly string[]): Map<string, number> {
  if (zones.length > SID.zoneSlots) throw new Error(`too many zones for the SID range (${zones.length})`);
  const taken = new Set<number>();
  const out = new Map<string, number>();
  for (const z of zones) {
    let slot = fnv1a(z) % SID.zoneSlots;
    while (taken.has(slot)) slot = (slot + 1) % SID.zoneSlots;
    taken.add(slot);
    out.set(z, slot);
  }
  return out;
}

interface StratumRule {
  msg: string;
  toServer: boolean;
  contents: string[];
}

/**
 * Stratum markers, in order of their SIDs (append only). JSON-RPC as miners send it: XMRig and its kin
 * (`"method":"login"` with `"agent"`), Stratum v1 for Bitcoin-style and Ethash pools, and the pool's job
 * pushes back to the miner.
 */
export const STRATUM_RULES: readonly StratumRule[] = [
  {
    msg: 'stratum login (XMRig/CryptoNote JSON-RPC)',
    toServer: true,
    contents: ['"method":"login"', '"params"'],
  },
  { msg: 'stratum mining.subscribe', toServer: true, contents: ['"mining.subscribe"'] },
  { msg: 'stratum mining.authorize', toServer: true, contents: ['"mining.authorize"'] },
  { msg: 'stratum eth_submitLogin (Ethash proxy)', toServer: true, contents: ['"eth_submitLogin"'] },
  { msg: 'XMRig agent in stratum login', toServer: true, contents: ['"agent":"XMRig'] },
  { msg: 'stratum share submit (CryptoNote)', toServer: true, contents: ['"method":"submit"', '"job_id"'] },
  { msg: 'stratum keepalive (XMRig)', toServer: true, contents: ['"method":"keepalived"'] },
  {
    msg: 'stratum mining.extranonce.subscribe (NiceHash)',
    toServer: true,
    contents: ['"mining.extranonce.subscribe"'],
  },
  { msg: 'stratum job pushed by pool (CryptoNote)', toServer: false, contents: ['"method":"job"', '"blob"'] },
  { msg: 'stratum mining.notify pushed by pool', toServer: false, contents: ['"mining.notify"'] },
  { msg: 'stratum eth_getWork', toServer: true, contents: ['"eth_getWork"'] },
];

export interface IdsOptions {
  dialect: IdsDialect;
  /** Addresses per address-group rule: keeps each rule's header a sane length. */
  groupSize?: number;
}

export function writeIds(sel: Selection, opts: IdsOptions): string {
  const snort = opts.dialect === 'snort';
  // Suricata 7 ships classtype coin-mining; Snort 2.9's classification.config does not.
  const classtype = snort ? 'policy-violation' : 'coin-mining';
  const meta = 'metadata:mitre_tactic_id TA0040, mitre_technique_id T1496, created_by minewatch;';
  const tail = (sid: number) => `classtype:${classtype}; ${meta} sid:${sid}; rev:1;`;
  const rules: string[] = [];

  STRATUM_RULES.forEach((r, i) => {
    const flow = `flow:established,${r.toServer ? 'to_server' : 'to_client'};`;
    const dir = r.toServer ? '$HOME_NET any -> $EXTERNAL_NET any' : '$EXTERNAL_NET any -> $HOME_NET any';
    const contents = r.contents.map((c) => `content:"${contentLiteral(c)}";`).join(' ');
    rules.push(
      `alert tcp ${dir} (msg:"minewatch: ${msgText(r.msg)}"; ${flow} ${contents} ${tail(SID.stratum + i)})`,
    );
  });

  const uas = [...new Set(sel.uaPrefixes)].slice(0, 50);
  uas.forEach((ua, i) => {
    const sid = SID.userAgent + i;
    const msg = `msg:"minewatch: miner HTTP User-Agent ${msgText(ua.trim())}";`;
    rules.push(
      snort
        ? `alert tcp $HOME_NET any -> $EXTERNAL_NET $HTTP_PORTS (${msg} flow:established,to_server; content:"User-Agent|3a| ${contentLiteral(ua)}"; http_header; ${tail(sid)})`
        : `alert http $HOME_NET any -> $EXTERNAL_NET any (${msg} flow:established,to_server; http.user_agent; content:"${contentLiteral(ua)}"; startswith; ${tail(sid)})`,
    );
  });

  const ips = [...sel.ipv4, ...sel.ipv6];
  const size = opts.groupSize ?? 100;
  const groups = Math.ceil(ips.length / size);
  if (groups > 100) throw new Error(`too many address groups for the SID range (${groups})`);
  for (let g = 0; g < groups; g++) {
    const list = ips.slice(g * size, (g + 1) * size).join(',');
    rules.push(
      `alert ip $HOME_NET any -> [${list}] any (msg:"minewatch: traffic to mining pool address (group ${g + 1} of ${groups})"; threshold:type limit, track by_src, count 1, seconds 600; ${tail(SID.addresses + g)})`,
    );
  }

  const slots = zoneSlots(sel.zones);
  for (const z of sel.zones) {
    const slot = slots.get(z)!;
    const what = `mining pool zone ${z}`;
    if (snort) {
      // No DNS or TLS buffers in Snort 2.9: match the query's wire-form labels after the 12-byte header,
      // and the name inside a raw ClientHello (record type 0x16, handshake type 1).
      rules.push(
        `alert udp $HOME_NET any -> any 53 (msg:"minewatch: DNS query for ${what}"; content:"${dnsLabels(z)}"; offset:12; nocase; ${tail(SID.dns + slot)})`,
        `alert tcp $HOME_NET any -> $EXTERNAL_NET any (msg:"minewatch: TLS SNI of ${what}"; flow:established,to_server; content:"|16 03|"; depth:2; content:"|01|"; offset:5; depth:1; content:"${contentLiteral(z)}"; nocase; pcre:"/[^a-z0-9_-]${escapeRegex(z)}/i"; ${tail(SID.tls + slot)})`,
      );
    } else {
      rules.push(
        `alert dns $HOME_NET any -> any any (msg:"minewatch: DNS query for ${what}"; dns.query; dotprefix; content:".${contentLiteral(z)}"; nocase; endswith; ${tail(SID.dns + slot)})`,
        `alert tls $HOME_NET any -> $EXTERNAL_NET any (msg:"minewatch: TLS SNI of ${what}"; flow:established,to_server; tls.sni; dotprefix; content:".${contentLiteral(z)}"; nocase; endswith; ${tail(SID.tls + slot)})`,
      );
    }
  }

  if (sel.exceptions.length > 100) throw new Error('too many excepted names for the SID range');
  sel.exceptions.forEach((e, i) => {
    const msg = `msg:"minewatch: excepted name ${e}";`;
    rules.push(
      snort
        ? `pass udp $HOME_NET any -> any 53 (${msg} content:"${dnsLabels(e)}"; offset:12; nocase; sid:${SID.pass + i}; rev:1;)`
        : `pass dns $HOME_NET any -> any any (${msg} dns.query; dotprefix; content:".${contentLiteral(e)}"; nocase; endswith; sid:${SID.pass + i}; rev:1;)`,
    );
  });

  const head = commentHeader(sel, opts.dialect, '#', true);
  const sidNote = `# SIDs 9496000-9599999: stratum 9496000+, User-Agents 9496050+, address groups 9496100+, pass 9496200+, DNS 9500000+, TLS SNI 9550000+ (same offset per zone)`;
  return `${head}\n${sidNote}\n${rules.join('\n')}\n`;
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
