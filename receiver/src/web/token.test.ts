import { describe, expect, it } from 'vitest';
import { newToken } from './token.ts';

describe('a generated token', () => {
  it('never starts with "-", which a command line would read as an option', () => {
    // 0xF8 encodes as "-" in base64url: the first draw is thrown away.
    const draws = [Buffer.alloc(24, 0xf8), Buffer.alloc(24, 0x00)];
    const token = newToken(() => draws.shift()!);
    expect(token).toBe('A'.repeat(32));
    expect(draws).toEqual([]);
  });
});
