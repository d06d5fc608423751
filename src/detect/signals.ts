import type { Severity } from '../findings/index.ts';

/**
 * Network signals that a connection finding can rest on, strongest first. Traffic captures (detect/traffic)
 * and imported telemetry (detect/events) share them, so the same evidence gets the same rule, severity and
 * title whichever way it arrived; a finding takes the rule of its strongest signal.
 */
export const NETWORK_SIGNALS = {
  stratum: { rule: 'net.stratum.session', rank: 6, severity: 'high', title: 'Stratum mining session' },
  http: { rule: 'net.http.mining', rank: 5, severity: 'high', title: 'HTTP getwork/getblocktemplate mining' },
  agent: {
    rule: 'net.http.miner-agent',
    rank: 5,
    severity: 'high',
    title: 'HTTP request with a miner User-Agent',
  },
  sni: {
    rule: 'net.tls.pool-sni',
    rank: 4,
    severity: 'high',
    title: 'TLS connection to a mining pool (SNI)',
  },
  proxy: {
    rule: 'net.proxy.pool-request',
    rank: 3,
    severity: 'high',
    title: 'Proxy request for a mining pool',
  },
  name: {
    rule: 'net.pool.connection',
    rank: 3,
    severity: 'high',
    title: 'Connection to a mining pool (DNS name)',
  },
  tlsRhythm: {
    rule: 'net.tls.stratum-no-sni',
    rank: 2,
    severity: 'medium',
    title: 'Stratum-shaped TLS to a bare address',
  },
  behaviour: {
    rule: 'net.flow.mining-behaviour',
    rank: 2,
    severity: 'medium',
    title: 'Flow behaves like mining',
  },
  endpoint: {
    rule: 'net.pool.known-endpoint',
    rank: 1,
    severity: 'medium',
    title: 'Connection to a known pool address',
  },
} as const satisfies Record<string, { rule: string; rank: number; severity: Severity; title: string }>;

export type NetworkSignal = keyof typeof NETWORK_SIGNALS;
