import { describe, expect, it } from 'vitest';
import { formatAgo } from './format.ts';

describe('formatAgo', () => {
  const now = new Date('2026-11-29T12:00:00.000Z');
  const before = (ms: number) => new Date(now.getTime() - ms).toISOString();
  const MIN = 60_000;
  const HOUR = 60 * MIN;
  const DAY = 24 * HOUR;

  it('counts down to the unit people scan by, rounding down', () => {
    expect(formatAgo(before(0), now)).toBe('just now');
    expect(formatAgo(before(MIN - 1), now)).toBe('just now');
    expect(formatAgo(before(MIN), now)).toBe('1 min ago');
    expect(formatAgo(before(HOUR - 1), now)).toBe('59 min ago');
    expect(formatAgo(before(HOUR), now)).toBe('1 h ago');
    expect(formatAgo(before(DAY - 1), now)).toBe('23 h ago');
    expect(formatAgo(before(DAY), now)).toBe('1 day ago');
    expect(formatAgo(before(2 * DAY), now)).toBe('2 days ago');
    expect(formatAgo(before(30 * DAY - 1), now)).toBe('29 days ago');
  });

  it('leaves the exact time to be written out from 30 days, ahead of now, and for no time', () => {
    expect(formatAgo(before(30 * DAY), now)).toBeNull();
    expect(formatAgo(before(-1), now)).toBeNull();
    expect(formatAgo('not a time', now)).toBeNull();
    expect(formatAgo(null, now)).toBeNull();
  });
});
