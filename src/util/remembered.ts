/**
 * A pure function with its last answers kept: up to `max` keys, then forgotten all at once (a bounded map,
 * no LRU bookkeeping on the hot paths that use it). `key` maps the arguments to what identifies the answer.
 */
export function remembered<A extends unknown[], V, K = A[0]>(
  fn: (...args: A) => V,
  max: number,
  key: (...args: A) => K = (...args) => args[0] as K,
): (...args: A) => V {
  const seen = new Map<K, V>();
  return (...args) => {
    const k = key(...args);
    let v = seen.get(k);
    if (v === undefined && !seen.has(k)) {
      v = fn(...args);
      if (seen.size >= max) seen.clear();
      seen.set(k, v);
    }
    return v as V;
  };
}
