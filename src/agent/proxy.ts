/**
 * How the agent reaches its server when the defaults do not do: through an egress proxy (`--proxy URL`, or
 * HTTPS_PROXY / HTTP_PROXY with NO_PROXY, upper or lower case, as curl reads them) and/or trusting a private
 * CA for the server's certificate (`--ca FILE`, beside the system's CAs). Node's own fetch ignores the proxy
 * variables and takes no CA, so the agent then sends through undici's ProxyAgent (HTTP CONNECT) or Agent
 * with undici's fetch of the same version. The agent talks to one server: the choice is made once.
 */
import { rootCertificates } from 'node:tls';
import type { Dispatcher } from 'undici';

export interface ProxyChoice {
  /** The server the agent sends to. */
  server: string;
  /** An explicit proxy URL (`--proxy`); wins over the environment, and NO_PROXY does not apply to it. */
  proxy?: string | undefined;
  /** PEM certificate(s) of a CA to trust for the server, as well as the system's (`--ca`). */
  ca?: string | undefined;
  env?: NodeJS.ProcessEnv;
}

/** The proxy the agent's requests to `server` go through, or undefined for a direct connection. */
export function proxyFor(c: ProxyChoice): string | undefined {
  if (c.proxy) return c.proxy;
  const e = c.env ?? process.env;
  const u = new URL(c.server);
  const proxy = u.protocol === 'https:' ? (e.HTTPS_PROXY ?? e.https_proxy) : (e.HTTP_PROXY ?? e.http_proxy);
  if (!proxy) return undefined;
  return bypassed(u, e.NO_PROXY ?? e.no_proxy ?? '') ? undefined : proxy;
}

/**
 * NO_PROXY as curl reads it: `*`, or names and addresses separated by commas or spaces, each matching itself
 * and (names) every name below it, a leading dot optional, with an optional `:port`.
 */
export function bypassed(u: URL, noProxy: string): boolean {
  const host = u.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = u.port || (u.protocol === 'https:' ? '443' : '80');
  for (const raw of noProxy.split(/[\s,]+/)) {
    if (!raw) continue;
    if (raw === '*') return true;
    const e = raw.toLowerCase();
    // [v6]:port, a bare v6 address (more than one colon: no port), or name[:port].
    const m = e.startsWith('[')
      ? /^\[([^\]]*)\](?::(\d+))?$/.exec(e)
      : e.indexOf(':') !== e.lastIndexOf(':')
        ? [e, e, undefined]
        : /^([^:]*)(?::(\d+))?$/.exec(e);
    if (!m) continue;
    const name = m[1]!.replace(/^\*?\./, '');
    if (m[2] && m[2] !== port) continue;
    if (host === name || host.endsWith(`.${name}`)) return true;
  }
  return false;
}

/** A fetch with its own connections, and how to let go of them (else they keep the process alive). */
export type ProxiedFetch = typeof fetch & { close(): Promise<void> };

/**
 * A fetch that goes through the proxy for the server and/or trusts the given CA, or undefined when neither
 * applies (the global fetch then does).
 */
export async function transportFetch(c: ProxyChoice): Promise<ProxiedFetch | undefined> {
  const proxy = proxyFor(c);
  if (!proxy && !c.ca) return undefined;
  if (proxy) new URL(proxy); // a bad URL is the caller's error, said now rather than at the first send
  // Named exports under Node's ESM loader, `default` in the esbuild bundle (undici is CommonJS).
  const mod = await import('undici');
  const undici = ('ProxyAgent' in mod ? mod : (mod as { default: typeof mod }).default) as typeof mod;
  // `ca` replaces Node's trusted roots: the system's go along so a public certificate still verifies.
  const tls = c.ca ? { ca: [...rootCertificates, c.ca] } : undefined;
  const dispatcher: Dispatcher = proxy
    ? new undici.ProxyAgent({ uri: proxy, ...(tls ? { requestTls: tls } : {}) })
    : new undici.Agent({ connect: tls! });
  const f = (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) =>
    undici.fetch(input as Parameters<typeof undici.fetch>[0], {
      ...(init as Parameters<typeof undici.fetch>[1]),
      dispatcher,
    }) as unknown as Promise<Response>;
  return Object.assign(f, { close: () => dispatcher.close() }) as unknown as ProxiedFetch;
}
