import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  ClientHelloParser,
  isGrease,
  ja3String,
  ja4,
  looksLikeTlsStart,
  parseClientHello,
  parseClientHelloMessage,
  parseServerHello,
  ServerHelloParser,
} from './tls.ts';

const hex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));

// bfgminer 5.2.0 → us1.bitminter.com:3333, zeek-cryptomining/bitcoin-mining.pcap frame 25.
const BFGMINER_HELLO = hex(
  '160301010c0100010803035b64647cf504b32950060964db3f7d795d9df243516978ddc71095672147c5e600006cc02bc02cc086c087' +
    'c009c023c00ac024c072c073c0acc0adc008c02fc030c08ac08bc013c027c014c028c076c077c012009c009dc07ac07b002f003c00' +
    '35003d004100ba008400c0c09cc09d000a009e009fc07cc07d003300670039006b004500be008800c4c09ec09f0016010000730017' +
    '0000001600000005000501000000000000001600140000117573312e6269746d696e7465722e636f6dff0100010000230000000a00' +
    '0c000a00170018001900150013000b00020100000d0016001404010403050105030601060303010303020102030010000b00090868' +
    '7474702f312e31',
);
// Chrome with GREASE → coinhive.com, zeek-cryptomining/coinhive-stratum.pcap frame 8.
const CHROME_COINHIVE_HELLO = hex(
  '16030100c3010000bf03035dcced53a633230c6802376c73798761a3370b0b44dab2b18fc9379d6373113700001c5a5ac02bc02fc02c' +
    'c030cca9cca8c013c014009c009d002f0035000a0100007aeaea0000ff0100010000000011000f00000c636f696e686976652e636f' +
    '6d0017000000230000000d00140012040308040401050308050501080606010201000500050100000000001200000010000e000c02' +
    '683208687474702f312e3175500000000b00020100000a000a0008caca001d001700185a5a000100',
);
// ServerHello from coinhive.com (same capture, frame 10), first 81 bytes = the ServerHello record.
const COINHIVE_SERVER_HELLO = hex(
  '160303004c0200004803035b97f052c4d319de75b7c65ff306344f6ef618efedc682de444f574e4752440100c02b000020ff01000100' +
    '001700000023000000050000001000050003026832000b00020100',
);

describe('ClientHello on corpus captures (cross-checked with tshark 4.0 tls.handshake.ja3)', () => {
  it('bfgminer hello to a stratum port', () => {
    const h = parseClientHello(BFGMINER_HELLO);
    assert.ok(h);
    assert.equal(h.sni, 'us1.bitminter.com');
    assert.deepEqual(h.alpn, ['http/1.1']);
    assert.equal(h.version, 0x0303);
    assert.equal(h.recordVersion, 0x0301);
    assert.equal(h.cipherSuites.length, 54);
    assert.deepEqual(h.supportedGroups, [23, 24, 25, 21, 19]);
    assert.deepEqual(h.ecPointFormats, [0]);
    assert.equal(h.signatureAlgorithms[0], 0x0401);
    assert.equal(
      h.ja3,
      '771,49195-49196-49286-49287-49161-49187-49162-49188-49266-49267-49324-49325-49160-49199-49200-49290-' +
        '49291-49171-49191-49172-49192-49270-49271-49170-156-157-49274-49275-47-60-53-61-65-186-132-192-49308-' +
        '49309-10-158-159-49276-49277-51-103-57-107-69-190-136-196-49310-49311-22,23-22-5-0-65281-35-10-11-13-16,' +
        '23-24-25-21-19,0',
    );
    assert.equal(h.ja3Hash, 'ec2e8760003621ca668b5f03e616cd57');
    // No supported_versions: version from legacy_version; SNI present; 54 ciphers; 10 extensions; "http/1.1".
    assert.match(h.ja4, /^t12d5410h1_[0-9a-f]{12}_[0-9a-f]{12}$/);
  });

  it('Chrome hello with GREASE values', () => {
    const h = parseClientHello(CHROME_COINHIVE_HELLO);
    assert.ok(h);
    assert.equal(h.sni, 'coinhive.com');
    assert.deepEqual(h.alpn, ['h2', 'http/1.1']);
    assert.equal(h.cipherSuites[0], 0x5a5a);
    assert.equal(
      h.ja3,
      '771,49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53-10,65281-0-23-35-13-5-18-16-30032-11-10,29-23-24,0',
    );
    assert.equal(h.ja3Hash, '94c485bca29d5392be53f2b8cf7f4304');
    assert.ok(h.ja4.startsWith('t12d1311h2_'));
  });

  it('ServerHello and JA3S (tshark: 771,49195,65281-23-35-5-16-11 / 043d8ee0…)', () => {
    const s = parseServerHello(COINHIVE_SERVER_HELLO);
    assert.ok(s);
    assert.equal(s.cipherSuite, 0xc02b);
    assert.equal(s.alpn, 'h2');
    assert.equal(s.ja3s, '771,49195,65281-23-35-5-16-11');
    assert.equal(s.ja3sHash, '043d8ee06abca9f0a2a8cf85634ab93e');
  });
});

/** Builds a ClientHello record from parts, for the spec examples and hostile variants. */
function buildHello(o: {
  ciphers: number[];
  exts: Array<[number, Uint8Array]>;
  version?: number;
}): Uint8Array {
  const u16 = (v: number) => [v >> 8, v & 0xff];
  const body: number[] = [...u16(o.version ?? 0x0303), ...new Array(32).fill(7), 0];
  body.push(...u16(o.ciphers.length * 2), ...o.ciphers.flatMap(u16), 1, 0);
  const ext: number[] = [];
  for (const [t, d] of o.exts) ext.push(...u16(t), ...u16(d.length), ...d);
  body.push(...u16(ext.length), ...ext);
  const hs = [1, 0, body.length >> 8, body.length & 0xff, ...body];
  return Uint8Array.from([0x16, 3, 1, ...u16(hs.length), ...hs]);
}
const v16 = (xs: number[]) =>
  Uint8Array.from([(xs.length * 2) >> 8, (xs.length * 2) & 0xff, ...xs.flatMap((v) => [v >> 8, v & 0xff])]);
const sniExt = (name: string) => {
  const n = Buffer.from(name);
  return Uint8Array.from([
    (n.length + 3) >> 8,
    (n.length + 3) & 0xff,
    0,
    n.length >> 8,
    n.length & 0xff,
    ...n,
  ]);
};
const alpnExt = (...names: string[]) => {
  const l = names.flatMap((n) => [n.length, ...Buffer.from(n)]);
  return Uint8Array.from([l.length >> 8, l.length & 0xff, ...l]);
};

describe('JA4 against published examples', () => {
  it('FoxIO spec: sorted-list hashes', () => {
    const sorted = '002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9';
    assert.equal(createHash('sha256').update(sorted).digest('hex').slice(0, 12), '8daaf6152771');
  });

  it('FoxIO spec example t13d1516h2_8daaf6152771_e5627efa2ab1', () => {
    const r = ja4({
      maxVersion: 0x0304,
      sni: 'example.com',
      cipherSuites: [
        0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c,
        0x009d, 0x002f, 0x0035,
      ],
      extensions: [
        0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017, 0x002d, 0x000d, 0x0005, 0x0023, 0x0012, 0x002b,
        0xff01, 0x000b, 0x000a, 0x0015,
      ],
      alpn: ['h2', 'http/1.1'],
      signatureAlgorithms: [0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601],
    });
    assert.equal(r.ja4, 't13d1516h2_8daaf6152771_e5627efa2ab1');
    assert.equal(
      r.raw,
      't13d1516h2_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9_0005,000a,000b,000d,' +
        '0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01_0403,0804,0401,0503,0805,0501,0806,0601',
    );
  });

  it('a Chrome hello built from a published ja4_ro/ja3_text pair (browserleaks)', () => {
    const G = 0x2a2a;
    const hello = buildHello({
      ciphers: [
        G,
        4865,
        4866,
        4867,
        49195,
        49199,
        49196,
        49200,
        52393,
        52392,
        49171,
        49172,
        156,
        157,
        47,
        53,
      ],
      exts: [
        [0x3a3a, new Uint8Array(0)],
        [0x002d, Uint8Array.from([1, 1])],
        [0x0033, Uint8Array.from([0, 0])],
        [0x0010, alpnExt('h2', 'http/1.1')],
        [0xfe0d, Uint8Array.from([0])],
        [0x0017, new Uint8Array(0)],
        [0x44cd, Uint8Array.from([0, 3, 2, 0x68, 0x32])],
        [0x0000, sniExt('tls-outer.browserleaks.com')],
        [0x000b, Uint8Array.from([1, 0])],
        [0x000a, v16([0x8a8a, 4588, 29, 23, 24])],
        [0x002b, Uint8Array.from([6, 0x7a, 0x7a, 3, 4, 3, 3])],
        [0xff01, Uint8Array.from([0])],
        [0x0023, new Uint8Array(0)],
        [0x0012, new Uint8Array(0)],
        [0x0005, Uint8Array.from([1, 0, 0, 0, 0])],
        [0x000d, v16([0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601])],
        [0x001b, Uint8Array.from([2, 0, 2])],
        [0x1a1a, Uint8Array.from([0])],
      ],
    });
    const h = parseClientHello(hello);
    assert.ok(h);
    assert.equal(h.maxVersion, 0x0304);
    assert.equal(h.ja4, 't13d1516h2_8daaf6152771_d8a2da3f94cd');
    assert.equal(
      h.ja3,
      '771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53,' +
        '45-51-16-65037-23-17613-0-11-10-43-65281-35-18-5-13-27,4588-29-23-24,0',
    );
    assert.equal(h.ja3Hash, '98487aa16281980e7d1120d399efb6a4');
  });

  it('no SNI, no ALPN, no extensions; odd ALPN bytes', () => {
    const bare = parseClientHello(buildHello({ ciphers: [0x002f], exts: [] }));
    assert.ok(bare);
    assert.match(bare.ja4, /^t12i010000_[0-9a-f]{12}_000000000000$/);
    const odd = ja4({
      maxVersion: 0x0303,
      cipherSuites: [],
      extensions: [],
      alpn: ['\xab\xcd'],
      signatureAlgorithms: [],
    });
    assert.equal(odd.ja4, 't12i0000ad_000000000000_000000000000');
    assert.equal(
      ja4(
        { maxVersion: 0x0304, cipherSuites: [], extensions: [], alpn: ['h'], signatureAlgorithms: [] },
        'q',
      ).ja4.slice(0, 10),
      'q13i0000hh',
    );
  });

  it('a bare handshake message (QUIC CRYPTO data) gets a q-prefixed JA4', () => {
    const h = parseClientHelloMessage(CHROME_COINHIVE_HELLO.subarray(5));
    assert.ok(h);
    assert.ok(h.ja4.startsWith('q12d1311h2_'));
    assert.equal(h.ja3Hash, '94c485bca29d5392be53f2b8cf7f4304');
    assert.equal(parseClientHelloMessage(CHROME_COINHIVE_HELLO.subarray(5, 50)), null);
  });

  it('GREASE detection', () => {
    assert.ok(isGrease(0x0a0a) && isGrease(0xfafa) && isGrease(0x5a5a));
    assert.ok(!isGrease(0x0a1a) && !isGrease(0x0303) && !isGrease(0xff01));
  });
});

describe('incremental parsing', () => {
  it('byte-by-byte feeding reaches the same hello', () => {
    const p = new ClientHelloParser();
    let last = p.feed(new Uint8Array(0));
    for (let i = 0; i < BFGMINER_HELLO.length; i++) {
      assert.equal(last.status, 'need-more');
      last = p.feed(BFGMINER_HELLO.subarray(i, i + 1));
    }
    assert.equal(last.status, 'done');
    assert.equal(last.status === 'done' && last.hello.sni, 'us1.bitminter.com');
    assert.equal(last.status === 'done' && last.consumed, BFGMINER_HELLO.length);
  });

  it('a hello split across several TLS records', () => {
    // Re-frame the handshake bytes of the Chrome hello into 3 records of arbitrary sizes.
    const hs = CHROME_COINHIVE_HELLO.subarray(5);
    const rec = (b: Uint8Array) => Uint8Array.from([0x16, 3, 1, b.length >> 8, b.length & 0xff, ...b]);
    const stream = Buffer.concat([rec(hs.subarray(0, 3)), rec(hs.subarray(3, 100)), rec(hs.subarray(100))]);
    const h = parseClientHello(stream);
    assert.ok(h);
    assert.equal(h.ja3Hash, '94c485bca29d5392be53f2b8cf7f4304');
  });

  it('rejects non-TLS after the first byte', () => {
    const p = new ClientHelloParser();
    const r = p.feed(new TextEncoder().encode('{"id":1,"method":"login"'));
    assert.equal(r.status, 'not-tls');
    assert.equal(p.feed(BFGMINER_HELLO).status, 'not-tls', 'final answer is sticky');
    assert.equal(new ClientHelloParser().feed(Uint8Array.from([0x16])).status, 'need-more');
    assert.equal(new ClientHelloParser().feed(Uint8Array.from([0x16, 0x02])).status, 'not-tls');
    assert.equal(new ClientHelloParser().feed(CHROME_COINHIVE_HELLO.subarray(0, 10)).status, 'need-more');
    assert.equal(new ServerHelloParser().feed(CHROME_COINHIVE_HELLO).status, 'not-tls');
    assert.ok(looksLikeTlsStart(BFGMINER_HELLO));
    assert.ok(!looksLikeTlsStart(Uint8Array.from([0x47, 0x45, 0x54])));
  });
});

describe('hostile input', () => {
  it('lying inner lengths end in not-tls, never in an over-read', () => {
    // Cipher-suite length claims 0xffff.
    const bad = BFGMINER_HELLO.slice();
    bad[5 + 4 + 2 + 32 + 1] = 0xff;
    bad[5 + 4 + 2 + 32 + 2] = 0xff;
    const r = new ClientHelloParser().feed(bad);
    assert.equal(r.status, 'not-tls');
    assert.match(r.status === 'not-tls' ? r.reason : '', /malformed/);
    // Every single-byte corruption of the two real hellos: parse or reject, never throw.
    for (const base of [BFGMINER_HELLO, CHROME_COINHIVE_HELLO]) {
      for (let i = 0; i < base.length; i++) {
        for (const v of [0x00, 0xff, base[i]! ^ 0x80]) {
          const m = base.slice();
          m[i] = v;
          new ClientHelloParser().feed(m);
        }
      }
    }
  });

  it('a handshake that claims 16 MB is refused at once', () => {
    const r = new ClientHelloParser().feed(Uint8Array.from([0x16, 3, 1, 0, 4, 1, 0xff, 0xff, 0xff]));
    assert.equal(r.status, 'not-tls');
  });

  it('a hello fragmented into 1-byte records stops at the record cap', () => {
    const hs = BFGMINER_HELLO.subarray(5);
    const parts: number[] = [];
    for (const b of hs) parts.push(0x16, 3, 1, 0, 1, b);
    const r = new ClientHelloParser().feed(Uint8Array.from(parts));
    assert.equal(r.status, 'not-tls');
  });

  it('a stream of endless small records stays bounded', () => {
    const p = new ClientHelloParser({ maxBytes: 16384 });
    // Handshake header claims 16,000 bytes, then records of 1,000 bytes: done or refused within the caps.
    let r = p.feed(Uint8Array.from([0x16, 3, 1, 0, 4, 1, 0, 0x3e, 0x80]));
    const rec = Uint8Array.from([0x16, 3, 1, 0x03, 0xe8, ...new Array(1000).fill(0)]);
    for (let i = 0; i < 100 && r.status === 'need-more'; i++) r = p.feed(rec);
    assert.equal(r.status, 'not-tls');
  });
});

describe('fingerprint strings against their definitions', () => {
  // The definitions the hand-written loops replace (tls.ts comments): filter, map, sort, join.
  const TLS_SNI = 0x0000;
  const TLS_ALPN = 0x0010;
  const noGrease = (xs: number[]) => xs.filter((x) => !isGrease(x));
  const hex4 = (v: number) => v.toString(16).padStart(4, '0');
  const sha12 = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 12);
  const sortedHex = (xs: number[]) => xs.map(hex4).sort().join(',');
  let seed = 18;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const value = (): number => {
    switch (rand(8)) {
      case 0:
        return 0x0a0a + 0x1010 * rand(16); // GREASE
      case 1:
        return [TLS_SNI, TLS_ALPN, 0, 9, 10, 99, 100, 999, 1000, 9999, 10000, 65535][rand(12)]!;
      case 2:
        return rand(64) === 0 ? [65536, -1, 2570.5, 1.5, 70000][rand(5)]! : rand(256);
      default:
        return rand(65536);
    }
  };
  const list = () => Array.from({ length: rand(40) }, value);

  it('JA3 and JA4 strings equal the filter/map/sort/join definitions on 3,000 random hellos', () => {
    for (let i = 0; i < 3000; i++) {
      const h = {
        version: 0x0303,
        maxVersion: [0x0304, 0x0303, 0x0301, 7][rand(4)]!,
        cipherSuites: list(),
        extensions: list(),
        supportedGroups: list(),
        ecPointFormats: list(),
        signatureAlgorithms: list(),
        alpn: rand(2) ? ['h2'] : [],
        ...(rand(2) ? { sni: 'pool.example' } : {}),
      };
      const ja3 = [
        h.version,
        noGrease(h.cipherSuites).join('-'),
        noGrease(h.extensions).join('-'),
        noGrease(h.supportedGroups).join('-'),
        h.ecPointFormats.join('-'),
      ].join(',');
      assert.equal(ja3String(h), ja3);
      const ciphers = sortedHex(noGrease(h.cipherSuites));
      const exts = sortedHex(noGrease(h.extensions).filter((x) => x !== TLS_SNI && x !== TLS_ALPN));
      const sigs = noGrease(h.signatureAlgorithms).map(hex4).join(',');
      const cPart = sigs ? `${exts}_${sigs}` : exts;
      const r = ja4(h);
      const [a, b, c] = r.ja4.split('_');
      assert.equal(a!.slice(4, 6), String(Math.min(noGrease(h.cipherSuites).length, 99)).padStart(2, '0'));
      assert.equal(a!.slice(6, 8), String(Math.min(noGrease(h.extensions).length, 99)).padStart(2, '0'));
      assert.equal(b, ciphers ? sha12(ciphers) : '000000000000');
      assert.equal(c, exts || sigs ? sha12(cPart) : '000000000000');
      assert.equal(r.raw, `${a}_${ciphers}_${cPart}`);
    }
  });
});
