// The core's imports (module "core": AssemblyScript names a declared function's module after its file). Each part
// declares here the JS functions it calls back; the JS side passes them to instantiateCore (core/load.ts).

// ---- the flow table's events (flows.ts; the JS side is src/sensors/pcap/flows.ts) ----

/** A new flow: `slot` names it in every later event until flowDrop. Client/server addresses are in memory. */
export declare function flowOpen(
  slot: i32,
  rec: usize,
  id: f64,
  clientOff: usize,
  serverOff: usize,
  clientPort: i32,
  serverPort: i32,
  isTcp: i32,
  ipVersion: i32,
): void;
/**
 * In-order stream bytes [ptr, ptr+len) (ptr -1: bytes not held, read as zeros). Events after flowOpen carry no packet
 * index or ts: they are the current packet's (flowCurrentPtr).
 */
export declare function flowData(slot: i32, dir: i32, ptr: isize, len: i32): void;
export declare function flowDatagram(slot: i32, dir: i32, ptr: usize, len: i32): void;
export declare function flowSize(slot: i32, dir: i32, bytes: i32): void;
export declare function flowGap(slot: i32, dir: i32, bytes: f64): void;
/** reason: 0 fin, 1 rst, 2 idle, 3 evicted, 4 end. */
export declare function flowClose(slot: i32, reason: i32): void;
/**
 * The flow's ClientHello, collected by the core (tls.ts), has an answer: status 1 parsed (its fields in tls.ts's HELLO,
 * valid during the call), 2 not a hello (HELLO's status holds the reason). Sent at most once per flow, with the
 * current packet's index and ts, in place of the flowData calls for the client bytes it read.
 */
export declare function flowHello(slot: i32, status: i32): void;
/** The record leaves the table: the JS side keeps its last values and frees the slot. */
export declare function flowDrop(slot: i32): void;
/** Copy the current packet's payload to PKT.payloadOff (flowAddPacket's packets: their bytes are copied only if read). */
export declare function flowFetch(): void;

// ---- the reader (reader.ts; the JS side is src/sensors/pcap/reader.ts) ----

/**
 * `base ** exp` as JavaScript computes it (pcapng's if_tsresol, once per interface): the TS reader's timestamps
 * divided by V8's powers, and the core's own Math.pow may differ from them in the last bit past 10^22.
 */
export declare function tsPow(base: f64, exp: f64): f64;
