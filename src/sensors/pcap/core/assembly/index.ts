// The packet core's entry: everything the JS side may call. Each part (reader, decoder, flow table) adds its
// exports here.
import { Packet, PKT } from './packet';

/** Address of the decoded-packet struct (see packet.ts), for the JS side's views. */
export function packetPtr(): usize {
  return changetype<usize>(PKT);
}

/** Field offsets of the struct, so the JS side never hard-codes a layout the compiler chose. */
export function packetLayout(field: i32): i32 {
  switch (field) {
    case 0:
      return <i32>offsetof<Packet>('index');
    default:
      return -1;
  }
}
