/**
 * Identities declared in web app manifests, read by the background. The content script names
 * the manifest and hands its errors over at once: a page that is left right after its error
 * (a link, a form) would be gone before a fetch from the page could finish.
 */
import { type AppIdentity, checkSubmitUrl, identityFromManifest, MAX_MANIFEST_BYTES } from '../identity.ts';

const MANIFEST_TIMEOUT_MS = 5_000;
/** A manifest read is reused this long; an app that changes its manifest is seen after it. */
const MANIFEST_CACHE_MS = 5 * 60_000;
const MAX_CACHED_MANIFESTS = 100;

/** The identity in the manifest at `href` (no cookies, no referrer sent), or null. */
export async function readManifest(href: string, fetchImpl: typeof fetch = fetch): Promise<AppIdentity | null> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), MANIFEST_TIMEOUT_MS);
  try {
    // No redirect is followed: a manifest that moves elsewhere is not the page's.
    const response = await fetchImpl(href, { credentials: 'omit', referrerPolicy: 'no-referrer', redirect: 'error', signal: controller.signal });
    if (!response.ok || !response.body) return null;
    const reader = response.body.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.length;
      if (size > MAX_MANIFEST_BYTES) {
        await reader.cancel();
        return null;
      }
      chunks.push(value);
    }
    const bytes = new Uint8Array(size);
    let offset = 0;
    for (const chunk of chunks) {
      bytes.set(chunk, offset);
      offset += chunk.length;
    }
    return identityFromManifest(JSON.parse(new TextDecoder().decode(bytes)), href);
  } catch {
    return null;
  } finally {
    clearTimeout(timer);
  }
}

/** Manifest reads shared by the batches of every tab, each kept MANIFEST_CACHE_MS. */
export class ManifestIdentities {
  readonly #cache = new Map<string, { at: number; identity: Promise<AppIdentity | null> }>();

  constructor(
    private readonly read: (href: string) => Promise<AppIdentity | null> = readManifest,
    private readonly now: () => number = Date.now,
  ) {}

  /** The identity a page's manifest declares; null for a manifest URL that is not http(s). */
  get(manifestUrl: string): Promise<AppIdentity | null> {
    const href = checkSubmitUrl(manifestUrl);
    if (!href) return Promise.resolve(null);
    const now = this.now();
    const cached = this.#cache.get(href);
    if (cached && now - cached.at < MANIFEST_CACHE_MS) return cached.identity;
    if (this.#cache.size >= MAX_CACHED_MANIFESTS) this.#cache.delete(this.#cache.keys().next().value!);
    const identity = this.read(href);
    this.#cache.set(href, { at: now, identity });
    return identity;
  }
}
