/**
 * Falco JSON alerts (json_output: true). An alert is about a process and often a socket: it becomes a
 * process event from `proc.*` fields and, when `fd.sip`/`fd.rip` name a remote end, a connection event,
 * both carrying the Falco rule as `alert`. The host is `hostname` (Falco 0.33+); older Falco writes none, so
 * it is `--host`, else the client address of the socket, else the file's name ('web-01.json' → web-01).
 * Old and new output differ only in `hostname` and `tags` (0.31+) / `source` (0.30+): fields read if there.
 */
import type { MinewatchEvent } from '../../findings/index.ts';
import type { HostOptions } from './eve.ts';
import type { LineParser } from './types.ts';
import { isObj, parseObject, put, toIp, toIso, toNum, toPort, toProto, toStr } from './util.ts';

export function falcoParser(opts: HostOptions & { fileHost?: string | undefined } = {}): LineParser {
  return {
    format: 'falco',
    parse(line, out) {
      const o = parseObject(line);
      if (typeof o === 'string') return o;
      const f = isObj(o.output_fields) ? o.output_fields : {};
      const time = toIso(o.time) ?? toIso(f['evt.time']);
      if (!time) return `bad or missing time '${String(o.time)}'`;
      const sip = toIp(f['fd.sip']) ?? toIp(f['fd.rip']);
      const sport = toPort(f['fd.sport']) ?? toPort(f['fd.rport']);
      const cip = toIp(f['fd.cip']) ?? toIp(f['fd.lip']);
      const hostname = toStr(o.hostname);
      // Falco before 0.33 writes no `hostname`: --host, else the client end of the socket, else the file's name.
      const host =
        (opts.hostFrom !== 'address' ? (hostname ?? opts.host) : undefined) ??
        cip ??
        hostname ??
        opts.host ??
        opts.fileHost;
      if (!host) return 'no hostname and no client address to name the host (give --host)';
      const alert: Record<string, unknown> = { source: 'falco' };
      put(alert, 'rule', toStr(o.rule));
      put(alert, 'priority', toStr(o.priority));
      put(alert, 'tags', Array.isArray(o.tags) ? o.tags.map(String) : undefined);
      const base: Record<string, unknown> = { time, host, alert };
      put(base, 'container_id', toStr(f['container.id']));
      put(base, 'container_image', toStr(f['container.image.repository']));
      const pid = toNum(f['proc.pid']);
      const exe = toStr(f['proc.exepath']) ?? toStr(f['proc.exe']);
      const cmdline = toStr(f['proc.cmdline']);
      let n = 0;
      if (pid !== undefined || cmdline) {
        const ev: Record<string, unknown> = {
          ...base,
          type: 'process',
          pid: pid !== undefined ? Math.trunc(pid) : 0,
        };
        put(ev, 'ppid', toNum(f['proc.ppid']));
        put(ev, 'user', toStr(f['user.name']));
        put(ev, 'exe', exe);
        put(ev, 'cmdline', cmdline);
        put(ev, 'name', toStr(f['proc.name']));
        put(ev, 'sha256', toStr(f['proc.exe_sha256'])?.toLowerCase());
        ev.sensor = 'falco';
        out.push(ev as MinewatchEvent);
        n++;
      }
      if (sip && sport !== undefined) {
        const ev: Record<string, unknown> = {
          ...base,
          type: 'connection',
          src_ip: cip ?? host,
          dst_ip: sip,
          dst_port: sport,
        };
        put(ev, 'src_port', toPort(f['fd.cport']) ?? toPort(f['fd.lport']));
        put(ev, 'proto', toProto(f['fd.l4proto']));
        put(ev, 'pid', pid !== undefined ? Math.trunc(pid) : undefined);
        put(ev, 'exe', exe);
        ev.sensor = 'falco';
        out.push(ev as MinewatchEvent);
        n++;
      }
      // An alert about neither a process nor a socket (k8s audit, cloudtrail plugins) is not telemetry we read.
      return n === 0 && !o.rule && !o.output
        ? 'not a Falco alert (no rule, output or output_fields)'
        : undefined;
    },
  };
}
