/**
 * A process control over a fixture root's fake proc/: "signals" rewrite proc/PID/stat (T for stopped) or
 * remove proc/PID and its sockets' rows from proc/net/tcp (killed). No process of this machine is touched.
 */
import fs from 'node:fs';
import path from 'node:path';
import { type ProcessControl, procfsControl } from '../procs.ts';

export function fakeProcesses(root: string, log: string[] = []): ProcessControl {
  const proc = path.join(root, 'proc');
  return procfsControl(proc, false, (pid, sig) => {
    log.push(`${sig} ${pid}`);
    const dir = path.join(proc, String(pid));
    if (!fs.existsSync(dir)) return;
    if (sig === 'SIGKILL') {
      const inodes = new Set<string>();
      for (const fd of fs.existsSync(path.join(dir, 'fd')) ? fs.readdirSync(path.join(dir, 'fd')) : []) {
        const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(path.join(dir, 'fd', fd)));
        if (m) inodes.add(m[1]!);
      }
      fs.rmSync(dir, { recursive: true, force: true });
      const tcp = path.join(proc, 'net/tcp');
      if (inodes.size && fs.existsSync(tcp)) {
        const lines = fs.readFileSync(tcp, 'utf8').split('\n');
        const kept = lines.filter((l, i) => i === 0 || !inodes.has(l.trim().split(/\s+/)[9] ?? ''));
        fs.writeFileSync(tcp, kept.join('\n'));
      }
      return;
    }
    const stat = path.join(dir, 'stat');
    const s = fs.readFileSync(stat, 'utf8');
    const i = s.lastIndexOf(')');
    fs.writeFileSync(stat, `${s.slice(0, i + 2)}${sig === 'SIGSTOP' ? 'T' : 'S'}${s.slice(i + 3)}`);
  });
}
