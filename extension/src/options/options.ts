/** The options page: the person's settings and a preview of exactly what the last report sent. */
import browser from 'webextension-polyfill';
import { SETTINGS_KEY, type Settings, checkSettings } from '../background/settings.ts';
import type { LastSent } from '../background/store.ts';
import { showInvisible } from '../../../shared/src/visible.ts';

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const CHECKBOXES = ['enabled', 'stripQueryAndFragment', 'hideEmailsAndTokens', 'reportAllSites'] as const;

function lines(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
}

/** Whether the person changed the form since it was filled: then a change made elsewhere is merged, not shown over it. */
let edited = false;

function fill(settings: Settings): void {
  for (const name of CHECKBOXES) $<HTMLInputElement>(name).checked = settings[name];
  $<HTMLInputElement>('receiverUrl').value = settings.receiverUrl;
  $<HTMLTextAreaElement>('allowSites').value = settings.allowSites.join('\n');
  $<HTMLTextAreaElement>('blockSites').value = settings.blockSites.join('\n');
  edited = false;
}

async function load(): Promise<void> {
  const got = await browser.storage.local.get([SETTINGS_KEY, 'lastSent']);
  fill(checkSettings(got[SETTINGS_KEY]).settings);
  showLastSent(got.lastSent as LastSent | undefined);
}

/**
 * Settings saved elsewhere (the popup's "Don't report" button) while this page is open: shown,
 * so that saving this page does not undo them. Over the person's unsaved edits, only sites
 * blocked meanwhile are added to the list.
 */
function settingsChanged(value: unknown, before: unknown): void {
  const { settings } = checkSettings(value);
  if (!edited) return fill(settings);
  const shown = lines($<HTMLTextAreaElement>('blockSites').value);
  // Only what was blocked meanwhile: a site the person took off the list here stays off.
  const had = checkSettings(before).settings.blockSites;
  const added = settings.blockSites.filter((site) => !had.includes(site) && !shown.includes(site));
  if (!added.length) return;
  $<HTMLTextAreaElement>('blockSites').value = [...shown, ...added].join('\n');
  $('status').textContent = `Blocked from the popup meanwhile, added to the list: ${added.join(', ')}. Save to keep your other changes.`;
}

function showLastSent(lastSent: LastSent | undefined): void {
  if (!lastSent) return;
  $('lastSentMeta').textContent = `POST ${lastSent.submitUrl} at ${new Date(lastSent.at).toLocaleString()}, multipart/form-data with these fields:`;
  const pre = $('lastSent');
  pre.textContent = Object.entries(lastSent.annotations)
    .map(([name, value]) => `${name}: ${showInvisible(value)}`)
    .join('\n');
  pre.hidden = false;
}

async function save(event: Event): Promise<void> {
  event.preventDefault();
  const typed: Partial<Settings> = {
    receiverUrl: $<HTMLInputElement>('receiverUrl').value,
    allowSites: lines($<HTMLTextAreaElement>('allowSites').value),
    blockSites: lines($<HTMLTextAreaElement>('blockSites').value),
  };
  for (const name of CHECKBOXES) typed[name] = $<HTMLInputElement>(name).checked;
  const { settings, problems } = checkSettings(typed);
  const list = $('problems');
  list.replaceChildren(
    ...problems.map((p) => {
      const li = document.createElement('li');
      li.textContent = p;
      return li;
    }),
  );
  if (problems.length) {
    $('status').textContent = 'Not saved.';
    return;
  }
  await browser.storage.local.set({ [SETTINGS_KEY]: settings });
  // Show the sites as they apply: host names, each covering every port, path and subdomain.
  fill(settings);
  $('status').textContent = 'Saved.';
  document.body.dataset.saved = String(Date.now());
}

browser.storage.onChanged.addListener((changes, area) => {
  if (area !== 'local') return;
  if (changes.lastSent?.newValue) showLastSent(changes.lastSent.newValue as LastSent);
  if (changes[SETTINGS_KEY]) settingsChanged(changes[SETTINGS_KEY].newValue, changes[SETTINGS_KEY].oldValue);
});
$('form').addEventListener('input', () => (edited = true));
$('welcome').hidden = !new URLSearchParams(location.search).has('welcome');
$('form').addEventListener('submit', (e) => void save(e));
void load().then(() => (document.body.dataset.ready = 'true'));
