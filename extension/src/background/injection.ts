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
 * background (`siteRefusal`), which checks the settings again for every batch.
 */
import type { Scripting } from 'webextension-polyfill';
import type { Settings } from './settings.ts';

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

