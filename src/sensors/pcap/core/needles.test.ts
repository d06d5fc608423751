/** The core's share and job counts against a plain Buffer.indexOf count of the same needles (the rule the
 * stratum tracker used in JS), on real stratum lines and on random bytes built from needle fragments. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { instantiateCore } from './load.ts';

interface NeedleCore {
  memory: WebAssembly.Memory;
  countShares(ptr: number, len: number): number;
  countJobs(ptr: number, len: number): number;
  __new(size: number, id: number): number;
  __pin(p: number): number;
}

const SHARES = ['"submit"', 'mining.submit', 'eth_submitWork'];
const JOBS = ['"job"', 'mining.notify', '"result":["0x'];

function reference(data: Buffer, needles: string[]): number {
  let n = 0;
  for (const s of needles) {
    const needle = Buffer.from(s);
    for (let i = data.indexOf(needle); i !== -1; i = data.indexOf(needle, i + needle.length)) n++;
  }
  return n;
}

test('shares and jobs counted as the JS tracker counted them', () => {
  const core = instantiateCore() as unknown as NeedleCore;
  const ptr = core.__pin(core.__new(1 << 16, 0));
  const samples = [
    '{"id":4,"method":"submit","params":{"id":"1","job_id":"2","nonce":"a","result":"b"}}\n',
    '{"method":"job","params":{"blob":"0707","job_id":"x"}}\n{"method":"job","params":{}}\n',
    '{"id":2,"method":"mining.submit","params":["w","j","e","t","n"]}\n',
    '{"id":null,"method":"mining.notify","params":[]}\n{"id":9,"result":["0xabc","0xdef"]}\n',
    '{"method":"eth_submitWork","params":[]}"submit""submit"',
    '"jo',
    'b"',
    '"submit"submit"',
  ];
  const parts = [...SHARES, ...JOBS, '"', 'sub', 'mit', 'job', 'x', '\n', '0x', '["', 'mining.'];
  let seed = 7;
  const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  for (let i = 0; i < 4000; i++)
    samples.push(
      Array.from(
        { length: 1 + Math.floor(rnd() * (i % 10 === 0 ? 400 : 40)) },
        () => parts[Math.floor(rnd() * parts.length)],
      ).join(''),
    );
  // At every offset from a 16-byte boundary: the scan reads 16 bytes at a time, then the tail byte by byte.
  samples.forEach((s, i) => {
    const b = Buffer.from(s);
    const at = ptr + (i % 17);
    new Uint8Array(core.memory.buffer, at, b.length).set(b);
    assert.equal(core.countShares(at, b.length), reference(b, SHARES), s);
    assert.equal(core.countJobs(at, b.length), reference(b, JOBS), s);
  });
});
