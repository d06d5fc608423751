import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { selectBlocklist } from '../respond/blocklist/select.ts';
import { IntelFormatError, parseSections } from './formats.ts';
import { loadIntel } from './load.ts';
import { exportIntel, importIntel, parseCsv } from './user.ts';

// Real inputs: the public lists kept in data/intel/sources with their licences.
const SHARED = fileURLToPath(new URL('../../data/intel/sources/', import.meta.url));

const work = mkdtempSync(join(tmpdir(), 'mw-user-intel-'));
after(() => rmSync(work, { recursive: true, force: true }));

let n = 0;
function freshDir(): string {
  return join(work, `user${n++}`);
}
function writeInput(name: string, text: string): string {
  const dir = join(work, `in${n++}`);
  mkdirSync(dir, { recursive: true });
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

/** Snapshot of a dir: file name → content. */
function snapshot(dir: string): Record<string, string> {
  if (!existsSync(dir)) return {};
  return Object.fromEntries(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f), 'utf8')]));
}

/** A Falco rules YAML built from the shared extract of falco-sandbox_rules.yaml, in both list styles. */
function falcoYamlFromShared(): { text: string; domains: string[]; ports: string[]; binaries: string[] } {
  const sec = parseSections(readFileSync(join(SHARED, 'falco', 'miner_lists.txt'), 'utf8'));
  const domains = sec.get('miner_domains') ?? [];
  const ports = sec.get('miner_ports') ?? [];
  const binaries = sec.get('miner_binaries') ?? [];
  const text = [
    '# test rules built from the shared falco lists',
    '- list: miner_ports',
    '  items: [',
    `      ${ports.join(', ')}`,
    '    ]',
    '',
    '- list: miner_domains',
    '  items: [',
    ...domains.map((d, i) => `    "${d}"${i < domains.length - 1 ? ',' : ''}`),
    '  ]',
    '',
    '- list: miner_binaries',
    '  items:',
    ...binaries.map((b) => `    - ${b}`),
    '',
    '- macro: net_miner_pool',
    '  condition: (evt.type in (sendto, sendmsg) and fd.sport in (miner_ports))',
    '',
    '- list: shell_binaries',
    '  items: [bash, sh]',
  ].join('\n');
  return { text, domains, ports, binaries };
}

describe('importIntel', () => {
  it('falco: imports domains, ports and binaries; ignores other lists', () => {
    const { text, domains, ports, binaries } = falcoYamlFromShared();
    const dir = freshDir();
    const r = importIntel(writeInput('falco_rules.yaml', text), 'falco', dir);
    assert.equal(r.source, 'user:falco_rules.yaml');
    assert.equal(r.added.pools, new Set(domains).size);
    assert.equal(r.added.ports, new Set(ports).size);
    assert.equal(r.added.processes, binaries.length);
    const b = loadIntel({ userDir: dir });
    const hit = b.matchDomain('eth-eu1.nanopool.org');
    assert.ok(hit?.pool.sources.some((s) => s.id === 'user:falco_rules.yaml'));
    assert.equal(b.source('user:falco_rules.yaml')?.licence, 'user-supplied');
    assert.ok(!b.miners.processes.some((m) => m.value === 'bash'));
  });

  it('maltrail: imports the shared trail; URL trails are skipped, not errors', () => {
    const dir = freshDir();
    const trail = readFileSync(join(SHARED, 'maltrail', 'elf_coinminer.txt'), 'utf8');
    const r = importIntel(writeInput('elf_coinminer.txt', trail), 'maltrail', dir);
    assert.ok(r.added.pools > 50, String(r.added.pools));
    assert.ok(r.added.endpoints > 300, String(r.added.endpoints));
    assert.ok(r.skipped > 100, String(r.skipped));
    const b = loadIntel({ userDir: dir });
    assert.equal(b.matchDomain('sydwzl.cn')?.pool.sources[0]?.id, 'user:elf_coinminer.txt');
  });

  it('hosts and plain (CoinBlockerLists style) with exclusions reported', () => {
    const sigma = readFileSync(join(SHARED, 'sigma', 'zeek_dns_mining_pools.yml'), 'utf8');
    const names = [...sigma.matchAll(/^\s+- '([a-z0-9.-]+\.[a-z]+)'/gm)].map((m) => m[1]!);
    assert.ok(names.length > 50);
    const dir = freshDir();
    const hosts = [
      '# blocklist',
      ...names.map((d) => `0.0.0.0 ${d}`),
      '0.0.0.0 www.binance.com',
      '127.0.0.1 localhost',
    ];
    const r = importIntel(writeInput('miners.hosts', hosts.join('\n')), 'hosts', dir);
    assert.ok(r.dropped.some((d) => d.value === 'www.binance.com' && /exchange/.test(d.reason)));
    // the zeek rule's own 'mooo.com' is a dynamic-DNS zone: dropped too, with the reason
    assert.ok(r.dropped.some((d) => d.value === 'mooo.com' && /shared-dns/.test(d.reason)));
    assert.equal(r.added.pools, names.length - 1);
    const plain = ['# CoinBlockerLists-like', ...names.slice(0, 10), '45.9.148.35:3333', '2001:db8::7', ''];
    const r2 = importIntel(writeInput('list.txt', plain.join('\n')), 'plain', dir);
    assert.equal(r2.added.pools, 10);
    assert.equal(r2.added.endpoints, 2);
    const b = loadIntel({ userDir: dir });
    assert.equal(b.matchEndpoint('2001:db8::7')?.endpoint.sources[0]?.id, 'user:list.txt');
    assert.equal(b.matchDomain('www.binance.com'), undefined);
  });

  it('a bad line names file and line, and leaves earlier imports intact', () => {
    const dir = freshDir();
    importIntel(writeInput('good.txt', 'pool.example-miners.net\n'), 'plain', dir);
    const before = snapshot(dir);
    const cases: Array<[string, string, 'falco' | 'maltrail' | 'hosts' | 'plain', number]> = [
      ['bad-plain.txt', 'ok.example.com\n# c\nnot a domain\n', 'plain', 3],
      ['bad.hosts', '0.0.0.0 ok.example.com\nexample.org\n', 'hosts', 2],
      ['bad-trail.txt', '# Reference: x\nok.example.com\n1.2.3.4:99999\n', 'maltrail', 3],
      [
        'bad-falco.yaml',
        '- list: miner_domains\n  items: [\n   "a.example.com",\n   "bad domain"\n  ]\n',
        'falco',
        4,
      ],
      ['bad-ports.yaml', '- list: miner_ports\n  items: [3333, http]\n', 'falco', 2],
      ['unclosed.yaml', '- list: miner_domains\n  items: [ "a.example.com",\n', 'falco', 2],
    ];
    for (const [name, text, format, line] of cases) {
      const file = writeInput(name, text);
      assert.throws(
        () => importIntel(file, format, dir),
        (e: unknown) => {
          assert.ok(e instanceof IntelFormatError, `${name}: ${e}`);
          assert.equal(e.file, file);
          assert.equal(e.line, line, name);
          return true;
        },
      );
      assert.deepEqual(snapshot(dir), before, `${name} changed the user dir`);
    }
    assert.ok(loadIntel({ userDir: dir }).matchDomain('pool.example-miners.net'));
  });

  it('re-importing a list replaces its entries, other lists stay', () => {
    const dir = freshDir();
    importIntel(writeInput('a.txt', 'one.example-pool.net\n'), 'plain', dir);
    const bFile = writeInput('b.txt', 'two.example-pool.net\n');
    importIntel(bFile, 'plain', dir);
    writeFileSync(bFile, 'three.example-pool.net\n');
    importIntel(bFile, 'plain', dir);
    const b = loadIntel({ userDir: dir });
    assert.ok(b.matchDomain('one.example-pool.net'));
    assert.equal(b.matchDomain('two.example-pool.net'), undefined);
    assert.ok(b.matchDomain('three.example-pool.net'));
    assert.deepEqual(readdirSync(dir).sort(), ['a.txt.json', 'b.txt.json']);
  });
});

describe('lists dropped into the user dir', () => {
  it('are read as hosts or plain, with their file as source', () => {
    const dir = freshDir();
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'coinblocker.txt'),
      '# CoinBlockerLists\nfoo.example-pool.org\nbar.example-pool.org\n',
    );
    writeFileSync(join(dir, 'hosts.list'), '0.0.0.0 baz.example-pool.org qux.example-pool.org\n');
    writeFileSync(join(dir, 'README.md'), 'ignored');
    const b = loadIntel({ userDir: dir });
    assert.equal(b.matchDomain('x.foo.example-pool.org')?.pool.sources[0]?.id, 'user:coinblocker.txt');
    assert.equal(b.matchDomain('qux.example-pool.org')?.pool.sources[0]?.id, 'user:hosts.list');
    writeFileSync(join(dir, 'broken.txt'), 'ok.example.org\n???\n');
    assert.throws(
      () => loadIntel({ userDir: dir }),
      (e: unknown) => e instanceof IntelFormatError && e.line === 2,
    );
  });

  it('a missing user dir is just no user intel', () => {
    const b = loadIntel({ userDir: join(work, 'does-not-exist') });
    assert.equal(b.pools.length, loadIntel({ userDir: null }).pools.length);
  });
});

describe('exportIntel', () => {
  const base = loadIntel({ userDir: null });

  it('json: every entry with sources and licences resolved; round-trips the entries', () => {
    const doc = JSON.parse(exportIntel(base, 'json'));
    assert.equal(doc.pools.length, base.pools.length);
    assert.equal(doc.endpoints.length, base.endpoints.length);
    for (const p of doc.pools)
      for (const s of p.sources) assert.ok(s.licence && s.licence !== 'unknown', p.host);
    const strip = (x: { sources: Array<{ id: string; ref?: string }> }) => ({
      ...x,
      sources: x.sources.map((s) => (s.ref === undefined ? { id: s.id } : { id: s.id, ref: s.ref })),
    });
    assert.deepEqual(doc.pools.map(strip), base.pools);
    assert.deepEqual(doc.ports.map(strip), base.ports);
  });

  it('csv: one row per pool, endpoint and port; its pool column re-imports to the same base', () => {
    const rows = parseCsv(exportIntel(base, 'csv'));
    assert.deepEqual(rows[0], [
      'type',
      'value',
      'name',
      'kind',
      'coins',
      'status',
      'weight',
      'sources',
      'licences',
    ]);
    const body = rows.slice(1);
    assert.equal(body.length, base.pools.length + base.endpoints.length + base.ports.length);
    const minexmr = body.find((r) => r[1] === 'pool.minexmr.com');
    assert.equal(minexmr?.[5], 'closed');
    assert.match(minexmr?.[8] ?? '', /MIT/);
    // round trip: the exported pool and endpoint values, imported as a plain list, match everything again
    const values = body.filter((r) => r[0] === 'pool' || r[0] === 'endpoint').map((r) => r[1]!);
    const dir = freshDir();
    const r = importIntel(writeInput('export.txt', values.join('\n')), 'plain', dir);
    assert.equal(r.added.pools, base.pools.length);
    assert.equal(r.added.endpoints, base.endpoints.length);
    assert.equal(r.dropped.length, 0);
    const merged = loadIntel({ userDir: dir });
    assert.equal(merged.pools.length, base.pools.length);
    for (const p of merged.pools)
      assert.ok(
        p.sources.some((s) => s.id === 'user:export.txt'),
        p.host,
      );
  });

  it('csv quotes fields with commas and quotes', () => {
    assert.deepEqual(parseCsv('a,"b,c","d""e"\n1,2,3\n'), [
      ['a', 'b,c', 'd"e'],
      ['1', '2', '3'],
    ]);
  });
});

describe('importIntel --format findings: what the fleet was seen mining on', () => {
  const proxied = {
    rule: 'net.proxy.pool-request',
    confidence: 0.8,
    host: '10.3.0.4',
    pool: { host: 'pool.new-miners.example', port: 443 },
    proxy: { protocol: 'http-connect', ip: '10.3.0.1', port: 3128 },
  };
  const stratum = {
    rule: 'net.stratum.session',
    confidence: 0.94,
    host: '10.9.0.5',
    pool: { ip: '198.51.100.99', port: 3333 },
  };
  const rhythm = {
    rule: 'net.flow.mining-behaviour',
    confidence: 0.6,
    pool: { ip: '203.0.113.7', port: 443 },
  };
  const cmdline = {
    rule: 'host.process.stratum-cmdline',
    confidence: 0.95,
    pool: { host: 'xmr.unlisted-pool.example:5555' },
  };

  it('a JSON document: pool names and addresses of confident findings; never a proxy, never a rhythm alone', () => {
    const dir = freshDir();
    const file = writeInput(
      'seen.json',
      JSON.stringify({ findings: [proxied, stratum, rhythm, cmdline], summary: {} }),
    );
    const r = importIntel(file, 'findings', dir);
    assert.deepEqual(r.added, { pools: 2, endpoints: 1, ports: 0, processes: 0 });
    const base = loadIntel({ userDir: dir });
    assert.equal(base.matchDomain('pool.new-miners.example')?.pool.sources[0]?.id, 'user:seen.json');
    assert.ok(base.matchDomain('xmr.unlisted-pool.example'));
    assert.equal(base.matchEndpoint('198.51.100.99', 3333)?.portMatched, true);
    assert.equal(base.matchEndpoint('10.3.0.1'), undefined, 'the proxy is not a pool');
    assert.equal(base.matchEndpoint('203.0.113.7'), undefined, 'a rhythm alone names no pool');
    const sel = selectBlocklist(base);
    assert.ok(sel.names.includes('pool.new-miners.example'));
    assert.ok(sel.ipv4.some((x) => x.startsWith('198.51.100.99')));
  });

  it('NDJSON as `--format ndjson` streams it; a bad line names its number', () => {
    // As `minewatch pcap --format ndjson` streams it: decided at 0.75, raised by a later update.
    const lines = [
      { type: 'finding', id: 'a1', ...stratum, confidence: 0.75 },
      { type: 'update', id: 'a1', confidence: 0.94, shares: 3 },
      { type: 'finding', id: 'b2', ...rhythm },
      { type: 'summary', packets: 10 },
    ].map((x) => JSON.stringify(x));
    const r = importIntel(writeInput('seen.ndjson', `${lines.join('\n')}\n`), 'findings', freshDir());
    assert.deepEqual(r.added, { pools: 0, endpoints: 1, ports: 0, processes: 0 });
    const bad = writeInput('bad.ndjson', `${lines[0]}\n{"type":"finding",\n`);
    assert.throws(
      () => importIntel(bad, 'findings', freshDir()),
      (e: unknown) => e instanceof IntelFormatError && e.line === 2,
    );
  });
});
