import { describe, expect, it } from 'vitest';
import { checkIdentity, checkSubmitUrl, identityFromManifest } from './identity.ts';

describe('declared identity (page input)', () => {
  it('accepts a GUID, an http(s) submit URL and a release', () => {
    expect(checkIdentity({ guid: 'abc-123', submitUrl: 'https://crashes.example/submit', release: '1.0', source: 'meta' })).toEqual({
      guid: 'abc-123',
      submitUrl: 'https://crashes.example/submit',
      release: '1.0',
      productName: undefined,
      source: 'meta',
    });
  });

  it('refuses submit URLs that are not plain http(s)', () => {
    for (const bad of ['javascript:alert(1)', 'file:///etc/passwd', 'https://user:pw@crashes.example/submit', 'data:text/plain,x', '', 'x'.repeat(3000)]) {
      expect(checkSubmitUrl(bad)).toBeUndefined();
    }
    expect(checkSubmitUrl('/submit', 'https://shop.example/app/')).toBe('https://shop.example/submit');
    expect(checkSubmitUrl('https://c.example/submit#frag')).toBe('https://c.example/submit');
  });

  it('drops fields with control characters or over their limits, and needs a GUID or a submit URL', () => {
    expect(checkIdentity({ guid: 'g', release: 'r'.repeat(500) })).toMatchObject({ guid: 'g', release: undefined });
    expect(checkIdentity({ release: 'r' })).toBeNull();
    expect(checkIdentity('nope')).toBeNull();
  });

  it('flags a declared GUID that breaks the shared WebAppGUID rule instead of sending it or dropping it silently', () => {
    expect(checkIdentity({ guid: ' app+one ', submitUrl: 'https://c.example/submit' })).toMatchObject({ guid: 'app+one' });
    expect(checkIdentity({ guid: 'app+one' })!.invalidGuid).toBeUndefined();
    for (const bad of ['app:one', 'a\nb', '<script>', 'a..b', 'x'.repeat(129)]) {
      const identity = checkIdentity({ guid: bad, submitUrl: 'https://c.example/submit', source: 'meta' });
      expect(identity, bad).toMatchObject({ guid: undefined, invalidGuid: true });
      // The background checks the content script's result again: the flag stays.
      expect(checkIdentity(identity)).toMatchObject({ guid: undefined, invalidGuid: true });
    }
    expect(checkIdentity({ guid: 'app:one' })).toMatchObject({ invalidGuid: true });
    // An empty declaration is no declaration.
    expect(checkIdentity({ guid: '  ', submitUrl: 'https://c.example/submit' })!.invalidGuid).toBeUndefined();
  });

  it('keeps an environment name by the shared rule, and drops one that breaks it', () => {
    expect(checkIdentity({ guid: 'g', environment: ' staging ' })).toMatchObject({ environment: 'staging' });
    for (const bad of ['a/b', 'x'.repeat(65), 'line\nbreak', 42]) {
      expect(checkIdentity({ guid: 'g', environment: bad }), String(bad)).toMatchObject({ guid: 'g', environment: undefined });
    }
  });

  it('reads the socorrito key of a web app manifest', () => {
    const manifest = { name: 'Shop', socorrito: { guid: 'g-1', 'submit-url': 'submit', release: '2.0', environment: 'production' } };
    expect(identityFromManifest(manifest, 'https://shop.example/app.webmanifest')).toEqual({
      guid: 'g-1',
      submitUrl: 'https://shop.example/submit',
      release: '2.0',
      environment: 'production',
      productName: 'Shop',
      source: 'manifest',
    });
    expect(identityFromManifest({ name: 'Shop' }, 'https://shop.example/m.json')).toBeNull();
  });
});
