/** The options page: the person's settings and a preview of exactly what the last report sent. */
import browser from 'webextension-polyfill';
import { SETTINGS_KEY, type Settings, checkSettings } from '../background/settings.ts';
import type { LastSent } from '../background/store.ts';
import { showInvisible } from '../../../shared/src/visible.ts';

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const CHECKBOXES = ['enabled', 'stripQueryAndFragment', 'reportAllSites'] as const;

function lines(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
}

async function load(): Promise<void> {
  const got = await browser.storage.local.get([SETTINGS_KEY, 'lastSent']);
  const { settings } = checkSettings(got[SETTINGS_KEY]);
  for (const name of CHECKBOXES) $<HTMLInputElement>(name).checked = settings[name];
  $<HTMLInputElement>('receiverUrl').value = settings.receiverUrl;
  $<HTMLTextAreaElement>('allowSites').value = settings.allowSites.join('\n');
  $<HTMLTextAreaElement>('blockSites').value = settings.blockSites.join('\n');
  showLastSent(got.lastSent as LastSent | undefined);
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
  $<HTMLTextAreaElement>('allowSites').value = settings.allowSites.join('\n');
  $<HTMLTextAreaElement>('blockSites').value = settings.blockSites.join('\n');
  $('status').textContent = 'Saved.';
  document.body.dataset.saved = String(Date.now());
}

browser.storage.onChanged.addListener((changes, area) => {
  if (area === 'local' && changes.lastSent?.newValue) showLastSent(changes.lastSent.newValue as LastSent);
});
$('welcome').hidden = !new URLSearchParams(location.search).has('welcome');
$('form').addEventListener('submit', (e) => void save(e));
void load().then(() => (document.body.dataset.ready = 'true'));
