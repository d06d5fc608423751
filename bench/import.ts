/**
 * `minewatch import` speed without the store: read + parse, and read + parse + detect, in events/s over
 * generated 1M-line files (minewatch NDJSON: processes, connections, DNS; Zeek conn.log TSV), single thread.
 * The whole import's target is 200,000 events/s including the store, so these must sit well above it.
 * `node --import tsx bench/import.ts` prints the table; IMPORT_BENCH_LINES overrides the size.
 */
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventDetector } from '../src/detect/events/index.ts';
import { loadIntel } from '../src/intel/index.ts';
import { readTelemetryBatches } from '../src/sensors/logs/index.ts';
import { mulberry32 } from '../src/util/random.ts';
import type { BenchRow } from './row.ts';

const rng = mulberry32;

const WALLET =
  '44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A';
const COMMANDS = [
  '/usr/sbin/nginx -g daemon off;',
  '/usr/bin/python3 /opt/app/worker.py --queue default',
  'node /srv/api/server.js',
  '/usr/lib/postgresql/15/bin/postgres -D /var/lib/postgresql/15/main',
  'sshd: ubuntu@pts/0',
  '/usr/bin/containerd',
  'bash -c cd /srv && make deploy',
  'java -Xmx2g -jar /opt/svc/app.jar --spring.profiles.active=prod',
  'curl -s https://api.example.com/health',
  'sleep 30',
];
const NAMES = [
  'api.example.com',
  'github.com',
  'registry.npmjs.org',
  'pypi.org',
  's3.amazonaws.com',
  'login.microsoftonline.com',
];
const PAD = (n: number, w: number) => String(n).padStart(w, '0');

async function write(
  path: string,
  lines: number,
  line: (i: number, r: () => number) => string,
  header = '',
): Promise<void> {
  const r = rng(7);
  const ws = createWriteStream(path);
  let buf = header;
  for (let i = 0; i < lines; i++) {
    buf += line(i, r);
    if (buf.length > 1 << 20) {
      if (!ws.write(buf)) await new Promise<void>((res) => ws.once('drain', () => res()));
      buf = '';
    }
  }
  ws.end(buf);
  await new Promise<void>((res) => ws.once('finish', () => res()));
}

const T0 = Date.UTC(2024, 0, 15);

function ndjsonLine(i: number, r: () => number): string {
  const time = new Date(T0 + i * 10).toISOString();
  const host = `web-${PAD(Math.floor(r() * 500), 3)}`;
  const k = r();
  if (k < 0.4) {
    const miner = r() < 0.005;
    const cmd = miner
      ? `/tmp/.x/xmrig -o stratum+tcp://pool.supportxmr.com:443 -u ${WALLET} -k`
      : COMMANDS[Math.floor(r() * COMMANDS.length)]!;
    const exe = miner ? '/tmp/.x/xmrig' : `/usr/bin/${cmd.split(' ')[0]!.split('/').pop()}`;
    return `${JSON.stringify({ time, host, type: 'process', pid: 1000 + Math.floor(r() * 60000), ppid: 1, user: 'app', exe, cmdline: cmd })}\n`;
  }
  if (k < 0.8) {
    const pool = r() < 0.005;
    return `${JSON.stringify({
      time,
      host,
      type: 'connection',
      src_ip: `10.0.${Math.floor(r() * 255)}.${Math.floor(r() * 255)}`,
      src_port: 32768 + Math.floor(r() * 28000),
      dst_ip: pool
        ? '3.18.108.36'
        : `${Math.floor(r() * 223) + 1}.${Math.floor(r() * 255)}.${Math.floor(r() * 255)}.${Math.floor(r() * 255)}`,
      dst_port: pool ? 15555 : r() < 0.8 ? 443 : 80,
      proto: 'tcp',
      bytes_out: Math.floor(r() * 5000),
      bytes_in: Math.floor(r() * 50000),
    })}\n`;
  }
  const q = r() < 0.005 ? 'xmr.nanopool.org' : NAMES[Math.floor(r() * NAMES.length)]!;
  return `${JSON.stringify({ time, host, type: 'dns', query: q, qtype: 'A', answers: ['203.0.113.10'] })}\n`;
}

const ZEEK_HEADER = `#separator \\x09
#set_separator\t,
#empty_field\t(empty)
#unset_field\t-
#path\tconn
#open\t2024-01-15-00-00-00
#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents
#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tbool\tbool\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]
`;

function zeekLine(i: number, r: () => number): string {
  const ts = (T0 / 1000 + i * 0.01).toFixed(6);
  const pool = r() < 0.005;
  const long = pool || r() < 0.05;
  const dur = long ? 600 + r() * 3000 : r() * 5;
  const ob = Math.floor(long ? dur * (10 + r() * 40) : r() * 4000);
  const ib = Math.floor(long ? dur * (20 + r() * 60) : r() * 60000);
  const op = Math.max(1, Math.floor(ob / 60));
  const ip = Math.max(1, Math.floor(ib / 90));
  const dst = pool
    ? '3.18.108.36'
    : `${Math.floor(r() * 223) + 1}.${Math.floor(r() * 255)}.${Math.floor(r() * 255)}.${Math.floor(r() * 255)}`;
  const dport = pool ? 15555 : r() < 0.8 ? 443 : 80;
  return `${ts}\tC${PAD(i, 17)}\t10.0.${Math.floor(r() * 16)}.${Math.floor(r() * 255)}\t${32768 + Math.floor(r() * 28000)}\t${dst}\t${dport}\ttcp\tssl\t${dur.toFixed(6)}\t${ob}\t${ib}\tSF\tT\tF\t0\tShADadFf\t${op}\t${ob + op * 52}\t${ip}\t${ib + ip * 52}\t-\n`;
}

async function measure(
  path: string,
  detect: boolean,
): Promise<{ events: number; errors: number; ms: number; findings: number }> {
  const intel = detect ? loadIntel({ userDir: null }) : undefined;
  const d = intel ? new EventDetector(intel) : undefined;
  let events = 0;
  let errors = 0;
  const t = performance.now();
  for await (const batch of readTelemetryBatches(path)) {
    for (const r of batch) {
      if (r.event) {
        events++;
        d?.pushRecord(r);
      } else errors++;
    }
  }
  const findings = d ? d.finish().length : 0;
  return { events, errors, ms: performance.now() - t, findings };
}

/** The 1M-line minewatch NDJSON file of this bench (processes, connections, DNS; no ids), also used by fleet.ts. */
export function writeNdjson(path: string, lines: number): Promise<void> {
  return write(path, lines, ndjsonLine);
}

/** The Zeek conn.log TSV file of this bench, also used by fleet.ts. */
export function writeZeekConn(path: string, lines: number): Promise<void> {
  return write(path, lines, zeekLine, ZEEK_HEADER);
}

export async function benchImport(): Promise<BenchRow[]> {
  const lines = Number(process.env.IMPORT_BENCH_LINES ?? 1_000_000);
  const dir = mkdtempSync(join(tmpdir(), 'minewatch-import-bench-'));
  const rows: BenchRow[] = [];
  try {
    const nd = join(dir, 'events.ndjson');
    const zk = join(dir, 'conn.log');
    await writeNdjson(nd, lines);
    await writeZeekConn(zk, lines);
    loadIntel({ userDir: null }); // intel parse/validate once, outside the timings
    for (const [name, path] of [
      ['ndjson', nd],
      ['zeek conn.log', zk],
    ] as const) {
      const mb = statSync(path).size / 1e6;
      const p = await measure(path, false);
      rows.push({
        name: `${name}: read+parse`,
        value: (p.events / p.ms) * 1000,
        unit: 'events/s',
        note: `${p.events} events, ${mb.toFixed(0)} MB, ${(p.ms / 1000).toFixed(2)} s`,
      });
      const before = process.memoryUsage().rss;
      const d = await measure(path, true);
      rows.push({
        name: `${name}: read+parse+detect`,
        value: (d.events / d.ms) * 1000,
        unit: 'events/s',
        note: `${d.findings} findings, ${(d.ms / 1000).toFixed(2)} s, rss ${(process.memoryUsage().rss / 1e6).toFixed(0)} MB (was ${(before / 1e6).toFixed(0)})`,
      });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const r of await benchImport())
    console.log(
      `${r.name.padEnd(36)} ${Math.round(r.value).toLocaleString('en-US').padStart(12)} ${r.unit}  (${r.note})`,
    );
}
