/**
 * The agent's optional traffic check: `tcpdump -w -` for a few seconds, its stdout fed to the traffic analyser.
 * Imported lazily (the analyser and intel are only loaded when --pcap-iface is given).
 */
import { spawn } from 'node:child_process';
import type { Finding } from '../findings/index.ts';

export interface TcpdumpOptions {
  iface: string;
  seconds: number;
  /** The tcpdump binary (tests pass a script that writes a capture). */
  tcpdump?: string;
  /** Extra arguments before the defaults (e.g. a BPF filter is appended after). */
  filter?: string;
}

export async function tcpdumpTraffic(opts: TcpdumpOptions): Promise<Finding[]> {
  const [{ analyseCapture }, { loadIntel }] = await Promise.all([
    import('../detect/traffic/index.ts'),
    import('../intel/index.ts'),
  ]);
  // -U: packet-buffered so the analyser sees packets as they come; -s 0: whole packets (stratum payloads).
  const args = ['-i', opts.iface, '-w', '-', '-U', '-n', '-s', '0', ...(opts.filter ? [opts.filter] : [])];
  const child = spawn(opts.tcpdump ?? 'tcpdump', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    if (stderr.length < 4096) stderr += d.toString();
  });
  const spawned = new Promise<void>((resolve, reject) => {
    child.once('error', (e) => reject(new Error(`cannot run ${opts.tcpdump ?? 'tcpdump'}: ${e.message}`)));
    child.once('spawn', () => resolve());
  });
  await spawned;
  const timer = setTimeout(() => child.kill('SIGINT'), opts.seconds * 1000);
  try {
    const report = await analyseCapture('-', { intel: loadIntel(), stdin: child.stdout! });
    return report.findings;
  } catch (err) {
    throw new Error(`${(err as Error).message}${stderr ? ` (tcpdump: ${stderr.trim().slice(0, 300)})` : ''}`);
  } finally {
    clearTimeout(timer);
    if (child.exitCode === null) child.kill('SIGINT');
  }
}
