import { describe, expect, it } from 'vitest';
import { MAX_MANIFEST_BYTES } from '../identity.ts';
import { ManifestIdentities, readManifest } from './manifest.ts';

const MANIFEST = { short_name: 'PWA', socorrito: { guid: 'shop-1', 'submit-url': '/crashes/submit', release: '2.0' } };

describe('web app manifests read by the background', () => {
  it('reads the identity without cookies or referrer, resolving the submit URL against the manifest', async () => {
    const asked: RequestInit[] = [];
    const fake = (async (_url: string, init: RequestInit) => {
      asked.push(init);
      return new Response(JSON.stringify(MANIFEST));
    }) as typeof fetch;
    const identity = await readManifest('https://shop.example/app.webmanifest', fake);
    expect(identity).toEqual({ guid: 'shop-1', submitUrl: 'https://shop.example/crashes/submit', release: '2.0', productName: 'PWA', source: 'manifest' });
    expect(asked[0]).toMatchObject({ credentials: 'omit', referrerPolicy: 'no-referrer' });
  });

  it('gives nothing for a manifest too large, not JSON, or not found', async () => {
    const answer = (body: string, status = 200) => (async () => new Response(body, { status })) as unknown as typeof fetch;
    expect(await readManifest('https://shop.example/m', answer(' '.repeat(MAX_MANIFEST_BYTES + 1)))).toBeNull();
    expect(await readManifest('https://shop.example/m', answer('{'))).toBeNull();
    expect(await readManifest('https://shop.example/m', answer(JSON.stringify(MANIFEST), 404))).toBeNull();
  });

  it('reads each manifest once for a while, and never one that is not http(s)', async () => {
    const reads: string[] = [];
    const clock = { now: 0 };
    const manifests = new ManifestIdentities(async (href) => {
      reads.push(href);
      return null;
    }, () => clock.now);
    await manifests.get('https://shop.example/app.webmanifest');
    await manifests.get('https://shop.example/app.webmanifest#x');
    await manifests.get('file:///etc/passwd');
    await manifests.get('https://user:pw@shop.example/app.webmanifest');
    expect(reads).toEqual(['https://shop.example/app.webmanifest']);
    clock.now += 6 * 60_000;
    await manifests.get('https://shop.example/app.webmanifest');
    expect(reads).toHaveLength(2);
  });
});
