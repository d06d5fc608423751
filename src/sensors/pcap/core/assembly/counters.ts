// f64 counter tables in linear memory (the reader's capture stats, the flow table's stats): the JS side reads
// them through a Float64Array at the table's address, in index order.

/** Counter `i` of the table at `base`. */
export function counterGet(base: usize, i: i32): f64 {
  return load<f64>(base + ((<usize>i) << 3));
}

export function counterSet(base: usize, i: i32, v: f64): void {
  store<f64>(base + ((<usize>i) << 3), v);
}

export function counterAdd(base: usize, i: i32, v: f64): void {
  const p = base + ((<usize>i) << 3);
  store<f64>(p, load<f64>(p) + v);
}
