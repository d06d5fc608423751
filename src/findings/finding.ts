/**
 * The Finding: what every detector returns and every consumer (CLI, store, report, response) reads.
 * Field names are a contract with downstream tools (see README "Data model"); add fields, never rename.
 */

export type Severity = 'info' | 'low' | 'medium' | 'high' | 'critical';

export const SEVERITY_ORDER: Record<Severity, number> = { info: 0, low: 1, medium: 2, high: 3, critical: 4 };

/** MITRE ATT&CK technique reference. */
export interface AttackRef {
  technique: string; // e.g. 'T1496'
  name: string; // e.g. 'Resource Hijacking'
}

export const ATTACK = {
  resourceHijacking: { technique: 'T1496', name: 'Resource Hijacking' },
  appLayerProtocol: { technique: 'T1071', name: 'Application Layer Protocol' },
  nonStandardPort: { technique: 'T1571', name: 'Non-Standard Port' },
  proxy: { technique: 'T1090', name: 'Proxy' },
  encryptedChannel: { technique: 'T1573', name: 'Encrypted Channel' },
  dnsResolution: { technique: 'T1071.004', name: 'Application Layer Protocol: DNS' },
  cron: { technique: 'T1053.003', name: 'Scheduled Task/Job: Cron' },
  scheduledTask: { technique: 'T1053.005', name: 'Scheduled Task/Job: Scheduled Task' },
  systemdService: { technique: 'T1543.002', name: 'Create or Modify System Process: Systemd Service' },
  windowsService: { technique: 'T1543.003', name: 'Create or Modify System Process: Windows Service' },
  rcScripts: { technique: 'T1037.004', name: 'Boot or Logon Initialization Scripts: RC Scripts' },
  shellProfile: {
    technique: 'T1546.004',
    name: 'Event Triggered Execution: Unix Shell Configuration Modification',
  },
  ldPreload: { technique: 'T1574.006', name: 'Hijack Execution Flow: Dynamic Linker Hijacking' },
  sshAuthorizedKeys: { technique: 'T1098.004', name: 'Account Manipulation: SSH Authorized Keys' },
  ingressToolTransfer: { technique: 'T1105', name: 'Ingress Tool Transfer' },
  masquerading: { technique: 'T1036.005', name: 'Masquerading: Match Legitimate Name or Location' },
  impairDefenses: { technique: 'T1562.001', name: 'Impair Defenses: Disable or Modify Tools' },
  disableFirewall: { technique: 'T1562.004', name: 'Impair Defenses: Disable or Modify System Firewall' },
  indicatorRemoval: { technique: 'T1070', name: 'Indicator Removal' },
  obfuscatedFiles: { technique: 'T1027', name: 'Obfuscated Files or Information' },
  softwarePacking: { technique: 'T1027.002', name: 'Obfuscated Files or Information: Software Packing' },
  unixShell: { technique: 'T1059.004', name: 'Command and Scripting Interpreter: Unix Shell' },
  visualBasic: { technique: 'T1059.005', name: 'Command and Scripting Interpreter: Visual Basic' },
  powershell: { technique: 'T1059.001', name: 'Command and Scripting Interpreter: PowerShell' },
  exploitPublicApp: { technique: 'T1190', name: 'Exploit Public-Facing Application' },
  bruteForce: { technique: 'T1110', name: 'Brute Force' },
  fileModification: {
    technique: 'T1222.002',
    name: 'File and Directory Permissions Modification: Linux and Mac',
  },
  rootkit: { technique: 'T1014', name: 'Rootkit' },
  wmiSubscription: {
    technique: 'T1546.003',
    name: 'Event Triggered Execution: Windows Management Instrumentation Event Subscription',
  },
  hideArtifacts: { technique: 'T1564', name: 'Hide Artifacts' },
  runKey: {
    technique: 'T1547.001',
    name: 'Boot or Logon Autostart Execution: Registry Run Keys / Startup Folder',
  },
} as const satisfies Record<string, AttackRef>;

/** Where a finding's proof sits. One finding may carry several pieces. */
export interface Evidence {
  kind: 'packet' | 'flow' | 'dns' | 'tls' | 'process' | 'connection' | 'file' | 'log' | 'intel';
  /** The input the evidence came from: capture file, scanned path, log file. */
  source?: string;
  /** 1-based packet numbers in the capture (as Wireshark counts them). */
  packets?: number[];
  path?: string;
  /** Byte offset in the file (binaries) or 1-based line number (text). */
  offset?: number;
  line?: number;
  pid?: number;
  cmdline?: string;
  /** A short, printable excerpt of what matched (truncated, never the whole payload). */
  excerpt?: string;
  [extra: string]: unknown;
}

export interface PoolRef {
  host?: string;
  ip?: string;
  port?: number;
  /** Name of the pool operator from intel, e.g. 'nanopool'. */
  name?: string;
  /** The intel entry's host that matched (e.g. 'xmr.nanopool.org'): the key pools are ranked and counted by. */
  domain?: string;
}

export interface Finding {
  /** Stable id: same evidence, same id (hash of rule + key fields). */
  id: string;
  rule: string;
  title: string;
  severity: Severity;
  /** 0..1: how sure the detector is that this is mining (or the malicious thing it names). */
  confidence: number;
  attack: AttackRef[];
  host?: string;
  /** ISO 8601; for traffic the first packet of the evidence. */
  time?: string;
  first_seen?: string;
  last_seen?: string;
  pool?: PoolRef;
  tls?: boolean;
  coin?: string;
  wallet?: string;
  wallet_valid?: boolean | null;
  worker?: string;
  /** All workers a finding names (wallet.worker suffixes, --rig-id, -p worker1). */
  workers?: string[];
  /** Pool logins that are not wallet addresses: an e-mail (MinerGate) or a user name. */
  account?: string;
  accounts?: string[];
  agent?: string;
  algo?: string;
  /**
   * What a dropper removes or kills: the competitors' pools, wallets, process names and families. Shown to
   * the responder, never counted as the attacker's (verdicts, fleet shares and campaigns read pool/wallet).
   */
  rivals?: { pools?: string[]; wallets?: string[]; names?: string[]; families?: string[] };
  /** Whose the evidence is when a rule speaks of someone other than the attacker ('rival'). */
  whose?: 'attacker' | 'rival';
  /** Why the detector decided as it did, in words a responder can check. */
  reasons?: string[];
  evidence: Evidence[];
  /** Rule-specific fields (shares, jobs, ja3, infection_type, family...). */
  [extra: string]: unknown;
}

/** Rules that mark a verdict of "mining found" (exit code 1) are those at or above this severity. */
export const MINING_SEVERITY_THRESHOLD: Severity = 'medium';

export function severityAtLeast(s: Severity, min: Severity): boolean {
  return SEVERITY_ORDER[s] >= SEVERITY_ORDER[min];
}
