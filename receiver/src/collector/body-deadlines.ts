/**
 * Submissions whose body is still arriving, and since when: a client that trickles a body holds
 * its bytes against the memory budget (PendingBytes) for as long as it likes, and a few such
 * clients would turn everyone else away. Each is cut off `timeoutMs` after it began. One
 * interval checks them all, oldest first, and runs only while a body is arriving.
 */
export class BodyDeadlines {
  readonly #reading = new Map<object, { since: number; expire: () => void }>();
  #timer: NodeJS.Timeout | null = null;

  constructor(
    readonly timeoutMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Starts the clock for a body (`key`); `expire` is called if it has not ended in time. */
  watch(key: object, expire: () => void): void {
    this.#reading.set(key, { since: this.now(), expire });
    if (!this.#timer) {
      this.#timer = setInterval(() => this.#sweep(), Math.max(10, Math.min(1000, this.timeoutMs / 4)));
      this.#timer.unref();
    }
  }

  /** The body ended (read whole, or refused): its clock stops. */
  done(key: object): void {
    this.#reading.delete(key);
  }

  #sweep(): void {
    const now = this.now();
    // In the order they began, so the first one still in time ends the sweep.
    for (const [key, body] of this.#reading) {
      if (now - body.since <= this.timeoutMs) break;
      this.#reading.delete(key);
      body.expire();
    }
    if (this.#reading.size === 0 && this.#timer) {
      clearInterval(this.#timer);
      this.#timer = null;
    }
  }
}
