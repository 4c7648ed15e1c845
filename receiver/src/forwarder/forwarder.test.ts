import { describe, expect, it } from 'vitest';
import { forwardedSummary } from './forwarder.ts';

describe('forwardedSummary', () => {
  it('names one destination in the singular', () => {
    expect(forwardedSummary(new Map([['priv.example/submit', 1]]))).toBe('forwarded 1 crash (copies kept): 1 to priv.example/submit');
  });

  it('puts the busiest destinations first', () => {
    const counts = new Map([
      ['a.example/submit', 2],
      ['b.example/submit', 7],
      ['c.example/submit', 4],
    ]);
    expect(forwardedSummary(counts)).toBe('forwarded 13 crashes (copies kept): 7 to b.example/submit, 4 to c.example/submit, 2 to a.example/submit');
  });

  it('names five destinations and sums the others once', () => {
    const counts = new Map(Array.from({ length: 8 }, (_, i) => [`h${i}.example/submit`, 10 + i] as [string, number]));
    // 17..13 are named; 12 + 11 + 10 go to "3 more".
    expect(forwardedSummary(counts)).toBe(
      'forwarded 108 crashes (copies kept): 17 to h7.example/submit, 16 to h6.example/submit, 15 to h5.example/submit, ' +
        '14 to h4.example/submit, 13 to h3.example/submit, 33 to 3 more',
    );
  });
});
