/**
 * Proxy handshakes that name where a connection really goes: HTTP CONNECT (RFC 9110 §9.3.6), SOCKS5
 * (RFC 1928, with RFC 1929 username/password) and SOCKS4/4a. xmrig and its forks take `--proxy` (SOCKS5) and
 * hosts behind a corporate or cloud egress proxy reach pools through CONNECT; either way the pool host and
 * port travel in clear before the tunnelled stream (stratum, or TLS with its SNI) begins.
 *
 * Pure: the two directions of one TCP stream in, the target and the first tunnelled bytes of each direction
 * out. A handshake is at most a few hundred bytes; anything longer or malformed is 'not-proxy'.
 */

import { formatIp } from '../pcap/decode.ts';
import { latin1 } from './bytes.ts';

export type ProxyProtocol = 'http-connect' | 'socks4' | 'socks5';

export interface ProxyTarget {
  protocol: ProxyProtocol;
  /** A name the client asked for (HTTP CONNECT, SOCKS5 domain, SOCKS4a). */
  host?: string;
  /** An address the client asked for (SOCKS4, SOCKS5 IPv4/IPv6, CONNECT to a literal). */
  ip?: string;
  port: number;
}

export type ProxyStep =
  | { status: 'need-more' }
  | { status: 'not-proxy' }
  /** The client's handshake is complete: it asked for `target`; `rest` is what it sent after (tunnelled). */
  | { status: 'request'; target: ProxyTarget; rest: Uint8Array }
  /** The proxy refused the request (a non-2xx CONNECT answer, a SOCKS failure code). */
  | { status: 'refused'; target: ProxyTarget; reason: string }
  /** The proxy's handshake is complete (or this direction already was): `rest` is tunnelled bytes. */
  | { status: 'open'; rest: Uint8Array };

const EMPTY: Uint8Array = new Uint8Array(0);

/** Bytes of one direction's handshake we buffer before deciding it is not one. */
const MAX_HANDSHAKE = 2048;

const CONNECT = [0x43, 0x4f, 0x4e, 0x4e, 0x45, 0x43, 0x54, 0x20]; // "CONNECT "

/** Which proxy handshake a client's first bytes start, if any. */
export function looksLikeProxyStart(d: Uint8Array): ProxyProtocol | null {
  if (d.length >= 8 && CONNECT.every((c, i) => d[i] === c)) return 'http-connect';
  // SOCKS5 greeting: version 5, 1-9 methods, each one a known method (no auth, GSSAPI, user/pass, or the
  // private range); the whole greeting in the first segment, as clients send it.
  if (d[0] === 5 && d.length >= 3) {
    const n = d[1]!;
    if (n < 1 || n > 9 || d.length < 2 + n) return null;
    for (let i = 0; i < n; i++) {
      const m = d[2 + i]!;
      if (m > 2 && m < 0x80) return null;
    }
    return 'socks5';
  }
  // SOCKS4 CONNECT: version 4, command 1, a port, an address, a NUL-terminated user id.
  if (d[0] === 4 && d[1] === 1 && d.length >= 9 && d.length <= MAX_HANDSHAKE && d.indexOf(0, 8) >= 8) {
    return u16(d, 2) !== 0 ? 'socks4' : null;
  }
  return null;
}

/** One proxied TCP stream's handshake, both directions. */
export class ProxyHandshake {
  readonly protocol: ProxyProtocol;
  target: ProxyTarget | undefined;
  private readonly buf: { c2s: Uint8Array; s2c: Uint8Array } = { c2s: EMPTY, s2c: EMPTY };
  private readonly done = { c2s: false, s2c: false };
  /** SOCKS5: the server chose username/password, so its answer to that comes before the request's. */

  constructor(protocol: ProxyProtocol) {
    this.protocol = protocol;
  }

  /** Whether a direction has reached its tunnelled bytes. */
  isOpen(dir: 'c2s' | 's2c'): boolean {
    return this.done[dir];
  }

  push(dir: 'c2s' | 's2c', data: Uint8Array): ProxyStep {
    if (this.done[dir]) return { status: 'open', rest: data };
    const prev = this.buf[dir];
    const b = prev.length ? Buffer.concat([prev, data]) : data;
    const step =
      this.protocol === 'http-connect'
        ? this.http(dir, b)
        : this.protocol === 'socks5'
          ? this.socks5(dir, b)
          : this.socks4(dir, b);
    if (step.status === 'need-more') {
      if (b.length > MAX_HANDSHAKE) return { status: 'not-proxy' };
      this.buf[dir] = b === data ? data.slice() : b;
    } else this.buf[dir] = EMPTY;
    return step;
  }

  private request(target: ProxyTarget, rest: Uint8Array): ProxyStep {
    this.target = target;
    this.done.c2s = true;
    return { status: 'request', target, rest };
  }

  private open(b: Uint8Array, at: number): ProxyStep {
    this.done.s2c = true;
    return { status: 'open', rest: b.subarray(at) };
  }

  private http(dir: 'c2s' | 's2c', b: Uint8Array): ProxyStep {
    const end = headEnd(b);
    if (end < 0) return { status: 'need-more' };
    const head = latin1(b.subarray(0, end));
    const line = head.slice(0, head.indexOf('\r\n'));
    if (dir === 'c2s') {
      const m = /^CONNECT (\S+) HTTP\/1\.[01]$/.exec(line);
      const t = m ? authority(m[1]!) : undefined;
      if (!t) return { status: 'not-proxy' };
      return this.request({ protocol: 'http-connect', ...t }, b.subarray(end));
    }
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(line);
    if (!m) return { status: 'not-proxy' };
    const code = Number(m[1]);
    if (code < 200 || code > 299) return this.refuse(`the proxy answered ${line.slice(0, 80)}`);
    return this.open(b, end);
  }

  private refuse(reason: string): ProxyStep {
    if (!this.target) return { status: 'not-proxy' };
    return { status: 'refused', target: this.target, reason };
  }

  /** Re-read from the start of the direction's buffered bytes each time: the handshake is a few dozen bytes. */
  private socks5(dir: 'c2s' | 's2c', b: Uint8Array): ProxyStep {
    if (dir === 'c2s') {
      // Greeting, then either username/password (version 1) or the request (version 5).
      if (b.length < 2 || b.length < 2 + b[1]!) return { status: 'need-more' };
      let at = 2 + b[1]!;
      if (b.length <= at) return { status: 'need-more' };
      if (b[at] === 1) {
        if (b.length < at + 2) return { status: 'need-more' };
        const ulen = b[at + 1]!;
        if (b.length < at + 3 + ulen) return { status: 'need-more' };
        at += 3 + ulen + b[at + 2 + ulen]!;
        if (b.length <= at) return { status: 'need-more' };
      }
      if (b[at] !== 5) return { status: 'not-proxy' };
      if (b.length < at + 4) return { status: 'need-more' };
      if (b[at + 1] !== 1) return { status: 'not-proxy' }; // BIND and UDP ASSOCIATE carry no stream to a pool
      const a = socksAddress(b, at + 3);
      if (a === null) return { status: 'not-proxy' };
      if (a === undefined) return { status: 'need-more' };
      return this.request({ protocol: 'socks5', ...a.addr, port: u16(b, a.end) }, b.subarray(a.end + 2));
    }
    // Method choice, the username/password verdict when that method was chosen, then the reply.
    if (b.length < 2) return { status: 'need-more' };
    if (b[0] !== 5) return { status: 'not-proxy' };
    if (b[1] === 0xff) return this.refuse('the SOCKS5 proxy accepted none of the offered methods');
    let at = 2;
    if (b[1] === 2) {
      if (b.length < 4) return { status: 'need-more' };
      if (b[3] !== 0) return this.refuse('the SOCKS5 proxy refused the username and password');
      at = 4;
    }
    if (b.length < at + 4) return { status: 'need-more' };
    if (b[at] !== 5) return { status: 'not-proxy' };
    const a = socksAddress(b, at + 3);
    if (a === null) return { status: 'not-proxy' };
    if (a === undefined) return { status: 'need-more' };
    const rep = b[at + 1]!;
    if (rep !== 0) return this.refuse(`the SOCKS5 proxy answered ${SOCKS5_REPLIES[rep] ?? `code ${rep}`}`);
    return this.open(b, a.end + 2);
  }

  private socks4(dir: 'c2s' | 's2c', b: Uint8Array): ProxyStep {
    if (dir === 'c2s') {
      const nul = b.indexOf(0, 8);
      if (nul < 0) return { status: 'need-more' };
      const port = u16(b, 2);
      // SOCKS4a: an address 0.0.0.x (x != 0) means a host name follows the user id.
      const is4a = b[4] === 0 && b[5] === 0 && b[6] === 0 && b[7] !== 0;
      let end = nul + 1;
      let host: string | undefined;
      if (is4a) {
        const nul2 = b.indexOf(0, end);
        if (nul2 < 0) return { status: 'need-more' };
        host = latin1(b.subarray(end, nul2));
        if (!isHostName(host)) return { status: 'not-proxy' };
        end = nul2 + 1;
      }
      return this.request(
        host
          ? { protocol: 'socks4', host, port }
          : { protocol: 'socks4', ip: `${b[4]}.${b[5]}.${b[6]}.${b[7]}`, port },
        b.subarray(end),
      );
    }
    if (b.length < 8) return { status: 'need-more' };
    if (b[0] !== 0) return { status: 'not-proxy' };
    if (b[1] !== 0x5a) return this.refuse(`the SOCKS4 proxy answered code ${b[1]}`);
    return this.open(b, 8);
  }
}

const SOCKS5_REPLIES: Record<number, string> = {
  1: 'general failure',
  2: 'connection not allowed by ruleset',
  3: 'network unreachable',
  4: 'host unreachable',
  5: 'connection refused',
  6: 'TTL expired',
  7: 'command not supported',
  8: 'address type not supported',
};

/**
 * A SOCKS5 address (type byte, address) at b[at]: the address and where the port starts; undefined when more
 * bytes are needed, null when the type is not one of the three.
 */
function socksAddress(
  b: Uint8Array,
  at: number,
): { addr: { host: string } | { ip: string }; end: number } | undefined | null {
  if (b.length <= at) return undefined;
  const t = b[at]!;
  if (t === 1) {
    if (b.length < at + 5 + 2) return undefined;
    return { addr: { ip: `${b[at + 1]}.${b[at + 2]}.${b[at + 3]}.${b[at + 4]}` }, end: at + 5 };
  }
  if (t === 3) {
    if (b.length < at + 2) return undefined;
    const n = b[at + 1]!;
    if (b.length < at + 2 + n + 2) return undefined;
    const host = latin1(b.subarray(at + 2, at + 2 + n));
    return isHostName(host) ? { addr: { host }, end: at + 2 + n } : null;
  }
  if (t === 4) {
    if (b.length < at + 17 + 2) return undefined;
    return { addr: { ip: formatIp(b, at + 1, 6) }, end: at + 17 };
  }
  return null;
}

/**
 * host:port or [v6]:port, the target of an HTTP CONNECT request (its request line, or the URI a proxy or IDS
 * log records for it).
 */
export function authority(
  s: string,
): { host: string; port: number } | { ip: string; port: number } | undefined {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:\s/@]+)):(\d{1,5})$/.exec(s);
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return undefined;
  if (m[1]) return { ip: m[1].toLowerCase(), port };
  const h = m[2]!.toLowerCase();
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(h)) return { ip: h, port };
  return isHostName(h) ? { host: h, port } : undefined;
}

function isHostName(h: string): boolean {
  return h.length > 0 && h.length <= 253 && /^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?$/.test(h);
}

/** Offset just past the blank line ending an HTTP head, or -1. */
function headEnd(b: Uint8Array): number {
  for (let i = 3; i < b.length; i++)
    if (b[i] === 0x0a && b[i - 1] === 0x0d && b[i - 2] === 0x0a && b[i - 3] === 0x0d) return i + 1;
  return -1;
}

function u16(b: Uint8Array, i: number): number {
  return (b[i]! << 8) | b[i + 1]!;
}
