import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it, mock } from 'node:test';
import {
  buildAll,
  type CaseName,
  fakeBinary,
  Tree,
  XMR_WALLET,
  XMR_WALLET2,
} from '../../../test/fixtures/hosts/build.ts';
import { SEVERITY_ORDER } from '../../findings/index.ts';
import type { ContentHit } from '../../sensors/host/types.ts';
import { contentMatcher } from './content.ts';
import { type ScanResult, scanHost } from './index.ts';
import { defaultIntelView } from './scan.ts';

let base: string;
let roots: Record<CaseName, string>;
const results = new Map<CaseName, ScanResult>();

async function scan(name: CaseName): Promise<ScanResult> {
  let r = results.get(name);
  if (!r) {
    r = await scanHost({ root: roots[name], live: false });
    results.set(name, r);
  }
  return r;
}

/** The finding of `rule` whose evidence includes `file` (and `line`, when given). */
function has(r: ScanResult, rule: string, file?: string, line?: number) {
  const f = r.findings.find(
    (x) =>
      x.rule === rule &&
      (!file || x.evidence.some((e) => e.path === file && (line === undefined || e.line === line))),
  );
  assert.ok(
    f,
    `expected ${rule}${file ? ` on ${file}${line ? `:${line}` : ''}` : ''}; got:\n${r.findings.map((x) => `${x.rule} ${x.evidence.map((e) => `${e.path}:${e.line ?? e.offset ?? ''}`).join(' ')}`).join('\n')}`,
  );
  assert.ok(f.attack.length > 0 && f.confidence > 0 && f.id.length === 16);
  return f;
}

before(() => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'minewatch-scan-test-'));
  roots = buildAll(base);
});
after(() => {
  fs.chmodSync(path.join(roots.safety, 'tmp/unreadable.sh'), 0o644);
  fs.rmSync(base, { recursive: true, force: true });
});

describe('scanHost on campaign fixtures', () => {
  it('Kinsing/H2Miner: kdevtmpfsi + kinsing, d.sh dropper, cron, C2 connection', async () => {
    const r = await scan('kinsing');
    const name = has(r, 'host.process.miner-name', '/tmp/kdevtmpfsi');
    assert.equal(name.family, 'kinsing');
    has(r, 'host.process.miner-name', '/tmp/kinsing');
    has(r, 'host.file.miner-binary', '/tmp/kdevtmpfsi');
    const d = has(r, 'host.file.dropper-script', '/tmp/d.sh', 11);
    assert.equal(d.family, 'kinsing');
    assert.equal(d.severity, 'critical');
    has(r, 'host.file.competitor-kill', '/tmp/d.sh', 8);
    has(r, 'host.file.security-agent-removal', '/tmp/d.sh', 9);
    const cron = has(r, 'host.persistence.cron', '/var/spool/cron/crontabs/root', 2);
    assert.ok(cron.attack.some((a) => a.technique === 'T1053.003'));
    const c = has(r, 'host.net.pool-connection');
    assert.equal(c.evidence[0]?.pid, 1002);
    assert.equal(r.verdict.status, 'infected');
    assert.equal(r.verdict.infection_type, 'type2-stock-miner-dropper');
    assert.ok(r.verdict.persistence.includes('cron:/var/spool/cron/crontabs/root'));
    assert.equal(r.host.hostname, 'web01');
    assert.equal(r.host.os, 'linux');
  });

  it('WatchDog: [kthreadd] masquerade from a deleted /tmp binary, ld.so.preload, pastebin cron, config', async () => {
    const r = await scan('watchdog');
    const m = has(r, 'host.process.masquerade', '/tmp/.systemd-private/kthreadd');
    assert.equal(m.evidence[0]?.pid, 2001);
    assert.equal(m.evidence[0]?.exe_deleted, true);
    has(r, 'host.persistence.ld-preload', '/etc/ld.so.preload', 1);
    has(r, 'host.persistence.cron', '/var/spool/cron/root', 1);
    const cfg = has(r, 'host.file.miner-config', '/tmp/.systemd-private/config.json');
    assert.equal(cfg.wallet, XMR_WALLET);
    assert.equal(cfg.wallet_valid, true);
    assert.equal(cfg.pool?.host, 'xmr.f2pool.com');
    assert.equal(r.verdict.infection_type, 'type2-stock-miner-dropper');
    assert.deepEqual(r.verdict.coins, ['XMR']);
    assert.ok(r.verdict.persistence.includes('ld-preload:/etc/ld.so.preload'));
    // 'watchdogs' is WatchDog's implant name (curated family intel).
    assert.equal(has(r, 'host.process.miner-name', '/usr/sbin/watchdogs').family, 'watchdog');
  });

  it('TeamTNT: renamed xmrig in a container, planted ssh key, renamed wget/curl, agent removal', async () => {
    const r = await scan('teamtnt');
    const p = has(r, 'host.process.stratum-cmdline', '/var/tmp/.../dbused');
    assert.equal(p.wallet, XMR_WALLET2);
    assert.equal(p.pool?.host, 'xmr.f2pool.com');
    assert.equal(p.evidence[0]?.container, 'a3f1c2d4e5b6');
    assert.equal(has(r, 'host.process.miner-name', '/var/tmp/.../dbused').family, 'teamtnt');
    const dr = has(r, 'host.file.dropper-script', '/tmp/.ICE-unix/setup.sh');
    assert.equal(dr.family, 'teamtnt');
    has(r, 'host.file.security-agent-removal', '/tmp/.ICE-unix/setup.sh', 6);
    has(r, 'host.persistence.ssh-key', '/root/.ssh/authorized_keys', 2);
    // The admin's key on line 1 is not flagged.
    assert.ok(!r.findings.some((f) => f.rule === 'host.persistence.ssh-key' && f.evidence[0]?.line === 1));
    has(r, 'host.tamper.download-tool', '/usr/bin/wd1');
    has(r, 'host.tamper.download-tool', '/usr/bin/cd1');
    has(r, 'host.net.pool-connection');
    assert.equal(r.verdict.infection_type, 'type2-stock-miner-dropper');
    assert.ok(r.verdict.wallets.includes(XMR_WALLET2));
  });

  it('8220: sysupdate + config.json + i.sh + cron.d, connection to 8220 infrastructure', async () => {
    const r = await scan('c8220');
    has(r, 'host.file.miner-config', '/etc/config.json');
    const d = has(r, 'host.file.dropper-script', '/etc/i.sh');
    assert.equal(d.family, '8220');
    has(r, 'host.persistence.cron', '/etc/cron.d/apache', 1);
    has(r, 'host.file.miner-binary', '/etc/sysupdate');
    has(r, 'host.process.miner-exe', '/etc/sysupdate');
    assert.equal(has(r, 'host.process.miner-name', '/etc/sysupdate').family, '8220');
    assert.equal(has(r, 'host.file.miner-binary', '/etc/networkservice').family, '8220');
    const c = has(r, 'host.net.pool-connection');
    assert.equal(c.pool?.ip, '198.46.202.146');
    assert.ok(r.verdict.pools.includes('xmr-eu1.nanopool.org:14444'));
    assert.equal(r.verdict.infection_type, 'type2-stock-miner-dropper');
  });

  it('Redis-unauth crontab: REDIS0006 header and binary junk around the cron line', async () => {
    const r = await scan('redis');
    const f = has(r, 'host.persistence.redis-crontab', '/var/spool/cron/root', 3);
    assert.equal(f.severity, 'critical');
    has(r, 'host.persistence.cron', '/var/spool/cron/root', 3);
    assert.ok(r.warnings.some((w) => w.path === '/var/spool/cron/root' && /binary/.test(w.reason)));
    assert.equal(r.verdict.status, 'infected');
  });

  it('Windows image: VBScript dropper in Startup, UTF-16LE scheduled task, cpuminer-multi.exe', async () => {
    const r = await scan('windows');
    assert.equal(r.host.os, 'windows');
    const vbs = '/ProgramData/Microsoft/Windows/Start Menu/Programs/StartUp/run.vbs';
    const d = has(r, 'host.file.dropper-script', vbs, 9);
    assert.ok(d.attack.some((a) => a.technique === 'T1059.005'));
    has(r, 'host.persistence.startup', vbs);
    const t = has(
      r,
      'host.persistence.scheduled-task',
      '/Windows/System32/Tasks/Microsoft/Windows/WindowsUpdateCheck',
      7,
    );
    assert.equal(t.pool?.host, 'xmr.pool.minergate.com');
    assert.equal(t.pool?.port, 45700);
    assert.equal(t.wallet, XMR_WALLET);
    has(r, 'host.file.miner-binary', '/ProgramData/cpuminer/cpuminer-multi.exe');
    const wmi = has(r, 'host.persistence.wmi-subscription', '/Windows/System32/wbem/Repository/OBJECTS.DATA');
    assert.ok(wmi.attack.some((a) => a.technique === 'T1546.003'));
    assert.equal(wmi.wallet, XMR_WALLET);
    assert.equal(wmi.severity, 'critical');
    assert.ok(r.verdict.persistence.some((p) => p.startsWith('wmi-subscription:')));
    assert.deepEqual(r.verdict.pools, ['xmr.pool.minergate.com:45700']);
    assert.equal(r.verdict.infection_type, 'type2-stock-miner-dropper');
  });

  it('type-1 trojan: wallet and pool hard-coded in an ELF', async () => {
    const r = await scan('trojan');
    const f = has(r, 'host.file.miner-binary', '/usr/local/bin/dbus-helper');
    assert.equal(f.infection_type, 'type1-trojan');
    assert.equal(f.wallet, XMR_WALLET);
    assert.equal(f.wallet_valid, true);
    const off = f.evidence.find((e) => e.excerpt === XMR_WALLET)?.offset;
    assert.ok(typeof off === 'number' && off > 0);
    has(r, 'host.process.miner-exe', '/usr/local/bin/dbus-helper');
    assert.equal(r.verdict.infection_type, 'type1-trojan');
    assert.ok(r.verdict.pools.includes('pool.supportxmr.com:3333'));
  });

  it('busy clean server (Java, Node, bitcoind on 8333, certbot, admins keys) yields nothing above low', async () => {
    const r = await scan('clean');
    const loud = r.findings.filter((f) => SEVERITY_ORDER[f.severity] > SEVERITY_ORDER.low);
    assert.deepEqual(
      loud.map((f) => `${f.rule} ${f.title}`),
      [],
    );
    assert.equal(r.verdict.status, 'clean');
    assert.equal(r.verdict.infection_type, null);
    assert.equal(r.stats.processes, 11);
    // The site-packages, node_modules and ~/.pyenv/versions trees were listed, not walked.
    assert.ok(r.stats.pruned >= 3, JSON.stringify(r.stats));
    assert.ok(r.stats.prunedDirs.includes('/root/.pyenv/versions'));
  });

  it('busy clean server walked whole (--deep): the look-alikes in package trees stay quiet too', async () => {
    const r = await scanHost({ root: roots.clean, live: false, deep: true });
    const loud = r.findings.filter((f) => SEVERITY_ORDER[f.severity] > SEVERITY_ORDER.low);
    assert.deepEqual(
      loud.map((f) => `${f.rule} ${f.title}`),
      [],
    );
    assert.equal(r.stats.pruned, 0);
    assert.equal(r.stats.deep, true);
    assert.ok(r.stats.files > (await scan('clean')).stats.files);
  });
});

describe('content matcher', () => {
  const m = contentMatcher(defaultIntelView());
  const hits = (text: string) => {
    const out: ContentHit[] = [];
    m.scanBytes(Buffer.from(text, 'latin1'), 100, out);
    return out.map((h) => `${h.kind}:${h.value}@${h.offset}`);
  };
  it('finds each kind once, leftmost first, the stratum URL swallowing its own host and port', () => {
    const text = `x stratum+tcp://pool.supportxmr.com:3333 y ${XMR_WALLET}\nXMRig/%s libuv/%s%s kinsing 45.9.148.85:443 pool.supportxmr.com:443 kdevtmpfsi`;
    assert.deepEqual(hits(text), [
      'stratum:stratum+tcp://pool.supportxmr.com:3333@102',
      `wallet:${XMR_WALLET}@${100 + text.indexOf(XMR_WALLET)}`,
      `miner:XMRig/%s libuv/%s%s@${100 + text.indexOf('XMRig/')}`,
      `miner:kinsing@${100 + text.indexOf('kinsing')}`,
      `ip-port:45.9.148.85:443@${100 + text.indexOf('45.9.')}`,
      `domain:pool.supportxmr.com:443@${100 + text.lastIndexOf('pool.supportxmr.com')}`,
      `miner:kdevtmpfsi@${100 + text.indexOf('kdevtmpfsi')}`,
    ]);
  });
  it('ignores look-alikes: short base58 runs, labels that only start like a TLD, 6-digit ports', () => {
    assert.deepEqual(hits(`${XMR_WALLET.slice(0, 94)} a.supportxmr.community 45.9.148.85:123456 XMRIG`), []);
  });
  it('scans decoded text the same way, other characters never forming ASCII', () => {
    const out: ContentHit[] = [];
    // U+4E78's low byte is 'x': it must not make 'xmrig'.
    m.scan('\u4e78mrig 中文 kdevtmpfsi', 0, out);
    assert.deepEqual(
      out.map((h) => `${h.value}@${h.offset}`),
      ['kdevtmpfsi@9'],
    );
  });
});

describe('package-tree pruning', () => {
  it('lists pruned trees by name, reads running executables in them, and --deep reads everything', async () => {
    const root = path.join(base, 'pruning');
    const t = new Tree(root);
    t.write('etc/hostname', 'dev01\n');
    t.write('proc/uptime', '1000.0 0\n');
    const miner = ['XMRig/%s libuv/%s%s', 'donate.ssl.xmrig.com'];
    // Dropped straight into a package tree under a miner's name: found from the directory listing.
    t.write('opt/app/node_modules/kdevtmpfsi', fakeBinary(miner, { seed: 1 }), 0o755);
    // Renamed and buried: not read by default, found with --deep.
    t.write('opt/app/node_modules/left-pad/lib/helper', fakeBinary(miner, { seed: 2 }), 0o755);
    // Renamed and buried but running: its executable is read anyway.
    t.write('opt/app/node_modules/.bin/worker', fakeBinary(miner, { seed: 3 }), 0o755);
    t.proc(42, { argv: ['worker'], comm: 'worker', exe: '/opt/app/node_modules/.bin/worker' });
    const bins = (r: ScanResult) =>
      r.findings
        .filter((f) => f.rule === 'host.file.miner-binary')
        .map((f) => f.evidence[0]?.path)
        .sort();
    const r = await scanHost({ root, live: false, paths: ['opt'] });
    assert.deepEqual(bins(r), ['/opt/app/node_modules/.bin/worker', '/opt/app/node_modules/kdevtmpfsi']);
    has(r, 'host.process.miner-exe', '/opt/app/node_modules/.bin/worker');
    assert.deepEqual(r.stats.prunedDirs, ['/opt/app/node_modules']);
    const d = await scanHost({ root, live: false, paths: ['opt'], deep: true });
    assert.deepEqual(bins(d), [
      '/opt/app/node_modules/.bin/worker',
      '/opt/app/node_modules/kdevtmpfsi',
      '/opt/app/node_modules/left-pad/lib/helper',
    ]);
  });

  it('never prunes inside the temp drop zones', async () => {
    const root = path.join(base, 'pruning-tmp');
    const t = new Tree(root);
    t.write('tmp/node_modules/x/y/helper', fakeBinary(['XMRig/%s libuv/%s%s'], { seed: 4 }), 0o755);
    const r = await scanHost({ root, live: false, paths: ['tmp'] });
    has(r, 'host.file.miner-binary', '/tmp/node_modules/x/y/helper');
    assert.equal(r.stats.pruned, 0);
  });
});

describe('scan safety', () => {
  it('does not follow links out of root, survives loops, FIFOs, junk and huge files, and warns', async () => {
    const r = await scanHost({ root: roots.safety, live: false, maxFileBytes: 8 * 1024 * 1024 });
    const warned = (p: string, re: RegExp) =>
      assert.ok(
        r.warnings.some((w) => w.path === p && re.test(w.reason)),
        `warning for ${p}: ${JSON.stringify(r.warnings)}`,
      );
    warned('/tmp/passwd', /broken symlink/); // /etc/passwd resolved inside the root, where it does not exist
    warned('/etc/cron.d/evil-link', /broken symlink/);
    warned('/tmp/loop-a', /loop/);
    warned('/tmp/fifo', /not opened/);
    warned('/etc/cron.d/fifo', /not opened/);
    warned('/tmp/huge.bin', /scanned the first/);
    warned('/etc/cron.d/junk', /binary/);
    // Nothing from the real /etc/passwd made it in.
    assert.ok(!JSON.stringify(r).includes('root:x:0:0'));
    // 200 MB sparse file: at most the cap was read from it.
    assert.ok(r.stats.bytes < 9 * 1024 * 1024 + 1024 * 1024, `read ${r.stats.bytes} bytes`);
    // The stratum URL sits past the cap: not found, and the host is judged on what was read.
    assert.ok(!r.findings.some((f) => f.evidence.some((e) => e.path === '/tmp/huge.bin')));
  });

  it('leaves atime untouched (O_NOATIME)', async () => {
    const p = path.join(roots.safety, 'tmp/atime.sh');
    const old = new Date(Date.now() - 86_400_000 * 3);
    fs.utimesSync(p, old, new Date()); // atime < mtime: relatime would update it on a plain read
    const before = fs.statSync(p).atimeMs;
    await scanHost({ root: roots.safety, live: false, paths: ['tmp'], maxFileBytes: 1024 * 1024 });
    assert.equal(fs.statSync(p).atimeMs, before);
  });

  it('turns an unreadable file into a warning (EACCES simulated: tests run as root)', async () => {
    const target = path.join(roots.safety, 'tmp/unreadable.sh');
    const real = fs.openSync;
    const m = mock.method(fs, 'openSync', (p: fs.PathLike, ...rest: unknown[]) => {
      if (String(p) === target) throw Object.assign(new Error('EACCES'), { code: 'EACCES' });
      return (real as (...a: unknown[]) => number)(p, ...rest);
    });
    try {
      const r = await scanHost({
        root: roots.safety,
        live: false,
        paths: ['tmp'],
        maxFileBytes: 1024 * 1024,
      });
      assert.ok(
        r.warnings.some((w) => w.path === '/tmp/unreadable.sh' && /EACCES/.test(w.reason)),
        JSON.stringify(r.warnings),
      );
    } finally {
      m.mock.restore();
    }
  });

  it('--no-files skips content scanning but still reads processes and persistence', async () => {
    const r = await scanHost({ root: roots.kinsing, live: false, files: false });
    assert.equal(r.stats.files, 0);
    has(r, 'host.persistence.cron', '/var/spool/cron/crontabs/root', 2);
    has(r, 'host.process.miner-name', '/tmp/kdevtmpfsi');
  });
});

describe('excluded directories', () => {
  it('--exclude skips a directory entirely and counts it; the rest of the host is still scanned', async () => {
    const r = await scanHost({ root: roots.kinsing, live: false, exclude: ['tmp'] });
    assert.equal(r.stats.excluded, 1);
    const fileRules = r.findings.filter((f) => f.rule.startsWith('host.file.'));
    assert.ok(
      fileRules.every((f) => f.evidence.every((e) => !e.path?.startsWith('/tmp/'))),
      'nothing read under /tmp',
    );
    has(r, 'host.persistence.cron', '/var/spool/cron/crontabs/root', 2);
    has(r, 'host.process.miner-name', '/tmp/kdevtmpfsi'); // processes are still seen: exclusion is for the file walk
  });
});

describe('a live host: programs the file walk cannot reach are read through /proc/PID/exe', () => {
  it('a miner that deleted itself after start still gives up its wallet', async (t) => {
    if (process.platform !== 'linux' || !fs.existsSync('/bin/sleep'))
      return t.skip('needs Linux and /bin/sleep');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mw-live-'));
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'mw-empty-'));
    // A real running program: sleep with a wallet appended (an ELF runs whatever trails it), then deleted.
    const bin = path.join(dir, 'kdevtmpfsi');
    fs.writeFileSync(bin, Buffer.concat([fs.readFileSync('/bin/sleep'), Buffer.from(`\0${XMR_WALLET}\0`)]));
    fs.chmodSync(bin, 0o755);
    const { spawn } = await import('node:child_process');
    const child = spawn(bin, ['30'], { stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 200));
      fs.rmSync(bin);
      // Only an empty directory is walked: whatever is found came through /proc.
      const r = await scanHost({ root: '/', paths: [empty.slice(1)], cpuSampleMs: 0 });
      const f = r.findings.find((x) => x.evidence.some((e) => e.path === `/proc/${child.pid}/exe`));
      assert.ok(f, r.findings.map((x) => `${x.rule} ${x.evidence[0]?.path}`).join('\n'));
      assert.equal(f.wallet, XMR_WALLET);
    } finally {
      child.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });
});
