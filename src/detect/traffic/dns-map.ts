/**
 * IP → name map built from DNS answers seen in the traffic, so a later connection to that IP is attributed to
 * the pool by name (CNAME chains resolved to the name the client asked for). Bounded: oldest entries go first.
 */
export class DnsNameMap {
  private readonly byIp = new Map<string, string>();
  constructor(private readonly max = 200_000) {}

  /** Records `ip` as resolving for `name`; the queried name wins over intermediate CNAME targets. */
  set(ip: string, name: string): void {
    if (this.byIp.has(ip)) this.byIp.delete(ip);
    else if (this.byIp.size >= this.max) {
      const oldest = this.byIp.keys().next().value;
      if (oldest !== undefined) this.byIp.delete(oldest);
    }
    this.byIp.set(ip, name);
  }

  get(ip: string): string | undefined {
    return this.byIp.get(ip);
  }

  get size(): number {
    return this.byIp.size;
  }
}

export interface DnsAnswerLike {
  name: string;
  type: number;
  data: string;
}

/**
 * Walks CNAME chains in one response: returns, for every A/AAAA address, the names that lead to it
 * (the question name first, then each alias). Bounded by the answers present, so a CNAME loop ends.
 */
export function addressesByName(question: string, answers: readonly DnsAnswerLike[]): Map<string, string[]> {
  let cnames = false;
  for (const a of answers) if (a.type === 5) cnames = true;
  if (!cnames) {
    // No chain to walk (most answers): each address is led to by its own record's name, which is the
    // question's when the record hangs off it.
    const out = new Map<string, string[]>();
    for (const a of answers) if (a.type === 1 || a.type === 28) out.set(a.data, [a.name]);
    return out;
  }
  const cnameOf = new Map<string, string>();
  for (const a of answers) if (a.type === 5) cnameOf.set(a.name, a.data);
  const chainFrom = (start: string): string[] => {
    const chain = [start];
    let cur = start;
    for (let i = 0; i < 16; i++) {
      const next = cnameOf.get(cur);
      if (!next || chain.includes(next)) break;
      chain.push(next);
      cur = next;
    }
    return chain;
  };
  const out = new Map<string, string[]>();
  const chain = chainFrom(question);
  const inChain = new Set(chain);
  for (const a of answers) {
    if (a.type !== 1 && a.type !== 28) continue;
    // Names that lead to this address: the question's chain if the record hangs off it, else its own name.
    const names = inChain.has(a.name) ? chain.slice(0, chain.indexOf(a.name) + 1) : [a.name];
    out.set(a.data, names);
  }
  return out;
}
