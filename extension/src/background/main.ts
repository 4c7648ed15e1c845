/**
 * The background (a Firefox event page, a Chromium service worker): wires the browser's
 * events to the Reporter. Listeners are registered at the top level, as both browsers need
 * to wake a suspended background for them.
 */
import browser from 'webextension-polyfill';
import type { Runtime } from 'webextension-polyfill';
import { type AppIdentity, checkIdentity } from '../identity.ts';
import { ERRORS_MESSAGE, validateBatch } from '../relay.ts';
import { CLEAR_HISTORY_MESSAGE, RETRY_NOW_MESSAGE } from './messages.ts';
import { ContentScripts, injectIntoOpenTabs } from './injection.ts';
import { ManifestIdentities } from './manifest.ts';
import { hideExtensionOrigin } from './privacy.ts';
import { RETRY_ALARM, Reporter } from './reporter.ts';
import { SETTINGS_KEY, type Settings, checkSettings, siteRefusal } from './settings.ts';
import { ReportStore } from './store.ts';


const store = new ReportStore(browser.storage.local);

async function loadSettings(): Promise<Settings> {
  const got = await browser.storage.local.get(SETTINGS_KEY);
  return checkSettings(got[SETTINGS_KEY]).settings;
}

// Before the first submission: no Origin header that identifies this installation.
const originHidden = hideExtensionOrigin(browser.declarativeNetRequest, new URL(browser.runtime.getURL('')).host);

const reporter = new Reporter({
  store,
  ready: originHidden.then(() => undefined),
  // Without the rule, or without access to the receiver's origin (the person limited the
  // extension's site access), Firefox would send the installation's ID as Origin: nothing goes.
  mayReach: async (submitUrl) =>
    (await originHidden) && (await browser.permissions.contains({ origins: [`${new URL(submitUrl).origin}/*`] })),
  loadSettings,
  userAgent: navigator.userAgent,
  scheduleAlarm: (when) => {
    // The in-memory timer is the first choice; the alarm wakes a background that was suspended.
    Promise.resolve(browser.alarms.create(RETRY_ALARM, { when })).catch((err: unknown) => console.warn('socorrito: no retry alarm:', err));
  },
});

// The hook and the content script go into pages only while reporting is on, and never into a
// blocked site: checked at every start (install and update clear them) and on every change.
const contentScripts = new ContentScripts(browser.scripting, loadSettings);
const injected = contentScripts.sync().catch((err: unknown) => console.error('socorrito: could not register the content scripts:', err));
browser.storage.onChanged.addListener((changes, area) => {
  if (area === 'local' && SETTINGS_KEY in changes) {
    contentScripts.sync().catch((err: unknown) => console.error('socorrito: could not update the content scripts:', err));
  }
});

const manifests = new ManifestIdentities();

/** Manifests one batch may name (its frame and same-origin ancestors). */
const MAX_MANIFEST_URLS = 10;

/**
 * The identity a batch's page declared: the first of the web app manifests the content script
 * named (nearest frame first) that declares one, else the meta identity it found above them,
 * checked again here as page input. Never rejects.
 */
async function declaredIdentity(m: Record<string, unknown>, pageUrl: string): Promise<AppIdentity | null> {
  const urls = Array.isArray(m.manifestUrls) ? m.manifestUrls.slice(0, MAX_MANIFEST_URLS) : [];
  for (const url of urls) {
    // Only the page's own origin's manifests, as a browser reads them: a page must not make the
    // extension fetch any URL it likes.
    const identity = typeof url === 'string' && sameOrigin(url, pageUrl) ? await manifests.get(url).catch(() => null) : null;
    if (identity) return identity;
  }
  return checkIdentity(m.identity, pageUrl);
}

function sameOrigin(a: string, b: string): boolean {
  try {
    return new URL(a).origin === new URL(b).origin;
  } catch {
    return false;
  }
}

/**
 * The address a document's site is checked and named by: its own, or for a document without one
 * (about:blank, about:srcdoc, a blob: URL) the origin it has from the document that made it,
 * which Firefox gives as `sender.origin`. Such a frame belongs to the app that made it. An
 * opaque origin (a data: URL, a sandboxed frame) has no site: null; the caller then checks the
 * frame's own URL, which the blocked-sites check refuses (a data: URL is no site), so nothing is reported.
 */
function siteUrlOf(sender: Runtime.MessageSender): string | null {
  const url = sender.url ?? '';
  if (/^https?:/i.test(url)) return url;
  if (!/^(?:about:(?:blank|srcdoc)(?:[?#]|$)|blob:)/i.test(url)) return null;
  const origin = (sender as { origin?: unknown }).origin;
  return typeof origin === 'string' && /^https?:\/\/[^/]+$/i.test(origin) ? `${origin}/` : null;
}

function fromOwnPage(sender: Runtime.MessageSender): boolean {
  return sender.id === browser.runtime.id && (sender.url ?? '').startsWith(browser.runtime.getURL(''));
}

browser.runtime.onMessage.addListener((message: unknown, sender: Runtime.MessageSender) => {
  if (typeof message !== 'object' || message === null || sender.id !== browser.runtime.id) return undefined;
  const m = message as Record<string, unknown>;
  // Firefox leaves `tab` out of a message sent while its tab closes (the hook's last batch, sent
  // at pagehide, which holds up to 5 s of a loop's repeats): a top-level document is its tab's
  // page then. A frame's is still dropped: its tab's site, which may be blocked, is not known.
  if (m.type === ERRORS_MESSAGE && sender.url && (sender.tab || (m.topLevel === true && !fromOwnPage(sender)))) {
    // Came through a content script from the page: checked again here.
    const batch = validateBatch(m);
    if (!batch) return undefined;
    const pageUrl = sender.url;
    const siteUrl = siteUrlOf(sender) ?? pageUrl;
    const topUrl = sender.tab ? sender.tab.url : pageUrl;
    const pageKey = `${sender.tab?.id ?? 'closed'}:${sender.frameId ?? 0}:${pageUrl.split(/[?#]/, 1)[0]}`;
    void loadSettings()
      .then(async (settings) => {
        // Off, or a blocked site: not even the manifest the page names is read (a request it chose).
        if (siteRefusal(settings, siteUrl, topUrl)) return;
        const identity = await declaredIdentity(m, siteUrl);
        await reporter.handleBatch({ identity, errors: batch.errors, dropped: batch.dropped, pageUrl, siteUrl, pageKey, topUrl });
      })
      .catch((err: unknown) => console.error('socorrito: could not queue a report:', err));
    return undefined;
  }
  if (!fromOwnPage(sender)) return undefined;
  if (m.type === RETRY_NOW_MESSAGE) return reporter.retryNow().then(() => true);
  if (m.type === CLEAR_HISTORY_MESSAGE) {
    return store
      .update((state) => {
        state.reports = state.reports.filter((e) => e.status === 'queued' || e.status === 'sending');
      })
      .then(() => true);
  }
  return undefined;
});

// Firefox unloads an idle background: the repeats the reporter holds in memory go to the queue
// first (started here; an unloading page's writes are not sure to finish).
browser.runtime.onSuspend.addListener(() => {
  reporter.stop().catch((err: unknown) => console.error('socorrito: could not keep held repeats:', err));
});

browser.alarms.onAlarm.addListener((alarm) => {
  if (alarm.name === RETRY_ALARM) void reporter.drain();
});

browser.runtime.onInstalled.addListener((details) => {
  // First install: show what the extension does and where to turn it off.
  // Once the hook is registered, so a page opened from there is reported.
  if (details.reason === 'install') void injected.then(() => browser.tabs.create({ url: browser.runtime.getURL('options.html?welcome=1') }));
  // Registrations reach only pages loaded from now on: the tabs already open get the scripts too.
  if (details.reason === 'install' || details.reason === 'update') {
    void injected
      .then(loadSettings)
      .then((settings) =>
        injectIntoOpenTabs(settings, {
          queryTabs: () => browser.tabs.query({}),
          executeScript: (injection) => browser.scripting.executeScript(injection),
        }),
      )
      .catch((err: unknown) => console.error('socorrito: could not bring the scripts into the open tabs:', err));
  }
});

void reporter.start().catch((err: unknown) => console.error('socorrito: could not start the queue:', err));
