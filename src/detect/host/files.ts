/** File rules: miner binaries (stock or trojan with hard-coded wallet/pool), miner configs, dropper scripts. */
import { ATTACK, type AttackRef, type Evidence, type Finding } from '../../findings/index.ts';
import { looksLikeMinerConfig, parseMinerConfig } from '../../sensors/host/configs.ts';
import { lineIndex } from '../../sensors/host/text.ts';
import type { FileRecord } from '../../sensors/host/types.ts';
import type { WalletInfo } from '../../wallets/index.ts';
import {
  checkWallet,
  classifyCommand,
  excerpt,
  makeFinding,
  type PoolRefFound,
  poolCoins,
  poolField,
  poolFromToken,
  poolKey,
} from './common.ts';
import type { IntelView } from './intel-view.ts';
import {
  BASE64_EXEC_RE,
  BEHAVIOURS,
  DOWNLOAD_RE,
  EXEC_RE,
  SSH_KEY_RE,
  TEMP_DIR_RE,
  URL_RE,
} from './patterns.ts';
import { readScriptFile } from './script/findings.ts';
import { sniffLang } from './script/read.ts';

export interface FileDetections {
  findings: Finding[];
  /** SSH key blobs that scripts plant → script path (to confirm authorized_keys entries). */
  plantedKeys: Map<string, string>;
}

/** `configPaths`: files the persistence rules already judge (cron, units, tasks): not judged twice here. */
export function detectFiles(
  files: FileRecord[],
  iv: IntelView,
  configPaths: ReadonlySet<string> = new Set(),
): FileDetections {
  const findings: Finding[] = [];
  const plantedKeys = new Map<string, string>();
  for (const f of files) {
    if (configPaths.has(f.path) && f.type !== 'elf' && f.type !== 'pe') continue;
    if (WMI_REPOSITORY_RE.test(f.path)) findings.push(...wmiRepository(f, iv));
    else if (f.type === 'elf' || f.type === 'pe') findings.push(...binary(f, iv));
    else if (f.type === 'json' || (f.text !== undefined && looksLikeMinerConfig(f.text)))
      findings.push(...config(f, iv));
    else if (f.text !== undefined && (f.type === 'script' || f.type === 'xml' || f.type === 'text'))
      findings.push(...script(f, iv, plantedKeys));
    else findings.push(...nameOnly(f, iv));
  }
  return { findings, plantedKeys };
}

function fileEv(f: FileRecord, extra: Partial<Evidence> = {}): Evidence {
  return { kind: 'file', path: f.path, size: f.size, mtime: new Date(f.mtimeMs).toISOString(), ...extra };
}

interface Harvest {
  pools: PoolRefFound[];
  wallets: (WalletInfo & { offset: number })[];
  strings: { value: string; offset: number }[];
  families: { family: string; marker: string; offset: number }[];
}

function harvest(f: FileRecord, iv: IntelView): Harvest {
  const h: Harvest = { pools: [], wallets: [], strings: [], families: [] };
  const seen = new Set<string>();
  for (const x of f.hits) {
    if (seen.has(`${x.kind}:${x.value}`)) continue;
    seen.add(`${x.kind}:${x.value}`);
    if (x.kind === 'stratum' || x.kind === 'domain' || x.kind === 'ip-port') {
      const p = poolFromToken(x.value, iv);
      if (p) h.pools.push(p);
    } else if (x.kind === 'wallet') {
      const w = checkWallet(x.value);
      if (w?.valid) h.wallets.push({ ...w, offset: x.offset });
    } else if (x.kind === 'miner') h.strings.push({ value: x.value, offset: x.offset });
    else if (x.kind === 'family') {
      const fam = iv.families(x.value)[0];
      if (fam) h.families.push({ family: fam.family, marker: x.value, offset: x.offset });
    }
  }
  for (const s of h.strings) {
    const fam = iv.families(s.value)[0];
    if (fam) h.families.push({ family: fam.family, marker: s.value, offset: s.offset });
  }
  return h;
}

/** Evidence for the first wallets and pools a harvest found in `f`, each at its offset. */
function harvestEvidence(f: FileRecord, h: Harvest): Evidence[] {
  const out: Evidence[] = [];
  for (const x of h.wallets.slice(0, 3)) out.push(fileEv(f, { offset: x.offset, excerpt: x.address }));
  for (const x of h.pools.slice(0, 3))
    out.push(fileEv(f, { offset: f.hits.find((y) => y.value === x.url)?.offset, excerpt: x.url }));
  return out;
}

/** Reasons naming the first wallets and pools a harvest found. */
function harvestReasons(h: Harvest): string[] {
  return [
    ...h.wallets.slice(0, 3).map((x) => `${x.coin} wallet ${x.address} at byte ${x.offset}`),
    ...h.pools.slice(0, 3).map((x) => `pool ${x.url}`),
  ];
}

/** The finding fields a harvest fills: the first pool and wallet, the coin they say, and all of both. */
function harvestFields(h: Harvest): Record<string, unknown> {
  const w = h.wallets[0];
  const p = h.pools[0];
  return {
    pool: p ? poolField(p) : undefined,
    coin: w?.coin ?? (p ? poolCoins(p)[0] : undefined),
    wallet: w?.address,
    wallet_valid: w ? w.valid : undefined,
    pools: h.pools.map(poolKey),
    wallets: h.wallets.map((x) => x.address),
  };
}

function binary(f: FileRecord, iv: IntelView): Finding[] {
  const h = harvest(f, iv);
  const name = iv.minerFile(f.path);
  const out: Finding[] = [];
  const hardcoded = h.wallets.length > 0 || h.pools.length > 0;
  const stock = h.strings.some((s) => iv.minerStrings(s.value).length > 0 && !iv.families(s.value).length);
  const inTemp = TEMP_DIR_RE.test(f.path);
  // A strong miner string (xmrig's format strings, its donate host) convicts. The plain words 'xmrig' and
  // 'cryptonight' do not: monerod, wallets, hashing libraries and their Python bindings say them too, so
  // together they convict only a binary that already sits where executables should not (temp, hidden
  // dir) or is UPX-packed.
  const strWeights = new Map<string, string>();
  for (const x of h.strings) for (const m of iv.minerStrings(x.value)) strWeights.set(m.value, m.weight);
  const stringsConvict =
    [...strWeights.values()].includes('strong') || (strWeights.size >= 2 && (inTemp || !!f.packed));
  if (hardcoded || stringsConvict || (name && name.weight !== 'weak') || h.families.length) {
    const w = h.wallets[0];
    const p = h.pools[0];
    const type = hardcoded ? 'type1-trojan' : 'type2-stock-miner-dropper';
    const evidence: Evidence[] = [
      fileEv(f, {
        offset: ((w ?? p) ? f.hits.find((x) => x.kind !== 'miner') : f.hits[0])?.offset,
        excerpt: f.packed ? 'UPX-packed' : undefined,
      }),
    ];
    evidence.push(...harvestEvidence(f, h));
    for (const x of h.strings.slice(0, 3)) evidence.push(fileEv(f, { offset: x.offset, excerpt: x.value }));
    out.push(
      makeFinding({
        rule: 'host.file.miner-binary',
        key: [f.path],
        title: hardcoded
          ? `${f.type.toUpperCase()} ${f.path} carries a hard-coded ${w ? 'wallet' : 'pool'}${w && p ? ' and pool' : ''}`
          : `${f.type.toUpperCase()} ${f.path} is a miner${name ? ` (${f.path.split('/').pop()})` : ''}`,
        severity: hardcoded ? 'critical' : 'high',
        confidence: hardcoded ? 0.95 : h.strings.length ? 0.85 : 0.7,
        attack: [ATTACK.resourceHijacking, ...(f.packed ? [ATTACK.softwarePacking] : [])],
        evidence,
        reasons: [
          ...harvestReasons(h),
          ...(h.strings.length
            ? [`miner strings: ${[...new Set(h.strings.map((s) => s.value))].slice(0, 5).join(', ')}`]
            : []),
          ...(name ? [`file name matches miner '${name.value}'`] : []),
          ...(f.packed ? ['packed with UPX'] : []),
          ...(inTemp ? ['lives in a temporary or hidden directory'] : []),
        ],
        extra: {
          infection_type: type,
          stock_miner: stock || undefined,
          ...harvestFields(h),
          family: h.families[0]?.family ?? name?.family,
        },
      }),
    );
    return out;
  }
  if (f.packed && inTemp) {
    out.push(
      makeFinding({
        rule: 'host.file.packed-binary',
        key: [f.path],
        title: `UPX-packed executable in ${f.path}`,
        severity: 'medium',
        confidence: 0.6,
        attack: [ATTACK.softwarePacking, ATTACK.resourceHijacking],
        evidence: [fileEv(f)],
        reasons: ['UPX-packed executables in temporary directories are how most Linux miners arrive'],
      }),
    );
  } else if (inTemp) {
    out.push(
      makeFinding({
        rule: 'host.file.temp-executable',
        key: [f.path],
        title: `Executable in ${f.path}`,
        severity: 'low',
        confidence: 0.35,
        attack: [ATTACK.masquerading],
        evidence: [fileEv(f)],
        reasons: ['executables rarely belong in temporary or hidden directories'],
      }),
    );
  }
  return out;
}

/** The WMI repository's object store, where permanent event subscriptions live (any case: NTFS). */
const WMI_REPOSITORY_RE = /\/wbem\/repository\/objects\.data$/i;

/**
 * Mining in the WMI repository: a pool, wallet or miner name stored there belongs to a permanent event
 * subscription (a CommandLineEventConsumer or ActiveScriptEventConsumer runs it on a timer or at boot), the
 * persistence WannaMine and LemonDuck use. Their command lines are stored as plain bytes, which the content
 * scan reads as it reads any file.
 */
function wmiRepository(f: FileRecord, iv: IntelView): Finding[] {
  const h = harvest(f, iv);
  const strong = h.strings.filter((s) => iv.minerStrings(s.value).some((m) => m.weight === 'strong'));
  if (!h.pools.length && !h.wallets.length && !h.families.length && !strong.length) return [];
  const hardcoded = h.pools.length > 0 || h.wallets.length > 0;
  const evidence = harvestEvidence(f, h);
  for (const x of [...h.families, ...strong].slice(0, 3))
    evidence.push(fileEv(f, { offset: x.offset, excerpt: 'marker' in x ? x.marker : x.value }));
  return [
    makeFinding({
      rule: 'host.persistence.wmi-subscription',
      key: [f.path],
      title: `WMI event subscription runs a miner (${f.path})`,
      severity: hardcoded ? 'critical' : 'high',
      confidence: hardcoded ? 0.9 : 0.8,
      attack: [ATTACK.resourceHijacking, ATTACK.wmiSubscription],
      evidence,
      reasons: [
        'the WMI repository holds a permanent event subscription whose command names mining',
        ...harvestReasons(h),
        ...h.families.slice(0, 3).map((x) => `${x.family} marker '${x.marker}'`),
        ...strong.slice(0, 3).map((x) => `miner string '${x.value}'`),
      ],
      extra: { ...harvestFields(h), family: h.families[0]?.family },
    }),
  ];
}

function nameOnly(f: FileRecord, iv: IntelView): Finding[] {
  const name = iv.minerFile(f.path);
  if (!name || name.weight === 'weak') return [];
  return [
    makeFinding({
      rule: 'host.file.miner-name',
      key: [f.path],
      title: `File ${f.path} is named like a miner (${name.value})`,
      severity: name.weight === 'strong' ? 'medium' : 'low',
      confidence: name.weight === 'strong' ? 0.6 : 0.4,
      attack: [ATTACK.resourceHijacking],
      evidence: [fileEv(f)],
      reasons: [`name matches '${name.value}'`],
      extra: { family: name.family },
    }),
  ];
}

/**
 * Miner configs: xmrig's JSON (5+, and 2.x with `//` comments), xmr-stak's pools.txt/config.txt, cpuminer's
 * flat JSON (parsed by the sensor's parseMinerConfig). Pools, wallet logins, other logins (e-mail, user
 * names) and workers are kept.
 */
function config(f: FileRecord, iv: IntelView): Finding[] {
  if (f.text === undefined) return nameOnly(f, iv);
  const parsed = parseMinerConfig(f.text);
  if (!parsed) return script(f, iv, new Map());
  const keys = iv.configKeys();
  const present = parsed.keys.filter((k) => keys.has(k));
  if (parsed.format === 'xmr-stak') present.push(...parsed.keys.filter((k) => !keys.has(k)).slice(0, 3));
  const pools: PoolRefFound[] = [];
  const wallets: WalletInfo[] = [];
  const accounts: string[] = [];
  const workers: string[] = [];
  for (const e of parsed.pools) {
    const ref = poolFromToken(e.url, iv);
    // Any JSON may have a top-level "url": a pool counts when it is a stratum URL, intel knows it, or it
    // comes with a login in a file that has miner keys.
    if (!ref || !(ref.intel || /^stratum/i.test(e.url) || (e.user && present.length > 0))) continue;
    pools.push(ref);
    if (e.user) {
      const w = checkWallet(e.user);
      if (w && w.valid !== false) wallets.push(w);
      else if (e.user !== 'x' && !accounts.includes(e.user)) accounts.push(e.user);
    }
    if (e.worker && !workers.includes(e.worker)) workers.push(e.worker);
  }
  if (!pools.length && present.length < 2) return [];
  const evLine = lineIndex(f.text);
  const at = (needle: string) => {
    const i = f.text!.indexOf(needle);
    return i >= 0 ? evLine(i) : undefined;
  };
  const w = wallets[0];
  const p = pools[0];
  return [
    makeFinding({
      rule: 'host.file.miner-config',
      key: [f.path],
      title: `Miner configuration ${f.path}${p ? ` for ${poolKey(p)}` : ''}`,
      severity: p || w ? 'high' : 'medium',
      confidence: p || w ? 0.9 : 0.6,
      attack: [ATTACK.resourceHijacking],
      evidence: [
        fileEv(f, {
          line: p?.url ? at(p.url) : at(`"${present[0]}"`),
          excerpt: p?.url ?? present.join(', '),
        }),
        ...(w ? [fileEv(f, { line: at(w.address), excerpt: w.address })] : []),
      ],
      reasons: [
        ...(present.length ? [`miner config keys: ${present.slice(0, 6).join(', ')}`] : []),
        ...pools.map((x) => `pool ${x.url}`),
        ...wallets.map((x) => `${x.coin} wallet ${x.address.slice(0, 12)}…`),
      ],
      extra: {
        infection_type: 'type2-stock-miner-dropper',
        pool: p ? poolField(p) : undefined,
        tls: p?.tls,
        coin: w?.coin ?? (p ? poolCoins(p)[0] : undefined),
        wallet: w?.address,
        wallet_valid: w ? w.valid : undefined,
        pools: pools.map(poolKey),
        wallets: wallets.map((x) => x.address),
        account: accounts[0],
        accounts: accounts.length ? accounts : undefined,
        worker: workers[0],
        workers: workers.length ? workers : undefined,
        config_format: parsed.format,
      },
    }),
  ];
}

/**
 * Scripts: shell, PowerShell, VBScript and batch (by content, whatever the file is called) are read
 * statement by statement with roles and attribution (script/); Python and JavaScript sources, XML and
 * other text keep the line rules below, which only look for a miner being fetched or started.
 */
function script(f: FileRecord, iv: IntelView, plantedKeys: Map<string, string>): Finding[] {
  const text = f.text!;
  // Miner configs that are not .json files or do not start with '{' (xmr-stak's pools.txt, commented xmrig);
  // only when they parse, since config() hands what does not parse back to this function.
  if (f.type !== 'xml' && looksLikeMinerConfig(text) && parseMinerConfig(text) !== undefined) {
    const c = config(f, iv);
    if (c.length) return c;
  }
  if (f.type !== 'xml' && f.lang !== 'py' && f.lang !== 'js') {
    const lang = sniffLang(text, f.lang);
    if (lang && lang !== 'py') {
      try {
        return readScriptFile(f, lang, iv, plantedKeys);
      } catch {
        // A tree too deep for the walker's stack (thousands of nested subshells): the line rules still judge
        // the file, and the rest of the scan goes on.
      }
    }
  }
  return lineRules(f, iv, plantedKeys);
}

function lineRules(f: FileRecord, iv: IntelView, plantedKeys: Map<string, string>): Finding[] {
  const text = f.text!;
  const lineOf = lineIndex(text);
  const lines = text.split('\n');
  const out: Finding[] = [];
  const beh = new Map<string, { line: number; text: string }[]>();
  const mining = {
    pools: new Map<string, PoolRefFound>(),
    wallets: new Map<string, WalletInfo>(),
    miner: new Set<string>(),
    families: new Map<string, string>(),
  };
  const dl: { line: number; text: string }[] = [];
  const urls = new Set<string>();
  let exec = false;
  let b64 = false;
  const strongLines: { line: number; text: string }[] = [];
  const library = f.lang === 'py' || f.lang === 'js';
  for (let i = 0; i < lines.length && i < 50_000; i++) {
    const t = lines[i]!;
    if (!t.trim() || t.length > 20_000) continue;
    if (DOWNLOAD_RE.test(t)) {
      dl.push({ line: i + 1, text: t });
      for (const u of t.match(URL_RE) ?? []) urls.add(u);
    }
    if (EXEC_RE.test(t)) exec = true;
    if (BASE64_EXEC_RE.test(t)) b64 = true;
    for (const b of BEHAVIOURS)
      if (b.re.test(t)) beh.set(b.id, [...(beh.get(b.id) ?? []), { line: i + 1, text: t }]);
    const sig = classifyCommand(t, iv);
    // Python and JavaScript files are mostly libraries and their tests and docs: a miner's name there is
    // mining context only on a line that fetches or runs something ('urlretrieve(u, "/tmp/xmrig")').
    if (sig.miner && library && !DOWNLOAD_RE.test(t) && !EXEC_RE.test(t)) delete sig.miner;
    let strong = false;
    for (const p of [...sig.stratum, ...sig.pools]) {
      mining.pools.set(poolKey(p), p);
      strong = true;
    }
    for (const w of sig.wallets) {
      mining.wallets.set(w.address, w);
      strong = true;
    }
    if (sig.miner) {
      mining.miner.add(sig.miner.value);
      strong = true;
    }
    for (const fm of sig.families) {
      mining.families.set(fm.family, fm.marker);
      strong = true;
    }
    if (strong) strongLines.push({ line: i + 1, text: t });
    SSH_KEY_RE.lastIndex = 0;
    for (const m of t.matchAll(SSH_KEY_RE)) plantedKeys.set(m[1]!, f.path);
  }
  // Hits from the streaming scanner (wallets split across odd lines, domains in strings).
  for (const x of f.hits) {
    if (x.kind === 'wallet') {
      const w = checkWallet(x.value);
      if (w?.valid && !mining.wallets.has(w.address)) {
        mining.wallets.set(w.address, w);
        strongLines.push({ line: lineOf(x.offset), text: x.value });
      }
    }
  }
  const famMarkers = iv.families(text);
  for (const fm of famMarkers) if (!mining.families.has(fm.family)) mining.families.set(fm.family, fm.marker);
  // Strong miner strings (a static xmrig release URL, xmrig's console help) name the miner in any language.
  for (const m of iv.minerStrings(text)) if (m.weight === 'strong') mining.miner.add(m.value);
  const tuning = iv.systemMarkers(text);
  const behaviourIds = [...beh.keys()];
  const evasive = behaviourIds.filter((b) => b !== 'persistence-install');
  const miningSeen = mining.pools.size + mining.wallets.size + mining.miner.size + mining.families.size > 0;
  const dropper =
    (dl.length > 0 && (exec || b64)) || f.lang === 'vbs' || f.lang === 'ps1' || f.lang === 'bat';
  // A dropper: fetches and runs code AND points at mining (pool, wallet, miner, campaign marker), or a
  // script that launches a miner against a pool/wallet. Fetch-and-run alone is every installer (and
  // Python's own urllib tests); campaign behaviour without a miner named (kills rivals, removes agents,
  // tampers) is enough only for a script that itself sits in a temp or hidden directory.
  const campaignLike =
    TEMP_DIR_RE.test(f.path) &&
    (evasive.length >= 2 || (evasive.length >= 1 && beh.has('persistence-install')));
  // Without fetching or running anything, a script counts only when it also names the miner it starts: a
  // pool or wallet alone is what every security tool's source, rule file and documentation contains.
  const isDropper =
    (dropper && (miningSeen || campaignLike)) ||
    (miningSeen &&
      (mining.pools.size > 0 || mining.wallets.size > 0) &&
      (exec ||
        dl.length > 0 ||
        (f.lang !== undefined && (mining.miner.size > 0 || mining.families.size > 0))));
  if (isDropper) {
    const p = [...mining.pools.values()][0];
    const w = [...mining.wallets.values()][0];
    const attack: AttackRef[] = [ATTACK.resourceHijacking];
    if (dl.length) attack.push(ATTACK.ingressToolTransfer);
    attack.push(
      f.lang === 'vbs' ? ATTACK.visualBasic : f.lang === 'ps1' ? ATTACK.powershell : ATTACK.unixShell,
    );
    if (b64) attack.push(ATTACK.obfuscatedFiles);
    for (const b of BEHAVIOURS) if (beh.has(b.id)) attack.push(b.attack);
    const ev: Evidence[] = [
      ...strongLines.slice(0, 6).map((l) => fileEv(f, { line: l.line, excerpt: excerpt(l.text) })),
      ...dl.slice(0, 4).map((l) => fileEv(f, { line: l.line, excerpt: excerpt(l.text) })),
    ];
    const fam = [...mining.families.entries()][0];
    out.push(
      makeFinding({
        rule: 'host.file.dropper-script',
        key: [f.path],
        title: `${f.lang ? `${f.lang} script` : 'Script'} ${f.path} ${miningSeen ? 'installs a miner' : 'behaves like a miner dropper'}${fam ? ` (${iv.familyName(fam[0])})` : ''}`,
        severity: miningSeen ? 'critical' : 'high',
        confidence: miningSeen ? 0.95 : 0.8,
        attack,
        evidence: dedupeEv(ev).slice(0, 12),
        reasons: [
          ...(dl.length
            ? [
                `downloads with ${dl.length} command(s)${urls.size ? `: ${[...urls].slice(0, 3).join(', ')}` : ''}`,
              ]
            : []),
          ...(exec ? ['runs what it fetched'] : []),
          ...(b64 ? ['runs base64-decoded code'] : []),
          ...[...mining.pools.values()].slice(0, 3).map((x) => `pool ${poolKey(x)}`),
          ...[...mining.wallets.values()]
            .slice(0, 3)
            .map((x) => `${x.coin} wallet ${x.address.slice(0, 12)}…`),
          ...(mining.miner.size ? [`miner ${[...mining.miner].slice(0, 3).join(', ')}`] : []),
          ...[...mining.families.entries()].map(([id, m]) => `${iv.familyName(id)} marker '${m}'`),
          ...BEHAVIOURS.filter((b) => beh.has(b.id)).map(
            (b) => `${b.what} (line ${beh.get(b.id)![0]!.line})`,
          ),
          ...(tuning.length ? [`host tuning: ${tuning.map((t) => t.value).join(', ')}`] : []),
        ],
        extra: {
          infection_type: 'type2-stock-miner-dropper',
          pool: p ? poolField(p) : undefined,
          coin: w?.coin ?? (p ? poolCoins(p)[0] : undefined),
          wallet: w?.address,
          wallet_valid: w ? w.valid : undefined,
          pools: [...mining.pools.keys()],
          wallets: [...mining.wallets.keys()],
          urls: [...urls].slice(0, 20),
          family: fam?.[0],
          behaviours: behaviourIds,
        },
      }),
    );
    for (const [id, rule, title] of [
      ['competitor-kill', 'host.file.competitor-kill', 'kills competing miners'],
      ['security-agent-removal', 'host.file.security-agent-removal', 'removes cloud security agents'],
      ['firewall-tamper', 'host.file.defense-evasion', 'disables the firewall/SELinux'],
      ['log-tamper', 'host.file.log-tamper', 'erases logs or history'],
    ] as const) {
      const hits = beh.get(id);
      if (!hits) continue;
      const b = BEHAVIOURS.find((x) => x.id === id)!;
      out.push(
        makeFinding({
          rule,
          key: [f.path],
          title: `${f.path} ${title}`,
          severity: 'high',
          confidence: 0.85,
          attack: [b.attack],
          evidence: hits.slice(0, 8).map((l) => fileEv(f, { line: l.line, excerpt: excerpt(l.text) })),
          reasons: [b.what],
        }),
      );
    }
  } else if (miningSeen && (f.hits.length > 0 || mining.pools.size > 0)) {
    // Mentions pools/wallets/miners without dropping: a note, a log, a miner's leftovers.
    const p = [...mining.pools.values()][0];
    const w = [...mining.wallets.values()][0];
    out.push(
      makeFinding({
        rule: 'host.file.mining-reference',
        key: [f.path],
        title: `${f.path} refers to mining (${p ? poolKey(p) : w ? 'wallet' : ([...mining.miner][0] ?? 'marker')})`,
        severity: p && w ? 'medium' : 'low',
        confidence: p && w ? 0.6 : 0.4,
        attack: [ATTACK.resourceHijacking],
        evidence: strongLines.slice(0, 5).map((l) => fileEv(f, { line: l.line, excerpt: excerpt(l.text) })),
        reasons: ['pool, wallet or miner named in a file that does not itself run anything'],
        extra: {
          pool: p ? poolField(p) : undefined,
          wallet: w?.address,
          wallet_valid: w?.valid,
          coin: w?.coin,
        },
      }),
    );
  }
  return out;
}

function dedupeEv(ev: Evidence[]): Evidence[] {
  const seen = new Set<string>();
  return ev.filter((e) => {
    const k = `${e.path}:${e.line}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
