/**
 * Sysmon events exported as JSON: 1 (process create), 3 (network connection), 22 (DNS query). Accepts the
 * common shapes: flat records (nxlog, Splunk/Graylog exports: EventID and the EventData names at the top),
 * Windows Event Log XML rendered as JSON (Event.System / Event.EventData.Data[{@Name, #text}]), Winlogbeat
 * (winlog.event_id, winlog.event_data) and PowerShell Get-WinEvent | ConvertTo-Json (Id, Message). The
 * host is the `Computer`. Other event ids, and events of other providers, are skipped (and counted): a
 * channel export holds many kinds. The file may be UTF-16 with a BOM (PowerShell 5.1's Out-File), a JSON
 * array, NDJSON, or one pretty-printed event (see lines.ts, read.ts).
 */
import type { MinewatchEvent } from '../../findings/index.ts';
import { type LineParser, skip } from './types.ts';
import { isObj, parseObject, put, toIp, toIso, toNum, toPort, toProto, toStr } from './util.ts';

type Data = Record<string, unknown>;

interface Normalised {
  id: number | undefined;
  /** The event's provider when the export names it ('Microsoft-Windows-Sysmon'). */
  provider: string | undefined;
  computer: string | undefined;
  time: string | undefined;
  data: Data;
}

function text(v: unknown): unknown {
  // XML→JSON converters put an element's text in '#text' (or '_', 'text', 'Value').
  if (isObj(v)) return v['#text'] ?? v._ ?? v.text ?? v.Value ?? v['#value'];
  return v;
}

function dataArray(arr: unknown[]): Data {
  const d: Data = {};
  for (const x of arr) {
    if (!isObj(x)) continue;
    const name = toStr(x['@Name'] ?? x.Name ?? x['@name'] ?? x.name);
    if (name) d[name] = text(x);
  }
  return d;
}

function eventData(v: unknown): Data | undefined {
  if (!isObj(v)) return undefined;
  const inner = v.Data;
  if (Array.isArray(inner)) return dataArray(inner);
  if (isObj(inner) && ('@Name' in inner || 'Name' in inner)) return dataArray([inner]);
  return v;
}

/** 'Image: C:\\x.exe\r\nCommandLine: ...' (Get-WinEvent's Message) → fields. */
function messageData(msg: string): Data {
  const d: Data = {};
  for (const l of msg.split(/\r?\n/)) {
    const m = /^([A-Za-z]+):\s?(.*)$/.exec(l);
    if (m) d[m[1]!] = m[2]!;
  }
  return d;
}

/** evtx_dump (omerbenamram/evtx) puts XML attributes under '#attributes'. */
function attrs(v: Record<string, unknown>): Record<string, unknown> {
  return isObj(v['#attributes']) ? v['#attributes'] : {};
}

function normalise(o: Record<string, unknown>): Normalised {
  const ev = isObj(o.Event) ? o.Event : undefined;
  const sys = ev && isObj(ev.System) ? ev.System : undefined;
  const wl = isObj(o.winlog) ? o.winlog : undefined;
  const data =
    eventData(ev?.EventData) ??
    eventData(wl?.event_data) ??
    eventData(o.EventData) ??
    (typeof o.Message === 'string' && !('UtcTime' in o) ? messageData(o.Message) : o);
  const idRaw = text(sys?.EventID) ?? wl?.event_id ?? o.EventID ?? o.EventId ?? o.event_id ?? o.Id;
  const id = toNum(idRaw);
  const prov = sys?.Provider;
  const provider =
    toStr(isObj(prov) ? (prov['@Name'] ?? prov.Name ?? attrs(prov).Name) : prov) ??
    toStr(wl?.provider_name) ??
    toStr(o.ProviderName) ??
    toStr(o.Provider) ??
    toStr(o.SourceName);
  const hostObj = isObj(o.host) ? o.host : undefined;
  const computer =
    toStr(text(sys?.Computer)) ??
    toStr(wl?.computer_name) ??
    toStr(o.Computer) ??
    toStr(o.Hostname) ??
    toStr(o.MachineName) ??
    toStr(o.computer_name) ??
    toStr(hostObj?.name) ??
    (typeof o.host === 'string' ? toStr(o.host) : undefined);
  const tc = sys?.TimeCreated;
  const time =
    toIso(data.UtcTime) ??
    (isObj(tc) ? toIso(tc['@SystemTime'] ?? tc.SystemTime ?? attrs(tc).SystemTime) : undefined) ??
    toIso(o['@timestamp']) ??
    toIso(o.TimeCreated) ??
    toIso(o.EventTime) ??
    toIso(o.TimeGenerated);
  return { id, provider, computer, time, data };
}

/** 'SHA1=..,MD5=..,SHA256=..,IMPHASH=..' → the SHA256, lowercased. */
function sha256Of(hashes: unknown): string | undefined {
  const s = toStr(hashes);
  const m = s ? /(?:^|,)\s*SHA256=([0-9A-Fa-f]{64})/.exec(s) : null;
  return m ? m[1]!.toLowerCase() : undefined;
}

/** QueryResults: 'type:  5 alias.example.com;::ffff:1.2.3.4;2001:db8::1;' → names and addresses. */
export function parseQueryResults(v: unknown): string[] | undefined {
  const s = toStr(v);
  if (!s) return undefined;
  const out: string[] = [];
  for (const part of s.split(';')) {
    const p = part.trim().replace(/^type:\s*\d+\s+/, '');
    if (!p) continue;
    out.push(toIp(p) ?? p);
  }
  return out.length ? out : undefined;
}

function int(v: unknown): number | undefined {
  const n = toNum(v);
  return n !== undefined ? Math.trunc(n) : undefined;
}

export function sysmonParser(): LineParser {
  return {
    format: 'sysmon',
    parse(line, out) {
      const o = parseObject(line);
      if (typeof o === 'string') return o;
      const n = normalise(o);
      if (n.id === undefined) return 'no EventID';
      // A whole-channel export mixes providers: Security's or PowerShell's event 1 or 3 is another event.
      if (n.provider && !/sysmon/i.test(n.provider))
        return skip(`events of provider ${n.provider} are not read`);
      if (n.id !== 1 && n.id !== 3 && n.id !== 22) return skip(`sysmon event ${n.id} is not read`);
      if (!n.time) return `event ${n.id}: no UtcTime or TimeCreated`;
      if (!n.computer) return `event ${n.id}: no Computer`;
      const d = n.data;
      const base: Record<string, unknown> = { time: n.time, host: n.computer, sensor: `sysmon/${n.id}` };
      put(base, 'process_guid', toStr(d.ProcessGuid));
      if (n.id === 1) {
        const pid = int(d.ProcessId);
        if (pid === undefined) return 'event 1: no ProcessId';
        const ev: Record<string, unknown> = { ...base, type: 'process', pid };
        put(ev, 'ppid', int(d.ParentProcessId));
        put(ev, 'user', toStr(d.User));
        put(ev, 'exe', toStr(d.Image));
        put(ev, 'cmdline', toStr(d.CommandLine));
        put(ev, 'sha256', sha256Of(d.Hashes));
        put(ev, 'parent_exe', toStr(d.ParentImage));
        put(ev, 'parent_cmdline', toStr(d.ParentCommandLine));
        put(ev, 'cwd', toStr(d.CurrentDirectory));
        out.push(ev as MinewatchEvent);
        return undefined;
      }
      if (n.id === 3) {
        const dst = toIp(d.DestinationIp);
        const dport = toPort(d.DestinationPort);
        if (!dst || dport === undefined) return 'event 3: no DestinationIp/DestinationPort';
        const ev: Record<string, unknown> = {
          ...base,
          type: 'connection',
          src_ip: toIp(d.SourceIp) ?? '',
          dst_ip: dst,
          dst_port: dport,
        };
        put(ev, 'src_port', toPort(d.SourcePort));
        put(ev, 'proto', toProto(d.Protocol));
        put(ev, 'pid', int(d.ProcessId));
        put(ev, 'exe', toStr(d.Image));
        put(ev, 'user', toStr(d.User));
        put(ev, 'domain', toStr(d.DestinationHostname)?.toLowerCase());
        put(
          ev,
          'initiated',
          d.Initiated === true || d.Initiated === 'true'
            ? true
            : d.Initiated === false || d.Initiated === 'false'
              ? false
              : undefined,
        );
        out.push(ev as MinewatchEvent);
        return undefined;
      }
      const query = toStr(d.QueryName);
      if (!query) return 'event 22: no QueryName';
      const ev: Record<string, unknown> = { ...base, type: 'dns', query };
      put(ev, 'answers', parseQueryResults(d.QueryResults));
      put(ev, 'status', toStr(d.QueryStatus));
      put(ev, 'pid', int(d.ProcessId));
      put(ev, 'exe', toStr(d.Image));
      out.push(ev as MinewatchEvent);
      return undefined;
    },
  };
}
