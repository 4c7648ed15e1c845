import { describe, expect, it } from 'vitest';
import { CRASH_ID_PATTERN, crashIdDate, crashIdThrottleResult, createCrashId, normalizeCrashId, ThrottleResult } from './crash-id.ts';

describe('crash IDs', () => {
  it('ends in the throttle digit and the UTC submission date as YYMMDD', () => {
    const id = createCrashId(new Date('2026-11-29T23:59:59Z'));
    expect(id).toMatch(CRASH_ID_PATTERN);
    expect(id.slice(-7)).toBe('0261129');
    expect(crashIdDate(id).toISOString()).toBe('2026-11-29T00:00:00.000Z');
    expect(crashIdThrottleResult(id)).toBe(0);
  });

  it('records a non-accept throttle result', () => {
    const id = createCrashId(new Date('2031-02-03T00:00:00Z'), ThrottleResult.REJECT);
    expect(id.slice(-7)).toBe('2310203');
    expect(crashIdThrottleResult(`bp-${id}`)).toBe(2);
  });

  it('is random apart from the suffix', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => createCrashId().slice(0, -7)));
    expect(ids.size).toBe(1000);
  });

  it('reads IDs with or without bp- and in any case', () => {
    const id = createCrashId(new Date('2026-01-31T12:00:00Z'));
    expect(normalizeCrashId(`bp-${id}`)).toBe(id);
    expect(normalizeCrashId(id.toUpperCase())).toBe(id);
    // As people copy them from Socorro's pages and logs: the prefix in upper case too.
    expect(normalizeCrashId(`BP-${id.toUpperCase()}`)).toBe(id);
    expect(normalizeCrashId(`Bp-${id}`)).toBe(id);
    expect(crashIdDate(`BP-${id.toUpperCase()}`).toISOString()).toBe('2026-01-31T00:00:00.000Z');
    expect(crashIdDate(`bp-${id}`).toISOString()).toBe('2026-01-31T00:00:00.000Z');
  });

  it.each([
    '../../etc/passwd',
    'de1bb258-cbbf-4589-a673-34f800261129/../x',
    'de1bb258-cbbf-4589-a673-34f800261399', // day 99
    'de1bb258-cbbf-4589-a673-34f800261301', // month 13
    'de1bb258-cbbf-4589-a673-34f80026113', // short
    'ze1bb258-cbbf-4589-a673-34f800261129',
    '',
  ])('refuses %j', (bad) => {
    expect(normalizeCrashId(bad)).toBeNull();
    expect(() => crashIdDate(bad)).toThrow(/Not a crash ID/);
  });
});
