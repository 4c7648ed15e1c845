/**
 * A fixed-window counter per key (a page, an app) with a bounded number of keys, so a page that
 * invents new keys cannot grow it without end.
 */
export class WindowLimiter {
  readonly #windows = new Map<string, { start: number; count: number }>();

  constructor(
    private readonly perWindow: number,
    private readonly windowMs: number,
    private readonly maxKeys = 1_000,
  ) {}

  /** Counts one event for `key`; false when the key is over its limit in this window. */
  take(key: string, now: number): boolean {
    let w = this.#windows.get(key);
    if (!w || now - w.start >= this.windowMs) {
      this.#windows.delete(key);
      if (this.#windows.size >= this.maxKeys) this.#windows.delete(this.#windows.keys().next().value!);
      w = { start: now, count: 0 };
      this.#windows.set(key, w);
    }
    w.count++;
    return w.count <= this.perWindow;
  }
}
