import { describe, expect, it } from 'vitest';
import { safeNext } from './auth.ts';

describe('safeNext', () => {
  it('keeps a path on this site, query and fragment included', () => {
    expect(safeNext('/search?q=a%20b#top')).toBe('/search?q=a%20b#top');
    expect(safeNext('/report/bp-3c04')).toBe('/report/bp-3c04');
  });

  it('sends anything that a browser would take off-site, or cannot read, to /', () => {
    // Browsers drop tabs and line breaks from a URL and read \ as /.
    for (const next of [undefined, '', 'evil.example', '//evil.example/x', 'https://evil.example/', '/\\evil.example', '/\t/evil.example', '/\n/evil.example', '/\r\n/evil.example', '/ /evil.example', '/\u0000/evil.example', '/\u007f']) {
      expect(safeNext(next), JSON.stringify(next)).toBe('/');
    }
  });

  it('keeps a path whose dot segments resolve to two slashes on this site', () => {
    for (const [next, to] of [['/.//evil.example', '/evil.example'], ['/..//evil.example/x', '/evil.example/x'], ['/%2e//evil.example', '/evil.example'], ['/x/..//evil.example?a=1', '/evil.example?a=1']]) {
      expect(safeNext(next), next).toBe(to);
    }
  });
});
