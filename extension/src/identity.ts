/**
 * The identity a web app declares, from `<meta name="socorrito:…">` tags or the `socorrito`
 * key of its web app manifest (DESIGN.md):
 *
 *     <meta name="socorrito:guid" content="6f1b3a52-…">
 *     <meta name="socorrito:submit-url" content="https://crashes.shop.example/submit">
 *     <meta name="socorrito:release" content="1.4.2">
 *     <meta name="socorrito:environment" content="production">
 *
 *     { "name": "Shop", "socorrito": { "guid": "…", "submit-url": "…", "release": "…", "environment": "…" } }
 *
 * All of it is page input: validated and bounded here, and again in the background.
 */
import { environmentName, isAppGuid } from '../../shared/src/protocol.ts';

export const MAX_GUID_CHARS = 128;
export const MAX_RELEASE_CHARS = 128;
export const MAX_PRODUCT_CHARS = 128;
export const MAX_SUBMIT_URL_CHARS = 2_000;
/** A web app manifest larger than this is not read. */
export const MAX_MANIFEST_BYTES = 256 * 1024;

export interface AppIdentity {
  guid?: string;
  submitUrl?: string;
  release?: string;
  /** Where this copy of the app runs (`production`, `staging`): its crashes can be told apart. */
  environment?: string;
  productName?: string;
  source: 'meta' | 'manifest';
  /**
   * The page declares a GUID that breaks the shared WebAppGUID rule: its errors are not
   * reported, as the receiver would refuse them (and without the GUID they would land under
   * the wrong app).
   */
  invalidGuid?: true;
}

// Printable text without control characters.
const PLAIN_TEXT = /^[^\u0000-\u001f\u007f]+$/;

function plain(value: unknown, max: number): string | undefined {
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return trimmed && trimmed.length <= max && PLAIN_TEXT.test(trimmed) ? trimmed : undefined;
}

/** An http(s) URL without user info, as text; anything else is undefined. */
export function checkSubmitUrl(value: unknown, base?: string): string | undefined {
  if (typeof value !== 'string' || !value.trim() || value.length > MAX_SUBMIT_URL_CHARS) return undefined;
  let url: URL;
  try {
    url = new URL(value.trim(), base);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  if (url.username || url.password) return undefined;
  url.hash = '';
  return url.href;
}

/**
 * A checked identity, or null when nothing usable is declared. `base` resolves a relative
 * submit URL (the document's or the manifest's URL).
 */
export function checkIdentity(value: unknown, base?: string): AppIdentity | null {
  if (typeof value !== 'object' || value === null) return null;
  const v = value as Record<string, unknown>;
  const guidText = typeof v.guid === 'string' ? v.guid.trim() : '';
  const guid = guidText.length <= MAX_GUID_CHARS && isAppGuid(guidText) ? guidText : undefined;
  const identity: AppIdentity = {
    guid,
    submitUrl: checkSubmitUrl(v.submitUrl, base),
    release: plain(v.release, MAX_RELEASE_CHARS),
    environment: environmentName(v.environment) ?? undefined,
    productName: plain(v.productName, MAX_PRODUCT_CHARS),
    source: v.source === 'manifest' ? 'manifest' : 'meta',
  };
  // Checked twice (content script, then background): a flag set the first time must survive.
  if ((guidText && !guid) || v.invalidGuid === true) identity.invalidGuid = true;
  return identity.guid || identity.submitUrl || identity.invalidGuid ? identity : null;
}

function metaContent(doc: Pick<Document, 'querySelector'>, name: string): string | undefined {
  // CSS.escape is not needed: the names are ours.
  return doc.querySelector(`meta[name="${name}"]`)?.getAttribute('content') ?? undefined;
}

/**
 * The identity from `<meta>` tags, or null when the document declares none. `doc` may be an
 * element too: a document's old content that document.open() removed.
 */
export function identityFromMeta(doc: Pick<Document, 'querySelector' | 'baseURI'>): AppIdentity | null {
  return checkIdentity(
    {
      guid: metaContent(doc, 'socorrito:guid'),
      submitUrl: metaContent(doc, 'socorrito:submit-url'),
      release: metaContent(doc, 'socorrito:release'),
      environment: metaContent(doc, 'socorrito:environment'),
      // Declared names only: the title is page content (`Inbox (3) – jane@example.com`), not a name.
      productName: metaContent(doc, 'socorrito:product') ?? metaContent(doc, 'application-name'),
      source: 'meta',
    },
    doc.baseURI,
  );
}

/** The identity under a parsed web app manifest's `socorrito` key, or null. */
export function identityFromManifest(manifest: unknown, manifestUrl: string): AppIdentity | null {
  if (typeof manifest !== 'object' || manifest === null) return null;
  const m = manifest as Record<string, unknown>;
  const s = m.socorrito;
  if (typeof s !== 'object' || s === null) return null;
  const d = s as Record<string, unknown>;
  return checkIdentity(
    {
      guid: d.guid,
      submitUrl: d['submit-url'] ?? d.submitUrl ?? d.submit_url,
      release: d.release,
      environment: d.environment,
      productName: d.product ?? m.short_name ?? m.name,
      source: 'manifest',
    },
    manifestUrl,
  );
}
