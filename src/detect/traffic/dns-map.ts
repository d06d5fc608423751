/**
 * IP → name map built from DNS answers seen in the traffic, so a later connection to that IP is attributed to
 * the pool by name (CNAME chains resolved to the name the client asked for). Bounded: oldest entries go first.
 */
export class DnsNameMap {
  private readonly byIp = new Map<string, string>();
  constructor(private readonly max = 200_000) {}

  /** Records `ip` as resolving for `name`; the queried name wins over intermediate CNAME targets. */
  set(ip: string, name: string): void {
    // delete() answers whether it was there: one look-up fewer than has() then delete() (set was ~29 ms self of
    // the 500 MB bench capture's whole-command profile, a DNS answer's every address set once).
    if (!this.byIp.delete(ip) && this.byIp.size >= this.max) {
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

/**
 * For every A/AAAA address of one response, in the order addressesByName gives them, the most telling name that
 * leads to it: the first of its names (addressesByName's list) that `isPool` accepts, else the first name.
 * `visit(ip, name)` is called once per address. The same answers as addressesByName followed by a find, without
 * the maps, sets and lists it builds per response (CNAME answers were a tenth of the bench capture's analysis
 * garbage); answers are a handful, so the repeated scans cost less than those objects (dns-map.test.ts compares).
 */
export function eachAddressName(
  question: string,
  answers: readonly DnsAnswerLike[],
  isPool: (name: string) => boolean,
  visit: (ip: string, name: string) => void,
): void {
  // The question's CNAME chain (as chainFrom: the last record for a name wins, a name twice ends it).
  const chain = [question];
  for (let cur = question, i = 0; i < 16; i++) {
    let next: string | undefined;
    for (const a of answers) if (a.type === 5 && a.name === cur) next = a.data;
    if (!next || chain.includes(next)) break;
    chain.push(next);
    cur = next;
  }
  for (let i = 0; i < answers.length; i++) {
    const first = answers[i]!;
    if (first.type !== 1 && first.type !== 28) continue;
    // An address met before has been visited (a Map keeps its first place); its names are its last record's.
    let seen = false;
    let a = first;
    for (let j = 0; j < answers.length; j++) {
      const b = answers[j]!;
      if ((b.type !== 1 && b.type !== 28) || b.data !== first.data) continue;
      if (j < i) seen = true;
      a = b;
    }
    if (seen) continue;
    const at = chain.indexOf(a.name);
    if (at < 0) {
      visit(a.data, a.name);
      continue;
    }
    let name = chain[0]!;
    for (let k = 0; k <= at; k++)
      if (isPool(chain[k]!)) {
        name = chain[k]!;
        break;
      }
    visit(a.data, name);
  }
}
