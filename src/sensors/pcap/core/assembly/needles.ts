// Shares and jobs of a decided stratum flow, counted in the core so such a flow costs no call into JS per segment:
// the same needles and the same rule as detect/traffic/stratum-tracker.ts (each needle counted on its own, without
// overlap, within one delivered segment), so the totals JS reads at the flow's close are the ones it counted itself.
//
// One pass over the bytes for a whole needle set: a table indexed by the two bytes at each position says which
// needle (if any) of each set starts with them, and only then are its bytes compared. Each needle keeps the
// position before which a match would overlap its previous one, so the counts are the greedy leftmost ones a
// repeated indexOf(needle, match + length) gives. (The first version scanned the bytes once per needle, comparing
// the first byte: 75 ms of a 1.4 s `minewatch pcap` run on the bench capture, one core.)

const SHARE_NEEDLES: StaticArray<string> = ['"submit"', 'mining.submit', 'eth_submitWork'];
const JOB_NEEDLES: StaticArray<string> = ['"job"', 'mining.notify', '"result":["0x'];

/** Needles of both sets, each 16 bytes apart: [length, bytes...] (none is longer than 15). */
const NEEDLE_STRIDE: usize = 16;
let needles: usize = 0;
/**
 * 65,536 bytes: for the little-endian u16 of two bytes, the share needle starting with them (1-based) in the low
 * nibble and the job needle in the high nibble; 0 for none. No two needles of one set start with the same two bytes
 * (checked when the table is built).
 */
let pairs: usize = 0;

function build(): void {
  needles = heap.alloc(6 * NEEDLE_STRIDE);
  pairs = heap.alloc(65536);
  memory.fill(pairs, 0, 65536);
  for (let set = 0; set < 2; set++) {
    const list = set === 0 ? SHARE_NEEDLES : JOB_NEEDLES;
    // Three entries a set: countSet reads all three first bytes.
    if (list.length !== 3) abort('a needle set is not three needles');
    for (let i = 0; i < list.length; i++) {
      const s = list[i];
      const q = needles + <usize>(set * 3 + i) * NEEDLE_STRIDE;
      store<u8>(q, <u8>s.length);
      for (let j = 0; j < s.length; j++) store<u8>(q + 1 + j, <u8>s.charCodeAt(j));
      const key = <usize>(s.charCodeAt(0) | (s.charCodeAt(1) << 8));
      const shift = set * 4;
      const cur = <i32>load<u8>(pairs + key);
      if (((cur >> shift) & 15) !== 0) abort('two needles of one set start alike');
      store<u8>(pairs + key, <u8>(cur | ((i + 1) << shift)));
    }
  }
}

/**
 * Matches of the needles of one set (0 shares, 1 jobs) in [ptr, ptr+len). Sixteen positions at a time are first
 * compared with the needles' first two bytes (SIMD); only where one of them stands is the pair table read. countSet
 * was the core's largest function in the 500 MB bench capture's profile (59 ms of 1.6 s); on 3.7 MB of XMRig-style
 * job and submit lines, shares and jobs together took 2.6 ms against 7.5 ms with the table read at every byte, and
 * 1.3 ms with the second byte in the filter (`"` starts two needles of each set and stands every few bytes of JSON).
 */
function countSet(ptr: usize, len: usize, set: i32): i32 {
  if (needles === 0) build();
  if (len < 2) return 0;
  const shift = set * 4;
  const first = needles + <usize>(set * 3) * NEEDLE_STRIDE;
  // The set's three needles' first two bytes, read from their table entries ([length, bytes...]).
  const a = i8x16.splat(load<i8>(first + 1));
  const b = i8x16.splat(load<i8>(first + NEEDLE_STRIDE + 1));
  const c = i8x16.splat(load<i8>(first + 2 * NEEDLE_STRIDE + 1));
  const a2 = i8x16.splat(load<i8>(first + 2));
  const b2 = i8x16.splat(load<i8>(first + NEEDLE_STRIDE + 2));
  const c2 = i8x16.splat(load<i8>(first + 2 * NEEDLE_STRIDE + 2));
  // Per needle, the first position a match may start at (past the end of its previous match).
  let free0: usize = 0;
  let free1: usize = 0;
  let free2: usize = 0;
  let n = 0;
  // A match needs the byte after its first: positions before stop.
  const stop = ptr + len - 1;
  let p = ptr;
  let bits = 0;
  for (;;) {
    let at: usize = 0;
    if (bits !== 0) {
      at = p - 16 + <usize>ctz(bits);
      bits &= bits - 1;
    } else if (p + 16 <= stop) {
      // Each lane: does a needle's first byte stand here and its second byte after it? (p + 16 <= stop, so the
      // second load ends inside the bytes.)
      const v = v128.load(p);
      const w = v128.load(p + 1);
      bits = i8x16.bitmask(
        v128.or(
          v128.or(v128.and(i8x16.eq(v, a), i8x16.eq(w, a2)), v128.and(i8x16.eq(v, b), i8x16.eq(w, b2))),
          v128.and(i8x16.eq(v, c), i8x16.eq(w, c2)),
        ),
      );
      p += 16;
      continue;
    } else if (p < stop) {
      at = p++;
    } else break;
    const k = (<i32>load<u8>(pairs + <usize>load<u16>(at)) >> shift) & 15;
    if (k === 0) continue;
    const i = at - ptr;
    const q = first + <usize>(k - 1) * NEEDLE_STRIDE;
    const nlen = <usize>load<u8>(q);
    if (i + nlen > len) continue;
    const free = k === 1 ? free0 : k === 2 ? free1 : free2;
    if (i < free || memory.compare(at, q + 1, nlen) !== 0) continue;
    n++;
    if (k === 1) free0 = i + nlen;
    else if (k === 2) free1 = i + nlen;
    else free2 = i + nlen;
  }
  return n;
}

/** Submitted shares in client bytes [ptr, ptr+len). */
export function countShares(ptr: usize, len: usize): i32 {
  return countSet(ptr, len, 0);
}

/** Job pushes in server bytes [ptr, ptr+len). */
export function countJobs(ptr: usize, len: usize): i32 {
  return countSet(ptr, len, 1);
}
