// A region bytes are copied into for one call (a packet or frame the JS side made, a TLS record or hello a stand-alone
// parser is fed, zeros for a segment held without its bytes): grown to the largest asked for, never shrunk. One per
// use, so that two uses never write over each other's bytes.

@final
export class Scratch {
  ptr: usize = 0;
  size: usize = 0;
}

/** At least n bytes of s, valid until its next use. */
export function scratchOf(s: Scratch, n: usize): usize {
  if (n > s.size) {
    if (s.ptr !== 0) heap.free(s.ptr);
    s.size = max<usize>(n, 2048);
    s.ptr = heap.alloc(s.size);
  }
  return s.ptr;
}
