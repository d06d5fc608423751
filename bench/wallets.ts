/**
 * Wallet benchmarks: Monero validations/s (the issue measured 93k/s with @noble keccak) and extraction MB/s
 * over ~10 MB of log-like text with a few embedded wallets. Run alone: node --import tsx bench/wallets.ts
 */
import { pathToFileURL } from 'node:url';
import { extractWallets } from '../src/wallets/extract.ts';
import { ETH_CORPUS_LOWER, XMR, ZEC_CORPUS } from '../src/wallets/test-helpers/fixtures.ts';
import { validateWallet } from '../src/wallets/validate.ts';

export interface BenchResult {
  name: string;
  value: number;
  unit: string;
}

function timeIt(minMs: number, fn: () => number): { ops: number; ms: number } {
  let ops = 0;
  const t0 = performance.now();
  let ms = 0;
  while (ms < minMs) {
    ops += fn();
    ms = performance.now() - t0;
  }
  return { ops, ms };
}

function corpus(targetBytes: number): string {
  const lines = [
    'Nov 28 13:36:01 web-1 sshd[2211]: Accepted publickey for deploy from 10.0.4.17 port 51122 ssh2: RSA SHA256:Zk3x',
    '10.0.0.5 - - [28/Nov/2025:13:36:02 +0000] "GET /api/v1/items?page=2&sort=desc HTTP/1.1" 200 5123 "-" "curl/8.5.0"',
    'kernel: [12345.678901] audit: type=1400 apparmor="ALLOWED" operation="open" profile="snap.lxd" name="/proc/1/mountinfo"',
    'container 3f1c2b9a8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3 started image=nginx:1.27',
    'sha256=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 size=1048576 path=/var/lib/docker/overlay2',
  ];
  const wallets = [
    `/tmp/.x/xmrig -o pool.minexmr.com:443 -u ${XMR.generalFund}.rig1 -p x --donate-level=1`,
    `miner --user ${ZEC_CORPUS[0]}.rig4 --pass x`,
    `ethminer -P stratum1+tcp://${ETH_CORPUS_LOWER}.w@eth.pool:4444`,
  ];
  const parts: string[] = [];
  let size = 0;
  let i = 0;
  while (size < targetBytes) {
    // A wallet line every ~2 MB: "a few embedded wallets".
    const line =
      i % 20_000 === 10_000 ? wallets[((i / 20_000) % wallets.length) | 0]! : lines[i % lines.length]!;
    parts.push(line);
    size += line.length + 1;
    i++;
  }
  return parts.join('\n');
}

export async function benchWallets(): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  const addrs = [XMR.generalFund, XMR.monerodocsStandard, XMR.corpusBitfinex, XMR.corpusProxyDonation];
  for (let i = 0; i < 2000; i++) validateWallet(addrs[i % 4]!); // warm-up
  const v = timeIt(1000, () => {
    for (let i = 0; i < 1000; i++) if (validateWallet(addrs[i & 3]!)?.valid !== true) throw new Error('bad');
    return 1000;
  });
  results.push({
    name: 'wallets.monero_validate',
    value: Math.round((v.ops / v.ms) * 1000),
    unit: 'validations/s',
  });

  const text = corpus(10 * 1024 * 1024);
  const mb = text.length / (1024 * 1024);
  extractWallets(text); // warm-up
  let hits = 0;
  const e = timeIt(2000, () => {
    hits = extractWallets(text).length;
    return 1;
  });
  if (hits < 3) throw new Error(`expected the embedded wallets, got ${hits}`);
  results.push({
    name: 'wallets.extract_text',
    value: +((mb * e.ops) / (e.ms / 1000)).toFixed(1),
    unit: 'MB/s',
  });

  const bin = Buffer.from(text, 'latin1');
  const b = timeIt(2000, () => {
    extractWallets(bin);
    return 1;
  });
  results.push({
    name: 'wallets.extract_bytes',
    value: +((mb * b.ops) / (b.ms / 1000)).toFixed(1),
    unit: 'MB/s',
  });
  return results;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const r of await benchWallets()) console.log(`${r.name}\t${r.value}\t${r.unit}`);
}
