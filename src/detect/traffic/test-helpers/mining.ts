/**
 * Mining sessions for the flood tests and bench: a plain Monero stratum session as XMRig speaks it (login with
 * wallet, agent and algorithm list; a job in the login answer; `job` pushes on the pool's rhythm; `submit`
 * answered by `{"status":"OK"}`), as timed IP packets. Deterministic from its seed.
 */
import { conversation } from '../../../sensors/pcap/testkit.ts';
import { rng } from './fuzz.ts';

// A valid Monero address (the one in ndpi/monero-mining.pcap).
export const XMR_WALLET =
  '4BCeEPhodgPMbPWFN1dPwhWXdRX8q4mhhdZdA1dtSMLTLCEYvAj9QXjXAfF7CugEbmfBhgkqHbdgK9b2wKA6nqRZQCgvCDm';

const hex = (r: () => number, n: number) =>
  Array.from({ length: n }, () => Math.floor(r() * 16).toString(16)).join('');

type Ev = { t: number; from: 'c' | 's'; data: string };

/** XMRig to a plain stratum pool for `seconds`, jobs every `jobSec`, shares every `shareSec` (jittered). */
export function moneroSession(
  client: string,
  server: string,
  o: { seconds: number; jobSec?: number; shareSec?: number; seed?: number; t0?: number },
): { ts: number; ip: Uint8Array }[] {
  const r = rng(o.seed ?? 1);
  const job = () =>
    `{"blob":"1010${hex(r, 148)}","job_id":"${Math.floor(r() * 1e9)}","target":"b88d0600","algo":"rx/0","height":3300${Math.floor(r() * 1000)},"seed_hash":"${hex(r, 64)}"}`;
  const ev: Ev[] = [
    {
      t: 0.05,
      from: 'c',
      data: `{"id":1,"jsonrpc":"2.0","method":"login","params":{"login":"${XMR_WALLET}","pass":"x","agent":"XMRig/6.26.0 (Linux x86_64) libuv/1.44.2 gcc/12.2.0","algo":["rx/0","cn/r","cn-lite/1","cn-pico"]}}\n`,
    },
    {
      t: 0.1,
      from: 's',
      data: `{"id":1,"jsonrpc":"2.0","error":null,"result":{"id":"${hex(r, 16)}","job":${job()},"extensions":["algo","nicehash","connect","tls","keepalive"],"status":"OK"}}\n`,
    },
  ];
  const jobSec = o.jobSec ?? 30;
  const shareSec = o.shareSec ?? 12;
  for (let t = jobSec; t < o.seconds; t += jobSec * (0.8 + 0.4 * r()))
    ev.push({ t, from: 's', data: `{"jsonrpc":"2.0","method":"job","params":${job()}}\n` });
  let id = 2;
  for (let t = shareSec; t < o.seconds; t += shareSec * (0.5 + r())) {
    const n = id++;
    ev.push({
      t,
      from: 'c',
      data: `{"id":${n},"jsonrpc":"2.0","method":"submit","params":{"id":"${hex(r, 16)}","job_id":"${Math.floor(r() * 1e9)}","nonce":"${hex(r, 8)}","result":"${hex(r, 64)}","algo":"rx/0"}}\n`,
    });
    ev.push({
      t: t + 0.04,
      from: 's',
      data: `{"id":${n},"jsonrpc":"2.0","error":null,"result":{"status":"OK"}}\n`,
    });
  }
  ev.sort((a, b) => a.t - b.t);
  let last = 0;
  const turns = ev.map((e) => {
    const dt = Math.max(0.001, e.t - last);
    last = e.t;
    return { from: e.from, data: e.data, dt };
  });
  return conversation(client, server, turns, { t0: o.t0 ?? 1_700_000_000 });
}
