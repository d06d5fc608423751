import assert from 'node:assert/strict';
import { isIPv6 } from 'node:net';
import { describe, it } from 'node:test';
import { mulberry32 } from '../util/random.ts';
import {
  classifyEntry,
  IntelFormatError,
  parseFalcoYaml,
  parseHosts,
  parsePlain,
  parseTrail,
} from './formats.ts';
import { isDomain, normalizeIp, parseHostPort, registrableDomain } from './names.ts';

describe('names', () => {
  it('parses host, ip, ip:port and [v6]:port', () => {
    assert.deepEqual(parseHostPort('Pool.MineXMR.com.'), { host: 'pool.minexmr.com', kind: 'domain' });
    assert.deepEqual(parseHostPort('1.2.3.4:3333'), { host: '1.2.3.4', kind: 'ip', port: 3333 });
    assert.deepEqual(parseHostPort('[2001:DB8::1]:443'), { host: '2001:db8::1', kind: 'ip', port: 443 });
    assert.deepEqual(parseHostPort('2001:db8::1'), { host: '2001:db8::1', kind: 'ip' });
    assert.equal(parseHostPort('1.2.3.4:0'), undefined);
    assert.equal(parseHostPort('1.2.3.4:70000'), undefined);
    assert.equal(parseHostPort('localhost'), undefined);
    assert.equal(parseHostPort('bad domain.com'), undefined);
    assert.equal(isDomain('xn--80ak6aa92e.com'), true);
    assert.equal(isDomain('a..b.com'), false);
    assert.equal(isDomain('-a.com'), false);
  });

  it('normalizeIp takes as IPv6 exactly what node isIPv6 takes, compressed and lower-case', () => {
    assert.equal(normalizeIp('2001:DB8:0:0:0:0:0:1'), '2001:db8::1');
    assert.equal(normalizeIp('::ffff:1.2.3.4'), '::ffff:102:304');
    assert.equal(normalizeIp(' 1.2.3.4 '), '1.2.3.4');
    for (const bad of [
      '::1]/x#[',
      '::1]',
      '[::1]',
      'fe80::1%eth0',
      '1::2::3',
      '::1.2.3',
      '::1.2.3.04',
      ':',
      '12345::1',
    ])
      assert.equal(normalizeIp(bad), undefined, bad);
    // Random strings over the characters an address is made of, and near-misses of real addresses.
    const rand = mulberry32(18);
    const alphabet = '0123456789abcdefABCDEF:.::::';
    const seeds = [
      '2001:db8::1',
      '::ffff:10.0.0.1',
      'fe80::1:2:3:4',
      '1:2:3:4:5:6:7:8',
      '::',
      '64:ff9b::192.0.2.33',
    ];
    let v6 = 0;
    for (let i = 0; i < 20_000; i++) {
      let s: string;
      if (i % 2 === 0) {
        s = '';
        for (let n = 1 + Math.floor(rand() * 20); n > 0; n--)
          s += alphabet[Math.floor(rand() * alphabet.length)];
      } else {
        const base = seeds[i % seeds.length]!;
        const at = Math.floor(rand() * (base.length + 1));
        const c = alphabet[Math.floor(rand() * alphabet.length)]!;
        s = rand() < 0.5 ? base.slice(0, at) + c + base.slice(at) : base.slice(0, at) + base.slice(at + 1);
      }
      if (!s.includes(':')) continue;
      const want = isIPv6(s);
      if (want) v6++;
      assert.equal(normalizeIp(s) !== undefined, want, s);
    }
    assert.ok(v6 > 1000, `only ${v6} valid addresses generated`);
  });

  it('registrable domain honours multi-label and shared zones', () => {
    assert.equal(registrableDomain('xmr-eu1.nanopool.org'), 'nanopool.org');
    assert.equal(registrableDomain('xmr.pool.gntl.co.uk'), 'gntl.co.uk');
    assert.equal(registrableDomain('a.d1pool.ddns.net', new Set(['ddns.net'])), 'd1pool.ddns.net');
    assert.equal(registrableDomain('a.d1pool.ddns.net'), 'ddns.net');
  });
});

describe('trail and list parsers', () => {
  it('groups a maltrail trail into referenced sections, keeping commented domains and markers', () => {
    const text = [
      '# Copyright',
      '',
      '# Reference: https://a.example/1',
      '# Reference: https://a.example/2',
      '',
      '1.2.3.4:3333',
      'Pool.Example.com',
      '',
      '# Reference: https://b.example/',
      '# TITLE-HOST/IP=HashVault Mining Pool',
      '# coinhive.com',
      'http://5.6.7.8',
      '/payload.sh',
      'evil.example.net/x.php',
    ].join('\n');
    const s = parseTrail(text, 't.txt');
    assert.equal(s.length, 2);
    assert.deepEqual(s[0]!.refs, ['https://a.example/1', 'https://a.example/2']);
    assert.deepEqual(
      s[0]!.items.map((i) => [i.type, i.value]),
      [
        ['ip', '1.2.3.4'],
        ['domain', 'pool.example.com'],
      ],
    );
    assert.deepEqual(s[1]!.markers, ['TITLE-HOST/IP=HashVault Mining Pool']);
    assert.deepEqual(s[1]!.commented, ['coinhive.com']);
    assert.deepEqual(
      s[1]!.items.map((i) => i.type),
      ['ip', 'url', 'url'],
    );
  });

  it('plain and hosts lists', () => {
    assert.deepEqual(
      parsePlain('! adblock comment\n# c\nfoo.example.com # trailing\n1.2.3.4\n', 'p').map((i) => i.value),
      ['foo.example.com', '1.2.3.4'],
    );
    assert.deepEqual(
      parseHosts('0.0.0.0 a.example.com b.example.com\n::1 localhost\n', 'h').map((i) => i.value),
      ['a.example.com', 'b.example.com'],
    );
    assert.throws(
      () => parsePlain('a.example.com\n/path\n', 'p'),
      (e) => e instanceof IntelFormatError && e.line === 2,
    );
    assert.throws(
      () => parseHosts('0.0.0.0 bad_label-.com\n', 'h'),
      (e) => e instanceof IntelFormatError && e.line === 1,
    );
  });

  it('falco YAML: flow and block lists; only miner lists when the file has some', () => {
    const y = [
      '- list: miner_domains',
      '  items: ["a.example.com", b.example.com,',
      '          "c.example.com"]',
      '- list: miner_binaries',
      '  items:',
      '    - xmrig',
      '    - "minerd"',
      '- list: shell_binaries',
      '  items: [bash]',
      '- rule: x',
      '  condition: y',
    ].join('\n');
    const items = parseFalcoYaml(y, 'f.yaml');
    assert.deepEqual(
      items.map((i) => `${i.type}:${i.value}@${i.line}`),
      [
        'domain:a.example.com@2',
        'domain:b.example.com@2',
        'domain:c.example.com@3',
        'binary:xmrig@6',
        'binary:minerd@7',
      ],
    );
    assert.throws(() => parseFalcoYaml('just: yaml\n', 'f'), IntelFormatError);
  });

  it('classifies stratum URLs by host', () => {
    assert.deepEqual(classifyEntry('stratum+tcp://pool.minexmr.com:4444', 1), {
      type: 'domain',
      value: 'pool.minexmr.com',
      line: 1,
    });
    assert.equal(classifyEntry('not valid!', 1), undefined);
  });
});
