import { describe, expect, it } from 'vitest';
import { BUSY_UTILIZATION, BUSY_WINDOW_MS, MAX_YIELD_MS, SubmissionActivity, UTILIZATION_WINDOW_MS, yieldWhileBusy } from './activity.ts';

describe('background work and a busy collector', () => {
  it('is busy for a short window after each submission while the event loop is nearly full', () => {
    let now = 1000;
    const activity = new SubmissionActivity(() => now, () => 1);
    expect(activity.busy()).toBe(false);
    activity.mark();
    expect(activity.busy()).toBe(true);
    now += BUSY_WINDOW_MS;
    expect(activity.busy()).toBe(false);
  });

  it('is not busy under a steady stream that leaves the event loop room', () => {
    let now = 1000;
    let used = 0.3;
    const activity = new SubmissionActivity(() => now, () => used);
    for (let i = 0; i < 100; i++, now += 5) {
      activity.mark();
      expect(activity.busy()).toBe(false);
    }
    // The stream turns into a burst that fills the loop: busy from the next measurement on.
    used = BUSY_UTILIZATION + 0.1;
    now += UTILIZATION_WINDOW_MS;
    activity.mark();
    expect(activity.busy()).toBe(true);
  });

  it('waits while the collector is busy and goes ahead when it is quiet', async () => {
    let busyFor = 3;
    const started = performance.now();
    await yieldWhileBusy(() => busyFor-- > 0, performance.now());
    expect(busyFor).toBe(-1);
    expect(performance.now() - started).toBeGreaterThanOrEqual(2 * BUSY_WINDOW_MS);
  });

  it('is never starved: a flood holds it back at most MAX_YIELD_MS since it last made progress', async () => {
    const lastProgress = performance.now() - MAX_YIELD_MS + 60;
    const started = performance.now();
    await yieldWhileBusy(() => true, lastProgress);
    const waited = performance.now() - started;
    expect(waited).toBeGreaterThanOrEqual(40);
    expect(waited).toBeLessThan(MAX_YIELD_MS / 2);
  });
});
