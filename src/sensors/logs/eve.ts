/**
 * Suricata EVE JSON (one object a line): flow, dns (v1, v2 and v3 layouts), tls, http and alert records
 * (Suricata 4-8). Alerts are turned to the flow's direction (`flow.src_ip` in 7+, `direction: to_client`);
 * an alert on a DNS query is the client's question; ICMP flows have port 0.
 * Each becomes the event a sensor on the host would have produced: flows and tls/http as connections, dns
 * as dns. The host is Suricata's `host` (its sensor-name, which names the machine when Suricata runs on it)
 * when present and wanted, else the client address.
 */
import type { MinewatchEvent } from '../../findings/index.ts';
import { type LineParser, skip } from './types.ts';
import { isObj, parseObject, put, toIp, toIso, toNum, toPort, toProto, toStr } from './util.ts';

export interface HostOptions {
  /** 'field': a host field in the record names the host (default); 'address': always the client address. */
  hostFrom?: 'field' | 'address';
  /**
   * The host of records that name none (Falco before 0.33 writes no `hostname`): `--host`, else the reader's
   * fallback (the client address, else the file's name).
   */
  host?: string;
  /** IANA zone of zone-less local times (nfdump prints local time): `--tz`. Default UTC. */
  tz?: string;
  /**
   * Whether `ip:port` is a known server (a pool by intel, a pool port): lets a one-way flow record written in
   * the reply's direction be turned around when its source port is not below the ephemeral line (MinerGate's
   * 45700). The reader stays pure; the caller brings the intel.
   */
  isServer?: (ip: string, port: number) => boolean;
}

export function eveParser(opts: HostOptions = {}): LineParser {
  return {
    format: 'suricata',
    parse(line, out) {
      const o = parseObject(line);
      if (typeof o === 'string') return o;
      const kind = toStr(o.event_type);
      if (!kind) return 'no event_type';
      if (kind !== 'flow' && kind !== 'dns' && kind !== 'tls' && kind !== 'http' && kind !== 'alert')
        return skip(`suricata ${kind} records are not read`); // stats, fileinfo, anomaly...: not an error
      const time = toIso(o.timestamp);
      if (!time) return `bad or missing timestamp '${String(o.timestamp)}'`;
      let src = toIp(o.src_ip);
      let dst = toIp(o.dest_ip);
      let sport = toPort(o.src_port);
      let dport = toPort(o.dest_port);
      if (!src || !dst) return 'no src_ip/dest_ip';
      const flow = isObj(o.flow) ? o.flow : undefined;
      const dnsObj = isObj(o.dns) ? o.dns : undefined;
      if (kind === 'alert') {
        // An alert is logged in the packet's direction; a `to_client` one (a pool's reply, a stratum job)
        // names the server as src. Suricata 7+ writes the flow's own direction in flow.src_ip/dest_ip; 6
        // writes neither that nor `direction`, so a reply from a known server (intel) is turned around.
        const fsrc = flow ? toIp(flow.src_ip) : undefined;
        const fdst = flow ? toIp(flow.dest_ip) : undefined;
        if (fsrc && fdst) {
          if (fsrc !== src) {
            [src, dst] = [fsrc, fdst];
            sport = toPort(flow!.src_port) ?? dport;
            dport = toPort(flow!.dest_port) ?? sport;
          }
        } else if (
          toStr(o.direction) === 'to_client' ||
          (sport !== undefined &&
            dport !== undefined &&
            opts.isServer?.(src, sport) === true &&
            !opts.isServer(dst, dport))
        ) {
          [src, dst, sport, dport] = [dst, src, dport, sport];
        }
      }
      // DNS answers are logged in the answer's direction: the client is the side that is not port 53.
      if ((kind === 'dns' || dnsObj) && sport === 53 && dport !== 53) {
        [src, dst, sport, dport] = [dst, src, dport, sport];
      }
      const sensorName = toStr(o.host);
      const host = opts.hostFrom !== 'address' && sensorName ? sensorName : src;
      const base: Record<string, unknown> = { time, host };
      if (sensorName && host !== sensorName) base.sensor_name = sensorName;
      put(base, 'flow_id', typeof o.flow_id === 'number' ? o.flow_id : undefined);

      if (kind === 'dns') return dns(o, base, src, dst, out);
      // An alert on a DNS query (a pool's name) is the client's question, not a connection to the resolver:
      // a dns event carrying the alert, so the pool is found by name and the resolver is not made a pool.
      if (kind === 'alert' && dnsObj && dnsQueries(dnsObj).length) {
        const r = dns(o, base, src, dst, out);
        const last = out[out.length - 1] as Record<string, unknown> | undefined;
        if (r === undefined && last && last.type === 'dns') last.alert = alertOf(o);
        return r;
      }

      const proto = toProto(o.proto);
      // ICMP and ICMPv6 have no ports: the flow is still traffic to that address (port 0).
      if (dport === undefined && (proto === 'icmp' || proto === 'icmp6')) dport = 0;
      if (dport === undefined) return 'no dest_port';
      const ev: Record<string, unknown> = {
        ...base,
        type: 'connection',
        src_ip: src,
        dst_ip: dst,
        dst_port: dport,
      };
      put(ev, 'src_port', sport);
      put(ev, 'proto', proto);
      put(ev, 'service', toStr(o.app_proto));
      if (flow && kind === 'flow') {
        put(ev, 'bytes_out', toNum(flow.bytes_toserver));
        put(ev, 'bytes_in', toNum(flow.bytes_toclient));
        put(ev, 'packets_out', toNum(flow.pkts_toserver));
        put(ev, 'packets_in', toNum(flow.pkts_toclient));
        // EVE flow bytes count whole IP packets, as Zeek's *_ip_bytes do.
        ev.bytes_include_headers = true;
        const st = toIso(flow.start);
        const en = toIso(flow.end);
        const dur = st && en ? (Date.parse(en) - Date.parse(st)) / 1000 : toNum(flow.age);
        put(ev, 'duration', dur !== undefined && dur >= 0 ? dur : undefined);
        put(ev, 'conn_state', toStr(flow.state));
      }
      const tls = isObj(o.tls) ? o.tls : undefined;
      if (tls) {
        ev.tls = true;
        const sni = toStr(tls.sni);
        put(ev, 'domain', sni?.toLowerCase());
        put(ev, 'sni', sni);
        put(ev, 'tls_version', toStr(tls.version));
        put(ev, 'ja3', isObj(tls.ja3) ? toStr(tls.ja3.hash) : undefined);
      }
      const http = isObj(o.http) ? o.http : undefined;
      if (http) {
        put(ev, 'domain', toStr(http.hostname)?.toLowerCase());
        put(ev, 'http_method', toStr(http.http_method));
        put(ev, 'http_uri', toStr(http.url));
        put(ev, 'user_agent', toStr(http.http_user_agent));
      }
      const a = alertOf(o);
      if (a) ev.alert = a;
      ev.sensor = `suricata/${kind}`;
      out.push(ev as MinewatchEvent);
      return undefined;
    },
  };
}

function alertOf(o: Record<string, unknown>): Record<string, unknown> | undefined {
  const alert = isObj(o.alert) ? o.alert : undefined;
  if (!alert) return undefined;
  const a: Record<string, unknown> = { source: 'suricata' };
  put(a, 'signature', toStr(alert.signature));
  put(a, 'signature_id', toNum(alert.signature_id));
  put(a, 'category', toStr(alert.category));
  put(a, 'severity', toNum(alert.severity));
  put(a, 'action', toStr(alert.action));
  return a;
}

/** The questions of a dns object: v3 `queries[]`, the alert metadata's `query[]` (6-7), v1/v2 `rrname`. */
function dnsQueries(d: Record<string, unknown>): { name: string; type?: string }[] {
  const out: { name: string; type?: string }[] = [];
  const list = Array.isArray(d.queries) ? d.queries : Array.isArray(d.query) ? d.query : undefined;
  if (list) {
    for (const q of list)
      if (isObj(q) && toStr(q.rrname)) out.push({ name: toStr(q.rrname)!, ...typeOf(q.rrtype) });
  } else if (toStr(d.rrname)) out.push({ name: toStr(d.rrname)!, ...typeOf(d.rrtype) });
  return out;
}

function typeOf(v: unknown): { type?: string } {
  const t = toStr(v);
  return t ? { type: t } : {};
}

function dns(
  o: Record<string, unknown>,
  base: Record<string, unknown>,
  client: string,
  server: string,
  out: MinewatchEvent[],
): string | undefined {
  const d = isObj(o.dns) ? o.dns : undefined;
  if (!d) return 'dns record without a dns object';
  const q = dnsQueries(d)[0];
  // v1 logs every answer as its own record; a record with no name (an empty response) is nothing to import.
  if (!q) return skip('suricata dns record without a query name');
  const answers: string[] = [];
  if (Array.isArray(d.answers)) {
    for (const a of d.answers) if (isObj(a) && toStr(a.rdata)) answers.push(toStr(a.rdata)!);
  } else if (isObj(d.grouped)) {
    for (const v of Object.values(d.grouped))
      if (Array.isArray(v)) for (const x of v) if (toStr(x)) answers.push(toStr(x)!);
  } else if (toStr(d.rdata)) answers.push(toStr(d.rdata)!);
  const ev: Record<string, unknown> = { ...base, type: 'dns', query: q.name };
  put(ev, 'qtype', q.type);
  if (answers.length) ev.answers = answers;
  put(ev, 'rcode', toStr(d.rcode));
  put(ev, 'dns_type', toStr(d.type));
  ev.client = client;
  ev.server = server;
  ev.sensor = 'suricata/dns';
  out.push(ev as MinewatchEvent);
  return undefined;
}
