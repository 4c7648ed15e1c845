import { describe, expect, it } from 'vitest';
import { RateLimiter } from './rate-limit.ts';

describe('RateLimiter', () => {
  it('allows a burst of perMinute, then asks to wait until a token is back', () => {
    let now = 0;
    const limiter = new RateLimiter(3, () => now);
    expect([1, 2, 3].map(() => limiter.take('a'))).toEqual([0, 0, 0]);
    expect(limiter.take('a')).toBe(20); // one token per 20 s at 3/min
    expect(limiter.take('b')).toBe(0); // other keys are not affected
    now += 20_000;
    expect(limiter.take('a')).toBe(0);
    expect(limiter.take('a')).toBeGreaterThan(0);
  });

  it('says what take would answer without taking', () => {
    let now = 0;
    const limiter = new RateLimiter(1, () => now);
    expect(limiter.wait('a')).toBe(0);
    expect(limiter.wait('a')).toBe(0);
    expect(limiter.take('a')).toBe(0);
    expect(limiter.wait('a')).toBe(60);
    now += 30_000;
    expect(limiter.wait('a')).toBe(30);
    now += 30_000;
    expect(limiter.wait('a')).toBe(0);
    expect(limiter.take('a')).toBe(0);
  });

  it('never limits when the rate is 0', () => {
    const limiter = new RateLimiter(0);
    for (let i = 0; i < 1000; i++) expect(limiter.take('x')).toBe(0);
  });
});
