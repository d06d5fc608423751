/**
 * Pure: which shard of a parallel capture analysis owns a packet. Every packet between the same two addresses
 * goes to the same shard whatever its direction and ports, so everything a finding is made of (a client's
 * connections to one pool endpoint, its flows' timing) is seen by one shard alone.
 */
import type { DecodedPacket } from './decode.ts';

function mix(x: number): number {
  let h = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function addrHash(raw: Uint8Array, off: number, len: number): number {
  let h = 0;
  for (let i = 0; i < len; i += 4)
    h = mix(
      h ^
        (((raw[off + i]! << 24) |
          (raw[off + i + 1]! << 16) |
          (raw[off + i + 2]! << 8) |
          raw[off + i + 3]!) >>>
          0),
    );
  return h;
}

function strHash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return mix(h >>> 0);
}

/** The shard (0 .. count-1) of a decoded packet: symmetric in its two addresses. */
export function shardOf(p: DecodedPacket, count: number): number {
  if (count <= 1) return 0;
  let a: number;
  let b: number;
  if (p.raw !== undefined && p.srcOff !== undefined && p.dstOff !== undefined) {
    const len = p.ipVersion === 4 ? 4 : 16;
    a = addrHash(p.raw, p.srcOff, len);
    b = addrHash(p.raw, p.dstOff, len);
  } else {
    a = strHash(p.src);
    b = strHash(p.dst);
  }
  // A sum (not XOR) of the two: XOR would send every packet between equal-hash addresses to shard 0.
  return mix((a + b) >>> 0) % count;
}

/** DNS (port 53, UDP or TCP): every shard reads it, to learn the answers; the owner alone reports on it. */
export function isDns(p: DecodedPacket): boolean {
  return p.srcPort === 53 || p.dstPort === 53;
}
