import type { Scripting } from 'webextension-polyfill';
import { describe, expect, it } from 'vitest';
import { CONTENT_SCRIPT_ID, ContentScripts, HOOK_SCRIPT_ID, type OpenTabsApi, type ScriptingApi, blockedPatterns, contentScriptsFor, injectIntoOpenTabs } from './injection.ts';

/** browser.scripting as far as this module uses it, keeping registrations in a Map and every call in order. */
function fakeScripting(refuse: (scripts: Scripting.RegisteredContentScript[]) => boolean = () => false): ScriptingApi & {
  scripts: Map<string, Scripting.RegisteredContentScript>;
  calls: string[];
} {
  const scripts = new Map<string, Scripting.RegisteredContentScript>();
  const calls: string[] = [];
  return {
    scripts,
    calls,
    async getRegisteredContentScripts(filter) {
      return [...scripts.values()].filter((s) => !filter?.ids || filter.ids.includes(s.id)).map((s) => structuredClone(s));
    },
    async registerContentScripts(list) {
      calls.push('register');
      if (refuse(list)) throw new Error('Invalid url pattern');
      for (const s of list) {
        if (scripts.has(s.id)) throw new Error(`Content script with id "${s.id}" is already registered.`);
      }
      for (const s of list) scripts.set(s.id, structuredClone(s));
    },
    async updateContentScripts(list) {
      calls.push('update');
      if (refuse(list)) throw new Error('Invalid url pattern');
      for (const s of list) scripts.set(s.id, { ...scripts.get(s.id)!, ...structuredClone(s) });
    },
    async unregisterContentScripts(filter) {
      calls.push('unregister');
      for (const id of filter?.ids ?? [...scripts.keys()]) scripts.delete(id);
    },
  };
}

const ON = { enabled: true, blockSites: [] as string[] };

describe('the content scripts the settings call for', () => {
  it('excludes each blocked site with its subdomains on every port; an IP address as it is', () => {
    expect(blockedPatterns(['shop.example', '127.0.0.5', '[::1]'])).toEqual(['*://*.shop.example/*', '*://127.0.0.5/*', '*://[::1]/*']);
  });

  it('are none while reporting is off; else the hook in the page world and the content script, at document_start in every frame', () => {
    expect(contentScriptsFor({ enabled: false, blockSites: ['shop.example'] })).toEqual([]);
    const [hook, content] = contentScriptsFor({ enabled: true, blockSites: ['bank.example'] });
    expect(hook).toMatchObject({ id: HOOK_SCRIPT_ID, js: ['hook.js'], world: 'MAIN', runAt: 'document_start', allFrames: true, matchOriginAsFallback: true });
    expect(content).toMatchObject({ id: CONTENT_SCRIPT_ID, js: ['content.js'], world: 'ISOLATED', runAt: 'document_start', allFrames: true });
    for (const s of [hook!, content!]) {
      expect(s.matches).toEqual(['<all_urls>']);
      expect(s.excludeMatches).toEqual(['*://*.bank.example/*']);
      expect(s.persistAcrossSessions).toBe(true);
    }
  });
});

describe('keeping the registrations in line with the settings', () => {
  it('registers both when on, does nothing when they already match, updates in place, and unregisters when off', async () => {
    const scripting = fakeScripting();
    let settings = ON;
    const injection = new ContentScripts(scripting, async () => settings);
    await injection.sync();
    expect([...scripting.scripts.keys()].sort()).toEqual([CONTENT_SCRIPT_ID, HOOK_SCRIPT_ID]);
    await injection.sync();
    expect(scripting.calls).toEqual(['register']);

    settings = { enabled: true, blockSites: ['shop.example'] };
    await injection.sync();
    // Updated, not removed and added again: no moment without the hook.
    expect(scripting.calls).toEqual(['register', 'update']);
    expect(scripting.scripts.get(HOOK_SCRIPT_ID)!.excludeMatches).toEqual(['*://*.shop.example/*']);

    settings = { enabled: false, blockSites: [] };
    await injection.sync();
    expect(scripting.scripts.size).toBe(0);
  });

  it('runs one sync at a time, each with the settings of its turn, so quick changes never register twice', async () => {
    const scripting = fakeScripting();
    const states = [ON, { enabled: false, blockSites: [] }, ON, { enabled: true, blockSites: ['a.example'] }];
    let read = 0;
    const injection = new ContentScripts(scripting, async () => states[Math.min(read++, states.length - 1)]!);
    await Promise.all([injection.sync(), injection.sync(), injection.sync(), injection.sync()]);
    expect(scripting.scripts.get(HOOK_SCRIPT_ID)!.excludeMatches).toEqual(['*://*.a.example/*']);
    expect(scripting.calls).toEqual(['register', 'unregister', 'register', 'update']);
  });

  it('replaces a registration of only one of the two', async () => {
    const scripting = fakeScripting();
    scripting.scripts.set(HOOK_SCRIPT_ID, contentScriptsFor(ON)[0]!);
    await new ContentScripts(scripting, async () => ON).sync();
    expect(scripting.calls).toEqual(['unregister', 'register']);
    expect(scripting.scripts.size).toBe(2);
  });

  it('still registers the scripts, without exclusions, when the browser refuses a blocked site pattern', async () => {
    const scripting = fakeScripting((list) => (list[0]!.excludeMatches ?? []).length > 0);
    const errors: unknown[] = [];
    const error = console.error;
    console.error = (...args: unknown[]) => void errors.push(args);
    try {
      await new ContentScripts(scripting, async () => ({ enabled: true, blockSites: ['shop.example'] })).sync();
    } finally {
      console.error = error;
    }
    expect(scripting.scripts.size).toBe(2);
    expect(scripting.scripts.get(HOOK_SCRIPT_ID)!.excludeMatches).toEqual([]);
    expect(errors).toHaveLength(1);
  });

  it('rejects, and lets the next sync try again, when the browser refuses the scripts themselves', async () => {
    let refuse = true;
    const scripting = fakeScripting(() => refuse);
    const injection = new ContentScripts(scripting, async () => ON);
    await expect(injection.sync()).rejects.toThrow('Invalid url pattern');
    refuse = false;
    await injection.sync();
    expect(scripting.scripts.size).toBe(2);
  });
});

describe('bringing the scripts into the tabs already open', () => {
  /** Tabs by id, each a list of frames `[href, origin]`; a tab id in `refused` cannot be scripted. */
  function fakeTabs(
    tabs: Record<number, { url?: string; discarded?: boolean; frames: [string, string][] }>,
    refused = new Set<number>(),
  ): OpenTabsApi & { injected: string[]; waitedForIdle: number } {
    const injected: string[] = [];
    return {
      injected,
      waitedForIdle: 0,
      async queryTabs() {
        return Object.entries(tabs).map(([id, t]) => ({ id: Number(id), url: t.url, discarded: t.discarded }));
      },
      async executeScript(injection) {
        const { tabId, frameIds } = injection.target;
        if (refused.has(tabId)) throw new Error('Missing host permission for the tab');
        if (!injection.injectImmediately) this.waitedForIdle++;
        if (injection.func) return tabs[tabId]!.frames.map((result, frameId) => ({ frameId, documentId: `doc${frameId}`, result }));
        for (const frameId of frameIds!) injected.push(`${tabId}:${frameId}:${injection.files![0]}:${injection.world ?? 'ISOLATED'}`);
        return [];
      },
    };
  }

  it('puts the content script, then the hook in the page world, into every frame of a web page whose site and tab are not blocked', async () => {
    const api = fakeTabs(
      {
        1: { url: 'https://app.example/', frames: [['https://app.example/', 'https://app.example'], ['https://ads.shop.example/x', 'https://ads.shop.example'], ['about:blank', 'https://app.example'], ['data:text/html,x', 'null']] },
        2: { url: 'https://shop.example/', frames: [['https://shop.example/', 'https://shop.example'], ['https://app.example/', 'https://app.example']] },
        3: { url: 'about:addons', frames: [] },
        4: { url: 'https://asleep.example/', discarded: true, frames: [['https://asleep.example/', 'https://asleep.example']] },
        5: { url: 'https://addons.mozilla.org/', frames: [] },
        6: { frames: [] },
      },
      new Set([5]),
    );
    await injectIntoOpenTabs({ enabled: true, blockSites: ['shop.example'] }, api);
    expect(api.injected).toEqual(['1:0:content.js:ISOLATED', '1:2:content.js:ISOLATED', '1:0:hook.js:MAIN', '1:2:hook.js:MAIN']);
    // Nothing waits for the page to be idle: a page still loading is hooked while it loads.
    expect(api.waitedForIdle).toBe(0);
  });

  it('puts nothing anywhere while reporting is off', async () => {
    const api = fakeTabs({ 1: { url: 'https://app.example/', frames: [['https://app.example/', 'https://app.example']] } });
    await injectIntoOpenTabs({ enabled: false, blockSites: [] }, api);
    expect(api.injected).toEqual([]);
  });
});
