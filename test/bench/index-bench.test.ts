// `npm run bench index` at a small scale: the benchmark still runs (its page renders included),
// so a change that breaks it shows here rather than the next time someone measures.
import { expect, it } from 'vitest';
import { benchIndex } from '../../bench/index.ts';

it('runs the index benchmark, pages rendered, and reports every query', async () => {
  const lines: string[] = [];
  await benchIndex((line) => lines.push(line), { crashes: 3000, signatures: 40, runs: 1 });
  const text = lines.join('\n');
  for (const name of ['top crashers, 7 days', 'top crashers, 28 days, ignored hidden', 'top crashers page, 28 days, rendered', 'signature page, rendered', 'search: message text']) {
    expect(text).toContain(name);
  }
  // What it measured is for a person to read, not a pass or fail here.
  expect(lines.at(-1)).toMatch(/slowest p50 [\d.]+ ms \(target < 100 ms\)/);
});
