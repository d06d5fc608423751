/**
 * Flood captures for the flow-table bounds: spoofed SYNs, or many short complete connections, with some
 * conversations (mining sessions) woven in by time. Written straight to a file in chunks, so a capture of
 * millions of packets is built without holding it in memory. Deterministic: the same arguments give the same
 * bytes. Used by the tests (scaled down) and by bench/flood.ts (1M flows), always into a temp dir.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { ether, tcp } from '../../../sensors/pcap/testkit.ts';

export interface TimedPacket {
  ts: number;
  ip: Uint8Array;
}

export interface FloodSpec {
  /**
   * syn: spoofed SYNs (half-open flows); short: connections that exchange a request and a reply and are reset
   * (closed flows); open: connections that exchange them and then fall silent, never closed (open flows,
   * the class a flood of slow clients fills).
   */
  kind: 'syn' | 'short' | 'open';
  /** Spoofed SYNs, or connections. */
  count: number;
  /** Capture time the flood spreads over, from t0. */
  t0: number;
  durationSec: number;
  /** The flooded server. */
  target?: string;
  targetPort?: number;
}

const CHUNK = 4 * 1024 * 1024;

/** A pcap writer that streams records to a file descriptor. */
class PcapFileWriter {
  private readonly fd: number;
  private buf = Buffer.allocUnsafe(CHUNK);
  private off = 0;
  packets = 0;
  constructor(path: string) {
    this.fd = openSync(path, 'w');
    const h = Buffer.alloc(24);
    h.writeUInt32LE(0xa1b2c3d4, 0);
    h.writeUInt16LE(2, 4);
    h.writeUInt16LE(4, 6);
    h.writeUInt32LE(262144, 16);
    h.writeUInt32LE(1, 20); // Ethernet
    writeSync(this.fd, h);
  }
  write(ts: number, frame: Uint8Array): void {
    if (this.off + 16 + frame.length > CHUNK) this.flush();
    const sec = Math.floor(ts);
    const b = this.buf;
    b.writeUInt32LE(sec, this.off);
    b.writeUInt32LE(Math.round((ts - sec) * 1e6) % 1e6, this.off + 4);
    b.writeUInt32LE(frame.length, this.off + 8);
    b.writeUInt32LE(frame.length, this.off + 12);
    b.set(frame, this.off + 16);
    this.off += 16 + frame.length;
    this.packets++;
  }
  flush(): void {
    if (this.off > 0) writeSync(this.fd, this.buf, 0, this.off);
    this.off = 0;
  }
  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}

/** Spoofed source i: 100.64.0.0/10 space, walked so consecutive flows share no address pair. */
function spoofedNum(i: number): number {
  return (0x64400000 + ((Math.imul(i, 2654435761) >>> 0) % 0x3fffff)) >>> 0;
}
function spoofed(i: number): string {
  const n = spoofedNum(i);
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/**
 * The frames of unit 0, used as templates: a unit i differs only in the spoofed address, the client port
 * and the sequence numbers, so those are patched in place (and the IP checksum redone) instead of building
 * every packet anew; 1M short connections are then written in seconds, not minutes.
 */
class UnitTemplates {
  private readonly frames: { dt: number; frame: Uint8Array; fromClient: boolean; seqOff: number }[];
  constructor(kind: FloodSpec['kind'], target: string, port: number) {
    this.frames = unit(kind, 0, 0, target, port).map((p) => {
      const frame = ether(p.ip);
      const fromClient = frame[14 + 12] === 100; // the spoofed source is in 100.64/10
      return { dt: p.ts, frame, fromClient, seqOff: 14 + 20 + 4 };
    });
  }
  write(w: PcapFileWriter, i: number, ts: number): void {
    const src = spoofedNum(i);
    const sport = 1024 + (i % 64000);
    const isn = Math.imul(i, 40503) >>> 0;
    for (const t of this.frames) {
      const f = t.frame;
      const ipAt = t.fromClient ? 14 + 12 : 14 + 16;
      f[ipAt] = src >>> 24;
      f[ipAt + 1] = (src >>> 16) & 255;
      f[ipAt + 2] = (src >>> 8) & 255;
      f[ipAt + 3] = src & 255;
      const portAt = t.fromClient ? 34 : 36;
      f[portAt] = sport >> 8;
      f[portAt + 1] = sport & 255;
      // Client seq / server ack: unit 0's value (ISN 0 + offset) plus this unit's ISN.
      const at = t.fromClient ? 38 : 42;
      const base = ((f[at]! << 24) | (f[at + 1]! << 16) | (f[at + 2]! << 8) | f[at + 3]!) >>> 0;
      const v = (base + isn) >>> 0;
      f[at] = v >>> 24;
      f[at + 1] = (v >>> 16) & 255;
      f[at + 2] = (v >>> 8) & 255;
      f[at + 3] = v & 255;
      ipChecksum(f, 14);
      w.write(ts + t.dt, f);
      // Back to unit 0's values for the next unit.
      f[at] = base >>> 24;
      f[at + 1] = (base >>> 16) & 255;
      f[at + 2] = (base >>> 8) & 255;
      f[at + 3] = base & 255;
    }
  }
}

function ipChecksum(f: Uint8Array, at: number): void {
  f[at + 10] = 0;
  f[at + 11] = 0;
  let sum = 0;
  for (let k = 0; k < 20; k += 2) sum += (f[at + k]! << 8) | f[at + k + 1]!;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  const c = ~sum & 0xffff;
  f[at + 10] = c >> 8;
  f[at + 11] = c & 255;
}

/** The packets of flood unit i (one SYN, or one short connection), at time ts. */
function unit(kind: FloodSpec['kind'], i: number, ts: number, target: string, port: number): TimedPacket[] {
  const src = spoofed(i);
  const sport = 1024 + (i % 64000);
  const isn = Math.imul(i, 40503) >>> 0;
  if (kind === 'syn')
    return [{ ts, ip: tcp({ src, dst: target, sport, dport: port, seq: isn, flags: 0x02 }) }];
  // SYN, SYN/ACK, request, reply, RST: a health check or a scanner's banner grab.
  const c = { src, dst: target, sport, dport: port };
  const s = { src: target, dst: src, sport: port, dport: sport };
  const req = 'HEAD / HTTP/1.0\r\n\r\n';
  const rsp = 'HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n';
  const out = [
    { ts, ip: tcp({ ...c, seq: isn, flags: 0x02 }) },
    { ts: ts + 0.0001, ip: tcp({ ...s, seq: 7, ack: isn + 1, flags: 0x12 }) },
    { ts: ts + 0.0002, ip: tcp({ ...c, seq: isn + 1, ack: 8, flags: 0x18, payload: req }) },
    { ts: ts + 0.0003, ip: tcp({ ...s, seq: 8, ack: isn + 1 + req.length, flags: 0x18, payload: rsp }) },
  ];
  if (kind === 'short')
    out.push({ ts: ts + 0.0004, ip: tcp({ ...c, seq: isn + 1 + req.length, flags: 0x04 }) });
  return out;
}

/**
 * Writes a capture holding `flood` with `conversations` (each a time-ordered packet list) interleaved by time.
 * Returns the packet count.
 */
export function writeFloodCapture(
  path: string,
  flood: FloodSpec,
  conversations: TimedPacket[][] = [],
): number {
  const w = new PcapFileWriter(path);
  const target = flood.target ?? '10.20.0.5';
  const port = flood.targetPort ?? 80;
  const bg = conversations.flat().sort((a, b) => a.ts - b.ts);
  let j = 0;
  const step = flood.durationSec / Math.max(1, flood.count);
  const templates = new UnitTemplates(flood.kind, target, port);
  for (let i = 0; i < flood.count; i++) {
    const ts = flood.t0 + i * step;
    while (j < bg.length && bg[j]!.ts <= ts) w.write(bg[j]!.ts, ether(bg[j++]!.ip));
    templates.write(w, i, ts);
  }
  while (j < bg.length) w.write(bg[j]!.ts, ether(bg[j++]!.ip));
  w.close();
  return w.packets;
}
