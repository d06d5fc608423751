/** Parsing and normalising of the names intel is keyed by: domains, IPv4/IPv6 addresses, ip:port. Pure. */
import { isIPv4 } from 'node:net';
import { remembered } from '../util/remembered.ts';

/** Lower case, no trailing dot, no surrounding space. Does not validate. */
export function normalizeDomain(name: string): string {
  let s = name.trim().toLowerCase();
  while (s.charCodeAt(s.length - 1) === 46 /* . */) s = s.slice(0, -1);
  return s;
}

const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;
const TLD = /^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$/;

/** A fully qualified name with at least two labels and an alphabetic (or punycode) TLD. */
export function isDomain(name: string): boolean {
  if (name.length === 0 || name.length > 253) return false;
  const labels = name.split('.');
  if (labels.length < 2) return false;
  const tld = labels[labels.length - 1]!;
  if (!TLD.test(tld)) return false;
  for (const l of labels) if (!LABEL.test(l)) return false;
  return true;
}

/**
 * A dotted quad exactly as node's isIPv4 accepts it (four decimal parts 0-255, no leading zeros, nothing else),
 * checked by hand: the traffic analyzer asks for every connection's server address, and the regular expression
 * behind isIPv4 was ~11 ms of the 158 MB bench capture's profile.
 */
function plainIPv4(s: string): boolean {
  const n = s.length;
  if (n < 7 || n > 15) return false;
  let parts = 0;
  let digits = 0;
  let value = 0;
  let lead = 0;
  for (let i = 0; i <= n; i++) {
    const c = i < n ? s.charCodeAt(i) : 0x2e;
    if (c === 0x2e) {
      if (digits === 0 || value > 255 || (digits > 1 && lead === 0x30) || ++parts > 4) return false;
      digits = 0;
      value = 0;
    } else if (c >= 0x30 && c <= 0x39) {
      if (digits === 0) lead = c;
      if (++digits > 3) return false;
      value = value * 10 + (c - 0x30);
    } else return false;
  }
  return parts === 4;
}

/** IPv6 text → its canonical form, for the addresses a capture repeats (a URL parse each, several µs). */
const ipv6Canonical = remembered((s: string): string | null => {
  try {
    return new URL(`http://[${s}]/`).hostname.slice(1, -1);
  } catch {
    return null;
  }
}, 4096);

/** Only these characters can make an IPv6 address without a zone; they also keep `]`, `/` and `#` out of the URL. */
const IPV6_CHARS = /^[0-9A-Fa-f:.]+$/;

/**
 * Canonical IP text: IPv4 as-is, IPv6 lower-case and compressed by the URL parser, which also decides whether it
 * is one (WHATWG's IPv6 parser accepts exactly what node's isIPv6 does on these characters: normalize.test.ts
 * compares them). node's isIPv6 is not used: its first call compiles a large regular expression, 8 ms of every
 * capture with an IPv6 address.
 */
export function normalizeIp(ip: string): string | undefined {
  if (plainIPv4(ip)) return ip;
  const s = ip.trim();
  if (isIPv4(s)) return s;
  if (s.includes(':') && IPV6_CHARS.test(s)) return ipv6Canonical(s) ?? undefined;
  return undefined;
}

export interface HostPort {
  host: string;
  kind: 'domain' | 'ip';
  port?: number;
}

function parsePort(s: string): number | undefined {
  if (!/^\d{1,5}$/.test(s)) return undefined;
  const n = Number(s);
  return n >= 1 && n <= 65535 ? n : undefined;
}

/**
 * Parses `domain`, `ip`, `ip:port`, `domain:port`, `[v6]:port` or a bare IPv6 address.
 * Returns undefined for anything else (URLs with paths are the caller's business).
 */
export function parseHostPort(text: string): HostPort | undefined {
  const s = text.trim();
  if (s.length === 0) return undefined;
  if (s.startsWith('[')) {
    const end = s.indexOf(']');
    if (end < 0) return undefined;
    const ip = normalizeIp(s.slice(1, end));
    if (!ip) return undefined;
    const rest = s.slice(end + 1);
    if (rest === '') return { host: ip, kind: 'ip' };
    if (!rest.startsWith(':')) return undefined;
    const port = parsePort(rest.slice(1));
    return port === undefined ? undefined : { host: ip, kind: 'ip', port };
  }
  const v6 = normalizeIp(s);
  if (v6) return { host: v6, kind: 'ip' };
  const colon = s.lastIndexOf(':');
  let hostPart = s;
  let port: number | undefined;
  if (colon >= 0) {
    port = parsePort(s.slice(colon + 1));
    if (port === undefined) return undefined;
    hostPart = s.slice(0, colon);
  }
  const ip = normalizeIp(hostPart);
  if (ip) return port === undefined ? { host: ip, kind: 'ip' } : { host: ip, kind: 'ip', port };
  const d = normalizeDomain(hostPart);
  if (!isDomain(d)) return undefined;
  return port === undefined ? { host: d, kind: 'domain' } : { host: d, kind: 'domain', port };
}

/**
 * Second-level suffixes under which registrations happen one label deeper. Not the whole Public Suffix
 * List: just the ones that occur in mining intel, so operator grouping does not lump `gntl.co.uk` with
 * every other `.co.uk` name. Shared DNS zones (ddns.net ...) are passed in by the caller from exclusions.
 */
const MULTI_LABEL_SUFFIXES = new Set([
  'co.uk',
  'org.uk',
  'com.de',
  'com.cn',
  'net.cn',
  'org.cn',
  'com.au',
  'co.jp',
  'com.br',
  'inf.br',
  'com.ru',
  'co.kr',
  'com.tw',
  'com.hk',
]);

/** The name an operator registered: `xmr-eu1.nanopool.org` → `nanopool.org`; `a.b.ddns.net` → `b.ddns.net`. */
export function registrableDomain(name: string, sharedZones?: ReadonlySet<string>): string {
  const labels = name.split('.');
  if (labels.length <= 2) return name;
  for (let i = labels.length - 2; i >= 1; i--) {
    const suffix = labels.slice(i).join('.');
    if (MULTI_LABEL_SUFFIXES.has(suffix) || sharedZones?.has(suffix)) {
      return labels.slice(i - 1).join('.');
    }
  }
  return labels.slice(-2).join('.');
}
