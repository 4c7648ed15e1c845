/**
 * A first-in, first-out queue that stays fast at any length: `Array#shift` copies the whole
 * array once it is large (a burst leaves tens of thousands of crashes to lay out), and spreading
 * a large array into `unshift(...)` overflows the stack.
 */
export class Fifo<T> {
  #items: (T | undefined)[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined;
    // Drop the taken front once it is most of the array, so memory follows what is queued.
    if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  /** Takes every item out, oldest first. */
  takeAll(): T[] {
    const all = this.#items.slice(this.#head) as T[];
    this.clear();
    return all;
  }

  /** Puts items back in front of the ones queued since, keeping their order. */
  putBack(items: T[]): void {
    this.#items = items.concat(this.#items.slice(this.#head) as T[]);
    this.#head = 0;
  }

  clear(): void {
    this.#items = [];
    this.#head = 0;
  }
}
