/**
 * Protocol dissectors, one file per protocol (nDPI's habit): pure functions and small state machines
 * that take bytes of one flow and return records. No I/O; every buffer and loop is bounded.
 *
 * - dns.ts: DNS messages over UDP and TCP (pool names and the IPs they resolve to).
 * - tls.ts: ClientHello / ServerHello, SNI, ALPN, JA3, JA3S, JA4 (the record layer and the ClientHello are read by
 *   the packet core, sensors/pcap/core/assembly/tls.ts; this module reads its answer and builds the fingerprints).
 * - stratum.ts: mining pool JSON-RPC (Monero, Bitcoin/ZCash, Ethereum, NiceHash) with a scored verdict.
 * - http.ts: HTTP/1.x heads, getwork/getblocktemplate miners, pool headers, WebSocket upgrades.
 */

export {
  DNS_TYPE,
  type DnsAnswer,
  type DnsMessage,
  type DnsQuestion,
  DnsTcpStream,
  ipv6ToString,
  parseDnsMessage,
  parseDnsTcpStream,
} from './dns.ts';
export {
  decodeBasicAuth,
  HTTP_MINING_THRESHOLD,
  type HttpHeadResult,
  HttpMiningAnalyzer,
  type HttpMiningResult,
  HttpMiningSession,
  type HttpRequestHead,
  type HttpResponseHead,
  looksLikeHttpRequestStart,
  MINER_USER_AGENT,
  parseHttpRequestHead,
  parseHttpResponseHead,
} from './http.ts';
export {
  type Direction,
  LineSplitter,
  looksLikeStratumStart,
  MINING_THRESHOLD,
  type StratumDialect,
  StratumFlow,
  type StratumResult,
  StratumSession,
} from './stratum.ts';
export {
  type ClientHello,
  ClientHelloParser,
  isGrease,
  ja3String,
  ja4,
  looksLikeTlsStart,
  parseClientHello,
  parseClientHelloMessage,
  parseServerHello,
  type ServerHello,
  ServerHelloParser,
  TLS_EXT,
  type TlsParseResult,
  type TlsParserOptions,
} from './tls.ts';
