import { performance as perfHooks } from 'node:perf_hooks';

/** A submission within this long counts as the collector taking a burst. */
export const BUSY_WINDOW_MS = 20;
/** The event loop's utilization is measured over windows this long. */
export const UTILIZATION_WINDOW_MS = 50;
/**
 * Above this share of the event loop in use, while submissions come in, the collector counts as
 * busy. Below it there is room for background work beside the submissions, so a steady stream
 * of crashes never holds processing back; only a burst that fills the loop does.
 */
export const BUSY_UTILIZATION = 0.8;

/**
 * Whether the collector is taking a burst. Background work on the same event loop (laying
 * crashes out, processing them) asks `busy()` and steps aside while submissions arrive and the
 * loop is nearly full, so a burst is answered at the collector's pace and the work catches up
 * right after.
 */
export class SubmissionActivity {
  #lastAt = -Infinity;
  #measuredAt = -Infinity;
  #loopFull = false;
  #since: ReturnType<typeof perfHooks.eventLoopUtilization> | undefined;

  constructor(
    private readonly now: () => number = () => performance.now(),
    /** The share of the event loop in use since the last call (0 to 1). */
    private readonly utilization: () => number = () => {
      const used = perfHooks.eventLoopUtilization(this.#since);
      this.#since = perfHooks.eventLoopUtilization();
      return used.utilization;
    },
  ) {}

  mark(): void {
    this.#lastAt = this.now();
  }

  busy(): boolean {
    const now = this.now();
    if (now - this.#lastAt >= BUSY_WINDOW_MS) return false;
    if (now - this.#measuredAt >= UTILIZATION_WINDOW_MS) {
      this.#measuredAt = now;
      this.#loopFull = this.utilization() >= BUSY_UTILIZATION;
    }
    return this.#loopFull;
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
