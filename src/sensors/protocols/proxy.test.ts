import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mulberry32 } from '../../util/random.ts';
import { looksLikeProxyStart, ProxyHandshake, type ProxyStep } from './proxy.ts';

const enc = (s: string) => new TextEncoder().encode(s);
const bytes = (...xs: (number | string | Uint8Array)[]) => {
  const out: number[] = [];
  for (const x of xs) {
    if (typeof x === 'number') out.push(x);
    else out.push(...(typeof x === 'string' ? enc(x) : x));
  }
  return Uint8Array.from(out);
};
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

/** A SOCKS5 domain request for host:port. */
const s5domain = (host: string, port: number) => bytes(5, 1, 0, 3, host.length, host, port >> 8, port & 255);
const LOGIN = '{"id":1,"method":"login","params":{"login":"x"}}\n';

/** Feeds each direction in one-byte segments: what a handshake split across packets looks like. */
function trickle(h: ProxyHandshake, dir: 'c2s' | 's2c', b: Uint8Array): ProxyStep[] {
  const steps: ProxyStep[] = [];
  for (let i = 0; i < b.length; i++) {
    const st = h.push(dir, b.subarray(i, i + 1));
    if (st.status !== 'need-more') steps.push(st);
  }
  return steps;
}

describe('looksLikeProxyStart', () => {
  it('knows the three handshakes by their first bytes', () => {
    assert.equal(looksLikeProxyStart(enc('CONNECT pool.example:443 HTTP/1.1\r\n')), 'http-connect');
    assert.equal(looksLikeProxyStart(bytes(5, 1, 0)), 'socks5');
    assert.equal(looksLikeProxyStart(bytes(5, 2, 0, 2)), 'socks5');
    assert.equal(looksLikeProxyStart(bytes(4, 1, 0x0d, 0x05, 1, 2, 3, 4, 'u', 0)), 'socks4');
  });
  it('is not fooled by stratum, TLS, HTTP or binary that starts with 4 or 5', () => {
    assert.equal(looksLikeProxyStart(enc(LOGIN)), null);
    assert.equal(looksLikeProxyStart(bytes(0x16, 3, 1, 0, 5)), null);
    assert.equal(looksLikeProxyStart(enc('GET / HTTP/1.1\r\n')), null);
    assert.equal(looksLikeProxyStart(bytes(5, 0)), null); // no methods
    assert.equal(looksLikeProxyStart(bytes(5, 2, 0, 0x40)), null); // an unassigned method
    assert.equal(looksLikeProxyStart(bytes(4, 1, 0, 0, 1, 2, 3, 4, 0)), null); // port 0
    assert.equal(looksLikeProxyStart(bytes(4, 1, 0, 80, 1, 2, 3)), null); // too short
  });
});

describe('ProxyHandshake', () => {
  it('HTTP CONNECT: the target, the ClientHello sent right behind the request, the 200 answer', () => {
    const h = new ProxyHandshake('http-connect');
    const st = h.push(
      'c2s',
      bytes(
        'CONNECT xmr-eu1.nanopool.org:14433 HTTP/1.1\r\nHost: xmr-eu1.nanopool.org:14433\r\n\r\n',
        0x16,
        3,
        1,
      ),
    );
    assert.equal(st.status, 'request');
    assert.deepEqual(st.status === 'request' && st.target, {
      protocol: 'http-connect',
      host: 'xmr-eu1.nanopool.org',
      port: 14433,
    });
    assert.deepEqual(st.status === 'request' && [...st.rest], [0x16, 3, 1]);
    const open = h.push('s2c', enc('HTTP/1.1 200 Connection established\r\n\r\n{"id":1}'));
    assert.equal(open.status, 'open');
    assert.equal(open.status === 'open' && dec(open.rest), '{"id":1}');
    // Afterwards both directions are tunnel content, passed through untouched.
    assert.deepEqual(h.push('c2s', enc('abc')), { status: 'open', rest: enc('abc') });
  });
  it('HTTP CONNECT to an IPv6 literal and to a dotted quad; a 407 is a refusal with its reason', () => {
    const v6 = new ProxyHandshake('http-connect').push(
      'c2s',
      enc('CONNECT [2001:DB8::7]:3333 HTTP/1.1\r\n\r\n'),
    );
    assert.deepEqual(v6.status === 'request' && v6.target, {
      protocol: 'http-connect',
      ip: '2001:db8::7',
      port: 3333,
    });
    const h = new ProxyHandshake('http-connect');
    const v4 = h.push('c2s', enc('CONNECT 198.51.100.7:3333 HTTP/1.0\r\n\r\n'));
    assert.deepEqual(v4.status === 'request' && v4.target, {
      protocol: 'http-connect',
      ip: '198.51.100.7',
      port: 3333,
    });
    const no = h.push('s2c', enc('HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n'));
    assert.equal(no.status, 'refused');
    assert.match(no.status === 'refused' ? no.reason : '', /407 Proxy Authentication Required/);
  });
  it('SOCKS5 with username/password and a domain, split into one-byte segments', () => {
    const h = new ProxyHandshake('socks5');
    const c = trickle(
      h,
      'c2s',
      bytes(5, 2, 0, 2, 1, 4, 'user', 4, 'pass', s5domain('pool.supportxmr.com', 3333), LOGIN),
    );
    assert.equal(c[0]?.status, 'request');
    assert.deepEqual(c[0]?.status === 'request' && c[0].target, {
      protocol: 'socks5',
      host: 'pool.supportxmr.com',
      port: 3333,
    });
    // Every later byte is tunnel content.
    assert.equal(
      c
        .slice(1)
        .map((x) => (x.status === 'open' ? dec(x.rest) : '?'))
        .join(''),
      LOGIN,
    );
    const s = trickle(h, 's2c', bytes(5, 2, 1, 0, 5, 0, 0, 1, 10, 0, 0, 1, 0x1f, 0x90, '{'));
    assert.deepEqual(
      s.map((x) => x.status),
      ['open', 'open'],
    );
  });
  it('SOCKS5 to IPv4 and IPv6 addresses; failure codes are refusals', () => {
    const h4 = new ProxyHandshake('socks5');
    const r4 = h4.push('c2s', bytes(5, 1, 0, 5, 1, 0, 1, 94, 130, 143, 162, 0xb2, 0x84));
    assert.deepEqual(r4.status === 'request' && r4.target, {
      protocol: 'socks5',
      ip: '94.130.143.162',
      port: 45700,
    });
    const refused = h4.push('s2c', bytes(5, 0, 5, 5, 0, 1, 0, 0, 0, 0, 0, 0));
    assert.equal(refused.status, 'refused');
    assert.match(refused.status === 'refused' ? refused.reason : '', /connection refused/);
    const h6 = new ProxyHandshake('socks5');
    const addr = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9];
    const r6 = h6.push('c2s', bytes(5, 1, 0, 5, 1, 0, 4, ...addr, 0x0d, 0x05));
    assert.deepEqual(r6.status === 'request' && r6.target, {
      protocol: 'socks5',
      ip: '2001:db8::9',
      port: 3333,
    });
    const none = new ProxyHandshake('socks5');
    none.push('c2s', bytes(5, 1, 0));
    // No method acceptable: the client never gets to name a target, so there is nothing to report.
    assert.equal(none.push('s2c', bytes(5, 0xff)).status, 'not-proxy');
  });
  it('SOCKS4 and SOCKS4a', () => {
    const h = new ProxyHandshake('socks4');
    const r = h.push('c2s', bytes(4, 1, 0x0d, 0x05, 198, 51, 100, 7, 'miner', 0, LOGIN));
    assert.deepEqual(r.status === 'request' && r.target, {
      protocol: 'socks4',
      ip: '198.51.100.7',
      port: 3333,
    });
    assert.equal(r.status === 'request' && dec(r.rest), LOGIN);
    assert.equal(h.push('s2c', bytes(0, 0x5a, 0, 0, 0, 0, 0, 0)).status, 'open');
    const a = new ProxyHandshake('socks4').push(
      'c2s',
      bytes(4, 1, 0x01, 0xbb, 0, 0, 0, 1, 0, 'gulf.moneroocean.stream', 0),
    );
    assert.deepEqual(a.status === 'request' && a.target, {
      protocol: 'socks4',
      host: 'gulf.moneroocean.stream',
      port: 443,
    });
    const h2 = new ProxyHandshake('socks4');
    h2.push('c2s', bytes(4, 1, 0, 80, 1, 2, 3, 4, 0));
    assert.equal(h2.push('s2c', bytes(0, 0x5b, 0, 0, 0, 0, 0, 0)).status, 'refused');
  });
  it('gives up on what is not a handshake, and never buffers more than a few KB', () => {
    assert.equal(
      new ProxyHandshake('http-connect').push('c2s', enc('CONNECT nowhere HTTP/1.1\r\n\r\n')).status,
      'not-proxy',
    );
    assert.equal(
      new ProxyHandshake('socks5').push('c2s', bytes(5, 1, 0, 5, 1, 0, 9, 1, 2)).status,
      'not-proxy',
    );
    assert.equal(
      new ProxyHandshake('socks5').push('c2s', bytes(5, 1, 0, 5, 1, 0, 3, 3, 'a b', 0, 80)).status,
      'not-proxy',
    );
    const h = new ProxyHandshake('http-connect');
    let last: ProxyStep = { status: 'need-more' };
    h.push('c2s', enc('CONNECT a.example:443 HTTP/1.1\r\n'));
    for (let i = 0; i < 100 && last.status === 'need-more'; i++)
      last = h.push('c2s', enc(`X-Pad: ${'x'.repeat(100)}\r\n`));
    assert.equal(last.status, 'not-proxy');
  });
});

describe('ProxyHandshake on hostile input', () => {
  it('random handshakes in random segments: no throw, and every stream is decided within a few KB', () => {
    const r = mulberry32(7);
    const starts = [bytes('CONNECT '), bytes(5, 2, 0, 2), bytes(4, 1, 0, 80, 1, 2, 3, 4)];
    for (let k = 0; k < 2000; k++) {
      const protocol = (['http-connect', 'socks5', 'socks4'] as const)[k % 3]!;
      const h = new ProxyHandshake(protocol);
      const body = Uint8Array.from({ length: Math.floor(r() * 6000) }, () =>
        r() < 0.2 ? [0, 1, 3, 4, 5, 0x0d, 0x0a, 0x3a][Math.floor(r() * 8)]! : Math.floor(r() * 256),
      );
      const stream = { c2s: bytes(starts[k % 3]!, body), s2c: body.slice().reverse() };
      const decided = { c2s: false, s2c: false };
      for (const dir of ['c2s', 's2c'] as const) {
        const b = stream[dir];
        for (let i = 0; i < b.length && !decided[dir]; ) {
          const n = 1 + Math.floor(r() * 700);
          const st = h.push(dir, b.subarray(i, i + n));
          i += n;
          if (st.status !== 'need-more') decided[dir] = true;
        }
        // Whatever it is, a direction longer than the handshake bound has been decided.
        if (b.length > 4096) assert.ok(decided[dir], `${protocol} ${dir} of ${b.length} bytes decided`);
      }
    }
  });
});
