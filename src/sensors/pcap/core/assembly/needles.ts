// Shares and jobs of a decided stratum flow, counted in the core so such a flow costs no call into JS per segment:
// the same needles and the same rule as detect/traffic/stratum-tracker.ts (each needle counted on its own, without
// overlap, within one delivered segment), so the totals JS reads at the flow's close are the ones it counted itself.

const SHARE_NEEDLES: StaticArray<string> = ['"submit"', 'mining.submit', 'eth_submitWork'];
const JOB_NEEDLES: StaticArray<string> = ['"job"', 'mining.notify', '"result":["0x'];

/** Needle bytes (ASCII), each as [length, bytes...], laid out once in linear memory. */
function layout(list: StaticArray<string>): usize {
  let size: usize = 1;
  for (let i = 0; i < list.length; i++) size += 1 + <usize>list[i].length;
  const p = heap.alloc(size);
  store<u8>(p, <u8>list.length);
  let q = p + 1;
  for (let i = 0; i < list.length; i++) {
    const s = list[i];
    store<u8>(q, <u8>s.length);
    for (let j = 0; j < s.length; j++) store<u8>(q + 1 + j, <u8>s.charCodeAt(j));
    q += 1 + <usize>s.length;
  }
  return p;
}

let shares: usize = 0;
let jobs: usize = 0;

function countOne(ptr: usize, len: usize, needle: usize, nlen: usize): i32 {
  if (nlen === 0 || len < nlen) return 0;
  const first = load<u8>(needle);
  const last = len - nlen;
  let n = 0;
  let i: usize = 0;
  while (i <= last) {
    if (load<u8>(ptr + i) === first && memory.compare(ptr + i, needle, nlen) === 0) {
      n++;
      i += nlen;
    } else i++;
  }
  return n;
}

function countAll(ptr: usize, len: usize, set: usize): i32 {
  const k = <i32>load<u8>(set);
  let q = set + 1;
  let n = 0;
  for (let i = 0; i < k; i++) {
    const nlen = <usize>load<u8>(q);
    n += countOne(ptr, len, q + 1, nlen);
    q += 1 + nlen;
  }
  return n;
}

/** Submitted shares in client bytes [ptr, ptr+len). */
export function countShares(ptr: usize, len: usize): i32 {
  if (shares === 0) shares = layout(SHARE_NEEDLES);
  return countAll(ptr, len, shares);
}

/** Job pushes in server bytes [ptr, ptr+len). */
export function countJobs(ptr: usize, len: usize): i32 {
  if (jobs === 0) jobs = layout(JOB_NEEDLES);
  return countAll(ptr, len, jobs);
}
