import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type DnsAnswerLike, DnsNameMap, eachAddressName } from './dns-map.ts';

// The definition eachAddressName is held to: the names that lead to each address, as maps and lists.
/**
 * Walks CNAME chains in one response: returns, for every A/AAAA address, the names that lead to it
 * (the question name first, then each alias). Bounded by the answers present, so a CNAME loop ends.
 */
function addressesByName(question: string, answers: readonly DnsAnswerLike[]): Map<string, string[]> {
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

test('CNAME chain leads back to the queried name', () => {
  const m = addressesByName('pool.example.org', [
    { name: 'pool.example.org', type: 5, data: 'lb.example.net' },
    { name: 'lb.example.net', type: 5, data: 'edge.cdn.net' },
    { name: 'edge.cdn.net', type: 1, data: '192.0.2.7' },
    { name: 'unrelated.net', type: 1, data: '192.0.2.9' },
  ]);
  assert.deepEqual(m.get('192.0.2.7'), ['pool.example.org', 'lb.example.net', 'edge.cdn.net']);
  assert.deepEqual(m.get('192.0.2.9'), ['unrelated.net']);
});

test('a CNAME loop ends', () => {
  const m = addressesByName('a.test', [
    { name: 'a.test', type: 5, data: 'b.test' },
    { name: 'b.test', type: 5, data: 'a.test' },
  ]);
  assert.equal(m.size, 0);
});

test('name map is bounded and keeps the newest', () => {
  const m = new DnsNameMap(3);
  for (let i = 0; i < 5; i++) m.set(`10.0.0.${i}`, `n${i}`);
  assert.equal(m.size, 3);
  assert.equal(m.get('10.0.0.0'), undefined);
  assert.equal(m.get('10.0.0.4'), 'n4');
});

test('an address named again becomes the newest, and a full map drops the oldest for a new one only', () => {
  const m = new DnsNameMap(3);
  m.set('10.0.0.1', 'a');
  m.set('10.0.0.2', 'b');
  m.set('10.0.0.3', 'c');
  m.set('10.0.0.1', 'a2'); // present: renamed and moved last, nothing dropped
  assert.equal(m.size, 3);
  assert.equal(m.get('10.0.0.1'), 'a2');
  m.set('10.0.0.4', 'd'); // absent: the oldest (10.0.0.2) goes
  assert.equal(m.get('10.0.0.2'), undefined);
  assert.deepEqual(
    ['10.0.0.1', '10.0.0.3', '10.0.0.4'].map((ip) => m.get(ip)),
    ['a2', 'c', 'd'],
  );
  m.set('10.0.0.5', 'e'); // then 10.0.0.3, older than the renamed 10.0.0.1
  assert.equal(m.get('10.0.0.3'), undefined);
  assert.equal(m.get('10.0.0.1'), 'a2');
});

test('eachAddressName picks what addressesByName and a find pick, in its order, on 5,000 random answers', () => {
  let seed = 3;
  const rnd = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  const names = ['q.test', 'a.test', 'b.test', 'c.test', 'pool.test', 'x.pool.test', ''];
  const ips = ['192.0.2.1', '192.0.2.2', '192.0.2.3', '2001:db8::1'];
  for (let n = 0; n < 5000; n++) {
    const answers: DnsAnswerLike[] = Array.from({ length: rnd(8) }, () => {
      const type = [1, 28, 5, 5, 2][rnd(5)]!;
      const name = names[rnd(names.length)]!;
      return {
        name,
        type,
        data: type === 1 || type === 28 ? ips[rnd(ips.length)]! : names[rnd(names.length)]!,
      };
    });
    const pools = new Set(names.filter(() => rnd(3) === 0));
    const isPool = (x: string) => pools.has(x);
    const want = [...addressesByName('q.test', answers)].map(([ip, list]) => [
      ip,
      list.find(isPool) ?? list[0],
    ]);
    const got: string[][] = [];
    eachAddressName('q.test', answers, isPool, (ip, name) => got.push([ip, name]));
    assert.deepEqual(got, want, JSON.stringify(answers));
  }
});
