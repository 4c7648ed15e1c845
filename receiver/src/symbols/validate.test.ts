import { describe, expect, it } from 'vitest';
import { fileKeysForUrl, normalizeDebugId, normalizeFileKey, validateAppGuid, validateRelease } from './validate.ts';

describe('source map store names', () => {
  it('accepts GUIDs and releases as apps use them and refuses path tricks', () => {
    expect(validateAppGuid('6f1b3a52-7c1e-4d0b-9f39-3d1f4d2a9c10')).toBeTruthy();
    expect(validateAppGuid('{6f1b3a52-7c1e-4d0b-9f39-3d1f4d2a9c10}')).toBeTruthy();
    expect(validateRelease('2026.11.29+build.7')).toBeTruthy();
    for (const bad of ['..', '.hidden', 'a/b', 'a\\b', '', 'a\u0000b', 'x'.repeat(129), 'a..b']) {
      expect(() => validateAppGuid(bad), bad).toThrow();
      expect(() => validateRelease(bad), bad).toThrow();
    }
  });

  it('turns upload names into lookup keys, refusing . and .. segments', () => {
    expect(normalizeFileKey('~/static/app.js')).toBe('~/static/app.js');
    expect(normalizeFileKey('static/app.js?v=3')).toBe('~/static/app.js');
    expect(normalizeFileKey('HTTPS://Shop.Example/static/app.js#x')).toBe('https://shop.example/static/app.js');
    for (const bad of ['~/../x.js', '~/a/./b.js', '~/a//b.js', '~/a\\b.js', 'file:///etc/passwd', '~/dir/', '']) expect(() => normalizeFileKey(bad), bad).toThrow();
    // Percent-escapes are decoded, so an encoded and a plain name are one key; decoded tricks are refused too.
    expect(normalizeFileKey('~/my%20dir/app%20%231.js')).toBe('~/my dir/app #1.js');
    expect(normalizeFileKey('~/%C3%BC/app.js')).toBe('~/ü/app.js');
    for (const bad of ['~/%2e%2e/x.js', '~/a/%00.js', '~/a%5Cb.js']) expect(() => normalizeFileKey(bad), bad).toThrow();
  });

  it('finds a frame URL under its exact URL and under ~/ for any origin', () => {
    expect(fileKeysForUrl('https://cdn.shop.example/static/app.js?v=1')).toEqual(['https://cdn.shop.example/static/app.js', '~/static/app.js']);
    expect(fileKeysForUrl('moz-extension://abc/x.js')).toEqual([]);
    expect(fileKeysForUrl('https://shop.example/my%20dir/%C3%BC.js?v=1')).toEqual(['https://shop.example/my dir/ü.js', '~/my dir/ü.js']);
    expect(normalizeDebugId('85314830023F4CF1A267535F4E37BB17')).toBe('85314830-023f-4cf1-a267-535f4e37bb17');
    expect(normalizeDebugId('not-an-id')).toBeNull();
  });
});
