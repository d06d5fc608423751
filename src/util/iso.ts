/** ISO 8601 text of a time, fast for the in-order times of logs and captures. */

/** 'YYYY-MM-DDT' of the last day `msIso` formatted (logs and captures are in time order: nearly every call hits it). */
let isoDay = -1;
let isoDayText = '';
/** '00'..'99', also JA4's counts (sensors/protocols/tls.ts). */
export const TWO = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));
const THREE = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));

/**
 * `new Date(ms).toISOString()` (undefined where that throws), without a Date for times from 1970 to 9999:
 * toISOString was ~0.7 us of the ~4 us a Zeek conn.log line took to read, and ~1.3 us a call and 27 ms of the
 * pcap bench capture's profile. sensors/logs/read.test.ts compares the two.
 */
export function msIso(ms: number): string | undefined {
  if (!(ms >= 0 && ms < 253_402_300_800_000)) {
    const d = new Date(ms);
    return Number.isFinite(d.getTime()) ? d.toISOString() : undefined;
  }
  const t = Math.floor(ms); // Date truncates a fraction of a millisecond the same way for ms >= 0
  const day = Math.floor(t / 86_400_000);
  if (day !== isoDay) {
    isoDay = day;
    isoDayText = new Date(day * 86_400_000).toISOString().slice(0, 11);
  }
  let r = t - day * 86_400_000;
  const h = Math.floor(r / 3_600_000);
  r -= h * 3_600_000;
  const m = Math.floor(r / 60_000);
  r -= m * 60_000;
  const sec = Math.floor(r / 1000);
  return `${isoDayText}${TWO[h]}:${TWO[m]}:${TWO[sec]}.${THREE[r - sec * 1000]}Z`;
}
