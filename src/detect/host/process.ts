/** Process and connection rules: pure functions of process/socket records and intel. */
import { ATTACK, type Evidence, type Finding } from '../../findings/index.ts';
import type { ConnectionRecord, CpuAccount, ProcessRecord } from '../../sensors/host/types.ts';
import {
  classifyCommand,
  commandAccount,
  excerpt,
  makeFinding,
  poolCoins,
  poolField,
  poolKey,
} from './common.ts';
import type { IntelView } from './intel-view.ts';
import { DAEMON_NAMES, KERNEL_THREAD_NAME, MEMFD_EXE_RE, TEMP_DIR_RE } from './patterns.ts';

/** A process using at least this much of one core on average is worth saying so in the reasons. */
const BUSY_CPU = 50;
/** Kernel-accounted CPU that no visible process explains, in % of one core, before it is a finding. */
const HIDDEN_CPU_MIN = 50;

export function procEvidence(p: ProcessRecord): Evidence {
  const e: Evidence = {
    kind: 'process',
    pid: p.pid,
    cmdline: excerpt(p.cmdline || `[${p.comm ?? p.name ?? ''}]`, 400),
  };
  if (p.exe) e.path = p.exe;
  if (p.exeDeleted) e.exe_deleted = true;
  if (p.comm) e.comm = p.comm;
  if (p.uid !== undefined) e.uid = p.uid;
  if (p.ppid !== undefined) e.ppid = p.ppid;
  if (p.cpuPercent !== undefined) e.cpu_percent = p.cpuPercent;
  if (p.containerId) e.container = p.containerId.slice(0, 12);
  return e;
}

function baseName(s: string): string {
  return s.split('/').pop() ?? s;
}

export function detectProcesses(procs: ProcessRecord[], iv: IntelView): Finding[] {
  const out: Finding[] = [];
  for (const p of procs) {
    if (p.kernelThread) continue;
    const ev = procEvidence(p);
    const cpuNote =
      p.cpuPercent !== undefined && p.cpuPercent >= BUSY_CPU
        ? [`uses ${p.cpuPercent}% of a core on average`]
        : [];
    const argv0 = p.argv[0] ?? '';
    const names = [
      ...new Set(
        [p.comm, p.name, baseName(argv0), p.exe ? baseName(p.exe) : undefined].filter(
          (x): x is string => !!x,
        ),
      ),
    ];

    // 1. Miner name (stock miner or campaign artefact).
    let nameHit: ReturnType<IntelView['minerProcess']>;
    for (const n of names) {
      nameHit = iv.minerProcess(n);
      if (nameHit) break;
    }
    if (nameHit && nameHit.weight !== 'weak') {
      const sev = nameHit.weight === 'strong' ? 'high' : 'medium';
      out.push(
        makeFinding({
          rule: 'host.process.miner-name',
          key: [p.pid, nameHit.value],
          title: `Process ${p.pid} is named like a miner (${nameHit.value})`,
          severity: sev,
          confidence: nameHit.weight === 'strong' ? 0.85 : 0.6,
          attack: [ATTACK.resourceHijacking],
          evidence: [ev],
          reasons: [`process name '${names.join("', '")}' matches miner name '${nameHit.value}'`, ...cpuNote],
          extra: { family: nameHit.family, process_name: nameHit.value },
        }),
      );
    }

    // 2. Command line: stratum URL, pool, wallet, miner options.
    if (p.cmdline) {
      const sig = classifyCommand(p.cmdline, iv);
      const pool = sig.stratum[0] ?? sig.pools[0];
      const wallet = sig.wallets[0];
      if (sig.stratum.length || sig.pools.length || wallet || sig.markers.length) {
        const sev = sig.stratum.length || (pool && wallet) ? 'critical' : 'high';
        const f = makeFinding({
          rule: 'host.process.stratum-cmdline',
          key: [p.pid, pool ? poolKey(pool) : '', wallet?.address],
          title: `Process ${p.pid} runs a miner${pool ? ` against ${poolKey(pool)}` : ''}`,
          severity: sev,
          confidence: Math.max(sig.confidence, 0.8),
          attack: [ATTACK.resourceHijacking],
          evidence: [ev],
          reasons: [...sig.reasons.filter((r) => !r.startsWith('runs from')), ...cpuNote],
          extra: {
            pool: pool ? poolField(pool) : undefined,
            tls: pool?.tls,
            coin: wallet?.coin ?? (pool ? poolCoins(pool)[0] : undefined),
            wallet: wallet?.address,
            wallet_valid: wallet ? wallet.valid : undefined,
            pools: [...sig.stratum, ...sig.pools].map(poolKey),
            wallets: sig.wallets.map((w) => w.address),
            ...commandAccount(p.cmdline, pool ? poolKey(pool).replace(/:\d+$/, '') : undefined),
          },
        });
        out.push(f);
      } else if (sig.families.length && !nameHit) {
        out.push(
          makeFinding({
            rule: 'host.process.campaign-marker',
            key: [p.pid, sig.families[0]!.marker],
            title: `Process ${p.pid} carries a ${iv.familyName(sig.families[0]!.family)} marker`,
            severity: 'high',
            confidence: 0.8,
            attack: [ATTACK.resourceHijacking],
            evidence: [ev],
            reasons: sig.reasons,
            extra: { family: sig.families[0]!.family },
          }),
        );
      }
    }

    // 3. Masquerading: kernel-thread or daemon name on a user-space binary from a temp dir / deleted.
    const shown = p.comm ?? p.name ?? '';
    const claimsKernel =
      KERNEL_THREAD_NAME.test(shown) || KERNEL_THREAD_NAME.test(argv0) || /^\[.*\]$/.test(argv0);
    const claimsDaemon = DAEMON_NAMES.has(shown) || DAEMON_NAMES.has(baseName(argv0));
    const busy = (p.cpuPercent ?? 0) >= BUSY_CPU;
    const memfd = p.exe !== undefined && MEMFD_EXE_RE.test(p.exe);
    // A sealed memfd exe is how runtimes re-exec themselves: it counts only on a busy process or one that
    // also poses as a kernel thread or daemon (checked below).
    const exeOdd = (memfd ? busy : p.exeDeleted) || (p.exe !== undefined && TEMP_DIR_RE.test(p.exe));
    const exeMismatch = p.exe !== undefined && claimsKernel; // a real kernel thread has no exe at all
    if ((claimsKernel || claimsDaemon) && (exeOdd || exeMismatch || memfd)) {
      out.push(
        makeFinding({
          rule: 'host.process.masquerade',
          key: [p.pid, shown],
          title: `Process ${p.pid} poses as '${claimsKernel && /^\[/.test(argv0) ? argv0 : shown}' but runs ${p.exe ?? '?'}${p.exeDeleted ? ' (deleted)' : ''}`,
          severity: exeOdd ? 'high' : 'medium',
          confidence: exeOdd ? 0.85 : 0.7,
          attack: [ATTACK.masquerading, ATTACK.resourceHijacking],
          evidence: [ev],
          reasons: [
            claimsKernel
              ? `named like a kernel thread ('${shown}' / '${argv0}') yet has an executable`
              : `named like the daemon '${shown}'`,
            ...(p.exeDeleted ? ['its executable was deleted after start'] : []),
            ...(p.exe && TEMP_DIR_RE.test(p.exe) ? [`its executable lives in ${p.exe}`] : []),
            ...cpuNote,
          ],
        }),
      );
    } else if (exeOdd && !nameHit) {
      // 4. Executable in a temp dir or deleted: suspicious on its own, more so when busy.
      out.push(
        makeFinding({
          rule: 'host.process.suspicious-exe',
          key: [p.pid, p.exe],
          title: `Process ${p.pid} runs ${memfd ? `from memory (${p.exe})` : p.exeDeleted ? 'a deleted executable' : `from ${p.exe}`}`,
          severity: busy ? 'high' : 'medium',
          confidence: busy ? 0.7 : 0.5,
          attack: [ATTACK.masquerading],
          evidence: [ev],
          reasons: [
            memfd
              ? `executable is an in-memory file (${p.exe}) and the process is busy`
              : p.exeDeleted
                ? `executable ${p.exe ?? ''} deleted after start`
                : `executable in a temporary directory (${p.exe})`,
            ...cpuNote,
          ],
        }),
      );
    }
  }
  return out;
}

export function detectConnections(
  conns: ConnectionRecord[],
  procs: ProcessRecord[],
  iv: IntelView,
): Finding[] {
  const byPid = new Map(procs.map((p) => [p.pid, p]));
  const out: Finding[] = [];
  for (const c of conns) {
    if (c.state === 'LISTEN' || c.state === 'UNCONN' || c.remotePort === 0) continue;
    const p = c.pid !== undefined ? byPid.get(c.pid) : undefined;
    const ev: Evidence = {
      kind: 'connection',
      source: c.source,
      line: c.line,
      remote: `${c.remoteIp}:${c.remotePort}`,
      local: `${c.localIp}:${c.localPort}`,
      state: c.state,
      proto: c.proto,
    };
    if (c.pid !== undefined) ev.pid = c.pid;
    if (p) ev.cmdline = excerpt(p.cmdline || p.comm || '', 300);
    const evs = p ? [ev, procEvidence(p)] : [ev];
    const ep = iv.endpoint(c.remoteIp, c.remotePort);
    const fam = iv.families(`${c.remoteIp}:${c.remotePort}`)[0] ?? iv.families(c.remoteIp)[0];
    if (ep || fam) {
      out.push(
        makeFinding({
          rule: 'host.net.pool-connection',
          key: [c.remoteIp, c.remotePort, c.pid],
          title: `${p ? `Process ${p.pid} (${p.comm ?? p.name}) is` : 'A socket is'} connected to ${ep ? `mining endpoint` : `${fam!.name} infrastructure`} ${c.remoteIp}:${c.remotePort}`,
          severity: ep ? (ep.portMatched ? 'critical' : 'high') : 'high',
          confidence: ep?.portMatched ? 0.95 : 0.8,
          attack: [ATTACK.resourceHijacking, ATTACK.appLayerProtocol],
          evidence: evs,
          reasons: [
            ep
              ? `intel lists ${c.remoteIp}${ep.portMatched ? `:${c.remotePort}` : ''} as ${ep.pool ?? 'a pool endpoint'}`
              : `intel ties ${c.remoteIp} to ${fam!.name}`,
          ],
          extra: {
            pool: { ip: c.remoteIp, port: c.remotePort, ...(ep?.pool ? { name: ep.pool } : {}) },
            coin: ep?.coins[0],
            family: fam?.family,
          },
        }),
      );
      continue;
    }
    const w = iv.portWeight(c.remotePort);
    if (w === 'strong') {
      // A port alone never convicts (intel: it ranks for a closer look); low unless the process is odd too.
      const odd = p && (p.exeDeleted || (p.exe && TEMP_DIR_RE.test(p.exe)));
      out.push(
        makeFinding({
          rule: 'host.net.miner-port',
          key: [c.remoteIp, c.remotePort, c.pid],
          title: `Connection to ${c.remoteIp}:${c.remotePort}, a typical pool port`,
          severity: odd ? 'medium' : 'low',
          confidence: odd ? 0.6 : 0.3,
          attack: [ATTACK.nonStandardPort],
          evidence: evs,
          reasons: [`port ${c.remotePort} is a typical stratum port`],
          extra: { pool: { ip: c.remoteIp, port: c.remotePort } },
        }),
      );
    }
  }
  return out;
}

export function detectHiddenCpu(cpu: CpuAccount | undefined, preloadSeen: boolean): Finding[] {
  if (!cpu || cpu.unexplainedPercent < HIDDEN_CPU_MIN) return [];
  return [
    makeFinding({
      rule: 'host.process.hidden-cpu',
      key: ['hidden-cpu'],
      title: `${cpu.unexplainedPercent}% of a core is busy in no visible process`,
      severity: preloadSeen ? 'high' : 'medium',
      confidence: preloadSeen ? 0.8 : 0.55,
      attack: [ATTACK.resourceHijacking, ATTACK.rootkit, ATTACK.hideArtifacts],
      evidence: [{ kind: 'process', source: '/proc/stat', excerpt: JSON.stringify(cpu) }],
      reasons: [
        `over ${cpu.seconds}s the kernel counted ${cpu.kernelBusyTicks} busy ticks on ${cpu.cores} CPUs, visible processes ${cpu.processTicks}`,
        ...(preloadSeen
          ? ['etc/ld.so.preload is set: a library may hide the process (libprocesshider)']
          : []),
      ],
      extra: { unexplained_cpu_percent: cpu.unexplainedPercent, cores: cpu.cores },
    }),
  ];
}
