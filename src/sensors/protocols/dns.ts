/**
 * DNS message dissector (RFC 1035, AAAA from RFC 3596).
 *
 * Miners resolve their pool before they connect, so a DNS answer is often the only place where a pool's
 * name and the IP the miner then talks to appear together (coinhive-stratum.pcap: `la01.supportxmr.com →
 * 192.110.160.114`). We decode the header, the question section and the answer section; A, AAAA,
 * CNAME/NS/PTR (a name), MX and TXT get readable data, other types keep only their type number.
 *
 * Everything here is bytes in, records out. Input is hostile: every read is bounds-checked, name
 * compression pointers may only point backwards and are followed a bounded number of times, names are
 * capped at 255 octets and 128 labels, and record counts are capped, so a crafted packet costs at most a
 * few thousand steps.
 */

export const DNS_TYPE = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
  HTTPS: 65,
} as const;

export interface DnsQuestion {
  /** Lowercased, without the trailing dot; the root is ''. */
  name: string;
  qtype: number;
  qclass: number;
}

export interface DnsAnswer {
  name: string;
  type: number;
  ttl: number;
  /** A: dotted quad; AAAA: RFC 5952 text; CNAME/NS/PTR: the target name; MX: "pref name"; TXT: strings
   *  joined with a space; any other type: ''. */
  data: string;
}

export interface DnsMessage {
  id: number;
  /** true for a response. */
  qr: boolean;
  opcode: number;
  /** Truncated flag (TC): the answer continues over TCP. */
  tc: boolean;
  rcode: number;
  questions: DnsQuestion[];
  answers: DnsAnswer[];
  /** Set when the answer section was cut short or malformed; the records before that point are kept. */
  partial?: boolean;
}

const MAX_NAME_OCTETS = 255;
const MAX_LABELS = 128;
/** A legitimate name needs at most one jump per label; 32 is plenty and stops pointer chains early. */
const MAX_POINTER_JUMPS = 32;
/** Caps on section sizes: a real DNS message carries a handful; the header counts are attacker-chosen. */
const MAX_QUESTIONS = 32;
const MAX_ANSWERS = 256;
const MAX_TXT_CHARS = 1024;

/** Where the last name read by readName ended (see readName): a module variable rather than an object a name. */
let nameNext = 0;
/**
 * A name's text is written here byte by byte and cut out as one latin1 string: one string a name, where a
 * string grown char by char per label and the labels joined made DNS the largest source of garbage of the
 * 158 MB bench capture's analysis (~2 KB a datagram). 255 octets, each escaped at most to 4 bytes, plus dots.
 */
const NAME_TEXT = Buffer.alloc(2048) as Buffer & { latin1Slice(start: number, end: number): string };

/**
 * Reads a possibly compressed name at `off`, within `buf[0, end)`; null when malformed. `nameNext` is then the
 * offset just after the name as it sits at `off` (after the first pointer, if any). Pointers must point strictly
 * before the pointer itself (forward pointers are legal in theory, never used, and make loops trivial); a
 * backward pointer can still loop (label, then a pointer back to that label), which the jump counter and the
 * 255-octet cap stop.
 *
 * Label bytes as text: printable ASCII lowercased; dots, backslashes and other bytes escaped as \DDD (dig's
 * convention) so a label with an embedded dot cannot pose as two labels.
 */
function readName(buf: Uint8Array, off: number, end: number): string | null {
  const out = NAME_TEXT;
  let n = 0;
  let labels = 0;
  let octets = 0;
  let pos = off;
  let next = -1;
  let jumps = 0;
  for (;;) {
    if (pos >= end) return null;
    const len = buf[pos]!;
    if (len === 0) {
      if (next < 0) next = pos + 1;
      break;
    }
    const kind = len & 0xc0;
    if (kind === 0xc0) {
      if (pos + 1 >= end) return null;
      const target = ((len & 0x3f) << 8) | buf[pos + 1]!;
      if (target >= pos || ++jumps > MAX_POINTER_JUMPS) return null;
      if (next < 0) next = pos + 2;
      pos = target;
      continue;
    }
    // 0x40 and 0x80 are the obsolete extended/binary label types (RFC 6891 retired them): reject.
    if (kind !== 0) return null;
    if (pos + 1 + len > end) return null;
    octets += len + 1;
    if (octets > MAX_NAME_OCTETS || labels >= MAX_LABELS) return null;
    if (labels > 0) out[n++] = 0x2e;
    for (let i = pos + 1; i <= pos + len; i++) {
      const b = buf[i]!;
      if (b > 0x20 && b < 0x7f && b !== 0x2e && b !== 0x5c) out[n++] = b >= 0x41 && b <= 0x5a ? b + 32 : b;
      else {
        out[n++] = 0x5c;
        out[n++] = 0x30 + ((b / 100) | 0);
        out[n++] = 0x30 + (((b / 10) | 0) % 10);
        out[n++] = 0x30 + (b % 10);
      }
    }
    labels++;
    pos += 1 + len;
  }
  nameNext = next;
  return n === 0 ? '' : out.latin1Slice(0, n);
}

function u16(buf: Uint8Array, off: number): number {
  return (buf[off]! << 8) | buf[off + 1]!;
}

function u32(buf: Uint8Array, off: number): number {
  return ((buf[off]! << 24) >>> 0) + ((buf[off + 1]! << 16) | (buf[off + 2]! << 8) | buf[off + 3]!);
}

/** RFC 5952 text for 16 bytes: lowercase, leading zeros dropped, the longest run (≥2) of zero groups as ::. */
export function ipv6ToString(b: Uint8Array, off = 0): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push(u16(b, off + i * 2));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (g: number[]) => g.map((x) => x.toString(16)).join(':');
  if (bestStart < 0) return hex(groups);
  return hex(groups.slice(0, bestStart)) + '::' + hex(groups.slice(bestStart + bestLen));
}

function rdataText(buf: Uint8Array, type: number, start: number, len: number): string | null {
  switch (type) {
    case DNS_TYPE.A:
      if (len !== 4) return null;
      return `${buf[start]}.${buf[start + 1]}.${buf[start + 2]}.${buf[start + 3]}`;
    case DNS_TYPE.AAAA:
      if (len !== 16) return null;
      return ipv6ToString(buf, start);
    case DNS_TYPE.CNAME:
    case DNS_TYPE.NS:
    case DNS_TYPE.PTR: {
      // The name may use pointers into the rest of the message, but must start inside the rdata.
      return readName(buf, start, start + len);
    }
    case DNS_TYPE.MX: {
      if (len < 3) return null;
      const n = readName(buf, start + 2, start + len);
      return n !== null ? `${u16(buf, start)} ${n}` : null;
    }
    case DNS_TYPE.TXT: {
      const parts: string[] = [];
      let p = start;
      let total = 0;
      while (p < start + len && total < MAX_TXT_CHARS) {
        const l = buf[p]!;
        if (p + 1 + l > start + len) return null;
        let s = '';
        for (let i = p + 1; i < p + 1 + l && total < MAX_TXT_CHARS; i++, total++) {
          const b = buf[i]!;
          s += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '?';
        }
        parts.push(s);
        p += 1 + l;
      }
      return parts.join(' ');
    }
    default:
      return '';
  }
}

/**
 * Parses one DNS message (UDP payload, or one message taken out of a TCP stream). Returns null when the
 * header or question section is not DNS-shaped; a damaged answer section yields the records read so far
 * with `partial: true`.
 */
export function parseDnsMessage(buf: Uint8Array): DnsMessage | null {
  if (buf.length < 12) return null;
  const id = u16(buf, 0);
  const flags = u16(buf, 2);
  const qdcount = u16(buf, 4);
  const ancount = u16(buf, 6);
  if (qdcount > MAX_QUESTIONS) return null;
  const msg: DnsMessage = {
    id,
    qr: (flags & 0x8000) !== 0,
    opcode: (flags >> 11) & 0xf,
    tc: (flags & 0x0200) !== 0,
    rcode: flags & 0xf,
    questions: [],
    answers: [],
  };
  const end = buf.length;
  let off = 12;
  for (let i = 0; i < qdcount; i++) {
    const name = readName(buf, off, end);
    const next = nameNext;
    if (name === null || next + 4 > end) return null;
    msg.questions.push({ name, qtype: u16(buf, next), qclass: u16(buf, next + 2) });
    off = next + 4;
  }
  const want = Math.min(ancount, MAX_ANSWERS);
  for (let i = 0; i < want; i++) {
    const name = readName(buf, off, end);
    const next = nameNext;
    if (name === null || next + 10 > end) {
      msg.partial = true;
      break;
    }
    const type = u16(buf, next);
    const ttl = u32(buf, next + 4);
    const rdlen = u16(buf, next + 8);
    const start = next + 10;
    if (start + rdlen > end) {
      msg.partial = true;
      break;
    }
    const data = rdataText(buf, type, start, rdlen);
    if (data === null) {
      msg.partial = true;
      break;
    }
    msg.answers.push({ name, type, ttl, data });
    off = start + rdlen;
  }
  if (ancount > MAX_ANSWERS) msg.partial = true;
  return msg;
}

/**
 * Splits DNS-over-TCP (RFC 1035 §4.2.2: each message behind a 2-byte length) from a byte stream fed in
 * arbitrary chunks. The buffer never holds more than one message (≤ 65,537 bytes) plus nothing else: bytes
 * are consumed as soon as a message is complete. Messages that fail to parse are counted, not returned.
 */
export class DnsTcpStream {
  private buf: Uint8Array = new Uint8Array(0);
  /** Messages whose bytes arrived but did not parse as DNS. */
  malformed = 0;

  push(chunk: Uint8Array): DnsMessage[] {
    const out: DnsMessage[] = [];
    let data = chunk;
    if (this.buf.length > 0) {
      data = new Uint8Array(this.buf.length + chunk.length);
      data.set(this.buf, 0);
      data.set(chunk, this.buf.length);
    }
    let off = 0;
    while (data.length - off >= 2) {
      const len = u16(data, off);
      if (data.length - off - 2 < len) break;
      const m = parseDnsMessage(data.subarray(off + 2, off + 2 + len));
      if (m) out.push(m);
      else this.malformed++;
      off += 2 + len;
    }
    // Keep only the incomplete tail; by construction it is shorter than 2 + 65,535 bytes.
    this.buf = data.slice(off);
    return out;
  }

  /** Bytes waiting for the rest of their message. */
  get pending(): number {
    return this.buf.length;
  }
}

/** Convenience for a whole reassembled TCP stream in one buffer. */
export function parseDnsTcpStream(bytes: Uint8Array): DnsMessage[] {
  return new DnsTcpStream().push(bytes);
}
