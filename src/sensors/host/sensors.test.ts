import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { fakeBinary, Tree, XMR_WALLET } from '../../../test/fixtures/hosts/build.ts';
import { detectOs } from './configs.ts';
import { scanFiles } from './files.ts';
import { RootFs } from './fsroot.ts';
import { decodeIpv4, decodeIpv6, parseProcNet } from './net.ts';
import { aliasesOf, dpkgOwners } from './packages.ts';
import { accountCpu, containerIdFromCgroup, parseProcStat, parseStat, readProcesses } from './proc.ts';
import { decodeText, lineIndex } from './text.ts';
import type { ContentHit, ContentMatcher } from './types.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'minewatch-sensors-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('proc/net parsing', () => {
  it('decodes IPv4 in both byte orders and IPv6 words', () => {
    assert.equal(decodeIpv4('0100007F', true), '127.0.0.1');
    assert.equal(decodeIpv4('7F000001', false), '127.0.0.1');
    assert.equal(decodeIpv6('0000000000000000FFFF00000100007F', true), '127.0.0.1');
    assert.equal(decodeIpv6('B80D0120000000000000000001000000', true), '2001:db8::1');
    assert.equal(decodeIpv6('00000000000000000000000000000000', true), '::');
  });
  it('guesses the byte order of a file from local addresses', () => {
    const head =
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
    const le = `${head}   0: 0500000A:A0D2 5594092D:01BB 01 00000000:00000000 00:00000000 00000000     0        0 5002 1\n`;
    const be = `${head}   0: 0A000005:A0D2 2D099455:01BB 01 00000000:00000000 00:00000000 00000000     0        0 5002 1\n`;
    for (const t of [le, be]) {
      const [c] = parseProcNet(t, 'tcp', '/proc/net/tcp');
      assert.equal(c?.remoteIp, '45.9.148.85');
      assert.equal(c?.remotePort, 443);
      assert.equal(c?.localIp, '10.0.0.5');
      assert.equal(c?.state, 'ESTABLISHED');
      assert.equal(c?.inode, 5002);
      assert.equal(c?.line, 2);
    }
  });
});

describe('proc parsing', () => {
  it('parses stat with spaces and parentheses in comm', () => {
    const s = parseStat('42 (my (odd) proc) R 1 42 42 0 -1 0 0 0 0 0 1234 56 0 0 20 0 1 0 999 0 0\n');
    assert.deepEqual(s, {
      comm: 'my (odd) proc',
      ppid: 1,
      utime: 1234,
      stime: 56,
      cutime: 0,
      cstime: 0,
      starttime: 999,
    });
  });
  it('finds container ids in cgroup v1 and v2 lines', () => {
    const id = 'a'.repeat(64);
    assert.equal(containerIdFromCgroup(`0::/system.slice/docker-${id}.scope\n`), id);
    assert.equal(containerIdFromCgroup(`12:pids:/docker/${id}\n`), id);
    assert.equal(
      containerIdFromCgroup(
        `0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1.slice/cri-containerd-${id}.scope\n`,
      ),
      id,
    );
    assert.equal(containerIdFromCgroup('0::/user.slice/user-1000.slice\n'), undefined);
  });
  it('accounts CPU the kernel saw that no visible process explains', () => {
    const a = {
      atMs: 0,
      busy: 1000,
      cores: 2,
      perPid: new Map([
        [1, 100],
        [2, 50],
      ]),
    };
    const b = {
      atMs: 1000,
      busy: 1190,
      cores: 2,
      perPid: new Map([
        [1, 120],
        [2, 60],
        [3, 5],
      ]),
    };
    const acc = accountCpu(a, b);
    assert.equal(acc.kernelBusyTicks, 190);
    // pid 3 started between the samples: all its 5 ticks fall inside the interval.
    assert.equal(acc.processTicks, 35);
    assert.equal(acc.unexplainedPercent, 155);
    // Commands a visible shell ran and reaped between the samples (cutime/cstime) are explained, and a
    // reused pid (other starttime) counts whole.
    const withKids = accountCpu(
      {
        ...a,
        children: new Map([[1, 0]]),
        starts: new Map([
          [1, 10],
          [2, 20],
        ]),
      },
      {
        ...b,
        children: new Map([[1, 100]]),
        starts: new Map([
          [1, 10],
          [2, 99],
          [3, 5],
        ]),
      },
    );
    assert.equal(withKids.processTicks, 20 + 100 + 60 + 5);
    assert.equal(withKids.unexplainedPercent, 5);
    assert.deepEqual(parseProcStat('cpu  10 2 3 100 0 0 0 0 0 0\ncpu0 5 1 1 50\ncpu1 5 1 2 50\n'), {
      busy: 15,
      cores: 2,
    });
  });
  it('reads processes, exe links (symlink or file) and fd sockets', () => {
    const t = new Tree(path.join(tmp, 'p'));
    t.write('proc/uptime', '1000.0 0\n');
    t.proc(7, {
      argv: ['/tmp/x', '-o', 'a'],
      comm: 'x',
      exe: '/tmp/x (deleted)',
      sockets: [11, 12],
      utime: 30_000,
      stime: 0,
      starttime: 50_000,
    });
    t.proc(8, { argv: ['/bin/y'], comm: 'y', exe: '/bin/y', exeAsFile: true });
    const ps = readProcesses(new RootFs(t.root));
    assert.equal(ps.length, 2);
    assert.equal(ps[0]?.exe, '/tmp/x');
    assert.equal(ps[0]?.exeDeleted, true);
    assert.deepEqual(ps[0]?.sockets, [11, 12]);
    assert.equal(ps[0]?.cmdline, '/tmp/x -o a');
    assert.equal(ps[0]?.cpuPercent, 60); // 300 s of CPU over 500 s alive
    assert.equal(ps[1]?.exe, '/bin/y');
  });
});

describe('RootFs', () => {
  const t = new Tree(path.join(tmp, 'r'));
  t.write('etc/real', 'x');
  t.link('a/abs', '/etc/real');
  t.link('a/up', '../../../../etc/real');
  t.link('a/out', '/etc/shadow');
  t.link('a/l1', 'l2');
  t.link('a/l2', 'l1');
  const rfs = new RootFs(t.root);
  it('resolves links against the root like a chroot', () => {
    for (const p of ['/a/abs', '/a/up']) {
      const r = rfs.resolve(p);
      assert.ok(r.ok);
      assert.equal(r.rel, '/etc/real');
      assert.ok(r.real.startsWith(t.root));
    }
    const out = rfs.resolve('/a/out');
    assert.equal(out.ok, false);
    assert.equal(!out.ok && out.reason, 'missing');
    const loop = rfs.resolve('/a/l1');
    assert.equal(!loop.ok && loop.reason, 'loop');
  });
  it('bounds reads', () => {
    t.write('big', Buffer.alloc(10_000, 0x41));
    const r = rfs.readHead('/big', 100);
    assert.equal(r?.buf.length, 100);
    assert.equal(r?.truncated, true);
  });
});

describe('file scanning', () => {
  it('finds a token cut by a chunk border exactly once', () => {
    const t = new Tree(path.join(tmp, 'f'));
    const size = 4 * 1024 * 1024 + 4096;
    const buf = fakeBinary([], { size, seed: 3 });
    Buffer.from(XMR_WALLET, 'latin1').copy(buf, 4 * 1024 * 1024 - 40); // straddles the first 4 MiB chunk
    t.write('tmp/bin', buf);
    const re = new RegExp(XMR_WALLET, 'g');
    const matcher: ContentMatcher = {
      scan(text: string, base: number, out: ContentHit[]) {
        re.lastIndex = 0;
        for (let m = re.exec(text); m; m = re.exec(text))
          out.push({ kind: 'wallet', value: m[0], offset: base + m.index });
      },
      scanBytes(bytes: Buffer, base: number, out: ContentHit[]) {
        this.scan(bytes.toString('latin1'), base, out);
      },
      keepText: () => false,
    };
    const r = scanFiles(new RootFs(t.root), { paths: ['tmp'], maxFileBytes: 64 << 20, matcher });
    assert.equal(r.files.length, 1);
    assert.deepEqual(
      r.files[0]?.hits.map((h) => h.offset),
      [4 * 1024 * 1024 - 40],
    );
    assert.equal(r.files[0]?.type, 'elf');
  });
  it('reads only the head of archives and media, still judging them by name', () => {
    const t = new Tree(path.join(tmp, 'z'));
    const body = Buffer.concat([
      Buffer.from('\x1f\x8b\x08\x00\x00\x00\x00\x00', 'latin1'),
      Buffer.alloc(1 << 20, 0x41),
      Buffer.from(`stratum+tcp://pool.supportxmr.com:3333 ${XMR_WALLET}`, 'latin1'),
    ]);
    t.write('tmp/logs.tar.gz', body);
    t.write('tmp/xmrig.tar.gz', body);
    t.write('tmp/plain.bin', body.subarray(8));
    const seen: number[] = [];
    const matcher: ContentMatcher = {
      scan() {},
      scanBytes(bytes: Buffer, base: number, out: ContentHit[]) {
        seen.push(bytes.length);
        const i = bytes.indexOf('stratum+tcp://');
        if (i >= 0) out.push({ kind: 'stratum', value: 'stratum+tcp://x', offset: base + i });
      },
      keepText: () => false,
    };
    const r = scanFiles(new RootFs(t.root), {
      paths: ['tmp'],
      maxFileBytes: 64 << 20,
      matcher,
      interestingName: (n) => n.startsWith('xmrig'),
    });
    assert.equal(r.compressed, 2);
    assert.deepEqual(seen, [body.length - 8]); // only plain.bin went through the matcher
    assert.deepEqual(r.files.map((f) => f.path).sort(), ['/tmp/plain.bin', '/tmp/xmrig.tar.gz']);
    assert.ok(r.bytes < body.length + 2 * 64 * 1024 + 1, `read ${r.bytes}`);
  });
  it('decodes junk and UTF-16 text keeping line numbers', () => {
    const d = decodeText(Buffer.from('REDIS0006\x00\xfe\n* * * * * x\n', 'latin1'));
    assert.equal(d.binaryJunk, true);
    assert.equal(d.text.split('\n')[1], '* * * * * x');
    const u = decodeText(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('<a>\r\n<b>', 'utf16le')]));
    assert.equal(u.encoding, 'utf16le');
    assert.equal(lineIndex(u.text)(u.text.indexOf('<b>')), 2);
  });
});

describe('package ownership, named files, default places', () => {
  it('dpkgOwners answers from the .list files, by either merged-/usr name, and only what was asked', () => {
    const t = new Tree(path.join(tmp, 'dpkg'));
    t.write(
      'var/lib/dpkg/info/libjemalloc2:amd64.list',
      '/.\n/usr\n/usr/lib/x86_64-linux-gnu/libjemalloc.so.2\n',
    );
    t.write('var/lib/dpkg/info/snoopy.list', '/.\n/lib\n/lib/x86_64-linux-gnu/libsnoopy.so\n');
    t.write('var/lib/dpkg/info/snoopy.md5sums', 'ffff  lib/x86_64-linux-gnu/libevil.so\n');
    const owners = dpkgOwners(new RootFs(t.root), [
      '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2',
      '/usr/lib/x86_64-linux-gnu/libsnoopy.so',
      '/lib/x86_64-linux-gnu/libevil.so',
    ]);
    assert.deepEqual(Object.fromEntries(owners), {
      '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2': 'libjemalloc2',
      '/usr/lib/x86_64-linux-gnu/libsnoopy.so': 'snoopy',
    });
    assert.deepEqual(aliasesOf('/usr/sbin/x'), ['/sbin/x', '/usr/sbin/x']);
    assert.equal(dpkgOwners(new RootFs(path.join(tmp, 'none')), ['/usr/bin/x']).size, 0);
  });

  it('extraFiles are read once, outside the walked paths, and not when excluded', () => {
    const t = new Tree(path.join(tmp, 'extra'));
    t.write('usr/sbin/helper', fakeBinary([XMR_WALLET], { seed: 5 }));
    t.write('start.sh', '#!/bin/sh\nexec /usr/sbin/helper\n');
    t.write('tmp/a', 'x');
    t.write('opt/skip/y', fakeBinary([XMR_WALLET], { seed: 6 }));
    const seen: string[] = [];
    const matcher: ContentMatcher = {
      scan: () => {},
      scanBytes: (b, base, out) => {
        const i = b.indexOf(XMR_WALLET);
        if (i >= 0) out.push({ kind: 'wallet', value: XMR_WALLET, offset: base + i });
      },
      keepText: () => false,
    };
    const r = scanFiles(new RootFs(t.root), {
      paths: ['tmp'],
      maxFileBytes: 1 << 20,
      matcher,
      exclude: ['opt/skip'],
      extraFiles: ['/usr/sbin/helper', '/start.sh', '/tmp/a', '/usr/sbin/helper', '/opt/skip/y', '/missing'],
      onProgress: (p) => seen.push(p.path),
    });
    // /tmp/a is walked and named: read once, kept as named text.
    assert.deepEqual(r.files.map((f) => f.path).sort(), ['/start.sh', '/tmp/a', '/usr/sbin/helper']);
    // The top-level script is kept whole although it has no hit: it is named, so its lines are linked.
    assert.match(r.files.find((f) => f.path === '/start.sh')?.text ?? '', /exec \/usr\/sbin\/helper/);
    assert.equal(r.count, 3);
  });

  it('a root with Windows homes and no /etc is Windows', () => {
    const t = new Tree(path.join(tmp, 'winhomes'));
    t.write('Users/bob/AppData/Local/Temp/x.bat', '@echo off\n');
    assert.equal(detectOs(new RootFs(t.root)), 'windows');
    t.write('etc/hostname', 'h\n');
    assert.equal(detectOs(new RootFs(t.root)), 'linux');
  });
});
