// The decoded packet as the decoder leaves it for the flow table: one struct in linear memory, rewritten for
// every record (no allocation per packet). Offsets index linear memory; the frame itself stays where the reader
// found it in the input buffer.
@unmanaged
export class Packet {
  /** Record number in the capture, from 1. */
  index: u32 = 0;
  linkType: u32 = 0;
  tsSec: f64 = 0;
  caplen: u32 = 0;
  origLen: u32 = 0;
  /** Where the frame starts in linear memory. */
  frameOff: u32 = 0;
  ipVersion: u8 = 0;
  proto: u8 = 0;
  tunnelDepth: u8 = 0;
  fragment: bool = false;
  tcpFlags: u8 = 0;
  srcPort: u16 = 0;
  dstPort: u16 = 0;
  window: u16 = 0;
  seq: u32 = 0;
  ack: u32 = 0;
  /** Raw addresses (4 or 16 bytes) in linear memory. */
  srcOff: u32 = 0;
  dstOff: u32 = 0;
  /** Captured L4 payload: [payloadOff, payloadEnd); payloadLen is what the headers say was sent. */
  payloadOff: u32 = 0;
  payloadEnd: u32 = 0;
  payloadLen: u32 = 0;
}

/** The one packet struct, at a fixed place in linear memory (its address is exported for the JS side). */
export const PKT: Packet = changetype<Packet>(memory.data(offsetof<Packet>()));
