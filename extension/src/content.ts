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
import { type AppIdentity, identityFromMeta } from './identity.ts';
import { ERRORS_MESSAGE, MAX_REPEAT_COUNT, RELAY_EVENT, parseRelayDetail } from './relay.ts';

/** Batches one document may pass to the background per minute; more are counted as dropped. */
const MAX_BATCHES_PER_MINUTE = 60;

let windowStart = 0;
let batchesInWindow = 0;
let droppedHere = 0;

interface Declaration {
  identity: AppIdentity | null;
  manifestUrl: string | null;
}

/** What one document (or its old content) declares itself: meta tags, or a manifest link. */
function declarationIn(root: Pick<Document, 'querySelector' | 'baseURI'>): Declaration {
  const link = root.querySelector('link[rel~="manifest"][href]') as HTMLLinkElement | null;
  return { identity: identityFromMeta(root), manifestUrl: link?.href || null };
}

/**
 * What this document declared before document.open() emptied it, meta tags and manifest link
 * with the rest. It is still the same document, at the same address, of the same app.
 */
let declaredBeforeRewrite: Declaration | null = null;

/**
 * What this document declares: the identity in its `<meta>` tags, or the address of its web app
 * manifest, which the background reads (a fetch from here would not finish if the page is left
 * right after its error). A frame that declares neither takes the nearest same-origin
 * ancestor's. Manifests come in the order to try them, nearest first; the meta identity found
 * above them (if any) is the last resort.
 */
function findDeclaration(): { identity: AppIdentity | null; manifestUrls: string[] } {
  const manifestUrls: string[] = [];
  let win: Window = window;
  for (let depth = 0; depth < 10; depth++) {
    let doc: Document;
    try {
      doc = win.document;
    } catch {
      break; // a cross-origin ancestor: a different app
    }
    let own = declarationIn(doc);
    if (depth === 0 && !own.identity && !own.manifestUrl && declaredBeforeRewrite) own = declaredBeforeRewrite;
    if (own.identity) return { identity: own.identity, manifestUrls };
    if (own.manifestUrl) manifestUrls.push(own.manifestUrl);
    if (win === win.parent) break;
    win = win.parent;
  }
  return { identity: null, manifestUrls };
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
  const declared = findDeclaration();
  try {
    // topLevel: the background is not told which tab a message comes from while the tab closes.
    await runtime.sendMessage({ type: ERRORS_MESSAGE, ...declared, errors: batch.errors, dropped, topLevel: window === window.top });
  } catch {
    // The extension was reloaded or is shutting down: nothing to do in this page.
  }
}

function listen(): void {
  document.addEventListener(RELAY_EVENT, onRelayEvent, true);
}

const onRelayEvent = (event: Event): void => void onRelay(event);

/**
 * document.open() erases the document's listeners, this one too, and removes all its content:
 * the listener goes back (as the hook's do), and what the old content declared is kept. Other
 * changes to the document's children (the parser adding <html>) change nothing here.
 */
function onChildrenChanged(records: MutationRecord[]): void {
  listen();
  for (const record of records) {
    for (const node of record.removedNodes) {
      if (node.nodeType !== Node.ELEMENT_NODE) continue;
      const old = declarationIn(node as Element);
      if (old.identity || old.manifestUrl) declaredBeforeRewrite = old;
    }
  }
}

// Brought into a page already open at install or update, this script may also have been run there
// by its registration (the page was loading then): once is enough, or each batch would go twice.
// The mark is in this script's own world; the page cannot see it.
const world = globalThis as { socorritoContentScript?: true };
if (!world.socorritoContentScript) {
  world.socorritoContentScript = true;
  listen();
  new MutationObserver(onChildrenChanged).observe(document, { childList: true });
}
