/** Most distinct keys (client addresses, apps) tracked at once; the oldest are forgotten. */
export const MAX_TRACKED_KEYS = 100_000;

/**
 * Token buckets per key: each key may send `perMinute` submissions in a burst and regains
 * them at that rate. Memory stays bounded however many keys appear.
 */
export class RateLimiter {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly perMinute: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** False when the rate is 0: no limit, nothing to track. */
  get enabled(): boolean {
    return this.perMinute > 0;
  }

  /** What take(key) would answer, without taking anything. */
  wait(key: string): number {
    const bucket = this.perMinute > 0 ? this.#buckets.get(key) : undefined;
    if (!bucket) return 0;
    const perMs = this.perMinute / 60_000;
    const tokens = Math.min(this.perMinute, bucket.tokens + (this.now() - bucket.at) * perMs);
    return tokens < 1 ? Math.max(1, Math.ceil((1 - tokens) / perMs / 1000)) : 0;
  }

  /** Takes one token for `key`; returns 0 when allowed, else the seconds until one is back. */
  take(key: string): number {
    if (this.perMinute <= 0) return 0;
    const now = this.now();
    const perMs = this.perMinute / 60_000;
    const bucket = this.#buckets.get(key);
    let tokens = this.perMinute;
    if (bucket) {
      tokens = Math.min(this.perMinute, bucket.tokens + (now - bucket.at) * perMs);
      this.#buckets.delete(key); // re-insert below so Map order is least recently used first
    } else if (this.#buckets.size >= MAX_TRACKED_KEYS) {
      this.#buckets.delete(this.#buckets.keys().next().value!);
    }
    if (tokens < 1) {
      this.#buckets.set(key, { tokens, at: now });
      return Math.max(1, Math.ceil((1 - tokens) / perMs / 1000));
    }
    this.#buckets.set(key, { tokens: tokens - 1, at: now });
    return 0;
  }
}
