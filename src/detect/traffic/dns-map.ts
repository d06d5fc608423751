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
 * For every A/AAAA address of one response (once, at its first record), the most telling name that leads to it.
 * The names that lead to an address are the question's CNAME chain up to the name its last record hangs off (if
 * that name is in the chain), else that record's own name; the first of them `isPool` accepts is given, else the
 * first. `visit(ip, name)` is called once per address. Walked in place, without a map, set or list per address
 * (CNAME answers, built into maps and lists, were a tenth of the bench capture's analysis garbage); answers are a
 * handful, so the repeated scans cost less than those objects (dns-map.test.ts compares it with a definition
 * that builds them).
 */
export function eachAddressName(
  question: string,
  answers: readonly DnsAnswerLike[],
  isPool: (name: string) => boolean,
  visit: (ip: string, name: string) => void,
): void {
  // The question's CNAME chain (the last record for a name wins, a name met twice ends it, 16 links at most).
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
