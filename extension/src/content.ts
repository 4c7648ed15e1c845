/**
 * The isolated-world content script: the only part that reads the page (its identity) and the
 * only listener for the hook's batches. Batches are untrusted page input, so they are parsed
 * with limits and rate-limited here before anything reaches the background. It reads nothing
 * else from the page: no cookies, no content, no form data.
 */
// One call to the extension API, and both browsers' MV3 `runtime.sendMessage` return a promise:
// no need to inject webextension-polyfill (30 KB) into every page a person opens.
type Runtime = { sendMessage(message: unknown): Promise<unknown> };
const extensionApi = globalThis as unknown as { browser?: { runtime: Runtime }; chrome?: { runtime: Runtime } };
const runtime = (extensionApi.browser ?? extensionApi.chrome)!.runtime;
import { type AppIdentity, MAX_MANIFEST_BYTES, identityFromManifest, identityFromMeta } from './identity.ts';
import { ERRORS_MESSAGE, MAX_REPEAT_COUNT, RELAY_EVENT, parseRelayDetail } from './relay.ts';

/** Batches one document may pass to the background per minute; more are counted as dropped. */
const MAX_BATCHES_PER_MINUTE = 60;
const MANIFEST_TIMEOUT_MS = 5_000;

let windowStart = 0;
let batchesInWindow = 0;
let droppedHere = 0;
const manifestIdentities = new Map<string, Promise<AppIdentity | null>>();

async function readManifest(href: string): Promise<AppIdentity | null> {
  const url = new URL(href);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), MANIFEST_TIMEOUT_MS);
  try {
    const response = await fetch(url.href, { credentials: 'omit', signal: controller.signal });
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
    return identityFromManifest(JSON.parse(new TextDecoder().decode(bytes)), url.href);
  } catch {
    return null;
  } finally {
    clearTimeout(timer);
  }
}

function manifestIdentity(doc: Document): Promise<AppIdentity | null> {
  const link = doc.querySelector('link[rel~="manifest"][href]') as HTMLLinkElement | null;
  if (!link?.href) return Promise.resolve(null);
  let found = manifestIdentities.get(link.href);
  if (!found) {
    found = readManifest(link.href);
    manifestIdentities.set(link.href, found);
  }
  return found;
}

/** This document's declared identity; in a frame, that of the nearest same-origin ancestor that declares one. */
async function findIdentity(): Promise<AppIdentity | null> {
  let win: Window = window;
  for (let depth = 0; depth < 10; depth++) {
    let doc: Document;
    try {
      doc = win.document;
    } catch {
      return null; // a cross-origin ancestor: a different app
    }
    const found = identityFromMeta(doc) ?? (await manifestIdentity(doc));
    if (found) return found;
    if (win === win.parent) return null;
    win = win.parent;
  }
  return null;
}

function allowBatch(now: number): boolean {
  if (now - windowStart >= 60_000) {
    windowStart = now;
    batchesInWindow = 0;
  }
  batchesInWindow++;
  return batchesInWindow <= MAX_BATCHES_PER_MINUTE;
}

async function onRelay(event: Event): Promise<void> {
  const batch = parseRelayDetail((event as CustomEvent).detail);
  if (!batch) return;
  if (!allowBatch(Date.now())) {
    droppedHere = Math.min(MAX_REPEAT_COUNT, droppedHere + batch.errors.reduce((n, e) => n + e.count, 0) + batch.dropped);
    return;
  }
  const dropped = Math.min(MAX_REPEAT_COUNT, batch.dropped + droppedHere);
  droppedHere = 0;
  const identity = await findIdentity();
  try {
    await runtime.sendMessage({ type: ERRORS_MESSAGE, identity, errors: batch.errors, dropped });
  } catch {
    // The extension was reloaded or is shutting down: nothing to do in this page.
  }
}

document.addEventListener(RELAY_EVENT, (event) => void onRelay(event), true);
