/** Token-bucket rate limit per key (a token id), with an injected clock; memory bounded by `maxKeys`. */
export class RateLimiter {
  private buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    /** Requests per second refilled. */
    readonly rate: number,
    /** Requests allowed at once. */
    readonly burst: number,
    private readonly now: () => number = () => Date.now(),
    private readonly maxKeys = 10_000,
  ) {}

  /** 0 when allowed (and counted), else the seconds to wait before the next request would pass. */
  take(key: string): number {
    if (!(this.rate > 0)) return 0;
    const b = this.refill(key);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / this.rate));
  }

  /** What `take` would answer, without counting anything. */
  wait(key: string): number {
    if (!(this.rate > 0)) return 0;
    const b = this.buckets.get(key);
    if (!b) return 0;
    const tokens = Math.min(this.burst, b.tokens + ((this.now() - b.at) / 1000) * this.rate);
    return tokens >= 1 ? 0 : Math.max(1, Math.ceil((1 - tokens) / this.rate));
  }

  /** Empties a key's bucket: its next request waits a full refill of one. */
  drain(key: string): void {
    if (!(this.rate > 0)) return;
    this.refill(key).tokens = 0;
  }

  private refill(key: string): { tokens: number; at: number } {
    const t = this.now();
    let b = this.buckets.get(key);
    if (!b) {
      if (this.buckets.size >= this.maxKeys) {
        // Drop the oldest key: a full bucket is what a forgotten key would refill to anyway.
        const first = this.buckets.keys().next().value;
        if (first !== undefined) this.buckets.delete(first);
      }
      b = { tokens: this.burst, at: t };
      this.buckets.set(key, b);
    }
    b.tokens = Math.min(this.burst, b.tokens + ((t - b.at) / 1000) * this.rate);
    b.at = t;
    return b;
  }
}
