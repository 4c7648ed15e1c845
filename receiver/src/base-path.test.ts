import { describe, expect, it } from 'vitest';
import { basePathOf, firstSegment, withoutBasePath } from './base-path.ts';
import { ConfigError, loadConfig } from './config.ts';

describe('the base path of --public-url', () => {
  it('is the path as --public-url is read, without the trailing slash, or nothing', () => {
    const of = (text: string): string => basePathOf(loadConfig({ 'public-url': text }, {}).publicUrl);
    expect(of('https://tools.example.com/crashes/')).toBe('/crashes');
    expect(of('https://tools.example.com/crashes')).toBe('/crashes');
    expect(of('https://tools.example.com/ops/crashes//')).toBe('/ops/crashes');
    expect(of('https://tools.example.com/my crashes/')).toBe('/my%20crashes');
    expect(of('https://crashes.example.com/')).toBe('');
    expect(of('https://crashes.example.com')).toBe('');
    expect(basePathOf(undefined)).toBe('');
  });

  it('leaves --public-url as the origin and the path, so links are made by appending to it', () => {
    expect(loadConfig({ 'public-url': 'https://Tools.example.com:443/crashes/' }, {}).publicUrl).toBe('https://tools.example.com/crashes');
    expect(loadConfig({ 'public-url': 'http://127.0.0.1:9950/' }, {}).publicUrl).toBe('http://127.0.0.1:9950');
  });

  it('refuses a --public-url with a query, a fragment or credentials', () => {
    for (const [text, problem] of [
      ['https://tools.example.com/crashes/?x=1', /--public-url: expected no query or fragment/],
      ['https://tools.example.com/crashes/#top', /--public-url: expected no query or fragment/],
      ['https://tools.example.com/crashes?', /--public-url: expected no query or fragment/],
      ['https://ops:pw@tools.example.com/crashes/', /--public-url: must not carry a user name or password/],
    ] as const) {
      let err: unknown;
      try {
        loadConfig({ 'public-url': text }, {});
      } catch (e) {
        err = e;
      }
      expect(err, text).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).problems, text).toEqual([expect.stringMatching(problem)]);
    }
  });
});

describe('withoutBasePath', () => {
  it('takes the base path off a request target that starts with it at a segment boundary', () => {
    expect(withoutBasePath('/crashes/apps/x?days=7', '/crashes')).toBe('/apps/x?days=7');
    expect(withoutBasePath('/crashes/', '/crashes')).toBe('/');
    expect(withoutBasePath('/crashes', '/crashes')).toBe('/');
    expect(withoutBasePath('/crashes?next=%2F', '/crashes')).toBe('/?next=%2F');
    expect(withoutBasePath('/ops/crashes/submit', '/ops/crashes')).toBe('/submit');
    expect(withoutBasePath('http://tools.example.com/crashes/submit?x=1', '/crashes')).toBe('http://tools.example.com/submit?x=1');
  });

  it('leaves any other target as it came: already stripped by the proxy, or not under the base path', () => {
    expect(withoutBasePath('/apps/x?days=7', '/crashes')).toBe('/apps/x?days=7');
    expect(withoutBasePath('/crashesfoo/apps', '/crashes')).toBe('/crashesfoo/apps');
    expect(withoutBasePath('/Crashes/apps', '/crashes')).toBe('/Crashes/apps');
    expect(withoutBasePath('/crashes/apps', '')).toBe('/crashes/apps');
    expect(withoutBasePath('http://tools.example.com/submit', '/crashes')).toBe('http://tools.example.com/submit');
    expect(withoutBasePath('*', '/crashes')).toBe('*');
  });
});

it('firstSegment names the first segment of a path', () => {
  expect(firstSegment('/apps/:guid')).toBe('apps');
  expect(firstSegment('/ops/crashes')).toBe('ops');
  expect(firstSegment('/')).toBe('');
});
