import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { killTree, liveProcesses, parseStat, processTree, sameProcess, stopTree } from './procs.ts';

const linux = process.platform === 'linux';

/** A shell with two sleeping children, all spawned by this test: the only real processes it signals. */
async function spawnTree() {
  const child = spawn('/bin/sh', ['-c', 'sleep 300 & sleep 300 & wait'], { stdio: 'ignore' });
  const ctl = liveProcesses();
  const t0 = Date.now();
  while (ctl.children(child.pid!).length < 2 && Date.now() - t0 < 5000)
    await new Promise((r) => setTimeout(r, 20));
  return { child, ctl, pid: child.pid! };
}

describe('stopping and killing a process tree', { skip: !linux }, () => {
  it('stops the process and its children first, then kills them all', async () => {
    const { child, ctl, pid } = await spawnTree();
    try {
      const exited = new Promise((r) => child.on('exit', r));
      const stopped = stopTree(ctl, pid, { exe: ctl.info(pid)?.exe });
      assert.equal(stopped.length, 3);
      assert.deepEqual(processTree(ctl, pid).sort(), [...stopped].sort());
      for (const p of stopped) assert.equal(ctl.info(p)?.state, 'T');
      const killed = await killTree(ctl, pid, stopped, { exe: ctl.info(pid)?.exe });
      assert.equal(killed.length, 3);
      await exited;
      for (const p of stopped) assert.ok(ctl.gone(p));
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('leaves a pid alone when it is no longer the process scanned, and never touches protected pids', async () => {
    const { child, ctl, pid } = await spawnTree();
    try {
      assert.throws(
        () => stopTree(ctl, pid, { exe: '/tmp/xmrig', cmdline: 'xmrig -o pool' }),
        /not the process scanned/,
      );
      assert.notEqual(ctl.info(pid)?.state, 'T');
      assert.throws(() => stopTree(ctl, 1, { exe: '/sbin/init' }), /protected/);
      assert.throws(() => stopTree(ctl, process.pid, { exe: process.execPath }), /protected/);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('matches identity by exe or by the (possibly truncated) command line', () => {
    assert.ok(sameProcess({ pid: 5, exe: '/tmp/x', cmdline: 'x' }, { exe: '/tmp/x (deleted)' }));
    assert.ok(sameProcess({ pid: 5, cmdline: '/tmp/x -o a:1 -u w' }, { cmdline: '/tmp/x -o a:1…' }));
    assert.ok(!sameProcess({ pid: 5, cmdline: '' }, { cmdline: '' }));
    assert.deepEqual(parseStat('12 (a) b) c) S 7 12 12'), { state: 'S', ppid: 7 });
  });
});
