/**
 * A least-recently-used cache bounded by a byte budget. Evicted (and replaced) values are handed
 * to `onEvict`, which frees them: `source-map` 0.7 consumers hold WebAssembly memory that only
 * `.destroy()` returns.
 *
 * @example
 *   const cache = new ByteLruCache<SourceMapConsumer>(256 * MIB, (c) => c.destroy());
 *   cache.set(key, consumer, mapText.length);
 */
export class ByteLruCache<V> {
  readonly #entries = new Map<string, { value: V; bytes: number }>();
  #bytes = 0;
  hits = 0;
  misses = 0;
  evictions = 0;

  constructor(
    readonly maxBytes: number,
    private readonly onEvict: (value: V, key: string) => void = () => undefined,
  ) {}

  get bytes(): number {
    return this.#bytes;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(key: string): V | undefined {
    const entry = this.#entries.get(key);
    if (!entry) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    // Map keeps insertion order: re-inserting makes this the most recently used.
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry.value;
  }

  has(key: string): boolean {
    return this.#entries.has(key);
  }

  /**
   * Adds a value costing `bytes`. A value larger than the whole budget is not kept (it is
   * freed at once by the caller's next `onEvict`), so one huge map cannot flush everything.
   * Returns whether it was kept.
   */
  set(key: string, value: V, bytes: number): boolean {
    this.delete(key);
    if (bytes > this.maxBytes) {
      this.onEvict(value, key);
      this.evictions++;
      return false;
    }
    this.#entries.set(key, { value, bytes });
    this.#bytes += bytes;
    while (this.#bytes > this.maxBytes) {
      const [oldest, entry] = this.#entries.entries().next().value as [string, { value: V; bytes: number }];
      this.#entries.delete(oldest);
      this.#bytes -= entry.bytes;
      this.evictions++;
      this.onEvict(entry.value, oldest);
    }
    return true;
  }

  delete(key: string): void {
    const entry = this.#entries.get(key);
    if (!entry) return;
    this.#entries.delete(key);
    this.#bytes -= entry.bytes;
    this.onEvict(entry.value, key);
  }

  clear(): void {
    for (const key of [...this.#entries.keys()]) this.delete(key);
  }
}
