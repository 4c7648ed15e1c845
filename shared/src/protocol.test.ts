import { describe, expect, it } from 'vitest';
import { APP_GUID_PATTERN, environmentName, isAppGuid, reportPageUrl, withSubmitPath } from './protocol.ts';

describe('the WebAppGUID rule', () => {
  it('accepts UUIDs, {uuid}, add-on style IDs and 1 to 128 of A-Z a-z 0-9 . _ @ { } + -', () => {
    for (const good of ['6f1b3a52-0000-4000-8000-000000000000', '{6f1b3a52-0000-4000-8000-000000000000}', 'shop@example.com', 'a', 'app+one', 'App_1.2-x', 'x'.repeat(128)]) {
      expect(isAppGuid(good), good).toBe(true);
    }
  });

  it('refuses colons, spaces, separators, .., a leading dot or dash, empty and over 128', () => {
    for (const bad of ['app:one', 'app one', ' app', 'a/b', 'a\\b', 'a..b', '..', '.app', '-app', '+app', '', 'x'.repeat(129), 'a\nb', 'é', '<script>']) {
      expect(isAppGuid(bad), bad).toBe(false);
    }
    expect(isAppGuid(undefined)).toBe(false);
    expect(isAppGuid(42)).toBe(false);
    expect(APP_GUID_PATTERN.test('app:one')).toBe(false);
  });
});

describe('withSubmitPath', () => {
  it('adds /submit to the path only, keeping the query and dropping the fragment', () => {
    const submitUrl = (text: string): string => withSubmitPath(new URL(text)).href;
    expect(submitUrl('http://127.0.0.1:8000')).toBe('http://127.0.0.1:8000/submit');
    expect(submitUrl('http://127.0.0.1:8000/?x=1#top')).toBe('http://127.0.0.1:8000/submit?x=1');
    expect(submitUrl('https://crashes.example/shop/')).toBe('https://crashes.example/shop/submit');
    expect(submitUrl('https://crashes.example/submit/')).toBe('https://crashes.example/submit/');
    expect(submitUrl('https://crashes.example/submit?app=1')).toBe('https://crashes.example/submit?app=1');
  });
});

describe('environmentName', () => {
  it('keeps a trimmed name of 1 to 64 printable characters, case as given', () => {
    expect(environmentName(' staging ')).toBe('staging');
    expect(environmentName('Production EU')).toBe('Production EU');
    expect(environmentName('préprod')).toBe('préprod');
    expect(environmentName('x'.repeat(64))).toBe('x'.repeat(64));
  });

  it('is null for nothing, too long, control characters, slashes and line breaks', () => {
    for (const bad of [undefined, null, 42, '', '   ', 'x'.repeat(65), 'a/b', 'a\nb', 'a\u0000b', 'tab\there', 'prod\u200b', 'prod\u202e', 'a\u0085b']) {
      expect(environmentName(bad), JSON.stringify(bad)).toBeNull();
    }
  });
});

describe('reportPageUrl', () => {
  it("turns a receiver's submit URL into a crash's report page, under the same path", () => {
    expect(reportPageUrl('https://crashes.example/submit', 'bp-1')).toBe('https://crashes.example/report/bp-1');
    expect(reportPageUrl('https://crashes.example/shop/submit/?x=1#f', 'bp-1')).toBe('https://crashes.example/shop/report/bp-1');
    expect(reportPageUrl('http://127.0.0.1:8000', 'bp-2')).toBe('http://127.0.0.1:8000/report/bp-2');
  });
});
