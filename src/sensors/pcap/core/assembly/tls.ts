// The TLS handshake's first message, read in the core: the record layer that collects a handshake message from a
// stream (HandshakeReader) and the ClientHello body parser. What was src/sensors/protocols/tls.ts's TypeScript, rule for
// rule and reason for reason: the JS side (protocols/tls.ts) reads the parsed hello out of HELLO when a verdict needs
// it, and builds the fingerprints there (they are hashed with node:crypto, and only for the hellos a finding names).
//
// Why here: every TLS flow's ClientHello was parsed in JavaScript, most of them in V8's interpreter or baseline code
// during a capture's first thousands of flows (~30 us a hello on the 158 MB bench capture, docs/packet-core.md); the
// flow table now hands the first client bytes of a flow that starts with a handshake record straight to this reader,
// and JavaScript hears of the flow once, with its SNI.
//
// Bounds, as before: a handshake message of at most maxBytes (16 KiB for a flow), at most 32 records, records of at
// most 2^14 + 256 bytes; what is held is one incomplete record (`pend`) and the message's fragments (`hs`), each
// grown only to those bounds. Every inner length is checked against its container before use: a lying length ends in
// a reason (not TLS, or malformed), never in an over-read.

import { Scratch, scratchOf } from './scratch';

// ---- statuses and reasons (the JS side maps the codes to the same reason strings as before) ----

export const HS_NEED_MORE: i32 = 0;
export const HS_DONE: i32 = 1;
export const HS_FAIL: i32 = 2;

const R_NOT_HANDSHAKE: i32 = 1;
const R_INTERLEAVED: i32 = 2;
const R_BAD_VERSION: i32 = 3;
const R_BAD_LENGTH: i32 = 4;
const R_TOO_MANY: i32 = 5;
const R_WRONG_TYPE: i32 = 6;
const R_TOO_LARGE: i32 = 7;
/** The collectors together hold their cap (tlsHeldMax): this one is refused rather than grown. */
const R_HELD: i32 = 8;
// The ClientHello body's own (Malformed in the TypeScript parser).
const M_U8: i32 = 20;
const M_U16: i32 = 21;
const M_BEYOND: i32 = 22;
const M_SESSION_ID: i32 = 23;
const M_ODD: i32 = 24;
const M_TRAILING: i32 = 25;

const MAX_RECORDS: i32 = 32;
/** TLSPlaintext.length is at most 2^14; a little slack for odd stacks. */
const MAX_RECORD_LEN: i32 = 16384 + 256;

// ---- the record layer ----

/** One stream's handshake collector (HandshakeReader): a plain block of the core's heap, freed by hsFree. */
@unmanaged
export class Hs {
  wantType: i32 = 0;
  maxBytes: i32 = 0;
  /** HS_NEED_MORE until final; then the same answer for every later feed. */
  final: i32 = 0;
  reason: i32 = 0;
  /** The handshake type that was not wanted (R_WRONG_TYPE). */
  badType: i32 = 0;
  records: i32 = 0;
  consumed: i32 = 0;
  recordVersion: i32 = 0;
  /** The incomplete record carried to the next feed (owned, `pendCap` bytes). */
  pend: usize = 0;
  pendLen: i32 = 0;
  pendCap: i32 = 0;
  /** The message's fragments so far (owned, `hsCap` bytes). */
  hs: usize = 0;
  hsLen: i32 = 0;
  hsCap: i32 = 0;
  /** HS_DONE: the message body (after its 4-byte header), valid until the next feed or hsFree. */
  body: usize = 0;
  bodyLen: i32 = 0;
  /** HS_DONE: what followed the message's last record in the feed that completed it. */
  tail: usize = 0;
  tailLen: i32 = 0;
  /** Set by the flow table: bytes of this stream were lost while the message was collected. */
  gap: u8 = 0;
}

export function hsNew(wantType: i32, maxBytes: i32): Hs {
  const p = heap.alloc(offsetof<Hs>());
  memory.fill(p, 0, offsetof<Hs>());
  const h = changetype<Hs>(p);
  h.wantType = wantType;
  h.maxBytes = maxBytes;
  return h;
}

export function hsFree(h: Hs): void {
  held -= <f64>(h.pendCap + h.hsCap);
  if (h.pend !== 0) heap.free(h.pend);
  if (h.hs !== 0) heap.free(h.hs);
  heap.free(changetype<usize>(h));
}

/**
 * Bytes the live collectors hold (their buffers' capacities), and the most they may: one collector is bounded
 * (a message of maxBytes, one record pending), but a flood of flows that each open a hello and never finish it
 * would hold that much each. Past the cap a collector that needs to grow is refused (R_HELD), as the flow table
 * gives up on a hole under its pending caps.
 */
let held: f64 = 0;
let heldMax: f64 = 32 * 1024 * 1024;

/** The collectors' cap in bytes (FlowTableOptions.maxHelloBytes). */
export function tlsHeldMax(bytes: f64): void {
  heldMax = bytes;
}
/** Bytes the live collectors hold now. */
export function tlsHeld(): f64 {
  return held;
}

/** A capacity of at least n, doubling from cap; 0 if the collectors' cap does not allow it. */
function grown(cap: i32, n: i32): i32 {
  let size = max<i32>(cap * 2, 256);
  while (size < n) size *= 2;
  return held + <f64>(size - cap) > heldMax ? 0 : size;
}

/** Grow the pending-record buffer to hold n bytes (contents kept); false past the collectors' cap. */
function pendRoom(h: Hs, n: i32): bool {
  if (n <= h.pendCap) return true;
  const size = grown(h.pendCap, n);
  if (size === 0) return false;
  held += <f64>(size - h.pendCap);
  h.pend = h.pend === 0 ? heap.alloc(<usize>size) : heap.realloc(h.pend, <usize>size);
  h.pendCap = size;
  return true;
}

/** Grow the message buffer to hold n bytes (contents kept); false past the collectors' cap. */
function hsRoom(h: Hs, n: i32): bool {
  if (n <= h.hsCap) return true;
  const size = grown(h.hsCap, n);
  if (size === 0) return false;
  held += <f64>(size - h.hsCap);
  h.hs = h.hs === 0 ? heap.alloc(<usize>size) : heap.realloc(h.hs, <usize>size);
  h.hsCap = size;
  return true;
}

function fail(h: Hs, reason: i32): i32 {
  h.final = HS_FAIL;
  h.reason = reason;
  h.pendLen = 0;
  h.hsLen = 0;
  return HS_FAIL;
}

/**
 * The next bytes of the stream [ptr, ptr + len): HS_NEED_MORE, HS_DONE (body, tail set) or HS_FAIL (reason set).
 * Decides as early as the bytes allow (a stream that is not TLS is refused at its first byte), and at the first
 * feed that completes the message: the same answers, at the same bytes, as the TypeScript reader it replaces.
 */
export function hsFeed(h: Hs, ptr: usize, len: i32): i32 {
  if (h.final !== HS_NEED_MORE) return h.final;
  let data = ptr;
  let dataLen = len;
  if (h.pendLen > 0) {
    const n = h.pendLen + len;
    if (!pendRoom(h, n)) return fail(h, R_HELD);
    memory.copy(h.pend + <usize>h.pendLen, ptr, <usize>len);
    data = h.pend;
    dataLen = n;
  }
  // The message so far: its own buffer, or (hsView) a view of this feed's record, copied only if it goes on.
  let hsPtr = h.hs;
  let hsView = false;
  let off = 0;
  for (;;) {
    const avail = dataLen - off;
    if (avail >= 1 && load<u8>(data + <usize>off) !== 0x16)
      return fail(h, h.records === 0 ? R_NOT_HANDSHAKE : R_INTERLEAVED);
    if (avail >= 2 && load<u8>(data + <usize>off + 1) !== 0x03) return fail(h, R_BAD_VERSION);
    if (avail < 5) break;
    const minor = <i32>load<u8>(data + <usize>off + 2);
    const rlen = ((<i32>load<u8>(data + <usize>off + 3)) << 8) | <i32>load<u8>(data + <usize>off + 4);
    if (minor > 4) return fail(h, R_BAD_VERSION);
    if (rlen === 0 || rlen > MAX_RECORD_LEN) return fail(h, R_BAD_LENGTH);
    if (avail < 5 + rlen) break;
    if (h.records === 0) h.recordVersion = 0x0300 | minor;
    if (++h.records > MAX_RECORDS) return fail(h, R_TOO_MANY);
    const frag = data + <usize>off + 5;
    off += 5 + rlen;
    h.consumed += 5 + rlen;
    if (h.hsLen === 0) {
      hsPtr = frag;
      hsView = true;
      h.hsLen = rlen;
    } else {
      const n = h.hsLen + rlen;
      // hsView is false here: a view is copied at the end of the record that made it (below).
      if (!hsRoom(h, n)) return fail(h, R_HELD);
      hsPtr = h.hs;
      memory.copy(hsPtr + <usize>h.hsLen, frag, <usize>rlen);
      h.hsLen = n;
    }
    if (h.hsLen >= 4) {
      const t = <i32>load<u8>(hsPtr);
      if (t !== h.wantType) {
        h.badType = t;
        return fail(h, R_WRONG_TYPE);
      }
      const mlen =
        ((<i32>load<u8>(hsPtr + 1)) << 16) | ((<i32>load<u8>(hsPtr + 2)) << 8) | <i32>load<u8>(hsPtr + 3);
      if (mlen > h.maxBytes) return fail(h, R_TOO_LARGE);
      if (h.hsLen >= 4 + mlen) {
        h.final = HS_DONE;
        h.body = hsPtr + 4;
        h.bodyLen = mlen;
        h.tail = data + <usize>off;
        h.tailLen = dataLen - off;
        h.pendLen = 0;
        h.hsLen = 0;
        return HS_DONE;
      }
    }
    if (h.hsLen > h.maxBytes + 4) return fail(h, R_TOO_LARGE);
    if (hsView) {
      // The message continues in a later record: what we hold must outlive this feed's bytes.
      if (!hsRoom(h, h.hsLen)) return fail(h, R_HELD);
      memory.copy(h.hs, hsPtr, <usize>h.hsLen);
      hsPtr = h.hs;
      hsView = false;
    }
  }
  // Only the incomplete record stays: at most 5 + MAX_RECORD_LEN bytes.
  const rest = dataLen - off;
  if (rest > 0) {
    if (data === h.pend) memory.copy(h.pend, h.pend + <usize>off, <usize>rest);
    else {
      if (!pendRoom(h, rest)) return fail(h, R_HELD);
      memory.copy(h.pend, data + <usize>off, <usize>rest);
    }
  }
  h.pendLen = rest;
  return HS_NEED_MORE;
}

// ---- the parsed ClientHello (HELLO), read by the JS side through helloLayout ----

/** List numbers in HELLO.lists (each an offset into the u16 pool and a count). */
const L_CIPHERS: i32 = 0;
const L_COMPRESSION: i32 = 1;
const L_EXTENSIONS: i32 = 2;
const L_GROUPS: i32 = 3;
const L_POINT_FORMATS: i32 = 4;
const L_SIG_ALGS: i32 = 5;
const L_VERSIONS: i32 = 6;
const LISTS: i32 = 7;

// HELLO: i32 fields. 0 status (0 parsed, else a reason), 1 version, 2 maxVersion, 3 sessionIdLength, 4 recordVersion,
// 5 consumed, 6 has SNI, 7 SNI text pointer, 8 its length, 9 ALPN count, 10 ALPN pointer ([len u8][bytes] each),
// 11 u16 pool pointer, 12 tail pointer, 13 tail length, 14 gap, 15 the unwanted handshake type, 16 and 17 the
// message body (pointer, length), 18 and 19 the fingerprint key (helloKey); 20.. the lists: (first index into the
// pool, count) each.
const H_STATUS: i32 = 0;
const H_VERSION: i32 = 1;
const H_MAX_VERSION: i32 = 2;
const H_SID: i32 = 3;
const H_RECORD_VERSION: i32 = 4;
const H_CONSUMED: i32 = 5;
const H_HAS_SNI: i32 = 6;
const H_SNI: i32 = 7;
const H_SNI_LEN: i32 = 8;
const H_ALPN_COUNT: i32 = 9;
const H_ALPN: i32 = 10;
const H_POOL: i32 = 11;
const H_TAIL: i32 = 12;
const H_TAIL_LEN: i32 = 13;
const H_GAP: i32 = 14;
const H_BAD_TYPE: i32 = 15;
const H_BODY: i32 = 16;
const H_BODY_LEN: i32 = 17;
const H_KEY: i32 = 18;
const H_KEY_LEN: i32 = 19;
const H_LISTS: i32 = 20;
const H_FIELDS: i32 = H_LISTS + LISTS * 2;

const HELLO: usize = memory.data(H_FIELDS * 4, 8);

function put(field: i32, v: i32): void {
  store<i32>(HELLO + ((<usize>field) << 2), v);
}
function got(field: i32): i32 {
  return load<i32>(HELLO + ((<usize>field) << 2));
}

/** The parsed hello's fields (see the H_ constants above): the JS side reads them as an Int32Array. */
export function helloPtr(): usize {
  return HELLO;
}

// The pools the lists, the SNI and the ALPN values are written to: grown to the largest hello seen (every value takes
// at least one byte of the body, so a body of n bytes needs at most n u16 slots, and its text at most 4 n + 1,020).
let pool: usize = 0;
let poolCap: i32 = 0;
let text: usize = 0;
let textCap: i32 = 0;
let poolLen: i32 = 0;
let textLen: i32 = 0;

function reserve(bodyLen: i32): void {
  const slots = bodyLen + 8;
  if (slots > poolCap) {
    if (pool !== 0) heap.free(pool);
    poolCap = max<i32>(slots, 2048);
    pool = heap.alloc((<usize>poolCap) << 1);
  }
  const bytes = bodyLen + 1024 + 16;
  if (bytes > textCap) {
    if (text !== 0) heap.free(text);
    textCap = max<i32>(bytes, 4096);
    text = heap.alloc(<usize>textCap);
  }
  poolLen = 0;
  textLen = 0;
}

// Bounds-checked reads, each failing as the TypeScript parser's did (the first failing check names the reason).
let err: i32 = 0;
function u8At(b: usize, p: i32, end: i32): i32 {
  if (p + 1 > end) {
    if (err === 0) err = M_U8;
    return 0;
  }
  return <i32>load<u8>(b + <usize>p);
}
function u16At(b: usize, p: i32, end: i32): i32 {
  if (p + 2 > end) {
    if (err === 0) err = M_U16;
    return 0;
  }
  return ((<i32>load<u8>(b + <usize>p)) << 8) | <i32>load<u8>(b + <usize>p + 1);
}
/** The end of an n-byte vector at p within [.., end). */
function within(p: i32, n: i32, end: i32): i32 {
  if (n < 0 || p + n > end) {
    if (err === 0) err = M_BEYOND;
    return end;
  }
  return p + n;
}

/** u16 values [start, end) of b into the pool as list `which` (the last occurrence of an extension wins, as before). */
function u16List(which: i32, b: usize, start: i32, end: i32): void {
  if ((end - start) % 2 !== 0) {
    if (err === 0) err = M_ODD;
    return;
  }
  put(H_LISTS + which * 2, poolLen);
  put(H_LISTS + which * 2 + 1, (end - start) >> 1);
  for (let p = start; p < end; p += 2) {
    store<u16>(
      pool + ((<usize>poolLen) << 1),
      <u16>(((<i32>load<u8>(b + <usize>p)) << 8) | <i32>load<u8>(b + <usize>p + 1)),
    );
    poolLen++;
  }
}
function u8List(which: i32, b: usize, start: i32, end: i32): void {
  put(H_LISTS + which * 2, poolLen);
  put(H_LISTS + which * 2 + 1, end - start);
  for (let p = start; p < end; p++) {
    store<u16>(pool + ((<usize>poolLen) << 1), <u16>load<u8>(b + <usize>p));
    poolLen++;
  }
}

const HEX: StaticArray<u8> = [48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 97, 98, 99, 100, 101, 102];

/** SNI host_name: printable ASCII lowercased, anything else as \xHH (it cannot forge log fields); 255 bytes at most. */
function sniText(b: usize, start: i32, end: i32): void {
  const stop = min<i32>(end, start + 255);
  const at = textLen;
  let n = at;
  for (let i = start; i < stop; i++) {
    const c = <i32>load<u8>(b + <usize>i);
    const q = text + <usize>n;
    if (c > 0x20 && c < 0x7f) {
      store<u8>(q, <u8>(c >= 0x41 && c <= 0x5a ? c + 32 : c));
      n += 1;
    } else {
      store<u8>(q, 0x5c);
      store<u8>(q + 1, 0x78);
      store<u8>(q + 2, unchecked(HEX[c >> 4]));
      store<u8>(q + 3, unchecked(HEX[c & 0xf]));
      n += 4;
    }
  }
  put(H_HAS_SNI, 1);
  put(H_SNI, <i32>(text + <usize>at));
  put(H_SNI_LEN, n - at);
  textLen = n;
}

function isGrease(v: i32): bool {
  return (v & 0x0f0f) === 0x0a0a && v >> 8 === (v & 0xff);
}

/**
 * Parse a ClientHello body [b, b + end) (after the 4-byte handshake header) into HELLO. Returns 0, or the reason it is
 * malformed (M_*): the first check that fails, in the order the TypeScript parser made them.
 */
export function helloParse(b: usize, end: i32): i32 {
  reserve(end);
  err = 0;
  for (let i = 0; i < H_FIELDS; i++) put(i, 0);
  put(H_POOL, <i32>pool);
  put(H_ALPN, <i32>text);
  const version = u16At(b, 0, end);
  let p = within(2, 32, end); // random
  const sidLen = u8At(b, p, end);
  if (err !== 0) return done(err);
  p += 1;
  if (sidLen > 32) return done(M_SESSION_ID);
  p = within(p, sidLen, end);
  let n = u16At(b, p, end);
  if (err !== 0) return done(err);
  const csEnd = within(p + 2, n, end);
  if (err !== 0) return done(err);
  u16List(L_CIPHERS, b, p + 2, csEnd);
  if (err !== 0) return done(err);
  p = csEnd;
  n = u8At(b, p, end);
  const cmEnd = within(p + 1, n, end);
  if (err !== 0) return done(err);
  u8List(L_COMPRESSION, b, p + 1, cmEnd);
  p = cmEnd;
  put(H_VERSION, version);
  put(H_SID, sidLen);
  // ALPN values go to the text pool first (their total is bounded by the body), the SNI after them: the SNI is read
  // while the extensions are, so its text is written to the other end of the text pool (textCap - 1,024 on).
  const sniAt = textCap - 1024;
  let alpnCount = 0;
  let sniSeen = false;
  // Extensions are optional in pre-TLS-1.0-style hellos.
  if (end - p > 0) {
    const extsEnd = within(p + 2, u16At(b, p, end), end);
    if (err !== 0) return done(err);
    let e = p + 2;
    while (extsEnd - e > 0) {
      const type = u16At(b, e, extsEnd);
      const dataEnd = within(e + 4, u16At(b, e + 2, extsEnd), extsEnd);
      if (err !== 0) return done(err);
      const d = e + 4;
      e = dataEnd;
      extension(type);
      switch (type) {
        case 0x0000: {
          // server_name
          const listEnd = within(d + 2, u16At(b, d, dataEnd), dataEnd);
          if (err !== 0) return done(err);
          let q = d + 2;
          while (listEnd - q > 0) {
            const nameType = u8At(b, q, listEnd);
            const len = u16At(b, q + 1, listEnd);
            const nameEnd = within(q + 3, len, listEnd);
            if (err !== 0) return done(err);
            if (nameType === 0 && !sniSeen) {
              sniSeen = true;
              const keep = textLen;
              textLen = sniAt;
              sniText(b, q + 3, nameEnd);
              textLen = keep;
            }
            q = nameEnd;
          }
          break;
        }
        case 0x000a: {
          const listEnd = within(d + 2, u16At(b, d, dataEnd), dataEnd);
          if (err !== 0) return done(err);
          u16List(L_GROUPS, b, d + 2, listEnd);
          break;
        }
        case 0x000b: {
          const listEnd = within(d + 1, u8At(b, d, dataEnd), dataEnd);
          if (err !== 0) return done(err);
          u8List(L_POINT_FORMATS, b, d + 1, listEnd);
          break;
        }
        case 0x000d: {
          const listEnd = within(d + 2, u16At(b, d, dataEnd), dataEnd);
          if (err !== 0) return done(err);
          u16List(L_SIG_ALGS, b, d + 2, listEnd);
          break;
        }
        case 0x0010: {
          // ALPN: every value of every ALPN extension, in order.
          const listEnd = within(d + 2, u16At(b, d, dataEnd), dataEnd);
          if (err !== 0) return done(err);
          let q = d + 2;
          while (listEnd - q > 0) {
            const len = u8At(b, q, listEnd);
            const protoEnd = within(q + 1, len, listEnd);
            if (err !== 0) return done(err);
            store<u8>(text + <usize>textLen, <u8>len);
            memory.copy(text + <usize>textLen + 1, b + <usize>q + 1, <usize>len);
            textLen += 1 + len;
            alpnCount++;
            q = protoEnd;
          }
          break;
        }
        case 0x002b: {
          const listEnd = within(d + 1, u8At(b, d, dataEnd), dataEnd);
          if (err !== 0) return done(err);
          u16List(L_VERSIONS, b, d + 1, listEnd);
          break;
        }
      }
      if (err !== 0) return done(err);
    }
    p = extsEnd;
  }
  if (end - p > 0) return done(M_TRAILING);
  put(H_ALPN_COUNT, alpnCount);
  // The extension types were written downwards from the pool's end: put them in wire order.
  const eAt = got(H_LISTS + L_EXTENSIONS * 2);
  const eCount = got(H_LISTS + L_EXTENSIONS * 2 + 1);
  for (let i = 0, j = eCount - 1; i < j; i++, j--) {
    const a = pool + ((<usize>(eAt + i)) << 1);
    const z = pool + ((<usize>(eAt + j)) << 1);
    const t = load<u16>(a);
    store<u16>(a, load<u16>(z));
    store<u16>(z, t);
  }
  // The version the client really wants: the highest non-GREASE supported_versions entry, else legacy_version.
  let maxVersion = version;
  const vAt = got(H_LISTS + L_VERSIONS * 2);
  const vCount = got(H_LISTS + L_VERSIONS * 2 + 1);
  let any = false;
  for (let i = 0; i < vCount; i++) {
    const v = <i32>load<u16>(pool + ((<usize>(vAt + i)) << 1));
    if (isGrease(v)) continue;
    if (!any || v > maxVersion) maxVersion = v;
    any = true;
  }
  put(H_MAX_VERSION, maxVersion);
  helloKey(sniSeen, alpnCount > 0 ? got(H_ALPN) : 0);
  return done(0);
}

let key: usize = 0;
let keyCap: i32 = 0;

function keyList(at: i32, which: i32, wide: bool): i32 {
  const first = got(H_LISTS + which * 2);
  const n = got(H_LISTS + which * 2 + 1);
  store<u16>(key + <usize>at, <u16>n);
  let q = at + 2;
  for (let i = 0; i < n; i++) {
    const v = load<u16>(pool + ((<usize>(first + i)) << 1));
    if (wide) {
      store<u16>(key + <usize>q, v);
      q += 2;
    } else {
      store<u8>(key + <usize>q, <u8>v);
      q += 1;
    }
  }
  return q;
}

/**
 * Everything the JA3 and JA4 fingerprints are made of, as one byte string (HELLO's key): legacy and highest version,
 * whether a host name was given, the cipher suites, extensions, groups, point formats and signature algorithms, and
 * the first ALPN value. Two hellos with the same key have the same fingerprints, so the JS side builds and hashes
 * them once per key (a fleet's clients share a few TLS stacks; the fingerprints were ~20 us a hello in a fresh
 * process, most of the JS work left for a TLS flow whose SNI names a pool).
 */
function helloKey(hasSni: bool, alpn: usize): void {
  const lists =
    got(H_LISTS + L_CIPHERS * 2 + 1) + got(H_LISTS + L_EXTENSIONS * 2 + 1) + got(H_LISTS + L_GROUPS * 2 + 1);
  const size =
    16 + 2 * (lists + got(H_LISTS + L_SIG_ALGS * 2 + 1)) + got(H_LISTS + L_POINT_FORMATS * 2 + 1) + 256;
  if (size > keyCap) {
    if (key !== 0) heap.free(key);
    keyCap = max<i32>(size, 1024);
    key = heap.alloc(<usize>keyCap);
  }
  store<u16>(key, <u16>got(H_VERSION));
  store<u16>(key + 2, <u16>got(H_MAX_VERSION));
  store<u8>(key + 4, hasSni ? 1 : 0);
  let q = 5;
  q = keyList(q, L_CIPHERS, true);
  q = keyList(q, L_EXTENSIONS, true);
  q = keyList(q, L_GROUPS, true);
  q = keyList(q, L_POINT_FORMATS, false);
  q = keyList(q, L_SIG_ALGS, true);
  // The first ALPN value, or a length byte of 0 and a mark for none (JA4 reads an empty one as none too, but the key
  // need not know that).
  if (alpn !== 0) {
    const n = <i32>load<u8>(alpn);
    store<u8>(key + <usize>q, 1);
    store<u8>(key + <usize>q + 1, <u8>n);
    memory.copy(key + <usize>q + 2, alpn + 1, <usize>n);
    q += 2 + n;
  } else {
    store<u8>(key + <usize>q, 0);
    q += 1;
  }
  put(H_KEY, <i32>key);
  put(H_KEY_LEN, q);
}

/**
 * The extension types in wire order are one more list; they are written as they come, between the other lists'
 * values, so the list is kept apart: its slots run down from the pool's end (the pool has a slot per body byte, and
 * each extension takes at least four, so the two ends never meet).
 */
function extension(type: i32): void {
  const count = got(H_LISTS + L_EXTENSIONS * 2 + 1);
  const slot = poolCap - 1 - count;
  store<u16>(pool + ((<usize>slot) << 1), <u16>type);
  put(H_LISTS + L_EXTENSIONS * 2, slot);
  put(H_LISTS + L_EXTENSIONS * 2 + 1, count + 1);
}

function done(status: i32): i32 {
  put(H_STATUS, status);
  return status;
}

/** After hsFeed: its outcome into HELLO (the record version, consumed, tail, gap; the reason if it failed). */
function helloFromHs(h: Hs): void {
  put(H_RECORD_VERSION, h.recordVersion);
  put(H_CONSUMED, h.consumed);
  put(H_TAIL, <i32>h.tail);
  put(H_TAIL_LEN, h.tailLen);
  put(H_GAP, <i32>h.gap);
  put(H_BAD_TYPE, h.badType);
  put(H_BODY, <i32>h.body);
  put(H_BODY_LEN, h.bodyLen);
  if (h.final === HS_FAIL) put(H_STATUS, h.reason);
}

/** An answer without a parsed hello (a refusal, or a stand-alone reader's message): HELLO cleared, then the outcome. */
function hsAnswer(h: Hs): void {
  for (let i = 0; i < H_FIELDS; i++) put(i, 0);
  helloFromHs(h);
}

/**
 * Feed a stream's next bytes to its ClientHello collector and, once the message is whole, parse it: HS_NEED_MORE,
 * HS_DONE (HELLO holds the hello) or HS_FAIL (HELLO's status holds the reason: the record layer's or the body's).
 */
export function helloFeed(h: Hs, ptr: usize, len: i32): i32 {
  const st = hsFeed(h, ptr, len);
  if (st === HS_NEED_MORE) return st;
  if (st === HS_DONE) {
    const r = helloParse(h.body, h.bodyLen);
    helloFromHs(h);
    return r === 0 ? HS_DONE : HS_FAIL;
  }
  hsAnswer(h);
  return HS_FAIL;
}

// ---- stand-alone use (protocols/tls.ts's one-shot parsers and ClientHelloParser/ServerHelloParser) ----

/** A collector for a stream's first handshake message of type wantType; freed by tlsReaderFree. */
export function tlsReaderNew(wantType: i32, maxBytes: i32): usize {
  return changetype<usize>(hsNew(wantType, maxBytes));
}
export function tlsReaderFree(h: usize): void {
  hsFree(changetype<Hs>(h));
}
/** hsFeed, its outcome written to HELLO (body, consumed, record version; the reason if it failed). */
export function tlsReaderFeed(h: usize, ptr: usize, len: i32): i32 {
  const r = changetype<Hs>(h);
  const st = hsFeed(r, ptr, len);
  if (st !== HS_NEED_MORE) hsAnswer(r);
  return st;
}
/** helloFeed for a stand-alone collector. */
export function tlsHelloFeed(h: usize, ptr: usize, len: i32): i32 {
  return helloFeed(changetype<Hs>(h), ptr, len);
}

const bytesScratch = new Scratch();

/** A region of at least n bytes the JS side copies bytes to parse into (valid until the next call). */
export function tlsScratch(n: i32): usize {
  return scratchOf(bytesScratch, <usize>n);
}
