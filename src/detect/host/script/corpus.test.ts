import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  buildCleanScripts,
  buildScriptCase,
  CONFIG_CASES,
  SCRIPT_CASES,
} from '../../../../test/fixtures/hosts/scripts.ts';
import { SEVERITY_ORDER } from '../../../findings/index.ts';
import { scanHost } from '../index.ts';

let base: string;
before(() => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'minewatch-scripts-'));
});
after(() => fs.rmSync(base, { recursive: true, force: true }));

const tally = { roots: 0, found: 0, checks: 0, held: 0 };
after(() => {
  // The figures the issue asks for, printed so a run shows them.
  console.log(
    `script corpus: infected roots found ${tally.found}/${tally.roots}, attribution checks held ${tally.held}/${tally.checks}`,
  );
});

describe('script droppers: own pools/wallets/persistence named, rivals kept apart', () => {
  for (const [name, c] of Object.entries({ ...SCRIPT_CASES, ...CONFIG_CASES })) {
    it(`${name}: ${c.about}`, async () => {
      const root = buildScriptCase(name, path.join(base, name));
      const r = await scanHost({ root, live: false });
      const v = r.verdict;
      tally.roots++;
      const dropper = r.findings.find(
        (f) =>
          (f.rule === 'host.file.dropper-script' || f.rule === 'host.file.miner-config') &&
          f.evidence.some((e) => e.path === c.dropper),
      );
      const found = v.status === 'infected' && dropper !== undefined;
      if (found) tally.found++;
      const failures: string[] = [];
      const check = (ok: boolean, what: string) => {
        tally.checks++;
        if (ok) tally.held++;
        else failures.push(what);
      };
      for (const p of c.own.pools ?? []) check(v.pools.includes(p), `own pool ${p} in verdict`);
      for (const w of c.own.wallets ?? [])
        check(v.wallets.includes(w), `own wallet ${w.slice(0, 8)} in verdict`);
      for (const a of c.own.accounts ?? []) check(v.accounts.includes(a), `own account ${a} in verdict`);
      for (const w of c.own.workers ?? []) check(v.workers.includes(w), `own worker ${w} in verdict`);
      for (const p of c.own.persistence ?? [])
        check(v.persistence.includes(p), `persistence ${p} in verdict`);
      for (const p of c.rivals.pools)
        check(!v.pools.some((x) => x === p || x.startsWith(`${p}:`)), `rival pool ${p} not in verdict`);
      for (const w of c.rivals.wallets)
        check(!v.wallets.includes(w), `rival wallet ${w.slice(0, 8)} not in verdict`);
      for (const f of c.rivals.families) check(!v.families.includes(f), `rival family ${f} not in verdict`);
      if (c.family)
        check(dropper?.family === c.family, `family ${c.family} (got ${String(dropper?.family)})`);
      else
        check(
          !dropper?.family || !c.rivals.families.includes(dropper.family as string),
          `family absent or own (got ${String(dropper?.family)})`,
        );
      // Rivals the script removes are shown, apart.
      if (c.rivals.pools.length || c.rivals.wallets.length) {
        const shown = dropper?.rivals as { pools?: string[]; wallets?: string[] } | undefined;
        for (const p of c.rivals.pools)
          check(
            !!shown?.pools?.some((x) => x === p || x.startsWith(`${p}:`)),
            `rival pool ${p} shown in rivals`,
          );
        for (const w of c.rivals.wallets.filter((x) => x.length > 40))
          check(!!shown?.wallets?.includes(w), `rival wallet ${w.slice(0, 8)} shown in rivals`);
      }
      assert.ok(
        found,
        `not found: status ${v.status}; findings:\n${r.findings.map((f) => `${f.rule} ${f.evidence[0]?.path}`).join('\n')}`,
      );
      assert.deepEqual(failures, [], `verdict ${JSON.stringify(v)}\ndropper ${JSON.stringify(dropper)}`);
    });
  }
});

describe('clean look-alike scripts', () => {
  it('an admin deploy script and a responder cleanup/hunt script give nothing of medium or higher', async () => {
    const r = await scanHost({ root: buildCleanScripts(path.join(base, 'clean-scripts')), live: false });
    const serious = r.findings.filter((f) => SEVERITY_ORDER[f.severity] >= SEVERITY_ORDER.medium);
    assert.deepEqual(
      serious.map((f) => `${f.rule} ${f.evidence[0]?.path}:${f.evidence[0]?.line ?? ''}`),
      [],
    );
    assert.equal(r.verdict.status, 'clean');
  });
});
