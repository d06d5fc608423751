import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DNS_TYPE, DnsTcpStream, ipv6ToString, parseDnsMessage, parseDnsTcpStream } from './dns.ts';

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

// Real messages from zeek-cryptomining/coinhive-stratum.pcap (frames 89, 90, 151, 152).
const QUERY_LA01_AAAA = hex('cf1301000001000000000000046c6130310a737570706f7274786d7203636f6d00001c0001');
const ANSWER_LA01_A = hex(
  '8d5281800001000100000000046c6130310a737570706f7274786d7203636f6d0000010001c00c000100010000005a0004c06ea072',
);
const ANSWER_WWW_CNAME_A = hex(
  '545081800001000300000000037777770a737570706f7274786d7203636f6d0000010001c00c00050001000000730027037777770a' +
    '737570706f7274786d7203636f6d0363646e0a636c6f7564666c617265036e657400c0300001000100000073000468147b22c03000' +
    '01000100000073000468147a22',
);
const ANSWER_WWW_AAAA = hex(
  'a76381800001000300000000037777770a737570706f7274786d7203636f6d00001c0001c00c00050001000000730027037777770a' +
    '737570706f7274786d7203636f6d0363646e0a636c6f7564666c617265036e657400c030001c00010000007300102400cb002048' +
    '00010000000068147b22c030001c00010000007300102400cb00204800010000000068147a22',
);

describe('parseDnsMessage', () => {
  it('reads a query', () => {
    const m = parseDnsMessage(QUERY_LA01_AAAA);
    assert.ok(m);
    assert.equal(m.qr, false);
    assert.deepEqual(m.questions, [{ name: 'la01.supportxmr.com', qtype: DNS_TYPE.AAAA, qclass: 1 }]);
    assert.deepEqual(m.answers, []);
  });

  it('reads the pool answer la01.supportxmr.com → 192.110.160.114', () => {
    const m = parseDnsMessage(ANSWER_LA01_A);
    assert.ok(m);
    assert.equal(m.id, 0x8d52);
    assert.equal(m.qr, true);
    assert.equal(m.rcode, 0);
    assert.deepEqual(m.answers, [{ name: 'la01.supportxmr.com', type: 1, ttl: 90, data: '192.110.160.114' }]);
    assert.equal(m.partial, undefined);
  });

  it('follows compression through a CNAME chain', () => {
    const m = parseDnsMessage(ANSWER_WWW_CNAME_A);
    assert.ok(m);
    assert.deepEqual(
      m.answers.map((a) => [a.name, a.type, a.data]),
      [
        ['www.supportxmr.com', 5, 'www.supportxmr.com.cdn.cloudflare.net'],
        ['www.supportxmr.com.cdn.cloudflare.net', 1, '104.20.123.34'],
        ['www.supportxmr.com.cdn.cloudflare.net', 1, '104.20.122.34'],
      ],
    );
  });

  it('formats AAAA per RFC 5952', () => {
    const m = parseDnsMessage(ANSWER_WWW_AAAA);
    assert.ok(m);
    assert.equal(m.answers[1]?.data, '2400:cb00:2048:1::6814:7b22');
    assert.equal(ipv6ToString(new Uint8Array(16)), '::');
    assert.equal(ipv6ToString(hex('00010000000000000000000000000001')), '1::1');
    // A single zero group is not shortened.
    assert.equal(ipv6ToString(hex('20010db8000000010001000100010001')), '2001:db8:0:1:1:1:1:1');
  });

  it('lowercases names and escapes odd bytes', () => {
    // Query for "A.B\x2e" → label "A", label "b." (with a literal dot): must not read as a.b..
    const m = parseDnsMessage(hex('000001000001000000000000' + '0141' + '02622e' + '00' + '00010001'));
    assert.ok(m);
    assert.equal(m.questions[0]?.name, 'a.b\\046');
  });

  it('keeps other types as numbers and MX/TXT as text', () => {
    const base = '000081800001000300000000' + '0178' + '00' + '00100001';
    const txt = 'c00c' + '0010' + '0001' + '00000001' + '000a' + '0568656c6c6f' + '03616263'; // "hello" "abc"
    const mx = 'c00c' + '000f' + '0001' + '00000001' + '0004' + '000a' + 'c00c';
    const srv = 'c00c' + '0021' + '0001' + '00000001' + '0002' + 'abcd';
    const m = parseDnsMessage(hex(base + txt + mx + srv));
    assert.ok(m);
    assert.deepEqual(
      m.answers.map((a) => [a.type, a.data]),
      [
        [16, 'hello abc'],
        [15, '10 x'],
        [33, ''],
      ],
    );
  });

  it('rejects short and non-DNS input', () => {
    assert.equal(parseDnsMessage(new Uint8Array(5)), null);
    assert.equal(parseDnsMessage(new TextEncoder().encode('GET / HTTP/1.1\r\nHost: x\r\n\r\n')), null);
  });

  it('survives a compression loop (pointer to itself and a two-step loop)', () => {
    // Question name is a pointer to offset 12, i.e. to itself.
    assert.equal(parseDnsMessage(hex('000001000001000000000000' + 'c00c' + '00010001')), null);
    // Label "a" then pointer back to the label: a → a → a ... must stop.
    assert.equal(parseDnsMessage(hex('000001000001000000000000' + '0161' + 'c00c' + '00010001')), null);
    // Forward pointer.
    assert.equal(parseDnsMessage(hex('000001000001000000000000' + 'c010' + '00010001' + '00')), null);
  });

  it('keeps good answers before a broken one and marks the message partial', () => {
    const broken = hex(
      '8d5281800001000200000000046c6130310a737570706f7274786d7203636f6d0000010001c00c000100010000005a0004c06ea072' +
        'c00c00010001000000ff00ff01',
    );
    const m = parseDnsMessage(broken);
    assert.ok(m);
    assert.equal(m.answers.length, 1);
    assert.equal(m.partial, true);
  });

  it('bounds lying header counts', () => {
    const m = parseDnsMessage(hex('8d528180' + '0001' + 'ffff' + '00000000' + '0178' + '00' + '00010001'));
    assert.ok(m);
    assert.equal(m.answers.length, 0);
    assert.equal(m.partial, true);
    assert.equal(parseDnsMessage(hex('8d528180' + 'ffff' + '0000' + '00000000')), null);
  });

  it('handles a very long name by refusing it', () => {
    // 200 labels of one char = 400 octets > 255.
    const m = parseDnsMessage(hex('000001000001000000000000' + '0161'.repeat(200) + '00' + '00010001'));
    assert.equal(m, null);
  });

  it('never throws on random bytes', () => {
    let seed = 12345;
    const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 0xff;
    for (let n = 0; n < 3000; n++) {
      const b = new Uint8Array(12 + (n % 200));
      for (let i = 0; i < b.length; i++) b[i] = rnd();
      b[4] = 0;
      b[5] = 1;
      parseDnsMessage(b);
    }
    // Mutations of a real answer.
    for (let n = 0; n < 3000; n++) {
      const b = ANSWER_WWW_CNAME_A.slice();
      b[12 + (n % (b.length - 12))] = rnd();
      parseDnsMessage(b);
    }
  });
});

describe('DnsTcpStream', () => {
  const framed = (...msgs: Uint8Array[]) => {
    const parts: number[] = [];
    for (const m of msgs) parts.push(m.length >> 8, m.length & 0xff, ...m);
    return Uint8Array.from(parts);
  };

  it('splits length-prefixed messages fed byte by byte', () => {
    const stream = framed(QUERY_LA01_AAAA, ANSWER_LA01_A, ANSWER_WWW_AAAA);
    const s = new DnsTcpStream();
    const got = [];
    for (let i = 0; i < stream.length; i++) got.push(...s.push(stream.subarray(i, i + 1)));
    assert.equal(got.length, 3);
    assert.equal(got[1]?.answers[0]?.data, '192.110.160.114');
    assert.equal(s.pending, 0);
  });

  it('whole-stream helper, counting garbage frames', () => {
    const s = new DnsTcpStream();
    const out = s.push(framed(new Uint8Array(3), ANSWER_LA01_A));
    assert.equal(out.length, 1);
    assert.equal(s.malformed, 1);
    assert.equal(parseDnsTcpStream(framed(ANSWER_LA01_A)).length, 1);
  });

  it('keeps at most one message worth of bytes', () => {
    const s = new DnsTcpStream();
    // A frame that claims 65,535 bytes, then 1 MB of junk in 4 KiB chunks.
    s.push(hex('ffff'));
    const junk = new Uint8Array(4096);
    for (let i = 0; i < 256; i++) {
      s.push(junk);
      assert.ok(s.pending <= 2 + 65535);
    }
  });
});
