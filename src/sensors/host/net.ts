/**
 * Socket sensor: proc/net/{tcp,tcp6,udp,udp6}. The kernel prints each address as the raw in-memory 32-bit
 * words in hex, i.e. in the host's byte order: '0100007F' is 127.0.0.1 on little-endian machines and
 * '7F000001' on big-endian ones. The order is guessed per file (loopback/private addresses give it away),
 * defaulting to little-endian (x86-64, arm64).
 */
import { formatIp } from '../pcap/decode.ts';
import type { RootFs } from './fsroot.ts';
import type { ConnectionRecord, ProcessRecord } from './types.ts';

const TCP_STATES: Record<string, string> = {
  '01': 'ESTABLISHED',
  '02': 'SYN_SENT',
  '03': 'SYN_RECV',
  '04': 'FIN_WAIT1',
  '05': 'FIN_WAIT2',
  '06': 'TIME_WAIT',
  '07': 'CLOSE',
  '08': 'CLOSE_WAIT',
  '09': 'LAST_ACK',
  '0A': 'LISTEN',
  '0B': 'CLOSING',
  '0C': 'NEW_SYN_RECV',
};

/** Max sockets parsed per file: bounded memory on a busy server. */
const MAX_SOCKETS = 200_000;

function word(hex: string, littleEndian: boolean): number[] {
  const b = [0, 2, 4, 6].map((i) => Number.parseInt(hex.slice(i, i + 2), 16));
  return littleEndian ? b.reverse() : b;
}

export function decodeIpv4(hex: string, littleEndian = true): string {
  return word(hex, littleEndian).join('.');
}

export function decodeIpv6(hex: string, littleEndian = true): string {
  const bytes: number[] = [];
  for (let w = 0; w < 4; w++) bytes.push(...word(hex.slice(w * 8, w * 8 + 8), littleEndian));
  // IPv4-mapped (::ffff:a.b.c.d) is shown as plain IPv4 so intel IP matching works on it.
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff)
    return bytes.slice(12).join('.');
  return formatIp(Uint8Array.from(bytes), 0, 6);
}

/** Guess the byte order of IPv4 words in a proc/net file from addresses that are obviously local. */
export function guessLittleEndian(hexAddrs: string[]): boolean {
  let le = 0;
  let be = 0;
  for (const h of hexAddrs) {
    const v4 = h.length === 8 ? h : h.length === 32 ? h.slice(24) : '';
    if (!v4 || v4 === '00000000') continue;
    const hi = v4.slice(0, 2).toUpperCase();
    const lo = v4.slice(6, 8).toUpperCase();
    if (lo === '7F' || lo === '0A' || (lo === 'C0' && v4.slice(4, 6).toUpperCase() === 'A8')) le++;
    if (hi === '7F' || hi === '0A' || (hi === 'C0' && v4.slice(2, 4).toUpperCase() === 'A8')) be++;
  }
  return be <= le;
}

export function parseProcNet(
  text: string,
  proto: ConnectionRecord['proto'],
  source: string,
): ConnectionRecord[] {
  const rows: { f: string[]; line: number }[] = [];
  const lines = text.split('\n');
  for (let i = 1; i < lines.length && rows.length < MAX_SOCKETS; i++) {
    const f = lines[i]!.trim().split(/\s+/);
    if (f.length < 10 || !f[1]?.includes(':')) continue;
    rows.push({ f, line: i + 1 });
  }
  const le = guessLittleEndian(rows.flatMap((r) => [r.f[1]!.split(':')[0]!, r.f[2]!.split(':')[0]!]));
  const v6 = proto.endsWith('6');
  const out: ConnectionRecord[] = [];
  for (const { f, line } of rows) {
    const [lip, lport] = f[1]!.split(':') as [string, string];
    const [rip, rport] = (f[2] ?? '').split(':') as [string, string];
    const st = (f[3] ?? '').toUpperCase();
    out.push({
      proto,
      localIp: v6 ? decodeIpv6(lip, le) : decodeIpv4(lip, le),
      localPort: Number.parseInt(lport, 16),
      remoteIp: v6 ? decodeIpv6(rip, le) : decodeIpv4(rip, le),
      remotePort: Number.parseInt(rport ?? '0', 16),
      state: proto.startsWith('tcp') ? (TCP_STATES[st] ?? st) : st === '01' ? 'ESTABLISHED' : 'UNCONN',
      uid: Number(f[7]),
      inode: Number(f[9]),
      line,
      source,
    });
  }
  return out;
}

export function readConnections(rfs: RootFs, processes: ProcessRecord[]): ConnectionRecord[] {
  const byInode = new Map<number, number>();
  for (const p of processes) for (const ino of p.sockets) if (!byInode.has(ino)) byInode.set(ino, p.pid);
  const out: ConnectionRecord[] = [];
  for (const proto of ['tcp', 'tcp6', 'udp', 'udp6'] as const) {
    const rel = `/proc/net/${proto}`;
    const text = rfs.readSmall(rel, 64 * 1024 * 1024);
    if (!text) continue;
    for (const c of parseProcNet(text, proto, rel)) {
      const pid = c.inode ? byInode.get(c.inode) : undefined;
      if (pid !== undefined) c.pid = pid;
      out.push(c);
    }
  }
  return out;
}
