/**
 * The person's choices, kept in `browser.storage.local` under `settings`, and the one decision
 * they drive: where (if anywhere) an error on a page goes.
 */
import type { AppIdentity } from '../identity.ts';
import { checkSubmitUrl } from '../identity.ts';
import { withSubmitPath } from '../../../shared/src/protocol.ts';

export const SETTINGS_KEY = 'settings';
export const MAX_SITES = 1_000;

export interface Settings {
  /** Off: nothing is captured into reports or sent. */
  enabled: boolean;
  /** Remove query strings and fragments from every URL in a report (page, file, stack, message). */
  stripQueryAndFragment: boolean;
  /** Replace e-mail addresses, tokens and secret values (`password=…`) in a report's texts and URLs with placeholders. */
  hideEmailsAndTokens: boolean;
  /** Report errors of pages that declare no receiver to `receiverUrl` (for developers). */
  reportAllSites: boolean;
  /** The person's own receiver: its base URL or its `/submit` URL. */
  receiverUrl: string;
  /** Sites (host names, subdomains included) reported to `receiverUrl` even without a declaration. */
  allowSites: string[];
  /** Sites never reported, whatever they declare. */
  blockSites: string[];
}

export const DEFAULT_SETTINGS: Settings = {
  enabled: true,
  stripQueryAndFragment: true,
  hideEmailsAndTokens: true,
  reportAllSites: false,
  receiverUrl: '',
  allowSites: [],
  blockSites: [],
};

const HOST_PATTERN = /^(?:[a-z0-9-]+\.)*[a-z0-9-]+$|^\[[0-9a-f:.]+\]$/;

/** A host name from what a person typed: `Shop.Example`, `https://shop.example/x`, `*.shop.example`, `localhost:5173`. */
export function normalizeSite(text: string): string | null {
  let t = text.trim().toLowerCase().replace(/^\*\./, '');
  if (!t) return null;
  // A URL, or a host with a port or a path (`localhost:5173`, `shop.example/app`): its host.
  if (t.includes('://') || /[:/]/.test(t)) {
    try {
      t = new URL(t.includes('://') ? t : `http://${t}`).hostname;
    } catch {
      return null;
    }
  }
  t = t.replace(/\.$/, '');
  return HOST_PATTERN.test(t) && t.length <= 253 ? t : null;
}

/**
 * A complete, valid Settings from stored or typed values, with every problem listed (invalid
 * entries are left out, missing ones take their defaults).
 */
export function checkSettings(value: unknown): { settings: Settings; problems: string[] } {
  const v = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  const problems: string[] = [];
  const flag = (name: keyof Settings): boolean => (typeof v[name] === 'boolean' ? (v[name] as boolean) : (DEFAULT_SETTINGS[name] as boolean));
  const sites = (name: 'allowSites' | 'blockSites'): string[] => {
    const list = Array.isArray(v[name]) ? (v[name] as unknown[]) : [];
    const out = new Set<string>();
    for (const entry of list.slice(0, MAX_SITES)) {
      const site = typeof entry === 'string' ? normalizeSite(entry) : null;
      if (site) out.add(site);
      else if (typeof entry === 'string' && entry.trim()) problems.push(`not a site: ${JSON.stringify(entry.slice(0, 100))}`);
    }
    return [...out];
  };
  let receiverUrl = typeof v.receiverUrl === 'string' ? v.receiverUrl.trim() : '';
  if (receiverUrl && !checkSubmitUrl(receiverUrl)) {
    problems.push(`the receiver URL must be an http or https URL, got ${JSON.stringify(receiverUrl.slice(0, 100))}`);
    receiverUrl = '';
  }
  const settings: Settings = {
    enabled: flag('enabled'),
    stripQueryAndFragment: flag('stripQueryAndFragment'),
    hideEmailsAndTokens: flag('hideEmailsAndTokens'),
    reportAllSites: flag('reportAllSites'),
    receiverUrl,
    allowSites: sites('allowSites'),
    blockSites: sites('blockSites'),
  };
  if (settings.reportAllSites && !settings.receiverUrl) problems.push('"report all sites" needs the URL of your receiver');
  else if (settings.allowSites.length > 0 && !settings.receiverUrl) problems.push('allowed sites need the URL of your receiver to be reported to');
  return { settings, problems };
}

/**
 * A receiver's URL as its submit URL, as every other place that takes one reads it (the
 * forwarding registry, `socorrito submit`): `https://r.example` → `https://r.example/submit`; a
 * URL already ending in `/submit` is kept. A page's declared URL keeps its query.
 */
export function submitUrlOf(receiverUrl: string, keepQuery = false): string {
  const url = withSubmitPath(new URL(receiverUrl));
  if (!keepQuery) url.search = '';
  return url.href;
}

/** The host of a URL, or null when there is none to judge by; `bank.example.` is `bank.example`, as lists hold it. */
export function hostOf(url: string | undefined): string | null {
  try {
    return url ? new URL(url).hostname.replace(/\.$/, '') : null;
  } catch {
    return null;
  }
}

export function siteMatches(host: string, list: readonly string[]): boolean {
  return list.some((site) => host === site || host.endsWith(`.${site}`));
}

/** Why a page that declares a GUID breaking the shared rule is not reported. */
export const INVALID_GUID_SKIP = 'page declares an invalid app GUID';

export type Destination = { submitUrl: string; declared: boolean } | { skip: string };

/**
 * Why nothing of `pageUrl` (in a tab showing `topUrl`) is reported whatever it declares, or null:
 * reporting is off, it is no web page, or its site (or its tab's) is blocked. Asked before the
 * page's declaration is even read, since reading a manifest is a request the page chose.
 */
export function siteRefusal(settings: Pick<Settings, 'enabled' | 'blockSites'>, pageUrl: string, topUrl?: string): string | null {
  if (!settings.enabled) return 'reporting is turned off';
  const host = /^https?:/i.test(pageUrl) ? hostOf(pageUrl) : null;
  if (host === null) return 'not a web page';
  if (siteMatches(host, settings.blockSites)) return 'site is blocked';
  const topHost = hostOf(topUrl);
  if (topHost !== null && siteMatches(topHost, settings.blockSites)) return 'site is blocked';
  return null;
}

/**
 * Where an error on `pageUrl` is reported: the app's declared submit URL, or the person's own
 * receiver when they asked for it (all sites, or this site); else nowhere, with the reason. A
 * page whose declared GUID the receiver would refuse goes nowhere, wherever it would have gone.
 * A blocked site blocks the frames it embeds too (`topUrl`: the tab's address): blocking the
 * site one is on means nothing is sent from that tab.
 */
export function chooseDestination(settings: Settings, pageUrl: string, identity: AppIdentity | null, topUrl?: string): Destination {
  const refused = siteRefusal(settings, pageUrl, topUrl);
  if (refused) return { skip: refused };
  const host = hostOf(pageUrl)!;
  if (identity?.invalidGuid) return { skip: INVALID_GUID_SKIP };
  if (identity?.submitUrl) return { submitUrl: submitUrlOf(identity.submitUrl, true), declared: true };
  if (settings.receiverUrl && (settings.reportAllSites || siteMatches(host, settings.allowSites))) {
    return { submitUrl: submitUrlOf(settings.receiverUrl), declared: false };
  }
  return { skip: 'page declares no receiver' };
}
