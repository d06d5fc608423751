import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { curate, DEFAULT_OUT_DIR, DEFAULT_SHARED_DIR } from './curate-intel.ts';

describe('curate-intel', () => {
  const first = curate();

  it('regenerating from data/intel/sources gives the committed files', () => {
    for (const [name, text] of first.files) {
      const committed = readFileSync(join(DEFAULT_OUT_DIR, name), 'utf8');
      assert.deepEqual(JSON.parse(text), JSON.parse(committed), `${name} is out of date: run npm run curate`);
    }
  });

  it('is deterministic', () => {
    const second = curate();
    assert.deepEqual([...second.files.keys()], [...first.files.keys()]);
    for (const [name, text] of second.files) assert.equal(text, first.files.get(name), name);
  });

  it('drops source entries under exclusions, saying why', () => {
    const d = first.log.dropped;
    assert.ok(d.some((x) => x.value === 'mooo.com' && /shared-dns/.test(x.reason)));
    assert.ok(d.some((x) => x.value === 'update.aegis.aliyun.com' && /aliyun\.com/.test(x.reason)));
    const pools = JSON.parse(first.files.get('pools.json')!).entries as Array<{ host: string }>;
    assert.ok(!pools.some((p) => p.host === 'mooo.com'));
  });

  it('takes every falco and sigma pool domain that is not excluded', () => {
    const pools = new Set(
      (JSON.parse(first.files.get('pools.json')!).entries as Array<{ host: string }>).map((p) => p.host),
    );
    const falco = readFileSync(join(DEFAULT_SHARED_DIR, 'falco', 'miner_lists.txt'), 'utf8');
    const section = falco.split('[miner_domains]')[1]!.split('\n\n')[0]!.split('\n').slice(1);
    assert.equal(section.length, 63);
    for (const d of section) assert.ok(pools.has(d.trim()), d);
    const sigma = readFileSync(
      join(DEFAULT_SHARED_DIR, 'sigma', 'net_connection_win_domain_crypto_mining_pools.yml'),
      'utf8',
    );
    for (const m of sigma.matchAll(/^\s+- '([^']+)'/gm)) assert.ok(pools.has(m[1]!), m[1]);
  });

  it('keeps the maltrail IP:port endpoints with their section reference', () => {
    const eps = JSON.parse(first.files.get('endpoints.json')!).entries as Array<{
      ip: string;
      port?: number;
      seen?: string[];
    }>;
    const text = readFileSync(join(DEFAULT_SHARED_DIR, 'maltrail', 'crypto_mining.txt'), 'utf8');
    const lines = new Set(
      text
        .split('\n')
        .filter((l) => /^\d+\.\d+\.\d+\.\d+:\d+$/.test(l.trim()))
        .map((l) => l.trim()),
    );
    const ours = new Set(eps.filter((e) => e.port !== undefined).map((e) => `${e.ip}:${e.port}`));
    assert.deepEqual(ours, lines);
    const e = eps.find((x) => x.ip === '94.130.143.162' && x.port === 45700);
    assert.match(e?.seen?.[0] ?? '', /virustotal\.com/);
  });
});
