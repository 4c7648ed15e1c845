import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { README, renderReadme } from './docs.ts';

it('README.md shows the configuration table of receiver/src/config.ts (run `npm run docs`)', () => {
  const text = readFileSync(README, 'utf8');
  expect(renderReadme(text)).toBe(text);
});
