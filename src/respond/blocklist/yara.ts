/**
 * YARA rules for miner binaries, scripts and configs: pool names (in groups, so each rule stays well
 * inside YARA's per-rule limits and a hit names a small group), stratum markers, and miner strings from
 * the intel. Strong markers fire alone; medium ones (a bare "xmrig", "cryptonight") need a second.
 */
import type { MinerMarker } from '../../intel/index.ts';
import { commentHeader, type Selection } from './select.ts';

export const YARA_GROUP = 50;

/** A YARA text string: backslash, quote and anything outside printable ASCII as escapes. */
export function yaraString(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    if (b === 0x22) out += '\\"';
    else if (b === 0x5c) out += '\\\\';
    else if (b < 0x20 || b > 0x7e) out += `\\x${b.toString(16).padStart(2, '0')}`;
    else out += String.fromCharCode(b);
  }
  return `"${out}"`;
}

/** A marker regex as a YARA regex literal; the delimiter is escaped, the rest is shared syntax. */
function yaraRegex(re: string): string {
  return `/${re.replace(/(\\*)\//g, (m, bs: string) => (bs.length % 2 === 0 ? `${bs}\\/` : m))}/`;
}

/** Stratum markers that only mining code carries. */
export const STRATUM_MARKERS = [
  'stratum+tcp://',
  'stratum+ssl://',
  'stratum+tls://',
  'stratum2+tcp://',
  '"method":"login"',
  '"mining.subscribe"',
  '"mining.authorize"',
  '"mining.submit"',
  '"eth_submitLogin"',
  '"method":"keepalived"',
];

function meta(desc: string): string[] {
  return [
    '  meta:',
    `    description = ${yaraString(desc)}`,
    '    author = "minewatch"',
    '    mitre_attack = "T1496"',
  ];
}

function rule(name: string, desc: string, strings: string[], condition: string): string {
  return [
    `rule ${name}`,
    '{',
    ...meta(desc),
    '  strings:',
    ...strings.map((s) => `    ${s}`),
    '  condition:',
    `    ${condition}`,
    '}',
  ].join('\n');
}

function markerString(id: string, m: MinerMarker): string {
  return m.match === 'regex'
    ? `$${id} = ${yaraRegex(m.value)}`
    : `$${id} = ${yaraString(m.value)} ascii wide`;
}

export function writeYara(sel: Selection): string {
  const rules: string[] = [];
  const groups = Math.ceil(sel.zones.length / YARA_GROUP);
  for (let g = 0; g < groups; g++) {
    const zones = sel.zones.slice(g * YARA_GROUP, (g + 1) * YARA_GROUP);
    rules.push(
      rule(
        `minewatch_pool_domains_${String(g + 1).padStart(2, '0')}`,
        `Mining pool domain, group ${g + 1} of ${groups} (${zones[0]} .. ${zones[zones.length - 1]})`,
        zones.map((z, i) => `$d${i} = ${yaraString(z)} ascii wide nocase`),
        'any of them',
      ),
    );
  }
  rules.push(
    rule(
      'minewatch_stratum_markers',
      'Stratum mining protocol strings',
      STRATUM_MARKERS.map((m, i) => `$s${i} = ${yaraString(m)} ascii wide`),
      'any of them',
    ),
  );
  const strong = sel.minerStrings.filter((m) => m.weight === 'strong');
  const weaker = sel.minerStrings.filter((m) => m.weight !== 'strong');
  const ua = sel.uaPrefixes.map((u) => `User-Agent: ${u}`);
  if (strong.length + ua.length > 0)
    rules.push(
      rule(
        'minewatch_miner_strings',
        'Strings of miner binaries and scripts (strong markers and miner User-Agents)',
        [
          ...strong.map((m, i) => markerString(`m${i}`, m)),
          ...ua.map((u, i) => `$u${i} = ${yaraString(u)} ascii wide`),
        ],
        'any of them',
      ),
    );
  if (weaker.length >= 2)
    rules.push(
      rule(
        'minewatch_miner_strings_weak',
        'Two or more weaker miner strings together',
        weaker.map((m, i) => markerString(`w${i}`, m)),
        '2 of them',
      ),
    );
  return `${commentHeader(sel, 'yara', '//', true)}\n\n${rules.join('\n\n')}\n`;
}
