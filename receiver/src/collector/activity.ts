/** A submission within this long counts as the collector being busy. */
export const BUSY_WINDOW_MS = 20;

/**
 * When the collector last took a submission. Background work on the same event loop (laying
 * crashes out, processing them) asks `busy()` and steps aside during a burst, so a burst is
 * answered at the collector's pace and the work catches up right after.
 */
export class SubmissionActivity {
  #lastAt = -Infinity;

  constructor(private readonly now: () => number = () => performance.now()) {}

  mark(): void {
    this.#lastAt = this.now();
  }

  busy(): boolean {
    return this.now() - this.#lastAt < BUSY_WINDOW_MS;
  }
}

/** How long background work may be held back by a busy collector before it goes ahead anyway. */
export const MAX_YIELD_MS = 1_000;

/**
 * Waits while `busy()` says so, in short steps, but never longer than MAX_YIELD_MS since
 * `lastProgress`: background work is delayed by a burst, never starved by a flood.
 */
export async function yieldWhileBusy(busy: (() => boolean) | undefined, lastProgress: number): Promise<void> {
  if (!busy) return;
  while (busy() && performance.now() - lastProgress < MAX_YIELD_MS) {
    await new Promise((r) => setTimeout(r, BUSY_WINDOW_MS));
  }
}
