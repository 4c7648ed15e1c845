import { describe, expect, it } from 'vitest';
import { displaySourceName } from './source-name.ts';

describe('original file names for display', () => {
  it.each([
    ['../../src/util.js', 'src/util.js'],
    ['./src/util.js', 'src/util.js'],
    ['../.././../src/a/b.ts', 'src/a/b.ts'],
    ['webpack:///src/d.js', 'src/d.js'],
    ['webpack:///./src/d.js', 'src/d.js'],
    ['webpack://my-app/./src/b.js', 'src/b.js'],
    ['webpack://my-app/../lib/c.js', 'lib/c.js'],
    ['webpack://my-app/webpack/bootstrap', 'webpack/bootstrap'],
    ['webpack://my-app/webpack/runtime/jsonp%20chunk%20loading', 'webpack/runtime/jsonp chunk loading'],
    ['src/a%2Fb%00.ts', 'src/a%2Fb%00.ts'],
    ['src/already.ts', 'src/already.ts'],
    ['https://cdn.example/lib.js', 'https://cdn.example/lib.js'],
    ['/abs/path.js', '/abs/path.js'],
    ['../', '../'],
  ])('%s reads %s', (source, shown) => {
    expect(displaySourceName(source)).toBe(shown);
  });
});
