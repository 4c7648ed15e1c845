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
    expect(checkIdentity({ guid: 'a\nb', release: 'r' })).toBeNull();
    expect(checkIdentity({ guid: 'g', release: 'r'.repeat(500) })).toMatchObject({ guid: 'g', release: undefined });
    expect(checkIdentity({ guid: '<script>' })).toBeNull();
    expect(checkIdentity('nope')).toBeNull();
  });

  it('reads the socorrito key of a web app manifest', () => {
    const manifest = { name: 'Shop', socorrito: { guid: 'g-1', 'submit-url': 'submit', release: '2.0' } };
    expect(identityFromManifest(manifest, 'https://shop.example/app.webmanifest')).toEqual({
      guid: 'g-1',
      submitUrl: 'https://shop.example/submit',
      release: '2.0',
      productName: 'Shop',
      source: 'manifest',
    });
    expect(identityFromManifest({ name: 'Shop' }, 'https://shop.example/m.json')).toBeNull();
  });
});
