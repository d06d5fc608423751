/** One measured number of `npm run bench`: what, how much, in what unit, and what to read it against. */
export interface BenchRow {
  name: string;
  value: number;
  unit: string;
  note?: string;
}
