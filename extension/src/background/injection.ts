/**
 * What the extension puts into pages, and when. The hook (hook.js, in the page's own world) and
 * the content script (content.js) are registered from here with `scripting`, not declared in the
 * manifest: a declared content script runs in every page whatever the settings, and the hook's
 * listeners and its relay event let any page tell that Socorrito is installed. So both are
 * registered only while reporting is on, with the blocked sites excluded, and registered again
 * whenever the settings change.
 *
 * The registrations persist across browser restarts (Firefox and Chromium keep them, so pages
 * that load before the background wakes are hooked); Firefox clears them when the extension is
 * installed or updated, and the background, which starts then, registers them again. Pages that
 * already have the hook keep it until they are reloaded: their reports are refused by the
 * background (`siteRefusal`), which checks the settings again for every batch. A registration
 * reaches only pages loaded after it: `injectIntoOpenTabs` brings both into the pages already
 * open at install or update.
 */
import type { Scripting } from 'webextension-polyfill';
import { type Settings, siteRefusal } from './settings.ts';

export const HOOK_SCRIPT_ID = 'socorrito-hook';
export const CONTENT_SCRIPT_ID = 'socorrito-content';
const SCRIPT_IDS = [HOOK_SCRIPT_ID, CONTENT_SCRIPT_ID];

/** The part of `browser.scripting` used here (a parameter, so tests can pass their own). */
export interface ScriptingApi {
  getRegisteredContentScripts(filter?: Scripting.ContentScriptFilter): Promise<Scripting.RegisteredContentScript[]>;
  registerContentScripts(scripts: Scripting.RegisteredContentScript[]): Promise<unknown>;
  updateContentScripts(scripts: Scripting.RegisteredContentScript[]): Promise<unknown>;
  unregisterContentScripts(filter?: Scripting.ContentScriptFilter): Promise<unknown>;
}

const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;

/**
 * Match patterns for the blocked sites, each with its subdomains and on every port, as the
 * list means them: `shop.example` → `*://*.shop.example/*` (which matches `shop.example`
 * itself too). An IP address has no subdomains and is matched as it is.
 */
export function blockedPatterns(blockSites: readonly string[]): string[] {
  return blockSites.map((site) => (site.startsWith('[') || IPV4.test(site) ? `*://${site}/*` : `*://*.${site}/*`));
}

/**
 * The content scripts the settings call for: none while reporting is off, else the hook and the
 * content script everywhere but the blocked sites. Both run at document_start in every frame,
 * about:blank, srcdoc, blob: and data: frames included (matched by the origin that made them),
 * as the manifest declared them, so errors thrown while the page starts are still seen.
 */
export function contentScriptsFor(settings: Pick<Settings, 'enabled' | 'blockSites'>): Scripting.RegisteredContentScript[] {
  if (!settings.enabled) return [];
  const everywhere: Omit<Scripting.RegisteredContentScript, 'id'> = {
    matches: ['<all_urls>'],
    excludeMatches: blockedPatterns(settings.blockSites),
    runAt: 'document_start',
    allFrames: true,
    matchOriginAsFallback: true,
    persistAcrossSessions: true,
  };
  return [
    { id: HOOK_SCRIPT_ID, js: ['hook.js'], world: 'MAIN', ...everywhere },
    { id: CONTENT_SCRIPT_ID, js: ['content.js'], world: 'ISOLATED', ...everywhere },
  ];
}

/** Whether a registration the browser reports is the one wanted (fields it leaves out count as their defaults). */
function sameScript(had: Scripting.RegisteredContentScript, want: Scripting.RegisteredContentScript): boolean {
  const shape = (s: Scripting.RegisteredContentScript): string =>
    JSON.stringify([
      s.js ?? [],
      s.matches ?? [],
      [...(s.excludeMatches ?? [])].sort(),
      s.runAt ?? 'document_idle',
      s.allFrames ?? false,
      s.matchOriginAsFallback ?? false,
      s.world ?? 'ISOLATED',
      s.persistAcrossSessions ?? true,
    ]);
  return shape(had) === shape(want);
}

/**
 * Keeps the registered content scripts in line with the settings. `sync()` reads the settings
 * when its turn comes and changes only what differs; calls run one after another, so quick
 * changes in a row cannot register the same script twice.
 *
 * @example
 *   const injection = new ContentScripts(browser.scripting, loadSettings);
 *   await injection.sync();   // at every start of the background, and after each settings change
 */
export class ContentScripts {
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly scripting: ScriptingApi,
    private readonly loadSettings: () => Promise<Pick<Settings, 'enabled' | 'blockSites'>>,
  ) {}

  sync(): Promise<void> {
    const run = this.queue.then(() => this.apply());
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async apply(): Promise<void> {
    const wanted = contentScriptsFor(await this.loadSettings());
    const current = await this.scripting.getRegisteredContentScripts({ ids: SCRIPT_IDS });
    if (wanted.length === 0) {
      if (current.length > 0) await this.scripting.unregisterContentScripts({ ids: current.map((s) => s.id) });
      return;
    }
    const all = wanted.every((w) => current.some((c) => c.id === w.id));
    if (all && wanted.every((w) => sameScript(current.find((c) => c.id === w.id)!, w))) return;
    try {
      // Updated in place when both are there: pages loading meanwhile are never left without them.
      if (all) await this.scripting.updateContentScripts(wanted);
      else {
        if (current.length > 0) await this.scripting.unregisterContentScripts({ ids: current.map((s) => s.id) });
        await this.scripting.registerContentScripts(wanted);
      }
    } catch (err) {
      if (wanted[0]!.excludeMatches!.length === 0) throw err;
      // A pattern the browser refuses must not turn reporting off everywhere: the blocked sites
      // then get the scripts, and the background still refuses their reports.
      console.error('socorrito: could not exclude the blocked sites from the content scripts; their reports are still refused:', err);
      const unexcluded = wanted.map((w) => ({ ...w, excludeMatches: [] }));
      if (all) await this.scripting.updateContentScripts(unexcluded);
      else await this.scripting.registerContentScripts(unexcluded);
    }
  }
}

/** The parts of `browser.tabs` and `browser.scripting` that reach pages already open. */
export interface OpenTabsApi {
  queryTabs(): Promise<{ id?: number; url?: string; discarded?: boolean }[]>;
  executeScript(injection: Scripting.ScriptInjection): Promise<Scripting.InjectionResult[]>;
}

/**
 * The address a frame's site is judged by, from its `location.href` and its `origin`: its own,
 * or for a document without one (about:blank, about:srcdoc, blob:) the origin it was made by, as
 * the registrations match it (`matchOriginAsFallback`). Null for what is no web page.
 */
function frameSite(href: unknown, origin: unknown): string | null {
  if (typeof href === 'string' && /^https?:/i.test(href)) return href;
  return typeof origin === 'string' && /^https?:\/\/[^/]+$/i.test(origin) ? `${origin}/` : null;
}

/**
 * Brings the content script and the hook into the pages already open, in every frame whose site
 * (and whose tab's) is not blocked: registered content scripts reach only pages loaded after the
 * registration, so without this a tab kept open across an install or an update (a web app
 * pinned for days) goes unreported until it is reloaded. Run once the registrations are in
 * place, so a page loading meanwhile is hooked by one or the other; one that gets both runs the
 * content script once (it marks its world) and the hook once (a later hook finds the first).
 *
 * The frames are listed first by a function run in the extension's own world, which the page
 * cannot see, to judge each one's site; the content script goes in before the hook, so nothing
 * the hook hands on finds no one listening. All three go in at once, not when the page is idle:
 * a page still loading is hooked while it loads (frames it adds later get the registered
 * scripts). A tab the extension may not script (about:, view-source:, another extension's page,
 * addons.mozilla.org; in Chromium chrome:// and the Web Store) or that closes or navigates
 * meanwhile is left as it is: a page it loads gets the registered scripts.
 *
 * @example
 *   browser.runtime.onInstalled.addListener(() => void injectIntoOpenTabs(await loadSettings(), api));
 */
export async function injectIntoOpenTabs(settings: Pick<Settings, 'enabled' | 'blockSites'>, api: OpenTabsApi): Promise<void> {
  if (!settings.enabled) return;
  // As the background judges a report: no web page, or a blocked site, gets nothing.
  const blocked = (url: string): boolean => siteRefusal(settings, url) !== null;
  const tabs = await api.queryTabs();
  await Promise.all(
    tabs.map(async (tab) => {
      // A discarded tab has no page yet: restored, it loads one, which the registrations reach.
      if (tab.id === undefined || tab.discarded || !tab.url || blocked(tab.url)) return;
      const tabId = tab.id;
      try {
        // At once, as the scripts go in below: left to wait for the page to be idle, a page still
        // loading (its parser held by a slow script) would get nothing until it loaded, if ever.
        const frames = await api.executeScript({
          target: { tabId, allFrames: true },
          func: () => [location.href, self.origin],
          injectImmediately: true,
        });
        const frameIds = frames
          .filter((f) => {
            const [href, origin] = Array.isArray(f.result) ? (f.result as unknown[]) : [];
            const site = frameSite(href, origin);
            return site !== null && !blocked(site);
          })
          .map((f) => f.frameId);
        if (frameIds.length === 0) return;
        await api.executeScript({ target: { tabId, frameIds }, files: ['content.js'], injectImmediately: true });
        await api.executeScript({ target: { tabId, frameIds }, files: ['hook.js'], world: 'MAIN', injectImmediately: true });
      } catch {
        // Not ours to script, or gone: see above. Nothing to tell the person.
      }
    }),
  );
}
