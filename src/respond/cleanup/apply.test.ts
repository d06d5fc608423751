import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildCase, type CaseName } from '../../../test/fixtures/hosts/build.ts';
import { buildPrecisionCase } from '../../../test/fixtures/hosts/precision.ts';
import { scanHost } from '../../detect/host/index.ts';
import { SEVERITY_ORDER } from '../../findings/index.ts';
import { applyPlan, resumeCleanup } from './apply.ts';
import { e2fsAttrs } from './attrs.ts';
import { readEntries } from './journal.ts';
import { planCleanup, rootPlanIO } from './plan.ts';
import { restoreJournal } from './restore.ts';
import { fakeProcesses } from './test-helpers/fakeproc.ts';
import { diff, snapshot } from './test-helpers/snapshot.ts';

let base: string;
const isRoot = process.getuid?.() === 0;
/** Paths given chattr +i by a test; cleared in after() whatever happened. */
const flagged: string[] = [];

before(() => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'minewatch-clean-test-'));
});
after(() => {
  for (const p of flagged) spawnSync('chattr', ['-i', '-a', p]);
  const unreadable = path.join(base, 'safety/root/tmp/unreadable.sh');
  if (fs.existsSync(unreadable)) fs.chmodSync(unreadable, 0o644);
  fs.rmSync(base, { recursive: true, force: true });
});

interface Env {
  root: string;
  journalDir: string;
  quarantineDir: string;
}

function setup(name: CaseName, tag: string = name): Env {
  const dir = path.join(base, tag);
  const root = buildCase(name, path.join(dir, 'root'));
  return { root, journalDir: path.join(dir, 'journal'), quarantineDir: path.join(dir, 'quarantine') };
}

async function plan(env: Env) {
  const scan = await scanHost({ root: env.root, live: false });
  return planCleanup(scan, { root: env.root, live: true }, rootPlanIO(env.root, e2fsAttrs));
}

/** Findings above low after cleanup (there must be none). */
async function leftovers(root: string): Promise<string[]> {
  const r = await scanHost({ root, live: false });
  return r.findings
    .filter((f) => SEVERITY_ORDER[f.severity] > SEVERITY_ORDER.low)
    .map((f) => `${f.severity} ${f.rule} ${f.evidence[0]?.path ?? f.evidence[0]?.pid ?? ''}`);
}

const INFECTED: CaseName[] = [
  'kinsing',
  'watchdog',
  'teamtnt',
  'c8220',
  'redis',
  'windows',
  'trojan',
  'safety',
];

describe('clean on the host-scan fixtures: plan, apply, re-scan, restore', () => {
  for (const name of INFECTED)
    it(`${name}: cleaned to no finding above low, restored exactly, restore twice harmless`, async () => {
      const env = setup(name);
      // An owner and mode worth restoring on the first quarantined or edited file.
      const p0 = await plan(env);
      const first = p0.steps.find((s) => s.kind === 'quarantine' || s.kind === 'remove-line');
      assert.ok(first?.path, `a file step in ${name}`);
      if (isRoot) {
        fs.chownSync(path.join(env.root, first.path), 1234, 5678);
        fs.chmodSync(path.join(env.root, first.path), 0o4751);
      }
      const before = snapshot(env.root);
      const p = await plan(env);
      assert.ok(p.steps.length > 0);
      const log: string[] = [];
      const r = await applyPlan(p, { ...env, control: fakeProcesses(env.root, log) });
      assert.equal(r.status, 'complete', JSON.stringify(r.applied, null, 1));
      // What only the running system can undo is left, and the plan says how (a WMI subscription lives in
      // WMI's own database, which no file step may cut into).
      const manual = (await leftovers(env.root)).filter((l) =>
        l.includes('host.persistence.wmi-subscription'),
      );
      if (manual.length)
        assert.ok(
          p.steps.some((x) => x.kind === 'note' && /Remove-WmiObject/.test(x.reason)),
          'the plan says how to remove the WMI subscription',
        );
      assert.deepEqual(
        (await leftovers(env.root)).filter((l) => !manual.includes(l)),
        [],
      );
      // Stop before kill, every pid.
      for (const s of p.steps.filter((x) => x.kind === 'kill'))
        assert.ok(
          log.indexOf(`SIGSTOP ${s.pid}`) >= 0 &&
            log.indexOf(`SIGSTOP ${s.pid}`) < log.indexOf(`SIGKILL ${s.pid}`),
        );
      // The quarantine: non-executable copies described by the manifest.
      const qdir = r.quarantine;
      const manifest = fs
        .readFileSync(path.join(qdir, 'manifest.ndjson'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      const quarantined = p.steps.filter((s) => s.kind === 'quarantine').map((s) => s.path);
      assert.deepEqual(manifest.map((m) => m.path).sort(), [...quarantined].sort());
      for (const m of manifest) {
        const st = fs.lstatSync(path.join(qdir, m.stored));
        if (m.type === 'file') {
          assert.equal(st.mode & 0o777, 0o400);
          assert.match(m.sha256, /^[0-9a-f]{64}$/);
        }
        assert.ok(!fs.existsSync(path.join(env.root, m.path)));
      }
      const r1 = await restoreJournal(r.journal, { journalDir: env.journalDir });
      assert.equal(r1.status, 'complete', JSON.stringify(r1.restored, null, 1));
      const d = diff(before, snapshot(env.root));
      assert.equal(d, '', d);
      const r2 = await restoreJournal(r.journal, { journalDir: env.journalDir });
      assert.equal(r2.status, 'complete');
      for (const s of r2.restored)
        assert.match(s.detail ?? '', /already|not restarted|nothing|no process/, JSON.stringify(s));
      assert.equal(diff(before, snapshot(env.root)), '');
    });

  it('clean busy server: empty plan', async () => {
    const env = setup('clean');
    const p = await plan(env);
    assert.deepEqual(p.steps, [], JSON.stringify(p, null, 1));
    assert.equal(p.findings.considered, 0);
  });

  it('a root that is not the live system: processes are planned but skipped, never signalled', async () => {
    const env = setup('kinsing', 'kinsing-record');
    const scan = await scanHost({ root: env.root, live: false });
    const p = planCleanup(scan, { root: env.root, live: false }, rootPlanIO(env.root));
    const procSteps = p.steps.filter((s) => s.kind === 'stop' || s.kind === 'kill');
    assert.ok(procSteps.length >= 4);
    assert.ok(procSteps.every((s) => s.skip?.includes('not the live system')));
    const r = await applyPlan(p, env);
    assert.ok(r.applied.filter((s) => s.kind === 'kill').every((s) => s.status === 'skipped'));
    assert.ok(fs.existsSync(path.join(env.root, 'proc/1001')));
  });

  it('quarantine across file systems (copy, fsync, unlink) restores exactly too', async () => {
    const env = setup('teamtnt', 'teamtnt-copy');
    const before = snapshot(env.root);
    const r = await applyPlan(await plan(env), { ...env, control: fakeProcesses(env.root), forceCopy: true });
    assert.equal(r.status, 'complete');
    assert.deepEqual(await leftovers(env.root), []);
    // The admin's key stays, the attacker's goes; wget and curl are back.
    assert.match(
      fs.readFileSync(path.join(env.root, 'root/.ssh/authorized_keys'), 'utf8'),
      /^ssh-ed25519 .* alice@laptop\n$/,
    );
    assert.ok(
      fs.existsSync(path.join(env.root, 'usr/bin/wget')) &&
        !fs.existsSync(path.join(env.root, 'usr/bin/wd1')),
    );
    await restoreJournal(r.journal, { journalDir: env.journalDir });
    assert.equal(diff(before, snapshot(env.root)), '');
  });

  it('immutable flags are detected, cleared, noted, and set again by restore', async (t) => {
    const env = setup('c8220', 'c8220-immutable');
    const target = path.join(env.root, 'etc/cron.d/apache');
    const probe = e2fsAttrs.read(target);
    if (!probe.ok) {
      t.skip(`chattr flags not supported here: ${probe.reason}`);
      return;
    }
    flagged.push(target);
    const set = spawnSync('chattr', ['+i', target]);
    if (set.status !== 0) {
      t.skip(`chattr +i refused: ${set.stderr}`);
      return;
    }
    const before = snapshot(env.root);
    const p = await plan(env);
    const clear = p.steps.find((s) => s.kind === 'clear-immutable');
    assert.equal(clear?.path, '/etc/cron.d/apache');
    assert.equal(clear?.flags, 'i');
    const q = p.steps.findIndex((s) => s.kind === 'quarantine' && s.path === '/etc/cron.d/apache');
    assert.ok(p.steps.indexOf(clear) < q);
    const r = await applyPlan(p, { ...env, control: fakeProcesses(env.root) });
    assert.equal(r.status, 'complete', JSON.stringify(r.applied));
    assert.equal(r.applied.find((s) => s.kind === 'clear-immutable')?.detail, 'cleared i');
    assert.ok(!fs.existsSync(target));
    await restoreJournal(r.journal, { journalDir: env.journalDir });
    const after = e2fsAttrs.read(target);
    assert.ok(after.ok && after.flags.includes('i'));
    assert.equal(diff(before, snapshot(env.root)), '');
  });
});

describe('an apply killed half way (kill -9) resumes or rolls back from its journal', () => {
  const child = path.join(import.meta.dirname, 'test-helpers/child.ts');
  function crashAt(env: Env, id: string, at: string) {
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', child, env.root, env.journalDir, env.quarantineDir, id],
      {
        env: {
          ...process.env,
          MINEWATCH_CLEAN_CRASH_AFTER: at,
          MINEWATCH_HOME: path.join(env.journalDir, '..', 'home'),
        },
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    assert.equal(r.signal, 'SIGKILL', `child should die at ${at}: ${r.stderr}${r.stdout}`);
    return readEntries(path.join(env.journalDir, id));
  }

  for (const at of ['3', '6', '6:changed', '9'])
    it(`crash after entry ${at}: resume finishes, re-scan clean, restore gives the original back`, async () => {
      const env = setup('c8220', `c8220-crash-${at.replace(':', '-')}`);
      const before = snapshot(env.root);
      const entries = crashAt(env, 'J1', at);
      assert.equal(entries.at(-1)?.seq, Number.parseInt(at, 10));
      assert.ok(!entries.some((e) => e.type === 'end'));
      const r = await resumeCleanup('J1', { journalDir: env.journalDir, control: fakeProcesses(env.root) });
      assert.equal(r.status, 'complete', JSON.stringify(r.applied, null, 1));
      assert.deepEqual(await leftovers(env.root), []);
      const rs = await restoreJournal('J1', { journalDir: env.journalDir });
      assert.equal(rs.status, 'complete', JSON.stringify(rs.restored, null, 1));
      assert.equal(diff(before, snapshot(env.root)), '');
    });

  for (const at of ['6', '6:changed', '11'])
    it(`crash after entry ${at}: restore rolls the partial cleanup back`, async () => {
      const env = setup('kinsing', `kinsing-rollback-${at.replace(':', '-')}`);
      const before = snapshot(env.root);
      crashAt(env, 'J2', at);
      const rs = await restoreJournal('J2', { journalDir: env.journalDir });
      assert.equal(rs.status, 'complete', JSON.stringify(rs.restored, null, 1));
      assert.equal(diff(before, snapshot(env.root)), '');
      const again = await restoreJournal('J2', { journalDir: env.journalDir });
      assert.equal(again.status, 'complete');
      assert.equal(diff(before, snapshot(env.root)), '');
      await assert.rejects(
        resumeCleanup('J2', { journalDir: env.journalDir, control: fakeProcesses(env.root) }),
        /was restored/,
      );
    });
});

describe('after clean --apply, a rescan of the same root is clean', () => {
  for (const name of ['linked', 'winhome', 'container', 'configs'] as const)
    it(`${name}: linked persistence, installers and configs are cleaned with what they run`, async () => {
      const dir = path.join(base, `precision-${name}`);
      const root = buildPrecisionCase(name, path.join(dir, 'root'));
      const env = {
        root,
        journalDir: path.join(dir, 'journal'),
        quarantineDir: path.join(dir, 'quarantine'),
      };
      const p = await plan(env);
      assert.ok(p.steps.some((s) => s.kind === 'quarantine'));
      const r = await applyPlan(p, { ...env, control: fakeProcesses(root) });
      assert.equal(r.status, 'complete', JSON.stringify(r.applied, null, 1));
      assert.deepEqual(await leftovers(root), []);
    });

  it("a dropper that sinkholed its rivals' pools in /etc/hosts: the blocks stay, the rescan exits 0", async () => {
    const dir = path.join(base, 'sinkholes');
    const root = buildPrecisionCase('sinkholes', path.join(dir, 'root'));
    const env = { root, journalDir: path.join(dir, 'journal'), quarantineDir: path.join(dir, 'quarantine') };
    const first = await scanHost({ root, live: false });
    assert.equal(first.verdict.status, 'infected');
    const p = await plan(env);
    const r = await applyPlan(p, { ...env, control: fakeProcesses(root) });
    assert.equal(r.status, 'complete', JSON.stringify(r.applied, null, 1));
    const again = await scanHost({ root, live: false });
    // `minewatch scan` exits 0 exactly when the verdict is clean.
    assert.equal(again.verdict.status, 'clean', JSON.stringify(await leftovers(root)));
    assert.deepEqual(await leftovers(root), []);
    const hosts = fs.readFileSync(path.join(root, 'etc/hosts'), 'utf8');
    assert.match(hosts, /^127\.0\.0\.1 xmr\.f2pool\.com$/m);
    assert.equal(again.findings.find((f) => f.rule === 'host.hosts-file.pool-blocked')?.severity, 'info');
  });
});
