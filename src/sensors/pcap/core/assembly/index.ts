// The packet core's entry: everything the JS side may call. Each part (reader, decoder, flow table) adds its
// exports here.
import { Packet, PKT } from './packet';
import { Scratch, scratchOf } from './scratch';

/** Address of the decoded-packet struct (see packet.ts), for the JS side's views. */
export function packetPtr(): usize {
  return changetype<usize>(PKT);
}

/** Field offsets of the struct, so the JS side never hard-codes a layout the compiler chose. */
export function packetLayout(field: i32): i32 {
  switch (field) {
    case 0:
      return <i32>offsetof<Packet>('index');
    case 1:
      return <i32>offsetof<Packet>('linkType');
    case 2:
      return <i32>offsetof<Packet>('tsSec');
    case 3:
      return <i32>offsetof<Packet>('caplen');
    case 4:
      return <i32>offsetof<Packet>('origLen');
    case 5:
      return <i32>offsetof<Packet>('frameOff');
    case 6:
      return <i32>offsetof<Packet>('ipVersion');
    case 7:
      return <i32>offsetof<Packet>('proto');
    case 8:
      return <i32>offsetof<Packet>('tunnelDepth');
    case 9:
      return <i32>offsetof<Packet>('fragment');
    case 10:
      return <i32>offsetof<Packet>('tcpFlags');
    case 11:
      return <i32>offsetof<Packet>('srcPort');
    case 12:
      return <i32>offsetof<Packet>('dstPort');
    case 13:
      return <i32>offsetof<Packet>('window');
    case 14:
      return <i32>offsetof<Packet>('seq');
    case 15:
      return <i32>offsetof<Packet>('ack');
    case 16:
      return <i32>offsetof<Packet>('srcOff');
    case 17:
      return <i32>offsetof<Packet>('dstOff');
    case 18:
      return <i32>offsetof<Packet>('payloadOff');
    case 19:
      return <i32>offsetof<Packet>('payloadEnd');
    case 20:
      return <i32>offsetof<Packet>('payloadLen');
    default:
      return -1;
  }
}

// ---- the decoder (decode.ts; the JS side is src/sensors/pcap/decode.ts) ----
import { DSTATS, decodeFrame, decodeStatsReset } from './decode';

/** Decode the frame [start, start + len) of linear memory into PKT; the result is D_OK (0) or a reason. */
export function decode(linkType: u32, start: usize, len: usize): i32 {
  PKT.frameOff = <u32>start;
  PKT.linkType = linkType;
  PKT.caplen = <u32>len;
  return decodeFrame(linkType, start, start + len);
}
/** The core loop's decode-reason counters: 7 f64 in DecodeStats order. */
export function decodeStatsPtr(): usize {
  return DSTATS;
}
export { decodeStatsReset };

const frameScratch = new Scratch();

/** A region of at least n bytes the JS side copies a frame of its own into, to decode it there. */
export function decodeScratchPtr(n: usize): usize {
  return scratchOf(frameScratch, n);
}

// ---- detection counters kept in the core (rhythm.ts, needles.ts) ----
export { countJobs, countShares } from './needles';
// ---- the reader (reader.ts; the JS side is src/sensors/pcap/reader.ts) ----
export {
  readerBatchCount,
  readerBatchLayout,
  readerBatchPtr,
  readerDecode,
  readerErrorPtr,
  readerFinish,
  readerInit,
  readerPrepare,
  readerPush,
  readerSpace,
  readerStatsPtr,
} from './reader';

import { RHYTHM_SIZE, Rhythm, rhythmCloseMessage, rhythmInit, rhythmSegment } from './rhythm';

/** A stand-alone rhythm tracker (tests; flows embed theirs). Freed by rhythmFree. */
export function rhythmNew(): usize {
  const p = heap.alloc(RHYTHM_SIZE);
  rhythmInit(changetype<Rhythm>(p));
  return p;
}
export function rhythmFree(p: usize): void {
  heap.free(p);
}
export function rhythmFeed(p: usize, dir: i32, bytes: f64, ts: f64): void {
  rhythmSegment(changetype<Rhythm>(p), dir, bytes, ts);
}
export function rhythmEnd(p: usize): void {
  const r = changetype<Rhythm>(p);
  rhythmCloseMessage(r);
  r.curDir = -1;
}
/** Byte offset of a Rhythm field by number (see RHYTHM_FIELDS in the JS reader), -1 past the end. */
export function rhythmLayout(field: i32): i32 {
  switch (field) {
    case 0:
      return <i32>offsetof<Rhythm>('closed');
    case 1:
      return <i32>offsetof<Rhythm>('pushN');
    case 2:
      return <i32>offsetof<Rhythm>('pushMean');
    case 3:
      return <i32>offsetof<Rhythm>('pushM2');
    case 4:
      return <i32>offsetof<Rhythm>('clientN');
    case 5:
      return <i32>offsetof<Rhythm>('clientMean');
    case 6:
      return <i32>offsetof<Rhythm>('clientM2');
    case 7:
      return <i32>offsetof<Rhythm>('gapCount');
    case 8:
      return <i32>offsetof<Rhythm>('clientMsgs');
    case 9:
      return <i32>offsetof<Rhythm>('acked');
    case 10:
      return <i32>offsetof<Rhythm>('replies');
    case 11:
      return <i32>offsetof<Rhythm>('firstTs');
    case 12:
      return <i32>offsetof<Rhythm>('lastTs');
    case 13:
      return <i32>offsetof<Rhythm>('totalBytes');
    case 14:
      return <i32>offsetof<Rhythm>();
    default:
      return -1;
  }
}

// ---- the flow table (flows.ts; the JS side is src/sensors/pcap/flows.ts) ----
export {
  flowAdd,
  flowAddPacket,
  flowCount,
  flowCurrentPtr,
  flowDatagramPort,
  flowEnd,
  flowHeld,
  flowHelloTake,
  flowInit,
  flowLayout,
  flowScratch,
  flowServerPort,
  flowStatsPtr,
} from './flows';

// ---- the TLS handshake's first message (tls.ts; the JS side is src/sensors/protocols/tls.ts) ----
export {
  helloParse,
  helloPtr,
  tlsHeld,
  tlsHeldMax,
  tlsHelloFeed,
  tlsReaderFeed,
  tlsReaderFree,
  tlsReaderNew,
  tlsScratch,
} from './tls';
