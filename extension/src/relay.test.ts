import { describe, expect, it } from 'vitest';
import { MAX_ERRORS_PER_BATCH, MAX_MESSAGE_CHARS, MAX_RELAY_CHARS, MAX_STACK_CHARS, parseRelayDetail, validateBatch } from './relay.ts';

const good = { mechanism: 'onerror', type: 'TypeError', message: 'x is null', stack: 'f@https://a.example/app.js:1:2\n', filename: 'https://a.example/app.js', line: 1, column: 2, count: 3 };

describe('relay validation (page input)', () => {
  it('keeps well-formed errors', () => {
    expect(validateBatch({ errors: [good], dropped: 0 })).toEqual({ errors: [good], dropped: 0 });
  });

  it('drops entries of the wrong shape and counts them', () => {
    const batch = validateBatch({ errors: [good, { ...good, mechanism: 'evil' }, { ...good, line: '7' }, null, 'str'], dropped: 2 });
    expect(batch!.errors).toEqual([good]);
    expect(batch!.dropped).toBe(6);
  });

  it('cuts strings and clamps numbers to their limits', () => {
    const huge = { ...good, message: 'm'.repeat(MAX_MESSAGE_CHARS * 3), stack: 's'.repeat(MAX_STACK_CHARS * 2), line: -5, column: 1e300, count: 0 };
    const [e] = validateBatch({ errors: [huge] })!.errors;
    expect(e!.message).toHaveLength(MAX_MESSAGE_CHARS);
    expect(e!.stack).toHaveLength(MAX_STACK_CHARS);
    expect(e!.line).toBe(0);
    expect(e!.column).toBeLessThanOrEqual(100_000_000);
    expect(e!.count).toBe(1);
  });

  it('keeps at most MAX_ERRORS_PER_BATCH errors and counts the rest as dropped', () => {
    const batch = validateBatch({ errors: Array.from({ length: MAX_ERRORS_PER_BATCH + 7 }, () => good) })!;
    expect(batch.errors).toHaveLength(MAX_ERRORS_PER_BATCH);
    expect(batch.dropped).toBe(7);
  });

  it('refuses details that are not bounded JSON batches', () => {
    expect(parseRelayDetail(undefined)).toBeNull();
    expect(parseRelayDetail({ errors: [] })).toBeNull(); // an object, not the JSON text the hook sends
    expect(parseRelayDetail('not json')).toBeNull();
    expect(parseRelayDetail('{"errors":"nope"}')).toBeNull();
    expect(parseRelayDetail(JSON.stringify({ errors: [good], pad: 'x'.repeat(MAX_RELAY_CHARS) }))).toBeNull();
    expect(parseRelayDetail(JSON.stringify({ errors: [good] }))!.errors).toHaveLength(1);
  });
});
