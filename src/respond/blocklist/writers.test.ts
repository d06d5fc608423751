/**
 * Each format, written from the real built-in intel, is accepted by its real tool: dnsmasq, unbound,
 * BIND, nft, iptables/ip6tables + ipset (in a throwaway network namespace), squid and yara. Suricata,
 * Snort and Falco are not in Debian: their files go through the strict checkers in testkit.ts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadIntel } from '../../intel/index.ts';
import { SID } from './ids.ts';
import { type BlockFormat, writeBlocklist } from './index.ts';
import { checkFalcoRules, checkIdsRules, IN_CI, missingTool, runTool } from './testkit.ts';

const base = loadIntel({ userDir: null });
const dir = mkdtempSync(join(tmpdir(), 'mw-block-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(
  format: BlockFormat,
  opts: Parameters<typeof writeBlocklist>[2] = {},
): { path: string; text: string } {
  const text = writeBlocklist(base, format, { version: '0.0.0-test', ...opts });
  const path = join(dir, `${format}-${Object.keys(opts).join('-')}`);
  writeFileSync(path, text);
  return { path, text };
}

/** Every format, with the defaults and with the widest selection. */
const VARIANTS = [{}, { includeClosed: true, includeDownloads: true }];

function commonChecks(text: string): void {
  for (const bad of ['coinbase.com', 'binance.com', 'getmonero.org'])
    assert.ok(
      !new RegExp(`(^|[^a-z0-9-])${bad.replace(/\./g, '\\.')}`, 'm').test(text.replace(/^[#;/].*$/gm, '')),
      bad,
    );
}

describe('blocklist writers pass their validators', () => {
  it('hosts: one name a line, every known name, closed pools only when asked', () => {
    const { text } = file('hosts');
    commonChecks(text);
    const lines = text.split('\n').filter((l) => l && !l.startsWith('#'));
    for (const l of lines) assert.match(l, /^0\.0\.0\.0 [a-z0-9_.-]+$/);
    assert.ok(lines.includes('0.0.0.0 nanopool.org'));
    assert.ok(
      lines.some((l) => /\.nanopool\.org$/.test(l)),
      'known subdomains listed too',
    );
    assert.ok(!text.includes(' minexmr.com\n') && !text.includes(' coinhive.com\n'));
    const all = file('hosts', { includeClosed: true }).text;
    assert.ok(all.includes('0.0.0.0 minexmr.com\n') && all.includes('0.0.0.0 coinhive.com\n'));
  });

  for (const v of VARIANTS) {
    const tag = Object.keys(v).length ? ' (closed + downloads)' : '';

    it(`dnsmasq --test${tag}`, (t) => {
      const skip = missingTool('dnsmasq', 'dnsmasq-base');
      if (skip) return t.skip(skip);
      const { path, text } = file('dnsmasq', v);
      commonChecks(text);
      assert.match(text, /^local=\/nanopool\.org\/$/m);
      const r = runTool(['dnsmasq', '--test', '-C', path]);
      assert.equal(r.code, 0, r.out);
      assert.match(r.out, /syntax check OK/);
    });

    it(`unbound-checkconf${tag}`, (t) => {
      const skip = missingTool('unbound-checkconf', 'unbound');
      if (skip) return t.skip(skip);
      const { path, text } = file('unbound', v);
      assert.match(text, /local-zone: "nanopool\.org\." always_nxdomain/);
      const r = runTool(['unbound-checkconf', path]);
      assert.equal(r.code, 0, r.out);
    });

    it(`named-checkzone (RPZ)${tag}`, (t) => {
      const skip = missingTool('named-checkzone', 'bind9-utils');
      if (skip) return t.skip(skip);
      const { path, text } = file('rpz', v);
      assert.match(text, /^nanopool\.org CNAME \.$/m);
      assert.match(text, /^\*\.nanopool\.org CNAME \.$/m);
      const r = runTool(['named-checkzone', '-k', 'fail', '-n', 'fail', 'rpz.minewatch', path]);
      assert.equal(r.code, 0, r.out);
      assert.match(r.out, /loaded serial \d{10}/);
    });

    it(`nft -c -f${tag}`, (t) => {
      const skip = missingTool('nft', 'nftables');
      if (skip) return t.skip(skip);
      const { path, text } = file('nftables', v);
      assert.match(text, /table inet minewatch \{/);
      const r = runTool(['nft', '-c', '-f', path]);
      assert.equal(r.code, 0, r.out);
    });

    it(`squid -k parse${tag}`, (t) => {
      const skip = missingTool('squid', 'squid');
      if (skip) return t.skip(skip);
      const { path, text } = file('squid', v);
      commonChecks(text);
      assert.match(text, /^acl minewatch_pools dstdomain \.nanopool\.org$/m);
      const r = runTool(['squid', '-k', 'parse', '-f', path]);
      assert.equal(r.code, 0, r.out);
      assert.doesNotMatch(r.out, /WARNING|ERROR|FATAL|Bungled/);
    });

    it(`yara compiles the rules${tag}`, (t) => {
      const skip = missingTool('yara', 'yara');
      if (skip) return t.skip(skip);
      const { path, text } = file('yara', v);
      commonChecks(text);
      const sample = join(dir, 'sample.bin');
      writeFileSync(sample, 'cfg = {"url": "stratum+tcp://xmr-eu1.nanopool.org:14444"}\n');
      const r = runTool(['yara', '-w', path, sample]);
      assert.equal(r.code, 0, r.out);
      assert.match(r.out, /minewatch_stratum_markers/);
      assert.match(r.out, /minewatch_pool_domains_\d+/);
      const clean = join(dir, 'clean.txt');
      writeFileSync(clean, 'hello world, nothing to see here\n');
      assert.equal(runTool(['yara', '-w', path, clean]).out, '');
    });
  }

  it('iptables-restore --test / ip6tables-restore --test with the ipsets loaded, in a network namespace', (t) => {
    for (const [tool, pkg] of [
      ['ipset', 'ipset'],
      ['iptables-restore', 'iptables'],
      ['ip', 'iproute2'],
    ] as const) {
      const skip = missingTool(tool, pkg);
      if (skip) return t.skip(skip);
    }
    const ns = `mwtest-${process.pid}-w`;
    const add = runTool(['ip', 'netns', 'add', ns]);
    if (add.code !== 0) {
      if (IN_CI) assert.fail(`cannot create a network namespace: ${add.out}`);
      return t.skip(`network namespaces not permitted here: ${add.out.trim()}`);
    }
    try {
      const exec = (argv: string[], input?: string) => runTool(['ip', 'netns', 'exec', ns, ...argv], input);
      for (const v of VARIANTS) {
        const ipset = file('ipset', v).text;
        // Twice: loading the file again must work (it is what a cron job refreshing the list does).
        for (let i = 0; i < 2; i++) {
          const r = exec(['ipset', '-exist', 'restore'], ipset);
          assert.equal(r.code, 0, r.out);
        }
        const n = exec(['ipset', 'list', '-t', 'minewatch-v4']).out;
        assert.match(
          n,
          new RegExp(
            `Number of entries: ${ipset.split('\n').filter((l) => l.startsWith('add minewatch-v4 ')).length}`,
          ),
        );
        for (const [format, tool] of [
          ['iptables', 'iptables-restore'],
          ['ip6tables', 'ip6tables-restore'],
        ] as const) {
          const r = exec([tool, '--test', '--noflush'], file(format, v).text);
          assert.equal(r.code, 0, r.out);
        }
      }
    } finally {
      runTool(['ip', 'netns', 'del', ns]);
    }
  });

  for (const dialect of ['suricata', 'snort'] as const) {
    it(`${dialect} rules pass the rule checker, with unique SIDs in the documented range`, () => {
      for (const v of VARIANTS) {
        const { text } = file(dialect, v);
        commonChecks(text);
        const rules = checkIdsRules(text, dialect);
        for (const r of rules) assert.ok(r.sid >= SID.stratum && r.sid <= SID.max, `${r.sid}`);
        assert.ok(rules.some((r) => r.msg.includes('mining.subscribe')));
        assert.ok(rules.some((r) => r.msg.includes('zone nanopool.org')));
        if (dialect === 'suricata') {
          assert.match(text, /dns\.query; dotprefix; content:"\.nanopool\.org"; nocase; endswith;/);
          assert.match(text, /tls\.sni; dotprefix; content:"\.nanopool\.org"; nocase; endswith;/);
          assert.match(text, /classtype:coin-mining;/);
        } else {
          assert.match(text, /content:"\|08\|nanopool\|03\|org\|00\|"; offset:12; nocase;/);
          assert.doesNotMatch(text, /dns\.query|tls\.sni|dotprefix|endswith/);
        }
        assert.match(text, /content:"\|22\|method\|22 3a 22\|login\|22\|"/);
        assert.match(text, /flow:established,to_server;/);
        assert.match(text, /mitre_technique_id T1496/);
      }
    });
  }

  it('a zone keeps its SID when other zones come and go', () => {
    const sid = (text: string) => /zone nanopool\.org"; dns\.query[^)]*sid:(\d+)/.exec(text)?.[1];
    const a = sid(file('suricata').text);
    const b = sid(file('suricata', { includeClosed: true, includeDownloads: true }).text);
    assert.ok(a);
    assert.equal(a, b);
  });

  it('the checker rejects broken rules', () => {
    assert.throws(() =>
      checkIdsRules('alert dns any any -> any any (msg:"x"; content:"a;b"; sid:1; rev:1;)', 'suricata'),
    );
    assert.throws(() =>
      checkIdsRules(
        'alert dns any any -> any any (msg:"x"; dns.query; content:"|0g|"; sid:1; rev:1;)',
        'suricata',
      ),
    );
    assert.throws(() =>
      checkIdsRules('alert dns any any -> any any (msg:"x"; dns.query; sid:1; rev:1;)', 'snort'),
    );
    const dup = 'alert tcp any any -> any any (msg:"x"; content:"a"; sid:1; rev:1;)';
    assert.throws(() => checkIdsRules(`${dup}\n${dup}`, 'suricata'), /duplicate sid/);
  });

  it('falco rules parse as YAML and reference only defined lists, macros and fields', (t) => {
    const skip = missingTool('python3', 'python3-yaml');
    if (skip) return t.skip(skip);
    const yaml = runTool(['python3', '-c', 'import yaml']);
    if (yaml.code !== 0) {
      if (IN_CI) assert.fail('python3-yaml missing');
      return t.skip('python3-yaml not installed');
    }
    for (const v of VARIANTS) {
      const { text } = file('falco', v);
      const doc = checkFalcoRules(text);
      const lists = Object.fromEntries(
        doc.filter((d) => 'list' in d).map((d) => [d.list, d.items as unknown[]]),
      );
      assert.ok((lists.minewatch_miner_domains as string[]).includes('nanopool.org'));
      assert.ok((lists.minewatch_miner_binaries as string[]).includes('xmrig'));
      assert.ok((lists.minewatch_miner_ports as number[]).includes(3333));
      const rules = doc.filter((d) => 'rule' in d);
      assert.ok(rules.some((r) => r.rule === 'Outbound connection to mining pool (minewatch)'));
      for (const r of rules) assert.ok((r.tags as string[]).includes('T1496'));
      commonChecks(text);
    }
    assert.throws(() =>
      checkFalcoRules(
        '- rule: x\n  desc: d\n  condition: fd.sip.name in (nope)\n  output: o\n  priority: CRITICAL\n  tags: []\n',
      ),
    );
  });
});
