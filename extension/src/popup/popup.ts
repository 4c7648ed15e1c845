/** The toolbar popup: recent reports, newest first, like about:crashes. */
import browser from 'webextension-polyfill';
import { Annotation, reportPageUrl } from '../../../shared/src/protocol.ts';
import { showInvisible } from '../../../shared/src/visible.ts';
import { CLEAR_HISTORY_MESSAGE, RETRY_NOW_MESSAGE } from '../background/messages.ts';
import { checkSettings, MAX_SITES, normalizeSite, SETTINGS_KEY, type Settings, siteMatches } from '../background/settings.ts';
import type { ReportEntry, Stats } from '../background/store.ts';

const MAX_SHOWN_MESSAGE_CHARS = 160;


/** A queued report due later than this without a failed try is a follow-up waiting for its minute. */
const FOLLOW_UP_HINT_MS = 5_000;

function statusText(e: ReportEntry): string {
  switch (e.status) {
    case 'submitted':
      return e.repeatCount > 1 ? `submitted (happened ${e.repeatCount} times)` : 'submitted';
    case 'discarded':
      return `discarded by the receiver: ${e.lastError ?? ''}`;
    case 'failed':
      return `failed: ${e.lastError ?? 'unknown reason'}`;
    case 'withdrawn':
      return e.lastError ?? 'not sent';
    case 'sending':
      return 'sending…';
    case 'queued':
      if (e.lastError) return `queued; last try: ${e.lastError}; next try ${new Date(e.nextAttemptAt).toLocaleTimeString()}`;
      // Not tried yet and not due soon: repeats of a report sent this minute, which go together.
      if (e.attempts === 0 && e.nextAttemptAt - Date.now() > FOLLOW_UP_HINT_MS) {
        return `queued; repeats of a report sent this minute go together at ${new Date(e.nextAttemptAt).toLocaleTimeString()}`;
      }
      return 'queued';
  }
}

function cell(text: string, className?: string): HTMLTableCellElement {
  const td = document.createElement('td');
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

/** The site a report came from: the tab's (which the page cannot choose), else its page's; '' when unknown. */
function siteOf(e: ReportEntry): string {
  try {
    return e.topHost ?? new URL(e.annotations[Annotation.URL] ?? '').host;
  } catch {
    return ''; // no page URL
  }
}

/** The app's declared name and, beside it, the site the report came from. */
function appCell(e: ReportEntry): HTMLTableCellElement {
  const td = cell(showInvisible(e.app));
  const site = siteOf(e);
  if (site && site !== e.app) {
    const small = document.createElement('span');
    small.className = 'muted';
    small.textContent = ` ${site}`;
    td.append(small);
  }
  return td;
}

/** A button that adds the report's site to the blocked sites (as the Options page does), unless it is blocked already. */
function blockCell(e: ReportEntry, settings: Settings): HTMLTableCellElement {
  const td = cell('');
  const site = normalizeSite(siteOf(e));
  if (!site || siteMatches(site, settings.blockSites)) return td;
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'block';
  button.dataset.site = site;
  button.textContent = `Don't report ${site}`;
  button.title = `Never report errors from ${site} (and its subdomains), and drop its reports still waiting; undo in the Options`;
  button.addEventListener('click', () => void blockSite(site));
  td.append(button);
  return td;
}

async function blockSite(site: string): Promise<void> {
  const got = await browser.storage.local.get(SETTINGS_KEY);
  const { settings } = checkSettings(got[SETTINGS_KEY]);
  if (settings.blockSites.includes(site)) return;
  if (settings.blockSites.length >= MAX_SITES) {
    // The list is bounded: the site would be left out silently and the button stay.
    const problem = document.getElementById('problem')!;
    problem.textContent = `Not blocked: your list of blocked sites is full (${MAX_SITES.toLocaleString('en-US')} sites). Remove some in the Options, then try again.`;
    problem.hidden = false;
    return;
  }
  // Through the same check as the Options page: the list stays valid and bounded.
  const checked = checkSettings({ ...settings, blockSites: [...settings.blockSites, site] }).settings;
  await browser.storage.local.set({ [SETTINGS_KEY]: checked });
}

function render(reports: ReportEntry[], stats: Partial<Stats>, settings: Settings): void {
  // A person who turned reporting off and forgot would otherwise see an old list and no reason.
  (document.getElementById('off') as HTMLElement).hidden = settings.enabled;
  const sorted = [...reports].sort((a, b) => b.createdAt - a.createdAt);
  const body = document.querySelector('#reports tbody')!;
  body.replaceChildren(
    ...sorted.map((e) => {
      const tr = document.createElement('tr');
      tr.dataset.status = e.status;
      const message = `${e.annotations[Annotation.JSErrorType] ?? ''}: ${e.annotations[Annotation.JSErrorMessage] ?? ''}`;
      const link = cell('');
      if (e.crashId) {
        const a = document.createElement('a');
        a.href = reportPageUrl(e.submitUrl, e.crashId);
        a.target = '_blank';
        a.rel = 'noreferrer';
        a.textContent = e.crashId;
        link.append(a);
      }
      tr.append(
        // A page chooses these: characters that reorder or hide text are shown, as on the report
        // pages, and the site the report came from beside the name it declared ("Firefox Sync").
        appCell(e),
        cell(showInvisible(message.slice(0, MAX_SHOWN_MESSAGE_CHARS)), 'error'),
        cell(new Date(e.createdAt).toLocaleString()),
        cell(showInvisible(statusText(e)), `status status-${e.status}`),
        link,
        blockCell(e, settings),
      );
      return tr;
    }),
  );
  (document.getElementById('reports') as HTMLElement).hidden = sorted.length === 0;
  (document.getElementById('empty') as HTMLElement).hidden = sorted.length > 0;
  const dropped: string[] = [];
  if (stats.droppedQueueFull) dropped.push(`${stats.droppedQueueFull} dropped because the queue was full`);
  if (stats.droppedRateLimited) dropped.push(`${stats.droppedRateLimited} not reported (rate limit)`);
  if (stats.droppedInPage) dropped.push(`${stats.droppedInPage} not reported (too many at once in a page)`);
  if (stats.ignoredInvalidGuid) dropped.push(`${stats.ignoredInvalidGuid} not reported (the page declares an invalid app GUID)`);
  if (stats.ignoredFromExtensions) dropped.push(`${stats.ignoredFromExtensions} not reported (thrown by browser extensions' scripts, not the page's)`);
  document.getElementById('summary')!.textContent = dropped.join('; ');
  document.body.dataset.ready = 'true';
}

async function refresh(): Promise<void> {
  const got = await browser.storage.local.get(['reports', 'stats', SETTINGS_KEY]);
  render(Array.isArray(got.reports) ? (got.reports as ReportEntry[]) : [], (got.stats as Partial<Stats>) ?? {}, checkSettings(got[SETTINGS_KEY]).settings);
}

document.getElementById('retry')!.addEventListener('click', () => void browser.runtime.sendMessage({ type: RETRY_NOW_MESSAGE }));
document.getElementById('clear')!.addEventListener('click', () => void browser.runtime.sendMessage({ type: CLEAR_HISTORY_MESSAGE }));
browser.storage.onChanged.addListener((_changes, area) => {
  if (area === 'local') void refresh();
});
void refresh();
