/**
 * `npm run fuzz [-- ITERATIONS [SEED]]`: the traffic pipeline's mutation fuzzer run long (the test suite runs a
 * short version in src/detect/traffic/fuzz.test.ts). Any exception other than a clear CaptureFormatError is a
 * bug and stops the run with the seed that found it (a trap in the packet core is such an exception: a
 * WebAssembly RuntimeError). Then captures of stratum conversations in random tunnel stacks (VXLAN, GENEVE, GRE,
 * ERSPAN II/III, IP-in-IP, 6in4) under random link types, pcap and pcapng, mutated, for the core's decoder; then a
 * 100 MB line with no newline, with peak RSS.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { analyseCapture } from '../src/detect/traffic/capture.ts';
import {
  type FuzzOutcome,
  fuzzCorpus,
  hugeLineCapture,
  MUTATIONS,
  mutate,
  rng,
  runOne,
} from '../src/detect/traffic/test-helpers/fuzz.ts';
import { corpusFiles } from '../src/detect/traffic/test-helpers/replicate.ts';
import { loadIntel } from '../src/intel/index.ts';
import {
  conversation,
  ether,
  loopback,
  randomTunnels,
  sll,
  sll2,
  writePcap,
  writePcapng,
} from '../src/sensors/pcap/testkit.ts';

const iterations = Number(process.argv[2] ?? 20_000);
const seed = Number(process.argv[3] ?? Date.now() % 1e9);
const intel = loadIntel({ userDir: null });
// The public corpus and our own TLS captures (record-header reading, the TLS judge).
const TLS_DIR = fileURLToPath(new URL('../test/captures/tls-no-sni/', import.meta.url));
const files = [
  ...corpusFiles(),
  ...readdirSync(TLS_DIR)
    .filter((f) => f.endsWith('.pcap'))
    .sort()
    .map((f) => TLS_DIR + f),
];

console.log(`fuzzing ${files.length} captures, ${iterations} mutants, seed ${seed}`);
const t0 = performance.now();
const batch = 1000;
for (let done = 0; done < iterations; done += batch) {
  const n = Math.min(batch, iterations - done);
  const out = await fuzzCorpus(files, intel, n, seed + done);
  console.log(
    `${done + n} mutants: ${out.ok} parsed, ${out.formatErrors} format errors, slowest ${out.maxMs.toFixed(0)} ms, rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MB`,
  );
}
console.log(`mutants done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

/** One packet in a random stack of tunnels (0-6 deep: past MAX_TUNNEL_DEPTH too), framed for link type lt. */
function tunnelled(ip: Uint8Array, r: () => number, lt: number): Uint8Array {
  const p = randomTunnels(ip, r, Math.floor(r() * 7));
  return lt === 1
    ? ether(p)
    : lt === 113
      ? sll(p)
      : lt === 276
        ? sll2(p)
        : lt === 0
          ? loopback(p, 'null')
          : p;
}

const tunnels = Math.max(1, Math.floor(iterations / 10));
const tr = rng(seed ^ 0x5eed);
const tout: FuzzOutcome = { ok: 0, formatErrors: 0, findings: 0, maxMs: 0 };
const t2 = performance.now();
for (let i = 0; i < tunnels; i++) {
  const lt = [1, 101, 113, 276, 0][Math.floor(tr() * 5)]!;
  const pkts = conversation(`10.0.${i & 255}.1:${40000 + (i % 1000)}`, '198.51.100.7:3333', [
    {
      from: 'c',
      data: '{"id":1,"method":"login","params":{"login":"4AdUndXHHZ6cfufTMvppY6JwXNouMBzSkbLYfpAV5Usx3skxNgYeYTRj5UzqtReoS44qo9mtmXCqY45DJ852K5Jv2684Rge","pass":"x","agent":"XMRig/6.21.0"}}\n',
    },
    {
      from: 's',
      data: '{"id":1,"jsonrpc":"2.0","error":null,"result":{"id":"1","job":{"blob":"0707","job_id":"1","target":"b88d0600"}}}\n',
    },
    {
      from: 'c',
      data: '{"id":2,"method":"submit","params":{"id":"1","job_id":"1","nonce":"a0000000","result":"00"}}\n',
    },
  ]);
  const recs = pkts.map((p) => ({ ts: p.ts, data: tunnelled(p.ip, tr, lt) }));
  const capture =
    tr() < 0.5
      ? writePcap(recs, { linkType: lt, nano: tr() < 0.5, bigEndian: tr() < 0.5 })
      : writePcapng([
          {
            bigEndian: tr() < 0.5,
            interfaces: [{ linkType: lt }],
            blocks: recs.map((x) => ({ type: 'epb' as const, iface: 0, ts: x.ts, data: x.data })),
          },
        ]);
  let bytes: Uint8Array = capture;
  for (let m = Math.floor(tr() * 3); m > 0; m--)
    bytes = mutate(bytes, MUTATIONS[Math.floor(tr() * MUTATIONS.length)]!, tr);
  await runOne(bytes, intel, tout);
}
console.log(
  `${tunnels} tunnel-stack captures: ${tout.ok} parsed, ${tout.formatErrors} format errors, ${tout.findings} findings, slowest ${tout.maxMs.toFixed(0)} ms, in ${((performance.now() - t2) / 1000).toFixed(1)} s`,
);

const before = process.memoryUsage().rss;
let peak = before;
const t1 = performance.now();
const r = await analyseCapture('-', {
  intel,
  stdin: (function* () {
    for (const c of hugeLineCapture(100 * 1024 * 1024)) {
      peak = Math.max(peak, process.memoryUsage().rss);
      yield c;
    }
  })(),
});
console.log(
  `100 MB line without newline: ${r.summary.packets} packets in ${((performance.now() - t1) / 1000).toFixed(1)} s, RSS grew ${((peak - before) / 2 ** 20).toFixed(0)} MB`,
);
