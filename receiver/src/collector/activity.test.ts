import { describe, expect, it } from 'vitest';
import { BUSY_WINDOW_MS, MAX_YIELD_MS, SubmissionActivity, yieldWhileBusy } from './activity.ts';

describe('background work and a busy collector', () => {
  it('is busy for a short window after each submission', () => {
    let now = 1000;
    const activity = new SubmissionActivity(() => now);
    expect(activity.busy()).toBe(false);
    activity.mark();
    expect(activity.busy()).toBe(true);
    now += BUSY_WINDOW_MS;
    expect(activity.busy()).toBe(false);
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
